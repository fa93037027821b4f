"""The embedded local PostGIS: find or make a PostgreSQL with PostGIS, create the database, migrate.

Order of choice (README): ``CONTEXTMAP_DATABASE_URL`` if set; else the PostgreSQL on 127.0.0.1:5432 if it
answers; else a project-local cluster under ``.data/`` started with the machine's own PostgreSQL binaries
(PostgreSQL refuses to run as root, so as root the cluster is run by the ``postgres`` system user).
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
from psycopg import sql
from sqlalchemy.engine import URL, make_url

from app.exceptions import BootstrapError

if TYPE_CHECKING:
    from alembic.config import Config

LOCAL_PORT = 54329
CITUS_WORKERS_ENV = "CONTEXTMAP_CITUS_WORKERS"
PROJECT_ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = PROJECT_ROOT / ".data"


@dataclass(frozen=True)
class DatabaseChoice:
    url: URL
    origin: str  # "environment", "local-server" or "project-cluster"


def conninfo(url: URL, database: str | None = None) -> str:
    parts = {
        "host": url.host or "127.0.0.1",
        "port": str(url.port or 5432),
        "user": url.username or "postgres",
        "dbname": database or url.database or "postgres",
    }
    if url.password:
        parts["password"] = str(url.password)
    return " ".join(f"{k}={v}" for k, v in parts.items())


def _answers(url: URL) -> bool:
    try:
        with psycopg.connect(conninfo(url, "postgres"), connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


def _pg_bindir() -> Path:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if candidates:
        return Path(candidates[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise BootstrapError(
        "No PostgreSQL server answers on 127.0.0.1:5432 and no PostgreSQL binaries were found: "
        "install PostgreSQL 15 or newer (Debian: apt-get install postgresql postgresql-15-postgis-3)."
    )


def _as_cluster_user(cmd: list[str]) -> list[str]:
    # PostgreSQL refuses to run as root: hand the cluster to the postgres system user.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


def _start_project_cluster() -> URL:
    bindir = _pg_bindir()
    pgdata = DATA_DIR / "pg"
    rundir = DATA_DIR / "run"
    DATA_DIR.mkdir(exist_ok=True)
    rundir.mkdir(exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(DATA_DIR, "postgres")
        shutil.chown(rundir, "postgres")
    if not (pgdata / "PG_VERSION").exists():
        subprocess.run(
            _as_cluster_user([str(bindir / "initdb"), "-D", str(pgdata), "-U", "postgres", "--auth=trust",
                              "-E", "UTF8", "--no-instructions"]),
            check=True, stdout=subprocess.DEVNULL,
        )
    url = make_url(f"postgresql+psycopg://postgres@127.0.0.1:{LOCAL_PORT}/contextmap")
    if not _answers(url):
        subprocess.run(
            _as_cluster_user([str(bindir / "pg_ctl"), "-D", str(pgdata), "-l", str(DATA_DIR / "postgres.log"),
                              "-o", f"-p {LOCAL_PORT} -k {rundir} -c listen_addresses=127.0.0.1", "-w",
                              "start"]),
            check=True, stdout=subprocess.DEVNULL,
        )
    return url


def choose_database(env: dict[str, str] | None = None) -> DatabaseChoice:
    env = dict(os.environ if env is None else env)
    if env.get("CONTEXTMAP_DATABASE_URL"):
        return DatabaseChoice(make_url(env["CONTEXTMAP_DATABASE_URL"]), "environment")
    local = make_url("postgresql+psycopg://postgres@127.0.0.1:5432/contextmap")
    if _answers(local):
        return DatabaseChoice(local, "local-server")
    return DatabaseChoice(_start_project_cluster(), "project-cluster")


def _server_major(url: URL) -> int:
    with psycopg.connect(conninfo(url, "postgres")) as conn:
        row = conn.execute("SHOW server_version_num").fetchone()
    assert row is not None
    return int(row[0]) // 10000


def _postgis_available(url: URL) -> bool:
    with psycopg.connect(conninfo(url, "postgres")) as conn:
        row = conn.execute("SELECT count(*) FROM pg_available_extensions WHERE name = 'postgis'").fetchone()
    return bool(row and row[0])


def ensure_postgis_package(url: URL) -> None:
    """Install Debian's PostGIS package for the server's major version when it is missing and we may."""
    if _postgis_available(url):
        return
    major = _server_major(url)
    package = f"postgresql-{major}-postgis-3"
    local_server = (url.host or "127.0.0.1") in ("127.0.0.1", "localhost")
    if os.geteuid() == 0 and shutil.which("apt-get") and local_server:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", package], check=True, env=env)
        if _postgis_available(url):
            return
    raise BootstrapError(
        f"PostGIS is not installed for PostgreSQL {major}: install the package {package} "
        f"(for example: sudo apt-get install {package}) and run the command again."
    )


def citus_workers(env: dict[str, str] | None = None) -> list[URL]:
    """The Citus workers a new database is spread over: ``CONTEXTMAP_CITUS_WORKERS=host:port,host:port``
    (``make test-citus`` sets it). Empty means a plain single-node database."""
    raw = dict(os.environ if env is None else env).get(CITUS_WORKERS_ENV, "")
    workers = []
    for item in filter(None, (part.strip() for part in raw.split(","))):
        host, _, port = item.rpartition(":")
        workers.append(make_url(f"postgresql+psycopg://postgres@{host or '127.0.0.1'}:{int(port)}/postgres"))
    return workers


def _create_or_recreate(url: URL, name: str, recreate: bool) -> None:
    with psycopg.connect(conninfo(url, "postgres"), autocommit=True) as conn:
        if recreate:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def ensure_database(url: URL, *, recreate: bool = False) -> URL:
    """Create the database (and its PostGIS extension) if missing; drop it first when ``recreate``.

    With Citus workers configured (``CONTEXTMAP_CITUS_WORKERS``) the database is created on every worker
    too, the ``citus`` extension is created first and the workers are added to it; PostGIS then follows
    to every node (Citus propagates CREATE EXTENSION). ``contextmap migrate`` distributes the tables.
    """
    ensure_postgis_package(url)
    name = url.database or "contextmap"
    workers = citus_workers()
    for worker in workers:
        _create_or_recreate(worker, name, recreate)
        with psycopg.connect(conninfo(worker, name), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS citus")
    _create_or_recreate(url, name, recreate)
    with psycopg.connect(conninfo(url, name), autocommit=True) as conn:
        if workers:
            conn.execute("CREATE EXTENSION IF NOT EXISTS citus")
            conn.execute("SELECT citus_set_coordinator_host(%s, %s)", (url.host or "127.0.0.1", url.port or 5432))
            for worker in workers:
                known = conn.execute("SELECT 1 FROM pg_dist_node WHERE nodename = %s AND nodeport = %s",
                                     (worker.host, worker.port)).fetchone()
                if not known:
                    conn.execute("SELECT citus_add_node(%s, %s)", (worker.host, worker.port))
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        conn.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        # Optional: pgRouting where the server has it (Debian's postgresql-<major>-pgrouting, installed by
        # `make system-packages`), for bench/bench_routing.py. The application never needs it.
        available = conn.execute(
            "SELECT 1 FROM pg_available_extensions WHERE name = 'pgrouting'").fetchone()
        if available:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pgrouting")
    return url


def drop_database(url: URL, name: str) -> None:
    """Drop a database on the server and on every configured Citus worker."""
    for server in (url, *citus_workers()):
        with psycopg.connect(conninfo(server, "postgres"), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def migrations_dir() -> Path:
    """The Alembic scripts: inside the installed package (the wheel's ``app/migrations``), else the checkout's."""
    packaged = Path(__file__).resolve().parents[1] / "migrations"
    return packaged if (packaged / "env.py").is_file() else PROJECT_ROOT / "migrations"


def alembic_config(url: URL) -> Config:
    """Alembic's configuration, built here rather than read from the checkout's pyproject.toml, which an
    installed contextmap does not have (``contextmap migrate`` failed: "No 'script_location' key found")."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.attributes["url"] = url.render_as_string(hide_password=False)
    return config


def migrate(url: URL) -> None:
    """Run the migrations; on a Citus database, then distribute the tables (app.db.citus)."""
    from alembic import command
    from sqlalchemy import create_engine, pool

    from app.db.citus import distribute, grant_columns_on_shards
    from app.settings import Settings

    command.upgrade(alembic_config(url), "head")
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.begin() as connection:
            distribute(connection, Settings().app_db_role)
        with engine.begin() as connection:
            grant_columns_on_shards(connection)
    finally:
        engine.dispose()
