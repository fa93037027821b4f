"""SQL for the web imports' jobs (0012): their state lives in the ``import_jobs`` table (row-level security
per organisation), so that any worker process answers the progress and result pages.

The process running a job writes its progress and a heartbeat in short transactions of their own (never in
the import's transaction, which stays all-or-nothing); a running job whose heartbeat is older than the
stale limit is read as failed — its process died — and marked so.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

RUNNING = ("queued", "reading", "writing")
COLUMNS = ("id, organisation_id, user_id, kind, target, files, workdir, dry_run, allow_partial, mapping, crs, stage, "
           "rows_read, done_bytes, report, message, new_incidents_from, new_incidents_to, started_at, heartbeat_at, "
           "finished_at")


def create(session: Session, *, job_id: str, organisation_id: int, user_id: int, kind: str, target: str,
           files: list[dict[str, Any]], workdir: str, dry_run: bool, allow_partial: bool, stage: str) -> None:
    session.execute(text(
        "INSERT INTO import_jobs (id, organisation_id, user_id, kind, target, files, workdir, dry_run, allow_partial, "
        "stage) VALUES (:id, :org, :user, :kind, :target, CAST(:files AS jsonb), :workdir, :dry_run, :allow_partial, "
        ":stage)"),
        {"id": job_id, "org": organisation_id, "user": user_id, "kind": kind, "target": target,
         "files": json.dumps(files), "workdir": workdir, "dry_run": dry_run, "allow_partial": allow_partial,
         "stage": stage})


def get(session: Session, job_id: str, stale_seconds: int) -> dict[str, Any] | None:
    """The job (of the session's organisation), after marking it failed if its process stopped answering."""
    session.execute(text(
        "UPDATE import_jobs SET stage = 'failed', finished_at = now(), "
        "message = 'The import stopped: the server process running it ended before it finished. Nothing was "
        "written; start the import again.' "
        "WHERE id = :id AND stage IN ('queued', 'reading', 'writing') "
        "AND heartbeat_at < now() - make_interval(secs => :stale)"), {"id": job_id, "stale": stale_seconds})
    row = session.execute(text(f"SELECT {COLUMNS} FROM import_jobs WHERE id = :id"), {"id": job_id}).mappings().first()
    return None if row is None else dict(row)


def start(session: Session, job_id: str, *, mapping: dict[str, str], crs: str | None, dry_run: bool) -> bool:
    """Move a job from the mapping step to the queue (once: False when another request already did)."""
    moved = session.execute(text(
        "UPDATE import_jobs SET stage = 'queued', mapping = CAST(:mapping AS jsonb), crs = :crs, dry_run = :dry_run, "
        "heartbeat_at = now() WHERE id = :id AND stage = 'mapping'"),
        {"id": job_id, "mapping": json.dumps(mapping), "crs": crs, "dry_run": dry_run})
    return bool(moved.rowcount)  # type: ignore[attr-defined]


def progress(session: Session, job_id: str, *, stage: str, rows_read: int, done_bytes: int) -> None:
    """The runner's heartbeat: how far it has got (only while the job is still running)."""
    session.execute(text(
        "UPDATE import_jobs SET stage = :stage, rows_read = :rows, done_bytes = :bytes, heartbeat_at = now() "
        "WHERE id = :id AND stage IN ('queued', 'reading', 'writing')"),
        {"id": job_id, "stage": stage, "rows": rows_read, "bytes": done_bytes})


def finish(session: Session, job_id: str, *, stage: str, rows_read: int, done_bytes: int,
           report: dict[str, Any] | None, message: str | None, new_incidents: tuple[date, date] | None) -> None:
    session.execute(text(
        "UPDATE import_jobs SET stage = :stage, rows_read = :rows, done_bytes = :bytes, "
        "report = CAST(:report AS jsonb), message = :message, new_incidents_from = :first, new_incidents_to = :last, "
        "finished_at = now(), heartbeat_at = now() WHERE id = :id"),
        {"id": job_id, "stage": stage, "rows": rows_read, "bytes": done_bytes,
         "report": None if report is None else json.dumps(report), "message": message,
         "first": new_incidents[0] if new_incidents else None, "last": new_incidents[1] if new_incidents else None})


def prune(session: Session, *, keep: int, days: int) -> list[str]:
    """Forget finished jobs (and abandoned mapping steps) older than ``days`` or beyond the newest ``keep``
    of the session's organisation; returns their work directories for the caller to remove."""
    rows = session.execute(text(
        "DELETE FROM import_jobs WHERE (id, organisation_id) IN ("
        "  SELECT id, organisation_id FROM ("
        "    SELECT id, organisation_id, started_at, finished_at, stage, "
        "           row_number() OVER (ORDER BY started_at DESC) AS n FROM import_jobs"
        "  ) j WHERE j.stage NOT IN ('queued', 'reading', 'writing') "
        "    AND (j.n > :keep OR COALESCE(j.finished_at, j.started_at) < now() - make_interval(days => :days))"
        ") RETURNING workdir"), {"keep": keep, "days": days})
    return [str(r.workdir) for r in rows]
