"""Month by month as server-drawn SVG (issue 17): small multiples (one small map of the published grid per
month, one colour scale for all) and a chart of the target, buffer and control area over time with the
intervention's start and end marked. No JavaScript; every drawing has a text alternative and the chart a
table of the same figures. A suppressed count (disclosure control) is hatched grey, never drawn as zero.

Drawn by hand rather than with matplotlib: two dozen maps of a few dozen squares each are a few kilobytes
of SVG built in milliseconds (matplotlib's SVG backend takes tens of milliseconds a figure and embeds
fonts as paths).
"""

from __future__ import annotations

from calendar import monthrange
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from html import escape

import geopandas as gpd
import numpy as np
import numpy.typing as npt
from shapely.geometry import MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry

from app.services.monthly import MonthByMonth, MonthCells

# ColorBrewer YlOrRd, 4 classes (Brewer, colorbrewer2.org): sequential, colour-blind safe, prints in grey.
CLASS_COLOURS = ("#fed98e", "#fe9929", "#d95f0e", "#993404")
SUPPRESSED_FILL = "url(#cm-hatch)"
HATCH = ('<pattern id="cm-hatch" patternUnits="userSpaceOnUse" width="4" height="4" patternTransform="rotate(45)">'
         '<rect width="4" height="4" fill="#dedede"/><line x1="0" y1="0" x2="0" y2="4" stroke="#505a5f" '
         'stroke-width="1.5"/></pattern>')
#: The hatch pattern, defined once on a page (or a pack) in a hidden SVG and used by every drawing on it.
HATCH_DEFS = ('<svg xmlns="http://www.w3.org/2000/svg" width="0" height="0" aria-hidden="true" focusable="false" '
              f'class="cm-svg-defs"><defs>{HATCH}</defs></svg>')
SMALL_W = 160.0
PHASE_TEXT = {"before": "before the start", "during": "while it ran", "after": "after it ended"}
SERIES = (("target", "Target", "#1d70b8"), ("buffer", "Buffer", "#b58800"), ("control", "Control area", "#505a5f"))


@dataclass(frozen=True)
class ColourClass:
    low: int
    high: int
    colour: str

    @property
    def label(self) -> str:
        return f"{self.low}" if self.low == self.high else f"{self.low} to {self.high}"


@dataclass(frozen=True)
class SmallMap:
    month: date
    phase: str
    svg: str
    description: str  # the text alternative


def _nice_step(value: int, parts: int) -> int:
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000):
        if step * parts >= value:
            return step
    return -(-value // parts)


def colour_classes(maps: Sequence[MonthCells], suppress_max: int, disclosed: bool) -> list[ColourClass]:
    """Up to four equal classes of a cell's count, shared by every month; for a disclosure-controlled
    reader they start above the threshold (a shown count is never 1 to the threshold)."""
    top = max((n for m in maps for _, _, n in m.cells if n is not None), default=0)
    low = suppress_max + 1 if disclosed else 1
    if top < low:
        return []
    step = _nice_step(top - low + 1, len(CLASS_COLOURS))
    classes = []
    for k, colour in enumerate(CLASS_COLOURS):
        start = low + k * step
        if start > top:
            break
        classes.append(ColourClass(start, start + step - 1, colour))
    return classes


def _fill(count: int | None, classes: Sequence[ColourClass]) -> str:
    if count is None:
        return SUPPRESSED_FILL
    for c in classes:
        if count <= c.high:
            return c.colour
    return classes[-1].colour if classes else "none"


def _rings(geometry: BaseGeometry) -> Iterable[npt.NDArray[np.float64]]:
    polygons = geometry.geoms if isinstance(geometry, MultiPolygon) else [geometry]
    for polygon in polygons:
        if isinstance(polygon, Polygon):
            yield np.asarray(polygon.exterior.coords)
            yield from (np.asarray(ring.coords) for ring in polygon.interiors)


def _month_text(month: date) -> str:
    return f"{month:%B %Y}"


def small_maps(view: MonthByMonth, target_name: str | None = None, places: Sequence[tuple[str, float, float]] = (),
               srid: int = 27700) -> tuple[list[SmallMap], list[ColourClass], str]:
    """One SVG map per month over the same box, cells coloured on one scale, target and buffer outlined,
    the organisation's streets underneath; and the page's hidden definitions (the hatch, and the streets
    and outlines drawn once and placed in every map with ``<use>``: the maps share one box and scale).
    The target is labelled with ``target_name`` (the intervention's place) and each of ``places`` (name, lon,
    lat: the places the findings name) is a labelled dot when it lies in the box; ``srid`` is the box's CRS.
    Place names are register entries, shown to a panel as the findings show them (not free text)."""
    classes = colour_classes(view.maps, view.suppress_max, view.disclosed)
    x0, y0, x1, y1 = view.box
    scale = SMALL_W / (x1 - x0)
    height = (y1 - y0) * scale

    def path(coords: npt.NDArray[np.float64], close: bool) -> str:
        xs = (coords[:, 0] - x0) * scale
        ys = height - (coords[:, 1] - y0) * scale
        points = " L".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys, strict=True))
        return f"M{points}{' Z' if close else ''}"

    streets = " ".join(path(line, False) for line in view.streets if len(line) > 1)
    street_path = (f'<path id="cm-streets" class="cm-streets" d="{streets}" fill="none" stroke="#b1b4b6" '
                   'stroke-width="0.6"/>' if streets else "")
    street_layer = '<use href="#cm-streets"/>' if streets else ""
    outline_paths = "".join(
        f'<path d="{" ".join(path(r, True) for r in _rings(view.outlines[name]))}" fill="none" {style}/>'
        for name, style in (("buffer", 'stroke="#0b0c0c" stroke-width="1" stroke-dasharray="3 2"'),
                            ("target", 'stroke="#0b0c0c" stroke-width="1.6"')))
    marked: list[str] = []
    if target_name and not view.outlines["target"].is_empty:
        at = view.outlines["target"].representative_point()
        outline_paths += _label(target_name, (at.x - x0) * scale, height - (at.y - y0) * scale, True)
        marked.append(target_name)
    if places:
        projected = gpd.GeoSeries([Point(lon, lat) for _, lon, lat in places], crs="EPSG:4326").to_crs(f"EPSG:{srid}")
        for (name, _, _), at in zip(places, projected, strict=True):
            if x0 <= at.x <= x1 and y0 <= at.y <= y1:
                outline_paths += _label(name, (at.x - x0) * scale, height - (at.y - y0) * scale, False)
                marked.append(name)
    outlines = '<use href="#cm-outlines"/>'
    defs = (f'<svg xmlns="http://www.w3.org/2000/svg" width="0" height="0" aria-hidden="true" focusable="false" '
            f'class="cm-svg-defs"><defs>{HATCH}{street_path}<g id="cm-outlines">{outline_paths}</g></defs></svg>')
    side = view.cell_size * scale
    out = []
    for month in view.maps:
        rects = "".join(
            f'<rect x="{(i * view.cell_size - x0) * scale:.1f}" '
            f'y="{height - ((j + 1) * view.cell_size - y0) * scale:.1f}" width="{side:.1f}" height="{side:.1f}" '
            f'fill="{_fill(n, classes)}" stroke="#ffffff" stroke-width="0.5"/>'
            for i, j, n in month.cells)
        description = _describe(month)
        label = f"{_month_text(month.month)}, {PHASE_TEXT[month.phase]}: {description}" + (
            f" Named on the map: {', '.join(marked)}." if marked else "")
        svg = (f'<svg xmlns="http://www.w3.org/2000/svg" class="cm-small-map" viewBox="0 0 {SMALL_W:g} {height:.1f}" '
               f'role="img" aria-label="{escape(label)}">'
               f'<rect width="{SMALL_W:g}" height="{height:.1f}" fill="#ffffff"/>{street_layer}{rects}{outlines}</svg>')
        out.append(SmallMap(month.month, month.phase, svg, description))
    return out, classes, defs


def _label(name: str, x: float, y: float, is_target: bool) -> str:
    """A place's name on a small map, on a white backing (its width estimated from the font size); a dot too
    for a place that is not the target (the target is outlined already)."""
    anchor, dx = ("end", -3.0) if x > SMALL_W * 0.55 else ("start", 3.0)
    width = (4.0 if is_target else 3.6) * len(name) + 2
    left = x + dx - 1 if anchor == "start" else x + dx - width + 1
    dot = "" if is_target else (f'<circle cx="{x:.1f}" cy="{y:.1f}" r="1.8" fill="#0b0c0c" stroke="#ffffff" '
                                'stroke-width="0.6"/>')
    return (f'{dot}<rect x="{left:.1f}" y="{y - 4.5:.1f}" width="{width:.1f}" height="8" fill="#ffffff" '
            f'fill-opacity="0.85"/><text class="cm-place-label" x="{x + dx:.1f}" y="{y + 2:.1f}" '
            f'text-anchor="{anchor}" font-size="6.5" font-weight="{"bold" if is_target else "normal"}" '
            f'fill="#0b0c0c">{escape(name)}</text>')


def _describe(month: MonthCells) -> str:
    shown = [n for _, _, n in month.cells if n is not None]
    suppressed = sum(1 for _, _, n in month.cells if n is None)
    if not month.cells:
        return "no incidents in any square."
    parts = []
    if shown:
        parts.append(f"{len(shown)} square{'s' if len(shown) != 1 else ''} with incidents, the most in one "
                     f"{max(shown)}")
    if suppressed:
        parts.append(f"{suppressed} square{'s' if suppressed != 1 else ''} with a few (suppressed)")
    return "; ".join(parts) + "."


@dataclass(frozen=True)
class SeriesRow:
    month: date
    phase: str
    compared: bool
    values: dict[str, str]  # "12", "0" or "suppressed"


WIDTH, PANEL_H, LEFT, RIGHT, TOP, GAP, BOTTOM = 640, 96, 56, 12, 24, 30, 40
#: The phone layout: drawn 340 units wide for a column about 360 CSS px wide (a 390 px phone less the page's
#: margins), so one unit is about one CSS pixel and the 12-unit text reads at about 12 px. The same chart at
#: 640 units is scaled down to 0.56 there, its 11-unit axis text to about 6 px (issue 17).
NARROW_WIDTH = 340


def series_chart(view: MonthByMonth, own_defs: bool = False, width: int = WIDTH) -> tuple[str, list[SeriesRow]]:
    """Three stacked bar panels (target, buffer, control; each its own scale, since the control is far
    larger) sharing the month axis, with the start and end drawn as vertical lines across all three.
    A suppressed month is a hatched bar up to the threshold with an "s" above it, never a gap or zero.
    ``own_defs``: the drawing carries its hatch (a PDF renders each SVG on its own). ``width``: the
    drawing's width in units; at :data:`NARROW_WIDTH` (a phone) the text is larger relative to the drawing,
    the month axis labelled every few months as "Sep 25", and the y axis title left to the caption."""
    narrow = width < WIDTH
    n = len(view.months)
    left = 40 if narrow else LEFT
    tick, small, title_size = (12, 11, 14) if narrow else (11, 9, 13)
    plot_w = width - left - RIGHT
    slot = plot_w / n
    height = TOP + len(SERIES) * (PANEL_H + GAP) + BOTTOM - GAP
    parts: list[str] = [f"<defs>{HATCH}</defs>"] if own_defs else []
    plot_top, plot_end = TOP - 4, TOP + len(SERIES) * (PANEL_H + GAP) - GAP
    shown = [m for m, c in enumerate(view.compared) if c]
    if shown:  # the months the findings compare, shaded behind the bars
        parts.append(f'<rect class="cm-compared" x="{left + shown[0] * slot:.1f}" y="{plot_top}" '
                     f'width="{(shown[-1] - shown[0] + 1) * slot:.1f}" height="{plot_end - plot_top}" fill="#f3f2f1"/>')
    for k, (name, label, colour) in enumerate(SERIES):
        top_y = TOP + k * (PANEL_H + GAP)
        bottom_y = top_y + PANEL_H
        values = view.series[name]
        peak = max([v for v in values if v is not None] + [view.suppress_max if view.disclosed else 1, 1])
        step = _nice_step(peak, 4)
        ymax = step * -(-peak // step)
        parts.append(f'<text x="{left}" y="{top_y - 8}" font-size="{title_size}" font-weight="700" fill="#0b0c0c">'
                     f'{label}</text>')
        for v in range(0, ymax + 1, step):
            y = bottom_y - PANEL_H * v / ymax
            parts.append(f'<line x1="{left}" x2="{width - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#dedede"/>'
                         f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="{tick}" text-anchor="end" '
                         f'fill="#0b0c0c">{v:,}</text>')
        for m, value in enumerate(values):
            x = left + m * slot + slot * 0.15
            if value is None:
                h = PANEL_H * view.suppress_max / ymax
                parts.append(f'<rect x="{x:.1f}" y="{bottom_y - h:.1f}" width="{slot * 0.7:.1f}" height="{h:.1f}" '
                             f'fill="{SUPPRESSED_FILL}" stroke="#505a5f" stroke-width="0.5"/>'
                             f'<text x="{x + slot * 0.35:.1f}" y="{bottom_y - h - 2:.1f}" font-size="{small}" '
                             f'text-anchor="middle" fill="#0b0c0c">s</text>')
            elif value > 0:
                h = PANEL_H * value / ymax
                parts.append(f'<rect x="{x:.1f}" y="{bottom_y - h:.1f}" width="{slot * 0.7:.1f}" '
                             f'height="{h:.1f}" fill="{colour}"/>')
        parts.append(f'<line x1="{left}" x2="{width - RIGHT}" y1="{bottom_y}" y2="{bottom_y}" stroke="#0b0c0c"/>')
    plot_bottom = TOP + len(SERIES) * (PANEL_H + GAP) - GAP
    every = max(1, -(-n // (4 if narrow else 6)))
    for m, month in enumerate(view.months):
        if m % every == 0:
            x = left + (m + 0.5) * slot
            parts.append(f'<text x="{x:.1f}" y="{plot_bottom + 16}" font-size="{tick}" text-anchor="middle" '
                         f'fill="#0b0c0c">{month:%b %y}</text>' if narrow else
                         f'<text x="{x:.1f}" y="{plot_bottom + 16}" font-size="{tick}" text-anchor="middle" '
                         f'fill="#0b0c0c">{month:%b %Y}</text>')
    parts.append(f'<text x="{left + plot_w / 2:.1f}" y="{plot_bottom + 34}" font-size="12" text-anchor="middle" '
                 'fill="#0b0c0c">Month</text>')
    if not narrow:  # on a phone the caption says it: the rotated title would squeeze the bars
        parts.append(f'<text transform="translate(14 {TOP + (plot_bottom - TOP) / 2:.1f}) rotate(-90)" font-size="12" '
                     'text-anchor="middle" fill="#0b0c0c">Incidents a month (each area its own scale)</text>')
    for when, text in ((view.starts_on, "Started"), (view.ends_on, "Ended")):
        if when is None:
            continue
        first = view.months[0]
        offset = (when.year - first.year) * 12 + when.month - first.month
        if not 0 <= offset < n:
            continue
        # Within the month by the day: the start line sits where in its month the intervention began.
        days = monthrange(when.year, when.month)[1]
        x = left + (offset + (when.day - 1) / days) * slot
        words = f"{text} {when.day} {when:%b %Y}"
        # Bold text is about 0.6 of its size a character wide: the label goes left of a line near the edge.
        fits = x + 4 + 0.6 * tick * len(words) <= width
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{TOP - 4}" y2="{plot_bottom}" stroke="#d4351c" '
                     f'stroke-width="2" stroke-dasharray="5 3"/><text x="{x + 4 if fits else x - 4:.1f}" '
                     f'y="{TOP + 8}" text-anchor="{"start" if fits else "end"}" font-size="{tick}" '
                     f'font-weight="700" fill="#d4351c">{words}</text>')
    title = "Incidents a month in the target, the buffer and the control area"
    layout = "narrow" if narrow else "wide"
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" class="cm-series-chart cm-series-chart--{layout}" '
           f'viewBox="0 0 {width} {height}" '
           f'role="img" aria-label="{title}, with the start marked; the same figures are in the table below.">'
           f'{"".join(parts)}</svg>')
    rows = [SeriesRow(month, phase, compared, {name: "suppressed" if v is None else f"{v:,}"
                                               for name, _, _ in SERIES for v in [view.series[name][m]]})
            for m, (month, phase, compared) in enumerate(zip(view.months, view.phases, view.compared, strict=True))]
    return svg, rows
