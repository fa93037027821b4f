"""Exports: GeoJSON, CSV and GeoPackage of the lists a role may read; disclosure control; audit."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
from sqlalchemy import text

from geo.policeuk import HEADER
from tests.conftest import Org, create_place, make_org

OUTLET = (-0.4140, 51.8800)
LIBRARY = (-0.4170, 51.8790)


def _crimes(n: int, lon: float, lat: float, prefix: str, crime_type: str = "Drugs") -> list[str]:
    return [",".join([f"{prefix}{k}", "2024-03", "F", "F", str(lon), str(lat), "On or near X", "E01", "L",
                      crime_type, "", ""]) for k in range(n)]


@pytest.fixture(scope="module")
def town(client: Any, database: Any, settings: Any) -> dict[str, Any]:
    org = make_org(database, settings)
    outlet = create_place(client, org, name="Chicken outlet", kind="fast_food", notes="Manager cooperative",
                          geometry={"type": "Point", "coordinates": list(OUTLET)})
    library = create_place(client, org, name="Library", kind="library", notes="Older men seen approaching",
                           geometry={"type": "Point", "coordinates": list(LIBRARY)})
    admin = org.headers("admin")
    response = client.post("/api/designations", headers=admin, json={
        "place_id": library["id"], "kind": "safe_space", "valid_from": "2024-01-01T00:00:00Z"})
    assert response.status_code == 201
    body = "\n".join([",".join(HEADER), *_crimes(13, OUTLET[0], OUTLET[1], "o"),
                      *_crimes(3, -0.4300, 51.8850, "w", "Possession of weapons")]) + "\n"
    upload = client.post("/api/imports/police-uk", files=[("files", ("e.csv", body.encode(), "text/csv"))],
                         headers=admin)
    assert upload.json()["imported"] == 16, upload.text
    return {"org": org, "outlet": outlet, "library": library}


def test_places_export_in_three_formats(client, town, tmp_path: Path):
    headers = town["org"].headers("community_safety")
    geojson = client.get("/api/exports/places", headers=headers)
    assert geojson.status_code == 200
    assert geojson.headers["content-type"].startswith("application/geo+json")
    assert "attachment" in geojson.headers["content-disposition"]
    names = {f["properties"]["name"]: f for f in geojson.json()["features"]}
    assert names["Library"]["properties"]["notes"] == "Older men seen approaching"

    table = client.get("/api/exports/places", params={"format": "csv", "kind": "library"}, headers=headers)
    assert table.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(table.content.decode("utf-8-sig"))))
    assert [r["name"] for r in rows] == ["Library"]
    assert (float(rows[0]["longitude"]), float(rows[0]["latitude"])) == LIBRARY
    assert rows[0]["geometry_wkt"].startswith("POINT")

    package = client.get("/api/exports/safe-spaces", params={"format": "gpkg"}, headers=headers)
    assert package.headers["content-type"] == "application/geopackage+sqlite3"
    path = tmp_path / "safe.gpkg"
    path.write_bytes(package.content)
    frame = gpd.read_file(path)
    assert list(frame["name"]) == ["Library"] and frame.crs.to_epsg() == 4326


def test_panel_and_shareable_exports_drop_free_text(client, town):
    for headers, params in ((town["org"].headers("panel"), {}),
                            (town["org"].headers("community_safety"), {"shareable": "true"})):
        features = client.get("/api/exports/places", params=params, headers=headers).json()["features"]
        assert features and all(f["properties"].get(k) is None for f in features
                                for k in ("notes", "address", "place_manager"))


def test_incidents_export_individual_records_with_filters_and_audit(client, town, database):
    org: Org = town["org"]
    response = client.get("/api/exports/incidents", params={"format": "csv", "harm_category": "weapon_carrying"},
                          headers=org.headers("youth_worker"))
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == 3 and {r["source_category"] for r in rows} == {"Possession of weapons"}
    with database.owner_session() as session:
        audit = session.execute(text(
            "SELECT resource, detail FROM audit_events WHERE organisation_id = :o AND action = 'export' "
            "ORDER BY id DESC LIMIT 1"), {"o": org.id}).one()
    assert audit.resource == "incidents"
    assert (audit.detail["format"], audit.detail["count"]) == ("csv", 3)


def test_the_panel_may_not_export_incidents_but_gets_disclosed_aggregates(client, town):
    headers = town["org"].headers("panel")
    assert client.get("/api/exports/incidents", headers=headers).status_code == 403
    cells = client.get("/api/exports/incident-cells", headers=headers).json()["features"]
    assert [f["properties"]["incidents"] for f in cells] == [15]  # 13 rounded to 15; the cell of 3 suppressed
    assert all(f["geometry"]["type"] == "Polygon" for f in cells)
    counts = client.get("/api/exports/incident-counts", headers=headers).json()["features"]
    by_name = {f["properties"]["name"]: f["properties"]["incidents"] for f in counts}
    assert by_name == {"Chicken outlet": 15, "Library": 0}


def test_shareable_incident_export_is_cells_never_points(client, town):
    headers = town["org"].headers("admin")
    shared = client.get("/api/exports/incidents", params={"shareable": "true"}, headers=headers).json()
    assert shared["name"] == "incident-cells"
    assert {f["geometry"]["type"] for f in shared["features"]} == {"Polygon"}
    assert [f["properties"]["incidents"] for f in shared["features"]] == [15]
    raw = client.get("/api/exports/incident-cells", headers=headers).json()["features"]
    assert sorted(f["properties"]["incidents"] for f in raw) == [3, 13]
    counts = client.get("/api/exports/incident-counts", headers=headers).json()["features"]
    assert {f["properties"]["name"]: f["properties"]["incidents"] for f in counts} == {"Chicken outlet": 13,
                                                                                       "Library": 0}


def test_unknown_filters_and_formats_name_the_field(client, town):
    headers = town["org"].headers("admin")
    assert client.get("/api/exports/places", params={"role": "staff"}, headers=headers).json()["field"] == "role"
    assert client.get("/api/exports/places", params={"format": "shp"}, headers=headers).json()["field"] == "format"
    assert client.get("/api/exports/people", headers=headers).status_code == 422
    assert client.get("/api/exports/places", params={"bbox": "x"}, headers=headers).json()["field"] == "bbox"


def test_exports_do_not_cross_organisations(client, town, database, settings):
    stranger = make_org(database, settings)
    create_place(client, stranger, name="Their place")
    names = {f["properties"]["name"] for f in
             client.get("/api/exports/places", headers=town["org"].headers("admin")).json()["features"]}
    assert "Their place" not in names
