"""The places forms over HTTP (no browser): validation with the error summary and nothing written, the
role table, the audit record and the success banner. The browser journeys are in tests/browser."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fastapi.testclient import TestClient

from app.db.session import Database
from tests.conftest import count_rows, unique

HTML = {"Accept": "text/html"}


def _post(client: TestClient, headers: dict[str, str], path: str, data: dict[str, Any]) -> Any:
    return client.post(path, data=data, headers={**headers, **HTML}, follow_redirects=False)


def _day(prefix: str, when: date) -> dict[str, str]:
    return {f"{prefix}-day": str(when.day), f"{prefix}-month": str(when.month), f"{prefix}-year": str(when.year)}


def _new_place(client: TestClient, headers: dict[str, str], **extra: str) -> int:
    data = {"name": unique("Form place "), "kind": "park", "lon": "-0.4101", "lat": "51.8802", **extra}
    response = _post(client, headers, "/places/new", data)
    assert response.status_code == 303, response.text[:2000]
    return int(response.headers["location"].split("?")[0].rsplit("/", 1)[1])


def test_add_place_by_grid_reference_then_change_it(
    client: TestClient, demo_headers: dict[str, dict[str, str]], database: Database
) -> None:
    headers = demo_headers["youth_worker"]
    name = unique("Skate park ")
    # TL 0926 2145 lies in the demo town's service area; a grid reference wins over lon/lat.
    before = count_rows(database, "audit_events")
    response = _post(client, headers, "/places/new", {"name": name, "kind": "park", "grid_reference": "TL 0926 2145",
                                                      "opening_hours": "Mo-Su 08:00-20:00"})
    assert response.status_code == 303, response.text[:3000]
    assert count_rows(database, "audit_events") == before + 1
    page = client.get(response.headers["location"], headers=headers)
    assert "Place added" in page.text and name in page.text and "Open today 08:00–20:00" in page.text
    place_id = response.headers["location"].split("?")[0].rsplit("/", 1)[1]
    changed = _post(client, headers, f"/places/{place_id}/edit", {"name": name + " (north)", "kind": "sports_cage",
                                                                   "lon": "", "lat": ""})
    assert changed.status_code == 303
    assert "Sports cage" in client.get(f"/places/{place_id}", headers=headers).text


def test_a_wrong_place_form_writes_nothing_and_names_each_field(
    client: TestClient, demo_headers: dict[str, dict[str, str]], database: Database
) -> None:
    before = count_rows(database, "places"), count_rows(database, "audit_events")
    response = _post(client, demo_headers["admin"], "/places/new",
                     {"name": "", "kind": "castle", "lon": "abc", "lat": ""})
    assert response.status_code == 422
    assert "govuk-error-summary" in response.text
    for field in ("#name", "#lon"):
        assert f'href="{field}"' in response.text
    outside = _post(client, demo_headers["admin"], "/places/new",
                    {"name": "Somewhere", "kind": "park", "lon": "51.88", "lat": "-0.41"})  # swapped
    assert outside.status_code == 422 and 'href="#lon"' in outside.text
    hours = _post(client, demo_headers["admin"], "/places/new",
                  {"name": "Somewhere", "kind": "park", "lon": "-0.41", "lat": "51.88", "opening_hours": "Mo-Fr 25:00"})
    assert hours.status_code == 422 and 'href="#opening_hours"' in hours.text
    assert (count_rows(database, "places"), count_rows(database, "audit_events")) == before


def test_designations_follow_the_role_table_and_refuse_a_past_review_date(
    client: TestClient, demo_headers: dict[str, dict[str, str]], database: Database
) -> None:
    place = _new_place(client, demo_headers["community_safety"])
    concern = {"level": "high", "reason": "Fights after school", **_day("review_by", date.today() - timedelta(days=1))}
    before = count_rows(database, "designations")
    past = _post(client, demo_headers["community_safety"], f"/places/{place}/designate?kind=concern", concern)
    assert past.status_code == 422 and 'href="#review_by-day"' in past.text
    assert count_rows(database, "designations") == before
    assert client.get(f"/places/{place}/designate?kind=concern", headers={**demo_headers["youth_worker"], **HTML}
                      ).status_code == 403
    assert _post(client, demo_headers["youth_worker"], f"/places/{place}/designate?kind=concern",
                 {**concern, **_day("review_by", date.today() + timedelta(days=30))}).status_code == 403
    ok = _post(client, demo_headers["community_safety"], f"/places/{place}/designate?kind=concern",
               {**concern, **_day("review_by", date.today() + timedelta(days=30))})
    assert ok.status_code == 303 and ok.headers["location"].endswith("saved=concern")
    safe = _post(client, demo_headers["youth_worker"], f"/places/{place}/designate?kind=safe_space",
                 {"scheme": "Safe Places", "age_min": "11", "age_max": "18",
                  "help_offered": "wait indoors\ncharge a phone", **_day("verified_on", date.today())})
    assert safe.status_code == 303
    html = client.get(f"/places/{place}", headers=demo_headers["panel"]).text
    assert 'data-current-designation="concern"' in html and 'data-current-designation="safe_space"' in html
    assert "Fights after school" not in html  # the panel reads no free text
    assert "End this designation" not in html


def test_guardians_and_assessments_are_recorded_and_the_panel_may_not(
    client: TestClient, demo_headers: dict[str, dict[str, str]], database: Database
) -> None:
    worker = demo_headers["youth_worker"]
    place = _new_place(client, worker)
    assert _post(client, demo_headers["panel"], f"/places/{place}/guardians/new", {"role": "staff"}).status_code == 403
    bad = _post(client, worker, f"/places/{place}/guardians/new",
                {"role": "staff", "hours": "whenever", "training-safeguarding-day": "30",
                 "training-safeguarding-month": "2", "training-safeguarding-year": "2026"})
    assert bad.status_code == 422 and 'href="#hours"' in bad.text and 'href="#training-safeguarding-day"' in bad.text
    added = _post(client, worker, f"/places/{place}/guardians/new",
                  {"role": "staff", "description": "Café staff", "hours": "Mo-Fr 15:00-19:00",
                   **_day("training-safeguarding", date(2026, 2, 3))})
    assert added.status_code == 303
    html = client.get(f"/places/{place}", headers=worker).text
    assert "Café staff" in html and "Safeguarding (3 February 2026)" in html
    assessment = {**_day("assessed_on", date.today()), "young_people_rating": "amber", "guardianship_rating": "red",
                  "environment_rating": "green", "methods": ["observation", "walkabout"],
                  "goal_statement": "ASB reports fall", "goal_measure": "change", "goal_baseline_value": "12",
                  **_day("goal_baseline_on", date.today())}
    missing = _post(client, worker, f"/places/{place}/assessments/new", {**assessment, "guardianship_rating": ""})
    assert missing.status_code == 422 and 'href="#guardianship_rating"' in missing.text
    assert _post(client, worker, f"/places/{place}/assessments/new", assessment).status_code == 303
    html = client.get(f"/places/{place}", headers=worker).text
    assert "Guardianship: red" in html and "ASB reports fall (change); baseline 12.0" in html
