"""On Citus: the schema is distributed by organisation, and one organisation's queries go to one shard.

Run by ``make test-citus`` (the database, API and security suites run there too, unchanged: isolation and
disclosure hold on the cluster as on one PostgreSQL).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, event, text

from app.db.citus import REFERENCE_TABLES
from tests.conftest import Org, create_place, incident_body, make_org


def _owner(database: Any, sql: str, **params: Any) -> list[Any]:
    with database.owner_session() as session:
        return list(session.execute(text(sql), params).all())


def test_the_database_is_a_citus_cluster_with_two_workers(database: Any) -> None:
    workers = _owner(database, "SELECT nodename, nodeport FROM pg_dist_node WHERE groupid <> 0 AND isactive")
    assert len(workers) == 2


def test_tenant_tables_are_distributed_by_organisation_and_colocated(database: Any) -> None:
    rows = {r.table_name: r for r in _owner(database, "SELECT table_name::text, citus_table_type, "
                                                      "distribution_column, colocation_id FROM citus_tables")}
    assert {t for t, r in rows.items() if r.citus_table_type == "reference"} == set(REFERENCE_TABLES)
    distributed = {t: r for t, r in rows.items() if r.citus_table_type == "distributed"}
    assert {"places", "incidents", "designations", "guardians", "interventions", "assessments", "street_edges",
            "school_terms", "audit_events", "incidents_archive"} <= set(distributed)
    assert {r.distribution_column for r in distributed.values()} == {"organisation_id"}
    assert len({r.colocation_id for r in distributed.values()}) == 1  # one shard group per organisation
    # Every table with an organisation is on the cluster: none left behind on the coordinator alone.
    tenant = {r[0] for r in _owner(database, "SELECT c.table_name FROM information_schema.columns c "
                                             "JOIN information_schema.tables t USING (table_schema, table_name) "
                                             "WHERE c.table_schema = 'public' AND c.column_name = 'organisation_id' "
                                             "AND t.table_type = 'BASE TABLE'")}
    assert tenant <= set(rows)


def test_set_local_reaches_the_workers_and_leakproof_is_set_there(database: Any) -> None:
    settings = _owner(database, "SELECT setconfig FROM pg_db_role_setting s "
                                "JOIN pg_database d ON d.oid = s.setdatabase "
                                "WHERE d.datname = current_database() AND s.setrole = 0")
    assert any("citus.propagate_set_commands=local" in c for row in settings for c in row[0])
    flags = _owner(database, "SELECT result FROM run_command_on_workers("
                             "$$SELECT proleakproof FROM pg_proc WHERE proname = 'geometry_overlaps'$$)")
    assert [r.result for r in flags] == ["t", "t"]


@pytest.fixture(scope="module")
def busy_org(client: Any, database: Any, settings: Any) -> Org:
    org = make_org(database, settings)
    for k in range(12):
        body = incident_body(occurred_from=f"2026-05-{k % 9 + 1:02d}T16:00:00Z")
        body["geometry"]["coordinates"] = [-0.4170 + 0.0004 * (k % 4), 51.8790 + 0.0004 * (k // 4)]
        response = client.post("/api/incidents", json=body, headers=org.headers("community_safety"))
        assert response.status_code == 201, response.text
    return org


@pytest.fixture
def captured() -> Iterator[list[tuple[str, Any]]]:
    """The statements the service sends (after the organisation is bound into them: app.db.session)."""
    statements: list[tuple[str, Any]] = []

    def listen(connection: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> Any:
        statements.append((statement, parameters))
        return statement, parameters

    event.listen(Engine, "before_cursor_execute", listen, retval=True)
    try:
        yield statements
    finally:
        event.remove(Engine, "before_cursor_execute", listen)


def _task_counts(database: Any, org: Org, statement: str, parameters: Any) -> list[int]:
    with database.tenant_session(org.id) as session, session.begin():
        cursor = session.connection().connection.dbapi_connection.cursor()
        cursor.execute("EXPLAIN " + statement, parameters)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    return [int(n) for n in re.findall(r"Task Count: (\d+)", plan)]


def test_an_organisations_hot_spot_query_is_a_single_shard_router_plan(
    client: Any, database: Any, busy_org: Org, captured: list[tuple[str, Any]],
) -> None:
    response = client.get("/api/analysis/hotspots?size=100&datetime=2026-05-01T00:00:00Z/2026-06-01T00:00:00Z",
                          headers=busy_org.headers("community_safety"))
    assert response.status_code == 200, response.text
    counting = [(s, p) for s, p in captured if "FROM incidents inc" in s and "cell_key" in s]
    assert counting, "the hot-spot count query was not seen"
    for statement, parameters in counting:
        assert f"inc.organisation_id = {busy_org.id}::bigint" in statement  # the organisation is bound
        assert _task_counts(database, busy_org, statement, parameters) == [1]  # one task: a router plan


def test_the_resource_list_and_get_route_to_one_shard(
    client: Any, database: Any, busy_org: Org, captured: list[tuple[str, Any]],
) -> None:
    listed = client.get("/api/incidents?limit=5", headers=busy_org.headers("community_safety"))
    assert listed.status_code == 200, listed.text
    one = client.get("/api/places?limit=5", headers=busy_org.headers("community_safety"))
    assert one.status_code == 200, one.text
    reads = [(s, p) for s, p in captured if s.lstrip().startswith("SELECT * FROM (") and "r._org = " in s]
    assert reads
    for statement, parameters in reads:
        assert _task_counts(database, busy_org, statement, parameters) == [1], statement


def _fan_outs(database: Any, org: Org, statements: list[tuple[str, Any]]) -> list[tuple[list[int], str]]:
    """The captured reads that Citus would send to more than one shard (EXPLAIN of each, in the org's scope)."""
    found = []
    for statement, parameters in statements:
        if not statement.lstrip().upper().startswith(("SELECT", "WITH")):
            continue  # writes are checked by the shard they land on; SET and the like have no plan
        counts = _task_counts(database, org, statement, parameters)
        if any(n > 1 for n in counts):
            found.append((counts, " ".join(statement.split())[:300]))
    return found


@pytest.fixture(scope="module")
def intervention(client: Any, busy_org: Org) -> int:
    body = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [-0.4168, 51.8792]},
            "properties": {"kind": "outreach", "description": "Detached youth work", "owning_partner": "Youth service",
                           "starts_on": "2026-05-05"}}
    response = client.post("/api/interventions", json=body, headers=busy_org.headers("admin"))
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


@pytest.mark.parametrize("what", ["incident", "place", "audit page", "displacement", "place timeline"])
def test_single_record_reads_audit_pages_and_the_displacement_lookup_route_to_one_shard(
    client: Any, database: Any, busy_org: Org, intervention: int, captured: list[tuple[str, Any]], what: str,
) -> None:
    # Every read these requests send names the organisation, so each goes to the organisation's shard
    # alone; row-level security would keep them correct without it, but ask all 32 shards (issue 19).
    headers = busy_org.headers("admin")
    incident = client.get("/api/incidents?limit=1", headers=headers).json()["features"][0]["id"]
    place = create_place(client, busy_org, name="Routed shop")["id"]
    urls = {
        "incident": f"/api/incidents/{incident}",
        "place": f"/api/places/{place}",
        "audit page": "/api/audit?limit=20&action=incident.read",
        "displacement": f"/api/analysis/displacement?intervention={intervention}&cell=square&size=250",
        "place timeline": f"/api/places/{place}/timeline",
    }
    captured.clear()
    response = client.get(urls[what], headers=headers)
    assert response.status_code == 200, response.text
    assert captured, "no statement was seen"
    assert _fan_outs(database, busy_org, captured) == []


def test_a_query_scoped_only_by_row_level_security_fans_out_to_every_shard(database: Any, busy_org: Org) -> None:
    # The reason the service names the organisation: the policy alone is right, but asks every shard.
    counts = _task_counts(database, busy_org, "SELECT count(*) FROM incidents", {})
    assert counts and counts[0] > 1
    with database.tenant_session(busy_org.id) as session, session.begin():
        assert session.execute(text("SELECT count(*) FROM incidents")).scalar_one() == 12  # and still isolated
