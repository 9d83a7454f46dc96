"""Pagination arithmetic and LIKE escaping."""

import pytest

from app.utils.pagination import escape_like, page_offset, total_pages


@pytest.mark.parametrize(
    ("page", "limit", "offset"),
    [(1, 20, 0), (2, 20, 20), (3, 10, 20), (1, 1, 0), (5, 1, 4), (10, 100, 900)],
)
def test_page_offset_skips_previous_pages(page: int, limit: int, offset: int) -> None:
    assert page_offset(page, limit) == offset


@pytest.mark.parametrize(
    ("total", "limit", "pages"),
    [(0, 20, 0), (1, 20, 1), (5, 2, 3), (4, 2, 2), (20, 20, 1), (21, 20, 2), (100, 1, 100)],
)
def test_total_pages_rounds_up(total: int, limit: int, pages: int) -> None:
    assert total_pages(total, limit) == pages


@pytest.mark.parametrize(
    ("term", "escaped"),
    [
        ("plain", "plain"),
        ("", ""),
        ("100%", "100\\%"),
        ("a_b", "a\\_b"),
        ("back\\slash", "back\\\\slash"),
        ("%_\\", "\\%\\_\\\\"),
        ("50%_off\\x", "50\\%\\_off\\\\x"),
    ],
)
def test_escape_like_escapes_wildcards_and_escape_char(term: str, escaped: str) -> None:
    assert escape_like(term) == escaped


def test_escape_like_with_custom_escape_char() -> None:
    assert escape_like("a!b%c_d", escape="!") == "a!!b!%c!_d"


def test_escape_like_does_not_double_escape_its_own_escapes() -> None:
    # The escape char is doubled first, so the escapes added for % and _ stay single.
    assert escape_like("%") == "\\%"
    assert escape_like("\\%") == "\\\\\\%"
