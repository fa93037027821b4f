"""Web imports keep their jobs in the database (0012): the progress and result pages answer from any worker
process, a job whose process died reads as failed, and another organisation's job is not found."""

from __future__ import annotations

import time
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import text

from app.db.session import Database
from app.settings import Settings
from tests.conftest import make_org
from tests.fixtures.policeuk import policeuk_csv_text
from tests.reliability.test_serve_workers import _healthy, _serve, _stop

HTML = {"Accept": "text/html"}


def _job_row(database: Database, job_id: str) -> Any:
    with database.owner_session() as session:
        return session.execute(text("SELECT * FROM import_jobs WHERE id = :id"), {"id": job_id}).mappings().one()


def test_a_web_import_is_a_row_with_its_progress_report_and_result(
    client: TestClient, database: Database, settings: Settings
) -> None:
    org, other = make_org(database, settings), make_org(database, settings)
    headers = {**org.headers("community_safety"), **HTML}
    upload = policeuk_csv_text(300, seed=11)
    started = client.post("/imports/police-uk", headers=headers, follow_redirects=False,
                          files={"files": ("2026-03-street.csv", upload.encode(), "text/csv")})
    assert started.status_code == 303, started.text[:2000]
    job_id = started.headers["location"].rsplit("/", 1)[1]
    for _ in range(600):  # bounds a hung import; no timing is asserted
        status = client.get(f"/imports/{job_id}/status", headers=org.headers("community_safety")).json()
        if not status["running"]:
            break
        time.sleep(0.1)
    assert status["stage"] == "done" and status["percent"] == 100
    row = _job_row(database, job_id)
    assert row["stage"] == "done" and row["report"]["imported"] > 0 and row["finished_at"] is not None
    assert row["user_id"] == org.user_ids["community_safety"]
    result = client.get(f"/imports/{job_id}", headers=headers)
    assert "Import finished" in result.text and f"{row['report']['imported']:,}" in result.text
    # Row-level security: another organisation does not see it.
    assert client.get(f"/imports/{job_id}", headers={**other.headers("admin"), **HTML}).status_code == 404
    assert client.get(f"/imports/{job_id}/status", headers=other.headers("admin")).status_code == 404


def test_a_job_whose_process_died_reads_as_failed(client: TestClient, database: Database, settings: Settings) -> None:
    org = make_org(database, settings)
    with database.owner_session() as session:
        session.execute(text(
            "INSERT INTO import_jobs (organisation_id, id, user_id, kind, workdir, stage, rows_read, heartbeat_at) "
            "VALUES (:o, 'died-mid-way', :u, 'police_uk', '/nonexistent', 'reading', 5000, "
            "now() - interval '10 minutes')"), {"o": org.id, "u": org.user_ids["admin"]})
        session.execute(text(
            "INSERT INTO import_jobs (organisation_id, id, user_id, kind, workdir, stage, rows_read) "
            "VALUES (:o, 'still-beating', :u, 'police_uk', '/nonexistent', 'reading', 5000)"),
            {"o": org.id, "u": org.user_ids["admin"]})
    page = client.get("/imports/died-mid-way", headers={**org.headers("admin"), **HTML})
    assert page.status_code == 200 and "The file was not imported" in page.text
    assert "server process running it ended" in page.text
    assert _job_row(database, "died-mid-way")["stage"] == "failed"
    alive = client.get("/imports/still-beating/status", headers=org.headers("admin")).json()
    assert alive["running"] is True and _job_row(database, "still-beating")["stage"] == "reading"


def test_progress_and_result_answer_from_either_of_two_workers(database_url: Any, database: Database,
                                                               settings: Settings) -> None:
    org = make_org(database, settings)
    process, base = _serve(database_url, "--workers", "2")
    try:
        assert _healthy(base, process)
        headers = {**org.headers("community_safety"), **HTML}
        upload = policeuk_csv_text(20_000, seed=12)
        # A new connection for every request (module-level httpx calls), so the two workers share them.
        started = httpx.post(base + "/imports/police-uk", headers=headers, timeout=60,
                             files={"files": ("2026-04-street.csv", upload.encode(), "text/csv")})
        assert started.status_code == 303, started.text[:2000]
        job_id = started.headers["location"].rsplit("/", 1)[1]
        answers, stages = [], []
        for _ in range(1200):  # bounds a hung import; no timing is asserted
            status = httpx.get(f"{base}/imports/{job_id}/status", headers=org.headers("community_safety"), timeout=30)
            answers.append(status.status_code)
            if status.status_code != 200:
                break
            stages.append(status.json()["stage"])
            if not status.json()["running"] and len(answers) >= 10:
                break
            time.sleep(0.05)
        result = [httpx.get(f"{base}/imports/{job_id}", headers=headers, timeout=30) for _ in range(6)]
    finally:
        output = _stop(process)
    assert set(answers) == {200}, (answers, output[-2000:])
    assert stages[-1] == "done", stages
    assert all(r.status_code == 200 and "Import finished" in r.text for r in result)
