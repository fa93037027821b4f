"""Imports started from the web pages run in a background thread, so that a large police.uk file does not
hold the browser's request open; the progress and the report are written to the ``import_jobs`` table
(:mod:`app.db.import_jobs`, row-level security per organisation) for the progress and result pages to read,
whichever worker process answers them.

The import itself is the one the JSON API and the CLI run (:func:`app.db.imports.import_police_uk`,
:func:`app.services.partner_import.partner_records` with :func:`app.db.imports.import_partner`), in one
transaction of the organisation's tenant session: a rejected file raises and the rollback leaves nothing
behind. Audit records are the API's: ``import`` (with ``via: web``) in the import's own transaction, and
``import.refused`` (:func:`app.services.audit.record_refused_import`) in a transaction of its own.

A dry run of a police.uk file runs the whole import and rolls it back (the police.uk path has no dry-run
switch of its own); a partner dry run is the partner import's own ``dry_run``.

The runner writes its progress and a heartbeat every :data:`HEARTBEAT_SECONDS` in short transactions of
their own; a running job whose heartbeat is older than :data:`STALE_SECONDS` (its process was killed or
restarted) is read as failed — the import's own transaction died with the process, so nothing was written.
Uploads are staged on the server's disk (the job's ``workdir``): the worker processes of one host share it.
Several *hosts* would need shared storage for the staged files (or sticky sessions between the upload and
the mapping step). The outcome itself is always in the audit log (the import history page).
"""

from __future__ import annotations

import contextvars
import io
import json
import secrets
import shutil
import tempfile
import threading
import zipfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any, Literal

from sqlalchemy.orm import Session

from app.db import import_history, import_jobs, imports
from app.db.imports import ALLOW_PARTIAL_HINT, ImportRejected, ImportReport, Rejection
from app.db.session import Database, allow_long_work
from app.errors import ContextmapError, InvalidInput
from app.security import Principal
from app.services.audit import record_event, record_refused_import
from app.services.partner_import import partner_records
from app.settings import Settings

Stage = Literal["mapping", "queued", "reading", "writing", "done", "refused", "failed"]
RUNNING: tuple[Stage, ...] = ("queued", "reading", "writing")
MAX_JOBS_KEPT = 200  # finished jobs kept per organisation for their result pages; the oldest go first
JOB_DAYS_KEPT = 7  # and none longer than this after it finished (the audit log keeps the outcome)
MAX_RUNNING = 2  # imports running at once in one process (the machine's other work continues)
HEARTBEAT_SECONDS = 1.0  # how often the runner writes its progress
STALE_SECONDS = 60  # a running job silent this long is read as failed (its process died)
WEB_ALLOW_PARTIAL_HINT = "tick 'Import the good rows and list the rejected ones' to import the rest"
MAX_ZIP_MEMBERS = 1000  # a police.uk download of every force for three years has ~1,600 files of 3 kinds
# A zip may hold at most this many times the upload limit once expanded (zip bombs expand a thousandfold).
ZIP_EXPANSION = 10


@dataclass
class StagedFile:
    """An uploaded file kept on disk for the import thread (a zip member is read inside its zip)."""

    name: str  # what the report calls it: the upload's name, or "archive.zip/2024-03/…-street.csv"
    path: Path
    member: str | None = None
    size: int = 0


@dataclass
class ImportJob:
    """A job as the runner holds it while it runs, and as the pages read it back from ``import_jobs``."""

    id: str
    organisation_id: int
    principal: Principal | None  # who started it (the runner audits as them); None when read back
    kind: Literal["police_uk", "partner"]
    files: list[StagedFile]
    workdir: Path
    user_id: int = 0
    dry_run: bool = False
    allow_partial: bool = False
    target: str = "incidents"
    mapping: dict[str, str] = field(default_factory=dict)
    crs: str | None = None
    stage: Stage = "queued"
    rows_read: int = 0
    done_bytes: int = 0
    report: ImportReport | None = None
    message: str | None = None  # why a file was refused or failed, for the result page
    new_incidents: tuple[date, date] | None = None
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    finished_at: datetime | None = None

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.files]

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files) or 1

    @property
    def percent(self) -> int:
        if self.stage in ("done", "refused", "failed"):
            return 100
        # Reading is most of an import's time; writing is one statement, shown as the last tenth.
        reading = min(1.0, self.done_bytes / self.total_bytes)
        return int(90 * reading) + (5 if self.stage == "writing" else 0)

    @property
    def running(self) -> bool:
        return self.stage in RUNNING

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> ImportJob:
        first, last = row["new_incidents_from"], row["new_incidents_to"]
        return cls(
            id=row["id"], organisation_id=int(row["organisation_id"]), principal=None, kind=row["kind"],
            files=[StagedFile(f["name"], Path(f["path"]), f.get("member"), int(f.get("size") or 0))
                   for f in row["files"]],
            workdir=Path(row["workdir"]), user_id=int(row["user_id"]), dry_run=row["dry_run"],
            allow_partial=row["allow_partial"], target=row["target"], mapping=dict(row["mapping"] or {}),
            crs=row["crs"], stage=row["stage"], rows_read=int(row["rows_read"]), done_bytes=int(row["done_bytes"]),
            report=report_from_dict(row["report"]) if row["report"] else None, message=row["message"],
            new_incidents=(first, last) if first and last else None, started_at=row["started_at"],
            finished_at=row["finished_at"])


def report_from_dict(found: dict[str, Any]) -> ImportReport:
    """An :class:`ImportReport` from its :meth:`~ImportReport.as_dict` (as stored with the job)."""
    report = ImportReport(
        files=list(found.get("files") or []), rows_read=int(found.get("rows_read") or 0),
        imported=int(found.get("imported") or 0), duplicates=int(found.get("duplicates") or 0),
        without_location=int(found.get("without_location") or 0), rejected=int(found.get("rejected") or 0),
        linked_to_places=int(found.get("linked_to_places") or 0),
        rejections=[Rejection(str(r["file"]), int(r["line"]), str(r["reason"])) for r in found.get("rejections") or []],
        allow_partial=bool(found.get("allow_partial")), dry_run=bool(found.get("dry_run")))
    return report


def _staged(files: list[StagedFile]) -> list[dict[str, Any]]:
    return [{"name": f.name, "path": str(f.path), "member": f.member, "size": f.size} for f in files]


class ImportJobs:
    """Creates, reads, starts and runs jobs; their state is in the database (any worker reads it), the
    running itself is a thread of the process that started it."""

    def __init__(self) -> None:
        self._slots = threading.BoundedSemaphore(MAX_RUNNING)

    def new(self, session: Session, principal: Principal, kind: Literal["police_uk", "partner"],
            files: list[StagedFile], workdir: Path, *, stage: Stage = "queued", **options: Any) -> ImportJob:
        """Record a new job in the request's transaction (committed before the redirect)."""
        for old in import_jobs.prune(session, keep=MAX_JOBS_KEPT, days=JOB_DAYS_KEPT):
            shutil.rmtree(old, ignore_errors=True)
        job = ImportJob(id=secrets.token_urlsafe(12), organisation_id=principal.organisation_id,
                        principal=principal, kind=kind, files=files, workdir=workdir, user_id=principal.user_id,
                        stage=stage, **options)
        import_jobs.create(session, job_id=job.id, organisation_id=job.organisation_id, user_id=job.user_id,
                           kind=kind, target=job.target, files=_staged(files), workdir=str(workdir),
                           dry_run=job.dry_run, allow_partial=job.allow_partial, stage=stage)
        return job

    def get(self, session: Session, job_id: str) -> ImportJob | None:
        """The job, if it is the session's organisation's (row-level security); a silent one reads as failed."""
        if len(job_id) > 32:
            return None
        row = import_jobs.get(session, job_id, STALE_SECONDS)
        return None if row is None else ImportJob.from_row(row)

    def start(self, job: ImportJob, principal: Principal, database: Database, settings: Settings) -> None:
        """Run the job in a daemon thread, with the request's context (its request id goes into the audit).
        The job's row must be committed first: the thread's own transactions update it."""
        job.principal, job.user_id = principal, principal.user_id
        job.stage = "queued"
        context = contextvars.copy_context()
        thread = threading.Thread(target=context.run, args=(self._run, job, database, settings),
                                  name=f"import-{job.id}", daemon=True)
        thread.start()

    def _run(self, job: ImportJob, database: Database, settings: Settings) -> None:
        beating = threading.Event()
        heart = threading.Thread(target=_heartbeat, args=(job, database, beating), name=f"import-{job.id}-beat",
                                 daemon=True)
        heart.start()
        try:
            with self._slots:
                try:
                    run_import(job, database, settings)
                except ContextmapError as exc:
                    job.stage, job.message = "refused", exc.detail
                    if isinstance(exc, ImportRejected):
                        job.report = exc.report
                        if exc.hint == ALLOW_PARTIAL_HINT:  # the API's words; the form has a checkbox instead
                            job.message = exc.describe(exc.report, WEB_ALLOW_PARTIAL_HINT)
                    _audit_refusal(job, database, exc)
                except Exception as exc:
                    job.stage, job.message = "failed", f"The import stopped unexpectedly ({type(exc).__name__})."
        finally:
            beating.set()
            heart.join()
            job.finished_at = datetime.now(UTC)
            _write(database, job, finished=True)
            shutil.rmtree(job.workdir, ignore_errors=True)


def _write(database: Database, job: ImportJob, *, finished: bool = False) -> None:
    """The job's progress (or, once finished, its outcome) in a short transaction of its own."""
    session = database.tenant_session(job.organisation_id)
    try:
        with session.begin():
            if finished:
                import_jobs.finish(session, job.id, stage=job.stage, rows_read=job.rows_read,
                                   done_bytes=job.done_bytes, report=job.report.as_dict() if job.report else None,
                                   message=job.message, new_incidents=job.new_incidents)
            else:
                import_jobs.progress(session, job.id, stage=job.stage, rows_read=job.rows_read,
                                     done_bytes=job.done_bytes)
    finally:
        session.close()


def _heartbeat(job: ImportJob, database: Database, stop: threading.Event) -> None:
    """Write the running job's progress every second until it ends (a missed beat is tried again)."""
    while not stop.wait(HEARTBEAT_SECONDS):
        try:
            _write(database, job)
        except Exception:  # noqa: S112 - the database busy or briefly away: the next beat tries again
            continue


def jobs_of(app_state: Any) -> ImportJobs:
    jobs = getattr(app_state, "import_jobs", None)
    if jobs is None:
        jobs = app_state.import_jobs = ImportJobs()
    return jobs


# ---- staging uploads ------------------------------------------------------------------------------------
def new_workdir() -> Path:
    return Path(tempfile.mkdtemp(prefix="contextmap-import-"))


def stage_upload(workdir: Path, index: int, name: str, source: IO[bytes]) -> Path:
    path = workdir / f"upload-{index}"
    with open(path, "wb") as target:
        shutil.copyfileobj(source, target, length=1024 * 1024)
    return path


def police_uk_members(name: str, path: Path, settings: Settings) -> list[StagedFile]:
    """The files of one police.uk upload: a CSV is itself; a zip (as police.uk downloads come) gives its
    street-level files (``*-street.csv``; the outcomes and stop-and-search files beside them are not crime
    records). Raises ``InvalidInput`` naming the upload when the zip has no street files or is too big."""
    if not zipfile.is_zipfile(path):
        return [StagedFile(name, path, size=path.stat().st_size)]
    try:
        with zipfile.ZipFile(path) as archive:
            members = [m for m in archive.infolist() if not m.is_dir()]
    except zipfile.BadZipFile as exc:
        raise InvalidInput(f"{name}: not a readable zip file ({exc})", field="files") from exc
    if len(members) > MAX_ZIP_MEMBERS:
        raise InvalidInput(f"{name}: more than {MAX_ZIP_MEMBERS} files in the zip", field="files")
    if sum(m.file_size for m in members) > settings.max_upload_bytes * ZIP_EXPANSION:
        raise InvalidInput(f"{name}: the zip expands to more than {ZIP_EXPANSION} times the upload limit",
                           field="files")
    csvs = [m for m in members if m.filename.lower().endswith(".csv")]
    street = [m for m in csvs if m.filename.lower().endswith("-street.csv")] or csvs
    if not street:
        raise InvalidInput(f"{name}: the zip holds no police.uk street-level CSV file", field="files")
    return [StagedFile(f"{name}/{m.filename}", path, member=m.filename, size=m.file_size)
            for m in sorted(street, key=lambda m: m.filename)]


# ---- running --------------------------------------------------------------------------------------------
class _Counted(io.RawIOBase):
    """A byte stream that tells the job how far the import has read (for the progress bar)."""

    def __init__(self, inner: IO[bytes], job: ImportJob):
        self.inner, self.job = inner, job

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.inner.read(len(buffer))
        buffer[: len(data)] = data
        self.job.done_bytes += len(data)
        return len(data)


def _open(staged: StagedFile, stack: ExitStack) -> IO[bytes]:
    if staged.member is None:
        return stack.enter_context(open(staged.path, "rb"))
    archive = stack.enter_context(zipfile.ZipFile(staged.path))
    return stack.enter_context(archive.open(staged.member))


class _DryRunDone(Exception):
    def __init__(self, report: ImportReport):
        super().__init__("dry run")
        self.report = report


@contextmanager
def _job_session(job: ImportJob, database: Database, settings: Settings) -> Iterator[Session]:
    session = database.tenant_session(job.organisation_id, lane="heavy")
    try:
        with session.begin():
            # An import is one long transaction by design (all or nothing); the service role's per-statement
            # limit protects interactive requests and would cut a large file's single INSERT short.
            allow_long_work(session, settings.import_timeout_seconds)
            yield session
    finally:
        session.close()


def run_import(job: ImportJob, database: Database, settings: Settings) -> None:
    job.stage = "reading"
    detail: dict[str, Any] = {"via": "web", "files": job.names, "dry_run": job.dry_run}
    if job.kind == "police_uk":
        resource, detail = "incidents", {**detail, "source": "police_uk", "allow_partial": job.allow_partial}
    else:
        resource, detail = job.target, {**detail, "source": "partner", "target": job.target}
    try:
        with _job_session(job, database, settings) as session:
            report = _police_uk(job, session, settings) if job.kind == "police_uk" else \
                _partner(job, session, settings)
            job.rows_read = report.rows_read
            if job.dry_run and job.kind == "police_uk":
                report.dry_run = True
                raise _DryRunDone(report)  # the rollback takes everything the import wrote
            if job.target == "incidents" and not job.dry_run:
                job.new_incidents = import_history.written_in_this_transaction(session, job.organisation_id)
            record_event(session, organisation_id=job.organisation_id, user_id=job.user_id,
                         action="import", resource=resource, detail=_audit_detail(detail, report))
    except _DryRunDone as done:
        report = done.report
        _record(database, job, resource, report, detail)
    job.report = report
    job.stage = "done"


def _police_uk(job: ImportJob, session: Session, settings: Settings) -> ImportReport:
    with ExitStack() as stack:
        sources = [(f.name, io.TextIOWrapper(io.BufferedReader(_Counted(_open(f, stack), job)),
                                             encoding="utf-8-sig", newline="")) for f in job.files]

        def progress(_name: str, rows: int) -> None:
            job.rows_read = rows
            if job.done_bytes >= job.total_bytes:  # every file read: the set-based SQL writes the rows now
                job.stage = "writing"

        report = imports.import_police_uk(
            session, job.organisation_id, sources, analysis_srid=settings.analysis_srid,
            link_distance_m=settings.auto_link_distance_m, default_area=settings.default_service_area,
            allow_partial=job.allow_partial, progress=progress,
            future_tolerance_minutes=settings.future_tolerance_minutes)
    job.stage = "writing"
    return report


def _partner(job: ImportJob, session: Session, settings: Settings) -> ImportReport:
    staged = job.files[0]
    data = staged.path.read_bytes()
    job.done_bytes = len(data) // 2
    rows = partner_records(data, staged.name, job.target, json.dumps(job.mapping) if job.mapping else None, job.crs)
    job.done_bytes = len(data)
    job.stage = "writing"
    return imports.import_partner(
        session, job.organisation_id, staged.name, rows, job.target, analysis_srid=settings.analysis_srid,
        link_distance_m=settings.auto_link_distance_m, default_area=settings.default_service_area,
        dry_run=job.dry_run, limits=settings.geometry_limits,
        future_tolerance_minutes=settings.future_tolerance_minutes)


def _audit_detail(detail: dict[str, Any], report: ImportReport) -> dict[str, Any]:
    return {**detail, "imported": report.imported, "duplicates": report.duplicates, "rejected": report.rejected}


def _record(database: Database, job: ImportJob, resource: str, report: ImportReport, detail: dict[str, Any]) -> None:
    session = database.tenant_session(job.organisation_id)
    try:
        with session.begin():
            record_event(session, organisation_id=job.organisation_id, user_id=job.user_id,
                         action="import", resource=resource, detail=_audit_detail(detail, report))
    finally:
        session.close()


def _audit_refusal(job: ImportJob, database: Database, refusal: ContextmapError) -> None:
    resource = "incidents" if job.kind == "police_uk" else job.target
    if job.principal is None:  # set by ImportJobs.start; a job is only run from there
        return
    record_refused_import(database, job.principal, resource,
                         {"source": job.kind if job.kind == "police_uk" else "partner", "files": job.names,
                          "via": "web", "dry_run": job.dry_run}, refusal)
