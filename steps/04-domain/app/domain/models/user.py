"""The `users` table.

TODO(step 4) — D9, the user model:
- `UserRole`, a `StrEnum`: admin, moderator, user.
- `User(BaseModel)`, table `users`: email (String 255), password_hash (String 255),
  full_name (String 100), role (String 20, default "user"), is_active (default true).
- Emails are unique among users that are not soft-deleted, whatever their case: a
  partial unique index on `lower(email)` where `deleted_at IS NULL` (for SQLite and
  PostgreSQL alike), so a deleted user's email can register again.
- `normalize_email(email) -> str`: the one spelling of an address, Unicode NFKC
  (full-width letters become plain ones), then strip and lower-case. The schemas
  and step 5's repository import it from here.
Read docs/steps/04-domain.md.
"""
