"""Heavy analyses' answers reused while their data are unchanged (issue 11).

An answer is kept per process under a key made of everything it depends on:

* who may see it: the organisation, the reader's role and the disclosure applied (controlled or not, the
  thresholds, shareable) — so one organisation's or role's answer is never another's;
* what was asked: the analysis and its parameters as the service resolved them (snapped grid and period
  for a controlled reader, windows observed up to now for displacement);
* the data: :func:`app.db.data_versions.version_key`, read in the request's own transaction. Every write
  to the organisation's incidents (in the months the period covers), places, interventions or the
  organisation itself bumps a version in the writer's transaction, so an answer is never reused after a
  write that could change it, from any process.

Audit records are written by the callers on every request, reused answer or not. The cache is bounded
(``analysis_cache_mb`` per process, least recently used first out); 0 turns it off, and so does a database
without the version triggers (Citus). Callers get a deep copy, so nothing they change reaches the cache.
"""

from __future__ import annotations

import copy
import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from app.db import data_versions
from app.security import Principal
from app.services.disclosure import Disclosure

T = TypeVar("T")


class AnswerCache:
    """Least-recently-used answers, bounded by their estimated size in bytes; thread-safe."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self._entries: OrderedDict[tuple[Any, ...], tuple[Any, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: tuple[Any, ...]) -> Any | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return entry[0]

    def put(self, key: tuple[Any, ...], value: Any, size: int) -> None:
        if size > self.max_bytes // 4:  # one answer may not push out everything else
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            self._entries[key] = (value, size)
            self._bytes += size
            while self._bytes > self.max_bytes and self._entries:
                _, (_, dropped) = self._entries.popitem(last=False)
                self._bytes -= dropped

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0


_cache = AnswerCache(64 * 2**20)


def configure(megabytes: float) -> None:
    """Set this process's budget (``analysis_cache_mb``; 0: off); forgets what was kept."""
    global _cache
    _cache = AnswerCache(int(megabytes * 2**20))


def cache() -> AnswerCache:
    return _cache


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=lambda v: v.isoformat() if isinstance(v, datetime) else repr(v))


def reuse(
    session: Session, principal: Principal | None, disclosure: Disclosure, analysis: str, parameters: Any,
    period: tuple[datetime | None, datetime | None], compute: Callable[[], T], size: Callable[[T], int],
) -> T:
    """``compute()``'s answer, or the one kept for the same reader, question and data.

    ``period``: the ``occurred_from`` range of the incidents the answer reads (None: open); ``parameters``:
    everything else it depends on, JSON-serialisable (datetimes as ISO text)."""
    store = _cache
    if store.max_bytes <= 0 or not data_versions.kept(session):
        return compute()
    version = data_versions.version_key(session, *period)
    if version is None:
        return compute()
    organisation = principal.organisation_id if principal is not None else session.info.get("organisation_id")
    key = (analysis, organisation, principal.role if principal is not None else None, disclosure.applied,
           disclosure.rule.suppress_max, disclosure.rule.round_to, disclosure.shareable, _canonical(parameters),
           version)
    kept = store.get(key)
    if kept is not None:
        return copy.deepcopy(kept)
    answer = compute()
    store.put(key, copy.deepcopy(answer), size(answer))
    return answer
