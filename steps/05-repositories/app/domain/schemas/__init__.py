"""Pydantic schemas: the shapes of API requests and responses."""
