"""A place over time: before/after incident rates around each intervention there, and its monthly
timeline with the designations, interventions and guardians that shaped it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from app.db import analysis as db
from app.exceptions import InvalidInput
from app.security import Principal
from app.services.disclosure import Disclosure
from app.services.rates import (
    before_after_windows,
    intervention_summary,
    observed_window,
    rate_comparison,
    window_summary,
)
from app.services.selection import analysis_period, vocabulary_values
from geo.vocabulary import HARM_CATEGORIES, INCIDENT_SOURCES

#: Incidents "at a place": within this many metres of it (or linked to it). Fixed for disclosure-controlled
#: readers: a radius the reader could slide would draw circles around places to trilaterate an incident.
PLACE_RADIUS_M = 100.0

OUTCOME_CITATION = (
    "After/before incident rate per day with an exact conditional (Clopper-Pearson) interval for the "
    "rate ratio and an exact binomial test of no change (Ederer & Mantel 1974; Rothman et al. 2008, ch. 14)."
)


def place_outcomes(
    session: Session, principal: Principal, disclosure: Disclosure, place_id: int, *, intervention: int | None,
    radius: float, before: str | None, after: str | None, harm_category: Sequence[str] | None,
    source: Sequence[str] | None,
) -> dict[str, Any]:
    """Before/after incident rates by harm category around each intervention at the place.

    Disclosure-controlled: whole months, the fixed radius, complete months observed only.
    """
    radius = disclosure.distance(radius, PLACE_RADIUS_M) or PLACE_RADIUS_M
    place = db.place_row(session, place_id)
    filt = db.IncidentFilter(harm_categories=vocabulary_values(harm_category, HARM_CATEGORIES, "harm_category"),
                             sources=vocabulary_values(source, INCIDENT_SOURCES, "source"))
    sites = db.interventions_at_place(session, place_id)
    if intervention is not None:
        db.intervention_site(session, intervention)  # 404 when not in this organisation
        sites = [s for s in sites if s.id == intervention]
        if not sites:
            raise InvalidInput(f"intervention: intervention {intervention} is not at place {place_id}",
                               field="intervention")
    now = disclosure.observed_until(datetime.now(UTC))
    outcomes = []
    for site in sites:
        before_w, after_w = before_after_windows(site.starts_on, before, after, disclosure)
        b0, b1, before_days = observed_window(before_w, now)
        a0, a1, after_days = observed_window(after_w, now)
        counts = db.place_counts_by_category(session, place_id, radius, db.Windows((b0, b1), (a0, a1)), filt)
        total_before = sum(c[0] for c in counts.values())
        total_after = sum(c[1] for c in counts.values())
        outcomes.append({
            "intervention": intervention_summary(site, disclosure),
            "before": window_summary(before_w, before_days), "after": window_summary(after_w, after_days),
            "overall": rate_comparison(total_before, before_days, total_after, after_days, disclosure),
            "by_harm_category": [{"harm_category": name,
                                  "rate": rate_comparison(b, before_days, a, after_days, disclosure)}
                                 for name, (b, a) in counts.items()],
        })
    disclosure.audit(session, principal, f"place:{place_id}", {
        "analysis": "outcomes", "intervention": intervention, "radius": radius, "before": before, "after": after,
        "harm_category": list(filt.harm_categories), "source": list(filt.sources)})
    return {"place": {"id": place.id, "name": place.name, "kind": place.kind}, "radius_m": radius,
            "outcomes": outcomes, "method": OUTCOME_CITATION, "disclosure": disclosure.info()}


def place_timeline(
    session: Session, principal: Principal | None, disclosure: Disclosure, place_id: int, *, period: str | None,
    radius: float,
) -> dict[str, Any]:
    """Incidents per month at the place, with its designations, interventions and guardians.

    Disclosure-controlled: the period snapped to whole months, the fixed radius.
    """
    radius = disclosure.distance(radius, PLACE_RADIUS_M) or PLACE_RADIUS_M
    place = db.place_row(session, place_id)
    start, end = disclosure.period(*analysis_period(period, "datetime"))
    if start is not None and end is not None and (end - start).days > 31 * 240:
        raise InvalidInput("datetime: at most 20 years of months", field="datetime")
    history = db.place_timeline(session, place_id, radius, start, end)
    if len(history.months) > 240:
        raise InvalidInput("datetime: more than 240 months of records; give a shorter period", field="datetime")
    disclosure.audit(session, principal, f"place:{place_id}", {
        "analysis": "timeline", "radius": radius, "period": {"start": start, "end": end}})
    return {
        "place": {"id": place.id, "name": place.name, "kind": place.kind}, "radius_m": radius,
        "months": [{"month": month, "count": disclosure.count(n)} for month, n in history.months],
        "total": disclosure.count(sum(n for _, n in history.months)),
        "designations": [disclosure.redact(d) for d in history.designations],
        "interventions": [disclosure.redact(v) for v in history.interventions],
        "guardians": [{"id": g["id"], "role": g["role"], "trainings": g["trainings"] or [], "hours": g["hours"],
                       "description": disclosure.text(g["description"])} for g in history.guardians],
        "disclosure": disclosure.info(),
    }
