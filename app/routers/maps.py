"""The map pages (HTML): hotspots, safe spaces, displacement over time, and one place in context.

Each page is a folium map rendered on the server (:mod:`geo.maps`) from aggregates the repositories
build in PostGIS. Every page sends its own Content Security Policy naming the hashes of its inline
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
from collections.abc import Callable, Coroutine, Sequence
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
from branca.element import Element, Figure
from fastapi import APIRouter, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, Response
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from shapely.geometry import shape

from app import policy
from app.db import audit
from app.db import maps as maps_db
from app.db import safe_spaces as safe_spaces_db
from app.dependencies import Principal, SessionDep, SettingsDep, gate
from app.errors import ContextmapError, InvalidInput, NotAuthenticated
from app.routers.web import page_context
from app.settings import Settings
from geo.density import density_bands, quartic_kde, silverman_bandwidth
from geo.displacement import weighted_displacement_quotient
from geo.grid import cell_polygons, square_adjacency
from geo.hotspots import confidence_bins, getis_ord_gi_star
from geo.map_assets import inline_script_hashes
from geo.map_layers import HtmlControl, escape_text
from geo.maps import (
    Designation,
    DisplacementMeasure,
    Guardian,
    Place,
    displacement_map,
    hotspot_map,
    place_map,
    safe_spaces_map,
)
from geo.privacy import DisclosureRule, disclose_count
from geo.rates import rate_ratio
from geo.safe_spaces import evaluate, guardians_at
from geo.vocabulary import HARM_CATEGORIES

LONDON = ZoneInfo("Europe/London")
templates = Jinja2Templates(directory=str(Path(__file__).resolve().parents[1] / "templates"))

NAV = (
    ("/maps/hotspots", "Hotspots"),
    ("/maps/safe-spaces", "Safe spaces"),
    ("/maps/displacement", "Displacement"),
)
# Gi* needs the zero cells too; past this many cells a grid is coarsened (page size and Gi* cost).
MAX_GRID_CELLS = 3000
DEFAULT_CELL_M = 150
CELL_CHOICES = (100, 150, 250, 500, 1000)
# Kernel density is drawn as a few bands (fractions of the peak), not a raster: a handful of polygons.
DENSITY_BANDS = (0.05, 0.15, 0.3, 0.5, 0.75)
# Displacement rings around the intervention (metres): target, buffer ring, control ring. The library in
# the practice story is ~500 m from the outlet — the distance young people walk to the next hang-out.
TARGET_M, BUFFER_M, CONTROL_M = 100.0, 700.0, 2000.0
MONTHLY_CELL_M = 150.0
RISE_RADIUS_M = 100.0
MAX_RISES = 10
PLACE_NEAR_M, PLACE_CELLS_M, PLACE_CELL_SIZE_M, PLACE_TIMELINE_M = 1000.0, 500.0, 100.0, 100.0
SUPPRESSED_TEXT = "suppressed (fewer than {n})"

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
    principal = getattr(request.state, "principal", None)
    settings: Settings = request.app.state.settings
    context = (page_context(request, principal, settings) if principal is not None
               else {"principal": None, "csrf": ""})
    context |= {"status": status, "title": title, "detail": detail, "field": field}
    return templates.TemplateResponse(request, "map_problem.html", context, status_code=status)


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
    return parsed.astimezone(LONDON)


def _london_midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=LONDON)


def _add_months(day: date, months: int) -> date:
    year, month = divmod(day.month - 1 + months, 12)
    return date(day.year + year, month + 1, 1)


def _months_between(first: date, last: date) -> int:
    return (last.year - first.year) * 12 + last.month - first.month


def _month_labels(first: date, end: date) -> list[str]:
    """"YYYY-MM" for every month from ``first`` (a month start) up to, not including, ``end``."""
    labels, month = [], first
    while month < end:
        labels.append(f"{month:%Y-%m}")
        month = _add_months(month, 1)
    return labels


# ---- privacy --------------------------------------------------------------------------------------------------
class Disclosure:
    """What this user may see: exact counts, or (panel) disclosure-controlled counts and no free text."""

    def __init__(self, principal: Principal, settings: Settings) -> None:
        self.panel = principal.is_panel
        self.rule = DisclosureRule(settings.suppress_max, settings.round_to)
        self.suppressed_text = SUPPRESSED_TEXT.format(n=settings.suppress_max + 1)

    def count(self, value: int | np.integer[Any]) -> int | None:
        return disclose_count(int(value), self.rule) if self.panel else int(value)

    def text(self, value: Any) -> Any:
        return None if self.panel else value


# ---- rendering ----------------------------------------------------------------------------------------------
def map_csp(html: str, tile_url: str) -> str:
    """A strict policy for one rendered map: its own inline scripts by hash, tiles from the tile host."""
    hashes = " ".join(inline_script_hashes(html))
    parts = urlsplit(tile_url)
    tile_origin = f" {parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""
    return (
        f"default-src 'self'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; "
        f"img-src 'self' data:{tile_origin}; font-src 'self' data:; connect-src 'self'; "
        "frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'"
    )


def _page(
    m: folium.Map, settings: Settings, disclosure: Disclosure, *, title: str, current: str,
    subtitle: str | None = None, form: str | None = None, **form_context: Any,
) -> HTMLResponse:
    """Add the navigation/filter box, render, and send with the page's own CSP."""
    controls = templates.get_template("map_controls.html").render(
        nav=NAV, current=current, title=title, subtitle=subtitle, panel=disclosure.panel,
        suppress_max=settings.suppress_max, round_to=settings.round_to, form=form, **form_context,
    )
    HtmlControl(controls, position="topleft", kind="filters").add_to(m)
    figure = m.get_root()
    assert isinstance(figure, Figure)
    figure.header.add_child(Element(f"<title>{escape_text(title)} · contextmap</title>"), name="contextmap_title")
    figure.header.add_child(Element(f"<style>{MAP_CSS}</style>"), name="contextmap_page_css")
    html = figure.render()
    return HTMLResponse(html, headers={"Content-Security-Policy": map_csp(html, settings.tile_url)})


def _audit_view(session: SessionDep, principal: Principal, resource: str) -> None:
    audit.record(session, organisation_id=principal.organisation_id, user_id=principal.user_id,
                 action="map.view", resource=resource)


# ---- hotspots ---------------------------------------------------------------------------------------------------
def _cell_size(bounds: tuple[float, float, float, float] | None, requested: int | None) -> float:
    """The requested (or default) cell size, coarsened until the grid has at most MAX_GRID_CELLS cells."""
    size = float(requested or DEFAULT_CELL_M)
    if bounds is None:
        return size
    area = max(bounds[2] - bounds[0], 1.0) * max(bounds[3] - bounds[1], 1.0)
    smallest = math.ceil(math.sqrt(area / MAX_GRID_CELLS) / 50.0) * 50.0
    return max(size, smallest)


def _hotspot_grid(
    counts: maps_db.GridCounts, bounds: tuple[float, float, float, float], srid: int, disclosure: Disclosure,
) -> tuple[gpd.GeoDataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """Gi* over every cell of the study box (zeros included); returns the cells worth drawing.

    Also returns every cell's centre and the counts the viewer may see, for the density surface.
    """
    size = counts.size
    i0, j0 = math.floor(bounds[0] / size), math.floor(bounds[1] / size)
    i1, j1 = math.floor(bounds[2] / size), math.floor(bounds[3] / size)
    columns, rows = np.meshgrid(np.arange(i0, i1 + 1), np.arange(j0, j1 + 1), indexing="ij")
    ii, jj = columns.ravel(), rows.ravel()
    dense = np.zeros(ii.size, dtype=np.int64)
    inside = (counts.i >= i0) & (counts.i <= i1) & (counts.j >= j0) & (counts.j <= j1)
    position = (counts.i[inside] - i0) * (j1 - j0 + 1) + (counts.j[inside] - j0)
    np.add.at(dense, position, counts.count[inside])
    if dense.sum() > 0 and ii.size >= 3:
        gi = getis_ord_gi_star(dense.astype(np.float64), square_adjacency(ii, jj, queen=True))
        bins, z, p = confidence_bins(gi.z, gi.p, fdr=True), gi.z, gi.p
    else:
        bins, z, p = np.zeros(ii.size, dtype=np.int64), np.zeros(ii.size), np.ones(ii.size)
    shown = (dense > 0) | (bins != 0)
    visible = [disclosure.count(int(c)) for c in dense]
    cells = gpd.GeoDataFrame(
        {
            "count": [visible[k] for k in np.flatnonzero(shown)],
            "gi_bin": bins[shown],
            # Exact z and p for every cell would let a reader solve back to the cell counts: panel sees bins.
            "z": [None] * int(shown.sum()) if disclosure.panel else z[shown],
            "p": [None] * int(shown.sum()) if disclosure.panel else p[shown],
        },
        geometry=cell_polygons(ii[shown], jj[shown], size, "square"),
        crs=f"EPSG:{srid}",
    ).to_crs("EPSG:4326")
    weights = np.array([v or 0 for v in visible], dtype=np.float64)
    return cells, (ii + 0.5) * size, (jj + 0.5) * size, weights


def _density(
    x: np.ndarray, y: np.ndarray, weights: np.ndarray, size: float, srid: int,
) -> gpd.GeoDataFrame | None:
    """Quartic kernel density of the (viewer-visible) cell counts, as a few dissolved bands.

    Binned kernel density: each cell's count sits at its centre. For a panel member the counts are the
    disclosure-controlled ones, so the surface cannot reveal a suppressed cell.
    """
    keep = weights > 0
    if keep.sum() == 0:
        return None
    px, py, pw = x[keep], y[keep], weights[keep]
    bandwidth = max(silverman_bandwidth(px, py, pw) if keep.sum() > 1 else 0.0, 2.0 * size)
    surface = quartic_kde(
        px, py, pw, bandwidth=bandwidth, cell_size=size / 2,
        bounds=(px.min() - bandwidth, py.min() - bandwidth, px.max() + bandwidth, py.max() + bandwidth),
    )
    peak = float(surface.density.max())
    if peak <= 0:
        return None
    bands = density_bands(surface, [peak * f for f in DENSITY_BANDS], crs=f"EPSG:{srid}")
    bands["geometry"] = bands.geometry.simplify(size / 4)
    per_km2 = bands["density_min"] * 1e6
    bands["density"] = per_km2
    bands["label"] = [f"Kernel density: about {v:,.0f}+ incidents per km²" for v in per_km2]
    return bands.to_crs("EPSG:4326")


def _concern_frame(frame: gpd.GeoDataFrame, disclosure: Disclosure) -> gpd.GeoDataFrame:
    frame = frame.copy()
    frame["reason"] = [disclosure.text(r) for r in frame["reason"]]
    frame["review_by"] = [f"{d:%d %b %Y}" if d else None for d in frame["review_by"]]
    return frame


def _intervention_frame(frame: gpd.GeoDataFrame, disclosure: Disclosure) -> gpd.GeoDataFrame:
    frame = frame.copy()
    frame["description"] = [
        f"at {place}" if disclosure.panel or not text else text
        for text, place in zip(frame["description"], frame["place_name"], strict=True)
    ]
    frame["kind"] = [k.replace("_", " ").capitalize() for k in frame["kind"]]
    frame["starts_on"] = [f"{d:%d %b %Y}" for d in frame["starts_on"]]
    return frame


def _safe_space_rows(session: SessionDep, settings: Settings, at: datetime) -> list[dict[str, Any]]:
    rows = safe_spaces_db.safe_space_list(session, at, settings.map_max_points, 0)
    return rows[: settings.map_max_points]


def _safe_space_frame(rows: Sequence[dict[str, Any]], at: datetime, settings: Settings) -> gpd.GeoDataFrame:
    """Safe spaces judged at ``at``: open or not, help, ages, and guardians with their current training."""
    records, geometries = [], []
    for row in rows:
        candidate = row["candidate"]
        verdict = evaluate(candidate, at, None, settings.safe_space_stale_days)
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
            "place_id": candidate.place_id, "name": candidate.name, "hours": candidate.opening_hours,
            "open_now": bool(verdict.open), "help_offered": list(candidate.help_offered), "age_range": ages,
            "guardians": guardians,
        })
        geometry = row["geometry"]
        geometries.append(shape(json.loads(geometry) if isinstance(geometry, str) else geometry))
    return gpd.GeoDataFrame(records, geometry=geometries, crs="EPSG:4326") if records else gpd.GeoDataFrame(
        {"name": [], "open_now": [], "hours": []}, geometry=[], crs="EPSG:4326")


@router.get("/hotspots", response_class=HTMLResponse)
def hotspots(
    session: SessionDep, settings: SettingsDep,
    start_text: Annotated[str | None, Query(alias="from", description="first day (YYYY-MM-DD)")] = None,
    end_text: Annotated[str | None, Query(alias="to", description="last day (YYYY-MM-DD)")] = None,
    harm: Annotated[list[str] | None, Query(description="harm categories (none: all)")] = None,
    cell: Annotated[str | None, Query(description="cell size in metres (empty: automatic)")] = None,
    principal: Principal = gate(policy.ANALYSIS),
) -> Response:
    """Hot and cold spots (Gi*), kernel density, places of concern, interventions and safe spaces."""
    disclosure = Disclosure(principal, settings)
    today = datetime.now(LONDON).date()
    end_day = _parse_date(end_text, "to") or today
    start_day = _parse_date(start_text, "from") or (end_day - timedelta(days=365))
    if start_day > end_day:
        raise InvalidInput("from: the window starts after it ends", field="from")
    if (end_day - start_day).days > 3660:
        raise InvalidInput("from: the window is longer than ten years", field="from")
    categories = tuple(dict.fromkeys(h for h in (harm or []) if h))
    unknown = [h for h in categories if h not in HARM_CATEGORIES]
    if unknown:
        raise InvalidInput(f"harm: unknown harm category {unknown[0]!r}", field="harm")
    requested_cell = _parse_int(cell, "cell", 50, 5000)

    srid = settings.analysis_srid
    window = maps_db.IncidentFilter(_london_midnight(start_day), _london_midnight(end_day + timedelta(days=1)),
                                    categories)
    bounds = maps_db.service_area_extent(session, srid) or maps_db.incident_extent(session, window)
    size = _cell_size(bounds, requested_cell)
    density = None
    if bounds is not None:
        counts = maps_db.grid_counts(session, window, size, bounds)
        cells, x, y, weights = _hotspot_grid(counts, bounds, srid, disclosure)
        density = _density(x, y, weights, size, srid)
    else:
        cells = gpd.GeoDataFrame({"count": [], "gi_bin": [], "z": [], "p": []}, geometry=[], crs="EPSG:4326")
    concerns = _concern_frame(maps_db.concerns(session, window.start, window.end), disclosure)
    interventions = _intervention_frame(maps_db.interventions(session, start_day, end_day), disclosure)
    at = min(datetime.now(LONDON), window.end - timedelta(minutes=1))
    safe = _safe_space_frame(_safe_space_rows(session, settings, at), at, settings)

    what = ", ".join(c.replace("_", " ") for c in categories) if categories else "all harm"
    title = f"Hotspots: {what}"
    m = hotspot_map(
        cells, density, concerns, interventions, safe, title=title, tiles=settings.tile_url,
        attribution=settings.tile_attribution, max_points=settings.map_max_points,
        suppressed_text=disclosure.suppressed_text,
    )
    _audit_view(session, principal, "map:hotspots")
    return _page(
        m, settings, disclosure, title=title, current="/maps/hotspots",
        subtitle=f"{start_day:%d %b %Y} to {end_day:%d %b %Y} · {size:g} m cells · Getis-Ord Gi* with "
                 "false discovery rate correction",
        form="hotspots", start=start_day.isoformat(), end=end_day.isoformat(), harm=categories,
        categories=HARM_CATEGORIES, cell=requested_cell, cell_used=f"{size:g}", cell_choices=CELL_CHOICES,
    )


# ---- safe spaces ------------------------------------------------------------------------------------------------
@router.get("/safe-spaces", response_class=HTMLResponse)
def safe_spaces(
    session: SessionDep, settings: SettingsDep,
    at_text: Annotated[str | None, Query(alias="at", description="when (default now); UK time if no offset")] = None,
    principal: Principal = gate(policy.ANALYSIS),
) -> Response:
    """Safe spaces open or closed at a time, walking catchments, places of concern; click for the nearest."""
    disclosure = Disclosure(principal, settings)
    at = _parse_at(at_text)
    safe = _safe_space_frame(_safe_space_rows(session, settings, at), at, settings)
    concerns = _concern_frame(maps_db.concerns(session, at, at + timedelta(seconds=1)), disclosure)
    m = safe_spaces_map(
        safe, concerns, at=at, catchment_minutes=(10, 15), walking_speed_m_per_min=settings.walking_speed_m_per_min,
        tiles=settings.tile_url, attribution=settings.tile_attribution, max_points=settings.map_max_points,
    )
    _audit_view(session, principal, "map:safe-spaces")
    open_count = int(safe["open_now"].sum()) if len(safe) else 0
    return _page(
        m, settings, disclosure, title="Safe spaces", current="/maps/safe-spaces",
        subtitle=f"{open_count} of {len(safe)} open at {at:%H:%M on %a %d %b %Y}",
        form="safe_spaces", at_local=f"{at:%Y-%m-%dT%H:%M}",
    )


# ---- displacement -----------------------------------------------------------------------------------------------
def _intervention_label(item: dict[str, Any], disclosure: Disclosure) -> str:
    kind = str(item["kind"]).replace("_", " ").capitalize()
    where = f" at {item['place_name']}" if item.get("place_name") else ""
    detail = disclosure.text(item.get("description"))
    return f"{kind}{where}" + (f": {detail}" if detail else "")


def _chooser(request: Request, session: SessionDep, settings: Settings, principal: Principal,
             disclosure: Disclosure) -> Response:
    items = [item | {"label": _intervention_label(item, disclosure)} for item in maps_db.intervention_list(session)]
    context = page_context(request, principal, settings) | {"interventions": items}
    return templates.TemplateResponse(request, "map_chooser.html", context)


def _displacement_summary(
    counts: maps_db.AreaCounts | None, months: int, before: tuple[date, date], after: tuple[date, date],
    disclosure: Disclosure,
) -> list[DisplacementMeasure]:
    """The displacement measures in plain English (panel: computed from disclosure-controlled counts)."""
    if counts is None or months < 1:
        return [DisplacementMeasure(
            "Before and after", "not enough data",
            "There is not yet a full month of incident data on both sides of the start date to compare.")]
    days_before, days_after = (before[1] - before[0]).days, (after[1] - after[0]).days
    lines = [DisplacementMeasure(
        "Compared", f"{months} months before and after",
        f"{before[0]:%b %Y}–{_add_months(before[1], -1):%b %Y} against "
        f"{after[0]:%b %Y}–{_add_months(after[1], -1):%b %Y}.")]
    areas = (
        ("target", f"Target (within {TARGET_M:g} m)", counts.target),
        ("buffer", f"Buffer ({TARGET_M:g}–{BUFFER_M:g} m)", counts.buffer),
        ("control", f"Control ({BUFFER_M:g}–{CONTROL_M:,.0f} m)", counts.control),
    )
    shown: dict[str, tuple[int | None, int | None]] = {}
    for name, label, (b, a) in areas:
        vb, va = disclosure.count(b), disclosure.count(a)
        shown[name] = (vb, va)
        text = lambda v: disclosure.suppressed_text if v is None else f"{v:,}"  # noqa: E731
        if vb is None or va is None or vb + va == 0:
            reading = "Too few incidents to compare."
        else:
            reading = rate_ratio(vb, days_before, va, days_after).interpretation
        lines.append(DisplacementMeasure(label, f"{text(vb)} before → {text(va)} after", reading))
    if any(v is None for pair in shown.values() for v in pair):
        lines.append(DisplacementMeasure(
            "Displacement measures", "not shown", "Some of the counts are too small to publish."))
        return lines
    result = weighted_displacement_quotient(
        target=shown["target"], buffer=shown["buffer"], control=shown["control"])  # type: ignore[arg-type]
    for measure, label in (
        (result.success_measure, "Success measure"),
        (result.buffer_displacement_measure, "Buffer displacement measure"),
        (result.wdq, "Weighted displacement quotient"),
        (result.total_net_effect, "Total net effect"),
    ):
        value = "undefined" if measure.value is None else f"{measure.value:+.2f}"
        lines.append(DisplacementMeasure(label, value, measure.interpretation))
    return lines


def _monthly_cells(
    rows: Sequence[tuple[int, int, str, int]], months: Sequence[str], size: float, srid: int,
    disclosure: Disclosure,
) -> gpd.GeoDataFrame:
    """One row per cell and month, zeros filled in for every month of the slider."""
    by_cell: dict[tuple[int, int], dict[str, int]] = {}
    for i, j, month, n in rows:
        by_cell.setdefault((i, j), {})[month] = n
    records, ii, jj = [], [], []
    for (i, j), series in sorted(by_cell.items()):
        for month in months:
            records.append({"cell_id": f"{i}:{j}", "month": month, "count": disclosure.count(series.get(month, 0))})
            ii.append(i)
            jj.append(j)
    geometry: Any = cell_polygons(ii, jj, size, "square") if records else []
    frame = gpd.GeoDataFrame(records or {"cell_id": [], "month": [], "count": []}, geometry=geometry,
                             crs=f"EPSG:{srid}")
    return frame.to_crs("EPSG:4326")


def _rises(
    rows: Sequence[dict[str, Any]], days_before: int, days_after: int, disclosure: Disclosure,
) -> pd.DataFrame:
    """Places where harm rose clearly afterwards (exact 95 % interval of the rate ratio above 1)."""
    found = []
    for row in rows:
        before, after = disclosure.count(row["before"]), disclosure.count(row["after"])
        if before is None or after is None or after == 0:
            continue
        result = rate_ratio(before, days_before, after, days_after)
        if result.lower is not None and result.lower > 1:
            found.append({"name": row["name"], "rate_ratio": result.ratio, "lower": result.lower,
                          "upper": result.upper, "lon": row["lon"], "lat": row["lat"], "sort": result.lower})
    found.sort(key=lambda r: -r["sort"])
    return pd.DataFrame(found[:MAX_RISES], columns=["name", "rate_ratio", "lower", "upper", "lon", "lat"])


@router.get("/displacement", response_class=HTMLResponse)
def displacement(
    request: Request, session: SessionDep, settings: SettingsDep,
    intervention: Annotated[str | None, Query(description="intervention id (none: choose one)")] = None,
    months_before: Annotated[str | None, Query(description="months shown before the start (1-36)")] = None,
    months_after: Annotated[str | None, Query(description="months shown from the start (1-36)")] = None,
    principal: Principal = gate(policy.ANALYSIS),
) -> Response:
    """Where harm went after an intervention. Without ``intervention``: a list to choose from."""
    disclosure = Disclosure(principal, settings)
    chosen = _parse_int(intervention, "intervention", 1, 2**63 - 1)
    if chosen is None:
        return _chooser(request, session, settings, principal, disclosure)
    span_before = _parse_int(months_before, "months_before", 1, 36) or 12
    span_after = _parse_int(months_after, "months_after", 1, 36) or 12
    item = maps_db.intervention(session, chosen)
    if not item["located"]:
        raise InvalidInput("intervention: it has no location (no area and no place), so there is nothing to map",
                           field="intervention")
    srid = settings.analysis_srid
    start_month = item["starts_on"].replace(day=1)
    first = maps_db.first_incident_at(session)
    first_month = first.astimezone(LONDON).date().replace(day=1) if first else start_month
    this_month = datetime.now(LONDON).date().replace(day=1)
    slider = (max(_add_months(start_month, -span_before), first_month),
              min(_add_months(start_month, span_after), _add_months(this_month, 1)))
    # Equal, complete windows either side of the start, so before and after are like for like.
    months = max(0, min(span_before, span_after, _months_between(first_month, start_month),
                        _months_between(start_month, this_month)))
    before = (_add_months(start_month, -months), start_month)
    after = (start_month, _add_months(start_month, months))

    centre = maps_db.Centre("intervention", chosen, srid)
    target, buffer, control = maps_db.rings(session, centre, [(0, TARGET_M), (TARGET_M, BUFFER_M),
                                                              (BUFFER_M, CONTROL_M)])
    counts, rises = None, pd.DataFrame(columns=["name", "rate_ratio", "lower", "upper", "lon", "lat"])
    if months >= 1:
        before_filter = maps_db.IncidentFilter(_london_midnight(before[0]), _london_midnight(before[1]))
        after_filter = maps_db.IncidentFilter(_london_midnight(after[0]), _london_midnight(after[1]))
        counts = maps_db.area_counts(session, centre, (TARGET_M, BUFFER_M, BUFFER_M, CONTROL_M),
                                     before_filter, after_filter)
        nearby = maps_db.place_counts_before_after(
            session, maps_db.Near(centre, CONTROL_M), RISE_RADIUS_M, before_filter, after_filter,
            exclude_place_id=item["place_id"])
        rises = _rises(nearby, (before[1] - before[0]).days, (after[1] - after[0]).days, disclosure)
    labels = _month_labels(slider[0], slider[1])
    monthly_rows = maps_db.monthly_grid_counts(
        session, maps_db.IncidentFilter(_london_midnight(slider[0]), _london_midnight(slider[1])),
        MONTHLY_CELL_M, maps_db.Near(centre, BUFFER_M))
    monthly = _monthly_cells(monthly_rows, labels, MONTHLY_CELL_M, srid, disclosure)
    summary = _displacement_summary(counts, months, before, after, disclosure)

    title = _intervention_label(item, disclosure)
    m = displacement_map(
        target, buffer, control, monthly, rises, summary, intervention_date=item["starts_on"],
        title="Did harm move?", tiles=settings.tile_url, attribution=settings.tile_attribution,
        suppressed_text=disclosure.suppressed_text,
    )
    _audit_view(session, principal, f"map:displacement:intervention:{chosen}")
    options = [{"id": o["id"], "label": _intervention_label(o, disclosure)}
               for o in maps_db.intervention_list(session) if o["located"]]
    return _page(
        m, settings, disclosure, title=title, current="/maps/displacement",
        subtitle=f"Started {item['starts_on']:%d %b %Y} · owned by {item['owning_partner']}",
        form="displacement", interventions=options, chosen=chosen, months_before=span_before,
        months_after=span_after,
    )


# ---- one place ---------------------------------------------------------------------------------------------------
@router.get("/places/{place_id}", response_class=HTMLResponse)
def place_in_context(
    place_id: int, session: SessionDep, settings: SettingsDep, principal: Principal = gate(policy.ANALYSIS),
) -> Response:
    """One place: its designation history, guardians, neighbours, incidents around it and over time."""
    disclosure = Disclosure(principal, settings)
    row = maps_db.place(session, place_id)
    srid = settings.analysis_srid
    now = datetime.now(LONDON)
    this_month = now.date().replace(day=1)
    centre = maps_db.Centre("place", place_id, srid)

    designations = [
        Designation(
            kind=d["kind"], valid_from=d["valid_from"].astimezone(LONDON).date(),
            valid_to=d["valid_to"].astimezone(LONDON).date() if d["valid_to"] else None,
            level=d["level"], reason=disclosure.text(d["reason"]), scheme=d["scheme"],
        )
        for d in maps_db.designation_history(session, place_id)
    ]
    guardians = [
        Guardian(
            role=g["role"].replace("_", " "),
            training=tuple(
                f"{t.get('kind', '').replace('_', ' ')}" + (f" ({t['completed_on']})" if t.get("completed_on") else "")
                for t in (g["trainings"] or [])
            ),
            hours=g["hours"],
        )
        for g in maps_db.guardians_of(session, place_id)
    ]
    concerns = _concern_frame(
        maps_db.concerns(session, now, now + timedelta(seconds=1), maps_db.Near(centre, PLACE_NEAR_M)), disclosure)
    concerns = concerns[concerns["place_id"] != place_id]
    safe = _safe_space_frame(_safe_space_rows(session, settings, now), now, settings)
    if len(safe):
        here = gpd.GeoSeries([row["geometry"]], crs="EPSG:4326").to_crs(f"EPSG:{srid}").iloc[0]
        distance = safe.to_crs(f"EPSG:{srid}").distance(here)
        safe = safe[(distance <= PLACE_NEAR_M).to_numpy() & (safe["place_id"] != place_id).to_numpy()]

    year = maps_db.IncidentFilter(_london_midnight(_add_months(this_month, -11)), _london_midnight(
        _add_months(this_month, 1)))
    grid = maps_db.grid_counts(session, year, PLACE_CELL_SIZE_M, near=maps_db.Near(centre, PLACE_CELLS_M))
    cells = gpd.GeoDataFrame(
        {"count": [disclosure.count(c) for c in grid.count]},
        geometry=cell_polygons(grid.i, grid.j, PLACE_CELL_SIZE_M, "square") if grid.i.size else [],
        crs=f"EPSG:{srid}",
    ).to_crs("EPSG:4326")
    two_years = (_add_months(this_month, -23), _add_months(this_month, 1))
    monthly = maps_db.monthly_counts(
        session, maps_db.IncidentFilter(_london_midnight(two_years[0]), _london_midnight(two_years[1])),
        maps_db.Near(centre, PLACE_TIMELINE_M))
    timeline = {label: disclosure.count(monthly.get(label, 0)) for label in _month_labels(*two_years)}

    place = Place(name=row["name"], geometry=row["geometry"], kind=row["kind"], address=row["address"],
                  opening_hours=row["opening_hours"], place_manager=row["place_manager"])
    m = place_map(
        place, designations, guardians, concerns, safe, cells, timeline, tiles=settings.tile_url,
        attribution=settings.tile_attribution, max_points=settings.map_max_points,
        suppressed_text=disclosure.suppressed_text,
    )
    _audit_view(session, principal, f"map:place:{place_id}")
    return _page(
        m, settings, disclosure, title=row["name"], current=f"/maps/places/{place_id}",
        subtitle=f"Incidents within {PLACE_CELLS_M:g} m over the last 12 months; timeline within "
                 f"{PLACE_TIMELINE_M:g} m over 24 months",
    )
