"""Faults answer honestly and a few heavy requests cannot take the service down (issue 11, items 2, 3, 6).

Each test runs the app in a real uvicorn server (a client that leaves, connections held open, concurrent
requests). A long query is made deterministic without sleeps in the code under test: the test holds an
exclusive lock on ``incidents``, so any request that reads incidents waits until it is cancelled, times
out, or the lock goes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import httpx
import psycopg
import pytest
from sqlalchemy.engine import URL

from app.db.bootstrap import conninfo
from app.main import create_app
from app.settings import Settings
from tests.conftest import Org, incident_body, make_org
from tests.reliability.conftest import OwnCluster, serving

HEAVY = "/api/analysis/hotspots"


def _settings(url: URL, **overrides: Any) -> Settings:
    return Settings(database_url=url.render_as_string(hide_password=False), environment="test",
                    cookie_secure=False, **overrides)


@contextmanager
def incidents_locked(database_url: URL) -> Iterator[None]:
    """Hold ACCESS EXCLUSIVE on incidents (as the owner) until the block ends."""
    with psycopg.connect(conninfo(database_url)) as conn:
        conn.execute("LOCK TABLE incidents IN ACCESS EXCLUSIVE MODE")
        try:
            yield
        finally:
            conn.rollback()


def _waiting_on_incidents(database_url: URL) -> int:
    """Backends of the service that are running (or waiting to run) a query over incidents."""
    with psycopg.connect(conninfo(database_url), autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state = 'active' "
            "AND application_name LIKE 'contextmap%%' AND query ILIKE '%%incidents%%'").fetchone()
    assert row is not None
    return int(row[0])


def _eventually(condition: Any, seconds: float = 15.0) -> bool:
    # Polls a condition; the bound only stops a broken test from hanging (no timing is asserted).
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return bool(condition())


def assert_problem_503(response: httpx.Response, *, retry_after: bool = True) -> dict[str, Any]:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    if retry_after:
        assert int(response.headers["retry-after"]) > 0
    return dict(response.json())


@pytest.fixture(scope="module")
def two_orgs(database: Any, settings: Settings) -> tuple[Org, Org]:
    return make_org(database, settings), make_org(database, settings)


def test_a_client_that_leaves_has_its_query_cancelled(database_url, two_orgs):
    org, _ = two_orgs
    app = create_app(_settings(database_url, lock_timeout_seconds=120, statement_timeout_seconds=120))
    with serving(app) as base, incidents_locked(database_url):
        with pytest.raises(httpx.ReadTimeout):
            httpx.get(base + "/api/incidents", headers=org.headers("community_safety"), timeout=1.0)
        # The lock is still held: the query is gone only because the server cancelled it.
        assert _eventually(lambda: _waiting_on_incidents(database_url) == 0)


def test_a_statement_over_the_time_limit_is_503_with_advice_to_narrow(database_url, two_orgs):
    org, _ = two_orgs
    app = create_app(_settings(database_url, statement_timeout_seconds=0.3, lock_timeout_seconds=60))
    with serving(app) as base, incidents_locked(database_url):
        response = httpx.get(base + HEAVY, headers=org.headers("community_safety"), timeout=30)
    body = assert_problem_503(response, retry_after=False)
    assert "Narrow the request" in body["detail"]


def test_a_lock_wait_over_the_limit_is_503_with_retry_after(database_url, two_orgs):
    org, _ = two_orgs
    app = create_app(_settings(database_url, statement_timeout_seconds=60, lock_timeout_seconds=0.3))
    with serving(app) as base, incidents_locked(database_url):
        response = httpx.post(base + "/api/incidents", json=incident_body(),
                              headers=org.headers("community_safety"), timeout=30)
    assert_problem_503(response)


def test_heavy_analyses_have_their_own_lane_and_cheap_requests_still_answer(database_url, two_orgs):
    org, other = two_orgs
    app = create_app(_settings(database_url, heavy_pool_size=1, heavy_per_user=1, heavy_queue_seconds=0.5,
                               lock_timeout_seconds=60, statement_timeout_seconds=60))
    with serving(app) as base, ThreadPoolExecutor(4) as pool:
        with incidents_locked(database_url):
            running = pool.submit(httpx.get, base + HEAVY, headers=org.headers("community_safety"), timeout=60)
            assert _eventually(lambda: _waiting_on_incidents(database_url) == 1)
            # The same user again: over their share.
            again = httpx.get(base + HEAVY, headers=org.headers("community_safety"), timeout=30)
            assert again.status_code == 429, again.text
            assert int(again.headers["retry-after"]) > 0
            # Another user: the lane is full; told so quickly, not after 30 s.
            full = httpx.get(base + HEAVY, headers=other.headers("community_safety"), timeout=30)
            assert_problem_503(full)
            # A cheap request from another organisation is unaffected.
            cheap = httpx.get(base + "/api/places", headers=other.headers("youth_worker"), timeout=30)
            assert cheap.status_code == 200, cheap.text
            assert httpx.get(base + "/healthz", timeout=30).status_code == 200
        assert running.result().status_code == 200


def test_no_free_connection_is_503_quickly_with_retry_after(database_url, two_orgs):
    org, _ = two_orgs
    app = create_app(_settings(database_url, db_pool_size=1, pool_timeout_seconds=0.3))
    with serving(app) as base:
        held = app.state.database.app_engine.connect()
        try:
            response = httpx.get(base + "/api/places", headers=org.headers("youth_worker"), timeout=30)
            assert_problem_503(response)
        finally:
            held.close()
        assert httpx.get(base + "/api/places", headers=org.headers("youth_worker"), timeout=30).status_code == 200


# ---- the database itself goes away (a cluster this module owns) -----------------------------------------
@pytest.fixture(scope="module")
def fault_org(own_cluster: OwnCluster) -> tuple[OwnCluster, Org, Settings]:
    settings = _settings(own_cluster.url, pool_timeout_seconds=2, connect_timeout_seconds=2)
    from app.db.session import Database

    database = Database(settings)
    try:
        org = make_org(database, settings)
    finally:
        database.dispose()
    return own_cluster, org, settings


def test_database_down_answers_503_keeps_the_connection_and_recovers(fault_org):
    cluster, org, settings = fault_org
    app = create_app(settings)
    headers = org.headers("community_safety")
    with serving(app) as base, httpx.Client(base_url=base, timeout=30) as client:
        assert client.get("/api/places", headers=headers).status_code == 200
        assert client.get("/healthz").status_code == 200
        cluster.stop()
        try:
            body = assert_problem_503(client.get("/api/places", headers=headers))
            assert "Try again" in body["detail"]
            assert_problem_503(client.post("/api/incidents", json=incident_body(), headers=headers))
            assert_problem_503(client.get("/healthz"))
            # Every answer came back on a connection the server kept open (no reset between them).
            assert client.get("/api/places", headers=headers).status_code == 503
        finally:
            cluster.start()
        assert _eventually(lambda: client.get("/healthz").status_code == 200)
        assert client.get("/api/places", headers=headers).status_code == 200
        created = client.post("/api/incidents", json=incident_body(), headers=headers)
        assert created.status_code == 201, created.text


def test_database_restarted_mid_request_answers_503_not_500(fault_org):
    cluster, org, settings = fault_org
    app = create_app(settings)
    headers = org.headers("community_safety")
    with serving(app) as base, httpx.Client(base_url=base, timeout=60) as client:
        lock = psycopg.connect(conninfo(cluster.url))
        lock.execute("LOCK TABLE incidents IN ACCESS EXCLUSIVE MODE")
        results: list[httpx.Response] = []
        waiting = threading.Thread(target=lambda: results.append(
            httpx.get(base + "/api/incidents", headers=headers, timeout=60)))
        waiting.start()
        assert _eventually(lambda: _waiting_on_incidents(cluster.url) == 1)
        cluster.stop()  # terminates the waiting backend (and the lock holder)
        lock.close()
        waiting.join(timeout=60)
        cluster.start()
        assert_problem_503(results[0])
        assert _eventually(lambda: client.get("/api/incidents", headers=headers).status_code == 200)
