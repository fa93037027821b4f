"""A 2xx means the data are saved: the transaction commits before the response is sent (issue 11, item 1).

A constraint that fails only at commit (a DEFERRED constraint trigger, as a deferred foreign key or
exclusion constraint would) must reach the client as an error. Before, the session's commit ran after the
response: ``POST /api/incidents`` answered 201 with an id for a row that was never there.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text

from tests.api.test_imports import csv_of, row, upload
from tests.conftest import Org, incident_body, make_org, own_rows

MARK = "fail-at-commit"


@pytest.fixture()
def fails_at_commit(database: Any) -> Iterator[None]:
    """Incidents marked MARK (description or source category) fail a deferred check at COMMIT."""
    with database.owner_session() as session:
        session.execute(text(f"""
            CREATE FUNCTION test_fail_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.description = '{MARK}' OR NEW.source_category = '{MARK}' THEN
                    RAISE EXCEPTION 'deferred check failed' USING ERRCODE = 'check_violation';
                END IF;
                RETURN NULL;
            END $$;
            CREATE CONSTRAINT TRIGGER test_fail_at_commit AFTER INSERT OR UPDATE ON incidents
                DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION test_fail_at_commit();"""))
    try:
        yield
    finally:
        with database.owner_session() as session:
            session.execute(text("DROP TRIGGER test_fail_at_commit ON incidents; "
                                 "DROP FUNCTION test_fail_at_commit()"))


@pytest.fixture()
def fresh_org(database: Any, settings: Any) -> Org:
    return make_org(database, settings)


def test_a_write_whose_commit_fails_is_never_acknowledged(client, database, fresh_org, fails_at_commit):
    response = client.post("/api/incidents", json=incident_body(description=MARK),
                           headers=fresh_org.headers("community_safety"))
    assert not response.is_success, response.text
    assert response.status_code == 409
    assert response.headers["content-type"].startswith("application/problem+json")
    assert own_rows(database, "incidents", fresh_org) == 0


def test_an_update_whose_commit_fails_is_never_acknowledged(client, database, fresh_org, fails_at_commit):
    headers = fresh_org.headers("community_safety")
    created = client.post("/api/incidents", json=incident_body(description="fine"), headers=headers)
    assert created.status_code == 201
    patched = client.patch(created.headers["Location"], headers=headers,
                           json={"type": "Feature", "geometry": None, "properties": {"description": MARK}})
    assert patched.status_code == 409, patched.text
    assert client.get(created.headers["Location"], headers=headers).json()["properties"]["description"] == "fine"


def test_an_import_whose_commit_fails_is_never_acknowledged(client, database, fresh_org, fails_at_commit):
    response = upload(client, fresh_org, ("crimes.csv", csv_of(row("abc"), row("def", crime_type=MARK))))
    assert not response.is_success, response.text
    assert own_rows(database, "incidents", fresh_org) == 0


def test_every_acknowledged_write_reads_back_at_once(client, fresh_org):
    # The outside test saw 8 of 856 immediate read-backs after a 201 answer 404.
    headers = fresh_org.headers("community_safety")
    for _ in range(20):
        created = client.post("/api/incidents", json=incident_body(), headers=headers)
        assert created.status_code == 201
        assert client.get(created.headers["Location"], headers=headers).status_code == 200
