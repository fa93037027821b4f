"""The map pages (HTML): hotspots, safe spaces, displacement over time, and one place in context.

Each page is a folium map rendered on the server (:mod:`app.web.maps.render`) from aggregates the repositories
build in PostGIS, shown inside the web application's shell (:func:`app.web.shell.page`: the organisation, the
user and role, the navigation their role may use, Sign out, a skip link, breadcrumbs). Every page sends its
own Content Security Policy naming the hashes of its inline
scripts, so no ``'unsafe-inline'`` script is ever allowed. Every asset comes from ``/static/vendor``.

Privacy: a panel member's map is built only from disclosure-controlled counts
(:func:`geo.privacy.disclose_count`), with no free text (reasons, descriptions, notes) and no incident
locations — only cells, places and areas. No page embeds incident points for any role.

Errors on these pages (unknown ids, bad parameters) are HTML pages with the problem's status code,
not problem+json: a person in a browser is reading them.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Coroutine
from datetime import date, datetime, timedelta
from time import perf_counter
from typing import Annotated, Any

import folium
import geopandas as gpd
import pandas as pd
from branca.element import Element, Figure
from fastapi import APIRouter, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, Response
from fastapi.routing import APIRoute
from markupsafe import Markup
from shapely.geometry import shape

from app import policy
from app.db import analysis as analysis_db
from app.db import maps as maps_db
from app.db import safe_spaces as safe_spaces_db
from app.db import safety_maps as safety_maps_db
from app.db.school_terms import request_hours_calendar
from app.dependencies import Principal, ReaderDisclosure, SessionDep, SettingsDep, gate
from app.errors import ContextmapError, InvalidInput, NotAuthenticated
from app.middleware import tile_origin
from app.services.audit import record_action
from app.services.disclosure import Disclosure
from app.services.displacement import COMPARISON, intervention_comparison, places_text
from app.services.grids import grid_query, published_area
from app.services.hotspots import hotspot_analysis
from app.services.packs import intervention_findings, intervention_heading, places_in_buffer
from app.services.place_analysis import place_timeline as place_timeline_analysis
from app.services.safety_area import default_months, unsafe_squares
from app.services.safety_area import threshold as safety_threshold
from app.services.safety_mapping import PUBLISHED_CELL_SIZE
from app.settings import Settings
from app.web.errors import organisation_name
from app.web.flag import flag_link, flag_popup
from app.web.maps.assets import inline_script_hashes
from app.web.maps.background import Background, map_background
from app.web.maps.finder import map_finder
from app.web.maps.layers import FinderLayer, HtmlControl, LocalBasemap, StreetLayer, escape_text
from app.web.maps.page import PAGE_CSS, Table, link, map_document, tables_html
from app.web.maps.render import (
    Designation,
    DisplacementMeasure,
    Guardian,
    Place,
    displacement_map,
    hotspot_map,
    place_map,
    safe_spaces_map,
)
from app.web.safety_mapping import NEAR_PLACE_METRES, square_label
from app.web.shell import page
from app.web.templating import render_string
from geo.calendar import add_months, london_midnight, month_labels, months_between, quarter_name
from geo.grid import cell_polygons
from geo.map_data import monthly_cells
from geo.privacy import FREE_TEXT_FIELDS
from geo.safe_spaces import evaluate, guardians_at
from geo.vocabulary import HARM_CATEGORIES, LONDON

NAV = (
    ("/maps/hotspots", "Hotspots"),
    ("/maps/safe-spaces", "Safe spaces"),
    ("/maps/displacement", "Displacement"),
)
# Hexagon grid for hot spots: the study area is cut into at most this many cells (page size, Gi* cost).
MAX_GRID_CELLS = 3000
DEFAULT_CELL_M = 100
CELL_CHOICES = (50, 100, 150, 250, 500, 1000)
HEXAGON_AREA_FACTOR = 1.5 * math.sqrt(3)  # a hexagon of edge s covers 2.598 s²
# Displacement: the comparison's parameters (target, buffer, windows, control) are
# app.services.displacement.COMPARISON's, shared with the findings page and the pack; the slider shows
# DEFAULT_MONTHS either side unless asked, on cells of the comparison's size.
DEFAULT_MONTHS = 12
MONTHLY_CELL_M = COMPARISON.cell_m
PLACE_NEAR_M, PLACE_AROUND_M, PLACE_CELL_M, PLACE_TIMELINE_M = 1000.0, 500.0, 50.0, 100.0

MAP_CSS = """
.contextmap-filters { max-width: 300px; }
.contextmap-filters h1 { font-size: 16px; margin: 2px 0 4px; }
.contextmap-nav { font-size: 12px; margin-bottom: 2px; }
.contextmap-subtitle { margin: 0 0 4px; font-size: 12px; }
.contextmap-privacy { margin: 0 0 4px; color: #6c3483; }
.contextmap-form label { display: block; margin: 3px 0; font-size: 12px; }
.contextmap-form input[type=date], .contextmap-form input[type=datetime-local],
.contextmap-form input[type=number], .contextmap-form select { display: block; width: 100%; font-size: 12px; }
.contextmap-row { display: flex; gap: 6px; }
.contextmap-row label { flex: 1; }
.contextmap-checks { display: grid; grid-template-columns: 1fr 1fr; gap: 0 6px; }
.contextmap-checks label { margin: 0; white-space: nowrap; }
.contextmap-form fieldset { margin: 4px 0; padding: 0; border: 0; }
.contextmap-form legend { font-size: 12px; font-weight: 600; margin: 0; }
.contextmap-form button { font-size: 12px; padding: 2px 10px; margin-top: 4px; }
.contextmap-filters summary { cursor: pointer; font-weight: 600; font-size: 12px; }
"""


# ---- HTML-friendly problems ----------------------------------------------------------------------------
def problem_page(request: Request, status: int, title: str, detail: str, field: str | None) -> Response:
    """A map page's problem (an unknown id, a bad filter) in the shell, naming the field at fault."""
    principal = getattr(request.state, "principal", None)
    return page(request, "maps/problem.html", principal=principal, title=title, status_code=status,
                organisation=organisation_name(request, principal),
                breadcrumbs=[("Home", "/"), ("Maps", "/maps/hotspots")], status=status, detail=detail, field=field)


class MapPageRoute(APIRoute):
    """Routes whose domain and validation errors are shown as HTML pages (with the same status codes).

    A missing sign-in still goes to the application's handler, which redirects browsers to /signin.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except NotAuthenticated:
                raise
            except ContextmapError as exc:
                return problem_page(request, exc.status, exc.title, exc.detail, exc.field)
            except RequestValidationError as exc:
                errors = exc.errors()
                first = errors[0] if errors else {}
                field = ".".join(str(p) for p in first.get("loc", ()) if p not in ("query", "path")) or None
                detail = f"{field}: {first.get('msg', 'invalid')}" if field else "Invalid request."
                return problem_page(request, 422, "Invalid input", detail, field)

        return handle


router = APIRouter(prefix="/maps", tags=["maps"], include_in_schema=False, route_class=MapPageRoute)


# ---- parameters -------------------------------------------------------------------------------------------
def _parse_date(value: str | None, field: str) -> date | None:
    if value is None or not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError as exc:
        raise InvalidInput(f"{field}: {value!r} is not a date (YYYY-MM-DD)", field=field) from exc


def _parse_int(value: str | None, field: str, low: int, high: int) -> int | None:
    if value is None or not value.strip():
        return None
    try:
        number = int(value.strip())
    except ValueError as exc:
        raise InvalidInput(f"{field}: {value!r} is not a whole number", field=field) from exc
    if not low <= number <= high:
        raise InvalidInput(f"{field}: must be between {low} and {high}", field=field)
    return number


def _parse_at(value: str | None) -> datetime:
    """An instant: ISO 8601 with an offset, or a form's local date-time (read as UK time)."""
    if value is None or not value.strip():
        return datetime.now(LONDON).replace(second=0, microsecond=0)
    text = value.strip().replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise InvalidInput(f"at: {value!r} is not a date and time (YYYY-MM-DDTHH:MM)", field="at") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=LONDON)
    if not 1900 <= parsed.year <= 2199:
        # Opening hours are evaluated days ahead: the far ends of the calendar would overflow.
        raise InvalidInput("at: must be between the years 1900 and 2199", field="at")
    return parsed.astimezone(LONDON)


# ---- rendering ----------------------------------------------------------------------------------------------
def map_csp(html: str, tile_url: str | None) -> str:
    """A strict policy for one rendered map: its own inline scripts by hash, and images from this service
    and, only when the page draws internet tiles, from the configured tile host."""
    hashes = " ".join(inline_script_hashes(html))
    tiles = f" {tile_origin(tile_url)}" if tile_url and tile_origin(tile_url) else ""
    return (
        f"default-src 'self'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; "
        f"img-src 'self' data:{tiles}; font-src 'self' data:; connect-src 'self'; "
        "frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'"
    )


def _streets(session: SessionDep, settings: Settings, background: Background) -> dict[str, Any] | None:
    """The street lines to draw as the background, when neither a local basemap nor internet tiles are."""
    return maps_db.street_lines(session, settings.map_max_street_edges) if background.streets else None


def _page(
    request: Request, session: SessionDep, principal: Principal, m: folium.Map, settings: Settings,
    disclosure: Disclosure, *, title: str, current: str, breadcrumbs: list[tuple[str, str]] | None = None,
    background: Background, subtitle: str | None = None, form: str | None = None,
    tables: tuple[Table, ...] = (), shell_context: dict[str, Any] | None = None, **form_context: Any,
) -> HTMLResponse:
    """Add the filter box, render the map into the shell, and send it with the page's own CSP.

    ``form_context`` goes to the filter box over the map, ``shell_context`` to the page around it.
    """
    controls = render_string("maps/controls.html", dict(
        nav=NAV, current=current, title=title, subtitle=subtitle, panel=disclosure.applied,
        suppress_max=settings.suppress_max, round_to=settings.round_to, form=form, **form_context,
    ))
    HtmlControl(controls, position="topleft", kind="filters").add_to(m)
    basemap = background.basemap
    if basemap is not None:
        LocalBasemap(vector=basemap.vector, minzoom=basemap.minzoom, maxzoom=basemap.maxzoom,
                     attribution=basemap.attribution).add_to(m)
    streets = _streets(session, settings, background)
    if streets is not None:
        StreetLayer(streets).add_to(m)
    figure = m.get_root()
    assert isinstance(figure, Figure)
    figure.header.add_child(Element(f"<style>{MAP_CSS}{PAGE_CSS}</style>"), name="contextmap_page_css")
    started = perf_counter()
    parts = map_document(figure.render())
    # folium's output and the tables escape every user string themselves (app.web.maps.layers.escape_text);
    # Markup only keeps Jinja from escaping the markup a second time.
    response = page(
        request, "maps/map.html", principal=principal, session=session, title=title,
        breadcrumbs=breadcrumbs or [("Home", "/"), ("Maps", "/maps/hotspots")],
        map_head=Markup(parts.head), map_body=Markup(parts.body),  # noqa: S704
        map_scripts=Markup(parts.scripts), tables=Markup(tables_html(tables, title)),  # noqa: S704
        **(shell_context or {}),
    )
    html = bytes(response.body).decode()
    response.headers["Content-Security-Policy"] = map_csp(html, background.tile_url)
    # Render time (folium, the shell, CSP hashes) for benchmarks and browser dev tools.
    response.headers["Server-Timing"] = f"render;dur={(perf_counter() - started) * 1000:.1f}"
    return response


# ---- the maps' information as tables (below each map; app.web.maps.page) -------------------------------------
# Plain words for Gi* confidence: 99 % "very likely", 95 % "likely", 90 % "possibly" a real cluster.
CONFIDENCE_WORDS = {3: "very likely, 99 %", 2: "likely, 95 %", 1: "possibly, 90 %"}


def _place_cell(place_id: Any, name: Any) -> str:
    return link(f"/places/{int(place_id)}", name) if place_id is not None and not pd.isna(place_id) \
        else escape_text(name)


# Gi* is computed over a cell *and its neighbours* (Getis & Ord 1992; Ord & Getis 1995, the "star" form in
# geo.hotspots), so a cell with no incidents of its own is a hot spot when the cells around it have many.
HOTSPOT_NOTE = ("Each cell is judged together with the cells around it (Getis-Ord Gi*), so a cell with few or "
                "no incidents of its own can be a hot spot when its neighbours have many.")
NEIGHBOURS_ONLY = "no incidents in this cell itself; the cells around it had them"


def _hotspot_table(cells: gpd.GeoDataFrame, places: list[gpd.GeoDataFrame], suppressed: str) -> Table:
    """Hot and cold spots, most confident first, with the named places inside or next to each cell; with a
    ``flag`` column (links to the flag form, for roles that may flag), a last column to flag each hot spot."""
    rows: list[list[object]] = []
    significant = cells[(cells["gi_bin"] != 0).to_numpy()] if len(cells) else cells
    if len(significant):
        significant = significant.assign(_order=-significant["gi_bin"].abs(),
                                         _count=pd.to_numeric(significant["count"], errors="coerce").fillna(-1))
        significant = significant.sort_values(["_order", "gi_bin", "_count"], ascending=[True, False, False])
    named = [p for p in places if p is not None and len(p)]
    flags = "flag" in cells.columns
    for number, row in enumerate(significant.itertuples(), start=1):
        gi_bin = int(row.gi_bin)
        kind = "Hot spot" if gi_bin > 0 else "Cold spot"
        # A place counts as "in" a cell within one cell's width of it: places sit on the street, cells
        # are drawn on a grid that ignores them.
        near = row.geometry.buffer(row.geometry.length / 6)
        found = []
        for frame in named:
            inside = frame[frame.intersects(near).to_numpy()]
            found += [_place_cell(getattr(p, "place_id", None), p.name) for p in inside.itertuples()]
        known = row.count is not None and not pd.isna(row.count)
        finding = f"{kind} — {CONFIDENCE_WORDS[abs(gi_bin)]}"
        if known and gi_bin > 0 and int(row.count) == 0:
            finding += f": {NEIGHBOURS_ONLY}"
        cells_row: list[object] = [finding, row.count if known else suppressed,
                                   ", ".join(dict.fromkeys(found)) or "—"]
        if flags:
            href = getattr(row, "flag", None)
            cells_row.append(
                f'<a class="govuk-link" href="{escape_text(href)}" data-flag-hotspot>Flag as a place of concern'
                f'<span class="govuk-visually-hidden"> (row {number})</span></a>' if isinstance(href, str) else "—")
        rows.append(cells_row)
    headers = ("Finding", "Incidents", "Places in or next to it") + (("Flag",) if flags else ())
    return Table("Hot spots and cold spots, with their places", headers, rows,
                 empty="No hot or cold spot at these settings.",
                 html_columns=frozenset({2, 3}), note=HOTSPOT_NOTE)


def _safe_space_table(safe: gpd.GeoDataFrame) -> Table:
    rows = [[_place_cell(r.place_id, r.name), "open" if r.open_now else "closed", r.hours or "not recorded",
             getattr(r, "hours_note", None) or ""]
            for r in safe.sort_values(["open_now", "name"], ascending=[False, True]).itertuples()] if len(safe) else []
    return Table("Safe spaces and their opening times", ("Safe space", "Now", "Opening times", "Note"), rows,
                 empty="No safe spaces recorded.", html_columns=frozenset({0}))


def _concern_table(concerns: gpd.GeoDataFrame) -> Table:
    rows = [[_place_cell(getattr(r, "place_id", None), r.name), getattr(r, "level", None) or ""]
            for r in concerns.itertuples()] if len(concerns) else []
    return Table("Places of concern", ("Place", "Level"), rows, empty="No places of concern.",
                 html_columns=frozenset({0}))


def _suppressed_text(settings: Settings) -> str:
    return f"suppressed (fewer than {settings.suppress_max + 1})"


def _audit_view(session: SessionDep, principal: Principal, resource: str) -> None:
    record_action(session, principal, "map.view", resource)




# ---- shared layers ------------------------------------------------------------------------------------------
def _withhold(frame: gpd.GeoDataFrame, disclosure: Disclosure) -> gpd.GeoDataFrame:
    """The one panel free-text rule (geo.privacy.FREE_TEXT_FIELDS) for a map layer's table: popups, tooltips
    and the tables under the map are drawn from these columns, so a withheld field is emptied here."""
    if disclosure.shows_free_text:
        return frame
    frame = frame.copy()
    for column, empty in FREE_TEXT_FIELDS.items():
        if column in frame.columns:
            frame[column] = [empty if not isinstance(empty, list) else [] for _ in range(len(frame))]
    return frame


def _concern_frame(frame: gpd.GeoDataFrame, disclosure: Disclosure) -> gpd.GeoDataFrame:
    frame = frame.copy()
    frame["reason"] = [disclosure.text(r) for r in frame["reason"]]
    frame["review_by"] = [f"{d:%-d %B %Y}" if d else None for d in frame["review_by"]]
    return _withhold(frame, disclosure)


def _intervention_frame(frame: gpd.GeoDataFrame, disclosure: Disclosure) -> gpd.GeoDataFrame:
    frame = frame.copy()
    frame["description"] = [
        disclosure.text(text) or (f"at {place}" if place else "")
        for text, place in zip(frame["description"], frame["place_name"], strict=True)
    ]
    frame["kind"] = [k.replace("_", " ").capitalize() for k in frame["kind"]]
    frame["starts_on"] = [f"{d:%-d %B %Y}" for d in frame["starts_on"]]
    return _withhold(frame, disclosure)


def _safe_spaces(session: SessionDep, settings: Settings, at: datetime) -> gpd.GeoDataFrame:
    """Safe spaces current at ``at``, judged then: open or not, help, ages, guardians and their training."""
    rows = safe_spaces_db.safe_space_list(session, at, settings.map_max_points, 0)[: settings.map_max_points]
    calendar = request_hours_calendar(session)  # the organisation's school holidays, for SH
    records, geometries = [], []
    for row in rows:
        candidate = row["candidate"]
        verdict = evaluate(candidate, at, None, settings.safe_space_stale_days, calendar)
        guardians = [
            Guardian(
                role=g["role"].replace("_", " ") + (" (there now)" if g["present"] else ""),
                training=tuple(t.replace("_", " ") for t in g["current_training"]),
                hours=g["hours"],
            )
            for g in guardians_at(candidate.guardians, verdict.open, at)
        ]
        ages = (f"{candidate.age_min}–{candidate.age_max}" if candidate.age_min is not None
                and candidate.age_max is not None else None)
        records.append({
            "place_id": candidate.place_id, "name": candidate.name, "kind": candidate.kind,
            "hours": candidate.opening_hours,
            "open_now": bool(verdict.open), "hours_note": verdict.hours_note,
            "help_offered": list(candidate.help_offered), "age_range": ages,
            "guardians": guardians,
        })
        geometry = row["geometry"]
        geometries.append(shape(json.loads(geometry) if isinstance(geometry, str) else geometry))
    if not records:
        return gpd.GeoDataFrame({"place_id": [], "name": [], "open_now": [], "hours": []}, geometry=[],
                                crs="EPSG:4326")
    return gpd.GeoDataFrame(records, geometry=geometries, crs="EPSG:4326")


def _density_frame(surface: Any) -> gpd.GeoDataFrame | None:
    """The analysis service's density bands (incidents per km²) as the map draws them."""
    if surface is None or not surface.features:
        return None
    bands = [band.model_dump() for band in surface.features]
    return gpd.GeoDataFrame(
        {"density": [b["properties"]["density_min"] for b in bands],
         "label": [f"Kernel density: {b['properties']['density_min']:,.0f} or more incidents per km²"
                   for b in bands]},
        geometry=[shape(b["geometry"]) for b in bands], crs="EPSG:4326")


# ---- hotspots ---------------------------------------------------------------------------------------------------
def _hex_size(area_m2: float, requested: int | None) -> float:
    """The requested (or default) hexagon edge, enlarged until the study area holds MAX_GRID_CELLS cells."""
    size = float(requested or DEFAULT_CELL_M)
    smallest = math.ceil(math.sqrt(area_m2 / (MAX_GRID_CELLS * HEXAGON_AREA_FACTOR)) / 25.0) * 25.0
    return max(size, smallest)


@router.get("/streets.geojson")
def streets_geojson(session: SessionDep, settings: SettingsDep,
                    principal: Principal = gate(policy.READ_CONTEXT)) -> Response:
    """The organisation's street network as GeoJSON: the background of the small maps (forms, the finder,
    the place page) when no internet tiles are used (``/static/web/background.js``). Streets only: no data."""
    lines = maps_db.street_lines(session, settings.map_max_street_edges)
    body = json.dumps(lines if lines is not None else {"type": "GeometryCollection", "geometries": []})
    return Response(body, media_type="application/geo+json", headers={"Cache-Control": "private, max-age=3600"})


@router.get("/hotspots", response_class=HTMLResponse)
def hotspots(
    request: Request, session: SessionDep, settings: SettingsDep,
    start_text: Annotated[str | None, Query(alias="from", description="first day (YYYY-MM-DD)")] = None,
    end_text: Annotated[str | None, Query(alias="to", description="last day (YYYY-MM-DD)")] = None,
    harm: Annotated[list[str] | None, Query(description="harm categories (none: all)")] = None,
    cell: Annotated[str | None, Query(description="hexagon edge in metres (empty: automatic)")] = None,
    *, disclosure: ReaderDisclosure, principal: Principal = gate(policy.ANALYSIS),
) -> Response:
    """Hot and cold spots (Gi*), kernel density, places of concern, interventions and safe spaces."""
    today = datetime.now(LONDON).date()
    end_day = _parse_date(end_text, "to") or today
    start_day = _parse_date(start_text, "from") or (end_day - timedelta(days=365))
    if start_day > end_day:
        raise InvalidInput("from: the window starts after it ends", field="from")
    if (end_day - start_day).days > 3660:
        raise InvalidInput("from: the window is longer than ten years", field="from")
    requested = _parse_int(cell, "cell", 50, 5000)
    categories = tuple(dict.fromkeys(h for h in (harm or []) if h.strip()))
    unknown = [h for h in categories if h not in HARM_CATEGORIES]
    if unknown:
        raise InvalidInput(f"harm: unknown harm category {unknown[0]!r}", field="harm")
    start, end = london_midnight(start_day), london_midnight(end_day + timedelta(days=1))
    if disclosure.applied:
        # The published calendar: whole months (the form shows the months used).
        first, last = disclosure.period(start, end)
        start, end = first or start, last or end
        start_day, end_day = start.astimezone(LONDON).date(), (end - timedelta(days=1)).astimezone(LONDON).date()

    # The same service as GET /api/analysis/hotspots?density=true: one pipeline, one density surface.
    study = analysis_db.study_area(session, settings.analysis_srid, None, None)
    query = grid_query(
        session, settings, disclosure, cell="hex", size=_hex_size(study.area_m2, requested), bbox=None,
        period=f"{start.isoformat()}/{end.isoformat()}", harm_category=list(categories), source=None,
        weights="contiguity", distance=None, fdr=True,
    )
    size = query.grid.size
    result = hotspot_analysis(session, principal, query, disclosure, density=True, bandwidth=None)
    features = [json.loads(f) for f in result.features]
    shown = [f for f in features if (f["properties"]["count"] or 0) > 0 or f["properties"]["gi_bin"]]
    cells = gpd.GeoDataFrame(
        {"count": [f["properties"]["count"] for f in shown],
         "gi_bin": [f["properties"]["gi_bin"] or 0 for f in shown],
         "z": [f["properties"]["z"] for f in shown], "p": [f["properties"]["p"] for f in shown]},
        geometry=[shape(f["geometry"]) for f in shown], crs="EPSG:4326",
    )
    if policy.FLAG_CONCERN.allows(principal.role) and not disclosure.applied:
        # A significant hot cell offers "Flag as a place of concern" (issue 14): the flag form re-runs the
        # analysis with these parameters, so it flags only what is significant.
        cells["popup"] = [flag_popup(f["properties"], size, start_day, end_day, categories) for f in shown]
        # ... and so does its row in the table under the map.
        cells["flag"] = [flag_link(int(f["properties"]["i"]), int(f["properties"]["j"]), size, start_day, end_day,
                                   categories) if (f["properties"]["gi_bin"] or 0) > 0 else None for f in shown]
    density = _density_frame(result.density)
    concerns = _concern_frame(maps_db.concerns(session, start, end), disclosure)
    interventions = _intervention_frame(maps_db.interventions(session, start_day, end_day), disclosure)
    safe = _withhold(_safe_spaces(session, settings, min(datetime.now(LONDON), end - timedelta(minutes=1))), disclosure)

    # With no dates asked for, the layer shows the area picture's default months (the last twelve whole months).
    months = default_months(today) if not (start_text or end_text) else (start_day.replace(day=1),
                                                                          end_day.replace(day=1))
    unsafe, unsafe_table = _young_unsafe(session, principal, settings, disclosure, months, today)

    what = ", ".join(c.replace("_", " ") for c in categories) if categories else "all harm"
    title = f"Hotspots: {what}"
    background = map_background(session, settings)
    m = hotspot_map(
        cells, density, concerns, interventions, safe, title=title, tiles=background.tile_url,
        attribution=settings.tile_attribution, max_points=settings.map_max_points,
        suppressed_text=_suppressed_text(settings), unsafe=unsafe,
    )
    _audit_view(session, principal, "map:hotspots")
    return _page(
        request, session, principal, m, settings, disclosure, background=background,
        title=title, current="/maps/hotspots",
        subtitle=f"{start_day:%-d %B %Y} to {end_day:%-d %B %Y} · "
                 + (f"squares of {size:g} m (published grid, whole months)" if disclosure.applied
                    else f"hexagons of {size:g} m edge") + " · Getis-Ord Gi* with false discovery rate correction",
        tables=(_hotspot_table(cells, [concerns, safe], _suppressed_text(settings)), unsafe_table,
                _concern_table(concerns)),
        form="hotspots", start=start_day.isoformat(), end=end_day.isoformat(), harm=categories,
        categories=HARM_CATEGORIES, cell=requested, cell_used=f"{size:g}", cell_choices=CELL_CHOICES,
    )


def _young_unsafe(session: SessionDep, principal: Principal, settings: Settings, disclosure: Disclosure,
                  months: tuple[date, date], today: date) -> tuple[gpd.GeoDataFrame, Table]:
    """Issue 21's layer: the squares the area picture colours red (app.services.safety_area.unsafe_squares), in
    the map's months (staff) or one whole calendar quarter that has ended (a panel: Disclosure.map_quarter), with
    the table under the map and the words saying which months it shows."""
    first, last = disclosure.map_quarter(months[0], months[1], today)
    found = unsafe_squares(session, principal, settings, disclosure, first, last)
    needed = safety_threshold(disclosure)
    when = quarter_name(first) if disclosure.applied else f"{first:%B %Y} to {last:%B %Y}"

    def shown(value: int | None) -> str:
        return f"fewer than {needed}" if value is None else f"{value:,}"

    labels = [f"Young people feel unsafe here: {shown(c['red'])} of {shown(c['maps'])} safety maps coloured this "
              f"{PUBLISHED_CELL_SIZE} m square red ({when})" for c in found]
    frame = gpd.GeoDataFrame({"label": labels, "red": [c["red"] for c in found]},
                             geometry=[shape(c["geometry"]) for c in found], crs="EPSG:4326")
    near = safety_maps_db.names_near_cells(session, [(c["i"], c["j"]) for c in found], settings.analysis_srid,
                                           PUBLISHED_CELL_SIZE, NEAR_PLACE_METRES)
    rows: list[list[object]] = [[square_label(c["i"], c["j"], settings.analysis_srid, near.get((c["i"], c["j"]))),
                                 shown(c["red"]), shown(c["maps"])] for c in found]
    # A panel's table says why its months may differ from the map's: one whole quarter that has ended.
    caption = f"Where young people feel unsafe ({when}{', one whole quarter' if disclosure.applied else ''})"
    table = Table(caption, ("Grid square", "Maps colouring it red", "Maps in all"),
                  rows, empty=f"No square marked by {needed} or more separate safety maps was mostly coloured red "
                              "in these months.")
    return frame, table


# ---- safe spaces ------------------------------------------------------------------------------------------------
@router.get("/safe-spaces", response_class=HTMLResponse)
def safe_spaces(
    request: Request, session: SessionDep, settings: SettingsDep,
    at_text: Annotated[str | None, Query(alias="at", description="when (default now); UK time if no offset")] = None,
    where: Annotated[str, Query(max_length=200, description="finder: a place or street name")] = "",
    lon: Annotated[str, Query(max_length=40, description="finder: starting longitude")] = "",
    lat: Annotated[str, Query(max_length=40, description="finder: starting latitude")] = "",
    age: Annotated[str, Query(max_length=10, description="finder: the young person's age")] = "",
    *, disclosure: ReaderDisclosure, principal: Principal = gate(policy.ANALYSIS),
) -> Response:
    """Safe spaces open or closed at a time, walking catchments, places of concern; click for the nearest.

    Practitioners (the roles that may use ``/safe-spaces/find``) also get that finder beside the map: a
    starting point, the young person's age, and the nearest suitable open safe spaces listed, at ``at``.
    """
    at = _parse_at(at_text)
    safe = _withhold(_safe_spaces(session, settings, at), disclosure)
    concerns = _concern_frame(maps_db.concerns(session, at, at + timedelta(seconds=1)), disclosure)
    background = map_background(session, settings)
    m = safe_spaces_map(
        safe, concerns, at=at, catchment_minutes=(10, 15), walking_speed_m_per_min=settings.walking_speed_m_per_min,
        tiles=background.tile_url, attribution=settings.tile_attribution, max_points=settings.map_max_points,
    )
    finder = None
    if policy.WRITE_SAFE_SPACES.allows(principal.role):
        finder = map_finder(session, settings, principal, disclosure, where=where, lon=lon, lat=lat, age=age, at=at)
        if finder["results"] is not None:
            FinderLayer(finder["origin"], finder["origin_label"],
                        [{"name": r["name"], "lon": r["point"][0], "lat": r["point"][1]}
                         for r in finder["results"] if r["point"]]).add_to(m)
    _audit_view(session, principal, "map:safe-spaces")
    open_count = int(safe["open_now"].sum()) if len(safe) else 0
    at_local = f"{at:%Y-%m-%dT%H:%M}"
    return _page(
        request, session, principal, m, settings, disclosure, background=background,
        title="Safe spaces", current="/maps/safe-spaces",
        subtitle=f"{open_count} of {len(safe)} open at {at:%H:%M on %a %-d %B %Y}",
        tables=(_safe_space_table(safe), _concern_table(concerns)),
        # With the finder beside the map, its form holds the time; otherwise the box over the map does.
        form=None if finder else "safe_spaces", at_local=at_local,
        shell_context={"finder": finder, "at_local": at_local,
                       "error_summary": finder["error_summary"] if finder else None},
    )


# ---- displacement -----------------------------------------------------------------------------------------------
def _intervention_label(item: dict[str, Any], disclosure: Disclosure) -> str:
    kind = str(item["kind"]).replace("_", " ").capitalize()
    where = f" at {item['place_name']}" if item.get("place_name") else ""
    detail = disclosure.text(item.get("description"))
    return f"{kind}{where}" + (f": {detail}" if detail else "")


def _chooser(request: Request, session: SessionDep, principal: Principal, disclosure: Disclosure) -> Response:
    # The owning partner is free text (geo.privacy.FREE_TEXT_FIELDS): a panel does not see it.
    items = [item | {"label": _intervention_label(item, disclosure),
                     "owning_partner": disclosure.text(item.get("owning_partner"))}
             for item in maps_db.intervention_list(session)]
    return page(request, "maps/chooser.html", principal=principal, session=session, title="Displacement",
                breadcrumbs=[("Home", "/"), ("Maps", "/maps/hotspots")], interventions=items,
                show_owner=not disclosure.applied)


def _counts_text(counts: dict[str, Any], settings: Settings) -> str:
    def show(value: int | None) -> str:
        return _suppressed_text(settings) if value is None else f"{value:,}"

    return f"{show(counts['before'])} before → {show(counts['after'])} after"


def _displacement_summary(session: SessionDep, result: dict[str, Any], settings: Settings) -> list[DisplacementMeasure]:
    """The analysis service's answer, line by line, read in plain English by the same generator as the
    findings page and the pack (:func:`app.services.packs.intervention_findings`), so the map never reads
    differently from them. Already disclosure-controlled."""
    def days(window: dict[str, Any]) -> str:
        last = min(window["end"], window["start"] + timedelta(days=window["observed_days"])) - timedelta(seconds=1)
        return f"{window['start'].astimezone(LONDON):%-d %B %Y} to {last.astimezone(LONDON):%-d %B %Y}"

    before, after = result["before"], result["after"]
    lines = [DisplacementMeasure(
        "Compared", f"{before['observed_days']:.0f} days before, {after['observed_days']:.0f} after",
        f"{days(before)} against {days(after)}.")]
    for name, label in (("target", "Target"), ("buffer", "Buffer"), ("control", "Control")):
        area = result[name]
        lines.append(DisplacementMeasure(label, _counts_text(area["counts"], settings), area["definition"] + "."))
    _, after_phrase = intervention_heading(result["intervention"])
    where = result["intervention"].get("place_name") or "the intervention site"
    readings = {f.measure: f.sentence for f in intervention_findings(result, where, after_phrase,
                                                                     places_in_buffer(session, result))}
    lines.append(DisplacementMeasure("Harm at the target", _counts_text(result["target"]["counts"], settings),
                                     readings["rate_ratio"]))
    difference = result["difference"]
    wdd = None if difference is None else difference["wdd"]
    lines.append(DisplacementMeasure("Weighted displacement difference", "—" if wdd is None else f"{wdd:+,.0f}",
                                     readings["wdd"]))
    for name, label, reading in (("wdq", "Weighted displacement quotient", "wdq"),
                                 ("total_net_effect", "Total net effect", "total_net_effect")):
        measure = result["quotient"][name]
        value = "—" if measure["value"] is None else f"{measure['value']:+.2f}"
        lines.append(DisplacementMeasure(label, value, readings[reading]))
    lines.append(DisplacementMeasure("Where did it go?", places_text(len(result['where_it_went']['places'])),
                                     readings["places_rising"]))
    return lines


def _rises(session: SessionDep, result: dict[str, Any]) -> pd.DataFrame:
    """Places where harm rose significantly afterwards, with where they are (for the arrows)."""
    places = result["where_it_went"]["places"]
    located = maps_db.place_points(session, [p["place_id"] for p in places])
    rows = []
    for place in places:
        if place["place_id"] not in located:
            continue
        lon, lat = located[place["place_id"]]
        rate = place["rate"]
        text = None
        if rate["ratio"] is None and rate["lower"] is None:
            text = "a statistically clear rise (figures withheld: small counts)"
        rows.append({"name": place["name"], "rate_ratio": rate["ratio"], "lower": rate["lower"],
                     "upper": rate["upper"], "lon": lon, "lat": lat, "text": text})
    return pd.DataFrame(rows, columns=["name", "rate_ratio", "lower", "upper", "lon", "lat", "text"])


@router.get("/displacement", response_class=HTMLResponse)
def displacement(
    request: Request, session: SessionDep, settings: SettingsDep,
    intervention: Annotated[str | None, Query(description="intervention id (none: choose one)")] = None,
    months_before: Annotated[str | None, Query(description="months shown on the slider before the start")] = None,
    months_after: Annotated[str | None, Query(description="months shown on the slider from the start")] = None,
    *, disclosure: ReaderDisclosure, principal: Principal = gate(policy.ANALYSIS),
) -> Response:
    """Where harm went after an intervention. Without ``intervention``: the organisation's interventions."""
    chosen = _parse_int(intervention, "intervention", 1, 2**63 - 1)
    if chosen is None:
        return _chooser(request, session, principal, disclosure)
    span_before = _parse_int(months_before, "months_before", 1, 36) or DEFAULT_MONTHS
    span_after = _parse_int(months_after, "months_after", 1, 36) or DEFAULT_MONTHS
    item = maps_db.intervention(session, chosen)
    if not item["located"]:
        raise InvalidInput("intervention: it has no location (no area and no place), so there is nothing to map",
                           field="intervention")
    srid = settings.analysis_srid
    start_month = item["starts_on"].replace(day=1)
    first = maps_db.first_incident_at(session)
    first_month = first.astimezone(LONDON).date().replace(day=1) if first else start_month
    this_month = datetime.now(LONDON).date().replace(day=1)
    # The comparison is the one the findings page and the pack show (app.services.displacement.COMPARISON:
    # fixed buffer, equal whole-month windows); the months asked for only widen the slider.
    result = intervention_comparison(session, settings, principal, disclosure, chosen)
    target, buffer, control = (shape(result[name]["geometry"]) for name in ("target", "buffer", "control"))

    slider = (max(add_months(start_month, -span_before), first_month),
              min(add_months(start_month, span_after), add_months(this_month, 1)))
    labels = month_labels(*slider)
    near = gpd.GeoSeries([target.union(buffer)], crs="EPSG:4326")
    month_starts = [london_midnight(add_months(slider[0], k)) for k in range(months_between(*slider))]
    _, monthly_m = disclosure.cell("square", MONTHLY_CELL_M)
    grid = analysis_db.Grid("square", monthly_m, srid)
    filt = analysis_db.IncidentFilter(bbox=tuple(near.total_bounds), start=month_starts[0],
                                      end=london_midnight(slider[1]))
    if disclosure.applied:
        filt = published_area(session, filt, grid)  # whole cells, never cut by the box
    steps = analysis_db.step_counts(session, grid, filt, month_starts)
    monthly = monthly_cells(
        [f"{month_starts[s].astimezone(LONDON):%Y-%m}" for s in steps.step], steps.i, steps.j, steps.count, labels,
        monthly_m, f"EPSG:{srid}", disclose=disclosure.count, within=near.to_crs(f"EPSG:{srid}").iloc[0],
    )
    rises, summary = _rises(session, result), _displacement_summary(session, result, settings)
    background = map_background(session, settings)
    m = displacement_map(
        target, buffer, control, monthly, rises, summary,
        intervention_date=item["starts_on"], title="Did harm move?", tiles=background.tile_url,
        attribution=settings.tile_attribution, suppressed_text=_suppressed_text(settings),
    )
    _audit_view(session, principal, f"map:displacement:intervention:{chosen}")
    options = [{"id": o["id"], "label": _intervention_label(o, disclosure)}
               for o in maps_db.intervention_list(session) if o["located"]]
    return _page(
        request, session, principal, m, settings, disclosure, background=background,
        tables=(
            Table("What the comparison found", ("Measure", "Value", "What it means"),
                  [[line.label, line.value, line.interpretation] for line in summary]),
            Table("Where harm rose afterwards", ("Place", "Rate ratio (after ÷ before)"),
                  [[r.name, r.text or ("—" if r.rate_ratio is None or pd.isna(r.rate_ratio)
                                       else f"{r.rate_ratio:.2f}")] for r in rises.itertuples()],
                  empty="No place shows a clear rise."),
        ),
        title=_intervention_label(item, disclosure), current="/maps/displacement",
        subtitle=f"Started {item['starts_on']:%-d %B %Y}" + (
            f" · owned by {item['owning_partner']}" if disclosure.text(item["owning_partner"]) else ""),
        form="displacement", interventions=options, chosen=chosen, months_before=span_before,
        months_after=span_after,
    )


# ---- one place ---------------------------------------------------------------------------------------------------
def _trainings(trainings: Any) -> tuple[str, ...]:
    items = json.loads(trainings) if isinstance(trainings, str) else (trainings or [])
    return tuple(
        str(t.get("kind", "")).replace("_", " ") + (f" ({t['completed_on']})" if t.get("completed_on") else "")
        for t in items
    )


@router.get("/places/{place_id}", response_class=HTMLResponse)
def place_in_context(
    request: Request, place_id: int, session: SessionDep, settings: SettingsDep, disclosure: ReaderDisclosure,
    principal: Principal = gate(policy.ANALYSIS),
) -> Response:
    """One place: its designation history, guardians, neighbours, incidents around it and over time."""
    row = maps_db.place(session, place_id)
    srid = settings.analysis_srid
    now = datetime.now(LONDON)
    this_month = now.date().replace(day=1)

    two_years = (add_months(this_month, -23), add_months(this_month, 1))
    # The same service as GET /api/places/{id}/timeline (whole months; disclosure-controlled for the panel).
    timeline = place_timeline_analysis(
        session, principal, disclosure, place_id, radius=PLACE_TIMELINE_M,
        period=f"{london_midnight(two_years[0]).isoformat()}/{london_midnight(two_years[1]).isoformat()}")
    designations = [
        Designation(
            kind=d["kind"], valid_from=d["valid_from"].astimezone(LONDON).date(),
            valid_to=d["valid_to"].astimezone(LONDON).date() if d["valid_to"] else None,
            level=d["level"], reason=disclosure.text(d["reason"]), scheme=disclosure.text(d["scheme"]),
        )
        for d in timeline["designations"]
    ]
    guardians = [Guardian(role=g["role"].replace("_", " "), training=_trainings(g["trainings"]), hours=g["hours"])
                 for g in timeline["guardians"]]
    concerns = _concern_frame(maps_db.concerns(
        session, now, now + timedelta(seconds=1),
        maps_db.Near(place_id, PLACE_NEAR_M)), disclosure)
    concerns = concerns[(concerns["place_id"] != place_id).to_numpy()]
    here = gpd.GeoSeries([row["geometry"]], crs="EPSG:4326").to_crs(f"EPSG:{srid}")
    safe = _withhold(_safe_spaces(session, settings, now), disclosure)
    if len(safe):
        distance = safe.to_crs(f"EPSG:{srid}").distance(here.iloc[0])
        safe = safe[(distance <= PLACE_NEAR_M).to_numpy() & (safe["place_id"] != place_id).to_numpy()]

    # Staff: 50 m hexagons; the panel: the published grid (whole 250 m squares, never cut by the area).
    cell_shape, cell_m = disclosure.cell("hexagon", PLACE_CELL_M)
    grid = analysis_db.Grid("hexagon" if cell_shape == "hexagon" else "square", cell_m, srid)
    around = here.buffer(PLACE_AROUND_M).to_crs("EPSG:4326")
    filt = analysis_db.IncidentFilter(bbox=tuple(around.total_bounds),
                                      start=london_midnight(add_months(this_month, -11)),
                                      end=london_midnight(two_years[1]))
    if disclosure.applied:
        filt = published_area(session, filt, grid)
    counts = analysis_db.grid_counts(session, grid, filt)
    cells = gpd.GeoDataFrame(
        {"count": [disclosure.count(int(c)) for c in counts.count]},
        geometry=cell_polygons(counts.i, counts.j, cell_m, grid.shape) if counts.i.size else [],
        crs=f"EPSG:{srid}",
    ).to_crs("EPSG:4326")
    cells = cells[cells.intersects(around.iloc[0]).to_numpy()]

    place = Place(name=row["name"], geometry=row["geometry"], kind=row["kind"],
                  address=disclosure.text(row["address"]), opening_hours=row["opening_hours"],
                  place_manager=disclosure.text(row["place_manager"]))
    background = map_background(session, settings)
    m = place_map(
        place, designations, guardians, concerns, safe, cells,
        {m["month"]: m["count"] for m in timeline["months"]}, tiles=background.tile_url,
        attribution=settings.tile_attribution, max_points=settings.map_max_points,
        suppressed_text=_suppressed_text(settings),
    )
    _audit_view(session, principal, f"map:place:{place_id}")
    return _page(
        request, session, principal, m, settings, disclosure, background=background,
        title=row["name"], current=f"/maps/places/{place_id}",
        breadcrumbs=[("Home", "/"), ("Places", "/places"), (row["name"], f"/places/{place_id}")],
        tables=(Table("Incidents around this place, month by month", ("Month", "Incidents"),
                      [[month, count if count is not None else _suppressed_text(settings)]
                       for month, count in ((m["month"], m["count"]) for m in timeline["months"])]),
                _safe_space_table(safe), _concern_table(concerns)),
        subtitle=f"Incidents within {PLACE_AROUND_M:g} m over the last 12 months"
                 + (f" (published {cell_m:g} m squares)" if disclosure.applied else "")
                 + f"; timeline of incidents within {PLACE_TIMELINE_M:g} m (or linked to it) over 24 months",
    )
