"""ORM models (SQLAlchemy 2, typed mappings)."""
