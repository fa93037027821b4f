"""An intervention month by month (issue 17): incidents in the target, buffer and control area each month,
and a small map of the published grid's cells around the site for each month.

Disclosure-controlled like every panel answer (:class:`~app.services.disclosure.Disclosure`): whole
Europe/London calendar months, the published square grid (:data:`PUBLISHED_LAYER_SIZE`, 250 m) over a box
fixed by the intervention (not the reader), and every count through :meth:`Disclosure.count`, so a panel
never sees a count from 1 to the threshold. The areas are the displacement service's own
(:func:`app.db.analysis.displacement_areas` with :data:`app.services.displacement.COMPARISON`'s target
and buffer), so the months add up
to the figures of the findings page's comparison. Bounded: at most :data:`MONTHS_EACH_SIDE` months either
side of the start (:data:`MAX_MONTHS` in all) and complete months only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

from app.db import analysis as db
from app.db import maps as maps_db
from app.db.street_network import street_lines_in_box
from app.exceptions import NotFound
from app.services.disclosure import PUBLISHED_LAYER_SIZE, Disclosure
from app.services.displacement import COMPARISON, comparison_windows
from app.settings import Settings
from geo.calendar import add_months, london_midnight, months_between
from geo.vocabulary import LONDON

MONTHS_EACH_SIDE = 12
MAX_MONTHS = 2 * MONTHS_EACH_SIDE
CELL_M = PUBLISHED_LAYER_SIZE  # the published grid: the same cells for staff and panels
MAX_STREET_LINES = 4000  # background lines on one small map: a district, not a town

Phase = Literal["before", "during", "after"]


@dataclass(frozen=True)
class MonthCells:
    """One month's non-empty published cells: ``(i, j, count)``, ``None`` a suppressed count."""

    month: date
    phase: Phase
    cells: list[tuple[int, int, int | None]]


@dataclass(frozen=True)
class MonthByMonth:
    months: list[date]  # first day of each month (Europe/London), oldest first
    phases: list[Phase]  # before the start, while running, after it ended
    compared: list[bool]  # the month is in the comparison's before or after window (COMPARISON)
    series: dict[str, list[int | None]]  # target, buffer, control: disclosed counts, None suppressed
    maps: list[MonthCells]
    cell_size: float
    box: tuple[float, float, float, float]  # the small maps' extent in the analysis CRS (whole cells)
    outlines: dict[str, BaseGeometry]  # target and buffer in the analysis CRS
    streets: list[npt.NDArray[np.float64]]  # street lines in the analysis CRS, clipped to the box
    starts_on: date
    ends_on: date | None
    bounded: bool  # months were left out to keep within MAX_MONTHS
    suppress_max: int
    disclosed: bool


def _phase(month: date, starts_on: date, ends_on: date | None) -> Phase:
    if month < starts_on.replace(day=1):
        return "before"
    if ends_on is not None and month > ends_on.replace(day=1):
        return "after"
    return "during"


def month_by_month(
    session: Session, settings: Settings, disclosure: Disclosure, intervention: int, *,
    control_place: int | None = None, control_area: dict[str, Any] | None = None, today: date | None = None,
) -> MonthByMonth | None:
    """The months either side of the intervention's start (complete months with data), or ``None`` when
    there is none yet (no incident recorded, or the intervention starts this month and none before)."""
    site = db.intervention_site(session, intervention)
    if control_place is not None:
        try:
            db.place_row(session, control_place)
        except NotFound as exc:
            raise NotFound(f"no place with id {control_place} in your organisation", field="control_place") from exc
    starts_on: date = site.starts_on
    start_month = starts_on.replace(day=1)
    this_month = (today or datetime.now(UTC).astimezone(LONDON).date()).replace(day=1)
    first = maps_db.first_incident_at(session)
    if first is None:
        return None
    first_month = first.astimezone(LONDON).date().replace(day=1)
    wanted_first = add_months(start_month, -MONTHS_EACH_SIDE)
    wanted_end = add_months(start_month, MONTHS_EACH_SIDE)
    first_shown = max(wanted_first, first_month)
    end_shown = min(wanted_end, this_month)  # complete months only
    count = months_between(first_shown, end_shown)
    if count <= 0:
        return None
    months = [add_months(first_shown, k) for k in range(count)]
    starts = [london_midnight(m) for m in months]
    end = london_midnight(end_shown)
    srid = settings.analysis_srid
    spec = db.AreaSpec(COMPARISON.target_radius_m, use_own_polygon=True)
    if control_area is not None and disclosure.applied:
        # As in the displacement service: a drawn area is widened to whole published cells for a panel.
        control_area = db.whole_cells_of_area(session, control_area, PUBLISHED_LAYER_SIZE, srid)
    areas = db.displacement_areas(session, srid, intervention, spec, COMPARISON.buffer_m, control_area,
                                  control_place, spec)
    filt = db.IncidentFilter()
    local = db.area_month_counts(session, srid, areas, ["target", "buffer"], starts, end, filt)
    if areas.control_source == "service area":
        # Every incident lies in the service area (the API and imports refuse the rest): the control is the
        # total minus target and buffer, as in app.services.displacement.
        totals = db.month_totals(session, starts, end, filt)
        control = [t - a - b for t, a, b in zip(totals, local["target"], local["buffer"], strict=True)]
    else:
        control = db.area_month_counts(session, srid, areas, ["control"], starts, end, filt)["control"]
    series = {"target": local["target"], "buffer": local["buffer"], "control": control}
    disclosed = {name: [disclosure.count(n) for n in values] for name, values in series.items()}

    outlines = {name: shapely.from_wkb(areas.wkb[name]) for name in ("target", "buffer")}
    x0, y0, x1, y1 = shapely.union(outlines["target"], outlines["buffer"]).bounds
    size = CELL_M
    # One whole cell of margin round the buffer, snapped outwards to the published grid.
    box = (float(np.floor(x0 / size) - 1) * size, float(np.floor(y0 / size) - 1) * size,
           float(np.ceil(x1 / size) + 1) * size, float(np.ceil(y1 / size) + 1) * size)
    grid = db.Grid("square", size, srid)
    steps = db.step_counts(session, grid, db.IncidentFilter(start=starts[0], end=end, box=box, box_srid=srid), starts)
    per_month: list[dict[tuple[int, int], int]] = [{} for _ in months]
    for s, i, j, n in zip(steps.step.tolist(), steps.i.tolist(), steps.j.tolist(), steps.count.tolist(), strict=True):
        if 0 <= s < len(months):
            cell = per_month[s]
            cell[(i, j)] = cell.get((i, j), 0) + int(n)
    phases = [_phase(m, starts_on, site.ends_on) for m in months]
    # The months the findings' measures compare (the same windows as the map and the pack).
    before, after = comparison_windows(session, starts_on, today)
    if before and after:
        span = (datetime.fromisoformat(before.split("/")[0]), datetime.fromisoformat(after.split("/")[1]))
        compared = [span[0] <= s < span[1] for s in starts]
    else:
        compared = [False] * len(months)
    maps = [MonthCells(m, p, sorted((i, j, disclosure.count(n)) for (i, j), n in cells.items() if n > 0))
            for m, p, cells in zip(months, phases, per_month, strict=True)]
    streets = street_lines_in_box(session, box, srid, MAX_STREET_LINES)
    return MonthByMonth(
        months=months, phases=phases, compared=compared, series=disclosed, maps=maps, cell_size=size, box=box,
        outlines=outlines,
        streets=streets, starts_on=starts_on, ends_on=site.ends_on,
        bounded=wanted_first < first_shown or wanted_end > end_shown,
        suppress_max=disclosure.rule.suppress_max, disclosed=disclosure.applied)
