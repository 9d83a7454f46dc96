"""Cosmic Ray's test command: grade a mutated copy on SQLite, then on PostgreSQL.

    python -m course.mutation.verdict PROJECT --step N ... --strict --budget S --reports DIR

It exits 0, the mutant survived, only when the copy passes every check of its steps on
both databases the course supports. Some mistakes show on one of them only: a
migration whose timestamps lose their time zone passes on SQLite, which stores no time
zone, and fails `alembic check` on PostgreSQL. PostgreSQL grades only what survived
SQLite, so a mutant killed on SQLite costs one grading.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence

DATABASES = ("sqlite", "postgresql")


def main(grade_args: Sequence[str]) -> int:
    """The first non-zero exit status of `course grade` over DATABASES, else 0."""
    for database in DATABASES:
        command = [sys.executable, "-m", "course", "grade", *grade_args, "--database", database]
        code = subprocess.run(command, check=False).returncode
        if code != 0:
            return code
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
