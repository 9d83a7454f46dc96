"""The `login_failures` table: one row per failed login, for throttling.

TODO(step 4) — the login failure model (step 6's login counts these rows):
- `LoginFailure(BaseModel)`, table `login_failures`:
  - `email`: String 255, not null: the email a failed login named, normalised,
    whether or not it has an account (no foreign key);
  - the failure's time is `created_at` from BaseModel;
  - two indexes: `ix_login_failures_email_created_at` on (email, created_at), for
    counting one email's recent failures, and `ix_login_failures_created_at` on
    created_at, for deleting everyone's old ones.
Then re-export `LoginFailure` from `app/domain/models/__init__.py` too.
Read docs/steps/04-domain.md.
"""
