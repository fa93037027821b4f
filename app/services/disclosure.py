"""What a reader may see of an analysis: exact figures for staff, disclosure-controlled ones for a panel or
for anything shared — the one home of the disclosure rule.

Suppressing small counts is not disclosure control when the reader chooses the area and the window: an
outside test located one incident to a metre by bisecting ``datetime`` and each ``bbox`` edge and reading
whether a count was 0 or suppressed. So a disclosure-controlled reader asks questions of a **fixed
published geography and calendar**, as ONS and police.uk publish (fixed output areas; whole months):

* cells are squares of the published grid (:data:`geo.grid.PUBLISHED_CELL_SIZES`: 250 m, 500 m, 1 km,
  nested, on the analysis CRS's origin — the British National Grid's own squares); a requested cell shape
  or size is *snapped* to it (hexagon → square, size up to the next published size);
* a ``bbox`` (or a drawn area) selects whole cells: it is snapped *outwards* to cell edges and incidents
  are counted over those whole cells, never cut by the reader's edge;
* periods are whole Europe/London calendar months: a ``datetime`` is snapped outwards to month starts;
* distances the reader could slide (radii, buffers, search distances) are fixed at their defaults;
* every count goes through :meth:`Disclosure.count` (:func:`geo.privacy.disclose_count`), every statistic
  shown is computed from the disclosed counts only, never from exact ones (:meth:`Disclosure.statistic_counts`,
  :meth:`Disclosure.basis`), and anything computed
  from a suppressed count is withheld (a suppressed cell is never a hot spot; a rate change built on a
  suppressed count says neither rise nor fall).

Snapping was chosen over refusing: the answer reports the parameters actually used
(``metadata.parameters``), and a reader who bisects sees the same answer until a whole cell or month is
crossed. Every disclosure-controlled answer is audited (:meth:`Disclosure.audit`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy.orm import Session

from app.schemas.analysis import DisclosureInfo
from app.security import Principal
from app.services.audit import record_action
from app.settings import Settings
from geo.calendar import add_months, month_ceil, month_floor, quarter_start
from geo.grid import PUBLISHED_CELL_SIZES, published_cell_size
from geo.privacy import DisclosureRule, disclose_count, withhold_free_text

WITHHELD = "Withheld: computed from a count below the disclosure threshold."
#: The cell side of fixed-size aggregate layers (OGC hotspot-cells, tiles, exports, maps) when controlled.
PUBLISHED_LAYER_SIZE = PUBLISHED_CELL_SIZES[0]


def rule_for(principal: Principal | None, settings: Settings) -> DisclosureRule:
    """The disclosure rule of the reader's organisation: its own thresholds (0012) where they are stricter,
    never looser than the deployment's settings, which are the floor (``max`` of each, so a deployment that
    raises its floor later raises every organisation's with it)."""
    own_suppress = principal.suppress_max if principal is not None else None
    own_round = principal.round_to if principal is not None else None
    return DisclosureRule(max(settings.suppress_max, own_suppress or 0), max(settings.round_to, own_round or 0))


@dataclass(frozen=True)
class Disclosure:
    """What the reader may see: exact figures, or disclosure-controlled ones (panel, or shareable)."""

    applied: bool
    rule: DisclosureRule
    shareable: bool = False

    @classmethod
    def for_reader(cls, principal: Principal, settings: Settings, shareable: bool = False) -> Disclosure:
        return cls(principal.is_panel or shareable, rule_for(principal, settings), shareable)

    @classmethod
    def staff(cls, settings: Settings) -> Disclosure:
        """Exact figures (for use cases only staff reach, e.g. flagging a cell)."""
        return cls(False, DisclosureRule(settings.suppress_max, settings.round_to))

    @classmethod
    def panel(cls, principal: Principal | None, settings: Settings) -> Disclosure:
        """The panel's rule whatever the reader's role (a meeting pack leaves the building)."""
        return cls(True, rule_for(principal, settings))

    def sharing(self, shareable: bool) -> Disclosure:
        """The same reader asking (or not) for a shareable answer (a request body's ``shareable``)."""
        return Disclosure(self.applied or shareable, self.rule, self.shareable or shareable)

    # ---- counts and what is computed from them ---------------------------------------------------------
    def count(self, n: int | None) -> int | None:
        return disclose_count(int(n), self.rule) if self.applied and n is not None else n

    def suppressed(self, n: int) -> bool:
        """True when the reader sees ``n`` as suppressed."""
        return self.applied and 1 <= int(n) <= self.rule.suppress_max

    def hides(self, *counts: int) -> bool:
        """True when a statistic built from these counts would reveal a suppressed count."""
        return self.applied and any(1 <= int(c) <= self.rule.suppress_max for c in counts)

    def statistic_counts(self, counts: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """The counts a statistic may be computed from: exact for staff; for a controlled reader the
        disclosed counts, suppressed ones as 0 — so a statistic reveals nothing its cells do not show."""
        values = np.asarray(counts, dtype=np.float64)
        if not self.applied:
            return values
        return np.asarray([self.count(int(n)) or 0 for n in values.ravel()], dtype=np.float64).reshape(values.shape)

    def basis(self, *counts: int) -> tuple[int, ...]:
        """The counts a statistic (rate ratio and interval, WDQ, total net effect, WDD) and its verdict are
        computed from: exact for staff; for a controlled reader the counts as shown (disclosed), suppressed
        ones as 0, and the caller withholds a statistic that rests on a suppressed count (:meth:`hides`).

        Never the exact counts behind rounded ones: an exact interval (a rate ratio of 17.2, 95 % interval 9.6
        to 33.8) fits one pair of counts only, and brute force over the pairs recovers it (12 before, 203
        after) whatever the rounding shows. So staff and panel may read a slightly different figure or
        verdict; the panel's is the one its own counts support."""
        if not self.applied:
            return tuple(int(c) for c in counts)
        return tuple(self.count(int(c)) or 0 for c in counts)

    def stat(self, value: float | None, digits: int) -> float | None:
        if value is None or not self.applied:
            return value
        return round(float(value), digits)

    def cell_stat(self, value: float | None) -> float | None:
        # A cell's exact z and p, with its neighbours', are linear in the counts and could be solved back
        # towards suppressed counts; the confidence bin says what a panel needs (as the maps do).
        return None if self.applied else value

    def text(self, value: Any) -> Any:
        return None if self.applied else value

    # ---- free text: the one panel free-text rule --------------------------------------------------------
    @property
    def shows_free_text(self) -> bool:
        """Whether this reader sees free text (notes, reasons, descriptions, partners: staff do, a panel or a
        shareable answer does not). Pages show or hide free-text columns and filters by this."""
        return not self.applied

    def redact(self, properties: dict[str, Any]) -> dict[str, Any]:
        """Free-text properties (:data:`geo.privacy.FREE_TEXT_FIELDS`, at any depth) withheld for a
        controlled reader."""
        if not self.applied:
            return properties
        return withhold_free_text(properties)

    def redact_feature(self, feature: dict[str, Any]) -> dict[str, Any]:
        """A GeoJSON feature with its properties redacted (:meth:`redact`)."""
        if not self.applied:
            return feature
        return {**feature, "properties": self.redact(feature["properties"])}

    def free_text(self, value: str) -> str:
        """A free-text filter the reader typed: ignored ("") when the reader cannot see that text, or the
        filter would reveal what the page hides."""
        return value if self.shows_free_text else ""

    # ---- the fixed geography and calendar -------------------------------------------------------------
    def cell(self, shape: str, size: float) -> tuple[str, float]:
        """The grid to answer on: as asked for staff; the published square grid when controlled."""
        if not self.applied:
            return shape, size
        return "square", published_cell_size(size)

    def period(self, start: datetime | None, end: datetime | None) -> tuple[datetime | None, datetime | None]:
        """``[start, end)`` as asked for staff; snapped outwards to whole London months when controlled
        (an instant ``start == end`` becomes its month)."""
        if not self.applied:
            return start, end
        first = month_floor(start) if start is not None else None
        last = month_ceil(end) if end is not None else None
        if first is not None and last is not None and last <= first:
            last = month_ceil(first + timedelta(microseconds=1))
        return first, last

    def map_quarter(self, first: date, last: date, today: date) -> tuple[date, date]:
        """Whole months ``first`` .. ``last`` (first days, inclusive) for counts of young people's safety maps:
        as asked for staff; for a controlled reader **one whole calendar quarter that has ended**.

        A square is shown only when enough separate maps mark it, but a reader who chose the months could
        difference two overlapping ranges (May–June and April–June) and see the maps of April alone, down to
        one map's contribution to one square. Quarters are a fixed partition: no two a reader can ask for
        overlap, and a quarter still under way (still growing as maps are added) is never shown. The quarter is
        the one ``last`` falls in, or the latest that has ended when that one has not.
        """
        if not self.applied:
            return first, last
        quarter = quarter_start(last)
        latest = add_months(quarter_start(today), -3)
        quarter = min(quarter, latest)
        return quarter, add_months(quarter, 2)

    def observed_until(self, now: datetime) -> datetime:
        """Where rates stop observing: now for staff; the start of this month when controlled (whole months)."""
        return month_floor(now) if self.applied else now

    def windows(self, before: tuple[datetime, datetime], after: tuple[datetime, datetime]
                ) -> tuple[tuple[datetime, datetime], tuple[datetime, datetime]]:
        """Before/after windows in whole months when controlled: the before window ends at the start of the
        month it ends in (so it never overlaps the after window), the after window covers whole months."""
        if not self.applied:
            return before, after
        return (month_floor(before[0]), month_floor(before[1])), (month_floor(after[0]), month_ceil(after[1]))

    def distance(self, value: float | None, default: float | None) -> float | None:
        """A radius, buffer or search distance: as asked for staff; the fixed default when controlled (a
        reader who slides a radius around a place can trilaterate an incident)."""
        return default if self.applied else value

    # ---- reporting -------------------------------------------------------------------------------------
    def info(self) -> DisclosureInfo:
        if self.applied:
            note = (f"Counts of 1 to {self.rule.suppress_max} are suppressed (null), others rounded to the "
                    f"nearest {self.rule.round_to}; answers use the published grid (squares of "
                    f"{', '.join(f'{s:g}' for s in PUBLISHED_CELL_SIZES)} m), whole calendar months and whole "
                    "cells (bbox snapped outwards); statistics are computed from the disclosed counts and "
                    "withheld where they rest on a suppressed count (such a cell is never a hot spot); cell z "
                    "and p values are withheld (confidence bins shown); no free text or incident locations.")
        else:
            note = "Exact counts, for staff use only: ask for shareable=true before sharing outside the team."
        return DisclosureInfo(applied=self.applied, suppress_max=self.rule.suppress_max,
                              round_to=self.rule.round_to, note=note)

    def audit(self, session: Session, principal: Principal | None, what: str, parameters: dict[str, Any]) -> None:
        """Record a disclosure-controlled answer: who asked, what, with which parameters (``at`` is when)."""
        if not self.applied or principal is None:
            return
        record_action(session, principal, "analysis.disclosure", what,
                      {"role": principal.role, "shareable": self.shareable, "parameters": parameters})
