"""What the learner's modules import, read from their source (nothing is executed).

The Clean Architecture dependency rule (COURSE-SPEC section 3, "Layers") is a rule
about imports: the domain imports no repository, service or api; repositories no
service or api; services no api. The learner's pyproject.toml may have no
import-linter contracts, so the grader checks the rule itself, by reading every
module of a layer with `ast`:

- `import a.b` and `from a import b` (which counts as importing `a` and `a.b`,
  since `b` may be a module);
- relative imports, resolved against the importing module;
- imports at any depth: inside functions and `if TYPE_CHECKING:` blocks too;
- `importlib.import_module("a.b")` and `__import__("a.b")` with a literal name.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

# The dependency rule: layer -> the layers it must not import.
DEPENDENCY_RULE: dict[str, tuple[str, ...]] = {
    "app.domain": ("app.repository", "app.service", "app.api"),
    "app.repository": ("app.service", "app.api"),
    "app.service": ("app.api",),
}
# app.core is shared by every layer, so it may import none of them.
CORE_FORBIDDEN: tuple[str, ...] = (
    "app.domain", "app.repository", "app.service", "app.api", "app.middleware",
)  # fmt: skip


@dataclass(frozen=True)
class Import:
    """One module imported by one file."""

    file: str  # path relative to the project root, e.g. app/domain/models/user.py
    line: int
    imported: str  # absolute dotted name, e.g. app.service.user_service

    def __str__(self) -> str:
        return f"{self.file} line {self.line} imports {self.imported}"


@dataclass(frozen=True)
class Unparsable:
    """A file the scanner could not read as Python."""

    file: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file} cannot be read as Python ({self.reason})"


def module_name(root: Path, path: Path) -> str:
    """`root/app/domain/models/user.py` -> `app.domain.models.user` (packages drop __init__)."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _literal_module(call: ast.Call) -> str | None:
    """The module named by `importlib.import_module("x")` or `__import__("x")`, if literal."""
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    if name not in ("import_module", "__import__") or not call.args:
        return None
    first = call.args[0]
    if isinstance(first, ast.Constant) and isinstance(first.value, str):
        return first.value
    return None


def imported_modules(source: str, module: str, *, is_package: bool = False) -> set[str]:
    """Every module `source` imports: see `imports_in` (the names only)."""
    return {name for name, _line in imports_in(source, module, is_package=is_package)}


def imports_in(source: str, module: str, *, is_package: bool = False) -> list[tuple[str, int]]:
    """Every (module, line) that the source of `module` imports, at any depth.

    Raises SyntaxError (or ValueError for NUL bytes) if `source` is not Python.
    """
    package = module.split(".") if is_package else module.split(".")[:-1]
    found: list[tuple[str, int]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: max(len(package) - node.level + 1, 0)]
                prefix = ".".join([*base, node.module] if node.module else base)
            else:
                prefix = node.module or ""
            if prefix:
                found.append((prefix, node.lineno))
            found.extend(
                (f"{prefix}.{alias.name}" if prefix else alias.name, node.lineno)
                for alias in node.names
                if alias.name != "*"
            )
        elif isinstance(node, ast.Call):
            name = _literal_module(node)
            if name:
                found.append((name, node.lineno))
    return found


def python_files(root: Path, package: str) -> list[Path]:
    """The .py files of a dotted package under `root` (a lone module counts too)."""
    folder = root.joinpath(*package.split("."))
    files = sorted(folder.rglob("*.py")) if folder.is_dir() else []
    module_file = folder.with_suffix(".py")
    if module_file.is_file():
        files.append(module_file)
    return files


@dataclass
class Scan:
    """The imports of every module of one package."""

    imports: list[Import]
    unparsable: list[Unparsable]
    files: list[Path]


def scan(root: Path, package: str) -> Scan:
    """Read every module of `package` (e.g. `app.domain`) in the project at `root`."""
    imports: list[Import] = []
    unparsable: list[Unparsable] = []
    files = python_files(root, package)
    for path in files:
        relative = path.relative_to(root).as_posix()
        try:
            source = path.read_text(encoding="utf-8", errors="replace")
            found = imports_in(source, module_name(root, path), is_package=path.stem == "__init__")
        except (SyntaxError, ValueError) as exc:
            where = f"line {exc.lineno}: " if isinstance(exc, SyntaxError) and exc.lineno else ""
            unparsable.append(Unparsable(relative, f"{where}{type(exc).__name__}"))
            continue
        imports.extend(Import(relative, line, name) for name, line in found)
    return Scan(imports, unparsable, files)


def is_within(name: str, package: str) -> bool:
    """Whether the dotted `name` is `package` or one of its submodules."""
    return name == package or name.startswith(package + ".")


def violations(root: Path, layer: str, forbidden: Iterable[str]) -> tuple[list[Import], Scan]:
    """The imports of `layer` that reach a forbidden package, one per (file, package)."""
    result = scan(root, layer)
    bad: dict[tuple[str, str], Import] = {}
    forbidden = tuple(forbidden)
    for item in result.imports:
        for package in forbidden:
            if is_within(item.imported, package):
                bad.setdefault((item.file, package), item)
    return sorted(bad.values(), key=lambda i: (i.file, i.line)), result


def describe(items: Iterable[object], limit: int = 4) -> str:
    """A short, readable list of problems: the first few, then how many more."""
    listed = [str(item) for item in items]
    shown = "; ".join(listed[:limit])
    if len(listed) > limit:
        shown += f"; and {len(listed) - limit} more"
    return shown


def iter_rules(*layers: str) -> Iterator[tuple[str, tuple[str, ...]]]:
    """(layer, forbidden packages) for the named layers of the rule (`app.core` included)."""
    for layer in layers:
        yield layer, CORE_FORBIDDEN if layer == "app.core" else DEPENDENCY_RULE[layer]


RULE_REASON = "the dependency rule: inner layers never import outer ones"
CORE_REASON = "app.core is shared by every layer, so it may depend on none of them"


def layer_problem(
    root: Path, layer: str, forbidden: str | Iterable[str], reason: str = RULE_REASON
) -> str | None:
    """What breaks "`layer` imports nothing from `forbidden`", in the learner's words; or None."""
    packages = (forbidden,) if isinstance(forbidden, str) else tuple(forbidden)
    folder = layer.replace(".", "/")
    found, result = violations(root, layer, packages)
    if not result.files:
        return f"expected the package {folder}/ with its modules, found no Python file there"
    if result.unparsable:
        return f"could not check the imports of {layer}: {describe(result.unparsable)}"
    if found:
        return (
            f"expected {layer} to import nothing from {' or '.join(packages)} ({reason}), "
            f"found: {describe(found)}"
        )
    return None
