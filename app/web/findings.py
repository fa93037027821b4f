"""An intervention's findings in plain English, and the glossary of their terms (issue 17).

The figures come from the displacement service the JSON API and the displacement map use
(:func:`app.services.displacement.displacement_analysis`), disclosure-controlled for the panel by the same
:class:`~app.services.disclosure.Disclosure`: no second pipeline. The sentences come from
:mod:`geo.findings`, which never claims more than an interval supports.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from app import policy
from app.db import analysis as analysis_db
from app.db import maps as maps_db
from app.db import place_pages, repository
from app.db.resources import INTERVENTIONS
from app.dependencies import Principal, ReaderDisclosure, SessionDep, SettingsDep, gate
from app.exceptions import InvalidInput
from app.services.displacement import COMPARISON, intervention_comparison
from app.services.geometry import validated_geometry
from app.services.monthly import MAX_MONTHS, MONTHS_EACH_SIDE, month_by_month
from app.services.packs import (
    control_description,
    intervention_findings,
    intervention_heading,
    places_in_buffer,
)
from app.web.forms import FormErrors
from app.web.maps.background import small_map
from app.web.monthly import HATCH_DEFS, NARROW_WIDTH, series_chart, small_maps
from app.web.shell import page

router = APIRouter(tags=["web"], include_in_schema=False)
MAX_CONTROL_AREA_CHARS = 20_000  # a drawn area of a few hundred points; more is refused naming the field
MAX_CONTROL_CHOICES = 500  # places offered as a control: the organisation's places, by name


def parse_control_place(value: str | None) -> int | None:
    """The control chosen on a form: empty or "service-area" is the default (the rest of the service area),
    else a place id."""
    if value is None or value.strip() in ("", "service-area"):
        return None
    try:
        chosen = int(value)
    except ValueError:
        raise InvalidInput("control_place: choose a place from the list, or the rest of the service area",
                           field="control_place") from None
    if not 1 <= chosen < 2**63:
        raise InvalidInput("control_place: choose a place from the list, or the rest of the service area",
                           field="control_place")
    return chosen


def parse_control_area(session: Any, settings: Any, value: str | None) -> dict[str, Any] | None:
    """A drawn or pasted control area (GeoJSON Polygon or MultiPolygon, a Feature, or a collection of one),
    checked like every geometry a client sends (type, range, validity, service area, complexity)."""
    if value is None or not value.strip():
        return None
    if len(value) > MAX_CONTROL_AREA_CHARS:
        raise InvalidInput(f"control_area: the area is too detailed (at most {MAX_CONTROL_AREA_CHARS:,} "
                           "characters of GeoJSON); draw it with fewer points", field="control_area")
    try:
        found = json.loads(value)
    except ValueError:
        raise InvalidInput('control_area: the area must be GeoJSON, like {"type": "Polygon", "coordinates": '
                           "[...]}", field="control_area") from None
    if isinstance(found, dict) and found.get("type") == "FeatureCollection":
        features = found.get("features") or []
        if len(features) != 1:
            raise InvalidInput("control_area: give one area, not a collection of " + str(len(features)),
                               field="control_area")
        found = features[0]
    if isinstance(found, dict) and found.get("type") == "Feature":
        found = found.get("geometry")
    if not isinstance(found, dict):
        raise InvalidInput("control_area: the area must be a GeoJSON Polygon", field="control_area")
    validated_geometry(session, settings, found, frozenset({"Polygon", "MultiPolygon"}), "control_area")
    return dict(found)


def read_control(session: Any, settings: Any, control_place: str | None, control_area: str | None,
                 ) -> tuple[int | None, dict[str, Any] | None]:
    place, area = parse_control_place(control_place), parse_control_area(session, settings, control_area)
    if place is not None and area is not None:
        raise InvalidInput("control_area: compare with a place or a drawn area, not both", field="control_area")
    return place, area


def control_choices(session: Any, exclude: int | None) -> list[dict[str, Any]]:
    """The places a reader may compare against (every place but the intervention's own), by name."""
    rows, _ = place_pages.search_places(session, place_pages.PlaceSearch(
        text=None, kinds=(), designation=None, review_overdue=False, has_guardians=False, sort="name",
        descending=False, limit=MAX_CONTROL_CHOICES, offset=0))
    return [{"id": r["id"], "name": r["name"]} for r in rows if r["id"] != exclude]


@router.get("/interventions/{intervention_id}/findings", response_class=HTMLResponse)
def findings_page(
    intervention_id: int, request: Request, session: SessionDep, settings: SettingsDep, disclosure: ReaderDisclosure,
    control_place: Annotated[str | None, Query(description="a place to compare against (default: the rest of "
                                                           "the service area)")] = None,
    control_area: Annotated[str | None, Query(description="or a drawn area (GeoJSON Polygon)")] = None,
    principal: Principal = gate(policy.ANALYSIS),
) -> HTMLResponse:
    intervention = disclosure.redact_feature(repository.get_feature(session, INTERVENTIONS, intervention_id))
    props = intervention["properties"]
    errors = FormErrors()
    try:
        chosen, area = read_control(session, settings, control_place, control_area)
        result = intervention_comparison(session, settings, principal, disclosure, intervention_id, chosen, area)
    except InvalidInput as exc:
        # Said on the form, with the default control's figures below it (nothing is written either way).
        field = exc.field if exc.field in ("control_place", "control_area") else "control_place"
        message = exc.detail.split(": ", 1)[-1]
        errors.add(field, message[:1].upper() + message[1:])
        chosen, area = None, None
        result = intervention_comparison(session, settings, principal, disclosure, intervention_id)
    heading, after = intervention_heading(result["intervention"])
    where = props.get("place_name") or "the intervention site"
    control_name = analysis_db.place_row(session, chosen).name if chosen is not None else None
    # The description is free text: the panel sees the kind, place and dates only (geo.privacy).
    title = props.get("description") or heading
    view = month_by_month(session, settings, disclosure, intervention_id, control_place=chosen, control_area=area)
    # The places the findings name (where harm rose), labelled on the small maps as the target is.
    rising = result["where_it_went"]["places"]
    located = maps_db.place_points(session, [p["place_id"] for p in rising])
    named = [(p["name"], *located[p["place_id"]]) for p in rising if p["place_id"] in located]
    maps, classes, defs = (small_maps(view, props.get("place_name"), named, settings.analysis_srid) if view
                           else ([], [], HATCH_DEFS))
    chart, rows = series_chart(view) if view else ("", [])
    # The same chart laid out for a phone, shown instead of the wide one below the tablet breakpoint (CSS).
    narrow_chart = series_chart(view, width=NARROW_WIDTH)[0] if view else ""
    return page(
        request, "findings/findings.html", principal=principal, session=session, title=title,
        breadcrumbs=[("Home", "/"), ("Interventions", "/interventions")], intervention=intervention,
        props=props, result=result, findings=intervention_findings(
            result, where, after, places_in_buffer(session, result)),
        control=control_description(result, control_name, drawn=area is not None), control_place=chosen,
        control_area=json.dumps(area) if area else (control_area if errors else ""), errors=errors,
        error_summary=errors.summary(["control_place", "control_area"]),
        status_code=422 if errors else 200,
        map=small_map(session, settings),
        control_choices=control_choices(session, props.get("place_id")), view=view, small_maps=maps,
        classes=classes, chart=chart, narrow_chart=narrow_chart,
        chart_rows=rows, hatch_defs=defs, max_months=MAX_MONTHS,
    )


@router.get("/glossary", response_class=HTMLResponse)
def glossary(request: Request, session: SessionDep, principal: Principal = gate(policy.READ_CONTEXT)) -> HTMLResponse:
    return page(request, "findings/glossary.html", principal=principal, session=session, title="Glossary",
                breadcrumbs=[("Home", "/")], comparison=COMPARISON, chart_months=MONTHS_EACH_SIDE)
