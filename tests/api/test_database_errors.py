"""A statement the database refuses as written is a programming error (500), not an outage (503).

Issue 19: on Citus a tenant join without the organisation failed with ``FeatureNotSupported`` and the API
said "Database unavailable … try again shortly" (503 with Retry-After), which sends clients into retries of
a request that can never succeed. The outage answers (server down, restarted, lock wait, time limit) are
tested in tests/reliability/test_faults.py and stay 503.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from app.dependencies import SessionDep
from app.main import create_app

# Real refusals from PostgreSQL (no stand-ins): 0A000 feature_not_supported, 42703 undefined_column,
# 42501 insufficient_privilege (the service role may not update audit rows, migration 0007).
REFUSED = {
    "feature-not-supported": "SELECT count(*) FROM places FOR UPDATE",
    "undefined-column": "SELECT no_such_column FROM places",
    "insufficient-privilege": "UPDATE audit_events SET action = action WHERE false",
}


@pytest.mark.parametrize("kind", sorted(REFUSED))
def test_a_refused_statement_is_a_500_problem_without_retry_after(settings: Any, org: Any, kind: str) -> None:
    app = create_app(settings)

    @app.get("/api/refused", include_in_schema=False)
    def refused(session: SessionDep) -> None:
        session.execute(text(REFUSED[kind]))

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/api/refused", headers=org.headers("admin"))
    assert response.status_code == 500, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "retry-after" not in response.headers
    body = response.json()
    assert body["status"] == 500 and body["title"] == "Internal server error"
    assert "places" not in response.text and "SELECT" not in response.text  # no SQL to the client
