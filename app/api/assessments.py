"""Context assessments (Level 2): the triangle rated red/amber/green, responses, and outcome goals.

The panel may read assessments — ratings over time, methods, weighting, review dates and goal values
are how it sees whether a context changed — but never their free text: notes, recommended responses,
goal statements and observation notes come back null (DESIGN.md: panel reads "without free-text
notes"). Practitioners write them (``write_safe_spaces``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from app import policy
from app.api.features import collection, created
from app.api.parameters import DatetimeParam, PagingDep
from app.db import repository
from app.db.assessments import ASSESSMENTS
from app.db.resources import PLACES
from app.dependencies import Principal, ReaderDisclosure, SessionDep, SettingsDep, gate
from app.schemas.assessments import AssessmentCollection, AssessmentCreate, AssessmentFeature, AssessmentPatch
from app.services import records
from app.services.disclosure import Disclosure

router = APIRouter(prefix="/api", tags=["assessments"])


def _listing(
    request: Request, session: SessionDep, disclosure: Disclosure, page: PagingDep, datetime_param: str | None,
    place_id: int | None, review_overdue: bool | None,
) -> dict[str, Any]:
    return collection(request, session, ASSESSMENTS, disclosure, page, datetime_param=datetime_param,
                      equals={"place_id": [place_id] if place_id is not None else [],
                              "review_overdue": [review_overdue] if review_overdue is not None else []})


@router.get("/assessments", response_model=AssessmentCollection)
def list_assessments(
    request: Request, session: SessionDep, disclosure: ReaderDisclosure, page: PagingDep,
    datetime: DatetimeParam = None,
    place_id: Annotated[int | None, Query()] = None,
    review_overdue: Annotated[bool | None, Query(description="review date has passed")] = None,
    principal: Principal = gate(policy.READ_CONTEXT),
) -> dict[str, Any]:
    return _listing(request, session, disclosure, page, datetime, place_id, review_overdue)


@router.get("/places/{place_id}/assessments", response_model=AssessmentCollection)
def place_assessments(
    place_id: int, request: Request, session: SessionDep, disclosure: ReaderDisclosure, page: PagingDep,
    principal: Principal = gate(policy.READ_CONTEXT),
) -> dict[str, Any]:
    """The place's assessments, oldest first: how its ratings changed over time."""
    repository.get_feature(session, PLACES, place_id)
    return _listing(request, session, disclosure, page, None, place_id, None)


@router.get("/assessments/{assessment_id}", response_model=AssessmentFeature)
def get_assessment(
    assessment_id: int, session: SessionDep, disclosure: ReaderDisclosure,
    principal: Principal = gate(policy.READ_CONTEXT),
) -> dict[str, Any]:
    return disclosure.redact_feature(repository.get_feature(session, ASSESSMENTS, assessment_id))


@router.post("/assessments", response_model=AssessmentFeature, status_code=201)
def create_assessment(
    body: AssessmentCreate, session: SessionDep, settings: SettingsDep, response: Response,
    principal: Principal = gate(records.ASSESSMENT.create_gate),
) -> dict[str, Any]:
    feature = records.create(session, settings, principal, records.ASSESSMENT, body)
    return created(response, "/api/assessments", feature)


@router.patch("/assessments/{assessment_id}", response_model=AssessmentFeature)
def update_assessment(
    assessment_id: int, body: AssessmentPatch, session: SessionDep, settings: SettingsDep,
    principal: Principal = gate(records.ASSESSMENT.update_gate),
) -> dict[str, Any]:
    """Change an assessment: e.g. add follow-up observations to its goals (send the whole goals list)."""
    return records.update(session, settings, principal, records.ASSESSMENT, assessment_id, body)


@router.delete("/assessments/{assessment_id}", status_code=204)
def delete_assessment(
    assessment_id: int, session: SessionDep, principal: Principal = gate(records.ASSESSMENT.delete_gate),
) -> None:
    records.delete(session, principal, records.ASSESSMENT, assessment_id)
