"""The shared sign-in throttle's table (``sign_in_failures``): every worker process counts the same failures.

Keys arrive already digested (SHA-256), so no e-mail address is stored here.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session


def recent_failures(session: Session, key_hash: str, window_seconds: int) -> int | None:
    """Failures for the key within the window, or None when there are none."""
    value = session.execute(
        text("SELECT failures FROM sign_in_failures WHERE key_hash = :k "
             "AND last_failed_at > now() - make_interval(secs => :w)"),
        {"k": key_hash, "w": window_seconds},
    ).scalar()
    return None if value is None else int(value)


def count_failure(session: Session, key_hash: str, window_seconds: int) -> None:
    # One statement: concurrent failures from several workers each count (no lost update).
    session.execute(
        text("""
            INSERT INTO sign_in_failures AS f (key_hash, failures) VALUES (:k, 1)
            ON CONFLICT (key_hash) DO UPDATE SET
                failures = CASE WHEN f.last_failed_at > now() - make_interval(secs => :w)
                                THEN f.failures + 1 ELSE 1 END,
                last_failed_at = now()"""),
        {"k": key_hash, "w": window_seconds},
    )
    # Forget keys whose window has long passed, so the table stays as small as the attack.
    session.execute(text("DELETE FROM sign_in_failures WHERE last_failed_at < now() - make_interval(secs => :w)"),
                    {"w": 2 * window_seconds})


def forget(session: Session, key_hash: str) -> None:
    session.execute(text("DELETE FROM sign_in_failures WHERE key_hash = :k"), {"k": key_hash})
