"""A remembered principal (app.dependencies.PrincipalCache) never outlives its credential: changes made by
another process (straight in the database here, as the CLI or another worker would) take effect at once."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from tests.conftest import make_org


def _change(database: Any, sql: str, **params: Any) -> None:
    with database.owner_session() as session:
        session.execute(text(sql), params)


def test_a_token_revoked_elsewhere_is_refused_on_the_next_request(client: Any, database: Any, settings: Any) -> None:
    org = make_org(database, settings)
    headers = org.headers("youth_worker")
    for _ in range(3):  # the first look-up is remembered, the next ones are checked in their transaction
        assert client.get("/api/places", headers=headers).status_code == 200
    _change(database, "UPDATE api_tokens SET revoked_at = now() WHERE user_id = :u", u=org.user_ids["youth_worker"])
    assert client.get("/api/places", headers=headers).status_code == 401
    assert client.get("/api/places", headers=headers).status_code == 401


def test_a_user_disabled_elsewhere_is_refused_on_the_next_request(client: Any, database: Any, settings: Any) -> None:
    org = make_org(database, settings)
    headers = org.headers("community_safety")
    assert client.get("/api/incidents", headers=headers).status_code == 200
    _change(database, "UPDATE users SET disabled_at = now() WHERE id = :u", u=org.user_ids["community_safety"])
    assert client.get("/api/incidents", headers=headers).status_code == 401


def test_a_role_changed_elsewhere_applies_on_the_next_request(client: Any, database: Any, settings: Any) -> None:
    org = make_org(database, settings)
    headers = org.headers("panel")
    assert client.get("/api/incidents", headers=headers).status_code == 403  # the panel reads no incidents
    # Raised by another process: refused once at most (401), then looked up afresh.
    _change(database, "UPDATE users SET role = 'community_safety' WHERE id = :u", u=org.user_ids["panel"])
    assert client.get("/api/incidents", headers=headers).status_code in (200, 401)
    assert client.get("/api/incidents", headers=headers).status_code == 200
    # Lowered: the check in the request's transaction refuses the old role once, then the new one applies.
    _change(database, "UPDATE users SET role = 'panel' WHERE id = :u", u=org.user_ids["panel"])
    assert client.get("/api/incidents", headers=headers).status_code in (401, 403)
    assert client.get("/api/incidents", headers=headers).status_code == 403
    assert client.get("/api/places", headers=headers).status_code == 200
