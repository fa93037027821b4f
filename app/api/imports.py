"""Imports: police.uk street-level crime files and partner data (multipart uploads, same report as the CLI)."""

from __future__ import annotations

import io
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, UploadFile
from pydantic import BaseModel

from app import policy
from app.api.features import audit_write
from app.db import imports
from app.db.session import allow_long_work
from app.dependencies import DatabaseDep, Principal, SessionDep, SettingsDep, gate
from app.errors import ContextmapError, InvalidInput
from app.services.audit import record_refused_import
from app.services.partner_import import partner_records
from geo.partner_data import TARGETS

router = APIRouter(prefix="/api/imports", tags=["imports"])


class RejectionOut(BaseModel):
    file: str
    line: int
    reason: str


class ImportReportOut(BaseModel):
    files: list[str]
    rows_read: int
    imported: int
    duplicates: int
    without_location: int
    rejected: int
    linked_to_places: int
    rejections: list[RejectionOut]
    rejections_truncated: bool
    allow_partial: bool
    dry_run: bool


def text_stream(upload: UploadFile) -> io.TextIOWrapper:
    # utf-8-sig: files saved by Excel start with a byte-order mark; newline="" lets csv handle quoted newlines.
    return io.TextIOWrapper(upload.file, encoding="utf-8-sig", newline="")


@router.post("/police-uk", response_model=ImportReportOut)
def import_police_uk(
    session: SessionDep, settings: SettingsDep, database: DatabaseDep,
    files: Annotated[list[UploadFile], File(description="police.uk street-level crime CSV files")],
    allow_partial: Annotated[bool, Form(description="import the good rows and report the rejected ones")] = False,
    principal: Principal = gate(policy.IMPORT_INCIDENTS),
) -> dict[str, Any]:
    """Import one or more police.uk street-level CSV files. Re-importing a file imports nothing twice.

    Without ``allow_partial``, one rejected row (malformed, or outside the service area) rejects the
    whole upload with its file and line number, and nothing is written.
    """
    if not files:
        raise InvalidInput("upload at least one police.uk CSV file", field="files")
    allow_long_work(session, settings.import_timeout_seconds)
    sources = [(upload.filename or f"file-{n + 1}.csv", text_stream(upload)) for n, upload in enumerate(files)]
    try:
        report = imports.import_police_uk(
            session, principal.organisation_id, sources, analysis_srid=settings.analysis_srid,
            link_distance_m=settings.auto_link_distance_m, default_area=settings.default_service_area,
            allow_partial=allow_partial, future_tolerance_minutes=settings.future_tolerance_minutes,
        )
    except ContextmapError as exc:
        record_refused_import(database, principal, "incidents",
                             {"source": "police_uk", "files": [name for name, _ in sources]}, exc)
        raise
    audit_write(session, principal, "import", "incidents",
                {"source": "police_uk", "files": report.files, "imported": report.imported,
                 "duplicates": report.duplicates, "rejected": report.rejected})
    return report.as_dict()


@router.post("/partner", response_model=ImportReportOut)
def import_partner(
    session: SessionDep, settings: SettingsDep, database: DatabaseDep,
    file: Annotated[UploadFile, File(description="CSV (lon/lat or easting/northing), GeoJSON or GeoPackage")],
    target: Annotated[str, Form(description="incidents, places or safe_spaces")],
    mapping: Annotated[str | None, Form(description='JSON: our field -> your column, e.g. {"name": "Site"}')] = None,
    dry_run: Annotated[bool, Form(description="validate and report, write nothing")] = False,
    crs: Annotated[str | None, Form(description="EPSG:4326 (default) or EPSG:27700 for a CSV's coordinates")] = None,
    principal: Principal = gate(policy.IMPORT_INCIDENTS),
) -> dict[str, Any]:
    """Import a partner's incidents, places or safe spaces: the whole file in one transaction, or nothing
    (a rejected row is reported with its line or feature number). ``dry_run`` validates without writing.

    The format is read from the content (CSV, GeoJSON or GeoPackage), never from the file name; every
    attempt, dry runs and refusals included, is audited."""
    allow_long_work(session, settings.import_timeout_seconds)
    name = file.filename or "upload"
    detail: dict[str, Any] = {"source": "partner", "files": [name], "target": target, "dry_run": dry_run}
    try:
        rows = partner_records(file.file.read(), name, target, mapping, crs)
        report = imports.import_partner(
            session, principal.organisation_id, name, rows, target,
            analysis_srid=settings.analysis_srid, link_distance_m=settings.auto_link_distance_m,
            default_area=settings.default_service_area, dry_run=dry_run, limits=settings.geometry_limits,
            future_tolerance_minutes=settings.future_tolerance_minutes,
        )
    except ContextmapError as exc:
        record_refused_import(database, principal, target if target in TARGETS else "partner", detail, exc)
        raise
    audit_write(session, principal, "import", target,
                {**detail, "imported": report.imported, "duplicates": report.duplicates})
    return report.as_dict()
