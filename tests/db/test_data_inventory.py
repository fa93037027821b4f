"""The data inventory describes every table and column the migrations create, and the committed
``docs/data-inventory.md`` is what ``contextmap docs data-inventory`` writes today.

The schema is read from the test database, built by the migrations like every other test's.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from sqlalchemy import text
from typer.testing import CliRunner

from app.db.bootstrap import PROJECT_ROOT
from app.db.repository import FREE_TEXT_FIELDS
from app.governance import inventory
from app.governance.schema import check, read_schema, render_csv, render_json, render_markdown

INVENTORY = PROJECT_ROOT / "docs" / "data-inventory.md"


def _live(database: Any) -> Any:
    with database.owner_session() as session:
        return read_schema(session, database.settings.app_db_role)


def test_every_table_and_column_the_migrations_create_is_described(database: Any) -> None:
    findings = check(_live(database))
    assert not findings, findings.message()


def test_a_column_added_without_a_description_is_caught(database: Any) -> None:
    # DDL is transactional in PostgreSQL: add a column and a table in a transaction, read the schema as
    # the check does, then roll back so no other test ever sees them.
    with database.owner_session() as session:
        session.execute(text("ALTER TABLE places ADD COLUMN young_person_name text"))
        session.execute(text("CREATE TABLE youth_contacts (id bigserial PRIMARY KEY, phone text)"))
        findings = check(read_schema(session, database.settings.app_db_role))
        session.rollback()
    assert findings.undescribed_columns == ["places.young_person_name"]
    assert findings.undescribed_tables == ["youth_contacts"]
    assert "places.young_person_name" in findings.message()
    with database.owner_session() as session:
        columns = {c for c, in session.execute(text(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'places'"))}
    assert "young_person_name" not in columns  # rolled back


def test_a_description_of_a_column_that_is_gone_is_caught(database: Any) -> None:
    with database.owner_session() as session:
        session.execute(text("ALTER TABLE guardians DROP COLUMN hours"))
        findings = check(read_schema(session, database.settings.app_db_role))
        session.rollback()
    assert findings.stale == ["guardians.hours"]


def test_the_committed_inventory_is_current(database: Any) -> None:
    expected = render_markdown(_live(database), database.settings)
    assert INVENTORY.read_text() == expected, (
        "docs/data-inventory.md is not current: run `contextmap docs data-inventory`")


def test_the_cli_writes_markdown_csv_and_json(database: Any, settings: Any, tmp_path: Any, monkeypatch: Any) -> None:
    from app.cli import cli

    monkeypatch.setenv("CONTEXTMAP_DATABASE_URL", settings.database_url)
    target, table, document = tmp_path / "inventory.md", tmp_path / "inventory.csv", tmp_path / "inventory.json"
    result = CliRunner().invoke(cli, ["docs", "data-inventory", "--output", str(target), "--csv", str(table),
                                      "--json", str(document)])
    assert result.exit_code == 0, result.output
    assert target.read_text() == INVENTORY.read_text()
    rows = list(csv.DictReader(io.StringIO(table.read_text())))
    live = _live(database)
    assert len(rows) == sum(len(t.columns) for t in live.tables.values())
    email = next(r for r in rows if (r["table"], r["column"]) == ("users", "email"))
    assert email["personal"] == inventory.STAFF and email["readers"].endswith(": admin")
    tables = {t["table"]: t for t in json.loads(document.read_text())["tables"]}
    assert set(tables) == set(live.tables)

    check_result = CliRunner().invoke(cli, ["docs", "data-inventory", "--check", "--output", str(target)])
    assert check_result.exit_code == 0, check_result.output
    target.write_text("stale\n")
    check_result = CliRunner().invoke(cli, ["docs", "data-inventory", "--check", "--output", str(target)])
    assert check_result.exit_code == 1 and "not current" in check_result.output


def test_access_rls_and_retention_come_from_the_code_and_the_database(database: Any) -> None:
    live = _live(database)
    settings = database.settings
    tables = {t["table"]: t for t in json.loads(render_json(live, settings))["tables"]}
    incidents = tables["incidents"]
    # Role table (app/policy.py): individual records never to the panel; aggregates to everyone.
    assert [(r["gate"], r["roles"]) for r in incidents["readers"]] == [
        ("read_incidents", ["admin", "community_safety", "youth_worker"]),
        ("analysis", ["admin", "community_safety", "youth_worker", "panel"])]
    # Row-level security and grants as the migrations left them (pg_policies, has_table_privilege).
    assert incidents["row_level_security"] is True
    assert incidents["policies"] == ["organisation_isolation (ALL): reads rows of the signed-in user's "
                                     "organisation; writes rows of the signed-in user's organisation"]
    assert tables["incidents_archive"]["service_role_privileges"] == []
    # INSERT is granted per column since migration 0007 (the database stamps ``at``), not on the table.
    assert tables["audit_events"]["service_role_privileges"] == ["SELECT"]
    assert tables["incidents_archive"]["deleted_with_organisation"] is False
    assert tables["places"]["deleted_with_organisation"] is True
    # Retention from the settings.
    assert f"more than {settings.retention_days} days ago are {settings.retention_mode}d" in incidents["retention"]
    assert f"after {settings.token_ttl_days} days" in tables["api_tokens"]["retention"]


def test_free_text_columns_are_withheld_from_the_panel_and_children_are_never_identified(database: Any) -> None:
    rows = list(csv.DictReader(io.StringIO(render_csv(_live(database), database.settings))))
    # The columns the API strips for panel members (app.db.repository.FREE_TEXT_FIELDS) say so here.
    for row in rows:
        if row["column"] in FREE_TEXT_FIELDS and row["table"] in ("places", "designations", "guardians",
                                                                   "interventions", "assessments"):
            assert row["panel"] == inventory.WITHHELD, row
    # Panel members read nothing of admin-only tables, and nothing of individual incidents.
    assert {r["panel"] for r in rows if r["table"] in ("users", "api_tokens", "audit_events")} == {"no"}
    assert {r["panel"] for r in rows if r["table"] == "incidents"} <= {"no", inventory.AGGREGATES}
    # No column is described as identifying a young person directly.
    assert not [r for r in rows if "young people" in r["personal"] and "indirectly" not in r["personal"]]


def test_where_data_goes_matches_the_outputs_in_the_code() -> None:
    """Every table an OGC collection, an export or a tile layer reads from says so in the inventory."""
    from app.api.exports import CONTEXT_RESOURCES
    from app.db import ogc

    def flows(table: str) -> tuple[str, ...]:
        return inventory.TABLES[table].flows

    for source in ogc.COLLECTIONS.values():
        table = source.spec.table if source.spec is not None else "incidents"  # hot-spot cells count incidents
        assert inventory.OGC in flows(table), (source.id, table)
    for spec, _ in CONTEXT_RESOURCES.values():
        assert inventory.EXPORTS in flows(spec.table), spec.table
    # Incidents leave as exports (individual records, or cells when shareable) and as tile layers.
    assert {inventory.EXPORTS, inventory.TILES, inventory.PANEL} <= set(flows("incidents"))


def test_the_cli_refuses_a_database_the_migrations_have_not_built(settings: Any, monkeypatch: Any) -> None:
    from app.cli import cli

    monkeypatch.setenv("CONTEXTMAP_DATABASE_URL", settings.database_url.rsplit("/", 1)[0] + "/postgres")
    result = CliRunner().invoke(cli, ["docs", "data-inventory", "--check"])
    assert result.exit_code == 2 and "not been migrated" in result.output
