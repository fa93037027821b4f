"""The ``contextmap`` console script, run for real against the test database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from tests.conftest import incident_body, point, unique

CONTEXTMAP = Path(sys.executable).parent / "contextmap"


def contextmap(settings: Any, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CONTEXTMAP_DATABASE_URL": settings.database_url, "COLUMNS": "200", "NO_COLOR": "1"}
    return subprocess.run([str(CONTEXTMAP), *args], env=env, capture_output=True, text=True, timeout=120,
                          check=False)


def one_line(output: str) -> str:
    return " ".join(output.split())


def slug() -> str:
    return unique("cli-").lower()


def users_with_email(database: Any, email: str) -> int:
    with database.owner_session() as session:
        return int(session.execute(text("SELECT count(*) FROM users WHERE lower(email) = lower(:e)"),
                                   {"e": email}).scalar_one())


@pytest.fixture(scope="module")
def cli_org(settings: Any) -> str:
    name = slug()
    result = contextmap(settings, "orgs", "add", name, "--name", "Wellgate Borough Council")
    assert result.returncode == 0, result.stderr
    assert f"organisation {name} created" in result.stdout
    return name


@pytest.fixture(scope="module")
def officer(settings: Any, cli_org: str) -> tuple[str, str]:
    """A community-safety officer added by the CLI: (e-mail, API token)."""
    email = f"{unique('officer')}@wellgate.test"
    return email, add_user(settings, cli_org, "community_safety", email)


def add_user(settings: Any, org_slug: str, role: str, email: str) -> str:
    result = contextmap(settings, "users", "add", "--org", org_slug, "--role", role, "--email", email)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_the_console_script_is_installed():
    assert CONTEXTMAP.exists()


def test_an_organisation_slug_is_unique(settings, cli_org):
    again = contextmap(settings, "orgs", "add", cli_org, "--name", "Another council")
    assert again.returncode != 0
    assert "already exists" in one_line(again.stderr)


def test_an_invalid_slug_is_refused(settings):
    result = contextmap(settings, "orgs", "add", "Not A Slug!", "--name", "Council")
    assert result.returncode != 0
    assert "lower-case letters, digits and hyphens" in one_line(result.stderr)


def test_users_add_prints_a_working_token_last(client, officer):
    _, token = officer
    assert token.startswith("cm_")
    response = client.get("/api/places", headers=bearer(token))
    assert response.status_code == 200
    # A new organisation starts empty: it sees nobody else's places.
    assert response.json()["features"] == []
    created = client.post("/api/places", headers=bearer(token), json={
        "type": "Feature", "geometry": point(-1.2, 52.9),
        "properties": {"name": "Marsh Lane Community Centre", "kind": "community_centre"}})
    assert created.status_code == 201


def test_the_token_carries_the_role(client, settings, cli_org):
    token = add_user(settings, cli_org, "panel", f"{unique('panel')}@wellgate.test")
    assert client.get("/api/places", headers=bearer(token)).status_code == 200
    assert client.get("/api/incidents", headers=bearer(token)).status_code == 403


def test_an_unknown_role_is_refused_with_a_clear_message(settings, database, cli_org):
    email = f"{unique('wizard')}@wellgate.test"
    result = contextmap(settings, "users", "add", "--org", cli_org, "--role", "wizard", "--email", email)
    assert result.returncode != 0
    message = one_line(result.stderr)
    assert "unknown role 'wizard'" in message
    assert "admin, community_safety, youth_worker, panel" in message
    assert "cm_" not in result.stdout
    assert users_with_email(database, email) == 0


def test_an_unknown_organisation_is_refused(settings, database):
    email = f"{unique('lost')}@nowhere.test"
    result = contextmap(settings, "users", "add", "--org", slug(), "--role", "admin", "--email", email)
    assert result.returncode != 0
    assert "no organisation" in one_line(result.stderr)
    assert users_with_email(database, email) == 0


def test_a_duplicate_email_is_refused(settings, cli_org, officer):
    email, _ = officer
    again = contextmap(settings, "users", "add", "--org", cli_org, "--role", "admin", "--email", email.upper())
    assert again.returncode != 0
    assert "already exists" in one_line(again.stderr)


def test_revoking_a_user_stops_their_token(client, settings, cli_org):
    email = f"{unique('leaver')}@wellgate.test"
    token = add_user(settings, cli_org, "youth_worker", email)
    assert client.get("/api/places", headers=bearer(token)).status_code == 200
    result = contextmap(settings, "users", "revoke", "--email", email)
    assert result.returncode == 0, result.stderr
    assert "revoked 1 token(s)" in result.stdout
    refused = client.get("/api/places", headers=bearer(token))
    assert refused.status_code == 401
    assert refused.headers["content-type"].startswith("application/problem+json")


def test_revoking_an_unknown_user_is_an_error(settings):
    result = contextmap(settings, "users", "revoke", "--email", f"{unique('nobody')}@wellgate.test")
    assert result.returncode != 0
    assert "no user with e-mail" in one_line(result.stderr)


def test_retention_dry_run_reports_and_keeps_everything(client, settings, cli_org, officer):
    _, token = officer
    old = client.post("/api/incidents", headers=bearer(token), json=incident_body(
        geometry=point(-1.2, 52.9), occurred_from="2015-06-01T16:00:00Z"))
    assert old.status_code == 201, old.text
    recent = client.post("/api/incidents", headers=bearer(token), json=incident_body(geometry=point(-1.2, 52.9)))
    assert recent.status_code == 201

    result = contextmap(settings, "retention", "apply", "--dry-run")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert f"{cli_org}: 1 incident(s) would be archived" in lines
    assert lines[-1].startswith("total: ")
    assert "would be archived" in lines[-1]
    # A dry run changes nothing.
    assert client.get(f"/api/incidents/{old.json()['id']}", headers=bearer(token)).status_code == 200


def test_up_says_the_database_is_ready_once(settings: Any, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """``contextmap up`` against the real test database, with the demo load and the server left out: the
    database's URL is printed once (``db ensure`` prints it again on standard output, for scripts)."""
    from app import cli

    monkeypatch.setenv("CONTEXTMAP_DATABASE_URL", settings.database_url)
    monkeypatch.setattr(cli, "demo_command", lambda **_: None)
    monkeypatch.setattr(cli, "serve", lambda **_: None)
    cli.up(host="127.0.0.1", port=8765)
    captured = capsys.readouterr()
    database = settings.database_url.rsplit("/", 1)[1]
    assert (captured.out + captured.err).count(database) == 1, captured
    assert "database ready (environment)" in captured.err
    cli.db_ensure(name=None, recreate=False, no_migrate=True)
    assert capsys.readouterr().out.strip() == settings.database_url  # the script's line, unchanged
