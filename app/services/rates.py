"""Before and after an intervention: the two windows, the days of each already observed, and the change in
incident rate between them (:func:`geo.rates.rate_ratio`), disclosure-controlled."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from app.db import analysis as db
from app.exceptions import InvalidInput
from app.services.disclosure import WITHHELD, Disclosure
from app.services.selection import analysis_window
from geo.calendar import add_months, london_midnight
from geo.rates import rate_ratio

DEFAULT_WINDOW_MONTHS = 6
RATE_CONFIDENCE = 0.95


def observed_window(window: tuple[datetime, datetime], now: datetime) -> tuple[datetime, datetime, float]:
    """The window cut at ``now`` (the future has no exposure yet) and its length in days."""
    start, end = window
    cut = max(start, min(end, now))
    return start, cut, (cut - start).total_seconds() / 86_400


def window_summary(window: tuple[datetime, datetime], days: float) -> dict[str, Any]:
    return {"start": window[0], "end": window[1], "observed_days": round(days, 3)}


def rate_comparison(
    before: int, before_days: float, after: int, after_days: float, disclosure: Disclosure,
) -> dict[str, Any]:
    shown = {"before_count": disclosure.count(before), "after_count": disclosure.count(after),
             "before_days": round(before_days, 3), "after_days": round(after_days, 3),
             "confidence": RATE_CONFIDENCE}
    if before_days <= 0 or after_days <= 0:
        which = "after" if after_days <= 0 else "before"
        reason = f"The {which} window has no observed days yet, so there is no rate to compare."
        return {**shown, "ratio": None, "lower": None, "upper": None, "p_value": None, "significant_rise": False,
                "significant_fall": False, "interpretation": "Undefined: " + reason,
                "undefined": dict.fromkeys(("ratio", "lower", "upper", "p_value"), reason)}
    if disclosure.hides(before, after):
        # The verdict is computed from the suppressed count too: it is withheld with the figures (a
        # "significant rise" from 0 shown as suppressed would say the count was not 1).
        return {**shown, "ratio": None, "lower": None, "upper": None, "p_value": None, "significant_rise": None,
                "significant_fall": None, "interpretation": WITHHELD,
                "undefined": dict.fromkeys(("ratio", "lower", "upper", "p_value"), WITHHELD)}
    # From the counts shown (Disclosure.basis): an exact interval from exact counts would give them away.
    before, after = disclosure.basis(before, after)
    result = rate_ratio(before, before_days, after, after_days, confidence=RATE_CONFIDENCE)
    rise = result.lower is not None and result.lower > 1
    fall = result.upper is not None and result.upper < 1
    return {**shown, "ratio": disclosure.stat(result.ratio, 2), "lower": disclosure.stat(result.lower, 2),
            "upper": disclosure.stat(result.upper, 2), "p_value": disclosure.stat(result.p_value, 3),
            "significant_rise": rise, "significant_fall": fall, "interpretation": result.interpretation,
            "undefined": dict(result.undefined)}


def before_after_windows(
    starts_on: date, before: str | None, after: str | None, disclosure: Disclosure,
) -> tuple[tuple[datetime, datetime], ...]:
    """Before and after windows: given ones, else the six months either side of the start date (whole
    months for a disclosure-controlled reader, :meth:`Disclosure.windows`)."""
    start = london_midnight(starts_on)
    before_w = (analysis_window(before, "before") if before
                else (london_midnight(add_months(starts_on, -DEFAULT_WINDOW_MONTHS)), start))
    after_w = (analysis_window(after, "after") if after
               else (start, london_midnight(add_months(starts_on, DEFAULT_WINDOW_MONTHS))))
    before_w, after_w = disclosure.windows(before_w, after_w)
    if before_w[1] <= before_w[0]:
        raise InvalidInput("before: disclosure-controlled answers compare whole months; the before window holds "
                           "none", field="before")
    if after_w[0] < before_w[1]:
        raise InvalidInput("after: the after window starts before the before window ends", field="after")
    return before_w, after_w


def intervention_summary(site: db.InterventionSite, disclosure: Disclosure) -> dict[str, Any]:
    return disclosure.redact({
        "id": site.id, "kind": site.kind, "place_id": site.place_id, "place_name": site.place_name,
        "owning_partner": site.owning_partner, "starts_on": site.starts_on, "ends_on": site.ends_on,
        "description": site.description})
