"""The home page: what needs the signed-in person's attention, and the way into each job their role may do."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app import policy
from app.db import attention
from app.db import maps as maps_db
from app.dependencies import Principal, ReaderDisclosure, SessionDep, SettingsDep, gate
from app.web.shell import page

router = APIRouter(tags=["web"], include_in_schema=False)

REVIEW_WINDOW_DAYS = 30  # "due" means within a month, the usual cycle of a multi-agency panel
RECENT_DAYS = 30
RECENT_INTERVENTIONS = 8


@router.get("/", response_class=HTMLResponse)
def home(
    request: Request, session: SessionDep, settings: SettingsDep, disclosure: ReaderDisclosure,
    principal: Principal = gate(policy.READ_CONTEXT),
) -> HTMLResponse:
    # The panel reads without free text (DESIGN.md role table): the request's disclosure withholds it.
    interventions = [disclosure.redact(item) for item in attention.interventions_changing(session, RECENT_DAYS)]
    # The newest located interventions, each a link to where harm went afterwards.
    located = [item for item in maps_db.intervention_list(session) if item["located"]]
    recent = [disclosure.redact(item) for item in located[:RECENT_INTERVENTIONS]]
    return page(
        request, "home.html", principal=principal, session=session, title="Home",
        reviews=attention.reviews_due(session, REVIEW_WINDOW_DAYS),
        flagged=attention.flagged_from_hotspots(session, RECENT_DAYS),
        interventions=interventions, recent=recent,
        stale=attention.stale_safe_spaces(session, settings.safe_space_stale_days),
        stale_days=settings.safe_space_stale_days, window=REVIEW_WINDOW_DAYS,
        may_write_places=policy.WRITE_SAFE_SPACES.allows(principal.role),
        may_flag=policy.FLAG_CONCERN.allows(principal.role), shows_free_text=disclosure.shows_free_text,
        may_record_incidents=policy.CREATE_INCIDENTS.allows(principal.role),
        may_import=policy.IMPORT_INCIDENTS.allows(principal.role),
        may_write_interventions=policy.WRITE_INTERVENTIONS.allows(principal.role),
        may_review_suggestions=policy.FLAG_CONCERN.allows(principal.role),
    )
