"""One incident filter, one time rule (issue 12, item 1): the same ``datetime=`` sent to every endpoint that
filters incidents selects the same incidents — an instant, a bare date, an interval with its end exclusive."""

from __future__ import annotations

from typing import Any

import mapbox_vector_tile
import pytest

from tests.api.test_disclosure_helpers import tile_of
from tests.conftest import make_org, unique

LON, LAT = -0.4170, 51.8790
AT = "2026-05-01T16:00:00Z"
AREA = "POLYGON((-0.435 51.868, -0.399 51.868, -0.399 51.890, -0.435 51.890, -0.435 51.868))"


@pytest.fixture(scope="module")
def org(client: Any, database: Any, settings: Any) -> Any:
    org = make_org(database, settings, unique("time-rule-"), AREA)
    headers = org.headers("community_safety")
    place = client.post("/api/places", headers=headers, json={
        "type": "Feature", "geometry": {"type": "Point", "coordinates": [LON, LAT]},
        "properties": {"name": "Bus station", "kind": "transport_hub"}})
    assert place.status_code == 201, place.text
    for when in (AT, "2026-05-01T17:00:00Z", "2026-05-02T09:00:00Z"):
        made = client.post("/api/incidents", headers=headers, json={
            "type": "Feature", "geometry": {"type": "Point", "coordinates": [LON, LAT]},
            "properties": {"occurred_from": when, "harm_category": "drugs"}})
        assert made.status_code == 201, made.text
    return org


def _counts(client: Any, org: Any, value: str) -> dict[str, int]:
    headers = org.headers("community_safety")
    params = {"datetime": value}
    listed = client.get("/api/incidents", params={**params, "limit": 100}, headers=headers).json()
    ogc = client.get("/ogc/collections/incidents/items", params={**params, "limit": 100}, headers=headers).json()
    cells = client.get("/ogc/collections/hotspot-cells/items", params=params, headers=headers).json()
    exported = client.get("/api/exports/incident-cells", params=params, headers=headers).json()
    z, x, y = tile_of(LON, LAT, 15)
    tile = mapbox_vector_tile.decode(client.get(f"/api/tiles/incidents/{z}/{x}/{y}.mvt", params=params,
                                                headers=headers).content)
    cell_tile = mapbox_vector_tile.decode(client.get(f"/api/tiles/hotspot-cells/{z}/{x}/{y}.mvt", params=params,
                                                     headers=headers).content)
    return {
        "api/incidents": len(listed["features"]),
        "ogc incidents": ogc["numberMatched"],
        "ogc hotspot-cells": sum(f["properties"]["incidents"] for f in cells["features"]),
        "exports incident-cells": sum(f["properties"]["incidents"] for f in exported["features"]),
        "tiles incidents": len(tile.get("incidents", {}).get("features", [])),
        "tiles hotspot-cells": sum(f["properties"]["incidents"]
                                   for f in cell_tile.get("hotspot-cells", {}).get("features", [])),
    }


@pytest.mark.parametrize(("value", "expected"), [
    (AT, 1),                                                   # an instant: the incidents at that instant
    ("2026-05-01", 2),                                         # a bare date: that (UTC) day
    ("2026-05-01T16:00:00Z/2026-05-01T17:00:00Z", 1),          # the end is exclusive
    ("2026-05-01T16:00:00Z/..", 3),
    ("../2026-05-02T09:00:00Z", 2),
])
def test_every_endpoint_reads_datetime_the_same_way(client: Any, org: Any, value: str, expected: int) -> None:
    counts = _counts(client, org, value)
    assert counts == dict.fromkeys(counts, expected)
