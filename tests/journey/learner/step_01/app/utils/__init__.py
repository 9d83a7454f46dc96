"""Helpers that do not belong to a single layer."""
