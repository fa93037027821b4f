"""The place page lists interventions at the place and *around* it (within 400 m, with the distance), each
linking to its findings and displacement analysis; a panel sees their titles, never their descriptions."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from app.db.session import Database
from app.settings import Settings
from tests.conftest import create_place, make_org, unique

HTML = {"Accept": "text/html"}
LON, LAT = -0.4101, 51.8802
METRE_LON = 1 / 68_800  # degrees of longitude per metre at 51.88° N (about)
METRE_LAT = 1 / 111_250


def _point(east_m: float = 0, north_m: float = 0) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [LON + east_m * METRE_LON, LAT + north_m * METRE_LAT]}


def _square(east_m: float, north_m: float, side_m: float) -> dict[str, Any]:
    x0, y0 = LON + east_m * METRE_LON, LAT + north_m * METRE_LAT
    x1, y1 = x0 + side_m * METRE_LON, y0 + side_m * METRE_LAT
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


def _intervention(client: TestClient, org: Any, title: str, place_id: int | None = None,
                  geometry: dict[str, Any] | None = None) -> int:
    body = {"type": "Feature", "geometry": geometry, "properties": {
        "place_id": place_id, "kind": "youth_provision", "title": title, "shareable_summary": "A summary",
        "description": f"Secret plan for {title}", "owning_partner": "Youth service", "starts_on": "2025-09-01"}}
    response = client.post("/api/interventions", json=body, headers=org.headers("community_safety"))
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def _items(html: str, marker: str) -> str:
    found = re.search(rf"<ul[^>]*{marker}[^>]*>(.*?)</ul>", html, re.S)
    return found.group(1) if found else ""


def test_interventions_around_a_place_with_their_distance_and_links(
    client: TestClient, database: Database, settings: Settings
) -> None:
    org = make_org(database, settings)
    here = create_place(client, org, geometry=_point())["id"]
    near = create_place(client, org, name=unique("Near place "), geometry=_point(east_m=200))["id"]
    far = create_place(client, org, name=unique("Far place "), geometry=_point(east_m=1000))["id"]
    at_here = _intervention(client, org, "Here club", place_id=here)
    at_near = _intervention(client, org, "Near club", place_id=near)
    _intervention(client, org, "Far club", place_id=far)
    area = _intervention(client, org, "Area patrol", geometry=_square(-50, 300, 100))

    page = client.get(f"/places/{here}", headers={**org.headers("community_safety"), **HTML})
    assert page.status_code == 200
    at, around = _items(page.text, "data-interventions>"), _items(page.text, "data-interventions-around")
    assert "Here club" in at and "Near club" not in at
    assert "Near club" in around and "Area patrol" in around
    assert "Far club" not in around and "Here club" not in around
    assert around.index("Near club") < around.index("Area patrol")  # nearest first: 200 m, then 300 m
    distances = [int(d) for d in re.findall(r'data-around-distance="(\d+)"', around)]
    assert 190 <= distances[0] <= 210 and 290 <= distances[1] <= 310
    assert "m away" in around
    for intervention in (at_near, area):
        assert f'href="/interventions/{intervention}/findings"' in around
        assert f'href="/maps/displacement?intervention={intervention}"' in around
    assert f'href="/interventions/{at_here}/findings"' in at

    panel = client.get(f"/places/{here}", headers={**org.headers("panel"), **HTML})
    assert "Near club" in panel.text and "Area patrol" in panel.text
    assert "Secret plan" not in panel.text and "Youth service" not in panel.text
