"""The pagination helpers."""

import pytest

from app.utils.pagination import escape_like, page_offset, total_pages


@pytest.mark.parametrize(("page", "limit", "offset"), [(1, 20, 0), (2, 20, 20), (5, 3, 12)])
def test_page_offset(page: int, limit: int, offset: int) -> None:
    assert page_offset(page, limit) == offset


@pytest.mark.parametrize(
    ("total", "limit", "pages"), [(0, 10, 0), (1, 10, 1), (10, 10, 1), (11, 10, 2)]
)
def test_total_pages(total: int, limit: int, pages: int) -> None:
    assert total_pages(total, limit) == pages


def test_escape_like_makes_wildcards_literal() -> None:
    assert escape_like("100%") == "100\\%"
    assert escape_like("snake_case") == "snake\\_case"
    assert escape_like("back\\slash") == "back\\\\slash"
    assert escape_like("plain") == "plain"
