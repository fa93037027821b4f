"""Credentials: API/session tokens (stored as SHA-256 hashes), argon2 passwords, CSRF, throttling."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from app.db import sign_in_failures

if TYPE_CHECKING:
    from app.db.session import Database


@dataclass(frozen=True)
class Principal:
    """Who is asking: the signed-in user, their organisation and role (no HTTP in here)."""

    user_id: int
    organisation_id: int
    role: str
    email: str
    via: str  # "token" or "cookie"
    # The organisation's own disclosure thresholds (0012), None for the deployment's; read with the token so
    # that a request's Disclosure needs no other query (app.services.disclosure.rule_for).
    suppress_max: int | None = None
    round_to: int | None = None

    @property
    def is_panel(self) -> bool:
        return self.role == "panel"


TOKEN_PREFIX = "cm_"  # noqa: S105 - a public prefix, not a secret
_hasher = PasswordHasher()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    # Tokens carry 256 bits of entropy, so a fast hash is enough (unlike passwords).
    return hashlib.sha256(token.encode()).hexdigest()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher.hash(secrets.token_urlsafe(32))


def verify_password(password_hash: str | None, password: str) -> bool:
    """Check a password; with no hash (unknown e-mail, or no password set) check it against a dummy hash.

    An argon2 verification takes tens of milliseconds, so answering at once for an unknown e-mail told an
    outside tester which addresses have accounts (about 255 ms against 57 ms). The same work either way
    closes that timing channel (OWASP Authentication Cheat Sheet, "Authentication and Error Messages").
    """
    try:
        if not password_hash:
            _hasher.verify(_dummy_hash(), password)
            return False
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def csrf_token(secret_key: str, session_token: str) -> str:
    """The CSRF token is bound to the session (synchroniser token derived by HMAC, OWASP)."""
    return hmac.new(secret_key.encode(), b"csrf:" + session_token.encode(), hashlib.sha256).hexdigest()


def csrf_matches(secret_key: str, session_token: str, presented: str | None) -> bool:
    return bool(presented) and hmac.compare_digest(csrf_token(secret_key, session_token), presented or "")


class SignInThrottle:
    """Refuse sign-in for a key (e-mail and client address) after repeated failures in a window.

    Kept in PostgreSQL (table ``sign_in_failures``), so every worker process and every host behind a load
    balancer counts the same failures: an in-process counter let each of N workers allow its own N-th of
    the guesses. Keys are stored as SHA-256 digests. The window restarts after ``window_seconds`` without
    a failure; a success clears the key.
    """

    def __init__(self, database: Database, max_failures: int, window_seconds: int):
        self.database = database
        self.max_failures = max_failures
        self.window = window_seconds

    @staticmethod
    def _digest(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    def blocked(self, key: str) -> bool:
        with self.database.tenant_session(None) as session, session.begin():
            failures = sign_in_failures.recent_failures(session, self._digest(key), self.window)
        return failures is not None and failures >= self.max_failures

    def failed(self, key: str) -> None:
        with self.database.tenant_session(None) as session, session.begin():
            sign_in_failures.count_failure(session, self._digest(key), self.window)

    def succeeded(self, key: str) -> None:
        with self.database.tenant_session(None) as session, session.begin():
            sign_in_failures.forget(session, self._digest(key))
