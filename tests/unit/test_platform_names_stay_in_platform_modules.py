"""No module of socialdesk/ names a platform, except the platform modules themselves.

Platform knowledge lives in `socialdesk/platforms/<platform>_platform.py`, found through
the entry points; a platform name anywhere else is a branch a third platform would have
to edit. Docstrings and comments may explain a platform rule, so only code is read: string
literals and identifiers.

Left out, with their reasons:
- the platform modules: the one place that names a platform;
- `socialdesk/sandbox/`: it emulates the X and Graph APIs, so it is a platform's wire;
- `socialdesk/store/migrations/`: history, never edited once released;
- the first argument of `Binding(...)`: a key ("x" clears the queue's filters);
- `ADDRESS_NAME_STOP` in `privacy/vocabulary.py`: words customers write ("via Facebook 3
  volte"), which the address detector must not read as a street name. It is vocabulary
  of the text being scanned, not a platform the desk talks to.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

SOCIALDESK = Path(__file__).resolve().parents[2] / "socialdesk"
PLATFORM_MODULES = {"x_platform.py", "facebook_platform.py"}
SKIPPED_DIRECTORIES = (SOCIALDESK / "sandbox", SOCIALDESK / "store" / "migrations")
CUSTOMER_VOCABULARY = {("privacy/vocabulary.py", "ADDRESS_NAME_STOP")}

PLATFORM_VALUES = {"x", "facebook"}
"""The `platform` values: as a whole string literal, only a platform module may write them."""
PLATFORM_WORDS = re.compile(r"(?i)(?<![a-z])(facebook|messenger|graph|tweet)")
"""Words that name a platform or its API, inside a literal or an identifier."""


def _checked_files() -> list[Path]:
    return sorted(
        path for path in SOCIALDESK.rglob("*.py")
        if not (path.parent == SOCIALDESK / "platforms" and path.name in PLATFORM_MODULES)
        and not any(directory in path.parents for directory in SKIPPED_DIRECTORIES)
    )


def _docstrings(tree: ast.AST) -> set[int]:
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    # attribute docstrings: a string expression right after an assignment
    for node in ast.walk(tree):
        for field in ("body", "orelse"):
            statements = getattr(node, field, None)
            if not isinstance(statements, list):
                continue
            for statement in statements:
                if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
                    found.add(id(statement.value))
    return found


def _vocabulary(tree: ast.Module, relative: str) -> set[int]:
    """The string constants inside the allowed customer-vocabulary assignments."""
    skipped: set[int] = set()
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = {target.id for target in targets if isinstance(target, ast.Name)}
            if any((relative, name) in CUSTOMER_VOCABULARY for name in names):
                skipped |= {id(child) for child in ast.walk(node)}
    return skipped


def _identifiers(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Name):
        return [node.id]
    if isinstance(node, ast.Attribute):
        return [node.attr]
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return [node.name]
    if isinstance(node, ast.arg):
        return [node.arg]
    if isinstance(node, ast.alias):
        return [node.name, node.asname or ""]
    if isinstance(node, ast.keyword):
        return [node.arg or ""]
    return []


def _binding_keys(tree: ast.AST) -> set[int]:
    """`Binding("x", ...)`: a key on the keyboard, not a platform."""
    return {id(node.args[0]) for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id == "Binding" and node.args}


def platform_names_in(path: Path, root: Path = SOCIALDESK) -> list[str]:
    relative = path.relative_to(root).as_posix()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = _docstrings(tree) | _vocabulary(tree, relative) | _binding_keys(tree)
    found: list[str] = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if node.value in PLATFORM_VALUES or PLATFORM_WORDS.search(node.value):
                found.append(f"{relative}:{node.lineno}: {node.value[:60]!r}")
        for name in _identifiers(node):
            if PLATFORM_WORDS.search(name):
                found.append(f"{relative}:{getattr(node, 'lineno', '?')}: {name}")
    return found


def test_no_module_outside_the_platform_modules_names_a_platform() -> None:
    found = [line for path in _checked_files() for line in platform_names_in(path)]
    assert found == [], "platform names outside socialdesk/platforms/*_platform.py:\n" + \
        "\n".join(found)


def test_the_check_sees_a_platform_name_in_code(tmp_path: Path) -> None:
    """The check itself works: a branch on a platform value and a platform word are seen,
    a docstring is not."""
    probe = tmp_path / "probe.py"
    probe.write_text('"""Facebook in a docstring is fine."""\n'
                     'def messenger_window(platform: str) -> bool:\n'
                     '    return platform == "x"\n', encoding="utf-8")
    found = platform_names_in(probe, tmp_path)
    assert len(found) == 2
    assert "messenger_window" in found[0] + found[1] and "'x'" in found[0] + found[1]
