"""Request and response schemas of the user resource.

TODO(step 4) — D10:
- `UserRegister` (email, password, full_name) and `UserCreate` (the same plus a
  role): passwords of 8 to 128 characters, never trimmed; emails normalised with
  `normalize_email` (models/user.py) before and after `EmailStr` validates them;
  unknown fields refused (a client must not slip in a `role`).
- `UserUpdate` (full_name, role, is_active, all optional) and `UserSelfUpdate`
  (full_name, password, current_password): a new password needs the current one
  (a model validator), so that a stolen access token alone cannot change it.
- `UserResponse`: never the password hash. `UserListResponse`: items, total, page,
  limit, total_pages.
Read docs/steps/04-domain.md.
"""
