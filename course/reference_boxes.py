"""Reference answers on the course pages: each sits in a collapsed, labelled box.

A box is a collapsed Material admonition, `??? success "Reference solution: …"`,
whose indented body includes the solution's files (`--8<-- "solution/…"`). The
site for a graded class is built without them (`nox -s docs -- --no-solutions`).
"""

from __future__ import annotations

import re

BOX = re.compile(r'^(?P<indent> *)\?\?\? success "Reference solution')
INCLUDE = re.compile(r'^ *--8<-- "solution/')
WITHHELD = (
    '!!! note "Reference solution"\n'
    "    Not in this edition of the course site: your instructor has the reference.\n"
)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def unboxed_includes(markdown: str) -> list[int]:
    """The lines (1-based) that include a solution file outside a reference box."""
    lines = markdown.splitlines()
    found = []
    for number, line in enumerate(lines):
        if not INCLUDE.match(line):
            continue
        level = _indent(line)
        boxed = False
        for above in reversed(lines[:number]):
            if not above.strip() or _indent(above) >= level:
                continue
            if BOX.match(above):
                boxed = True
                break
            level = _indent(above)  # an enclosing block (a tab, a list): look further out
            if level == 0:
                break
        if not boxed:
            found.append(number + 1)
    return found


def strip_boxes(markdown: str) -> str:
    """The page with every reference box replaced by a note that it is withheld."""
    out: list[str] = []
    lines = markdown.splitlines(keepends=True)
    index = 0
    while index < len(lines):
        match = BOX.match(lines[index])
        if match is None:
            out.append(lines[index])
            index += 1
            continue
        indent = match.group("indent")
        index += 1
        while index < len(lines) and (
            not lines[index].strip() or _indent(lines[index]) > len(indent)
        ):
            index += 1
        out.extend(indent + line if line.strip() else line for line in WITHHELD.splitlines(True))
        out.append("\n")
    return "".join(out)
