"""Coverage gaps: where harm is recorded but no safe space is open within a walk, on the demo data."""

from __future__ import annotations

import math
from typing import Any

import pytest
from pyproj import Transformer
from shapely.geometry import Point, shape

from tests.api.test_safe_spaces import WEDNESDAY_1630, lonlat, safe_space
from tests.conftest import Org, incident_body, make_org, point, unique

SUNDAY_0300 = "2026-06-21T03:00:00+01:00"
ALL_TIME = "2024-01-01T00:00:00Z/2027-01-01T00:00:00Z"
_to_bng = Transformer.from_crs(4326, 27700, always_xy=True)


def coverage(client: Any, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    response = client.get("/api/analysis/coverage", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def _demo_xy(client: Any, headers: dict[str, str], name: str) -> tuple[float, float]:
    places = client.get("/api/places", params={"limit": 1000}, headers=headers).json()["features"]
    lon, lat = next(p for p in places if p["properties"]["name"] == name)["geometry"]["coordinates"]
    return _to_bng.transform(lon, lat)


def test_demo_gaps_are_ranked_by_harm_and_exclude_cells_near_the_open_library(
    client: Any, demo_headers: dict[str, dict[str, str]],
) -> None:
    headers = demo_headers["community_safety"]
    answer = coverage(client, headers, at=WEDNESDAY_1630, datetime=ALL_TIME)
    assert answer["gap_cells"] > 0 and answer["gap_cells"] < answer["harm_cells"]
    counts = [f["properties"]["harm_count"] for f in answer["features"]]
    assert counts == sorted(counts, reverse=True)
    assert [f["properties"]["rank"] for f in answer["features"]] == list(range(1, len(counts) + 1))
    threshold = 15 * 80
    for feature in answer["features"]:
        props = feature["properties"]
        assert props["nearest_open_walk_m"] > threshold and props["nearest_open_walk_minutes"] > 15
    # The library (open, a safe space since June) covers its own cell; the outlet's cell is covered too.
    for name in ("Wellgate Central Library", "Chicken Shack Express"):
        x, y = _demo_xy(client, headers, name)
        cell_id = f"250m:{math.floor(x / 250)}:{math.floor(y / 250)}"
        assert cell_id not in {f["id"] for f in answer["features"]}
    # The demo ships its town's street grid (geo.demo.demo_streets): walks are along streets.
    assert answer["distance_method"] == "network"


def test_in_the_small_hours_every_harm_cell_is_a_gap(client: Any, demo_headers: dict[str, dict[str, str]]) -> None:
    answer = coverage(client, demo_headers["community_safety"], at=SUNDAY_0300, datetime=ALL_TIME, limit=5000)
    assert answer["gap_cells"] == answer["harm_cells"] == answer["numberReturned"]
    assert all(f["properties"]["nearest_open_walk_m"] is None for f in answer["features"])


def test_the_panel_gets_disclosure_controlled_counts(client: Any, demo_headers: dict[str, dict[str, str]]) -> None:
    full = coverage(client, demo_headers["community_safety"], at=SUNDAY_0300, datetime=ALL_TIME, limit=5000)
    panel = coverage(client, demo_headers["panel"], at=SUNDAY_0300, datetime=ALL_TIME, limit=5000)
    assert panel["disclosure_controlled"] is True and full["disclosure_controlled"] is False
    shown = [f["properties"]["harm_count"] for f in panel["features"]]
    assert all(c is None or (c >= 10 and c % 5 == 0) for c in shown)
    assert None in shown  # the demo has small cells, and they are suppressed
    raw = {f["id"]: f["properties"]["harm_count"] for f in full["features"]}
    assert all(raw[f["id"]] <= 7 for f in panel["features"] if f["properties"]["harm_count"] is None)
    assert [c for c in shown if c is not None] == sorted((c for c in shown if c is not None), reverse=True)


def test_a_weekly_pattern_reports_uncovered_hours(client: Any, demo_headers: dict[str, dict[str, str]]) -> None:
    headers = demo_headers["youth_worker"]
    answer = coverage(client, headers, at="2026-06-15T00:00:00+01:00", when="Mo-Fr 15:00-19:00",
                      datetime=ALL_TIME, limit=5000)
    assert answer["when"] == "Mo-Fr 15:00-19:00"
    for feature in answer["features"]:
        props = feature["properties"]
        assert 0 < props["uncovered_hours"] <= 20 and props["uncovered_share"] == pytest.approx(
            props["uncovered_hours"] / 20, abs=0.001)
    at_once = coverage(client, headers, at=WEDNESDAY_1630, datetime=ALL_TIME, limit=5000)
    # A cell uncovered at one moment of the pattern is uncovered somewhere in the pattern.
    assert {f["id"] for f in at_once["features"]} <= {f["id"] for f in answer["features"]}


def test_coverage_on_a_synthetic_town(client: Any, database: Any, settings: Any) -> None:
    town: Org = make_org(database, settings, unique("cover-"))
    safe_space(client, town, 0, 0, "Mo-Fr 09:00-17:00")
    for dx, harms in ((100, 3), (3000, 9), (5000, 2)):
        for _ in range(harms):
            body = incident_body(geometry=point(*lonlat(dx, 0)), occurred_from="2026-06-01T12:00:00Z")
            assert client.post("/api/incidents", json=body, headers=town.headers("community_safety")).status_code == 201
    answer = coverage(client, town.headers("community_safety"), at=WEDNESDAY_1630, datetime=ALL_TIME)
    assert [f["properties"]["harm_count"] for f in answer["features"]] == [9, 2]
    centre = shape(answer["features"][0]["geometry"]).centroid
    assert centre.distance(Point(lonlat(3000, 0))) < 0.004  # the 3 km cell (250 m cells, in degrees)
    open_then = coverage(client, town.headers("community_safety"), at="2026-06-17T12:00:00+01:00",
                         datetime=ALL_TIME, minutes=60)
    assert [f["properties"]["harm_count"] for f in open_then["features"]] == [2]  # 3 km is a 49-minute walk
    panel = coverage(client, town.headers("panel"), at=WEDNESDAY_1630, datetime=ALL_TIME)
    assert [f["properties"]["harm_count"] for f in panel["features"]] == [10, None]


@pytest.mark.parametrize(("params", "field"), [
    ({"when": "Mo-Fx 15:00-19:00"}, "when"),
    ({"at": "yesterday"}, "at"),
    ({"minutes": 0}, "minutes"),
    ({"cell_size": 10}, "cell_size"),
    ({"harm_category": "shoplifting"}, "harm_category"),
    ({"datetime": "2026-06-01T00:00:00Z/2026-01-01T00:00:00Z"}, "datetime"),
])
def test_bad_coverage_requests_are_refused_naming_the_field(
    client: Any, org: Org, params: dict[str, Any], field: str,
) -> None:
    response = client.get("/api/analysis/coverage", params=params, headers=org.headers("panel"))
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == field
