"""Test fixtures: a real PostGIS database built by the migrations, fresh for each run.

No SQLite, no mocks: the service under test connects as its own unprivileged role, exactly as deployed.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import URL

from app.db import accounts
from app.db.bootstrap import choose_database, conninfo, drop_database, ensure_database, migrate
from app.db.demo_loader import DemoLogin, load_demo
from app.db.session import Database
from app.main import create_app
from app.settings import Settings
from geo.vocabulary import ROLES

# One database per test run (several runs may share a machine); stale ones from dead runs are dropped.
TEST_DATABASE = os.environ.get("CONTEXTMAP_TEST_DATABASE", f"contextmap_test_{os.getpid()}")
_counter = itertools.count(1)


def unique(prefix: str = "x") -> str:
    return f"{prefix}{os.getpid()}-{next(_counter)}"


def _drop_stale_test_databases(server: URL) -> None:
    with psycopg.connect(conninfo(server, "postgres"), autocommit=True) as conn:
        names = conn.execute("SELECT datname FROM pg_database WHERE datname ~ '^contextmap_test_[0-9]+$'").fetchall()
        for (name,) in names:
            pid = int(name.rsplit("_", 1)[1])
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                drop_database(server, name)
            except PermissionError:
                pass


@pytest.fixture(scope="session")
def database_url() -> Iterator[URL]:
    server = choose_database().url
    _drop_stale_test_databases(server)
    url = server.set(database=TEST_DATABASE)
    ensure_database(url, recreate=True)
    migrate(url)
    yield url
    if "CONTEXTMAP_TEST_DATABASE" not in os.environ:
        drop_database(server, TEST_DATABASE)


@pytest.fixture(scope="session")
def settings(database_url: URL, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        basemap_dir=tmp_path_factory.mktemp("basemap"),  # empty: no local basemap unless a test loads one
        database_url=database_url.render_as_string(hide_password=False),
        environment="test", cookie_secure=False, max_body_bytes=256 * 1024,
        # TestClient sends "Host: testserver"; the live servers of the browser and OGC tests are on 127.0.0.1.
        allowed_hosts=["testserver", "127.0.0.1", "localhost"],
    )


@pytest.fixture(scope="session")
def database(settings: Settings) -> Iterator[Database]:
    db = Database(settings)
    yield db
    db.dispose()


@pytest.fixture(scope="session")
def app(settings: Settings) -> Any:
    return create_app(settings)


@pytest.fixture(scope="session")
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


@dataclass(frozen=True)
class Org:
    id: int
    slug: str
    tokens: dict[str, str]  # role -> API token
    user_ids: dict[str, int]

    def headers(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


def make_org(database: Database, settings: Settings, slug: str | None = None,
             service_area_wkt: str | None = None) -> Org:
    slug = slug or unique("org-")
    tokens, user_ids = {}, {}
    with database.owner_session() as session:
        org_id = accounts.add_organisation(session, slug, f"Test {slug}", service_area_wkt)
        for role in ROLES:
            user_id = accounts.add_user(session, org_id, f"{role}@{slug}.test", role, f"password-{role}-123")
            tokens[role] = accounts.issue_token(session, org_id, user_id, "api", timedelta(days=1)).token
            user_ids[role] = user_id
    return Org(org_id, slug, tokens, user_ids)


@pytest.fixture(scope="session")
def org(database: Database, settings: Settings) -> Org:
    return make_org(database, settings, "alpha")


@pytest.fixture(scope="session")
def other_org(database: Database, settings: Settings) -> Org:
    return make_org(database, settings, "beta")


@pytest.fixture(scope="session")
def demo(database: Database, settings: Settings) -> list[DemoLogin]:
    with database.owner_session() as session:
        return load_demo(session, settings)


@pytest.fixture(scope="session")
def demo_headers(demo: list[DemoLogin]) -> dict[str, dict[str, str]]:
    return {login.role: {"Authorization": f"Bearer {login.token}"} for login in demo}


def sign_in(client: TestClient, email: str, password: str, next: str | None = None) -> Any:
    """Submit the sign-in form as a browser does: fetch the form first for its login CSRF token."""
    import re

    form = client.get("/signin")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token is not None, "the sign-in form carries a CSRF token"
    data = {"email": email, "password": password, "csrf_token": token.group(1)}
    if next is not None:
        data["next"] = next
    return client.post("/signin", data=data, follow_redirects=False)


def count_rows(database: Database, table: str) -> int:
    with database.owner_session() as session:
        return int(session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


# ---- factories: plain functions returning request bodies -------------------------------------------------
LUTON = (-0.4170, 51.8790)


def point(lon: float = LUTON[0], lat: float = LUTON[1]) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [lon, lat]}


def place_body(name: str | None = None, kind: str = "library", geometry: dict[str, Any] | None = None,
               **props: Any) -> dict[str, Any]:
    return {"type": "Feature", "geometry": geometry or point(),
            "properties": {"name": name or unique("Place "), "kind": kind, **props}}


def incident_body(geometry: dict[str, Any] | None = None, **props: Any) -> dict[str, Any]:
    properties = {"occurred_from": "2026-05-01T16:00:00Z", "harm_category": "antisocial_behaviour", **props}
    return {"type": "Feature", "geometry": geometry or point(), "properties": properties}


def create_place(client: TestClient, org: Org, role: str = "community_safety", **kwargs: Any) -> dict[str, Any]:
    response = client.post("/api/places", json=place_body(**kwargs), headers=org.headers(role))
    assert response.status_code == 201, response.text
    return response.json()


def own_rows(database: Any, table: str, org: Any) -> int:
    with database.owner_session() as session:
        return int(session.execute(text(f"SELECT count(*) FROM {table} WHERE organisation_id = :o"),
                                   {"o": org.id}).scalar_one())


def assert_problem(response: Any, status: int, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    if field is not None:
        named = {body.get("field"), *(e.get("field") for e in body.get("errors", []))}
        assert field in named, body
    return body
