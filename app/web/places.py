"""Places: the list practitioners search, and the place page, the hub of Level 2 work (issue 13).

Reads go through the repositories the JSON API uses (app.db.repository with its resource specs), with the
same redaction for the panel (no free text) and the same disclosure rule for harm counts
(app.services.disclosure). Forms live in app.web.place_forms.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from app import policy
from app.db import place_pages, repository
from app.db.assessments import ASSESSMENTS
from app.db.repository import ListQuery
from app.db.resources import DESIGNATIONS, GUARDIANS, INTERVENTIONS, PLACES
from app.dependencies import Principal, ReaderDisclosure, SessionDep, SettingsDep, gate
from app.services.disclosure import Disclosure
from app.services.place_analysis import place_timeline
from app.services.safety_area import place_feeling, threshold
from app.web import paging
from app.web.charts import monthly_chart
from app.web.hours import hours_in_words
from app.web.maps.background import small_map
from app.web.paging import list_url
from app.web.shell import page
from geo.calendar import add_months
from geo.vocabulary import PLACE_KINDS

router = APIRouter(tags=["web"], include_in_schema=False)

PAGE_SIZE = 20
HISTORY_LIMIT = 500  # designations, guardians, interventions, assessments shown on one place page
HARM_RADIUS_M = 100.0  # the place timeline's default radius in the JSON API
# Interventions "around" a place: a few minutes' walk, where displacement from (or diffusion of benefits to)
# a nearby intervention would show first (the displacement analysis' default buffer is of the same order).
AROUND_M = 400.0
SORT_LABELS = {"name": "Name", "kind": "Kind", "review": "Review by", "updated": "Last changed"}
DESIGNATION_FILTERS = {"": "Any", "concern": "Place of concern", "safe_space": "Safe space", "none": "Neither"}


def _list_url(params: dict[str, Any], **changes: Any) -> str:
    return list_url("/places", params, **changes)


@router.get("/places", response_class=HTMLResponse)
def places_list(
    request: Request, session: SessionDep, settings: SettingsDep,
    q: Annotated[str | None, Query(max_length=200)] = None,
    kind: Annotated[list[str] | None, Query()] = None,
    designation: Annotated[str | None, Query(pattern="^(|concern|safe_space|none)$")] = None,
    review_overdue: bool = False, has_guardians: bool = False,
    sort: Annotated[str, Query(pattern="^(name|kind|review|updated)$")] = "name",
    order: Annotated[str, Query(pattern="^(asc|desc)$")] = "asc",
    page_number: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
    principal: Principal = gate(policy.READ_CONTEXT),
    *, disclosure: ReaderDisclosure,
) -> HTMLResponse:
    kinds = tuple(k for k in (kind or []) if k in PLACE_KINDS)
    search = place_pages.PlaceSearch(
        text=(q or "").strip() or None, kinds=kinds, designation=designation or None,
        review_overdue=review_overdue, has_guardians=has_guardians, sort=sort, descending=order == "desc",
        limit=PAGE_SIZE, offset=(page_number - 1) * PAGE_SIZE)
    rows, total = place_pages.search_places(session, search)
    rows = [disclosure.redact(r) for r in rows]  # a panel sees no address (free text), as on the place page
    params = {"q": q or "", "kind": list(kinds), "designation": designation or "",
              "review_overdue": "true" if review_overdue else "", "has_guardians": "true" if has_guardians else "",
              "sort": sort if sort != "name" else "", "order": order if order != "asc" else ""}
    pages = paging.page_count(total, PAGE_SIZE)
    columns = [{"key": key, "label": label, "current": key == sort,
                "order": ("descending" if order == "desc" else "ascending") if key == sort else "none",
                "href": _list_url(params, sort=key, order="desc" if key == sort and order == "asc" else "",
                                  page="")}
               for key, label in SORT_LABELS.items()]
    pagination = paging.pagination(lambda n: _list_url(params, page=n), page_number, pages)
    markers = [{"name": r["name"], "lat": r["lat"], "lon": r["lon"], "href": f"/places/{r['id']}",
                "designation": r["designations"][0] if r["designations"] else ""} for r in rows]
    return page(
        request, "places/list.html", principal=principal, session=session, title="Places",
        breadcrumbs=[("Home", "/")], rows=rows, total=total, page_number=page_number, pages=pages,
        q=q or "", kinds=kinds, designation=designation or "", review_overdue=review_overdue,
        has_guardians=has_guardians, columns=columns, order=order, pagination=pagination, place_kinds=PLACE_KINDS,
        designation_filters=DESIGNATION_FILTERS, markers=json.dumps(markers), map=small_map(session, settings),
        may_add=policy.WRITE_SAFE_SPACES.allows(principal.role),
    )


def _features(session: SessionDep, spec: Any, place_id: int, disclosure: Disclosure) -> list[dict[str, Any]]:
    found, _ = repository.list_features(session, spec, ListQuery(equals={"place_id": [place_id]},
                                                                 limit=HISTORY_LIMIT))
    return [disclosure.redact_feature(f) for f in found]


@router.get("/places/{place_id}", response_class=HTMLResponse)
def place_page(
    place_id: int, request: Request, session: SessionDep, settings: SettingsDep, disclosure: ReaderDisclosure,
    principal: Principal = gate(policy.READ_CONTEXT),
) -> HTMLResponse:
    place = disclosure.redact_feature(repository.get_feature(session, PLACES, place_id))
    props = place["properties"]
    designations = _features(session, DESIGNATIONS, place_id, disclosure)
    guardians = _features(session, GUARDIANS, place_id, disclosure)
    interventions = _features(session, INTERVENTIONS, place_id, disclosure)
    assessments = _features(session, ASSESSMENTS, place_id, disclosure)
    around = [disclosure.redact_feature({"properties": r})["properties"]
              for r in place_pages.interventions_around(session, place_id, AROUND_M, settings.analysis_srid)]
    # Harm over time: the JSON API's place timeline, disclosure-controlled for the panel (same rule, same code).
    timeline = place_timeline(session, principal, disclosure, place_id, period=None, radius=HARM_RADIUS_M)
    point = place_pages.place_point(session, place_id)
    now = datetime.now(UTC)
    this_month = now.date().replace(day=1)
    # The last 12 months for staff; for a panel one whole quarter that has ended (Disclosure.map_quarter).
    feeling_months = disclosure.map_quarter(add_months(this_month, -11), this_month, now.date())
    feeling = place_feeling(session, settings, disclosure, place_id, *feeling_months)
    return page(
        request, "places/place.html", principal=principal, session=session, title=props["name"],
        breadcrumbs=[("Home", "/"), ("Places", "/places")], place=place, props=props,
        current=[d for d in designations if d["properties"]["current"]],
        history=list(reversed(designations)), guardians=guardians, interventions=interventions,
        around=around, around_m=AROUND_M,
        guardian_hours={g["id"]: hours_in_words(g["properties"].get("hours"), now) for g in guardians},
        assessments=list(reversed(assessments)), hours=hours_in_words(props.get("opening_hours"), now),
        months=timeline["months"], total=timeline["total"], disclosure=timeline["disclosure"],
        chart=monthly_chart(timeline["months"], disclosure.rule.suppress_max), radius=HARM_RADIUS_M,
        markers=json.dumps([{"name": props["name"], "lat": point[1], "lon": point[0], "href": f"/places/{place_id}",
                             "designation": ""}] if point else []), map=small_map(session, settings),
        may_edit=policy.WRITE_SAFE_SPACES.allows(principal.role),
        may_flag=policy.FLAG_CONCERN.allows(principal.role),
        may_add_intervention=policy.WRITE_INTERVENTIONS.allows(principal.role),
        feeling=feeling, feeling_threshold=threshold(disclosure), feeling_months=feeling_months,
    )
