"""Schemas used across resources: pagination, messages, errors.

TODO(step 4) — D10:
- `PaginationParams`: page >= 1, 1 <= limit <= 100, an optional search, `sort_by`
  limited to created_at, updated_at, email, full_name, role (a whitelist: never
  sort by whatever column a client names), `sort_order` asc or desc.
- `MessageResponse` (message, success), `ErrorResponse` (message, detail,
  status_code, request_id): the error envelope as clients see it.
Read docs/steps/04-domain.md.
"""
