"""The layers of DESIGN.md that an import graph cannot see: SQL text lives only under app/db.

The import contracts (``lint-imports``, pyproject's ``[tool.importlinter]``) keep geo/ pure and the services
free of FastAPI; this test reads the source for SQL, because a query in a router is a string, not an import.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Where SQL may be written: the repositories, and the migrations that build the schema.
SQL_HOMES = ("app/db/", "migrations/")
# A statement as this codebase writes SQL: upper-case keywords.
STATEMENT = re.compile(
    r"\b(SELECT\b[\s\S]*\bFROM|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|CREATE\s+(TABLE|INDEX|POLICY)|"
    r"ALTER\s+TABLE|DROP\s+TABLE)\b"
)


def sql_outside_app_db(root: Path) -> list[str]:
    """``path:line: what`` for each SQL statement or ``sqlalchemy.text`` use outside the SQL homes."""
    found: list[str] = []
    for path in sorted([*root.glob("app/**/*.py"), *root.glob("geo/**/*.py")]):
        relative = path.relative_to(root).as_posix()
        if relative.startswith(SQL_HOMES):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=relative)
        docstrings = {
            id(node.body[0].value) for node in ast.walk(tree)
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
            and node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "sqlalchemy" and any(
                alias.name == "text" for alias in node.names
            ):
                found.append(f"{relative}:{node.lineno}: imports sqlalchemy.text")
            elif isinstance(node, ast.JoinedStr | ast.Constant) and id(node) not in docstrings:
                if isinstance(node, ast.JoinedStr):
                    literal = "".join(v.value for v in node.values if isinstance(v, ast.Constant)
                                      and isinstance(v.value, str))
                else:
                    literal = node.value if isinstance(node.value, str) else ""
                match = STATEMENT.search(literal)
                if match:
                    found.append(f"{relative}:{node.lineno}: {' '.join(match.group(0).split())[:60]}")
    return sorted(set(found))


def test_sql_text_appears_only_under_app_db() -> None:
    assert sql_outside_app_db(ROOT) == []


def test_the_check_sees_a_query_in_a_router(tmp_path: Path) -> None:
    router = tmp_path / "app" / "api" / "places.py"
    router.parent.mkdir(parents=True)
    router.write_text('"""SELECT in a docstring is prose."""\nfrom sqlalchemy import text\n'
                      'Q = f"SELECT id FROM places WHERE id = {1}"\n', encoding="utf-8")
    (tmp_path / "app" / "db").mkdir()
    (tmp_path / "app" / "db" / "places.py").write_text('Q = "DELETE FROM places"\n', encoding="utf-8")
    assert sql_outside_app_db(tmp_path) == [
        "app/api/places.py:2: imports sqlalchemy.text",
        "app/api/places.py:3: SELECT id FROM",
    ]
