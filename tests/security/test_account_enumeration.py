"""Sign-in and user creation do not tell who has an account (issue 10, Low).

Sign-in answered an unknown e-mail about 200 ms sooner than a known one (no argon2 work); now a dummy hash
is verified instead. Nothing here is timed: the test counts the argon2 verifications each path runs.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from app import security
from tests.conftest import assert_problem, make_org, sign_in


class CountingHasher:
    def __init__(self, hasher: Any):
        self.hasher = hasher
        self.verifications = 0

    def verify(self, password_hash: str, password: str) -> bool:
        self.verifications += 1
        return bool(self.hasher.verify(password_hash, password))

    def hash(self, password: str) -> str:
        return str(self.hasher.hash(password))


@pytest.fixture()
def counting(monkeypatch: pytest.MonkeyPatch) -> CountingHasher:
    counter = CountingHasher(security._hasher)
    monkeypatch.setattr(security, "_hasher", counter)
    return counter


def test_unknown_and_known_e_mails_cost_the_same_argon2_work(app: Any, database: Any, settings: Any,
                                                             counting: CountingHasher) -> None:
    org = make_org(database, settings)
    with TestClient(app) as browser:
        for email in (f"admin@{org.slug}.test", f"nobody@{org.slug}.test"):
            before = counting.verifications
            response = sign_in(browser, email, "wrong-password-123", next="/")
            assert response.status_code == 401
            assert counting.verifications - before == 1, email


def test_creating_a_user_does_not_confirm_an_e_mail_of_another_organisation(client: Any, database: Any,
                                                                            settings: Any) -> None:
    org, other = make_org(database, settings), make_org(database, settings)
    theirs = f"panel@{other.slug}.test"
    response = client.post("/api/users", json={"email": theirs, "role": "panel"}, headers=org.headers("admin"))
    body = assert_problem(response, 409, "email")
    assert theirs not in response.text and other.slug not in response.text and "exists" not in body["detail"]
    ours = client.post("/api/users", json={"email": f"panel@{org.slug}.test", "role": "panel"},
                       headers=org.headers("admin"))
    assert "already exists in your organisation" in assert_problem(ours, 409, "email")["detail"]
