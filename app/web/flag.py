"""Flag a significant hot-spot cell as a place of concern from the hot-spot map (issue 14).

The hot-spot map's popup of a significant hot cell links here with the map's own parameters (cell, size,
period, harm). The form shows the cell and its statistic and asks what a designation needs — the reason,
the level and the review date —; posting it runs the JSON API's flag use case
(app.services.concerns.flag_hotspot_cell: it re-runs the analysis and refuses a cell that is not
significant, writes the area place and the concern with their audit records) in a savepoint, and opens the
new place's page.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from html import escape
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app import policy
from app.dependencies import Principal, SessionDep, SettingsDep, gate
from app.errors import InvalidInput
from app.schemas.analysis import HotspotFlagCreate
from app.services.concerns import describe_hotspot_cell, flag_hotspot_cell
from app.services.disclosure import Disclosure
from app.services.grids import grid_query
from app.web.forms import FormErrors, Posted, PostedForm, build, date_items, parse_date, written
from app.web.maps.background import small_map
from app.web.shell import page
from geo.calendar import london_midnight
from geo.vocabulary import CONCERN_LEVELS, HARM_CATEGORIES

router = APIRouter(tags=["web"], include_in_schema=False)

FIELDS = {"i": "form", "j": "form", "name": "name", "kind": "kind", "level": "level", "reason": "reason",
          "review_by": "review_by", "size": "form", "datetime": "form", "harm_category": "form"}
ORDER = ["name", "kind", "level", "reason", "review_by", "form"]
# The hot-spot map shows cells at 90 % confidence and above (Gi_Bin 1..3); any of them may be flagged.
CONFIDENCE = 90


def flag_link(i: int, j: int, size: float, start: date, end: date, harm: tuple[str, ...]) -> str:
    query = [("cell", f"{i},{j}"), ("size", f"{size:g}"), ("from", start.isoformat()), ("to", end.isoformat())]
    return "/places/flag?" + urlencode(query + [("harm", h) for h in harm])


def flag_popup(properties: dict[str, Any], size: float, start: date, end: date, harm: tuple[str, ...]) -> str | None:
    """Escaped popup HTML for a significant hot cell on the hot-spot map; ``None`` for other cells."""
    gi_bin = properties.get("gi_bin") or 0
    if gi_bin <= 0:
        return None
    href = flag_link(int(properties["i"]), int(properties["j"]), size, start, end, harm)
    return (f'<div class="contextmap-popup"><strong>{escape(str(properties.get("label") or "Hot spot"))}</strong>'
            f'<br>Incidents: {int(properties.get("count") or 0)}<br>'
            f'<a href="{escape(href)}" target="_top">Flag as a place of concern</a></div>')


class _Cell:
    """The cell and analysis named by the link's query string, checked."""

    def __init__(self, cell: str, size: float, start: date, end: date, harm: tuple[str, ...]) -> None:
        parts = cell.split(",")
        if len(parts) != 2 or not all(p.strip().lstrip("-").isdigit() for p in parts):
            raise InvalidInput("cell: give the cell as i,j (from the hot-spot map)", field="cell")
        if start > end:
            raise InvalidInput("from: the window starts after it ends", field="from")
        unknown = [h for h in harm if h not in HARM_CATEGORIES]
        if unknown:
            raise InvalidInput(f"harm: unknown harm category {unknown[0]!r}", field="harm")
        self.i, self.j = (int(p) for p in parts)
        self.size, self.start, self.end, self.harm = size, start, end, harm

    @property
    def period(self) -> str:
        # The hot-spot map's window: London midnight of the first day to London midnight after the last.
        return f"{london_midnight(self.start).isoformat()}/{london_midnight(self.end + timedelta(days=1)).isoformat()}"


CellQ = Annotated[str, Query(max_length=40)]
SizeQ = Annotated[float, Query(ge=50, le=5000)]
FromQ = Annotated[date, Query(alias="from")]
ToQ = Annotated[date, Query(alias="to")]
HarmQ = Annotated[list[str] | None, Query(max_length=20)]


def _form(request: Request, principal: Principal, session: SessionDep, settings: Any, cell: _Cell,
          posted: Posted | None, errors: FormErrors) -> HTMLResponse:
    query = grid_query(session, settings, Disclosure.staff(settings), cell="hex", size=cell.size, bbox=None,
                       period=cell.period, harm_category=list(cell.harm), source=None, weights="contiguity",
                       distance=None, fdr=True)
    found = describe_hotspot_cell(session, query, cell.i, cell.j)
    return page(request, "places/flag_form.html", principal=principal, session=session,
                title="Flag as a place of concern", breadcrumbs=[("Home", "/"), ("Hot-spot map", "/maps/hotspots")],
                status_code=422 if errors else 200, errors=errors,
                error_summary=errors.summary(ORDER) if errors else None, cell=cell, found=found,
                area=json.dumps(found.geometry) if found else "", levels=CONCERN_LEVELS,
                values={k: posted.get(k) for k in ("name", "kind", "level", "reason")} if posted else {"kind": "other"},
                review_by=date_items(posted, "review_by", None if posted else date.today() + timedelta(days=91)),
                action=flag_link(cell.i, cell.j, cell.size, cell.start, cell.end, cell.harm),
                map=small_map(session, settings))


@router.get("/places/flag", response_class=HTMLResponse)
def flag_form(request: Request, session: SessionDep, settings: SettingsDep, cell: CellQ, size: SizeQ,
              start: FromQ, end: ToQ, harm: HarmQ = None,
              principal: Principal = gate(policy.FLAG_CONCERN)) -> HTMLResponse:
    return _form(request, principal, session, settings, _Cell(cell, size, start, end, tuple(harm or ())), None,
                 FormErrors())


@router.post("/places/flag", response_class=HTMLResponse)
def flag(request: Request, session: SessionDep, settings: SettingsDep, posted: PostedForm, cell: CellQ,
         size: SizeQ, start: FromQ, end: ToQ, harm: HarmQ = None,
         principal: Principal = gate(policy.FLAG_CONCERN)) -> Response:
    chosen = _Cell(cell, size, start, end, tuple(harm or ()))
    errors = FormErrors()
    if posted.get("level") not in CONCERN_LEVELS:
        errors.add("level", "Choose the level of concern")
    if not posted.get("reason"):
        errors.add("reason", "Say why this is a place of concern")
    if posted.get("kind") not in ("other", "street"):
        errors.add("kind", "Choose what the area is")
    review = parse_date(posted, "review_by", errors, "review date", required=True)
    if review is not None and review < date.today():
        errors.add("review_by", "The review date must be today or in the future")
    body = None if errors else build(errors, FIELDS, lambda: HotspotFlagCreate.model_validate({
        "i": chosen.i, "j": chosen.j, "cell": "hex", "size": chosen.size, "datetime": chosen.period,
        "harm_category": list(chosen.harm), "weights": "contiguity", "fdr": True, "confidence": CONFIDENCE,
        "name": posted.optional("name"), "kind": posted.get("kind"), "level": posted.get("level"),
        "reason": posted.get("reason"), "review_by": review}))
    place_id: int | None = None
    if body is not None:
        query = grid_query(session, settings, Disclosure.staff(settings), cell="hex", size=body.size, bbox=None,
                           period=body.datetime, harm_category=body.harm_category, source=None,
                           weights="contiguity", distance=None, fdr=True)
        with written(session, errors, FIELDS):
            place_id = flag_hotspot_cell(session, principal, query, body).place_id
    if errors or place_id is None:
        return _form(request, principal, session, settings, chosen, posted, errors)
    return RedirectResponse(f"/places/{place_id}?saved=flagged", status_code=303)
