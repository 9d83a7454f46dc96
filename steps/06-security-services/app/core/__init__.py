"""Shared infrastructure: settings, database, logging, errors, security."""
