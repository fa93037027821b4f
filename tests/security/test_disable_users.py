"""Disabling a user (issue 10, Medium): revoking tokens did not stop a password sign-in, and there was no
way to disable a user. A disabled user's sessions and tokens stop at once and they cannot sign in."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import text
from typer.testing import CliRunner

from app.cli import cli
from app.dependencies import SESSION_COOKIE
from tests.conftest import assert_problem, make_org, sign_in


def _sign_in(browser: TestClient, email: str, password: str) -> Any:
    return sign_in(browser, email, password, next="/")


def test_an_admin_disables_and_enables_a_user(app: Any, client: TestClient, database: Any, settings: Any) -> None:
    org = make_org(database, settings)
    worker = org.user_ids["youth_worker"]
    email, password = f"youth_worker@{org.slug}.test", "password-youth_worker-123"
    with TestClient(app) as browser:
        assert _sign_in(browser, email, password).status_code == 303
        assert browser.get("/api/places").status_code == 200
        assert client.get("/api/places", headers=org.headers("youth_worker")).status_code == 200

        disabled = client.post(f"/api/users/{worker}/disable", headers=org.headers("admin"))
        assert disabled.status_code == 200, disabled.text
        assert disabled.json()["disabled_at"] is not None
        # At once: the open browser session, the API token and the password all stop working.
        assert browser.get("/api/places").status_code == 401
        assert client.get("/api/places", headers=org.headers("youth_worker")).status_code == 401
        assert _sign_in(browser, email, password).status_code == 401
        assert SESSION_COOKIE not in _sign_in(browser, email, password).headers.get("set-cookie", "")

        listed = {u["id"]: u for u in client.get("/api/users", headers=org.headers("admin")).json()}
        assert listed[worker]["disabled_at"] is not None

        enabled = client.post(f"/api/users/{worker}/enable", headers=org.headers("admin"))
        assert enabled.status_code == 200 and enabled.json()["disabled_at"] is None
        assert client.get("/api/places", headers=org.headers("youth_worker")).status_code == 200
        assert _sign_in(browser, email, password).status_code == 303
    with database.owner_session() as session:
        actions = session.execute(text(
            "SELECT action FROM audit_events WHERE organisation_id = :o AND resource = :r ORDER BY id"),
            {"o": org.id, "r": f"user:{worker}"}).scalars().all()
    assert actions == ["user.disable", "user.enable"]


def test_an_admin_cannot_disable_themself_or_another_organisations_user(client: TestClient, database: Any,
                                                                       settings: Any) -> None:
    org, other = make_org(database, settings), make_org(database, settings)
    assert_problem(client.post(f"/api/users/{org.user_ids['admin']}/disable", headers=org.headers("admin")),
                   422, "user_id")
    assert_problem(client.post(f"/api/users/{other.user_ids['panel']}/disable", headers=org.headers("admin")),
                   404, "user_id")
    assert client.get("/api/places", headers=other.headers("panel")).status_code == 200


def test_the_cli_disables_and_enables_by_email(client: TestClient, database: Any, settings: Any,
                                               monkeypatch: Any) -> None:
    org = make_org(database, settings)
    monkeypatch.setenv("CONTEXTMAP_DATABASE_URL", settings.database_url)
    runner = CliRunner()
    email = f"PANEL@{org.slug}.test"
    done = runner.invoke(cli, ["users", "disable", "--email", email])
    assert done.exit_code == 0, done.output
    assert client.get("/api/places", headers=org.headers("panel")).status_code == 401
    assert runner.invoke(cli, ["users", "enable", "--email", email]).exit_code == 0
    assert client.get("/api/places", headers=org.headers("panel")).status_code == 200
    unknown = runner.invoke(cli, ["users", "disable", "--email", "nobody@nowhere.test"])
    assert unknown.exit_code == 2
