"""A place's outline in the place form (and an intervention's area): drawn on the map (the script fills the
boxes), typed as a list of corners — longitude and latitude, easting and northing, or grid references —, or
pasted as GeoJSON; checked with the deployment's GeometryLimits, each error naming its box, nothing written."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from app.db.session import Database
from app.settings import Settings
from tests.conftest import count_rows, unique

HTML = {"Accept": "text/html"}
SQUARE = "-0.4130, 51.8790\n-0.4110, 51.8790\n-0.4110, 51.8805\n-0.4130, 51.8805"


def _post(client: TestClient, headers: dict[str, str], path: str, data: dict[str, Any]) -> Any:
    return client.post(path, data=data, headers={**headers, **HTML}, follow_redirects=False)


def _place_id(response: Any) -> int:
    assert response.status_code == 303, response.text[:3000]
    return int(response.headers["location"].split("?")[0].rsplit("/", 1)[1])


def _geometry(client: TestClient, headers: dict[str, str], place_id: int) -> dict[str, Any]:
    return dict(client.get(f"/api/places/{place_id}", headers=headers).json()["geometry"])


def test_add_a_place_as_an_outline_typed_as_corners_then_change_it(
    client: TestClient, demo_headers: dict[str, dict[str, str]], database: Database
) -> None:
    headers = demo_headers["youth_worker"]
    before = count_rows(database, "audit_events")
    place_id = _place_id(_post(client, headers, "/places/new", {
        "name": unique("Rec ground "), "kind": "park", "shape": "area", "outline_points": SQUARE}))
    assert count_rows(database, "audit_events") == before + 1
    geometry = _geometry(client, headers, place_id)
    assert geometry["type"] == "Polygon" and len(geometry["coordinates"][0]) == 5  # four corners, closed
    assert geometry["coordinates"][0][0] == geometry["coordinates"][0][-1] == [-0.413, 51.879]

    # The change form offers the outline as its list of corners (the keyboard route) and the map's current one.
    form = client.get(f"/places/{place_id}/edit", headers={**headers, **HTML}).text
    assert "-0.411000, 51.880500" in form and 'value="area" checked' in form.replace("\n", " ")
    assert "data-current=" in form and 'href="#outline_points"' in form  # "skip the map"
    moved = SQUARE.replace("-0.4110, 51.8805", "-0.4105, 51.8810")
    _place_id(_post(client, headers, f"/places/{place_id}/edit", {
        "name": "Rec ground", "kind": "park", "shape": "area", "outline_points": moved}))
    assert [-0.4105, 51.881] in _geometry(client, headers, place_id)["coordinates"][0]
    # Emptied boxes keep the outline; a point replaces it when chosen.
    _place_id(_post(client, headers, f"/places/{place_id}/edit", {"name": "Rec ground", "kind": "park",
                                                                  "shape": "area"}))
    assert _geometry(client, headers, place_id)["type"] == "Polygon"
    _place_id(_post(client, headers, f"/places/{place_id}/edit", {
        "name": "Rec ground", "kind": "park", "shape": "point", "lon": "-0.4120", "lat": "51.8797"}))
    assert _geometry(client, headers, place_id) == {"type": "Point", "coordinates": [-0.412, 51.8797]}


def test_an_outline_from_grid_references_or_eastings_or_geojson(
    client: TestClient, demo_headers: dict[str, dict[str, str]]
) -> None:
    headers = demo_headers["community_safety"]
    grid = _place_id(_post(client, headers, "/places/new", {
        "name": unique("Estate "), "kind": "park", "shape": "area",
        "outline_points": "TL 0920 2140\nTL 0930 2140\nTL 0930 2150\nTL 0920 2150\nTL 0920 2140"}))
    assert len(_geometry(client, headers, grid)["coordinates"][0]) == 5  # the typed closing corner is not doubled
    metres = _place_id(_post(client, headers, "/places/new", {
        "name": unique("Car park "), "kind": "park", "shape": "area",
        "outline_points": "509200, 221400\n509300, 221400\n509300, 221500"}))
    assert len(_geometry(client, headers, metres)["coordinates"][0]) == 4
    pasted = _place_id(_post(client, headers, "/places/new", {
        "name": unique("Pasted "), "kind": "park", "shape": "area",
        "outline": '{"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": '
                   '[[[-0.414, 51.879], [-0.411, 51.879], [-0.411, 51.881], [-0.414, 51.879]]]}}'}))
    assert _geometry(client, headers, pasted)["type"] == "Polygon"


def test_a_wrong_outline_names_its_box_and_writes_nothing(
    client: TestClient, demo_headers: dict[str, dict[str, str]], database: Database, settings: Settings
) -> None:
    headers = demo_headers["community_safety"]
    before = count_rows(database, "places"), count_rows(database, "audit_events")
    base = {"name": "Somewhere", "kind": "park", "shape": "area"}
    cases = [
        ({}, "outline_points", "Draw the outline on the map, type its corners, or paste it as GeoJSON"),
        ({"outline_points": "-0.41, 51.88\n-0.40, 51.88"}, "outline_points", "at least three different points"),
        ({"outline_points": "-0.41, 51.88\n51.88, -0.40\n-0.40, 51.89"}, "outline_points",
         "Line 2: 51.88, -0.40 looks like latitude then longitude"),
        ({"outline_points": "-0.41, 51.88\nsomewhere\n-0.40, 51.89"}, "outline_points", "Line 2:"),
        ({"outline_points": "-0.41, 51.88\n-0.40, 51.89\n-0.40, 51.88\n-0.41, 51.89"}, "outline_points",
         "crosses itself"),
        ({"outline": '{"type": "LineString", "coordinates": [[-0.41, 51.88], [-0.42, 51.88]]}'}, "outline",
         "The area must be a polygon"),
        ({"outline": "not json"}, "outline", "The area must be GeoJSON"),
        ({"outline_points": "0.1, 40.0\n0.2, 40.0\n0.2, 40.1"}, "outline_points", "outside"),
    ]
    limit = settings.geometry_limits.max_vertices
    many = "\n".join(f"{-0.42 + i * 1e-6:.6f}, {51.88 + (i % 2) * 1e-4:.6f}" for i in range(limit + 5))
    cases.append(({"outline_points": many}, "outline_points", f"at most {limit - 1} are accepted"))
    for extra, field, message in cases:
        response = _post(client, headers, "/places/new", {**base, **extra})
        assert response.status_code == 422, (extra, response.text[:500])
        assert f'href="#{field}"' in response.text, (extra, field)
        assert message in response.text, (extra, message)
    assert (count_rows(database, "places"), count_rows(database, "audit_events")) == before


def test_an_intervention_area_typed_as_corners(
    client: TestClient, demo_headers: dict[str, dict[str, str]]
) -> None:
    headers = demo_headers["community_safety"]
    data = {"kind": "outreach", "title": unique("Estate walk "), "shareable_summary": "Detached youth work",
            "description": "Two workers", "owning_partner": "Youth service", "starts_on-day": "1",
            "starts_on-month": "9", "starts_on-year": "2026", "location": "area", "area_points": SQUARE}
    created = _post(client, headers, "/interventions/new", data)
    assert created.status_code == 303, created.text[:3000]
    intervention = created.headers["location"].split("?")[0].rsplit("/", 1)[1]
    geometry = client.get(f"/api/interventions/{intervention}", headers=headers).json()["geometry"]
    assert geometry["type"] == "Polygon" and len(geometry["coordinates"][0]) == 5
    wrong = _post(client, headers, "/interventions/new", {**data, "area_points": "TL 09"})
    assert wrong.status_code == 422 and 'href="#area_points"' in wrong.text
