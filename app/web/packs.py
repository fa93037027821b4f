"""The panel pack as a PDF (issue 17): one intervention (``/interventions/{id}/pack.pdf``) or a meeting's
choice of interventions and places (``/packs/new`` → ``/packs/meeting.pdf``).

Built on the server with WeasyPrint from HTML and CSS: ``@page`` margin boxes put the security marking
(a setting, default OFFICIAL-SENSITIVE) at the top and bottom of every page and "Page n of N" at the
foot. The data always come through :mod:`app.services.packs` with the panel's disclosure rule, whoever
asks. The maps are SVG drawn here from our own layers (the analysis areas and the published grid cells
where harm rose), projected with geopandas: no tiles, so nothing is fetched while the pack is built and
no incident location is drawn.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from html import escape
from typing import Annotated, Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from shapely.geometry import MultiPolygon, Point, Polygon, shape
from shapely.geometry.base import BaseGeometry

from app import policy
from app.db import maps as maps_db
from app.db import place_pages, repository
from app.db.repository import ListQuery
from app.db.resources import INTERVENTIONS
from app.db.street_network import street_lines_in_box
from app.dependencies import Principal, SessionDep, SettingsDep, gate
from app.errors import InvalidInput
from app.services.monthly import MonthByMonth, month_by_month
from app.services.packs import (
    MAX_PACK_ITEMS,
    InterventionSection,
    PlaceSection,
    intervention_section,
    panel_disclosure,
    place_section,
)
from app.settings import Settings
from app.web.findings import read_control
from app.web.forms import FormErrors
from app.web.maps.background import small_map
from app.web.monthly import series_chart
from app.web.shell import page
from app.web.templating import templates

router = APIRouter(tags=["web"], include_in_schema=False)

MAP_WIDTH, MAP_HEIGHT, MAP_MARGIN = 480.0, 300.0, 12.0
MAX_STREET_LINES = 5000  # under one pack map: a district's streets, longest first
LONDON_SRID = 27700  # British National Grid: metres, so the map keeps its shape


def _rings(geometry: BaseGeometry) -> Iterable[list[tuple[float, float]]]:
    polygons = geometry.geoms if isinstance(geometry, MultiPolygon) else [geometry]
    for polygon in polygons:
        if isinstance(polygon, Polygon):
            yield list(polygon.exterior.coords)
            yield from (list(ring.coords) for ring in polygon.interiors)


StreetSource = Callable[[tuple[float, float, float, float]], list[npt.NDArray[np.float64]]]


MapLabel = tuple[str, float, float]  # a place's name and a point on it (lon, lat)


def area_map_svg(analysis: dict[str, Any], srid: int = LONDON_SRID, streets: StreetSource | None = None,
                 target_name: str | None = None, places: Sequence[MapLabel] = ()) -> str:
    """Target, buffer and the published cells whose harm rose, as an SVG drawing with a scale bar, over the
    organisation's streets when it has a network (``streets`` gives the lines crossing a box of the
    analysis CRS; :func:`app.db.street_network.street_lines_in_box`).

    Only areas, whole published cells and streets are drawn (no incident), so the map shows nothing the
    panel's figures do not. The target is labelled with ``target_name`` (the intervention's place) and each of
    ``places`` (the places the findings name: where harm rose) is a labelled dot. Place names are register
    entries, shown to a panel as the findings show them (not free text: :mod:`app.services.disclosure`)."""
    layers: list[tuple[str, BaseGeometry]] = []
    for name in ("buffer", "target"):
        if analysis.get(name) and analysis[name].get("geometry"):
            layers.append((name, shape(analysis[name]["geometry"])))
    for cell in analysis["where_it_went"]["cells"]["features"]:
        layers.append(("rising", shape(cell["geometry"])))
    if not layers:
        return ""
    target = next((g for name, g in layers if name == "target"), None)
    labelled: list[tuple[str, BaseGeometry, bool]] = []  # name, point, is the target
    if target_name and target is not None:
        labelled.append((target_name, target.representative_point(), True))
    labelled += [(name, Point(lon, lat), False) for name, lon, lat in places]
    projected_all = gpd.GeoSeries([g for _, g in layers] + [g for _, g, _ in labelled],
                                  crs="EPSG:4326").to_crs(f"EPSG:{srid}")
    projected, label_points = projected_all.iloc[:len(layers)], projected_all.iloc[len(layers):]
    x0, y0, x1, y1 = projected_all.total_bounds
    scale = min((MAP_WIDTH - 2 * MAP_MARGIN) / max(x1 - x0, 1.0), (MAP_HEIGHT - 2 * MAP_MARGIN) / max(y1 - y0, 1.0))
    style = {"buffer": 'fill="#fff7bf" fill-opacity="0.7" stroke="#b58800"',
             "target": 'fill="#1d70b8" fill-opacity="0.5" stroke="#0b0c0c"',
             "rising": 'fill="#d4351c" fill-opacity="0.6" stroke="#942514"'}

    def point(x: float, y: float) -> str:
        return f"{MAP_MARGIN + (x - x0) * scale:.1f},{MAP_HEIGHT - MAP_MARGIN - (y - y0) * scale:.1f}"

    # The street lines filling the whole drawing (the margins too), clipped to it by the database.
    view = (x0 - MAP_MARGIN / scale, y0 - MAP_MARGIN / scale,
            x0 + (MAP_WIDTH - MAP_MARGIN) / scale, y0 + (MAP_HEIGHT - MAP_MARGIN) / scale)
    lines = [line for line in (streets(view) if streets else []) if len(line) > 1]
    paths = []
    if lines:
        d = " ".join("M" + " L".join(point(x, y) for x, y in line[:, :2]) for line in lines)
        paths.append(f'<path class="streets" d="{d}" fill="none" stroke="#b1b4b6" stroke-width="0.8"/>')
    for (name, _), geometry in zip(layers, projected, strict=True):
        d = " ".join("M" + " L".join(point(x, y) for x, y in ring) + " Z" for ring in _rings(geometry))
        paths.append(f'<path d="{d}" {style[name]} stroke-width="1" fill-rule="evenodd"/>')
    for (name, _, is_target), at in zip(labelled, label_points, strict=True):
        x, y = (float(v) for v in point(at.x, at.y).split(","))
        anchor, dx = ("end", -6.0) if x > MAP_WIDTH * 0.6 else ("start", 6.0)
        if not is_target:
            paths.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="#0b0c0c" stroke="#ffffff"/>')
        # A white backing behind the name (WeasyPrint draws no paint-order halo); width estimated from the
        # font size, generous rather than tight.
        width = 5.6 * len(name) + 4
        left = x + dx - 2 if anchor == "start" else x + dx - width + 2
        paths.append(f'<rect x="{left:.1f}" y="{y - 7:.1f}" width="{width:.1f}" height="13" fill="#ffffff" '
                     f'fill-opacity="0.85"/>')
        paths.append(f'<text class="place-label" x="{x + dx:.1f}" y="{y + 3:.1f}" text-anchor="{anchor}" '
                     f'font-size="10" font-weight="{"bold" if is_target else "normal"}" fill="#0b0c0c">'
                     f'{escape(name)}</text>')
    bar_m = next((m for m in (50, 100, 200, 250, 500, 1000, 2000, 5000) if m * scale >= 60), 5000)
    bar = (f'<line x1="{MAP_MARGIN}" y1="{MAP_HEIGHT - 4}" x2="{MAP_MARGIN + bar_m * scale:.1f}" '
           f'y2="{MAP_HEIGHT - 4}" stroke="#0b0c0c" stroke-width="2"/>'
           f'<text x="{MAP_MARGIN + bar_m * scale + 4:.1f}" y="{MAP_HEIGHT - 1}" font-size="9">{bar_m} m</text>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {MAP_WIDTH:g} {MAP_HEIGHT:g}" '
            f'width="{MAP_WIDTH:g}" height="{MAP_HEIGHT:g}" role="img" data-street-lines="{len(lines)}" '
            f'aria-label="Map of the target, its buffer and the cells where harm rose'
            f'{", with the places named" if labelled else ""}{", over the streets" if lines else ""}">'
            f'{"".join(paths)}{bar}</svg>')


def pack_html(
    settings: Settings, *, title: str, interventions: list[InterventionSection], places: list[PlaceSection],
    built: datetime, suppress_max: int | None = None, streets: StreetSource | None = None,
    monthly: dict[int, MonthByMonth | None] | None = None,
    place_labels: dict[int, list[MapLabel]] | None = None,
) -> str:
    """The pack as one HTML document for WeasyPrint (``suppress_max``: the organisation's threshold)."""
    timeline = sorted(
        [{"starts_on": s.summary["starts_on"], "ends_on": s.summary.get("ends_on"), "title": s.title}
         for s in interventions]
        + [{"starts_on": v["starts_on"], "ends_on": v.get("ends_on"),
            "title": f"{str(v['kind']).replace('_', ' ').capitalize()} at {p.name}"}
           for p in places for v in p.interventions],
        key=lambda row: str(row["starts_on"]))
    unique: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for row in timeline:  # an intervention chosen and also at a chosen place appears once
        key = (str(row["starts_on"]), row["title"])
        if key not in seen:
            seen.add(key)
            unique.append(row)
    return templates.get_template("packs/pack.html").render(
        title=title, marking=settings.pack_marking, built=built, interventions=interventions, places=places,
        maps={s.id: area_map_svg(s.analysis, settings.analysis_srid, streets, s.summary.get("place_name"),
                                 (place_labels or {}).get(s.id, ())) for s in interventions},
        timeline=unique, suppress_max=suppress_max or settings.suppress_max,
        monthly={i: series_chart(view, own_defs=True) for i, view in (monthly or {}).items() if view})


def pack_pdf(html: str) -> bytes:
    # Imported here: WeasyPrint loads Pango at import, which only the pack needs.
    from weasyprint import HTML

    return bytes(HTML(string=html).write_pdf())


def _pdf_response(content: bytes, filename: str) -> Response:
    return Response(content, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{filename}"',
                             "Cache-Control": "no-store"})


def build_pack(session: Any, settings: Settings, principal: Principal | None, *, title: str,
               interventions: list[int], places: list[int], control_place: int | None = None,
               control_area: dict[str, Any] | None = None) -> bytes:
    built = datetime.now(UTC)
    sections = [intervention_section(session, settings, principal, i, control_place, control_area)
                for i in interventions]
    place_sections = [place_section(session, settings, principal, p, built.date()) for p in places]
    # Month by month for each intervention: the target, buffer and control chart with its table.
    rule = panel_disclosure(settings, principal)
    monthly = {i: month_by_month(session, settings, rule, i, control_place=control_place, control_area=control_area)
               for i in interventions}

    def streets(box: tuple[float, float, float, float]) -> list[npt.NDArray[np.float64]]:
        return street_lines_in_box(session, box, settings.analysis_srid, MAX_STREET_LINES)

    # The places the findings name (where harm rose), as labelled dots on each intervention's map.
    labels: dict[int, list[MapLabel]] = {}
    for section in sections:
        named = section.analysis["where_it_went"]["places"]
        located = maps_db.place_points(session, [p["place_id"] for p in named])
        labels[section.id] = [(p["name"], *located[p["place_id"]]) for p in named if p["place_id"] in located]
    return pack_pdf(pack_html(settings, title=title, interventions=sections, places=place_sections, built=built,
                              suppress_max=rule.rule.suppress_max,
                              streets=streets, monthly=monthly, place_labels=labels))


@router.get("/interventions/{intervention_id}/pack.pdf")
def intervention_pack(intervention_id: int, session: SessionDep, settings: SettingsDep,
                      control_place: Annotated[str | None, Query()] = None,
                      control_area: Annotated[str | None, Query()] = None,
                      principal: Principal = gate(policy.ANALYSIS)) -> Response:
    chosen, area = read_control(session, settings, control_place, control_area)
    content = build_pack(session, settings, principal, title="Intervention pack", interventions=[intervention_id],
                         places=[], control_place=chosen, control_area=area)
    return _pdf_response(content, f"intervention-{intervention_id}-pack.pdf")


def _new_pack_page(request: Request, session: Any, settings: Settings, principal: Principal, *,
                   errors: FormErrors | None = None, chosen_interventions: list[int] | None = None,
                   chosen_places: list[int] | None = None, control_place: str | None = None,
                   control_area: str | None = None) -> HTMLResponse:
    found, _ = repository.list_features(session, INTERVENTIONS, ListQuery(limit=500))
    choices = [{"id": f["id"], "text": f"{str(f['properties']['kind']).replace('_', ' ').capitalize()} at "
                                        f"{f['properties'].get('place_name') or 'a drawn area'}, from "
                                        f"{f['properties']['starts_on']}"} for f in found]
    rows, _ = place_pages.search_places(session, place_pages.PlaceSearch(
        text=None, kinds=(), designation=None, review_overdue=False, has_guardians=False, sort="name",
        descending=False, limit=500, offset=0))
    errors = errors or FormErrors()
    if errors.of("intervention") and choices:
        errors.anchors.setdefault("intervention", f"intervention-{choices[0]['id']}")  # the list's first box
    return page(request, "packs/new.html", principal=principal, session=session, title="Make a meeting pack",
                breadcrumbs=[("Home", "/")], interventions=choices, places=rows, max_items=MAX_PACK_ITEMS,
                errors=errors, error_summary=errors.summary(["intervention", "control_place", "control_area"]),
                chosen_interventions=set(chosen_interventions or []), chosen_places=set(chosen_places or []),
                control_place=(control_place or "service-area").strip(), control_area=control_area or "",
                map=small_map(session, settings), centre=place_pages.service_area_centre(session) or (-0.12, 51.5),
                status_code=422 if errors else 200)


@router.get("/packs/new", response_class=HTMLResponse)
def new_pack(request: Request, session: SessionDep, settings: SettingsDep,
             principal: Principal = gate(policy.ANALYSIS)) -> HTMLResponse:
    return _new_pack_page(request, session, settings, principal)


@router.get("/packs/meeting.pdf")
def meeting_pack(
    request: Request, session: SessionDep, settings: SettingsDep,
    intervention: Annotated[list[int] | None, Query()] = None, place: Annotated[list[int] | None, Query()] = None,
    control_place: Annotated[str | None, Query()] = None, control_area: Annotated[str | None, Query()] = None,
    principal: Principal = gate(policy.ANALYSIS),
) -> Response:
    """The meeting pack. Its control is chosen as on the findings page: the rest of the service area, a place
    or a drawn area (:func:`app.web.findings.read_control`). A refused choice is said on the form again,
    naming the field, with what was chosen kept (a browser); an API client gets the 422 problem."""
    chosen_interventions = list(dict.fromkeys(intervention or []))
    chosen_places = list(dict.fromkeys(place or []))
    try:
        if not chosen_interventions and not chosen_places:
            raise InvalidInput("intervention: choose at least one intervention or place", field="intervention")
        if len(chosen_interventions) + len(chosen_places) > MAX_PACK_ITEMS:
            raise InvalidInput(f"intervention: at most {MAX_PACK_ITEMS} interventions and places in one pack",
                               field="intervention")
        chosen, area = read_control(session, settings, control_place, control_area)
        content = build_pack(session, settings, principal, title="Meeting pack", interventions=chosen_interventions,
                             places=chosen_places, control_place=chosen, control_area=area)
    except InvalidInput as exc:
        if "text/html" not in request.headers.get("accept", "") or exc.field not in (
                "intervention", "control_place", "control_area"):
            raise
        errors = FormErrors()
        message = exc.detail.split(": ", 1)[-1]
        errors.add(str(exc.field), message[:1].upper() + message[1:])
        return _new_pack_page(request, session, settings, principal, errors=errors,
                              chosen_interventions=chosen_interventions, chosen_places=chosen_places,
                              control_place=control_place, control_area=control_area)
    return _pdf_response(content, "meeting-pack.pdf")
