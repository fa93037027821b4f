"""The safe-space finder on the desktop safe-spaces map (issue 15): the same finder as ``/safe-spaces/find``
(:mod:`app.web.finder`: where, the young person's age; its matching, validation and result wording) and the
same service behind ``/api/safe-spaces/nearest``, answered at the map's time (``at``). The map shows the
starting point and a straight line to each result; the results are listed beside the map."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from app.api.safe_spaces import _check_point, _method_note, _nearest
from app.db import finder_places
from app.dependencies import Principal, SessionDep
from app.errors import InvalidInput
from app.services.disclosure import Disclosure
from app.settings import Settings
from app.web.finder import REASONS, RESULT_LIMIT, FinderQuery, _age, _origin, _result
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
    young_age = _age(query, errors)
    origin, origin_label, alternatives = _origin(session, principal, query, errors)
    if origin is not None and not errors:
        try:
            _check_point(session, settings, origin[0], origin[1])
        except InvalidInput as exc:
            errors.add("where" if query.where and not query.lon else "lon", str(exc).split(": ", 1)[-1])
    if errors or origin is None:
        answer["error_summary"] = errors.summary(FIELD_ORDER)
        return answer
    properties, nearest = _nearest(session, settings, principal, disclosure, origin[0], origin[1], at, young_age,
                                  RESULT_LIMIT)
    results = [_result(p, json.loads(item["geometry"]), at)
               for p, item in zip(properties, nearest.results, strict=True)]
    names = finder_places.place_names(session, [pid for pid, _ in nearest.passed_over])
    within = any(r["within_threshold"] for r in results)
    answer.update(
        results=results, origin=origin, origin_label=origin_label, alternatives=alternatives,
        left_out=[{"name": names.get(pid, "A safe space"), "reason": REASONS[reason]}
                  for pid, reason in nearest.passed_over],
        advice=None if within else settings.fallback_advice, threshold=settings.walk_threshold_minutes,
        method_note=_method_note(nearest.distance_method, nearest.network_loaded, settings),
    )
    return answer
