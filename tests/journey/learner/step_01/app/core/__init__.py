"""Cross-cutting infrastructure used by every layer: configuration, database, logging, errors."""
