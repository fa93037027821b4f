"""``contextmap serve`` runs several worker processes (issue 11, item 5).

``WEB_CONCURRENCY=2`` (set by many hosts) made it exit with "You must pass the application as an import
string"; ``--workers`` did not exist. Pools are sized so workers x pool fits max_connections.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

import httpx
import pytest

from app.cli import CONNECTION_HEADROOM, size_pools
from app.settings import Settings
from tests.reliability.conftest import free_port


def _serve(database_url: Any, *args: str, **env: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    environment = {**os.environ, "CONTEXTMAP_DATABASE_URL": database_url.render_as_string(hide_password=False),
                   "CONTEXTMAP_ENVIRONMENT": "test", **env}
    process = subprocess.Popen([sys.executable, "-m", "app.cli", "serve", "--port", str(port), *args],
                               env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    return process, f"http://127.0.0.1:{port}"


def _healthy(base: str, process: subprocess.Popen[bytes]) -> bool:
    deadline = time.monotonic() + 90  # bounds a broken start-up; no timing is asserted
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(base + "/healthz", timeout=5).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    return False


def _stop(process: subprocess.Popen[bytes]) -> str:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=60)
    return output.decode(errors="replace")


@pytest.mark.parametrize(("args", "env"), [(("--workers", "2"), {}), ((), {"WEB_CONCURRENCY": "2"})],
                         ids=["--workers 2", "WEB_CONCURRENCY=2"])
def test_serve_runs_two_workers(database_url, args, env):
    process, base = _serve(database_url, *args, **env)
    try:
        healthy = _healthy(base, process)
    finally:
        output = _stop(process)
    assert healthy, output
    assert "2 worker(s)" in output, output
    assert process.returncode == 0, output  # SIGTERM drains and exits cleanly


def test_pools_are_sized_to_fit_max_connections():
    settings = Settings(db_pool_size=10, heavy_pool_size=2)
    cheap, heavy = size_pools(settings, workers=8, max_connections=100, reserved=3)
    assert 8 * (cheap + heavy + 1) <= 100 - 3 - CONNECTION_HEADROOM
    assert (cheap, heavy) == (7, 2)
    assert size_pools(settings, workers=2, max_connections=100, reserved=3) == (10, 2)  # the settings fit
    with pytest.raises(ValueError, match="fewer workers"):
        size_pools(settings, workers=40, max_connections=100, reserved=3)
