"""The `user_sessions` table: one row per login.

TODO(step 4) — the session model (step 6's services start, rotate and end sessions):
- `UserSession(BaseModel)`, table `user_sessions`:
  - `user_id`: the user's id, a foreign key to `users.id` that deletes the
    session with its user (`ondelete="CASCADE"`), indexed;
  - `refresh_token_id`: String 64, the id (`jti`) of the one refresh token of
    this session that may still be used;
  - `expires_at`: the session's absolute end, a UTC datetime like the others.
- Ending a session soft-deletes its row (`deleted_at` from BaseModel).
Then re-export `UserSession` from `app/domain/models/__init__.py` too.
Read docs/steps/04-domain.md.
"""
