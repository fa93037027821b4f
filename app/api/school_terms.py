"""The organisation's school terms, from which opening hours' ``SH`` (school holidays) are computed.

England's term dates differ by council, so each organisation uploads its own (a CSV of teaching periods,
see geo.school_terms); a new upload replaces the old one whole. The CLI's `contextmap school-terms load`
does the same.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, File, UploadFile
from pydantic import BaseModel

from app import policy
from app.api.features import audit_write
from app.db import school_terms as store
from app.dependencies import Principal, SessionDep, gate
from app.errors import InvalidInput
from geo.school_terms import SchoolTermsError, parse_school_terms

router = APIRouter(prefix="/api/school-terms", tags=["school terms"])


class SchoolTermOut(BaseModel):
    term: str
    starts_on: date
    ends_on: date


class SchoolTermsOut(BaseModel):
    terms: list[SchoolTermOut]
    school_holidays_known_from: date | None = None
    school_holidays_known_to: date | None = None


def _answer(terms: list[Any]) -> dict[str, Any]:
    return {"terms": [{"term": t.name, "starts_on": t.starts_on, "ends_on": t.ends_on} for t in terms],
            "school_holidays_known_from": terms[0].starts_on if terms else None,
            "school_holidays_known_to": terms[-1].ends_on if terms else None}


@router.get("", response_model=SchoolTermsOut)
def list_school_terms(session: SessionDep, principal: Principal = gate(policy.READ_CONTEXT)) -> dict[str, Any]:
    """The organisation's school terms; ``SH`` in opening hours means the days between them."""
    return _answer(store.school_terms(session, principal.organisation_id))


@router.put("", response_model=SchoolTermsOut)
def replace_school_terms(
    session: SessionDep,
    file: Annotated[UploadFile, File(description="CSV with the header term,starts_on,ends_on (ISO dates)")],
    principal: Principal = gate(policy.ADMINISTER),
) -> dict[str, Any]:
    """Replace the organisation's school terms with the uploaded CSV: all of it, or nothing."""
    try:
        terms = parse_school_terms(file.file.read().decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise InvalidInput("file: not UTF-8 text", field="file") from exc
    except SchoolTermsError as exc:
        raise InvalidInput(f"file: {exc}", field="file",
                           errors=[{"field": f"file.{exc.field}", "line": exc.line, "message": exc.message}]) from exc
    stored = store.replace_school_terms(session, principal.organisation_id, terms)
    audit_write(session, principal, "replace", "school_terms",
                {"terms": stored, "from": str(terms[0].starts_on), "to": str(terms[-1].ends_on)})
    return _answer(terms)
