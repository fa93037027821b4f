"""Bad input: a clear 4xx problem naming the field at fault, and nothing written (DESIGN.md, Quality bar)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import create_place, incident_body, make_org, own_rows, place_body, point, unique

_spots = itertools.count()


def spot() -> tuple[float, float]:
    """A fresh location (about 1.4 km from any other this module uses), inside England and Wales."""
    i = next(_spots)
    return round(-2.95 + (i % 40) * 0.02, 6), round(51.65 + (i // 40) * 0.02, 6)


def assert_problem(response: Any, status: int, field: str | None = None, *, prefix: bool = False) -> dict[str, Any]:
    """A problem+json response of ``status`` whose ``field`` (or one of its ``errors``) names ``field``."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status
    assert "Traceback" not in response.text and "SELECT" not in response.text
    if field is not None:
        named = [body.get("field"), *(e.get("field") for e in body.get("errors", []))]
        if prefix:
            assert any(n == field or str(n).startswith(field + ".") for n in named), body
        else:
            assert field in named, body
    return body


@pytest.fixture
def lenient(app: Any) -> TestClient:
    """A client that reports server errors as responses (to show a 500 as a status, not a traceback)."""
    return TestClient(app, raise_server_exceptions=False)


@pytest.fixture(scope="module")
def place_id(client: TestClient, org: Any) -> int:
    return int(create_place(client, org, geometry=point(*spot()))["id"])


def intervention_body(place_id: int | None = None, geometry: dict[str, Any] | None = None,
                      **props: Any) -> dict[str, Any]:
    properties = {"place_id": place_id, "kind": "outreach", "description": "Detached youth work",
                  "owning_partner": "Youth service", "starts_on": "2026-01-05", **props}
    return {"type": "Feature", "geometry": geometry, "properties": properties}


def designation_body(place_id: int, **extra: Any) -> dict[str, Any]:
    return {"place_id": place_id, "kind": "safe_space", "valid_from": "2026-01-01T00:00:00Z", **extra}


def guardian_body(place_id: int, **extra: Any) -> dict[str, Any]:
    return {"place_id": place_id, "role": "staff", **extra}


# ---- geometry -----------------------------------------------------------------------------------------
LUTON = (-0.417, 51.879)
BOWTIE = {"type": "Polygon", "coordinates": [[[-0.42, 51.87], [-0.41, 51.88], [-0.41, 51.87], [-0.42, 51.88],
                                              [-0.42, 51.87]]]}
BAD_GEOMETRIES = {
    "self-intersecting polygon": BOWTIE,
    "empty point": {"type": "Point", "coordinates": []},
    "empty polygon": {"type": "Polygon", "coordinates": []},
    "polygon with an empty ring": {"type": "Polygon", "coordinates": [[]]},
    "longitude 200": point(200.0, 51.879),
    "latitude 95": point(-0.417, 95.0),
    "in France": point(2.3522, 48.8566),
    "latitude and longitude swapped": point(51.88, -0.41),
    "a collection": {"type": "GeometryCollection",
                     "geometries": [point(*LUTON), {"type": "LineString", "coordinates": [LUTON, [-0.416, 51.879]]}]},
}
GEOMETRY_ENDPOINTS: dict[str, tuple[str, str, Callable[[dict[str, Any]], dict[str, Any]]]] = {
    "place": ("/api/places", "places", lambda g: place_body(geometry=g)),
    "incident": ("/api/incidents", "incidents", lambda g: incident_body(geometry=g)),
    "intervention": ("/api/interventions", "interventions", lambda g: intervention_body(geometry=g)),
}


@pytest.mark.parametrize("geometry_name", list(BAD_GEOMETRIES))
@pytest.mark.parametrize("resource", list(GEOMETRY_ENDPOINTS))
def test_bad_geometry_is_refused_and_nothing_written(client, org, database, resource, geometry_name):
    path, table, body_of = GEOMETRY_ENDPOINTS[resource]
    before = own_rows(database, table, org)
    response = client.post(path, json=body_of(BAD_GEOMETRIES[geometry_name]), headers=org.headers("admin"))
    assert_problem(response, 422, "geometry", prefix=True)
    assert own_rows(database, table, org) == before


@pytest.mark.parametrize("where", [(2.3522, 48.8566), (51.88, -0.41)], ids=["France", "swapped"])
def test_outside_the_service_area_says_so(client, org, where):
    response = client.post("/api/places", json=place_body(geometry=point(*where)), headers=org.headers("admin"))
    problem = assert_problem(response, 422, "geometry")
    assert "service area" in problem["detail"]
    assert "swapped" in problem["detail"]


def test_an_organisations_own_service_area_is_enforced(client, database, settings):
    luton = "POLYGON((-0.50 51.84, -0.33 51.84, -0.33 51.93, -0.50 51.93, -0.50 51.84))"
    town = make_org(database, settings, unique("luton-"), service_area_wkt=luton)
    headers = town.headers("community_safety")
    inside = client.post("/api/places", json=place_body(geometry=point(*LUTON)), headers=headers)
    assert inside.status_code == 201, inside.text

    birmingham = point(-1.8904, 52.4862)  # in England, not in this organisation's area
    before = own_rows(database, "places", town)
    assert_problem(client.post("/api/places", json=place_body(geometry=birmingham), headers=headers), 422, "geometry")
    assert_problem(client.post("/api/incidents", json=incident_body(geometry=birmingham), headers=headers), 422,
                   "geometry")
    assert own_rows(database, "places", town) == before

    moved = client.patch(f"/api/places/{inside.json()['id']}", headers=headers,
                         json={"type": "Feature", "geometry": birmingham, "properties": {}})
    assert_problem(moved, 422, "geometry")
    assert client.get(f"/api/places/{inside.json()['id']}", headers=headers).json()["geometry"] == point(*LUTON)


def test_patch_with_bad_geometry_changes_nothing(client, org):
    lon, lat = spot()
    created = create_place(client, org, geometry=point(lon, lat))
    response = client.patch(f"/api/places/{created['id']}", headers=org.headers("admin"),
                            json={"type": "Feature", "geometry": BOWTIE, "properties": {"name": "Renamed"}})
    assert_problem(response, 422, "geometry")
    after = client.get(f"/api/places/{created['id']}", headers=org.headers("admin")).json()
    assert after["geometry"] == point(lon, lat)
    assert after["properties"]["name"] == created["properties"]["name"]


def test_a_place_needs_a_geometry(client, org, database):
    before = own_rows(database, "places", org)
    body = {"type": "Feature", "geometry": None, "properties": {"name": unique("P"), "kind": "park"}}
    assert_problem(client.post("/api/places", json=body, headers=org.headers("admin")), 422, "geometry")
    assert own_rows(database, "places", org) == before


@pytest.mark.parametrize("resource", ["place", "incident"])
def test_a_position_with_altitude_is_accepted_without_it(lenient, org, resource):
    # RFC 7946 allows an altitude; the map is two-dimensional, so it is dropped (once a 500).
    path, _, body_of = GEOMETRY_ENDPOINTS[resource]
    response = lenient.post(path, json=body_of({"type": "Point", "coordinates": [*LUTON, 12.0]}),
                            headers=org.headers("admin"))
    assert response.status_code == 201, response.text
    assert response.json()["geometry"] == point(*LUTON)


# ---- vocabularies -------------------------------------------------------------------------------------
UNKNOWN_VALUES = {
    "place kind": ("/api/places", "places", lambda p: place_body(kind="castle"), "properties.kind"),
    "harm category": ("/api/incidents", "incidents", lambda p: incident_body(harm_category="burglary"),
                      "properties.harm_category"),
    "incident source": ("/api/incidents", "incidents", lambda p: incident_body(source="twitter"),
                        "properties.source"),
    "location precision": ("/api/incidents", "incidents", lambda p: incident_body(location_precision="roughly"),
                           "properties.location_precision"),
    "designation kind": ("/api/designations", "designations", lambda p: designation_body(p, kind="castle"), "kind"),
    "concern level": ("/api/designations", "designations",
                      lambda p: designation_body(p, kind="concern", reason="r", level="extreme"), "level"),
    "guardian role": ("/api/guardians", "guardians", lambda p: guardian_body(p, role="wizard"), "role"),
    "training kind": ("/api/guardians", "guardians",
                      lambda p: guardian_body(p, trainings=[{"kind": "karate", "completed_on": "2026-01-01"}]),
                      "trainings.0.kind"),
    "intervention kind": ("/api/interventions", "interventions", lambda p: intervention_body(p, kind="castle"),
                          "properties.kind"),
}


@pytest.mark.parametrize("case", list(UNKNOWN_VALUES))
def test_unknown_vocabulary_is_refused_naming_the_field(client, org, database, place_id, case):
    path, table, body_of, field = UNKNOWN_VALUES[case]
    before = own_rows(database, table, org)
    problem = assert_problem(client.post(path, json=body_of(place_id), headers=org.headers("admin")), 422, field)
    assert "expected one of" in problem["detail"]
    assert own_rows(database, table, org) == before


def test_patch_with_unknown_kind_changes_nothing(client, org):
    created = create_place(client, org, geometry=point(*spot()), kind="library")
    response = client.patch(f"/api/places/{created['id']}", headers=org.headers("admin"),
                            json={"type": "Feature", "geometry": None, "properties": {"kind": "castle"}})
    assert_problem(response, 422, "properties.kind")
    assert client.get(f"/api/places/{created['id']}", headers=org.headers("admin")).json()[
        "properties"]["kind"] == "library"


# ---- an end before a start ----------------------------------------------------------------------------
END_BEFORE_START = {
    "designation": ("/api/designations", "designations",
                    lambda p: designation_body(p, valid_from="2026-03-01T00:00:00Z", valid_to="2026-02-01T00:00:00Z"),
                    "valid_to"),
    "incident": ("/api/incidents", "incidents",
                 lambda p: incident_body(occurred_from="2026-05-01T16:00:00Z", occurred_to="2026-05-01T15:00:00Z"),
                 "properties.occurred_to"),
    "intervention": ("/api/interventions", "interventions",
                     lambda p: intervention_body(p, starts_on="2026-03-01", ends_on="2026-02-28"),
                     "properties.ends_on"),
}


@pytest.mark.parametrize("resource", list(END_BEFORE_START))
def test_an_end_before_the_start_is_refused_and_nothing_written(client, org, database, place_id, resource):
    path, table, body_of, field = END_BEFORE_START[resource]
    before = own_rows(database, table, org)
    problem = assert_problem(client.post(path, json=body_of(place_id), headers=org.headers("admin")), 422)
    assert field.rpartition(".")[2] in problem["detail"]
    assert own_rows(database, table, org) == before


@pytest.mark.parametrize("resource", list(END_BEFORE_START))
def test_an_end_before_the_start_names_the_end_field(client, org, place_id, resource):
    path, _, body_of, field = END_BEFORE_START[resource]
    assert_problem(client.post(path, json=body_of(place_id), headers=org.headers("admin")), 422, field)


def test_a_designation_ending_as_it_starts_is_refused(client, org, database, place_id):
    before = own_rows(database, "designations", org)
    body = designation_body(place_id, valid_from="2026-04-01T00:00:00Z", valid_to="2026-04-01T00:00:00Z")
    assert_problem(client.post("/api/designations", json=body, headers=org.headers("admin")), 422)
    assert own_rows(database, "designations", org) == before


def test_a_designation_ending_as_it_starts_names_valid_to(client, org, place_id):
    body = designation_body(place_id, valid_from="2026-04-02T00:00:00Z", valid_to="2026-04-02T00:00:00Z")
    assert_problem(client.post("/api/designations", json=body, headers=org.headers("admin")), 422, "valid_to")


# ---- body shape ---------------------------------------------------------------------------------------
EXTRA_PROPERTIES = {
    "place": ("/api/places", "places", lambda p: place_body(colour="red"), "properties.colour"),
    "incident": ("/api/incidents", "incidents", lambda p: incident_body(child_name="Jo"), "properties.child_name"),
    "designation": ("/api/designations", "designations", lambda p: designation_body(p, colour="red"), "colour"),
    "guardian": ("/api/guardians", "guardians", lambda p: guardian_body(p, name="Jane Smith"), "name"),
    "intervention": ("/api/interventions", "interventions", lambda p: intervention_body(p, budget=100),
                     "properties.budget"),
}


@pytest.mark.parametrize("resource", list(EXTRA_PROPERTIES))
def test_unknown_properties_are_refused_and_nothing_written(client, org, database, place_id, resource):
    path, table, body_of, field = EXTRA_PROPERTIES[resource]
    before = own_rows(database, table, org)
    problem = assert_problem(client.post(path, json=body_of(place_id), headers=org.headers("admin")), 422, field)
    assert "not permitted" in problem["detail"]
    assert own_rows(database, table, org) == before


@pytest.mark.parametrize("name", ["", "   ", "x" * 201])
def test_a_place_name_must_be_present_and_short(client, org, database, name):
    before = own_rows(database, "places", org)
    body = {"type": "Feature", "geometry": point(*LUTON), "properties": {"name": name, "kind": "park"}}
    response = client.post("/api/places", json=body, headers=org.headers("admin"))
    assert_problem(response, 422, "properties.name")
    assert own_rows(database, "places", org) == before


@pytest.mark.parametrize("body", ["[]", "null", '"a place"', '{"type": "FeatureCollection", "features": []}'])
def test_a_body_that_is_not_a_feature_is_refused(client, org, database, body):
    before = own_rows(database, "places", org)
    response = client.post("/api/places", content=body,
                           headers={**org.headers("admin"), "content-type": "application/json"})
    assert_problem(response, 422)
    assert own_rows(database, "places", org) == before


def test_malformed_json_names_the_body(client, org):
    response = client.post("/api/places", content="{not json",
                           headers={**org.headers("admin"), "content-type": "application/json"})
    assert_problem(response, 422, "body")


@pytest.mark.parametrize("resource", list(GEOMETRY_ENDPOINTS))
def test_null_properties_are_refused(lenient, org, database, resource):
    path, table, body_of = GEOMETRY_ENDPOINTS[resource]
    body = {**body_of(point(*LUTON)), "properties": None}
    before = own_rows(database, table, org)
    assert_problem(lenient.post(path, json=body, headers=org.headers("admin")), 422, "properties", prefix=True)
    assert own_rows(database, table, org) == before


def test_text_with_a_nul_character_is_refused(lenient, org):
    response = lenient.post("/api/places", json=place_body(name="Library\x00"), headers=org.headers("admin"))
    assert_problem(response, 422, "properties.name")


def test_a_filter_with_a_nul_character_is_refused(lenient, org):
    assert_problem(lenient.get("/api/places?kind=%00", headers=org.headers("admin")), 422, "kind")


# ---- oversized bodies ---------------------------------------------------------------------------------
BIG = "a" * (300 * 1024)  # the test settings allow 256 KiB


@pytest.mark.parametrize("resource", ["place", "incident"])
def test_an_oversized_body_is_refused_and_nothing_written(client, org, database, resource):
    path, table, body_of = GEOMETRY_ENDPOINTS[resource]
    body = body_of(point(*spot()))
    body["properties"]["description" if resource == "incident" else "notes"] = BIG
    before = own_rows(database, table, org)
    assert_problem(client.post(path, json=body, headers=org.headers("admin")), 413, "body")
    assert own_rows(database, table, org) == before


def test_an_oversized_patch_changes_nothing(client, org):
    created = create_place(client, org, geometry=point(*spot()), notes="short")
    response = client.patch(f"/api/places/{created['id']}", headers=org.headers("admin"),
                            json={"type": "Feature", "geometry": None, "properties": {"notes": BIG}})
    assert_problem(response, 413, "body")
    assert client.get(f"/api/places/{created['id']}", headers=org.headers("admin")).json()[
        "properties"]["notes"] == "short"


def test_an_oversized_streamed_body_is_413(lenient, org, database):
    def chunks() -> Iterator[bytes]:
        yield b'{"type": "Feature", "geometry": {"type": "Point", "coordinates": [-0.417, 51.879]}, '
        yield b'"properties": {"name": "Streamed", "kind": "library", "notes": "'
        for _ in range(300):
            yield b"a" * 1024
        yield b'"}}'

    before = own_rows(database, "places", org)
    response = lenient.post("/api/places", content=chunks(),
                            headers={**org.headers("admin"), "content-type": "application/json"})
    assert own_rows(database, "places", org) == before
    assert_problem(response, 413, "body")


# ---- query parameters ---------------------------------------------------------------------------------
LISTS = ["/api/places", "/api/designations", "/api/guardians", "/api/incidents", "/api/interventions"]
TIMED_LISTS = ["/api/places", "/api/designations", "/api/incidents", "/api/interventions"]
BAD_BBOXES = ["1,2,3", "a,b,c,d", "1,2,3,4,5", "-200,50,-1,52", "-1,53,0,52", "nan,50,1,52", "-1,50,1,inf"]
BAD_DATETIMES = ["yesterday", "2026-13-01T00:00:00Z", "2026-05-01T10:00:00", "../..",
                 "2026-06-01T00:00:00Z/2026-05-01T00:00:00Z", "2026-05-01T00:00:00Z/soon"]


@pytest.mark.parametrize("bbox", BAD_BBOXES)
@pytest.mark.parametrize("path", LISTS)
def test_malformed_bbox_is_422_naming_bbox(client, org, path, bbox):
    assert_problem(client.get(path, params={"bbox": bbox}, headers=org.headers("admin")), 422, "bbox")


@pytest.mark.parametrize("value", BAD_DATETIMES)
@pytest.mark.parametrize("path", TIMED_LISTS)
def test_malformed_datetime_is_422_naming_datetime(client, org, path, value):
    assert_problem(client.get(path, params={"datetime": value}, headers=org.headers("admin")), 422, "datetime")


@pytest.mark.parametrize(("query", "field"), [("limit=0", "limit"), ("limit=-5", "limit"), ("limit=ten", "limit"),
                                              ("offset=-1", "offset"), ("place_id=abc", "place_id")])
def test_malformed_paging_and_ids_are_422(client, org, query, field):
    assert_problem(client.get(f"/api/incidents?{query}", headers=org.headers("admin")), 422, field)


# ---- opening hours ------------------------------------------------------------------------------------
MALFORMED_HOURS = [("Mo-Xx 09:00-17:00", 3), ("Mo-Fr 9-17", 7), ("whenever", 0), ("Mo-Fr 09:00", 11),
                   ("Mo-Fr 09:00-17:00; Sa 10:00-1600", 28)]


@pytest.mark.parametrize(("hours", "position"), MALFORMED_HOURS)
def test_malformed_opening_hours_name_the_field_and_the_position(client, org, database, hours, position):
    before = own_rows(database, "places", org)
    response = client.post("/api/places", json=place_body(opening_hours=hours), headers=org.headers("admin"))
    problem = assert_problem(response, 422, "properties.opening_hours")
    assert f"character {position}" in problem["detail"]
    assert own_rows(database, "places", org) == before


def test_patch_with_malformed_opening_hours_changes_nothing(client, org):
    created = create_place(client, org, geometry=point(*spot()), opening_hours="Mo-Fr 09:00-17:00")
    response = client.patch(f"/api/places/{created['id']}", headers=org.headers("admin"),
                            json={"type": "Feature", "geometry": None, "properties": {"opening_hours": "Mo-Fr 9-17"}})
    problem = assert_problem(response, 422, "properties.opening_hours")
    assert "character 7" in problem["detail"]
    assert client.get(f"/api/places/{created['id']}", headers=org.headers("admin")).json()[
        "properties"]["opening_hours"] == "Mo-Fr 09:00-17:00"
