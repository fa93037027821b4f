"""The Level 1 safety plan pages over HTTP (no browser): prefilled from the finder, the plan with safe spaces
and trusted adults per weekly time, errors named on the form, the one-page PDF, nothing stored but an audit
row of counts. The printed page at 390×844 is in tests/browser/test_web_safety_plan.py."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from app.db.session import Database
from app.services.safety_plan import MAX_CONTEXTS, MAX_LABEL, MAX_STEPS
from geo.demo import _lonlat
from tests.conftest import count_rows

HTML = {"Accept": "text/html"}
LABEL = "Outside the chicken shop after school"
WEEK = "2026-09-14"
ARTIFACTS = Path("test-artifacts/safety-plan")  # a Monday in term time


def plan_fields(**extra: str) -> dict[str, str]:
    return {"count": "1", "age": "14", "week": WEEK, "where-1": "Wellgate Street", "label-1": LABEL,
            "days-1-1": "weekdays", "from-1-1": "15:30", "to-1-1": "18:00",
            "days-1-2": "d5", "from-1-2": "12:00", "to-1-2": "17:00",
            "steps": "Go into the library and ask for the youth worker.",
            "contact-name-1": "Sam, youth worker", "contact-number-1": "07700 900123", **extra}


def largest_plan() -> dict[str, str]:
    """Every limit at its largest: four places, two times each (six in all), long words, three contacts."""
    fields = {"count": str(MAX_CONTEXTS), "age": "14", "week": WEEK, "steps": "W" * 20 + " " + "x" * (MAX_STEPS - 21)}
    streets = ["Wellgate Street", "Library Square", "Riverside Lane", "Marsh Lane"]
    for n, street in enumerate(streets, start=1):
        fields.update({f"where-{n}": street, f"label-{n}": ("Long description " * 6)[:MAX_LABEL],
                       f"days-{n}-1": "everyday", f"from-{n}-1": "10:00", f"to-{n}-1": "20:00"})
        if n <= 2:
            fields.update({f"days-{n}-2": "weekends", f"from-{n}-2": "12:00", f"to-{n}-2": "17:00"})
    far = _lonlat(2400, 2400)  # half an hour from the nearest safe space: the fallback advice is printed too
    fields.update({"where-4": "The far corner", "pointlabel-4": "The far corner", "point-4": f"{far[0]},{far[1]}"})
    for k in range(1, 4):
        fields.update({f"contact-name-{k}": ("Trusted adult " * 5)[:60], f"contact-number-{k}": "07700 900123"})
    return fields


def pdf_pages(pdf: bytes) -> tuple[int, str]:
    """Page count (poppler's pdfinfo) and text (pdftotext) of a PDF."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "plan.pdf"
        path.write_bytes(pdf)
        info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True).stdout
        words = subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True, text=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1)), words  # type: ignore[union-attr]


def _post(client: TestClient, headers: dict[str, str], url: str, data: dict[str, str]) -> Any:
    return client.post(url, data=data, headers={**headers, **HTML})


def test_the_finder_hands_its_start_age_and_time_to_the_plan_form(
    client: TestClient, demo_headers: dict[str, dict[str, str]]
) -> None:
    finder = client.get("/safe-spaces/find", params={"where": "Wellgate Street", "age": "14", "when": "later",
                                                     "day": "2026-09-15", "time": "17:30"},
                        headers={**demo_headers["youth_worker"], **HTML}).text
    link = re.search(r'href="(/safe-spaces/plan\?[^"]+)" data-finder-plan', finder)
    assert link, "the finder offers a safety plan"
    form = client.get(link.group(1).replace("&amp;", "&"), headers={**demo_headers["youth_worker"], **HTML}).text
    assert re.search(r'name="where-1" type="text" spellcheck="false" value="[^"]*Wellgate Street"', form)
    assert re.search(r'name="point-1" value="-?\d+\.\d+,-?\d+\.\d+"', form)
    assert 'value="14"' in form and 'value="2026-09-15"' in form
    assert '<option value="d1" selected>Tuesdays</option>' in form
    assert 'value="17:30"' in form and 'value="19:30"' in form
    assert "Nothing about the young person is stored" in form


def test_a_plan_lists_spaces_and_trusted_adults_and_stores_only_that_it_was_made(
    client: TestClient, demo_headers: dict[str, dict[str, str]], database: Database
) -> None:
    before = count_rows(database, "audit_events")
    response = _post(client, demo_headers["youth_worker"], "/safe-spaces/plan", plan_fields())
    assert response.status_code == 200, response.text[:3000]
    plan = response.text.split("data-plan>", 1)[1]
    assert LABEL in plan and "Weekdays 15:30\u201318:00" in plan and "Saturdays 12:00\u201317:00" in plan
    assert "Wellgate Central Library" in plan and "Open all of this time" in plan
    assert "Youth worker running the pop-up youth club" in plan
    assert "Sam, youth worker" in plan and "0800 1111" in plan and "999" in plan
    assert "Nothing about the young person is stored" in response.text
    assert count_rows(database, "audit_events") == before + 1
    with database.owner_session() as session:
        action, detail = session.execute(text(
            "SELECT action, detail::text FROM audit_events ORDER BY id DESC LIMIT 1")).one()
        words = session.execute(text("SELECT count(*) FROM audit_events WHERE detail::text ILIKE '%chicken%' "
                                     "OR detail::text ILIKE '%07700%' OR detail::text ILIKE '%Wellgate%'")).scalar()
    assert action == "safety_plan.create"
    assert '"contexts": 1' in detail and '"times": 2' in detail and words == 0


def test_errors_are_named_on_the_form_and_nothing_is_recorded(
    client: TestClient, demo_headers: dict[str, dict[str, str]], database: Database
) -> None:
    before = count_rows(database, "audit_events")
    bad = plan_fields(**{"where-1": "No such street anywhere", "from-1-1": "half past three", "to-1-2": "12:00",
                         "age": "forty", "label-1": "x" * (MAX_LABEL + 1), "contact-number-1": ""})
    response = _post(client, demo_headers["youth_worker"], "/safe-spaces/plan", bad)
    assert response.status_code == 422
    summary = response.text.split("govuk-error-summary", 1)[1]
    for anchor in ("#age", "#label-1", "#where-1", "#from-1-1", "#to-1-2", "#contact-number-1"):
        assert f'href="{anchor}"' in summary, anchor
    assert "data-plan>" not in response.text
    nothing = _post(client, demo_headers["youth_worker"], "/safe-spaces/plan", {"count": "1"})
    assert nothing.status_code == 422 and 'href="#where-1"' in nothing.text
    assert count_rows(database, "audit_events") == before


def test_add_another_place_and_change_the_plan_without_javascript(
    client: TestClient, demo_headers: dict[str, dict[str, str]]
) -> None:
    response = _post(client, demo_headers["youth_worker"], "/safe-spaces/plan", plan_fields(action="add"))
    assert response.status_code == 200
    assert 'name="where-2"' in response.text and f'value="{LABEL}"' in response.text
    change = _post(client, demo_headers["youth_worker"], "/safe-spaces/plan", plan_fields(action="change")).text
    assert "data-plan-form" in change and f'value="{LABEL}"' in change and "data-plan>" not in change
    full = _post(client, demo_headers["youth_worker"], "/safe-spaces/plan",
                 {**largest_plan(), "action": "add"}).text
    assert f'name="where-{MAX_CONTEXTS + 1}"' not in full and "data-plan-add" not in full


@pytest.mark.skipif(shutil.which("pdfinfo") is None, reason="poppler-utils missing: make system-packages")
def test_the_largest_plan_downloads_as_a_one_page_pdf(
    client: TestClient, demo_headers: dict[str, dict[str, str]], database: Database
) -> None:
    response = _post(client, demo_headers["community_safety"], "/safe-spaces/plan.pdf", largest_plan())
    assert response.status_code == 200, response.text[:3000]
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["cache-control"] == "no-store"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "largest-plan.pdf").write_bytes(response.content)
    pages, words = pdf_pages(response.content)
    assert pages == 1
    assert "Safety plan" in words and "Childline" in words and "Wellgate Central Library" in words
    assert "Nothing open is within a 15-minute walk" in words
    with database.owner_session() as session:
        detail = session.execute(text("SELECT detail::text FROM audit_events WHERE action = 'safety_plan.create' "
                                      "ORDER BY id DESC LIMIT 1")).scalar()
    assert '"output": "pdf"' in detail and '"contexts": 4' in detail


def test_who_may_make_a_plan(client: TestClient, demo_headers: dict[str, dict[str, str]]) -> None:
    assert client.get("/safe-spaces/plan", headers={**demo_headers["panel"], **HTML}).status_code == 403
    assert _post(client, demo_headers["panel"], "/safe-spaces/plan", plan_fields()).status_code == 403
    assert _post(client, demo_headers["panel"], "/safe-spaces/plan.pdf", plan_fields()).status_code == 403
