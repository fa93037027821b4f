"""The critical finding of the outside test (issue 10), replayed as a panel user against ONE planted incident.

The attack bisected ``datetime`` (to a microsecond) and then each ``bbox`` edge on /api/analysis/hotspots,
slid a ``bbox`` edge over the OGC hotspot-cells collection, asked /api/places/{id}/timeline for one-second
windows, read /maps/places/{id} (50 m hexagons) and /maps/hotspots?cell=50 over one day, and read
``significant_rise`` from /api/places/{id}/outcomes. The proof that a disclosure-controlled reader can place
the incident no better than its fixed cell and month is *indistinguishability*: the whole adaptive attack
is run, the incident is moved to another instant of the same month and another point of the same published
cell, the attack is run again, and every answer is identical. Staff answers, run the same way, differ (the
attack had teeth), and moving the incident to another month changes the panel's answers (the oracle is live).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pyproj import Transformer
from sqlalchemy import text

from tests.conftest import Org, make_org, unique

TO_BNG = Transformer.from_crs(4326, 27700, always_xy=True)
TO_LONLAT = Transformer.from_crs(27700, 4326, always_xy=True)
CELL = 250.0
# The published 250 m square holding the planted incident (near the demo town, Luton).
_X, _Y = TO_BNG.transform(-0.4170, 51.8790)
CELL_X0, CELL_Y0 = (_X // CELL) * CELL, (_Y // CELL) * CELL
CENTRE = (CELL_X0 + CELL / 2, CELL_Y0 + CELL / 2)


def lonlat(dx: float, dy: float) -> tuple[float, float]:
    lon, lat = TO_LONLAT.transform(CENTRE[0] + dx, CENTRE[1] + dy)
    return float(lon), float(lat)


# Two placements in the same cell and the same month, both over 50 m from the place (so neither is linked
# to it) and within its 100 m radius; a third in another month.
FIRST = (datetime(2026, 5, 13, 16, 7, 9, 123456, tzinfo=UTC), lonlat(-60, -40))
SECOND = (datetime(2026, 5, 28, 3, 0, 0, tzinfo=UTC), lonlat(70, 50))
OTHER_MONTH = (datetime(2026, 6, 2, 12, 0, 0, tzinfo=UTC), lonlat(70, 50))
AREA = [lonlat(-1000, -1000), lonlat(1000, 1000)]
SERVICE_AREA = (f"POLYGON(({AREA[0][0]} {AREA[0][1]}, {AREA[1][0]} {AREA[0][1]}, {AREA[1][0]} {AREA[1][1]}, "
                f"{AREA[0][0]} {AREA[1][1]}, {AREA[0][0]} {AREA[0][1]}))")
MONTH = ("2026-05-01T00:00:00+01:00", "2026-06-01T00:00:00+01:00")


@pytest.fixture(scope="module")
def planted(client: Any, database: Any, settings: Any) -> dict[str, Any]:
    org = make_org(database, settings, unique("planted-"), SERVICE_AREA)
    centre = lonlat(0, 0)
    place = client.post("/api/places", headers=org.headers("community_safety"), json={
        "type": "Feature", "geometry": {"type": "Point", "coordinates": list(centre)},
        "properties": {"name": "Corner shop", "kind": "shop"}})
    assert place.status_code == 201, place.text
    intervention = client.post("/api/interventions", headers=org.headers("community_safety"), json={
        "type": "Feature", "geometry": None,
        "properties": {"place_id": place.json()["id"], "kind": "outreach", "description": "Outreach",
                       "owning_partner": "Youth service", "starts_on": "2026-05-20"}})
    assert intervention.status_code == 201, intervention.text
    when, (lon, lat) = FIRST
    incident = client.post("/api/incidents", headers=org.headers("community_safety"), json={
        "type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {"occurred_from": when.isoformat(), "harm_category": "criminal_exploitation"}})
    assert incident.status_code == 201, incident.text
    return {"org": org, "place": place.json()["id"], "intervention": intervention.json()["id"],
            "incident": incident.json()["id"]}


def move(database: Any, incident: int, placement: tuple[datetime, tuple[float, float]]) -> None:
    when, (lon, lat) = placement
    with database.owner_session() as session:
        session.execute(text("UPDATE incidents SET occurred_from = :t, occurred_to = NULL, "
                             "geom = ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) WHERE id = :id"),
                        {"t": when, "lon": lon, "lat": lat, "id": incident})


# ---- the attack ------------------------------------------------------------------------------------------
Transcript = list[tuple[str, str]]


def _normalise(body: str) -> str:
    body = re.sub(r'"timeStamp":"[^"]*"', '"timeStamp":""', body)
    return re.sub(r"[0-9a-f]{32}", "<id>", body)  # folium's random element ids


class Attacker:
    def __init__(self, client: Any, headers: dict[str, str]):
        self.client, self.headers, self.transcript = client, headers, []  # type: Transcript

    def get(self, url: str, **params: Any) -> Any:
        response = self.client.get(url, params=params, headers=self.headers)
        assert response.status_code == 200, (url, params, response.text)
        self.transcript.append((f"{url} {sorted(params.items())}", _normalise(response.text)))
        return response

    def seen(self, url: str, **params: Any) -> bool:
        """The attacker's oracle: does the answer show any incident (a count, suppressed or not)?"""
        body = self.get(url, **params).json()
        metadata = body.get("metadata") or {}
        if "n_incidents" in metadata:
            return metadata["n_incidents"] != 0
        if "numberMatched" in body:
            return bool(body["numberMatched"])
        return body.get("total") != 0


def bisect(decide: Callable[[float, float], bool], lo: float, hi: float, steps: int) -> tuple[float, float]:
    for _ in range(steps):
        mid = (lo + hi) / 2
        if decide(lo, mid):
            hi = mid
        else:
            lo = mid
    return lo, hi


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat().replace("+00:00", "Z")


def run_attack(client: Any, headers: dict[str, str], planted: dict[str, Any]) -> Transcript:
    attacker = Attacker(client, headers)
    hotspots = "/api/analysis/hotspots"
    # 1. time bisection over a year, down to well under a second.
    t0, t1 = datetime(2026, 1, 1, tzinfo=UTC).timestamp(), datetime(2027, 1, 1, tzinfo=UTC).timestamp()
    t_lo, t_hi = bisect(lambda a, b: attacker.seen(hotspots, datetime=f"{_iso(a)}/{_iso(b)}"), t0, t1, 26)
    window = f"{_iso(t_lo)}/{_iso(t_hi + 1)}"
    # 2. bbox-edge bisection, each edge in turn, within that window.
    west, south, east, north = AREA[0][0], AREA[0][1], AREA[1][0], AREA[1][1]

    def box(w: float, s: float, e: float, n: float) -> str:
        return f"{w},{s},{e},{n}"

    west = bisect(lambda a, b: not attacker.seen(hotspots, datetime=window, bbox=box(b, south, east, north)),
                  west, east, 16)[0]
    east = bisect(lambda a, b: attacker.seen(hotspots, datetime=window, bbox=box(west, south, b, north)),
                  west, east, 16)[1]
    south = bisect(lambda a, b: not attacker.seen(hotspots, datetime=window, bbox=box(west, b, east, north)),
                   south, north, 16)[0]
    bisect(lambda a, b: attacker.seen(hotspots, datetime=window, bbox=box(west, south, east, b)), south, north, 16)
    # 3. the OGC hotspot-cells collection: slide the west edge of a bbox across the cell, 10 m at a time.
    for step in range(0, 50):
        lon, _ = lonlat(-250 + 10 * step, 0)
        attacker.get("/ogc/collections/hotspot-cells/items", bbox=box(lon, AREA[0][1], AREA[1][0], AREA[1][1]),
                     datetime=window, limit=100)
    # 4. the timeline in one-second windows around the times bisected, and with a sliding radius.
    place = planted["place"]
    for offset in range(-3, 4):
        start = FIRST[0].timestamp() + offset
        attacker.get(f"/api/places/{place}/timeline", datetime=f"{_iso(start)}/{_iso(start + 1)}")
    bisect(lambda a, b: attacker.seen(f"/api/places/{place}/timeline", datetime=window, radius=b), 10, 200, 10)
    # 5. the map pages: the place map, and hot spots on 50 m cells over one day.
    attacker.get(f"/maps/places/{place}")
    for day in ("2026-05-13", "2026-05-28"):
        attacker.get("/maps/hotspots", cell="50", **{"from": day, "to": day})
    # 6. what else is computed from the suppressed count: outcomes, displacement, emerging, tiles, exports.
    attacker.get(f"/api/places/{place}/outcomes")
    attacker.get("/api/analysis/displacement", intervention=planted["intervention"])
    attacker.get("/api/analysis/emerging-hotspots", datetime="2026-01-01T00:00:00Z/2027-01-01T00:00:00Z")
    attacker.get("/api/exports/incident-cells", datetime=window, bbox=box(*AREA[0], *AREA[1]))
    return attacker.transcript


def _tile(lon: float, lat: float, zoom: int) -> tuple[int, int]:
    """The XYZ tile holding a point (the slippy-map formula)."""
    n = 2**zoom
    y = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
    return int((lon + 180) / 360 * n), int(y)


def _tiles(client: Any, headers: dict[str, str]) -> list[bytes]:
    lon, lat = FIRST[1]
    tiles = []
    for zoom in (14, 16):
        x, y = _tile(lon, lat, zoom)
        response = client.get(f"/api/tiles/hotspot-cells/{zoom}/{x}/{y}.mvt", headers=headers,
                              params={"datetime": f"{_iso(FIRST[0].timestamp())}/{_iso(FIRST[0].timestamp() + 1)}"})
        assert response.status_code == 200
        tiles.append(response.content)
    return tiles


def test_a_panel_cannot_place_the_incident_better_than_its_cell_and_month(client, database, planted):
    org: Org = planted["org"]
    panel = org.headers("panel")
    move(database, planted["incident"], FIRST)
    first = run_attack(client, panel, planted)
    first_tiles = _tiles(client, panel)
    move(database, planted["incident"], SECOND)
    second = run_attack(client, panel, planted)
    assert len(first) == len(second) > 150
    for (url, a), (url_b, b) in zip(first, second, strict=True):
        assert url == url_b and a == b, f"the panel's answer to {url} tells the two placements apart"
    assert _tiles(client, panel) == first_tiles
    # The oracle is live: another month is told apart (at cell-and-month precision, as published).
    move(database, planted["incident"], OTHER_MONTH)
    assert run_attack(client, panel, planted) != first
    move(database, planted["incident"], FIRST)


def test_the_same_attack_tells_staff_the_placements_apart(client, database, planted):
    staff = planted["org"].headers("community_safety")
    move(database, planted["incident"], FIRST)
    first = run_attack(client, staff, planted)
    move(database, planted["incident"], SECOND)
    second = run_attack(client, staff, planted)
    move(database, planted["incident"], FIRST)
    assert first != second


# ---- one regression test per sub-finding -----------------------------------------------------------------
def test_hotspot_periods_are_whole_months_for_the_panel(client, database, planted):
    panel, staff = planted["org"].headers("panel"), planted["org"].headers("community_safety")
    move(database, planted["incident"], FIRST)
    tiny = f"{FIRST[0].isoformat()}/{(FIRST[0] + timedelta(microseconds=1)).isoformat()}"
    answer = client.get("/api/analysis/hotspots", params={"datetime": tiny}, headers=panel).json()
    month = client.get("/api/analysis/hotspots", params={"datetime": "/".join(MONTH)}, headers=panel).json()
    period = answer["metadata"]["parameters"]["period"]
    assert (datetime.fromisoformat(period["start"]), datetime.fromisoformat(period["end"])) == tuple(
        datetime.fromisoformat(m) for m in MONTH)
    assert answer["features"] == month["features"] and answer["metadata"]["n_incidents"] is None
    # Staff keep arbitrary windows: a microsecond after the incident holds nothing.
    after = f"{(FIRST[0] + timedelta(microseconds=1)).isoformat()}/2026-06-01T00:00:00Z"
    assert client.get("/api/analysis/hotspots", params={"datetime": after},
                      headers=staff).json()["metadata"]["n_incidents"] == 0
    assert client.get("/api/analysis/hotspots", params={"datetime": tiny},
                      headers=staff).json()["metadata"]["n_incidents"] == 1


def test_a_bbox_selects_whole_published_cells_for_the_panel(client, database, planted):
    panel = planted["org"].headers("panel")
    move(database, planted["incident"], FIRST)
    answers = []
    for dx in (-100, -61, -59, 0, 100):  # the west edge either side of the incident, inside its cell
        west, _ = lonlat(dx, 0)
        body = client.get("/api/analysis/hotspots", headers=panel, params={
            "bbox": f"{west},{AREA[0][1]},{AREA[1][0]},{AREA[1][1]}", "datetime": "/".join(MONTH)}).json()
        box = body["metadata"]["parameters"]["box"]
        assert all(v % CELL == 0 for v in box), box
        assert body["metadata"]["parameters"]["cell"] == "square"
        answers.append((body["metadata"]["n_incidents"], body["features"]))
    assert all(a == answers[0] for a in answers) and answers[0][0] is None


def test_ogc_hotspot_cells_do_not_move_with_a_sliding_bbox_edge(client, database, planted):
    panel, staff = planted["org"].headers("panel"), planted["org"].headers("community_safety")
    move(database, planted["incident"], FIRST)
    seen_panel, seen_staff = set(), set()
    for dx in range(-100, 101, 20):
        west, _ = lonlat(dx, 0)
        params = {"bbox": f"{west},{AREA[0][1]},{AREA[1][0]},{AREA[1][1]}", "datetime": "/".join(MONTH)}
        body = client.get("/ogc/collections/hotspot-cells/items", params=params, headers=panel).json()
        seen_panel.add(json.dumps([body["features"], body["numberMatched"]]))
        seen_staff.add(client.get("/ogc/collections/hotspot-cells/items", params=params,
                                  headers=staff).json()["numberMatched"])
    assert len(seen_panel) == 1
    assert seen_staff == {0, 1}  # staff see the edge cross the incident


def test_timeline_one_second_windows_answer_the_month(client, database, planted):
    panel = planted["org"].headers("panel")
    move(database, planted["incident"], FIRST)
    url = f"/api/places/{planted['place']}/timeline"
    start = FIRST[0].replace(microsecond=0)
    answers = [client.get(url, headers=panel, params={"datetime": f"{(start + timedelta(seconds=k)).isoformat()}/"
                                                                    f"{(start + timedelta(seconds=k + 1)).isoformat()}",
                                                       "radius": 10 + 20 * k}).json() for k in range(3)]
    assert all(a["months"] == [{"month": "2026-05", "count": None}] for a in answers)
    assert all(a["radius_m"] == 100 for a in answers)  # the fixed radius: no circles to trilaterate with


def test_the_place_map_draws_published_cells_not_50_m_hexagons(client, database, planted):
    move(database, planted["incident"], FIRST)
    html = client.get(f"/maps/places/{planted['place']}", headers=planted["org"].headers("panel")).text
    assert "published 250 m squares" in html
    staff = client.get(f"/maps/places/{planted['place']}", headers=planted["org"].headers("community_safety")).text
    assert "published" not in staff


def test_a_suppressed_cell_is_never_a_hot_spot(client, database, planted):
    panel = planted["org"].headers("panel")
    move(database, planted["incident"], FIRST)
    body = client.get("/api/analysis/hotspots", headers=panel, params={"cell": "hex", "size": 50,
                                                                        "datetime": "/".join(MONTH)}).json()
    suppressed = [f["properties"] for f in body["features"] if f["properties"]["count"] is None]
    assert suppressed and all(p["gi_bin"] is None and p["label"].startswith("Withheld") for p in suppressed)
    assert body["metadata"]["n_hot"] == 0
    html = client.get("/maps/hotspots", params={"cell": "50", "from": "2026-05-13", "to": "2026-05-13"},
                      headers=panel).text
    # The legend names every class (plain words, issue 16); a drawn hot spot would be listed in the table
    # of hot and cold spots under the map, and no cell of the page's data carries a confidence bin.
    assert "No hot or cold spot at these settings." in html
    assert "squares of 250 m (published grid, whole months)" in html
    assert not re.search(r'"gi_bin":\s*-?[123]\b', html)


def test_outcomes_withhold_significance_with_the_counts(client, database, planted):
    move(database, planted["incident"], FIRST)
    url = f"/api/places/{planted['place']}/outcomes"
    body = client.get(url, headers=planted["org"].headers("panel")).json()
    rates = [o["overall"] for o in body["outcomes"]] + [
        c["rate"] for o in body["outcomes"] for c in o["by_harm_category"]]
    hidden = [r for r in rates if r["before_count"] is None or r["after_count"] is None]
    assert hidden and all(r["significant_rise"] is None and r["significant_fall"] is None for r in hidden)


def test_every_panel_analysis_is_audited(client, database, planted):
    org: Org = planted["org"]
    with database.owner_session() as session:
        before = session.execute(text("SELECT count(*) FROM audit_events WHERE action = 'analysis.disclosure' "
                                      "AND user_id = :u"), {"u": org.user_ids["panel"]}).scalar_one()
    panel = org.headers("panel")
    for url in ("/api/analysis/hotspots", f"/api/places/{planted['place']}/timeline",
                f"/api/places/{planted['place']}/outcomes", "/ogc/collections/hotspot-cells/items",
                f"/api/analysis/displacement?intervention={planted['intervention']}"):
        assert client.get(url, headers=panel).status_code == 200
    with database.owner_session() as session:
        rows = session.execute(text("SELECT resource, detail FROM audit_events WHERE action = 'analysis.disclosure' "
                                    "AND user_id = :u ORDER BY id"), {"u": org.user_ids["panel"]}).all()
    assert len(rows) - before == 5
    assert all("parameters" in (r[1] if isinstance(r[1], dict) else json.loads(r[1])) for r in rows)
