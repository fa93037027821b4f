"""The area picture of safety maps (issue 21): per published 250 m square and range of months, how many
separate young people's maps marked it red, amber or green — and where that differs from recorded harm.

Disclosure: a square marked by fewer separate maps than the threshold (the disclosure rule's
``suppress_max + 1``, the smallest count a panel may see) is **not shown at all**, to anyone: the database
does not return it (:func:`app.db.safety_maps.area_cells`). The counts of shown squares go through the one
:class:`~app.services.disclosure.Disclosure` (a panel's rounded, a small per-rating count suppressed), the
comparisons are computed from the disclosed counts, and the young people's shareable words are free text,
never shown to a panel. The incident side uses the hot-spot service on the same published grid and whole
months, so a panel sees nothing here that the hot-spot map would not show it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from app.db import analysis as analysis_db
from app.db import safety_maps as db
from app.schemas.analysis import DisclosureInfo
from app.security import Principal
from app.services.disclosure import Disclosure
from app.services.grids import build_cell_table, grid_query
from app.services.hotspots import bin_label, hotspot_statistics, shown_bins
from app.services.safety_mapping import PUBLISHED_CELL_SIZE
from app.settings import Settings
from geo.calendar import add_months, london_midnight

SUGGESTION_LIMIT = 200


@dataclass
class AreaPicture:
    first: date  # first month shown
    last: date  # last month shown (inclusive)
    threshold: int
    cells: list[dict[str, Any]]
    unsafe_little_harm: list[dict[str, Any]]
    unmentioned_hot_spots: list[dict[str, Any]]
    safe_places: list[dict[str, Any]]
    suggestions: list[dict[str, Any]] | None
    disclosure: DisclosureInfo
    notes: list[str] = field(default_factory=list)


def threshold(disclosure: Disclosure) -> int:
    """The fewest separate maps a square needs to be shown: the smallest count a panel may see."""
    return disclosure.rule.suppress_max + 1


def _shown(disclosure: Disclosure, cell: db.CellMaps) -> dict[str, Any]:
    return {"i": cell.i, "j": cell.j, "maps": disclosure.count(cell.maps), "red": disclosure.count(cell.red),
            "amber": disclosure.count(cell.amber), "green": disclosure.count(cell.green),
            "phrases": list(disclosure.text(list(cell.phrases)) or [])}


RATING_ORDER = ("red", "amber", "green")  # a tie goes to the more cautious answer


def default_months(today: date) -> tuple[date, date]:
    """The months shown when none are asked for: the last twelve whole months, this one included. The area
    picture and the hot-spot map's "young people feel unsafe here" layer both use it."""
    this_month = today.replace(day=1)
    return add_months(this_month, -11), this_month


def colour(cell: dict[str, Any]) -> str | None:
    """The one rule for how a shown square is coloured, on the area picture and on the hot-spot map's layer: its
    most common answer among the disclosed counts (a suppressed count counts as 0), a tie going to the more
    cautious answer (red, then amber); None when every count is suppressed or 0."""
    counts = {r: cell[r] or 0 for r in RATING_ORDER}
    top = max(RATING_ORDER, key=lambda r: (counts[r], -RATING_ORDER.index(r)))
    return top if counts[top] > 0 else None


def _coloured(session: Session, settings: Settings, disclosure: Disclosure,
              found: list[db.CellMaps]) -> list[dict[str, Any]]:
    """The shown squares with their disclosed counts, their colour (:func:`colour`) and outline (EPSG:4326)."""
    cells = [_shown(disclosure, c) for c in found]
    squares = db.cell_squares(session, [(c["i"], c["j"]) for c in cells], settings.analysis_srid,
                              PUBLISHED_CELL_SIZE)
    for c in cells:
        c["geometry"] = squares[(c["i"], c["j"])]
        c["colour"] = colour(c)
    return cells


def _mostly_unsafe(cell: dict[str, Any]) -> bool:
    # From the disclosed counts only: a suppressed red count counts as 0 (Disclosure.statistic_counts).
    return bool(cell["maps"]) and 2 * (cell["red"] or 0) >= cell["maps"]


def area_picture(session: Session, principal: Principal, settings: Settings, disclosure: Disclosure, first: date,
                 last: date, *, with_suggestions: bool) -> AreaPicture:
    """The picture for whole months ``first`` .. ``last`` (inclusive)."""
    end = add_months(last, 1)
    needed = threshold(disclosure)
    found = db.area_cells(session, PUBLISHED_CELL_SIZE, first, end, needed)
    cells = _coloured(session, settings, disclosure, found)

    # Recorded harm on the same published squares and months (the hot-spot service, disclosure-controlled).
    period = f"{london_midnight(first).isoformat()}/{london_midnight(end).isoformat()}"
    query = grid_query(session, settings, disclosure, cell="square", size=PUBLISHED_CELL_SIZE, bbox=None,
                       period=period, harm_category=None, source=None, weights="contiguity", distance=None,
                       fdr=False)
    table = build_cell_table(session, query, analysis_db.grid_counts(session, query.grid, query.filt))
    stats = hotspot_statistics(query, table, disclosure)
    bins = shown_bins(table, stats, disclosure)
    harm = {(int(table.i[k]), int(table.j[k])): k for k in range(table.i.size)}
    shown = {(c["i"], c["j"]) for c in cells}
    for c in cells:
        k = harm.get((c["i"], c["j"]))
        c["incidents"] = disclosure.count(int(table.count[k])) if k is not None else 0
    little = disclosure.rule.suppress_max
    unsafe_little_harm = [c for c in cells if _mostly_unsafe(c)
                          and (c["incidents"] is None or c["incidents"] <= little)]
    unmentioned = [
        {"i": int(table.i[k]), "j": int(table.j[k]), "incidents": disclosure.count(int(table.count[k])),
         "label": bin_label(bins[k]), "geometry": table.geometry[k]}
        for k in range(table.i.size)
        # A hot spot of recorded harm: significant and with incidents of its own the reader may see.
        if (bins[k] or 0) > 0 and (disclosure.count(int(table.count[k])) or 0) > 0
        and (int(table.i[k]), int(table.j[k])) not in shown
    ]
    unmentioned.sort(key=lambda c: -int(c["incidents"] or 0))
    places = [{**p, "maps": disclosure.count(int(p["maps"]))}
              for p in db.named_safe_places(session, first, end, needed)]
    suggestions = db.suggestions(session, first, end, SUGGESTION_LIMIT) if with_suggestions else None
    disclosure.audit(session, principal, "analysis:safety-mapping-area",
                     {"first": first.isoformat(), "last": last.isoformat(), "size": PUBLISHED_CELL_SIZE})
    return AreaPicture(first, last, needed, cells, unsafe_little_harm, unmentioned, places, suggestions,
                       disclosure.info())


def unsafe_squares(session: Session, principal: Principal, settings: Settings, disclosure: Disclosure, first: date,
                   last: date) -> list[dict[str, Any]]:
    """The hot-spot map's "young people feel unsafe here" layer for whole months ``first`` .. ``last``: exactly
    the squares the area picture for those months colours red (:func:`colour`: shown squares, at least the
    threshold of separate maps, whose most common answer is unsafe), with the disclosed counts and each square's
    outline (EPSG:4326). The caller passes months a controlled reader may ask for
    (:meth:`Disclosure.map_quarter`)."""
    found = db.area_cells(session, PUBLISHED_CELL_SIZE, first, add_months(last, 1), threshold(disclosure))
    cells = [c for c in _coloured(session, settings, disclosure, found) if c["colour"] == "red"]
    disclosure.audit(session, principal, "analysis:safety-mapping-unsafe",
                     {"first": first.isoformat(), "last": last.isoformat(), "size": PUBLISHED_CELL_SIZE})
    return cells


def place_feeling(session: Session, settings: Settings, disclosure: Disclosure, place_id: int, first: date,
                  last: date) -> dict[str, Any] | None:
    """How young people's maps marked the published square a place lies in, if that square is shown at all."""
    cell = db.place_cell(session, place_id, settings.analysis_srid, PUBLISHED_CELL_SIZE)
    if cell is None:
        return None
    found = db.area_cells(session, PUBLISHED_CELL_SIZE, first, add_months(last, 1), threshold(disclosure),
                          cell=cell)
    return _shown(disclosure, found[0]) if found else None
