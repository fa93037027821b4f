"""Build hook: the wheel carries the Alembic migrations inside the package, as ``app/migrations``.

The checkout keeps them at the top (``migrations/``, where ``alembic`` and DESIGN.md expect them); an installed
contextmap has no checkout, so ``contextmap migrate`` finds them beside its own code (app.db.bootstrap).
Everything else about the package is declared in pyproject.toml.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


class BuildWithMigrations(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install runs from the checkout, which has migrations/ already
        target = Path(self.build_lib) / "app" / "migrations"
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(MIGRATIONS, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


setup(cmdclass={"build_py": BuildWithMigrations})
