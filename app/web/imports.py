"""Import pages (issue 14): police.uk street files (several at once, or the zip police.uk downloads come
as), partner files (CSV with lon/lat or British National Grid, GeoJSON, GeoPackage) with a column-mapping
step, a dry run, a progress page for large files and a result page with the rejected rows by line number
(downloadable as CSV). The import history lists every import the audit log recorded.

The imports are the JSON API's and the CLI's (:mod:`app.web.imports_jobs` runs them in the background);
this module is the HTTP: uploads, forms with the GOV.UK error summary, the pages. The role gate is the
API's, ``IMPORT_INCIDENTS`` (admin and community safety; youth workers record incidents one at a time).
"""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from app import policy
from app.db import import_history, import_jobs
from app.dependencies import DatabaseDep, Principal, SessionDep, SettingsDep, gate
from app.errors import InvalidInput, NotFound
from app.web import paging
from app.web.forms import FormErrors, PostedForm
from app.web.imports_jobs import (
    ImportJob,
    StagedFile,
    jobs_of,
    new_workdir,
    police_uk_members,
    stage_upload,
)
from app.web.shell import page
from geo.partner_data import FIELDS, REQUIRED, TARGETS, parse_mapping, read_rows
from geo.spreadsheet import neutralise_formula

router = APIRouter(tags=["web"], include_in_schema=False)

PREVIEW_ROWS = 5
HISTORY_PAGE = 25
TARGET_LABELS = {"incidents": "Incidents", "places": "Places", "safe_spaces": "Safe spaces"}
LOCATION_LABELS = {"longitude": "Longitude", "latitude": "Latitude", "easting": "Easting (British National Grid)",
                   "northing": "Northing (British National Grid)"}
CRS_LABELS = {"EPSG:4326": "Longitude and latitude (WGS 84)",
              "EPSG:27700": "Easting and northing (British National Grid)"}
CRUMBS = [("Home", "/"), ("Imports", "/imports")]


async def _uploads(request: Request) -> dict[str, list[UploadFile]]:
    form = await request.form()  # cached by Starlette: the posted text fields are read from the same form
    return {name: [v for v in form.getlist(name) if isinstance(v, UploadFile) and v.filename]
            for name in ("files", "file")}


Uploads = Annotated[dict[str, list[UploadFile]], Depends(_uploads)]


def _start_page(request: Request, principal: Principal, session: SessionDep, errors: FormErrors,
                values: dict[str, Any]) -> HTMLResponse:
    order = ["files", "file", "target", "form"]
    return page(request, "imports/start.html", principal=principal, session=session, title="Import incidents",
                breadcrumbs=[("Home", "/")], errors=errors, error_summary=errors.summary(order) if errors else None,
                status_code=422 if errors else 200, values=values, targets=TARGET_LABELS)


@router.get("/imports", response_class=HTMLResponse)
def import_start(request: Request, session: SessionDep,
                 principal: Principal = gate(policy.IMPORT_INCIDENTS)) -> HTMLResponse:
    return _start_page(request, principal, session, FormErrors(), {"target": "incidents"})


@router.post("/imports/police-uk", response_class=HTMLResponse)
def import_police_uk(request: Request, session: SessionDep, settings: SettingsDep, database: DatabaseDep,
                     posted: PostedForm, uploads: Uploads,
                     principal: Principal = gate(policy.IMPORT_INCIDENTS)) -> Response:
    errors = FormErrors()
    files = uploads["files"]
    values = {"allow_partial": posted.get("allow_partial") == "true", "target": "incidents"}
    if not files:
        errors.add("files", "Choose one or more police.uk street-level CSV files, or a police.uk zip")
        return _start_page(request, principal, session, errors, values)
    workdir = new_workdir()
    staged: list[StagedFile] = []
    for index, upload in enumerate(files):
        name = upload.filename or f"file-{index + 1}.csv"
        path = stage_upload(workdir, index, name, upload.file)
        try:
            staged.extend(police_uk_members(name, path, settings))
        except InvalidInput as exc:
            errors.add("files", exc.detail)
    if errors:
        return _start_page(request, principal, session, errors, values)
    jobs = jobs_of(request.app.state)
    job = jobs.new(session, principal, "police_uk", staged, workdir, dry_run=posted.get("mode") == "dry_run",
                   allow_partial=bool(values["allow_partial"]))
    session.commit()  # the job's row first: the runner's own transactions update it
    jobs.start(job, principal, database, settings)
    return RedirectResponse(f"/imports/{job.id}", status_code=303)


@router.post("/imports/partner", response_class=HTMLResponse)
def import_partner_upload(request: Request, session: SessionDep, posted: PostedForm, uploads: Uploads,
                          principal: Principal = gate(policy.IMPORT_INCIDENTS)) -> Response:
    errors = FormErrors()
    target = posted.get("target")
    if target not in TARGETS:
        errors.add("target", "Choose what the file holds: incidents, places or safe spaces")
    if not uploads["file"]:
        errors.add("file", "Choose a CSV, GeoJSON or GeoPackage file")
    if errors:
        return _start_page(request, principal, session, errors, {"target": target})
    upload = uploads["file"][0]
    name = upload.filename or "upload"
    workdir = new_workdir()
    path = stage_upload(workdir, 0, name, upload.file)
    try:
        _preview(path.read_bytes(), name)
    except InvalidInput as exc:
        errors.add("file", exc.detail)
        return _start_page(request, principal, session, errors, {"target": target})
    job = jobs_of(request.app.state).new(session, principal, "partner",
                                         [StagedFile(name, path, size=path.stat().st_size)], workdir, target=target,
                                         stage="mapping")
    session.commit()
    return RedirectResponse(f"/imports/{job.id}/mapping", status_code=303)


def _preview(data: bytes, name: str) -> tuple[list[str], list[dict[str, Any]]]:
    """The columns and first rows of a partner file, or ``InvalidInput`` saying why it cannot be read."""
    rows: list[dict[str, Any]] = []
    try:
        for _line, row, _geometry in read_rows(data, name):
            rows.append(row)
            if len(rows) >= PREVIEW_ROWS:
                break
    except ValueError as exc:
        raise InvalidInput(f"{name}: {exc}", field="file") from exc
    columns = list(dict.fromkeys(key for row in rows for key in row))
    return columns, rows


def _job(request: Request, session: SessionDep, job_id: str) -> ImportJob:
    job = jobs_of(request.app.state).get(session, job_id)
    if job is None:
        raise NotFound("This import is not known here (imports are kept for a while after they finish; "
                       "the import history lists them all)")
    return job


def _fields(target: str) -> list[dict[str, Any]]:
    fields = [{"name": f, "label": f.replace("_", " ").capitalize(), "required": f in REQUIRED[target]}
              for f in FIELDS[target]]
    return fields + [{"name": f, "label": label, "required": False} for f, label in LOCATION_LABELS.items()]


def _mapping_page(request: Request, principal: Principal, session: SessionDep, job: ImportJob,
                  errors: FormErrors, chosen: dict[str, str], crs: str) -> HTMLResponse:
    columns, rows = _preview(job.files[0].path.read_bytes(), job.files[0].name)
    fields = _fields(job.target)
    order = [f"map-{f['name']}" for f in fields] + ["crs", "form"]
    return page(request, "imports/mapping.html", principal=principal, session=session,
                title="Match the file's columns", breadcrumbs=CRUMBS, job=job, columns=columns,
                rows=[[row.get(c, "") for c in columns] for row in rows], fields=fields, chosen=chosen, crs=crs,
                crs_labels=CRS_LABELS, target_label=TARGET_LABELS[job.target], errors=errors,
                error_summary=errors.summary(order) if errors else None, status_code=422 if errors else 200)


def _guess(columns: list[str], field_name: str) -> str:
    """A column whose name matches the field's, ignoring case, spaces and underscores; else none."""
    def squash(text: str) -> str:
        return "".join(ch for ch in text.lower() if ch.isalnum())

    aliases = {"longitude": ("lon", "lng", "x"), "latitude": ("lat", "y")}
    wanted = {squash(field_name), *aliases.get(field_name, ())}
    return next((c for c in columns if squash(c) in wanted), "")


@router.get("/imports/{job_id}/mapping", response_class=HTMLResponse)
def import_mapping(job_id: str, request: Request, session: SessionDep,
                   principal: Principal = gate(policy.IMPORT_INCIDENTS)) -> Response:
    job = _job(request, session, job_id)
    if job.stage != "mapping":
        return RedirectResponse(f"/imports/{job.id}", status_code=303)
    columns, _ = _preview(job.files[0].path.read_bytes(), job.files[0].name)
    chosen = {f["name"]: _guess(columns, f["name"]) for f in _fields(job.target)}
    crs = "EPSG:27700" if chosen.get("easting") and not chosen.get("longitude") else "EPSG:4326"
    return _mapping_page(request, principal, session, job, FormErrors(), chosen, crs)


@router.post("/imports/{job_id}/mapping", response_class=HTMLResponse)
def import_mapped(job_id: str, request: Request, session: SessionDep, settings: SettingsDep, database: DatabaseDep,
                  posted: PostedForm, principal: Principal = gate(policy.IMPORT_INCIDENTS)) -> Response:
    job = _job(request, session, job_id)
    if job.stage != "mapping":
        return RedirectResponse(f"/imports/{job.id}", status_code=303)
    columns, _ = _preview(job.files[0].path.read_bytes(), job.files[0].name)
    errors = FormErrors()
    fields = _fields(job.target)
    # The browser may send a select's value in another case than the column's (seen with Chromium): the
    # column is found by name regardless of case.
    by_name = {c.lower(): c for c in columns}
    chosen = {f["name"]: by_name.get(posted.get(f"map-{f['name']}").lower(), posted.get(f"map-{f['name']}"))
              for f in fields}
    for f in fields:
        if chosen[f["name"]] and chosen[f["name"]] not in columns:
            errors.add(f"map-{f['name']}", f"Choose one of the file's columns for {f['label'].lower()}")
        elif f["required"] and not chosen[f["name"]]:
            errors.add(f"map-{f['name']}", f"Choose the column that holds {f['label'].lower()}")
    crs = posted.get("crs")
    if crs not in CRS_LABELS:
        errors.add("crs", "Choose how the file gives locations")
    has_geometry = _has_geometry(job)
    if not has_geometry and not errors:
        pair = ("longitude", "latitude") if crs == "EPSG:4326" else ("easting", "northing")
        for name in pair:
            if not chosen[name]:
                errors.add(f"map-{name}", f"Choose the column that holds the {LOCATION_LABELS[name].lower()}")
    mapping = {ours: theirs for ours, theirs in chosen.items() if theirs}
    if not errors:
        try:
            parse_mapping(mapping, job.target)
        except ValueError as exc:
            errors.add("form", str(exc))
    if errors:
        return _mapping_page(request, principal, session, job, errors, chosen, crs or "EPSG:4326")
    job.mapping = mapping
    job.crs = None if has_geometry or crs == "EPSG:4326" else crs
    job.dry_run = posted.get("mode") == "dry_run"
    if import_jobs.start(session, job.id, mapping=job.mapping, crs=job.crs, dry_run=job.dry_run):
        session.commit()  # the job's row first: the runner's own transactions update it
        jobs_of(request.app.state).start(job, principal, database, settings)
    return RedirectResponse(f"/imports/{job.id}", status_code=303)


def _has_geometry(job: ImportJob) -> bool:
    """GeoJSON and GeoPackage rows carry their own geometry; only a CSV needs location columns."""
    for _line, _row, geometry in read_rows(job.files[0].path.read_bytes(), job.files[0].name):
        return geometry is not None
    return False


def _hotspots_link(job: ImportJob) -> str | None:
    if job.new_incidents is None:
        return None
    first, last = job.new_incidents
    first = max(first, last - timedelta(days=3650))  # the map's longest window
    return "/maps/hotspots?" + urlencode({"from": first.isoformat(), "to": last.isoformat()})


@router.get("/imports/history", response_class=HTMLResponse)
def import_history_page(request: Request, session: SessionDep,
                        page_number: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
                        principal: Principal = gate(policy.IMPORT_INCIDENTS)) -> HTMLResponse:
    rows, total = import_history.past_imports(session, limit=HISTORY_PAGE, offset=(page_number - 1) * HISTORY_PAGE)
    pages = paging.page_count(total, HISTORY_PAGE)
    pagination = paging.pagination(lambda n: f"/imports/history?page={n}", page_number, pages, numbered=False)
    entries = [{**row, "detail": row["detail"] if isinstance(row["detail"], dict)
                else json.loads(row["detail"] or "{}")} for row in rows]
    return page(request, "imports/history.html", principal=principal, session=session, title="Import history",
                breadcrumbs=CRUMBS, entries=entries, total=total, pages=pages, page_number=page_number,
                pagination=pagination)


@router.get("/imports/{job_id}", response_class=HTMLResponse)
def import_job(job_id: str, request: Request, session: SessionDep,
               principal: Principal = gate(policy.IMPORT_INCIDENTS)) -> Response:
    job = _job(request, session, job_id)
    if job.stage == "mapping":
        return RedirectResponse(f"/imports/{job.id}/mapping", status_code=303)
    if job.running:
        return page(request, "imports/progress.html", principal=principal, session=session,
                    title="Import in progress", breadcrumbs=CRUMBS, job=job)
    report = job.report
    return page(request, "imports/result.html", principal=principal, session=session,
                title=_result_title(job), breadcrumbs=CRUMBS, job=job, report=report,
                hotspots=_hotspots_link(job), target_label=TARGET_LABELS.get(job.target, "Incidents"))


def _result_title(job: ImportJob) -> str:
    if job.stage == "done":
        return "Dry run finished: nothing was written" if job.dry_run else "Import finished"
    return "The file was not imported"


@router.get("/imports/{job_id}/status", response_class=JSONResponse)
def import_status(job_id: str, request: Request, session: SessionDep,
                  principal: Principal = gate(policy.IMPORT_INCIDENTS)) -> dict[str, Any]:
    """What the progress page's script polls (the page itself works without it: "Check progress")."""
    job = _job(request, session, job_id)
    return {"stage": job.stage, "percent": job.percent, "rows_read": job.rows_read, "running": job.running}


@router.get("/imports/{job_id}/rejections.csv")
def import_rejections(job_id: str, request: Request, session: SessionDep,
                      principal: Principal = gate(policy.IMPORT_INCIDENTS)) -> Response:
    job = _job(request, session, job_id)
    if job.report is None:
        raise NotFound("This import has no report yet")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["file", "line", "reason"])
    for rejection in job.report.rejections:
        # File names and reasons quote the upload: a cell starting "=" would run as a formula in Excel.
        writer.writerow([neutralise_formula(rejection.file), rejection.line, neutralise_formula(rejection.reason)])
    return Response(buffer.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="import-{job.id}-rejected-rows.csv"'})



