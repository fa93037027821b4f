"""Hardening: cookies, CSRF, throttling, tokens, passwords, headers, body limits, error hygiene."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import text

from app.db import accounts
from app.dependencies import CSRF_HEADER, SESSION_COOKIE
from app.main import create_app
from app.security import csrf_token, hash_token
from tests.conftest import Org, count_rows, make_org, place_body, sign_in, unique


def _sign_in(client: TestClient, email: str, password: str) -> Any:
    return sign_in(client, email, password, next="/")


def test_html_pages_carry_a_content_security_policy_and_standard_headers(client: TestClient) -> None:
    response = client.get("/signin")
    assert response.status_code == 200
    csp = response.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "same-origin"
    assert response.headers["x-request-id"]


def test_session_cookie_is_httponly_samesite_and_secure_when_configured(settings: Any, database: Any) -> None:
    secure_app = create_app(settings.model_copy(update={"cookie_secure": True}))
    org = make_org(database, settings)
    with TestClient(secure_app, base_url="https://testserver") as secure_client:
        response = _sign_in(secure_client, f"community_safety@{org.slug}.test", "password-community_safety-123")
    assert response.status_code == 303
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "secure" in cookie


def test_cookie_authenticated_writes_need_the_csrf_token(settings: Any, database: Any, app: Any) -> None:
    org = make_org(database, settings)
    with TestClient(app) as browser:
        assert _sign_in(browser, f"youth_worker@{org.slug}.test", "password-youth_worker-123").status_code == 303
        session_token = browser.cookies[SESSION_COOKIE]
        before = count_rows(database, "places")
        refused = browser.post("/api/places", json=place_body())
        assert refused.status_code == 403 and refused.json()["field"] == CSRF_HEADER
        assert count_rows(database, "places") == before
        wrong = browser.post("/api/places", json=place_body(), headers={CSRF_HEADER: "0" * 64})
        assert wrong.status_code == 403
        accepted = browser.post("/api/places", json=place_body(),
                                headers={CSRF_HEADER: csrf_token(settings.secret_key, session_token)})
        assert accepted.status_code == 201, accepted.text
        # Reads need no CSRF token.
        assert browser.get("/api/places").status_code == 200


def test_sign_in_is_throttled_after_repeated_failures(settings: Any, database: Any, app: Any) -> None:
    org = make_org(database, settings)
    email = f"admin@{org.slug}.test"
    with TestClient(app) as browser:
        for _ in range(settings.sign_in_max_failures):
            assert _sign_in(browser, email, "wrong-password").status_code == 401
        # Even the right password is refused while the lock-out lasts.
        assert _sign_in(browser, email, "password-admin-123").status_code == 429


def test_sign_in_success_and_failure_are_audited(settings: Any, database: Any, app: Any) -> None:
    org = make_org(database, settings)
    with TestClient(app) as browser:
        _sign_in(browser, f"panel@{org.slug}.test", "nope")
        _sign_in(browser, f"panel@{org.slug}.test", "password-panel-123")
    with database.owner_session() as session:
        actions = session.execute(text(
            "SELECT action FROM audit_events WHERE organisation_id = :org AND resource = :res ORDER BY id"),
            {"org": org.id, "res": f"user:panel@{org.slug}.test"}).scalars().all()
    assert actions == ["signin.failure", "signin.success"]


def test_tokens_are_stored_hashed_and_passwords_with_argon2(database: Any, org: Org) -> None:
    token = org.tokens["admin"]
    with database.owner_session() as session:
        stored = session.execute(text("SELECT token_hash FROM api_tokens WHERE token_hash = :h"),
                                 {"h": hash_token(token)}).scalar()
        plaintext = session.execute(text("SELECT count(*) FROM api_tokens WHERE token_hash = :t"),
                                    {"t": token}).scalar()
        password_hash = session.execute(text("SELECT password_hash FROM users WHERE id = :id"),
                                        {"id": org.user_ids["admin"]}).scalar()
    assert stored == hash_token(token) and plaintext == 0
    assert password_hash.startswith("$argon2")


def test_expired_and_revoked_tokens_are_refused(client: TestClient, database: Any, org: Org) -> None:
    with database.owner_session() as session:
        expired = accounts.issue_token(session, org.id, org.user_ids["admin"], "api", timedelta(seconds=-1))
        doomed = accounts.issue_token(session, org.id, org.user_ids["admin"], "api", timedelta(days=1))
    assert client.get("/api/places", headers={"Authorization": f"Bearer {expired.token}"}).status_code == 401
    headers = {"Authorization": f"Bearer {doomed.token}"}
    assert client.get("/api/places", headers=headers).status_code == 200
    with database.owner_session() as session:
        assert accounts.revoke_tokens(session, token_id=doomed.token_id) == 1
    assert client.get("/api/places", headers=headers).status_code == 401


def test_a_session_cookie_value_is_not_an_api_token(settings: Any, database: Any, app: Any) -> None:
    org = make_org(database, settings)
    with TestClient(app) as browser:
        _sign_in(browser, f"admin@{org.slug}.test", "password-admin-123")
        session_token = browser.cookies[SESSION_COOKIE]
    with TestClient(app) as api:
        assert api.get("/api/places", headers={"Authorization": f"Bearer {session_token}"}).status_code == 401


def test_oversized_bodies_are_refused_and_nothing_is_written(client: TestClient, database: Any, org: Org) -> None:
    before = count_rows(database, "places")
    body = place_body(notes="x" * 300_000)
    response = client.post("/api/places", json=body, headers=org.headers("admin"))
    assert response.status_code == 413 and response.json()["field"] == "body"
    assert count_rows(database, "places") == before


def test_errors_never_carry_stack_traces_or_sql(settings: Any) -> None:
    broken = create_app(settings)

    @broken.get("/boom")
    def boom() -> None:
        raise RuntimeError("SELECT secret FROM incidents -- Traceback")

    with TestClient(broken, raise_server_exceptions=False) as c:
        response = c.get("/boom")
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "SELECT" not in response.text and "Traceback" not in response.text


def test_open_redirects_after_sign_in_are_refused(settings: Any, database: Any, app: Any) -> None:
    org = make_org(database, settings)
    with TestClient(app) as browser:
        response = sign_in(browser, f"admin@{org.slug}.test", "password-admin-123", next="//evil.example/")
    assert response.headers["location"] == "/"


def test_user_text_is_escaped_on_the_home_page(settings: Any, database: Any, app: Any) -> None:
    org = make_org(database, settings)
    evil = "<img src=x onerror=alert(1)>"
    with TestClient(app) as browser:
        _sign_in(browser, f"admin@{org.slug}.test", "password-admin-123")
        csrf = csrf_token(settings.secret_key, browser.cookies[SESSION_COOKIE])
        place = browser.post("/api/places", json=place_body(name=evil), headers={CSRF_HEADER: csrf}).json()
        designation = {"place_id": place["id"], "kind": "concern", "level": "high", "reason": unique("r"),
                       "valid_from": "2026-01-01T00:00:00Z", "review_by": "2026-02-01"}
        assert browser.post("/api/designations", json=designation, headers={CSRF_HEADER: csrf}).status_code == 201
        home = browser.get("/")
    assert evil not in home.text
    assert "&lt;img src=x onerror=alert(1)&gt;" in home.text
    assert "review overdue" in home.text.lower()


def test_the_sign_in_throttle_is_shared_by_every_worker(settings: Any, database: Any) -> None:
    # Two app instances stand for two worker processes: failures in either count towards one lock-out
    # (an in-process counter let each worker allow its own five guesses).
    from app.main import create_app

    org = make_org(database, settings)
    email = f"admin@{org.slug}.test"
    with TestClient(create_app(settings)) as first, TestClient(create_app(settings)) as second:
        for attempt in range(settings.sign_in_max_failures):
            worker = first if attempt % 2 else second
            assert _sign_in(worker, email, "wrong-password").status_code == 401
        assert _sign_in(first, email, "password-admin-123").status_code == 429
        assert _sign_in(second, email, "password-admin-123").status_code == 429
    with database.owner_session() as session:
        stored = session.execute(text("SELECT key_hash FROM sign_in_failures")).scalars().all()
    assert stored and not any(email in key for key in stored)  # keys are digests, not e-mails
