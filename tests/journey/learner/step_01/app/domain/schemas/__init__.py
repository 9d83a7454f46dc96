"""Pydantic schemas that describe request and response bodies."""
