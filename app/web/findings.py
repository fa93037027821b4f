"""An intervention's findings in plain English, and the glossary of their terms (issue 17).

The figures come from the displacement service the JSON API and the displacement map use
(:func:`app.services.displacement.displacement_analysis`), disclosure-controlled for the panel by the same
:class:`~app.services.disclosure.Disclosure`: no second pipeline. The sentences come from
:mod:`geo.findings`, which never claims more than an interval supports.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app import policy
from app.db import repository
from app.db.resources import INTERVENTIONS
from app.dependencies import Principal, ReaderDisclosure, SessionDep, SettingsDep, gate
from app.services.packs import intervention_analysis, intervention_findings, intervention_heading
from app.web.shell import page

router = APIRouter(tags=["web"], include_in_schema=False)


@router.get("/interventions/{intervention_id}/findings", response_class=HTMLResponse)
def findings_page(
    intervention_id: int, request: Request, session: SessionDep, settings: SettingsDep, disclosure: ReaderDisclosure,
    principal: Principal = gate(policy.ANALYSIS),
) -> HTMLResponse:
    intervention = disclosure.redact_feature(repository.get_feature(session, INTERVENTIONS, intervention_id))
    props = intervention["properties"]
    result = intervention_analysis(session, settings, principal, disclosure, intervention_id)
    heading, after = intervention_heading(result["intervention"])
    where = props.get("place_name") or "the intervention site"
    # The description is free text: the panel sees the kind, place and dates only (geo.privacy).
    title = props.get("description") or heading
    return page(
        request, "findings/findings.html", principal=principal, session=session, title=title,
        breadcrumbs=[("Home", "/"), ("Interventions", "/maps/displacement")], intervention=intervention,
        props=props, result=result, findings=intervention_findings(result, where, after),
    )


@router.get("/glossary", response_class=HTMLResponse)
def glossary(request: Request, session: SessionDep, principal: Principal = gate(policy.READ_CONTEXT)) -> HTMLResponse:
    return page(request, "findings/glossary.html", principal=principal, session=session, title="Glossary",
                breadcrumbs=[("Home", "/")])
