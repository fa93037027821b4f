"""Helpers for the fault tests: a real uvicorn server in a thread, and a PostgreSQL cluster the test owns.

The database-down tests stop and start their own cluster (initdb into a temporary directory, a free port,
the machine's own PostgreSQL binaries as app.db.bootstrap uses them): never the shared server on 5432.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from sqlalchemy.engine import URL, make_url

from app.db.bootstrap import _as_cluster_user, _pg_bindir, ensure_database, migrate


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """Serve ``app`` on a loopback port in a background thread; yields the base URL."""
    config = uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{config.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


class OwnCluster:
    """A throw-away PostgreSQL cluster with PostGIS, started and stopped by the test."""

    def __init__(self) -> None:
        self.bindir = _pg_bindir()
        self.root = Path(tempfile.mkdtemp(prefix="contextmap-cluster-"))
        self.pgdata = self.root / "pg"
        self.port = free_port()
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root (see app.db.bootstrap)
            shutil.chown(self.root, "postgres")
        subprocess.run(_as_cluster_user([str(self.bindir / "initdb"), "-D", str(self.pgdata), "-U", "postgres",
                                         "--auth=trust", "-E", "UTF8", "--no-instructions"]),
                       check=True, stdout=subprocess.DEVNULL)

    @property
    def url(self) -> URL:
        return make_url(f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/contextmap_faults")

    def start(self) -> None:
        subprocess.run(_as_cluster_user([
            str(self.bindir / "pg_ctl"), "-D", str(self.pgdata), "-l", str(self.root / "postgres.log"),
            "-o", f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off", "-w", "start",
        ]), check=True, stdout=subprocess.DEVNULL)

    def stop(self) -> None:
        subprocess.run(_as_cluster_user([str(self.bindir / "pg_ctl"), "-D", str(self.pgdata), "-m", "fast",
                                         "-w", "stop"]), check=True, stdout=subprocess.DEVNULL)

    def remove(self) -> None:
        subprocess.run(_as_cluster_user([str(self.bindir / "pg_ctl"), "-D", str(self.pgdata), "-m", "immediate",
                                         "stop"]), check=False, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="module")
def own_cluster() -> Iterator[OwnCluster]:
    cluster = OwnCluster()
    try:
        cluster.start()
        ensure_database(cluster.url)
        migrate(cluster.url)
        yield cluster
    finally:
        cluster.remove()
