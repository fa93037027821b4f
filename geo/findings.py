"""Plain-English findings for a panel, generated from the displacement and outcome measures.

Each reading says only what the statistic supports:

* a change with an interval is "fell" or "rose" only when the whole interval lies on one side of no
  change; an interval that includes no change reads "no clear change" whatever the point estimate;
* the weighted displacement quotient (WDQ) has no interval (Bowers & Johnson 2003 give none), so its
  displacement/diffusion reading is hedged as "consistent with" and never called clear;
* a place whose harm rose is "consistent with displacement" only when harm at the target clearly fell —
  a rise next to a target that did not improve is just a rise;
* an undefined measure (zero counts) or a withheld one (disclosure control) is said plainly, never
  shown as 0, inf or NaN;
* a control area with too few incidents (:func:`control_too_few`) gives no verdict on the measures that
  lean on it (WDD, WDQ, total net effect): "cannot say", whatever the formulas return.

Pure: plain numbers in, sentences out, so the web page, the PDF pack and notebooks share one wording.

References
----------
Bowers, K. J. & Johnson, S. D. (2003) Measuring the geographical displacement and diffusion of benefit
    effects of crime prevention activity. Journal of Quantitative Criminology 19(3), 275-301 (WDQ scale,
    p. 285; total net effect, p. 286).
Wheeler, A. P. & Ratcliffe, J. H. (2018) A simple weighted displacement difference test to evaluate
    place based crime interventions. Crime Science 7:11 (WDD, its variance and normal interval).
Garwood, F. (1936) Fiducial limits for the Poisson distribution. Biometrika 28(3/4), 437-442 (the exact
    interval of a small count, behind the control area's minimum).
Ederer, F. & Mantel, N. (1974) Confidence limits on the ratio of two Poisson variables. American
    Journal of Epidemiology 100(3), 165-167 (the rate-ratio interval read here).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

Verdict = Literal["fell", "rose", "no clear change", "displacement", "diffusion", "neither", "undefined", "withheld"]

WITHHELD_SENTENCE = "Withheld: the figures rest on counts too small to publish."
_EPSILON = 1e-12


@dataclass(frozen=True)
class Finding:
    """One plain-English sentence for one measure, with the verdict it rests on (for styling and tests)."""

    measure: str
    verdict: Verdict
    sentence: str


@dataclass(frozen=True)
class RisingPlace:
    """A nearby place whose incident rate rose with its whole interval above 1."""

    name: str
    distance_m: float
    ratio: float | None  # None: no incidents before, so the rise has no finite ratio
    lower: float
    upper: float | None
    in_buffer: bool | None = None  # inside the target or its buffer; None: not known


def number(value: float, digits: int = 0) -> str:
    """A figure for a sentence: rounded, thousands separated, a true minus sign (GOV.UK style)."""
    text = f"{abs(value):,.{digits}f}"
    if float(text.replace(",", "")) == 0:
        return f"{0:.{digits}f}"
    return ("\u2212" if value < 0 else "") + text


def interval(lower: float, upper: float, digits: int = 0, confidence: float = 0.95) -> str:
    return f"{confidence:.0%} interval {number(lower, digits)} to {number(upper, digits)}".replace("%", " %")


def control_too_few(before: int | None, after: int | None, minimum: int) -> bool:
    """Whether a control area is too thin to stand for what harm would have done without the intervention:
    fewer than ``minimum`` incidents in the before or the after period, or a count withheld as too small to
    publish (``None``).

    The measures stay computable (the WDD of a control with no incidents is just the target's own change),
    but a baseline of a handful of incidents says nothing: the exact 95 % interval of a count of 7 runs from
    2.8 to 14.4 (Garwood 1936), so such a control cannot tell a halving from a doubling. The callers pass
    the disclosure threshold plus one as ``minimum``, so the rule falls exactly where a panel stops seeing
    the count: staff and panel get the same reading, and the rule reveals nothing the panel does not see."""
    return before is None or after is None or min(before, after) < minimum


_CONTROL_QUESTIONS = {
    "wdd": "whether harm fell overall against the control area (weighted displacement difference)",
    "wdq": "whether harm moved or spread from the target (weighted displacement quotient)",
    "total_net_effect": "how many incidents were prevented overall (total net effect)",
}


def too_few_in_control(measure: Literal["wdd", "wdq", "total_net_effect"], minimum: int) -> Finding:
    """No verdict for a measure that leans on a control area with too few incidents (:func:`control_too_few`)."""
    return Finding(measure, "undefined", f"Cannot say {_CONTROL_QUESTIONS[measure]}: the control area has too few "
                   f"incidents (fewer than {minimum} in the before or the after period) to show what harm would "
                   "have done without the intervention. Choose a busier control area.")


def rate_change(
    where: str, ratio: float | None, lower: float | None, upper: float | None, *, confidence: float = 0.95,
    after: str = "after the intervention", undefined_reason: str | None = None, withheld: bool = False,
) -> Finding:
    """Harm at one place before and after, from the after/before rate ratio and its interval (Ederer &
    Mantel 1974). "Fell" needs the upper limit below 1, "rose" the lower limit above 1."""
    if withheld:
        return Finding("rate_ratio", "withheld", f"Harm at {where}: " + _lower_first(WITHHELD_SENTENCE))
    if lower is None:
        reason = undefined_reason or "no incidents were recorded in either period"
        return Finding("rate_ratio", "undefined",
                       f"Harm at {where} cannot be compared before and after: {_lower_first(reason)}")
    if ratio is None or upper is None:
        # No incidents before: the ratio and its upper limit are infinite (geo.rates.rate_ratio).
        if lower > 1:
            return Finding("rate_ratio", "rose", f"Harm at {where} rose {after}: there were no incidents before "
                           f"(rate ratio at least {number(lower, 1)}, {confidence:.0%} lower limit).".replace(
                               "%", " %"))
        return Finding("rate_ratio", "no clear change", f"No clear change in harm at {where} {after}: there were "
                       "no incidents before and too few after to call it a rise.")
    figures = f"rate ratio {number(ratio, 2)}, {interval(lower, upper, 2, confidence)}"
    if upper < 1:
        return Finding("rate_ratio", "fell",
                       f"Harm at {where} fell by about {_percent(1 - ratio)} {after} ({figures}).")
    if lower > 1:
        size = (f"to about {number(ratio, 1)} times its rate before" if ratio >= 2
                else f"by about {_percent(ratio - 1)}")
        return Finding("rate_ratio", "rose", f"Harm at {where} rose {size} {after} ({figures}).")
    return Finding("rate_ratio", "no clear change", f"No clear change in harm at {where} {after} ({figures}; "
                   "the interval includes no change).")


def weighted_displacement_difference(
    wdd: float | None, lower: float | None, upper: float | None, *, confidence: float = 0.95,
    undefined_reason: str | None = None, withheld: bool = False,
) -> Finding:
    """The WDD of Wheeler & Ratcliffe (2018): incidents in the target and its buffer against the control
    area and its buffer. Negative is fewer incidents than expected, net of displacement; "fell"/"rose"
    only when the normal interval (WDD ± z·sqrt(variance)) excludes zero."""
    if withheld:
        return Finding("wdd", "withheld", "Weighted displacement difference: " + _lower_first(WITHHELD_SENTENCE))
    if wdd is None or lower is None or upper is None:
        reason = undefined_reason or "no incidents were recorded in any area or period"
        return Finding("wdd", "undefined", "The weighted displacement difference cannot be worked out: "
                       + _lower_first(reason))
    figures = f"WDD {number(wdd)}, {interval(lower, upper, 0, confidence)}"
    if upper < 0:
        return Finding("wdd", "fell", f"Taking the target and the area around it together, there were about "
                       f"{number(-wdd)} fewer incidents than the control areas suggest, net of any displacement "
                       f"({figures}).")
    if lower > 0:
        return Finding("wdd", "rose", f"Taking the target and the area around it together, there were about "
                       f"{number(wdd)} more incidents than the control areas suggest ({figures}).")
    return Finding("wdd", "no clear change", "Taking the target and the area around it together, there is no "
                   f"clear change against the control areas ({figures}; the interval includes no change).")


def weighted_displacement_quotient(
    wdq: float | None, success: float | None, buffer_change: float | None, *,
    undefined_reason: str | None = None, withheld: bool = False,
) -> Finding:
    """Displacement, diffusion of benefits or neither, from the WDQ of Bowers & Johnson (2003, p. 285).

    The quotient is only read when the target improved against control (success measure < 0; Bowers &
    Johnson 2003, p. 285); it has no interval, so the reading is "consistent with", never "clear"."""
    if withheld:
        return Finding("wdq", "withheld", "Weighted displacement quotient: " + _lower_first(WITHHELD_SENTENCE))
    if success is None or buffer_change is None:
        reason = undefined_reason or "the control area recorded no incidents"
        return Finding("wdq", "undefined", "Whether harm moved cannot be judged from the displacement quotient: "
                       + _lower_first(reason))
    if success >= -_EPSILON or wdq is None:
        return Finding("wdq", "neither", "Harm at the target did not fall against the control area, so the "
                       "displacement quotient has nothing to weigh: it shows neither displacement nor diffusion.")
    figures = f"WDQ {number(wdq, 2)}; the quotient has no interval, so this is an indication, not a test"
    if wdq > _EPSILON:
        return Finding("wdq", "diffusion", "Harm in the area around the target also fell against the control "
                       f"area — consistent with a diffusion of benefits ({figures}).")
    if wdq < -_EPSILON:
        extent = ("more than cancelling the benefit at the target" if wdq < -1 - _EPSILON
                  else "about cancelling the benefit at the target" if wdq <= -1 + _EPSILON
                  else "but less than the benefit at the target")
        return Finding("wdq", "displacement", "Harm in the area around the target rose against the control area "
                       f"— consistent with displacement, {extent} ({figures}).")
    return Finding("wdq", "neither", "Harm in the area around the target changed in step with the control area: "
                   f"neither displacement nor diffusion ({figures}).")


def total_net_effect(value: float | None, *, undefined_reason: str | None = None,
                     withheld: bool = False) -> Finding:
    """Incidents prevented overall once displacement into the buffer is subtracted (Bowers & Johnson 2003,
    p. 286). It has no interval either: a size, read next to the WDD's verdict, not a verdict itself."""
    if withheld:
        return Finding("total_net_effect", "withheld", "Total net effect: " + _lower_first(WITHHELD_SENTENCE))
    if value is None:
        reason = undefined_reason or "the control area recorded no incidents before"
        return Finding("total_net_effect", "undefined", "The total net effect cannot be worked out: "
                       + _lower_first(reason))
    if abs(value) < 0.5:
        return Finding("total_net_effect", "neither", "Allowing for the area around the target, about as many "
                       "incidents as expected (total net effect about 0; no interval).")
    if value > 0:
        return Finding("total_net_effect", "fell", f"Allowing for the area around the target, about "
                       f"{number(value)} fewer incidents than expected overall (total net effect {number(value, 1)};"
                       " no interval, so read it with the difference test).")
    return Finding("total_net_effect", "rose", f"Allowing for the area around the target, about {number(-value)} "
                   f"more incidents than expected overall (total net effect {number(value, 1)}; no interval, so "
                   "read it with the difference test).")


def rising_places(places: Sequence[RisingPlace], *, target_fell: bool, search_distance_m: float,
                  confidence: float = 0.95, limit: int = 5, buffer_m: float | None = None,
                  quotient_verdict: Verdict | None = None) -> Finding:
    """Nearby places where harm rose (whole interval above 1). Called "consistent with displacement" only
    when harm at the target clearly fell; otherwise a rise nearby is reported as a rise and no more.

    A place beyond the buffer (``in_buffer`` False) is outside what the quotient weighs (Bowers & Johnson
    2003 measure displacement into the buffer only), so a sentence says so: it explains a quotient that
    reads diffusion next to a rise that reads displacement."""
    if not places:
        return Finding("places_rising", "neither", f"No place within {number(search_distance_m)} m had a clear "
                       "rise in harm after the intervention.")
    parts = []
    for place in places[:limit]:
        if place.ratio is None or place.upper is None:
            figures = f"none before; rate ratio at least {number(place.lower, 1)}"
        else:
            figures = f"rate ratio {number(place.ratio, 1)}, {interval(place.lower, place.upper, 1, confidence)}"
        parts.append(f"{place.name}, {number(place.distance_m)} m away ({figures})")
    more = f" and {len(places) - limit} more" if len(places) > limit else ""
    listed = "; ".join(parts) + more
    beyond = _beyond_buffer(places[:limit], buffer_m, quotient_verdict)
    if target_fell:
        return Finding("places_rising", "displacement",
                       f"Harm rose at {listed} — consistent with displacement.{beyond}")
    return Finding("places_rising", "rose", f"Harm rose at {listed}. Harm at the target did not clearly fall, so "
                   f"this is not evidence of displacement.{beyond}")


def _beyond_buffer(places: Sequence[RisingPlace], buffer_m: float | None, quotient_verdict: Verdict | None) -> str:
    """" X is outside the 400 m buffer, so the quotient does not count its rise." (empty when none is)."""
    outside = [p.name for p in places if p.in_buffer is False]
    if not outside or buffer_m is None:
        return ""
    names = _join(outside)
    verb, its = ("is", "its rise") if len(outside) == 1 else ("are", "their rises")
    sentence = (f" {names} {verb} outside the {number(buffer_m)} m buffer around the target, so the displacement "
                f"quotient, which weighs only the buffer, does not count {its}")
    if quotient_verdict == "diffusion":
        sentence += (": that is how the quotient can suggest a diffusion of benefits while harm rose "
                     + ("there" if len(outside) == 1 else "at those places"))
    return sentence + "."


def _join(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _percent(fraction: float) -> str:
    return f"{fraction * 100:.0f} %"


def _lower_first(text: str) -> str:
    text = text.strip()
    if not text:
        return text
    text = text[0].lower() + text[1:]
    return text if text.endswith(".") else text + "."
