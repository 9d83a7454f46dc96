"""Routers of API version 1."""
