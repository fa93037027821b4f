"""Vector tiles: decoded with mapbox-vector-tile; panel rules; disclosure; bad z/x/y."""

from __future__ import annotations

import math
from typing import Any

import mapbox_vector_tile
import pytest
from sqlalchemy import text

from geo.policeuk import HEADER
from tests.conftest import Org, make_org

HOT = (-0.4100, 51.8770)
LONE = (-0.4250, 51.8830)


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


@pytest.fixture(scope="module")
def town(client: Any, database: Any, settings: Any) -> Org:
    org = make_org(database, settings)
    rows = [",".join([f"h{k}", "2024-03", "F", "F", str(HOT[0]), str(HOT[1]), "X", "E", "L", "Drugs", "", ""])
            for k in range(12)]
    rows += [",".join([f"l{k}", "2024-05", "F", "F", str(LONE[0]), str(LONE[1]), "X", "E", "L", "Robbery", "", ""])
             for k in range(3)]
    body = "\n".join([",".join(HEADER), *rows]) + "\n"
    response = client.post("/api/imports/police-uk", files=[("files", ("t.csv", body.encode(), "text/csv"))],
                           headers=org.headers("admin"))
    assert response.json()["imported"] == 15
    return org


def get_tile(client: Any, org: Org, role: str, layer: str, z: int, lon: float = HOT[0], lat: float = HOT[1],
             **params: Any) -> Any:
    x, y = tile_of(lon, lat, z)
    return client.get(f"/api/tiles/{layer}/{z}/{x}/{y}.mvt", params=params, headers=org.headers(role))


def test_incident_tile_decodes_to_points_with_properties(client, town):
    response = get_tile(client, town, "community_safety", "incidents", 15)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    layer = mapbox_vector_tile.decode(response.content)["incidents"]
    assert len(layer["features"]) == 12
    feature = layer["features"][0]
    assert feature["geometry"]["type"] == "Point"
    assert feature["properties"]["harm_category"] == "drugs"
    assert feature["properties"]["occurred_from"].startswith("2024-03-01")
    march_only = get_tile(client, town, "admin", "incidents", 15, datetime="2024-05-01T00:00:00Z/..")
    assert march_only.content == b""  # nothing at HOT after April


def test_cell_tile_counts_whole_cells_and_is_disclosed_for_the_panel(client, town):
    staff = mapbox_vector_tile.decode(get_tile(client, town, "admin", "hotspot-cells", 13).content)
    counts = sorted(f["properties"]["incidents"] for f in staff["hotspot-cells"]["features"])
    assert counts == [3, 12]
    assert {f["geometry"]["type"] for f in staff["hotspot-cells"]["features"]} == {"Polygon"}
    panel = mapbox_vector_tile.decode(get_tile(client, town, "panel", "hotspot-cells", 13).content)
    assert [f["properties"]["incidents"] for f in panel["hotspot-cells"]["features"]] == [10]


def test_the_panel_gets_no_incident_tiles(client, town, database):
    assert get_tile(client, town, "panel", "incidents", 15).status_code == 403
    get_tile(client, town, "youth_worker", "incidents", 15)
    with database.owner_session() as session:
        audited = session.execute(text("SELECT count(*) FROM audit_events WHERE organisation_id = :o "
                                       "AND action = 'incident.tile'"), {"o": town.id}).scalar_one()
    assert audited >= 1


def test_empty_and_low_zoom_tiles_are_empty(client, town):
    assert get_tile(client, town, "admin", "hotspot-cells", 5).content == b""
    nowhere = client.get("/api/tiles/incidents/15/0/0.mvt", headers=town.headers("admin"))
    assert nowhere.status_code == 200 and nowhere.content == b""


@pytest.mark.parametrize(("path", "field"), [
    ("/api/tiles/incidents/23/0/0.mvt", "z"),
    ("/api/tiles/incidents/3/8/0.mvt", "x"),
    ("/api/tiles/incidents/3/0/8.mvt", "y"),
    ("/api/tiles/incidents/3/-1/0.mvt", "x"),
    ("/api/tiles/incidents/3/0/abc.mvt", "y"),
    ("/api/tiles/people/3/0/0.mvt", "layer"),
])
def test_bad_tile_coordinates_name_the_field(client, town, path, field):
    response = client.get(path, headers=town.headers("admin"))
    assert response.status_code == 422
    assert response.json()["field"] == field
