"""Input that used to answer 500 (or reset the connection) is refused with 422 naming the field.

From the outside security test (issue 10, Low) and the fault test (issue 11, item 7): out-of-range
datetimes on lists and analyses, bare numbers and far-future dates as timestamps, police.uk files with a
NUL byte or a field over the csv module's 128 KB limit, and a GeoPackage layer with no geometry.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.api.test_assessments import assessment_body
from tests.api.test_imports import PARTNER_URL, csv_of, partner_upload, row, upload
from tests.conftest import Org, assert_problem, create_place, incident_body, make_org, own_rows


@pytest.fixture()
def fresh_org(database: Any, settings: Any) -> Org:
    return make_org(database, settings)


@pytest.mark.parametrize("path", [
    "/api/incidents", "/api/places", "/api/analysis/hotspots", "/api/analysis/emerging-hotspots",
])
@pytest.mark.parametrize("value", ["9999-12-31", "0001-01-01/..", "../9999-12-31T23:59:59Z"])
def test_datetimes_beyond_the_calendar_are_422_not_500(client, fresh_org, path, value):
    response = client.get(path, params={"datetime": value}, headers=fresh_org.headers("community_safety"))
    assert_problem(response, 422, "datetime")


@pytest.mark.parametrize("value", [0, 1700000000, "1700000000", 1.5])
def test_a_bare_number_is_not_a_timestamp(client, database, fresh_org, value):
    body = incident_body(occurred_from=value)
    response = client.post("/api/incidents", json=body, headers=fresh_org.headers("community_safety"))
    assert_problem(response, 422, "properties.occurred_from")
    assert own_rows(database, "incidents", fresh_org) == 0


@pytest.mark.parametrize("value", [0, 20000, "20000", 1.0])
def test_a_bare_number_is_not_a_date(client, database, fresh_org, value):
    """Date-only fields as timestamps: pydantic would read 0 as 1970-01-01 and "20000" as 2024-10-04."""
    headers = fresh_org.headers("community_safety")
    place = create_place(client, fresh_org)
    assessment = client.post("/api/assessments", json=assessment_body(place["id"], assessed_on=value), headers=headers)
    assert_problem(assessment, 422, "assessed_on")
    intervention = {"type": "Feature", "geometry": None,
                    "properties": {"kind": "detached_youth_work", "starts_on": value, "place_id": place["id"]}}
    assert_problem(client.post("/api/interventions", json=intervention, headers=headers), 422,
                   "properties.starts_on")
    designation = {"place_id": place["id"], "kind": "concern", "level": "medium", "review_by": value}
    assert_problem(client.post("/api/designations", json=designation, headers=headers), 422, "review_by")
    assert own_rows(database, "assessments", fresh_org) == own_rows(database, "interventions", fresh_org) == 0
    assert own_rows(database, "designations", fresh_org) == 0


def test_dates_beyond_the_calendar_are_422(client, fresh_org):
    place = create_place(client, fresh_org)
    body = assessment_body(place["id"], assessed_on="0001-01-01")
    response = client.post("/api/assessments", json=body, headers=fresh_org.headers("community_safety"))
    assert_problem(response, 422, "assessed_on")


def test_partner_incident_rows_in_the_future_are_rejected_with_their_line(client, database, fresh_org, settings):
    soon = (datetime.now(UTC) + timedelta(minutes=settings.future_tolerance_minutes // 2)).isoformat()
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    body = (b"occurred_from,occurred_to,harm_category,longitude,latitude\n"
            + f"2026-05-01T16:00:00Z,,drugs,-0.417,51.879\n"
              f"{soon},,drugs,-0.417,51.879\n"
              f"2206-05-01T16:00:00Z,,drugs,-0.417,51.879\n"
              f"2026-05-01T16:00:00Z,{tomorrow},drugs,-0.417,51.879\n".encode())
    refused = partner_upload(client, fresh_org, "future.csv", body, "incidents")
    problem = assert_problem(refused, 422)
    assert [(e["line"], e["message"].split(":")[0]) for e in problem["errors"]] == [(4, "occurred_from"),
                                                                                      (5, "occurred_to")]
    assert all("in the future" in e["message"] for e in problem["errors"]), problem
    assert own_rows(database, "incidents", fresh_org) == 0


def test_a_police_uk_month_within_the_tolerance_is_the_same_rule(client, fresh_org):
    """police.uk uses the write use case's rule: a month is refused only when it starts beyond the tolerance."""
    from geo.calendar import too_far_ahead
    from geo.policeuk import month_window

    this_month = datetime.now(UTC).strftime("%Y-%m")
    assert not too_far_ahead(month_window(this_month)[0])
    response = upload(client, fresh_org, ("now.csv", csv_of(row("abc", month=this_month))))
    assert response.status_code == 200, response.text


def test_incidents_in_the_future_beyond_the_tolerance_are_refused(client, database, fresh_org, settings):
    headers = fresh_org.headers("community_safety")
    far = client.post("/api/incidents", json=incident_body(occurred_from="2206-05-01T16:00:00Z"), headers=headers)
    assert_problem(far, 422, "properties.occurred_from")
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    assert_problem(client.post("/api/incidents", json=incident_body(occurred_from=tomorrow), headers=headers),
                   422, "properties.occurred_from")
    assert own_rows(database, "incidents", fresh_org) == 0
    # Within the tolerance (clock skew) is accepted.
    soon = (datetime.now(UTC) + timedelta(minutes=settings.future_tolerance_minutes // 2)).isoformat()
    ok = client.post("/api/incidents", json=incident_body(occurred_from=soon), headers=headers)
    assert ok.status_code == 201, ok.text
    # A patch cannot move it into the future either.
    patched = client.patch(ok.headers["Location"], headers=headers,
                           json={"type": "Feature", "geometry": None,
                                 "properties": {"occurred_to": "2206-05-01T16:00:00Z"}})
    assert_problem(patched, 422, "properties.occurred_to")


def test_a_police_uk_file_with_a_nul_byte_is_a_row_error(client, database, fresh_org):
    response = upload(client, fresh_org, ("nul.csv", csv_of(row("abc"), row("de\x00f", crime_type="Drugs"))))
    body = assert_problem(response, 422)
    assert "line 3" in body["detail"], body
    assert own_rows(database, "incidents", fresh_org) == 0


def test_a_police_uk_field_over_128_kb_is_a_row_error(client, database, fresh_org):
    huge = '"' + "x" * 200_000 + '"'
    response = upload(client, fresh_org, ("huge.csv", csv_of(row("abc"), row(location=huge))))
    body = assert_problem(response, 422)
    assert "line 3" in body["detail"], body
    assert own_rows(database, "incidents", fresh_org) == 0


def test_a_police_uk_month_in_the_future_is_a_row_error(client, database, fresh_org):
    response = upload(client, fresh_org, ("future.csv", csv_of(row("abc", month="2206-05"))))
    body = assert_problem(response, 422)
    assert "line 2" in body["detail"] and "future" in body["detail"], body


def test_a_geopackage_layer_without_geometry_is_422_naming_the_field(client, database, fresh_org, tmp_path: Path):
    import pandas as pd
    import pyogrio

    path = tmp_path / "no_geometry.gpkg"
    pyogrio.write_dataframe(pd.DataFrame({"Site": ["Central Library"], "Type": ["library"]}), path, driver="GPKG")
    response = partner_upload(client, fresh_org, "places.gpkg", path.read_bytes(), "places",
                              mapping='{"name": "Site", "kind": "Type"}')
    body = assert_problem(response, 422)
    assert body["field"] in ("file", "geometry", "location"), body
    assert own_rows(database, "places", fresh_org) == 0
    assert PARTNER_URL  # the same endpoint the partner tests use
