"""Administration pages (issue 14), admins only (DESIGN.md role table): users — add, change role, disable or
enable, revoke tokens, issue an API token shown once —; the audit log with filters, pages and a CSV
download; the organisation's name, service area, and its own retention period and disclosure thresholds
(within the deployment's safe bounds: stricter than the deployment's, never looser); and the street network
used for walking distances.

Each change is the JSON API's own use case (app.services.users: add_user_with_token, set_disabled,
revoke_all_tokens; app.db.street_network for the network) with its audit record, run in a savepoint so that
a refused change writes nothing. A new token is shown once, on the page that answers the POST (HTML is
sent with ``Cache-Control: no-store``), and never stored in clear.
"""

from __future__ import annotations

import csv
import io
import json
import re
import tempfile
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from app import policy
from app.db import accounts, administration, audit
from app.db.street_network import load_street_edges, read_street_file
from app.dependencies import Principal, SessionDep, SettingsDep, forget_principals, gate
from app.errors import InvalidInput
from app.schemas.admin import UserCreate
from app.services.audit import record_action
from app.services.users import add_user_with_token, revoke_all_tokens, set_disabled
from app.web import paging
from app.web.areas import posted_area
from app.web.forms import FormErrors, Posted, PostedForm, written
from app.web.maps.background import small_map
from app.web.shell import page
from geo.spreadsheet import neutralise_formula
from geo.vocabulary import LONDON, ROLES

router = APIRouter(tags=["web"], include_in_schema=False)
ADMIN = policy.ADMINISTER
AUDIT_PAGE = 50
AUDIT_CSV_LIMIT = 100_000  # rows in one download; narrow the filters for more
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")  # as app.schemas.admin.UserCreate
STREET_SUFFIXES = (".geojson", ".json", ".gpkg", ".zip")
ROLE_HINTS = {
    "admin": "Users, tokens, the audit log and the organisation's settings, and everything community safety does",
    "community_safety": "Imports incidents, flags places of concern, records interventions",
    "youth_worker": "Records safe spaces, guardians, assessments and incidents",
    "panel": "Reads places, interventions' summaries and disclosure-controlled maps; no incident records",
}


def _crumbs(*more: tuple[str, str]) -> list[tuple[str, str]]:
    return [("Home", "/"), ("Admin", "/admin"), *more]


@router.get("/admin", response_class=HTMLResponse)
def admin_home(request: Request, session: SessionDep, principal: Principal = gate(ADMIN)) -> HTMLResponse:
    return page(request, "admin/index.html", principal=principal, session=session, title="Admin",
                breadcrumbs=[("Home", "/")])


# ---- users --------------------------------------------------------------------------------------------
@router.get("/admin/users", response_class=HTMLResponse)
def users(request: Request, session: SessionDep, principal: Principal = gate(ADMIN)) -> HTMLResponse:
    return page(request, "admin/users.html", principal=principal, session=session, title="Users",
                breadcrumbs=_crumbs(), users=accounts.list_users(session))


def _user_form(request: Request, principal: Principal, session: SessionDep, values: dict[str, str],
               errors: FormErrors) -> HTMLResponse:
    return page(request, "admin/user_new.html", principal=principal, session=session, title="Add a user",
                breadcrumbs=_crumbs(("Users", "/admin/users")), values=values, errors=errors, roles=ROLES,
                role_hints=ROLE_HINTS, error_summary=errors.summary(["email", "role", "password", "form"])
                if errors else None, status_code=422 if errors else 200)


@router.get("/admin/users/new", response_class=HTMLResponse)
def new_user(request: Request, session: SessionDep, principal: Principal = gate(ADMIN)) -> HTMLResponse:
    return _user_form(request, principal, session, {}, FormErrors())


def _token_page(request: Request, principal: Principal, session: SessionDep, *, user: dict[str, Any],
                issued: dict[str, Any], new_user: bool) -> HTMLResponse:
    return page(request, "admin/token.html", principal=principal, session=session,
                title="User added" if new_user else "New API token",
                breadcrumbs=_crumbs(("Users", "/admin/users")), user=user, issued=issued, new_user=new_user)


@router.post("/admin/users/new", response_class=HTMLResponse)
def add_user(request: Request, session: SessionDep, settings: SettingsDep, posted: PostedForm,
             principal: Principal = gate(ADMIN)) -> Response:
    errors = FormErrors()
    fields = {"email": "email", "role": "role", "password": "password"}
    values = {"email": posted.get("email"), "role": posted.get("role")}
    if not values["email"]:
        errors.add("email", "Enter the person's work e-mail address")
    elif not EMAIL.match(values["email"]) or len(values["email"]) > 320:
        errors.add("email", "Enter an e-mail address in the right format, like name@example.org")
    if values["role"] not in ROLES:
        errors.add("role", "Choose the user's role")
    body = None
    if not errors:
        try:
            body = UserCreate.model_validate({**values, "password": posted.optional("password")})
        except ValidationError as exc:
            errors.from_validation(exc, fields)
    issued: dict[str, Any] = {}
    if body is not None:
        with written(session, errors, fields):
            issued = add_user_with_token(session, settings, principal, body)
    if errors or not issued:
        return _user_form(request, principal, session, values, errors)
    return _token_page(request, principal, session, user=administration.user(session, issued["user_id"]),
                       issued=issued, new_user=True)


@router.get("/admin/users/{user_id}", response_class=HTMLResponse)
def user_page(user_id: int, request: Request, session: SessionDep, principal: Principal = gate(ADMIN)) -> HTMLResponse:
    return _user_page(request, principal, session, administration.user(session, user_id), FormErrors())


def _user_page(request: Request, principal: Principal, session: SessionDep, user: dict[str, Any],
               errors: FormErrors, chosen_role: str | None = None) -> HTMLResponse:
    tokens = next((u["active_tokens"] for u in accounts.list_users(session) if u["id"] == user["id"]), 0)
    return page(request, "admin/user.html", principal=principal, session=session, title=user["email"],
                breadcrumbs=_crumbs(("Users", "/admin/users")), user=user, tokens=tokens, roles=ROLES,
                role_hints=ROLE_HINTS, chosen_role=chosen_role or user["role"], myself=user["id"] == principal.user_id,
                errors=errors, error_summary=errors.summary(["role", "form"]) if errors else None,
                status_code=422 if errors else 200)


def _back(user_id: int, saved: str) -> RedirectResponse:
    return RedirectResponse(f"/admin/users/{user_id}?saved={saved}", status_code=303)


@router.post("/admin/users/{user_id}/role", response_class=HTMLResponse)
def change_role(user_id: int, request: Request, session: SessionDep, posted: PostedForm,
                principal: Principal = gate(ADMIN)) -> Response:
    user = administration.user(session, user_id)
    errors = FormErrors()
    role = posted.get("role")
    if role not in ROLES:
        errors.add("role", "Choose the user's role")
    elif user_id == principal.user_id and role != user["role"]:
        # An admin who demotes themself may leave the organisation with nobody to administer it.
        errors.add("role", "You cannot change your own role; ask another admin")
    if not errors and role != user["role"]:
        with written(session, errors, {"role": "role"}):
            administration.set_role(session, user_id, role)
            record_action(session, principal, "user.role", f"user:{user_id}", {"from": user["role"], "to": role})
            forget_principals(request)
    if errors:
        return _user_page(request, principal, session, user, errors, chosen_role=role)
    return _back(user_id, "user-updated")


@router.post("/admin/users/{user_id}/disable", response_class=HTMLResponse)
def disable_user(user_id: int, request: Request, session: SessionDep, principal: Principal = gate(ADMIN)) -> Response:
    return _status(user_id, request, session, principal, disabled=True)


@router.post("/admin/users/{user_id}/enable", response_class=HTMLResponse)
def enable_user(user_id: int, request: Request, session: SessionDep, principal: Principal = gate(ADMIN)) -> Response:
    return _status(user_id, request, session, principal, disabled=False)


def _status(user_id: int, request: Request, session: SessionDep, principal: Principal, *, disabled: bool) -> Response:
    user = administration.user(session, user_id)
    errors = FormErrors()
    with written(session, errors, {"user_id": "form"}):
        set_disabled(session, principal, user_id, disabled)
    if errors:
        return _user_page(request, principal, session, user, errors)
    return _back(user_id, "user-disabled" if disabled else "user-enabled")


@router.post("/admin/users/{user_id}/revoke", response_class=HTMLResponse)
def revoke_tokens(user_id: int, request: Request, session: SessionDep, principal: Principal = gate(ADMIN)) -> Response:
    user = administration.user(session, user_id)
    if user_id == principal.user_id:
        errors = FormErrors()
        errors.add("form", "Revoking your own tokens would end this session too: sign out instead, "
                           "or ask another admin")
        return _user_page(request, principal, session, user, errors)
    revoke_all_tokens(session, principal, user_id, user["email"])
    return _back(user_id, "tokens-revoked")


@router.post("/admin/users/{user_id}/token", response_class=HTMLResponse)
def issue_token(user_id: int, request: Request, session: SessionDep, settings: SettingsDep,
                principal: Principal = gate(ADMIN)) -> Response:
    user = administration.user(session, user_id)
    if user["disabled_at"] is not None:
        errors = FormErrors()
        errors.add("form", "Enable the user before issuing a token")
        return _user_page(request, principal, session, user, errors)
    issued = accounts.issue_token(session, principal.organisation_id, user_id, "api",
                                  timedelta(days=settings.token_ttl_days))
    record_action(session, principal, "token.issue", f"user:{user_id}", {"token_id": issued.token_id})
    return _token_page(request, principal, session, user=user, new_user=False,
                       issued={"token": issued.token, "expires_at": issued.expires_at, "token_id": issued.token_id})


# ---- audit log ----------------------------------------------------------------------------------------
def _audit_search(session: SessionDep, user: str, action: str, start: str, end: str, errors: FormErrors,
                  page_number: int = 1, limit: int = AUDIT_PAGE) -> audit.AuditSearch:
    def day(text: str, name: str, label: str) -> date | None:
        if not text:
            return None
        try:
            return date.fromisoformat(text)
        except ValueError:
            errors.add(name, f"The {label} must be a real date, like 2026-03-27")
            return None

    first, last = day(start, "from", "first day"), day(end, "to", "last day")
    if first and last and last < first:
        errors.add("to", "The last day must be the same as or after the first day")
    midnight = lambda d: datetime(d.year, d.month, d.day, tzinfo=LONDON).astimezone(UTC)  # noqa: E731
    return audit.AuditSearch(
        user_id=int(user) if user.isdigit() else None, action=action or None,
        since=midnight(first) if first else None, until=midnight(last + timedelta(days=1)) if last else None,
        limit=limit, offset=(page_number - 1) * limit)


AuditText = Annotated[str, Query(max_length=64)]


@router.get("/admin/audit", response_class=HTMLResponse)
def audit_log(request: Request, session: SessionDep, user: AuditText = "", action: AuditText = "",
              start: Annotated[str, Query(alias="from", max_length=10)] = "",
              end: Annotated[str, Query(alias="to", max_length=10)] = "",
              page_number: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
              principal: Principal = gate(ADMIN)) -> HTMLResponse:
    errors = FormErrors()
    search = _audit_search(session, user, action, start, end, errors, page_number)
    rows, total = ([], 0) if errors else administration.audit_page(session, search)
    params = {"user": user, "action": action, "from": start, "to": end}
    kept = {k: v for k, v in params.items() if v}

    def url(n: int) -> str:
        return "/admin/audit?" + urlencode({**kept, "page": n})

    pages = paging.page_count(total, AUDIT_PAGE)
    pagination = paging.pagination(url, page_number, pages)
    return page(request, "admin/audit.html", principal=principal, session=session, title="Audit log",
                breadcrumbs=_crumbs(), rows=rows, total=total, pages=pages, page_number=page_number,
                pagination=pagination, params=params, users=accounts.list_users(session),
                actions=administration.audit_actions(session), errors=errors,
                error_summary=errors.summary(["from", "to"]) if errors else None,
                csv_url="/admin/audit.csv" + (f"?{urlencode(kept)}" if kept else ""),
                status_code=422 if errors else 200)


CSV_COLUMNS = ("id", "at", "user_id", "email", "action", "resource", "request_id", "client", "detail")


@router.get("/admin/audit.csv")
def audit_csv(session: SessionDep, user: AuditText = "", action: AuditText = "",
              start: Annotated[str, Query(alias="from", max_length=10)] = "",
              end: Annotated[str, Query(alias="to", max_length=10)] = "",
              principal: Principal = gate(ADMIN)) -> Response:
    errors = FormErrors()
    search = _audit_search(session, user, action, start, end, errors, 1, AUDIT_CSV_LIMIT)
    if errors:
        first = next(iter(errors.messages))
        raise InvalidInput(f"{first}: {errors.messages[first]}", field=first)
    rows, _ = administration.audit_page(session, search)
    # Reading the audit log out is itself an audited act (DESIGN.md: every export is audited).
    record_action(session, principal, "export", "audit_events", {
        "format": "csv", "rows": len(rows),
        "filters": {"user": user, "action": action, "from": start, "to": end}})

    def lines() -> Iterator[str]:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(CSV_COLUMNS)
        for row in rows:
            values = {**row, "at": row["at"].isoformat(), "detail": json.dumps(row["detail"] or {}, default=str)}
            # Values users typed (e-mails, resources, details) are neutralised for spreadsheets (CSV injection).
            writer.writerow([neutralise_formula(values.get(c)) for c in CSV_COLUMNS])
            yield out.getvalue()
            out.seek(0)
            out.truncate()
        if not rows:
            yield out.getvalue()

    name = f"audit-{datetime.now(LONDON):%Y%m%d-%H%M}.csv"
    return StreamingResponse(lines(), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="{name}"'})


# ---- organisation settings ----------------------------------------------------------------------------
def _organisation_page(request: Request, principal: Principal, session: SessionDep, settings: Any,
                       values: dict[str, Any], errors: FormErrors) -> HTMLResponse:
    organisation = administration.organisation(session, principal.organisation_id)
    stored = {"name": organisation["name"], "area": "", "area_points": "",
              **{k: "" if organisation[k] is None else str(organisation[k]) for k in THRESHOLDS}}
    return page(request, "admin/organisation.html", principal=principal, session=session,
                title="Organisation settings", breadcrumbs=_crumbs(), organisation_row=organisation,
                values=values or stored, errors=errors, bounds=threshold_bounds(settings),
                error_summary=errors.summary(ORGANISATION_ORDER) if errors else None,
                status_code=422 if errors else 200, settings=settings,
                max_points=settings.geometry_limits.max_vertices - 1,
                map=small_map(session, settings))


@router.get("/admin/organisation", response_class=HTMLResponse)
def organisation_settings(request: Request, session: SessionDep, settings: SettingsDep,
                          principal: Principal = gate(ADMIN)) -> HTMLResponse:
    return _organisation_page(request, principal, session, settings, {}, FormErrors())


async def _upload(request: Request, name: str) -> tuple[str, bytes] | None:
    form = await request.form()
    upload = form.get(name)
    if isinstance(upload, UploadFile) and upload.filename:
        return upload.filename, await upload.read()
    return None


def _service_area(text: str, settings: Any, errors: FormErrors, field: str) -> str | None:
    """An uploaded GeoJSON file's area, checked as a drawn or typed one is."""
    area = posted_area(Posted([(field, text)]), errors, settings.geometry_limits, geojson_field=field,
                       points_field=f"{field}_points")
    return None if area is None else json.dumps(area)


THRESHOLDS = ("suppress_max", "round_to", "retention_days")
ORGANISATION_ORDER = ["name", "area_points", "area", "area_file", *THRESHOLDS, "form"]
THRESHOLD_NAMES = {"suppress_max": "small-count threshold", "round_to": "rounding base",
                   "retention_days": "retention period"}
THRESHOLD_WHY = {"suppress_max": "an organisation may suppress more small counts than the deployment, never fewer",
                 "round_to": "an organisation may round more coarsely than the deployment, never more finely",
                 "retention_days": "an organisation may keep incidents for less time than the deployment, never "
                                   "longer, and long enough to compare a year before with a year after"}


def threshold_bounds(settings: Any) -> dict[str, tuple[int, int]]:
    """The safe bounds of an organisation's own values: the deployment's settings are the floor of the
    disclosure thresholds (an organisation may suppress more, never less) and the longest retention."""
    return {"suppress_max": (settings.suppress_max, max(settings.suppress_max, settings.org_suppress_max_ceiling)),
            "round_to": (settings.round_to, max(settings.round_to, settings.org_round_to_ceiling)),
            "retention_days": (min(settings.retention_min_days, settings.retention_days), settings.retention_days)}


def posted_thresholds(posted: Any, settings: Any, errors: FormErrors) -> dict[str, int | None]:
    """The organisation's own thresholds from the form; empty means the deployment's (None)."""
    chosen: dict[str, int | None] = {}
    for name, (low, high) in threshold_bounds(settings).items():
        typed = posted.get(name).replace(",", "").strip()
        chosen[name] = None
        if not typed:
            continue
        if not (typed.isascii() and typed.isdigit()) or len(typed) > 6:
            errors.add(name, f"The {THRESHOLD_NAMES[name]} must be a whole number, like {low}")
        elif not low <= int(typed) <= high:
            errors.add(name, f"The {THRESHOLD_NAMES[name]} must be between {low} and {high}: "
                             + THRESHOLD_WHY[name])
        else:
            chosen[name] = int(typed)
    return chosen


@router.post("/admin/organisation", response_class=HTMLResponse)
async def save_organisation(request: Request, session: SessionDep, settings: SettingsDep, posted: PostedForm,
                            principal: Principal = gate(ADMIN)) -> Response:
    errors = FormErrors()
    name = posted.get("name")
    if not name:
        errors.add("name", "Enter the organisation's name")
    elif len(name) > 200:
        errors.add("name", "The name must be 200 characters or fewer")
    uploaded = await _upload(request, "area_file")
    area = None
    if uploaded is not None:
        area = _service_area(uploaded[1].decode("utf-8", "replace"), settings, errors, "area_file")
    else:
        drawn = posted_area(posted, errors, settings.geometry_limits, geojson_field="area", points_field="area_points")
        area = None if drawn is None else json.dumps(drawn)
    thresholds = posted_thresholds(posted, settings, errors)
    if not errors:
        before = administration.organisation(session, principal.organisation_id)
        where = "area_points" if posted.get("area_points") and not uploaded else "area_file" if uploaded else "area"
        with written(session, errors, {"service_area": where, "name": "name", **{k: k for k in THRESHOLDS}}):
            administration.update_organisation(session, principal.organisation_id, name, area)
            administration.update_thresholds(session, principal.organisation_id, **thresholds)
            changed = {k: {"from": before[k], "to": v} for k, v in thresholds.items() if before[k] != v}
            record_action(session, principal, "organisation.update", f"organisation:{principal.organisation_id}",
                          {"name": name, "service_area": "changed" if area else "kept", **changed})
    if not errors:
        forget_principals(request)  # every remembered principal carries the organisation's thresholds
    if errors:
        return _organisation_page(request, principal, session, settings,
                                  {"name": name, "area": posted.get("area"), "area_points": posted.get("area_points"),
                                   **{k: posted.get(k) for k in THRESHOLDS}}, errors)
    return RedirectResponse("/admin/organisation?saved=organisation-saved", status_code=303)


# ---- street network -----------------------------------------------------------------------------------
def _streets_page(request: Request, principal: Principal, session: SessionDep, errors: FormErrors,
                  result: dict[str, Any] | None = None) -> HTMLResponse:
    return page(request, "admin/streets.html", principal=principal, session=session, title="Street network",
                breadcrumbs=_crumbs(), organisation_row=administration.organisation(session, principal.organisation_id),
                errors=errors, error_summary=errors.summary(["streets", "form"]) if errors else None, result=result,
                status_code=422 if errors else 200)


@router.get("/admin/streets", response_class=HTMLResponse)
def streets(request: Request, session: SessionDep, principal: Principal = gate(ADMIN)) -> HTMLResponse:
    return _streets_page(request, principal, session, FormErrors())


@router.post("/admin/streets", response_class=HTMLResponse)
async def load_streets(request: Request, session: SessionDep, principal: Principal = gate(ADMIN)) -> Response:
    errors = FormErrors()
    uploaded = await _upload(request, "streets")
    if uploaded is None:
        errors.add("streets", "Choose a street network file: GeoJSON or GeoPackage")
        return _streets_page(request, principal, session, errors)
    filename, content = uploaded
    suffix = Path(filename).suffix.lower()
    if suffix not in STREET_SUFFIXES:
        errors.add("streets", "The file must be GeoJSON (.geojson) or a GeoPackage (.gpkg)")
        return _streets_page(request, principal, session, errors)
    # The reader (pyogrio/GDAL) opens files by path: a temporary file, removed when read.
    with tempfile.NamedTemporaryFile(suffix=suffix) as handle:
        handle.write(content)
        handle.flush()
        try:
            read = read_street_file(handle.name)
        except Exception:  # GDAL raises its own errors for unreadable files; the page says so
            errors.add("streets", "The file could not be read as GeoJSON or a GeoPackage of lines")
            return _streets_page(request, principal, session, errors)
    if not read.lines:
        errors.add("streets", f"The file has no usable street lines ({len(read.rejected)} features rejected)")
        return _streets_page(request, principal, session, errors)
    stored = load_street_edges(session, principal.organisation_id, read.lines, replace=True)
    record_action(session, principal, "import", "street_edges", {
        "source": "streets", "via": "web", "file": filename[:200], "stored": stored, "rejected": len(read.rejected)})
    return _streets_page(request, principal, session, FormErrors(), result={
        "file": filename, "stored": stored, "rejected": read.rejected[:100], "rejected_total": len(read.rejected)})
