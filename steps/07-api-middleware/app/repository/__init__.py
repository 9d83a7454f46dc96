"""Data access: one repository per model, no business rules."""
