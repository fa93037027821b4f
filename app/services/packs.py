"""The panel pack (issue 17): what a multi-agency meeting takes away about interventions and places.

Always disclosure-controlled with the panel's rule, whoever asks (:func:`panel_disclosure`): a pack is
printed and sent round, so it must be safe for every reader of the meeting, not only for its author. The
figures come from the same services as the API and the web pages (displacement, place timeline); the
sentences from :mod:`geo.findings`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from shapely.geometry import Point, shape
from sqlalchemy.orm import Session

from app.db import analysis as db
from app.db import maps as maps_db
from app.security import Principal
from app.services.disclosure import WITHHELD, Disclosure
from app.services.displacement import COMPARISON, intervention_comparison
from app.services.place_analysis import place_timeline
from app.settings import Settings
from geo import findings
from geo.calendar import add_months
from geo.rates import rate_ratio

PLACE_RADIUS_M = 100.0  # the place timeline's default radius (the place page uses the same)
PLACE_MONTHS = 12  # months of a place's harm shown either side of today's month in a pack
MAX_PACK_ITEMS = 12  # interventions plus places in one meeting pack: a pack, not an export


def panel_disclosure(settings: Settings, principal: Principal | None = None) -> Disclosure:
    """The panel's disclosure rule (the reader's organisation's, never below the deployment's), whatever the
    reader's role: a pack leaves the building."""
    return Disclosure.panel(principal, settings)


def _withheld(measure: dict[str, Any]) -> bool:
    return measure.get("interpretation") == WITHHELD


def _target_change(result: dict[str, Any], where: str, after: str) -> findings.Finding:
    """Harm at the target before and after as a rate ratio over the observed days, computed from the
    counts the reader is shown (the disclosed ones for the panel), so it reveals nothing they do not."""
    counts = result["target"]["counts"]
    before_days, after_days = result["before"]["observed_days"], result["after"]["observed_days"]
    if counts["before"] is None or counts["after"] is None:
        return findings.rate_change(where, None, None, None, after=after, withheld=True)
    if before_days <= 0 or after_days <= 0:
        return findings.rate_change(where, None, None, None, after=after,
                                    undefined_reason="the after window has no observed days yet")
    ratio = rate_ratio(int(counts["before"]), before_days, int(counts["after"]), after_days)
    return findings.rate_change(where, ratio.ratio, ratio.lower, ratio.upper, after=after,
                                undefined_reason=ratio.undefined.get("lower") or ratio.undefined.get("ratio"))


def places_in_buffer(session: Session, result: dict[str, Any]) -> dict[int, bool]:
    """For each rising place of the analysis, whether it lies inside the target or its buffer (the area the
    displacement quotient weighs), from a point on the place and the analysis's own areas."""
    ids = [p["place_id"] for p in result["where_it_went"]["places"]]
    if not ids or not result.get("buffer"):
        return {}
    near = shape(result["target"]["geometry"]).union(shape(result["buffer"]["geometry"]))
    return {pid: near.buffer(1e-6).contains(Point(lon, lat)) for pid, (lon, lat) in maps_db.place_points(
        session, ids).items()}


def intervention_findings(result: dict[str, Any], where: str, after: str,
                          in_buffer: dict[int, bool] | None = None) -> list[findings.Finding]:
    """The plain-English findings for one displacement analysis (the service's disclosed answer).
    ``in_buffer`` (:func:`places_in_buffer`) lets the findings say when a rising place is beyond the buffer."""
    target = _target_change(result, where, after)
    q = result["quotient"]
    wdq, success, spill, tne = q["wdq"], q["success_measure"], q["buffer_displacement_measure"], q["total_net_effect"]
    out = [target]
    difference = result["difference"]
    # A control with too few incidents (a count the panel cannot see, or fewer) gives no verdict on what
    # leans on it; the threshold is the disclosure rule's, so staff and panel read the same.
    minimum = result["disclosure"].suppress_max + 1
    control = result["control"]["counts"]
    thin = findings.control_too_few(control["before"], control["after"], minimum)
    if thin and difference is not None:
        out.append(findings.too_few_in_control("wdd", minimum))
    elif difference is None:
        # The service's reason names API parameters; the same said for a panel.
        out.append(findings.weighted_displacement_difference(None, None, None, undefined_reason=(
            "it needs a control area with a buffer of its own, and this analysis compares against the rest of "
            "the service area; choose a control place or draw a control area to get it")))
    else:
        out.append(findings.weighted_displacement_difference(
            difference["wdd"], difference["lower"], difference["upper"], confidence=difference["confidence"],
            undefined_reason=difference["undefined_reason"], withheld=_withheld(difference)))
    if thin:
        out += [findings.too_few_in_control("wdq", minimum), findings.too_few_in_control("total_net_effect", minimum)]
    else:
        out.append(findings.weighted_displacement_quotient(
            wdq["value"], success["value"], spill["value"],
            undefined_reason=wdq["undefined_reason"] or success["undefined_reason"], withheld=_withheld(wdq)))
        out.append(findings.total_net_effect(tne["value"], undefined_reason=tne["undefined_reason"],
                                             withheld=_withheld(tne)))
    went = result["where_it_went"]
    placed = in_buffer or {}
    rising = [findings.RisingPlace(p["name"], p["distance_m"], p["rate"]["ratio"], p["rate"]["lower"],
                                   p["rate"]["upper"], in_buffer=placed.get(p["place_id"]))
              for p in went["places"] if p["rate"]["lower"] is not None]
    out.append(findings.rising_places(rising, target_fell=target.verdict == "fell",
                                      search_distance_m=went["search_distance_m"],
                                      buffer_m=result["parameters"]["buffer_m"], quotient_verdict=out[2].verdict))
    return out


def control_description(result: dict[str, Any], control_name: str | None, drawn: bool = False) -> str:
    """Which control the figures used, said plainly."""
    if drawn:
        snapped = " (widened to whole squares of the published grid)" if result["disclosure"].applied else ""
        return (f"An area you drew{snapped}, outside the target and buffer, with a ring "
                f"{result['parameters']['buffer_m']:g} m wide around it as its buffer.")
    if control_name is None:
        return ("The rest of the service area, outside the target and its buffer (the default). It has no buffer "
                "of its own, so the weighted displacement difference cannot be worked out against it.")
    return (f"{control_name}: the place's own area (or {COMPARISON.target_radius_m:g} m around it when it is a "
            f"point), outside the target and buffer, with a ring {result['parameters']['buffer_m']:g} m wide "
            "around it as its buffer.")


def intervention_heading(summary: dict[str, Any]) -> tuple[str, str]:
    """A title a panel may see (the description is free text, withheld) and the phrase "after ... began"."""
    kind = str(summary["kind"]).replace("_", " ")
    where = summary.get("place_name") or "the intervention site"
    return f"{kind.capitalize()} at {where}", f"after the {kind} began"


@dataclass(frozen=True)
class InterventionSection:
    id: int
    title: str
    summary: dict[str, Any]
    analysis: dict[str, Any]
    findings: list[findings.Finding]
    control: str = ""  # which control area the figures used, in words


@dataclass(frozen=True)
class PlaceSection:
    id: int
    name: str
    kind: str
    months: list[dict[str, Any]]  # {"month": "YYYY-MM", "count": disclosed count or None (suppressed)}
    designations: list[dict[str, Any]]
    interventions: list[dict[str, Any]]


def intervention_section(
    session: Session, settings: Settings, principal: Principal | None, intervention: int,
    control_place: int | None = None, control_area: dict[str, Any] | None = None,
) -> InterventionSection:
    analysis = intervention_comparison(session, settings, principal, panel_disclosure(settings, principal),
                                       intervention, control_place, control_area)
    summary = analysis["intervention"]
    title, after = intervention_heading(summary)
    where = summary.get("place_name") or "the intervention site"
    control_name = db.place_row(session, control_place).name if control_place is not None else None
    return InterventionSection(intervention, title, summary, analysis, intervention_findings(
        analysis, where, after, places_in_buffer(session, analysis)), control_description(
        analysis, control_name, drawn=control_area is not None))


def place_section(
    session: Session, settings: Settings, principal: Principal | None, place: int, today: date,
) -> PlaceSection:
    """A place's harm month by month for the year before this month (whole months, disclosed), with its
    designation history and interventions (free text withheld by the panel rule)."""
    disclosure = panel_disclosure(settings, principal)
    first = add_months(today.replace(day=1), -PLACE_MONTHS)
    period = f"{first.isoformat()}T00:00:00Z/{today.replace(day=1).isoformat()}T00:00:00Z"
    timeline = place_timeline(session, principal, disclosure, place, period=period, radius=PLACE_RADIUS_M)
    return PlaceSection(place, timeline["place"]["name"], timeline["place"]["kind"], timeline["months"],
                        timeline["designations"], timeline["interventions"])
