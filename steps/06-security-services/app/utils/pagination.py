"""Pagination arithmetic, kept apart so every list endpoint computes it the same way."""

import math


def page_offset(page: int, limit: int) -> int:
    """Return how many rows to skip to reach `page` (counted from 1)."""
    return (page - 1) * limit


def total_pages(total: int, limit: int) -> int:
    """Return how many pages of `limit` items hold `total` items (0 for none)."""
    return math.ceil(total / limit)


def escape_like(term: str, escape: str = "\\") -> str:
    """Escape LIKE wildcards so that `%` and `_` in a search term match themselves."""
    return term.replace(escape, escape * 2).replace("%", f"{escape}%").replace("_", f"{escape}_")
