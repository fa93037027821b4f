"""The safe-space finder on the desktop safe-spaces map (issue 15): the same finder as ``/safe-spaces/find``
(:mod:`app.web.finder`: where, the young person's age; its matching, validation and result wording) over the
same service as ``/api/safe-spaces/nearest`` (:mod:`app.services.safe_space_finder`), answered at the map's
time (``at``). The map shows the starting point and a straight line to each result; the results are listed
beside the map."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.dependencies import Principal, SessionDep
from app.services.disclosure import Disclosure
from app.settings import Settings
from app.web.finder import FinderQuery, find, start
from app.web.forms import FormErrors

FIELD_ORDER = ["where", "lon", "age"]


def map_finder(
    session: SessionDep, settings: Settings, principal: Principal, disclosure: Disclosure, *, where: str, lon: str,
    lat: str, age: str, at: datetime,
) -> dict[str, Any]:
    """The finder's answer for the map page: ``query``, ``errors`` and, when asked and valid, the results."""
    query = FinderQuery(where.strip(), lon.strip(), lat.strip(), age.strip(), "later", "", "")
    errors = FormErrors()
    answer: dict[str, Any] = {"query": query, "errors": errors, "results": None, "error_summary": None}
    if not query.asked:
        return answer
    begin = start(session, settings, principal, query, errors)
    if errors or begin.origin is None:
        answer["error_summary"] = errors.summary(FIELD_ORDER)
        return answer
    found = find(session, settings, principal, disclosure, begin.origin, at, begin.age)
    answer.update(
        results=found.results, origin=begin.origin, origin_label=begin.label, alternatives=begin.alternatives,
        left_out=found.left_out, advice=found.advice, threshold=settings.walk_threshold_minutes,
        method_note=found.method_note,
    )
    return answer
