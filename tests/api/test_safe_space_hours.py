"""The finder says what the hours say: "open, by appointment", "hours not known — ring first", and SH from
the organisation's own school terms (uploaded by API or CLI), against real PostGIS."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from app.cli import cli
from tests.api.test_safe_spaces import nearest, safe_space
from tests.conftest import Org, make_org, unique

TUESDAY_1100 = "2026-10-20T11:00:00+01:00"  # term time in TERMS
HALF_TERM_TUESDAY_1100 = "2026-10-27T11:00:00+00:00"
TERMS = """term,starts_on,ends_on
Autumn 1,2026-09-03,2026-10-23
Autumn 2,2026-11-02,2026-12-18
"""
HOLIDAY_CLUB = "Mo-Fr 15:00-19:00; SH Mo-Fr 10:00-16:00"


@pytest.fixture
def town(database: Any, settings: Any) -> Org:
    return make_org(database, settings, unique("hours-"))


def upload(client: Any, org: Org, body: str, role: str = "admin") -> Any:
    return client.put("/api/school-terms", files={"file": ("terms.csv", body.encode(), "text/csv")},
                      headers=org.headers(role))


def test_comments_and_unknown_are_offered_with_a_note_not_dropped_as_closed(client: Any, town: Org) -> None:
    appointment = safe_space(client, town, 100, 0, 'Mo-Fr 10:00-18:00 "by appointment"', name="Appointment hub")
    open_note = safe_space(client, town, 200, 0, 'Mo-Fr 10:00-18:00 open "by appointment"', name="Open hub")
    ring = safe_space(client, town, 300, 0, 'Mo-Fr 09:00-10:00 || unknown "ring the bell"', name="Bell hub")
    safe_space(client, town, 50, 0, None, name="No hours")
    answer = nearest(client, town, at=TUESDAY_1100, limit=10).json()
    found = {f["properties"]["place_id"]: f["properties"] for f in answer["features"]}
    assert found[appointment]["hours_state"] == "unknown" and found[appointment]["open"] is False
    assert found[appointment]["hours_note"] == "hours not known \u2014 ring first (by appointment)"
    assert found[open_note]["hours_state"] == "open" and found[open_note]["hours_note"] == "open, by appointment"
    assert found[ring]["hours_note"] == "hours not known \u2014 ring first (ring the bell)"
    assert any("ring first" in reason for reason in found[ring]["reasons"])
    assert answer["excluded"]["hours_unknown"] == 1  # no hours recorded at all: still not offered
    listed = client.get("/api/safe-spaces", params={"at": TUESDAY_1100},
                        headers=town.headers("youth_worker")).json()["features"]
    assert {f["properties"]["hours_note"] for f in listed} >= {"open, by appointment", "opening hours not recorded "
                                                                                        "\u2014 ring first"}


def test_school_holidays_follow_the_uploaded_terms(client: Any, town: Org) -> None:
    club = safe_space(client, town, 100, 0, HOLIDAY_CLUB, name="Holiday club")
    before = nearest(client, town, at=HALF_TERM_TUESDAY_1100).json()["features"]
    assert [f["properties"]["hours_state"] for f in before] == ["unknown"]  # SH not known: ring first
    assert "school" in before[0]["properties"]["hours_note"]

    response = upload(client, town, TERMS)
    assert response.status_code == 200, response.text
    assert response.json()["school_holidays_known_from"] == "2026-09-03"
    in_half_term = nearest(client, town, at=HALF_TERM_TUESDAY_1100).json()
    assert [f["properties"]["place_id"] for f in in_half_term["features"]] == [club]
    assert in_half_term["features"][0]["properties"]["open"] is True
    in_term = nearest(client, town, at=TUESDAY_1100).json()
    assert in_term["features"] == [] and in_term["excluded"]["closed"] == 1
    listed = client.get("/api/school-terms", headers=town.headers("panel")).json()
    assert [t["term"] for t in listed["terms"]] == ["Autumn 1", "Autumn 2"]


def test_a_bad_terms_file_names_the_line_and_column_and_changes_nothing(client: Any, town: Org,
                                                                       database: Any) -> None:
    assert upload(client, town, TERMS).status_code == 200
    bad = TERMS + "Spring 1,2027-01-05,2026-12-01\n"
    response = upload(client, town, bad)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert "line 4" in problem["detail"] and problem["errors"][0]["field"] == "file.ends_on"
    with database.owner_session() as session:
        count = session.execute(text("SELECT count(*) FROM school_terms WHERE organisation_id = :o"),
                                {"o": town.id}).scalar_one()
    assert count == 2


def test_only_admins_replace_school_terms(client: Any, town: Org) -> None:
    assert upload(client, town, TERMS, role="community_safety").status_code == 403


def test_cli_loads_school_terms_for_one_organisation(client: Any, town: Org, database: Any, settings: Any,
                                                     tmp_path: Path) -> None:
    other = make_org(database, settings, unique("other-"))
    path = tmp_path / "terms.csv"
    path.write_text(TERMS)
    result = CliRunner().invoke(cli, ["school-terms", "load", str(path), "--org", town.slug],
                                env={"CONTEXTMAP_DATABASE_URL": settings.database_url})
    assert result.exit_code == 0, result.output
    assert "2 school term(s) loaded" in result.stdout
    assert len(client.get("/api/school-terms", headers=town.headers("admin")).json()["terms"]) == 2
    assert client.get("/api/school-terms", headers=other.headers("admin")).json()["terms"] == []
    path.write_text("term,starts_on,ends_on\nAutumn,2026-09-03,someday\n")
    result = CliRunner().invoke(cli, ["school-terms", "load", str(path), "--org", town.slug],
                                env={"CONTEXTMAP_DATABASE_URL": settings.database_url})
    assert result.exit_code == 2 and "line 2, ends_on" in " ".join(result.output.split())


def test_the_safe_space_map_popup_shows_the_note_escaped(client: Any, town: Org) -> None:
    safe_space(client, town, 100, 0, 'Mo-Fr 10:00-18:00 "<b>ring</b> the bell"', name="Bell house")
    safe_space(client, town, 200, 0, HOLIDAY_CLUB, name="Holiday club")
    assert upload(client, town, TERMS).status_code == 200
    page = client.get("/maps/safe-spaces", params={"at": HALF_TERM_TUESDAY_1100},
                      headers=town.headers("youth_worker"))
    assert page.status_code == 200, page.text
    assert "hours not known \u2014 ring first (&lt;b&gt;ring&lt;/b&gt; the bell)" in page.text
    assert "<b>ring</b>" not in page.text
    assert "school holidays" not in page.text  # terms are loaded: the holiday club is simply open
