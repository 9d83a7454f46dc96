"""Pagination arithmetic, kept apart so every list endpoint computes it the same way."""

import math


def page_offset(page: int, limit: int) -> int:
    """Return how many rows to skip to reach `page` (counted from 1)."""
    pages_before = max(page, 1) - 1
    return pages_before * limit


def total_pages(total: int, limit: int) -> int:
    """Return how many pages of `limit` items hold `total` items (0 for none)."""
    if total <= 0:
        return 0
    return math.ceil(total / limit)


def escape_like(term: str, escape: str = "\\") -> str:
    """Escape LIKE wildcards so that `%` and `_` in a search term match themselves."""
    # The escape character goes first, otherwise the escapes added for the
    # wildcards would themselves be doubled.
    special = (escape, "%", "_")
    escaped: list[str] = []
    for char in term:
        if char in special:
            escaped.append(escape)
        escaped.append(char)
    return "".join(escaped)
