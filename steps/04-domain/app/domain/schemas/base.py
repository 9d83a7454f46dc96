"""Building blocks shared by every schema.

TODO(step 4) — D10: `BaseSchema` (reads ORM objects: from_attributes; trims
whitespace), `IDSchema` (id: UUID) and `TimestampSchema` (created_at, updated_at).
Read docs/steps/04-domain.md.
"""
