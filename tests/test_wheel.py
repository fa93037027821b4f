"""The built wheel works with no checkout: ``pip install contextmap-*.whl && contextmap migrate && contextmap
serve`` in an empty folder, and its map pages load every asset they reference (issue 12, item 7).

Built from a copy of the working tree (so the checkout gets no ``build/``), installed with ``--no-deps`` into
a fresh virtual environment outside the checkout that borrows this environment's dependencies (a path line
in a ``.pth`` file: the checkout's editable ``app`` is not on it), migrated against a new database, served
on a free port and read over HTTP.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import socket
import subprocess
import sys
import sysconfig
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin

import httpx
import psycopg
import pytest
from psycopg import sql

from app.db.bootstrap import choose_database, conninfo, ensure_database

ROOT = Path(__file__).resolve().parents[1]
# The checkout's own clutter, at its top level only (node_modules has folders called build and tests).
CLUTTER = {".venv", ".git", ".data", "build", "test-artifacts", "tests", "bench", "notebooks", "contextmap.egg-info"}


def not_built_from(folder: str, names: list[str]) -> set[str]:
    top = Path(folder) == ROOT
    return {n for n in names if n == "__pycache__" or (top and (n in CLUTTER or n.endswith("_cache")))}
STATIC = re.compile(r"""(/static/[^"'\s)<>?#]+)""")
CSS_URL = re.compile(r"""url\(\s*['"]?([^'")]+)['"]?\s*\)""")


def run(*args: str | Path, env: dict[str, str], cwd: Path) -> str:
    done = subprocess.run([str(a) for a in args], env=env, cwd=cwd, capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"{' '.join(map(str, args))}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh environment holding only the wheel (its dependencies borrowed); returns its bin directory."""
    if not (ROOT / "app" / "static" / "node_modules" / "leaflet").is_dir():
        pytest.fail("the map assets are not vendored: run `make vendor` (make test does)")
    work = tmp_path_factory.mktemp("wheel")
    source, wheels, venv = work / "source", work / "wheels", work / "venv"
    shutil.copytree(ROOT, source, ignore=not_built_from)
    run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", wheels, source,
        env=dict(os.environ), cwd=work)
    (wheel,) = wheels.glob("contextmap-*.whl")
    run(sys.executable, "-m", "venv", "--without-pip", venv, env=dict(os.environ), cwd=work)
    fresh_site = next((venv / "lib").glob("python3*/site-packages"))
    (fresh_site / "borrowed-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    run(sys.executable, "-m", "pip", "--python", venv / "bin" / "python", "install", "--quiet", "--no-deps",
        wheel, env=dict(os.environ), cwd=work)
    return venv / "bin"


@pytest.fixture(scope="module")
def empty_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("empty")


@pytest.fixture(scope="module")
def environment(empty_folder: Path) -> Iterator[dict[str, str]]:
    """The installed command's environment: a new database, no PYTHONPATH, nothing from the checkout."""
    url = choose_database().url.set(database=f"contextmap_wheel_{os.getpid()}")
    ensure_database(url, recreate=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "CONTEXTMAP_", "VIRTUAL_ENV"))}
    env.update(CONTEXTMAP_DATABASE_URL=url.render_as_string(hide_password=False), CONTEXTMAP_ENVIRONMENT="test",
               CONTEXTMAP_COOKIE_SECURE="false", HOME=str(empty_folder))
    yield env
    with psycopg.connect(conninfo(url, "postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(url.database or "")))


def test_the_wheel_carries_its_own_code_migrations_and_assets(installed: Path, empty_folder: Path) -> None:
    python = installed / "python"
    code = ("import app, app.db.bootstrap as b, app.main as m; "
            "print(app.__file__); print(b.migrations_dir()); print(m.STATIC_DIR)")
    package, migrations, static = run(python, "-c", code, env={"PATH": os.environ["PATH"]},
                                      cwd=empty_folder).split()
    venv = installed.parent
    assert Path(package).is_relative_to(venv) and Path(migrations).is_relative_to(venv), (package, migrations)
    assert sorted(p.name for p in (Path(migrations) / "versions").glob("*.py")) == sorted(
        p.name for p in (ROOT / "migrations" / "versions").glob("*.py"))
    assert (Path(static) / "node_modules" / "leaflet" / "dist" / "leaflet.js").is_file()


def test_installed_contextmap_migrates_and_serves_maps_with_every_asset(
    installed: Path, empty_folder: Path, environment: dict[str, str],
) -> None:
    contextmap = installed / "contextmap"
    run(contextmap, "migrate", env=environment, cwd=empty_folder)
    run(contextmap, "orgs", "add", "wheel-town", "--name", "Wheel Town", env=environment, cwd=empty_folder)
    token = run(contextmap, "users", "add", "--org", "wheel-town", "--role", "community_safety",
                "--email", "analyst@wheel.test", env=environment, cwd=empty_folder).strip().splitlines()[-1]
    port = free_port()
    server = subprocess.Popen([str(contextmap), "serve", "--port", str(port)], env=environment, cwd=empty_folder,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as client:
            for _ in range(600):  # wait for start-up (bounded; this is readiness, not a speed check)
                if server.poll() is not None:
                    break
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            assert server.poll() is None, server.stdout.read() if server.stdout else ""
            for page in ("/maps/hotspots", "/maps/safe-spaces"):
                response = client.get(page)
                assert response.status_code == 200, f"{page}: {response.status_code} {response.text[:300]}"
                assets = sorted(set(STATIC.findall(html.unescape(response.text))))
                assert any(a.startswith("/static/vendor/leaflet/") for a in assets), page
                assert unloadable(client, assets) == [], page
    finally:
        server.terminate()
        server.wait(timeout=30)


def unloadable(client: httpx.Client, assets: list[str]) -> list[str]:
    """Every asset, and what its stylesheets load in turn (fonts, images), that does not answer 200."""
    failed: list[str] = []
    seen: set[str] = set()
    queue = list(assets)
    while queue:
        path = queue.pop()
        if path in seen:
            continue
        seen.add(path)
        response = client.get(path)
        if response.status_code != 200:
            failed.append(f"{path}: {response.status_code}")
        elif path.endswith(".css"):
            for ref in CSS_URL.findall(response.text):
                if not ref.startswith(("data:", "http:", "https:", "#")):
                    queue.append(urljoin(path, ref).split("?")[0].split("#")[0])
    return sorted(failed)
