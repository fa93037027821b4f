"""An intervention's findings in plain English, and the glossary of their terms (issue 17).

The figures come from the displacement service the JSON API and the displacement map use
(:func:`app.services.displacement.displacement_analysis`), disclosure-controlled for the panel by the same
:class:`~app.services.disclosure.Disclosure`: no second pipeline. The sentences come from
:mod:`geo.findings`, which never claims more than an interval supports.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app import policy
from app.api.features import redact
from app.db import repository
from app.db.resources import INTERVENTIONS
from app.dependencies import Principal, SessionDep, SettingsDep, gate
from app.services.disclosure import Disclosure
from app.services.displacement import DEFAULT_BUFFER_M, DEFAULT_SEARCH_M, displacement_analysis
from app.web.shell import page
from geo import findings
from geo.rates import rate_ratio

router = APIRouter(tags=["web"], include_in_schema=False)


def _target_change(result: dict[str, Any], where: str, after: str) -> findings.Finding:
    """Harm at the target before and after, as a rate ratio over the observed days. Computed from the
    counts the reader is shown (disclosed ones for the panel), so it reveals nothing the counts do not."""
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


def intervention_findings(result: dict[str, Any], where: str, after: str) -> list[findings.Finding]:
    """The plain-English findings for one displacement analysis (the service's disclosed answer)."""
    withheld = "Withheld"
    target = _target_change(result, where, after)
    q = result["quotient"]
    wdq, success, spill = q["wdq"], q["success_measure"], q["buffer_displacement_measure"]
    tne = q["total_net_effect"]
    out = [target]
    difference = result["difference"]
    if difference is None:
        # The service's reason names API parameters; the page says the same for a panel.
        out.append(findings.weighted_displacement_difference(None, None, None, undefined_reason=(
            "it needs a control area with a buffer of its own, and this page compares against the rest of "
            "the service area")))
    else:
        out.append(findings.weighted_displacement_difference(
            difference["wdd"], difference["lower"], difference["upper"], confidence=difference["confidence"],
            undefined_reason=difference["undefined_reason"],
            withheld=str(difference["interpretation"]).startswith(withheld)))
    out.append(findings.weighted_displacement_quotient(
        wdq["value"], success["value"], spill["value"],
        undefined_reason=wdq["undefined_reason"] or success["undefined_reason"],
        withheld=str(wdq["interpretation"]).startswith(withheld)))
    out.append(findings.total_net_effect(tne["value"], undefined_reason=tne["undefined_reason"],
                                         withheld=str(tne["interpretation"]).startswith(withheld)))
    went = result["where_it_went"]
    rising = [findings.RisingPlace(p["name"], p["distance_m"], p["rate"]["ratio"], p["rate"]["lower"],
                                   p["rate"]["upper"])
              for p in went["places"] if p["rate"]["lower"] is not None]
    out.append(findings.rising_places(rising, target_fell=target.verdict == "fell",
                                      search_distance_m=went["search_distance_m"]))
    return out


@router.get("/interventions/{intervention_id}/findings", response_class=HTMLResponse)
def findings_page(
    intervention_id: int, request: Request, session: SessionDep, settings: SettingsDep,
    principal: Principal = gate(policy.ANALYSIS),
) -> HTMLResponse:
    intervention = redact(repository.get_feature(session, INTERVENTIONS, intervention_id), principal)
    props = intervention["properties"]
    disclosure = Disclosure.for_reader(principal, settings, shareable=False)
    result = displacement_analysis(
        session, settings, principal, disclosure, intervention=intervention_id, target_radius=None,
        buffer_m=DEFAULT_BUFFER_M, before=None, after=None, harm_category=None, source=None,
        search_distance=DEFAULT_SEARCH_M, cell="square", size=150.0, control_geometry=None, control_place=None)
    where = props.get("place_name") or "the intervention site"
    kind = str(props["kind"]).replace("_", " ")
    after = f"after the {kind} began"
    # The title is free text: the panel sees the kind, place and dates only (geo.privacy).
    title = props.get("description") or f"{kind.capitalize()} at {where}"
    return page(
        request, "findings/findings.html", principal=principal, session=session, title=title,
        breadcrumbs=[("Home", "/"), ("Interventions", "/maps/displacement")], intervention=intervention,
        props=props, result=result, findings=intervention_findings(result, where, after),
    )


@router.get("/glossary", response_class=HTMLResponse)
def glossary(request: Request, session: SessionDep, principal: Principal = gate(policy.READ_CONTEXT)) -> HTMLResponse:
    return page(request, "findings/glossary.html", principal=principal, session=session, title="Glossary",
                breadcrumbs=[("Home", "/")])
