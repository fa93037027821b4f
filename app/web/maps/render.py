"""folium map builders for the three users: hotspots, safe spaces, displacement, and one place.

Each builder takes plain inputs (GeoDataFrames in EPSG:4326, or the small dataclasses below) and
returns a :class:`folium.Map` with a layer control, a scale bar, a full-screen control, a legend and
named layers, all scripts and stylesheets served from ``/static/vendor`` (:mod:`app.web.maps.assets`).
The web layer renders it with ``m.get_root().render()`` and may send a strict CSP with
:func:`app.web.maps.assets.inline_script_hashes`. Every user-supplied string is escaped here.

Privacy: callers never pass incident points for panel users; builders accept suppressed counts
(``None``) and draw no more than ``max_points`` individual point markers per map, switching layers
that do not fit to aggregated grid cells.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import branca.colormap
import folium
import folium.plugins
import geopandas as gpd
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from app.web.maps.assets import DEFAULT_VENDOR_BASE_URL
from app.web.maps.layers import (
    OSM_ATTRIBUTION,
    OSM_TILES,
    SYMBOL_NOTE,
    BeforeAfterSwipe,
    HtmlControl,
    NearestOpenSafeSpaces,
    PageData,
    PointBudget,
    add_point_or_cells,
    bar_chart_svg,
    base_map,
    column,
    combined_bounds,
    definition_list,
    escape_text,
    feature_collection,
    feature_group,
    finish_map,
    legend_html,
    styled_geojson,
)

__all__ = [
    "GI_BIN_COLOURS",
    "Designation",
    "DisplacementMeasure",
    "Guardian",
    "Place",
    "displacement_map",
    "hotspot_map",
    "place_map",
    "safe_spaces_map",
]

#: Gi* bin → fill colour: ColorBrewer RdBu, 6 classes (Brewer & Harrower, colorbrewer2.org; marked
#: colour-blind safe there), stepped so 99/95/90 % differ clearly in lightness; "no clear pattern" is
#: RdBu's 7-class neutral, drawn faintly.
GI_BIN_COLOURS: Mapping[int, str] = {
    3: "#b2182b",
    2: "#ef8a62",
    1: "#fddbc7",
    0: "#f7f7f7",
    -1: "#d1e5f0",
    -2: "#67a9cf",
    -3: "#2166ac",
}
GI_BIN_LABELS: Mapping[int, str] = {
    3: "Hot spot — very likely, 99 %",
    2: "Hot spot — likely, 95 %",
    1: "Hot spot — possibly, 90 %",
    0: "No clear pattern",
    -1: "Cold spot — possibly, 90 %",
    -2: "Cold spot — likely, 95 %",
    -3: "Cold spot — very likely, 99 %",
}
CONCERN_COLOUR, INTERVENTION_COLOUR = "#b03a2e", "#6c3483"
OPEN_COLOUR, CLOSED_COLOUR = "#1e8449", "#7f8c8d"
#: 80 m/min (4.8 km/h), a common planning figure for walking speed.
DEFAULT_WALKING_SPEED_M_PER_MIN = 80.0
DEFAULT_SUPPRESSED_TEXT = "suppressed (fewer than 8)"


@dataclass(frozen=True)
class Guardian:
    """A guardian role at a place (never a named person)."""

    role: str
    training: tuple[str, ...] = ()
    hours: str | None = None


@dataclass(frozen=True)
class Designation:
    """One time-bounded judgement about a place: ``kind`` is ``"concern"`` or ``"safe_space"``."""

    kind: str
    valid_from: date
    valid_to: date | None = None
    level: str | None = None
    reason: str | None = None
    scheme: str | None = None


@dataclass(frozen=True)
class Place:
    """The place a :func:`place_map` is about (geometry in EPSG:4326)."""

    name: str
    geometry: BaseGeometry
    kind: str = "other"
    address: str | None = None
    opening_hours: str | None = None
    place_manager: str | None = None


@dataclass(frozen=True)
class DisplacementMeasure:
    """One line of the displacement summary box, in plain English."""

    label: str
    value: str
    interpretation: str


def _count_text(count: Any, suppressed_text: str) -> str:
    return suppressed_text if count is None or pd.isna(count) else str(int(count))


def _guardians_text(guardians: Any) -> str:
    if guardians is None or isinstance(guardians, float):
        return ""
    if isinstance(guardians, str) or not isinstance(guardians, Sequence):
        return str(guardians)
    parts = []
    for guardian in guardians:
        role = guardian.role if isinstance(guardian, Guardian) else guardian.get("role", "")
        training = guardian.training if isinstance(guardian, Guardian) else guardian.get("training", ())
        parts.append(f"{role} (trained: {', '.join(training)})" if training else str(role))
    return "; ".join(parts)


def _join(value: Any) -> Any:
    return ", ".join(map(str, value)) if isinstance(value, list | tuple) else value


def _concern_popup(row: Any) -> str:
    return definition_list(
        [
            ("Level", column(row, "level")),
            ("Reason", column(row, "reason")),
            ("Review by", column(row, "review_by")),
        ],
        title=column(row, "name", "Place of concern"),
    ) + _place_link(row, "Open the place page: review the concern, add a note or an intervention")


def _concern_style(row: Any) -> dict[str, Any]:
    radius = {"high": 10, "medium": 8}.get(str(column(row, "level", "")).lower(), 6)
    return {"radius": radius, "color": CONCERN_COLOUR, "fill": True, "fill_opacity": 0.7, "weight": 2}


def _add_concerns(
    m: folium.Map,
    concerns: gpd.GeoDataFrame | None,
    budget: PointBudget,
    cell_size_m: float,
    name: str = "Places of concern",
) -> None:
    group = feature_group(m, name)
    if concerns is not None:
        add_point_or_cells(
            group,
            concerns,
            budget,
            popup=_concern_popup,
            tooltip=lambda row: escape_text(column(row, "name", "Place of concern")),
            point_style=_concern_style,
            cell_size_m=cell_size_m,
            what="places of concern",
            colour=CONCERN_COLOUR,
        )


CONTOUR_COLOUR = "#3b1c0a"
YOUNG_UNSAFE_LAYER = "Young people feel unsafe here"
YOUNG_UNSAFE_COLOUR = "#c2008a"  # magenta: apart from the hot-spot reds, the concern red and the purple
CONTOUR_SMOOTHING_DEG = 0.0002


def density_contours(density: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame:
    """Contour lines of the density surface: for each band's lower bound, the edge of the area at or above it.

    The bands are the analysis service's (:mod:`app.services.density`, the same surface as
    ``/api/analysis/hotspots?density=true``); their edges are the iso-lines of that surface at each level.
    """
    empty = gpd.GeoDataFrame({"density": [], "label": []}, geometry=[], crs="EPSG:4326")
    if density is None or not len(density):
        return empty
    values = pd.to_numeric(density["density"], errors="coerce")
    rows = []
    for level in sorted(values.dropna().unique()):
        above = density.geometry[(values >= level).to_numpy()]
        # The bands are polygonised raster cells: simplifying by about one raster cell (~25 m) takes the
        # staircase off the line without moving it further than the surface's own resolution.
        line = shapely.union_all(above.to_numpy()).boundary.simplify(CONTOUR_SMOOTHING_DEG)
        if not line.is_empty:
            rows.append({"density": float(level), "geometry": line,
                         "label": f"Kernel density contour: {level:,.0f} incidents per km²"})
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=density.crs) if rows else empty


def hotspot_map(
    cells: gpd.GeoDataFrame,
    density: gpd.GeoDataFrame | None,
    concerns: gpd.GeoDataFrame | None,
    interventions: gpd.GeoDataFrame | None,
    safe_spaces: gpd.GeoDataFrame | None,
    *,
    title: str,
    tiles: str | None = OSM_TILES,
    attribution: str | None = OSM_ATTRIBUTION,
    max_points: int = 2000,
    aggregate_cell_m: float = 250.0,
    suppressed_text: str = DEFAULT_SUPPRESSED_TEXT,
    vendor_base_url: str = DEFAULT_VENDOR_BASE_URL,
    unsafe: gpd.GeoDataFrame | None = None,
) -> folium.Map:
    """Hot and cold spots (Getis-Ord Gi*) with kernel density, places of concern and responses.

    Parameters
    ----------
    cells : GeoDataFrame
        Grid polygons with ``count`` (int, or ``None`` when suppressed), ``gi_bin`` (-3..3: cold/hot
        at 99/95/90 % confidence, 0 not significant), ``z`` and ``p``; optionally ``popup``, escaped
        HTML (:func:`escape_text`) shown when a cell is selected.
    density : GeoDataFrame or None
        Polygons with ``density`` (kernel density estimate), drawn semi-transparent in YlOrRd; an
        optional ``label`` column is used as the tooltip.
    concerns : GeoDataFrame or None
        Points or polygons with ``name``, ``level``, ``reason``, ``review_by``.
    interventions : GeoDataFrame or None
        Points or polygons with ``kind``, ``description``, ``owning_partner``, ``starts_on``.
    safe_spaces : GeoDataFrame or None
        Points or polygons with ``name``, ``open_now`` (bool), ``hours``.
    title : str
        Shown at the top of the legend.
    tiles, attribution : str or None
        Basemap tile URL template and its attribution (trusted configuration, HTML allowed);
        ``tiles=None`` for no basemap.
    max_points : int, default 2000
        Most individual point markers on the map; layers past it are drawn as
        ``aggregate_cell_m`` squares with counts.
    suppressed_text : str
        Shown for suppressed counts.
    unsafe : GeoDataFrame or None
        Squares young people's safety maps coloured red (issue 21), each with a ``label`` (plain text, the
        tooltip); the caller has applied the disclosure threshold. Drawn as dashed outlines over the cells.

    Returns
    -------
    folium.Map
        Layers "Hotspot cells (Gi*)", "Young people feel unsafe here", "Kernel density", "Places of concern",
        "Interventions", "Safe spaces".
    """
    m = base_map(tiles=tiles, attribution=attribution)
    budget = PointBudget(max_points)

    # Density repeats the cells' message: off by default, a layer to tick (issue 16), and drawn as contour
    # lines, never as filled areas over the cells, so the cells stay readable under it.
    group = feature_group(m, "Kernel density", show=False)
    contours = density_contours(density)
    if len(contours):
        # One dark colour that reads on every cell colour; higher levels drawn heavier (1 to 3.5 px).
        heaviest = max(len(contours) - 1, 1)
        styled_geojson(
            group,
            feature_collection(
                contours.geometry,
                (
                    {
                        "style": {"color": CONTOUR_COLOUR, "weight": 1 + 2.5 * level / heaviest, "opacity": 0.9,
                                  "fill": False, "className": "contextmap-contour"},
                        "tooltip": escape_text(label),
                    }
                    for level, label in enumerate(contours["label"])
                ),
            ),
        )

    group = feature_group(m, "Hotspot cells (Gi*)")
    if len(cells):
        properties = []
        for row in cells.itertuples():
            gi_bin = int(column(row, "gi_bin", 0) or 0)
            z, p = column(row, "z"), column(row, "p")
            stats = "" if z is None or p is None else f" · Gi* z = {float(z):.2f}, p = {float(p):.3g}"
            properties.append(
                {
                    "tooltip": escape_text(
                        f"Incidents: {_count_text(column(row, 'count'), suppressed_text)} · "
                        f"{GI_BIN_LABELS.get(gi_bin, 'Not significant')}{stats}"
                    ),
                    "style": {
                        "color": "#666",
                        "weight": 0.5,
                        "fillColor": GI_BIN_COLOURS.get(gi_bin, "#e3e3e3"),
                        "fillOpacity": 0.65 if gi_bin else 0.3,
                    },
                    # Optional escaped popup HTML the caller built (e.g. the web page's "Flag as a place of
                    # concern" link for a significant cell): geo/ knows no URLs.
                    **({"popup": column(row, "popup")} if column(row, "popup") else {}),
                }
            )
        styled_geojson(group, feature_collection(cells.geometry, properties))

    # Issue 21: "young people feel unsafe here" beside "harm was recorded here" — outlines, so the cells
    # under them stay readable.
    group = feature_group(m, YOUNG_UNSAFE_LAYER)
    if unsafe is not None and len(unsafe):
        styled_geojson(group, feature_collection(unsafe.geometry, (
            {"tooltip": escape_text(label),
             "style": {"color": YOUNG_UNSAFE_COLOUR, "weight": 3, "dashArray": "6 4", "fill": True,
                       "fillOpacity": 0.0, "className": "contextmap-young-unsafe"}}
            for label in unsafe["label"])))

    _add_concerns(m, concerns, budget, aggregate_cell_m)

    group = feature_group(m, "Interventions")
    if interventions is not None:
        add_point_or_cells(
            group,
            interventions,
            budget,
            popup=lambda row: definition_list(
                [
                    ("What", column(row, "description")),
                    ("Owning partner", column(row, "owning_partner")),
                    ("Starts", column(row, "starts_on")),
                ],
                title=column(row, "kind", "Intervention"),
            ),
            tooltip=lambda row: escape_text(
                f"{column(row, 'kind', 'Intervention')}: {column(row, 'description', '')}"
            ),
            point_style=lambda row: {
                "radius": 7,
                "color": INTERVENTION_COLOUR,
                "fill": True,
                "fill_opacity": 0.7,
                "weight": 2,
            },
            cell_size_m=aggregate_cell_m,
            what="interventions",
            colour=INTERVENTION_COLOUR,
        )

    group = feature_group(m, "Safe spaces")
    if safe_spaces is not None:
        add_point_or_cells(
            group,
            safe_spaces,
            budget,
            popup=lambda row: definition_list(
                [("Open now", "yes" if column(row, "open_now") else "no"), ("Hours", column(row, "hours"))],
                title=column(row, "name", "Safe space"),
            ),
            tooltip=lambda row: escape_text(column(row, "name", "Safe space")),
            point_style=lambda row: {
                "radius": 7,
                "color": OPEN_COLOUR if column(row, "open_now") else CLOSED_COLOUR,
                "fill": True,
                "fill_opacity": 0.8,
                "weight": 2,
            },
            cell_size_m=aggregate_cell_m,
            what="safe spaces",
            colour=OPEN_COLOUR,
        )

    # Two short legends (at most six entries each) rather than one of twelve.
    HtmlControl(
        legend_html(
            "Hot and cold spots",
            [(GI_BIN_COLOURS[b], GI_BIN_LABELS[b]) for b in (3, 2, 1, -1, -2, -3)],
            # Only a disclosure-controlled map has suppressed counts to explain.
            note="Pale cells: incidents, but no clear pattern. A cell is judged with its neighbours, so it can be "
                 "a hot spot with no incidents of its own."
            + (f" Counts of 1–7 are shown as “{suppressed_text}”."
               if len(cells) and pd.to_numeric(cells["count"], errors="coerce").isna().any() else ""),
        )
        + legend_html(
            "Places",
            [
                (CONCERN_COLOUR, "Place of concern"),
                (INTERVENTION_COLOUR, "Intervention"),
                (OPEN_COLOUR, "Safe space, open now"),
                (CLOSED_COLOUR, "Safe space, closed now"),
                (CONTOUR_COLOUR, "Kernel density contours (a layer to tick)"),
                (YOUNG_UNSAFE_COLOUR, "Young people feel unsafe here (dashed square)"),
            ],
            note=SYMBOL_NOTE,
        )
    ).add_to(m)
    return finish_map(
        m,
        combined_bounds(cells, density, concerns, interventions, safe_spaces),
        vendor_base_url=vendor_base_url,
    )


def _safe_space_popup(row: Any, is_open: bool) -> str:
    return definition_list(
        [
            # "open, by appointment" / "hours not known — ring first" when the page supplies the note.
            ("Status", column(row, "hours_note") or ("open" if is_open else "closed")),
            ("Opening hours", column(row, "hours")),
            ("Help offered", _join(column(row, "help_offered"))),
            ("Age range", column(row, "age_range")),
            ("Guardians", _guardians_text(column(row, "guardians"))),
        ],
        title=column(row, "name", "Safe space"),
    ) + _place_link(row, "Open the place page: opening times, guardians, history")


def _place_link(row: Any, label: str) -> str:
    """The popup's next step: the place's own page (``place_id`` is a row id, never a location)."""
    place_id = column(row, "place_id")
    if place_id is None or pd.isna(place_id):
        return ""
    return f'<p class="contextmap-next"><a href="/places/{int(place_id)}">{escape_text(label)}</a></p>'


def safe_spaces_map(
    safe_spaces: gpd.GeoDataFrame,
    concerns: gpd.GeoDataFrame | None,
    *,
    at: datetime,
    is_open: Callable[[str | None, datetime], bool | None] | None = None,
    catchment_minutes: Sequence[int] = (10, 15),
    walking_speed_m_per_min: float = DEFAULT_WALKING_SPEED_M_PER_MIN,
    tiles: str | None = OSM_TILES,
    attribution: str | None = OSM_ATTRIBUTION,
    max_points: int = 2000,
    aggregate_cell_m: float = 250.0,
    vendor_base_url: str = DEFAULT_VENDOR_BASE_URL,
) -> folium.Map:
    """Safe spaces open or closed at ``at``, their walking catchments, and nearby places of concern.

    A click anywhere lists the three nearest safe spaces open at ``at`` (computed in the browser
    from coordinates embedded in the page; no network call).

    Parameters
    ----------
    safe_spaces : GeoDataFrame
        Points (polygons use a representative point) with ``name``; optional ``hours`` (opening
        hours text), ``open_now`` (bool, whether open at ``at``), ``help_offered`` (str or list),
        ``age_range`` (str), ``guardians`` (list of :class:`Guardian` or mappings with ``role``
        and ``training``).
    concerns : GeoDataFrame or None
        Places of concern for context: ``name``, ``level``, ``reason``, ``review_by``.
    at : datetime
        The moment "open" refers to; shown in the legend.
    is_open : callable, optional
        ``(hours, at) -> bool | None``; when given it decides open/closed from ``hours`` instead
        of the ``open_now`` column (pass the opening-hours evaluator here).
    catchment_minutes : sequence of int, default (10, 15)
        Walking times drawn as catchment circles around open safe spaces.
    walking_speed_m_per_min : float, default 80
        Circle radius is minutes × speed. This is a straight-line approximation: it ignores the
        street network, barriers and busy roads, so real walking catchments are smaller.

    Returns
    -------
    folium.Map
        Layers "Safe spaces (open)", "Safe spaces (closed)", "Walking catchment N min" for each N,
        "Places of concern".
    """
    m = base_map(tiles=tiles, attribution=attribution)
    budget = PointBudget(max_points)
    points = safe_spaces.copy()
    points["geometry"] = points.geometry.representative_point()
    if is_open is not None:
        hours = points["hours"] if "hours" in points else pd.Series([None] * len(points), index=points.index)
        open_mask = pd.Series([bool(is_open(h, at)) for h in hours], index=points.index)
    elif "open_now" in points:
        open_mask = points["open_now"].fillna(False).astype(bool)
    else:
        open_mask = pd.Series(False, index=points.index)
    open_spaces, closed_spaces = points[open_mask.to_numpy()], points[~open_mask.to_numpy()]

    for minutes in sorted(catchment_minutes, reverse=True):
        group = feature_group(m, f"Walking catchment {minutes} min")
        radius = float(minutes) * walking_speed_m_per_min
        for row in open_spaces.itertuples():
            folium.Circle(
                location=[row.geometry.y, row.geometry.x],
                radius=radius,
                color=OPEN_COLOUR,
                weight=1,
                fill=True,
                fill_opacity=0.08,
                interactive=False,
            ).add_to(group)

    for layer_name, frame, colour, state in (
        ("Safe spaces (open)", open_spaces, OPEN_COLOUR, True),
        ("Safe spaces (closed)", closed_spaces, CLOSED_COLOUR, False),
    ):
        add_point_or_cells(
            feature_group(m, layer_name),
            frame,
            budget,
            popup=lambda row, state=state: _safe_space_popup(row, state),
            tooltip=lambda row, state=state: escape_text(
                f"{column(row, 'name', 'Safe space')} ({'open' if state else 'closed'})"
            ),
            point_style=lambda row, colour=colour: {
                "radius": 8,
                "color": colour,
                "fill": True,
                "fill_opacity": 0.85,
                "weight": 2,
            },
            cell_size_m=aggregate_cell_m,
            what="safe spaces",
            colour=colour,
        )

    _add_concerns(m, concerns, budget, aggregate_cell_m)

    NearestOpenSafeSpaces(
        [
            {
                "name": column(row, "name", "Safe space"),
                "hours": column(row, "hours"),
                "lat": row.geometry.y,
                "lon": row.geometry.x,
            }
            for row in open_spaces.itertuples()
        ],
        walking_speed_m_per_min,
    ).add_to(m)
    HtmlControl(
        legend_html(
            f"Safe spaces at {at:%a %d %b %Y %H:%M}",
            [(OPEN_COLOUR, "Open"), (CLOSED_COLOUR, "Closed"), (CONCERN_COLOUR, "Place of concern")],
            note=f"Circles: {', '.join(str(c) for c in sorted(catchment_minutes))} minutes' walk at "
            f"{walking_speed_m_per_min:g} m/min, straight line (real routes are longer). "
            f"Click the map for the nearest open safe spaces. {SYMBOL_NOTE}",
        )
    ).add_to(m)
    return finish_map(m, combined_bounds(points, concerns), vendor_base_url=vendor_base_url)


def _rise_text(row: Any) -> str:
    """Rate ratio and interval; ``None`` ratio or upper limit means none were recorded before."""
    ratio, lower, upper = column(row, "rate_ratio"), column(row, "lower"), column(row, "upper")
    if ratio is None:
        return "harm appeared where none was recorded before" + (
            f" (rate ratio at least {float(lower):.2f}, 95% interval)" if lower is not None else ""
        )
    interval = (
        f"95% interval {float(lower):.2f}–{float(upper):.2f}"
        if upper is not None
        else f"95% interval from {float(lower):.2f}"
    )
    return f"rate ratio {float(ratio):.2f} ({interval})"


def _as_geometry(value: BaseGeometry | gpd.GeoDataFrame | gpd.GeoSeries | None) -> BaseGeometry | None:
    if value is None:
        return None
    if isinstance(value, BaseGeometry):
        return value
    return shapely.union_all(value.geometry.to_numpy()) if len(value) else None


def _monthly_cells_before_after(
    monthly_cells: gpd.GeoDataFrame, intervention_date: date
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Mean monthly count per cell before and from the intervention month (suppressed months skipped)."""
    frame = monthly_cells.copy()
    key = frame["cell_id"] if "cell_id" in frame else frame.geometry.to_wkb()
    frame["_cell"] = key.astype(str) if "cell_id" in frame else key
    cutoff = f"{intervention_date:%Y-%m}"
    frame["_count"] = pd.to_numeric(frame["count"], errors="coerce")
    out = []
    for after in (False, True):
        part = frame[(frame["month"].astype(str) >= cutoff) == after]
        grouped = part.groupby("_cell", sort=False).agg(
            mean=("_count", "mean"),
            months=("month", "nunique"),
            geometry=("geometry", "first"),
        )
        out.append(
            gpd.GeoDataFrame(grouped.reset_index(drop=True), geometry="geometry", crs=monthly_cells.crs)
        )
    return out[0], out[1]


def displacement_map(
    target: BaseGeometry | gpd.GeoDataFrame | gpd.GeoSeries,
    buffer: BaseGeometry | gpd.GeoDataFrame | gpd.GeoSeries | None,
    control: BaseGeometry | gpd.GeoDataFrame | gpd.GeoSeries | None,
    monthly_cells: gpd.GeoDataFrame,
    rises: pd.DataFrame | None,
    summary: Sequence[DisplacementMeasure | tuple[str, str, str]],
    *,
    intervention_date: date,
    title: str = "Displacement after the intervention",
    tiles: str | None = OSM_TILES,
    attribution: str | None = OSM_ATTRIBUTION,
    suppressed_text: str = DEFAULT_SUPPRESSED_TEXT,
    vendor_base_url: str = DEFAULT_VENDOR_BASE_URL,
) -> folium.Map:
    """Where harm went after an intervention: areas, a monthly slider, a before/after swipe, rises.

    Parameters
    ----------
    target, buffer, control : shapely geometry, GeoDataFrame or GeoSeries
        Target area, its buffer (catchment for displacement), control area (``buffer`` and
        ``control`` may be ``None``).
    monthly_cells : GeoDataFrame
        Aggregated cell polygons, one row per cell and month: ``month`` ("YYYY-MM"), ``count``
        (int or ``None`` when suppressed), optional ``cell_id``. Drives the time slider and the
        before/after swipe (mean monthly count before vs. from the intervention month; suppressed
        months are left out of the mean).
    rises : DataFrame or None
        Places where harm rose afterwards: ``name``, ``rate_ratio``, ``lower``, ``upper`` (95 %
        interval; ``rate_ratio`` and ``upper`` may be missing when nothing was recorded before),
        ``lon``, ``lat``, and optionally ``text`` to say instead of the ratio (e.g. when withheld).
        Drawn as arrows from the target's centroid.
    summary : sequence of DisplacementMeasure or (label, value, interpretation)
        The displacement measures in plain English, shown in a box.
    intervention_date : date
        Months from this date's month on count as "after".

    Returns
    -------
    folium.Map
        Layers "Target area", "Buffer", "Control area", "Before intervention", "After intervention",
        "Rises elsewhere", plus the time slider ("Monthly cells (time slider)").
    """
    m = base_map(tiles=tiles, attribution=attribution)
    areas = {
        "Target area": (_as_geometry(target), "#c0392b"),
        "Buffer": (_as_geometry(buffer), "#e67e22"),
        "Control area": (_as_geometry(control), "#2e86c1"),
    }
    for layer_name, (geometry, colour) in areas.items():
        group = feature_group(m, layer_name)
        if geometry is not None and not geometry.is_empty:
            styled_geojson(
                group,
                feature_collection(
                    [geometry],
                    [
                        {
                            "tooltip": escape_text(layer_name),
                            "style": {"color": colour, "weight": 3, "fillOpacity": 0.05, "dashArray": "6 4"},
                        }
                    ],
                ),
            )

    before, after = _monthly_cells_before_after(monthly_cells, intervention_date)
    top = max(
        float(before["mean"].max() if len(before) else 0), float(after["mean"].max() if len(after) else 0)
    )
    scale = branca.colormap.linear.YlOrRd_09.scale(0, top or 1)  # type: ignore[attr-defined]
    for layer_name, pane, frame in (
        ("Before intervention", "contextmapBefore", before),
        ("After intervention", "contextmapAfter", after),
    ):
        folium.map.CustomPane(pane, z_index=410, pointer_events=True).add_to(m)
        styled_geojson(
            feature_group(m, layer_name),
            feature_collection(
                frame.geometry,
                (
                    {
                        "tooltip": escape_text(
                            f"{layer_name}: "
                            + (suppressed_text if pd.isna(v) else f"{v:.1f} a month over {n} months")
                        ),
                        "style": {
                            "weight": 0.5,
                            "color": "#555",
                            "fillOpacity": 0.6,
                            "fillColor": "#cccccc" if pd.isna(v) else scale(v),
                        },
                    }
                    for v, n in zip(frame["mean"], frame["months"], strict=True)
                ),
            ),
            pane=pane,
        )
    BeforeAfterSwipe("contextmapBefore", "contextmapAfter").add_to(m)

    months = sorted(monthly_cells["month"].astype(str).unique())
    counts = pd.to_numeric(monthly_cells["count"], errors="coerce")
    month_scale = branca.colormap.linear.YlOrRd_09.scale(  # type: ignore[attr-defined]
        0, float(counts.max()) if counts.notna().any() else 1.0
    )
    features = []
    for geometry, month, count in zip(
        monthly_cells.geometry, monthly_cells["month"].astype(str), counts, strict=True
    ):
        features.append(
            {
                "type": "Feature",
                "geometry": feature_collection([geometry], [{}])["features"][0]["geometry"],
                "properties": {
                    "times": [f"{month}-01"],
                    "tooltip": escape_text(f"{month}: {_count_text(count, suppressed_text)}"),
                    "style": {
                        "weight": 0.5,
                        "color": "#555",
                        "fillOpacity": 0.6,
                        "fillColor": "#cccccc" if pd.isna(count) else month_scale(count),
                    },
                },
            }
        )
    if months:
        # duration P27D: each month's cells show only in that month (month starts are ≥ 28 days apart).
        folium.plugins.TimestampedGeoJson(
            {"type": "FeatureCollection", "features": features},
            period="P1M",
            duration="P27D",
            auto_play=False,
            loop=False,
            date_options="YYYY-MM",
            add_last_point=False,
        ).add_to(m)

    group = feature_group(m, "Rises elsewhere")
    origin = areas["Target area"][0]
    if rises is not None and origin is not None and not origin.is_empty:
        centre = origin.centroid
        for row in rises.itertuples():
            text = escape_text(f"{column(row, 'name', 'Place')}: {column(row, 'text') or _rise_text(row)}")
            line = folium.PolyLine(
                [[centre.y, centre.x], [float(row.lat), float(row.lon)]],
                color="#8e44ad",
                weight=3,
                tooltip=folium.Tooltip(text),
            ).add_to(group)
            folium.plugins.PolyLineTextPath(
                line, " ► ", repeat=True, offset=6, attributes={"fill": "#8e44ad", "font-size": "16"}
            ).add_to(group)
            folium.CircleMarker(
                [float(row.lat), float(row.lon)],
                radius=7,
                color="#8e44ad",
                fill=True,
                fill_opacity=0.9,
                tooltip=folium.Tooltip(text),
                popup=folium.Popup(text, max_width=300),
            ).add_to(group)

    rows = "".join(
        f"<tr><th>{escape_text(label)}</th><td>{escape_text(value)}</td></tr>"
        f'<tr><td colspan="2"><small>{escape_text(meaning)}</small></td></tr>'
        for label, value, meaning in (
            (s.label, s.value, s.interpretation) if isinstance(s, DisplacementMeasure) else s for s in summary
        )
    )
    HtmlControl(
        f"<h2>{escape_text(title)}</h2><table>{rows}</table>"
        f"<small>Intervention: {escape_text(f'{intervention_date:%d %b %Y}')}</small>",
        position="topright",
        kind="summary",
    ).add_to(m)
    HtmlControl(
        legend_html(
            "Mean incidents a month",
            [
                (scale(0), "0"),
                (scale(top / 2 if top else 0.5), f"{top / 2:.1f}"),
                (scale(top or 1), f"{top:.1f}"),
                ("#cccccc", suppressed_text),
            ],
            note="Drag the slider: left of the line before the intervention, right of it after. "
            "To step through the months, untick “Before intervention” and “After intervention”.",
        ),
        kind="legend",
    ).add_to(m)
    PageData("displacement", _displacement_data(monthly_cells, months, rises, intervention_date)).add_to(m)
    # Fit to where harm could have moved (target, buffer, cells, rises), not to a control area that may
    # be the whole service area.
    rise_points = (
        gpd.GeoDataFrame(geometry=gpd.points_from_xy(rises["lon"], rises["lat"]), crs="EPSG:4326")
        if rises is not None and len(rises)
        else None
    )
    return finish_map(
        m,
        combined_bounds(areas["Target area"][0], areas["Buffer"][0], monthly_cells, rise_points)
        or combined_bounds(areas["Control area"][0]),
        extra_layer_names=["Monthly cells (time slider)"] if months else [],
        vendor_base_url=vendor_base_url,
    )


def _displacement_data(
    monthly_cells: gpd.GeoDataFrame, months: Sequence[str], rises: pd.DataFrame | None, intervention_date: date
) -> dict[str, Any]:
    """What the page shows, as data: each cell's centre and monthly counts, and the rises.

    Counts are the ones drawn (already disclosure-controlled by the caller), so this adds nothing a
    reader could not hover for; it lets tests and printable packs read the series directly.
    """
    cells: dict[str, dict[str, Any]] = {}
    keys = (
        monthly_cells["cell_id"].astype(str)
        if "cell_id" in monthly_cells
        else monthly_cells.geometry.to_wkb().map(lambda b: b.hex())
    )
    counts = pd.to_numeric(monthly_cells["count"], errors="coerce")
    for key, geometry, month, count in zip(
        keys, monthly_cells.geometry, monthly_cells["month"].astype(str), counts, strict=True
    ):
        if key not in cells:
            centre = geometry.centroid
            cells[key] = {"id": key, "lat": round(centre.y, 6), "lon": round(centre.x, 6), "counts": {}}
        cells[key]["counts"][month] = None if pd.isna(count) else int(count)
    return {
        "intervention_date": intervention_date.isoformat(),
        "months": list(months),
        "cells": list(cells.values()),
        "rises": []
        if rises is None
        else [
            {
                "name": column(row, "name", "Place"),
                "lat": round(float(row.lat), 6),
                "lon": round(float(row.lon), 6),
                "rate_ratio": column(row, "rate_ratio"),
            }
            for row in rises.itertuples()
        ],
    }


def _designation_table(designations: Sequence[Designation]) -> str:
    if not designations:
        return "<p>No designations recorded.</p>"
    rows = []
    for d in sorted(designations, key=lambda d: d.valid_from):
        what = "Safe space" if d.kind == "safe_space" else "Place of concern"
        detail = d.scheme if d.kind == "safe_space" else " · ".join(x for x in (d.level, d.reason) if x)
        until = f"{d.valid_to:%d %b %Y}" if d.valid_to else "now"
        rows.append(
            f"<tr><td>{escape_text(f'{d.valid_from:%d %b %Y} – {until}')}</td>"
            f"<td>{escape_text(what)}</td><td>{escape_text(detail)}</td></tr>"
        )
    header = "<tr><th>When</th><th>What</th><th>Why</th></tr>"
    return f"<table data-contextmap-designations>{header}{''.join(rows)}</table>"


def place_map(
    place: Place,
    designations: Sequence[Designation],
    guardians: Sequence[Guardian],
    nearby_concerns: gpd.GeoDataFrame | None,
    nearby_safe_spaces: gpd.GeoDataFrame | None,
    cells: gpd.GeoDataFrame | None,
    timeline: Mapping[str, int | None],
    *,
    tiles: str | None = OSM_TILES,
    attribution: str | None = OSM_ATTRIBUTION,
    max_points: int = 2000,
    aggregate_cell_m: float = 250.0,
    suppressed_text: str = DEFAULT_SUPPRESSED_TEXT,
    vendor_base_url: str = DEFAULT_VENDOR_BASE_URL,
) -> folium.Map:
    """One place in context: its history, guardians, neighbours, incidents around it and over time.

    Parameters
    ----------
    place : Place
        The place (point or polygon).
    designations : sequence of Designation
        Its designation history (safe space / concern), shown as a table.
    guardians : sequence of Guardian
        Guardian roles present, with training.
    nearby_concerns : GeoDataFrame or None
        ``name``, ``level``, ``reason``, ``review_by``.
    nearby_safe_spaces : GeoDataFrame or None
        ``name``, ``open_now`` (bool), ``hours``.
    cells : GeoDataFrame or None
        Aggregated incident cells around the place: polygons with ``count`` (int or ``None``).
    timeline : mapping of str to int or None
        Incidents a month ("YYYY-MM" → count, ``None`` when suppressed), drawn as an SVG bar chart.

    Returns
    -------
    folium.Map
        Layers "Place", "Incident cells", "Nearby places of concern", "Nearby safe spaces".
    """
    m = base_map(tiles=tiles, attribution=attribution)
    budget = PointBudget(max_points)
    guardian_items = (
        "".join(
            f"<li>{escape_text(g.role)}"
            + (f" – trained in {escape_text(', '.join(g.training))}" if g.training else "")
            + (f" ({escape_text(g.hours)})" if g.hours else "")
            + "</li>"
            for g in guardians
        )
        or "<li>None recorded</li>"
    )
    details = definition_list(
        [
            ("Kind", place.kind.replace("_", " ")),
            ("Address", place.address),
            ("Opening hours", place.opening_hours),
            ("Place manager", place.place_manager),
        ],
        title=place.name,
    )
    box = (
        f"{details}<h2>Incidents a month</h2>{bar_chart_svg(timeline, suppressed_text=suppressed_text)}"
        f"<h2>Designation history</h2>{_designation_table(designations)}"
        f"<h2>Guardians</h2><ul>{guardian_items}</ul>"
    )

    group = feature_group(m, "Incident cells")
    if cells is not None and len(cells):
        counts = pd.to_numeric(cells["count"], errors="coerce")
        scale = branca.colormap.linear.YlOrRd_09.scale(  # type: ignore[attr-defined]
            0, float(counts.max()) if counts.notna().any() else 1.0
        )
        styled_geojson(
            group,
            feature_collection(
                cells.geometry,
                (
                    {
                        "tooltip": escape_text(f"Incidents: {_count_text(c, suppressed_text)}"),
                        "style": {
                            "weight": 0.5,
                            "color": "#555",
                            "fillOpacity": 0.5,
                            "fillColor": "#cccccc" if pd.isna(c) else scale(c),
                        },
                    }
                    for c in counts
                ),
            ),
        )

    group = feature_group(m, "Place")
    styled_geojson(
        group,
        feature_collection(
            [place.geometry],
            [
                {
                    "tooltip": escape_text(place.name),
                    "popup": box,
                    "style": {"color": "#1a5276", "weight": 3, "fillOpacity": 0.2},
                }
            ],
        ),
    )
    if place.geometry.geom_type == "Point":
        folium.Marker(
            [place.geometry.y, place.geometry.x],
            tooltip=folium.Tooltip(escape_text(place.name)),
            icon=folium.Icon(icon="location-dot", prefix="fa", color="darkblue"),
            # Not a keyboard stop: Leaflet would make it an unnamed role="button", and a name cannot go in
            # the marker's options safely (folium re-reads rendered options as a Jinja template). The place
            # is named in the "About this place" box and the tables below the map.
            keyboard=False,
        ).add_to(group)

    _add_concerns(m, nearby_concerns, budget, aggregate_cell_m, name="Nearby places of concern")
    group = feature_group(m, "Nearby safe spaces")
    if nearby_safe_spaces is not None:
        add_point_or_cells(
            group,
            nearby_safe_spaces,
            budget,
            popup=lambda row: _safe_space_popup(row, bool(column(row, "open_now"))),
            tooltip=lambda row: escape_text(column(row, "name", "Safe space")),
            point_style=lambda row: {
                "radius": 7,
                "color": OPEN_COLOUR if column(row, "open_now") else CLOSED_COLOUR,
                "fill": True,
                "fill_opacity": 0.8,
                "weight": 2,
            },
            cell_size_m=aggregate_cell_m,
            what="safe spaces",
            colour=OPEN_COLOUR,
        )

    HtmlControl(box, position="topright", kind="place").add_to(m)
    HtmlControl(
        legend_html(
            "Legend",
            [
                ("#1a5276", "This place"),
                ("#fd8d3c", "Incidents (aggregated)"),
                (CONCERN_COLOUR, "Place of concern"),
                (OPEN_COLOUR, "Safe space, open"),
                (CLOSED_COLOUR, "Safe space, closed"),
            ],
        )
    ).add_to(m)
    bounds = combined_bounds(place.geometry.buffer(0.002), cells, nearby_concerns, nearby_safe_spaces)
    return finish_map(m, bounds, vendor_base_url=vendor_base_url)
