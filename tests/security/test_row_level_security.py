"""Isolation in the database itself: the service's own role sees one organisation, whatever the query."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError

from tests.conftest import Org, create_place, incident_body, unique

TENANT_TABLES = ("places", "designations", "guardians", "incidents", "interventions", "users", "api_tokens")


def test_unscoped_query_through_the_service_role_sees_only_its_own_organisation(
    client: Any, database: Any, org: Org, other_org: Org,
) -> None:
    mine = create_place(client, org, name=unique("Mine "))
    theirs = create_place(client, other_org, name=unique("Theirs "))
    with database.tenant_session(org.id) as session, session.begin():
        # Deliberately no WHERE organisation_id = ...: row-level security must do the scoping.
        rows = session.execute(text("SELECT id, organisation_id FROM places")).all()
        role = session.execute(text("SELECT current_user")).scalar()
    assert role == database.settings.app_db_role
    ids = {r.id for r in rows}
    assert mine["id"] in ids and theirs["id"] not in ids
    assert {r.organisation_id for r in rows} == {org.id}


@pytest.mark.parametrize("table", TENANT_TABLES)
def test_every_tenant_table_is_scoped(database: Any, org: Org, other_org: Org, table: str) -> None:
    with database.tenant_session(org.id) as session, session.begin():
        organisations = set(session.execute(text(f"SELECT DISTINCT organisation_id FROM {table}")).scalars())
    assert organisations <= {org.id}


def test_without_an_organisation_the_service_role_sees_nothing(client: Any, database: Any, org: Org) -> None:
    create_place(client, org)
    with database.tenant_session(None) as session, session.begin():
        assert session.execute(text("SELECT count(*) FROM places")).scalar_one() == 0
        assert session.execute(text("SELECT count(*) FROM users")).scalar_one() == 0


def test_the_service_role_cannot_write_into_another_organisation(database: Any, org: Org, other_org: Org) -> None:
    with pytest.raises(ProgrammingError, match="row-level security"), \
            database.tenant_session(org.id) as session, session.begin():
        session.execute(text(
            "INSERT INTO places (organisation_id, name, kind, geom) "
            "VALUES (:other, 'Sneaky', 'park', ST_SetSRID(ST_MakePoint(-0.41, 51.88), 4326))"
        ), {"other": other_org.id})


def test_the_service_role_neither_owns_tables_nor_bypasses_rls(database: Any) -> None:
    with database.tenant_session(None) as session, session.begin():
        flags = session.execute(text(
            "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")).one()
        owned = session.execute(text(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = current_user")).scalar_one()
    assert (flags.rolsuper, flags.rolbypassrls, owned) == (False, False, 0)


@pytest.mark.parametrize("statement", ["UPDATE audit_events SET action = 'x'", "DELETE FROM audit_events"])
def test_the_audit_log_is_append_only_for_the_service(client: Any, database: Any, org: Org, statement: str) -> None:
    client.post("/api/incidents", json=incident_body(), headers=org.headers("community_safety"))
    with pytest.raises(ProgrammingError, match="permission denied"), \
            database.tenant_session(org.id) as session, session.begin():
        session.execute(text(statement))


def test_the_service_role_cannot_read_the_incident_archive(database: Any, org: Org) -> None:
    with pytest.raises(ProgrammingError, match="permission denied"), \
            database.tenant_session(org.id) as session, session.begin():
        session.execute(text("SELECT count(*) FROM incidents_archive"))
