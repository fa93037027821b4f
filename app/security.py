"""Credentials: API/session tokens (stored as SHA-256 hashes), argon2 passwords, CSRF, throttling."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError


@dataclass(frozen=True)
class Principal:
    """Who is asking: the signed-in user, their organisation and role (no HTTP in here)."""

    user_id: int
    organisation_id: int
    role: str
    email: str
    via: str  # "token" or "cookie"

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

    In-process: a deployment running several workers throttles per worker, which still bounds guessing.
    """

    def __init__(self, max_failures: int, window_seconds: int):
        self.max_failures = max_failures
        self.window = window_seconds
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _prune(self, key: str, now: float) -> deque[float]:
        failures = self._failures[key]
        while failures and now - failures[0] > self.window:
            failures.popleft()
        return failures

    def blocked(self, key: str) -> bool:
        with self._lock:
            return len(self._prune(key, time.monotonic())) >= self.max_failures

    def failed(self, key: str) -> None:
        with self._lock:
            now = time.monotonic()
            self._prune(key, now).append(now)

    def succeeded(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)
