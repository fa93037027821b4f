"""Pages acting on safety maps after a session (issue 21): community safety and admins review the places young
people suggested as safe (accept: a place to check and designate; dismiss), and an admin withdraws a map when a
young person withdraws their agreement (``contextmap safety-maps withdraw`` does the same from the command line).
Both are confirmed on a form, written in a savepoint and audited (:mod:`app.services.safety_review`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app import policy
from app.db import safety_maps as db
from app.dependencies import Principal, SessionDep, SettingsDep, gate
from app.exceptions import NotFound
from app.services import safety_review
from app.web.forms import FormErrors, PostedForm, written
from app.web.safety_mapping import square_label
from app.web.shell import page
from geo.vocabulary import AGE_BAND_WORDS, PLACE_KINDS

router = APIRouter(tags=["web"], include_in_schema=False)
# Deciding what becomes a place young people are pointed to: the roles that decide where attention goes.
REVIEW = policy.FLAG_CONCERN
SUGGESTIONS_URL = "/safety-mapping/suggestions"
WITHDRAW_URL = "/admin/safety-maps"


# ---- suggested places ---------------------------------------------------------------------------------------
def _suggestions_page(request: Request, session: SessionDep, settings: Any, principal: Principal,
                      errors: FormErrors, done: str | None = None, chosen: str = "",
                      kept: dict[str, str] | None = None) -> HTMLResponse:
    found = safety_review.pending_suggestions(session)
    for s in found:
        s["where"] = square_label(s["cell_i"], s["cell_j"], settings.analysis_srid) if s["cell_i"] is not None else ""
    return page(request, "safety_mapping/suggestions.html", principal=principal, session=session,
                title="Places young people suggested as safe",
                breadcrumbs=[("Home", "/"), ("Where young people feel safe and unsafe", "/safety-mapping/area")],
                suggestions=found, errors=errors, chosen=chosen, done=done, kept=kept or {},
                error_summary=errors.summary(["suggestion", "kind", "grid_reference", "form"]) if errors else None,
                status_code=422 if errors else 200,
                kinds=[(k, k.replace("_", " ").capitalize()) for k in PLACE_KINDS])


@router.get(SUGGESTIONS_URL, response_class=HTMLResponse)
def suggestions(request: Request, session: SessionDep, settings: SettingsDep,
                done: Annotated[str, Query(max_length=20)] = "",
                principal: Principal = gate(REVIEW)) -> HTMLResponse:
    return _suggestions_page(request, session, settings, principal, FormErrors(),
                             done="dismissed" if done == "dismissed" else None)


@router.post(SUGGESTIONS_URL, response_class=HTMLResponse)
def review_suggestion(request: Request, session: SessionDep, settings: SettingsDep, posted: PostedForm,
                      principal: Principal = gate(REVIEW)) -> Response:
    errors = FormErrors()
    action, chosen = posted.get("action"), posted.get("suggestion")
    if action not in ("accept", "dismiss"):
        errors.add("form", "Choose to accept or dismiss a suggestion")
    if not chosen.isdigit() or len(chosen) > 15:
        errors.add("suggestion", "Choose a suggestion from the list")
    if errors:
        return _suggestions_page(request, session, settings, principal, errors)
    fields = {"kind": "kind", "grid_reference": "grid_reference", "suggestion": "suggestion"}
    place_id = None
    try:
        with written(session, errors, fields):
            if action == "accept":
                place_id = safety_review.accept_suggestion(session, settings, principal, int(chosen),
                                                           posted.get("kind"), posted.get("grid_reference"))
            else:
                safety_review.dismiss_suggestion(session, principal, int(chosen))
    except NotFound as exc:
        errors.add("suggestion", str(exc.detail).split(": ", 1)[-1].capitalize())
    if errors:
        # The chosen suggestion's form shows what was chosen and typed, with the field in error labelled.
        kept = {"kind": posted.get("kind")[:40], "grid_reference": posted.get("grid_reference")[:40]}
        return _suggestions_page(request, session, settings, principal, errors, chosen=chosen, kept=kept)
    session.commit()  # before the redirect is followed (see app.web.place_forms._done)
    if place_id is not None:
        return RedirectResponse(f"/places/{place_id}?saved=place-added", status_code=303)
    return RedirectResponse(f"{SUGGESTIONS_URL}?done=dismissed", status_code=303)


# ---- withdrawing a map (admins) ------------------------------------------------------------------------------
def _withdraw_page(request: Request, session: SessionDep, principal: Principal, errors: FormErrors, *,
                   reference: str = "", found: dict[str, Any] | None = None,
                   withdrawn: dict[str, Any] | None = None) -> HTMLResponse:
    return page(request, "admin/safety_maps.html", principal=principal, session=session,
                title="Withdraw a young person's safety map", breadcrumbs=[("Home", "/"), ("Admin", "/admin")],
                errors=errors, error_summary=errors.summary(["reference", "confirm"]) if errors else None,
                status_code=422 if errors else 200, reference=reference, found=found, withdrawn=withdrawn,
                band_words=AGE_BAND_WORDS)


def _not_held(number: int) -> str:
    # Withdrawal deletes the map, so a withdrawn reference and a mistyped one look the same here; say both
    # (the audit log records the withdrawal for whoever needs to know which).
    return f"SM-{number} is not held: it was withdrawn or never existed. Check the reference on the plan"


@router.get(WITHDRAW_URL, response_class=HTMLResponse)
def withdraw_form(request: Request, session: SessionDep,
                  reference: Annotated[str, Query(max_length=40)] = "",
                  principal: Principal = gate(policy.ADMINISTER)) -> HTMLResponse:
    errors = FormErrors()
    found = None
    if reference:
        number = safety_review.parse_reference(reference)
        found = db.map_summary(session, number) if number is not None else None
        if number is None:
            errors.add("reference", "Enter the reference from the young person's plan, like SM-12")
        elif found is None:
            errors.add("reference", _not_held(number))
    return _withdraw_page(request, session, principal, errors, reference=reference, found=found)


@router.post(WITHDRAW_URL, response_class=HTMLResponse)
def withdraw(request: Request, session: SessionDep, posted: PostedForm,
             principal: Principal = gate(policy.ADMINISTER)) -> HTMLResponse:
    errors = FormErrors()
    reference = posted.get("reference")
    number = safety_review.parse_reference(reference)
    if number is None:
        errors.add("reference", "Enter the reference from the young person's plan, like SM-12")
        return _withdraw_page(request, session, principal, errors, reference=reference)
    found = db.map_summary(session, number)
    if found is None:
        errors.add("reference", _not_held(number))
        return _withdraw_page(request, session, principal, errors, reference=reference)
    if posted.get("confirm") != "yes":
        errors.add("confirm", "Tick to confirm that the young person withdrew their agreement")
        return _withdraw_page(request, session, principal, errors, reference=reference, found=found)
    with written(session, errors, {"reference": "reference"}):
        safety_review.withdraw(session, principal, number)
    if errors:
        return _withdraw_page(request, session, principal, errors, reference=reference, found=found)
    return _withdraw_page(request, session, principal, FormErrors(), withdrawn=found)
