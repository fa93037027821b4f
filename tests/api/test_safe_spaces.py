"""Nearest open safe spaces, guardianship at a time, and the Level 1 safety plan, against real PostGIS."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pyproj import Transformer
from sqlalchemy import text
from typer.testing import CliRunner

from app.cli import cli
from tests.conftest import Org, create_place, make_org, own_rows, point, unique

WEDNESDAY_1630 = "2026-06-17T16:30:00+01:00"
SUMMER_BANK_HOLIDAY_1630 = "2026-08-31T16:30:00+01:00"
# Synthetic places are laid out in metres of British National Grid around Luton, then converted.
BASE = (509000.0, 221300.0)
_to_lonlat = Transformer.from_crs(27700, 4326, always_xy=True)


def lonlat(dx: float, dy: float) -> tuple[float, float]:
    lon, lat = _to_lonlat.transform(BASE[0] + dx, BASE[1] + dy)
    return round(lon, 7), round(lat, 7)


def safe_space(client: Any, org: Org, dx: float, dy: float, hours: str | None = "24/7", *,
               age_min: int | None = None, age_max: int | None = None, name: str | None = None,
               valid_from: str = "2026-01-01T00:00:00Z", **designation: Any) -> int:
    place = create_place(client, org, role="youth_worker", name=name or unique("Safe "),
                         geometry=point(*lonlat(dx, dy)), opening_hours=hours)
    body = {"place_id": place["id"], "kind": "safe_space", "valid_from": valid_from, "age_min": age_min,
            "age_max": age_max, **designation}
    response = client.post("/api/designations", json=body, headers=org.headers("youth_worker"))
    assert response.status_code == 201, response.text
    return int(place["id"])


def nearest(client: Any, org: Org, dx: float = 0, dy: float = 0, role: str = "youth_worker",
            **params: Any) -> Any:
    lon, lat = lonlat(dx, dy)
    return client.get("/api/safe-spaces/nearest", params={"lon": lon, "lat": lat, **params},
                      headers=org.headers(role))


@pytest.fixture(scope="module")
def town(database: Any, settings: Any) -> Org:
    return make_org(database, settings, unique("town-"))


# ---- the demo story -------------------------------------------------------------------------------------
def _demo_place(client: Any, headers: dict[str, str], name: str) -> dict[str, Any]:
    places = client.get("/api/places", params={"limit": 1000}, headers=headers).json()["features"]
    return next(p for p in places if p["properties"]["name"] == name)


def test_from_the_outlet_after_school_the_library_is_offered_and_the_closed_school_is_not(
    client: Any, demo_headers: dict[str, dict[str, str]],
) -> None:
    headers = demo_headers["youth_worker"]
    lon, lat = _demo_place(client, headers, "Chicken Shack Express")["geometry"]["coordinates"]
    response = client.get("/api/safe-spaces/nearest", headers=headers,
                          params={"lon": lon, "lat": lat, "at": WEDNESDAY_1630, "age": 14, "limit": 10})
    assert response.status_code == 200, response.text
    answer = response.json()
    names = [f["properties"]["name"] for f in answer["features"]]
    assert names[0] == "Wellgate Central Library"
    assert "Riverside Academy" not in names  # Mo-Fr 08:00-16:00: closed at 16:30
    assert answer["excluded"]["closed"] >= 1
    library = answer["features"][0]["properties"]
    assert library["open"] is True and library["within_threshold"] is True
    # The demo ships its town's street grid (geo.demo.demo_streets): the walk is along streets.
    assert library["distance_method"] == answer["distance_method"] == "network"
    assert library["walking_m"] >= library["straight_line_m"]
    assert library["safe_space"]["stale"] is False and library["safe_space"]["age_min"] == 11
    assert {g["role"] for g in library["guardians"]} == {"staff", "place_manager", "youth_worker"}
    assert any("until 19:00" in reason for reason in library["reasons"])
    walks = [f["properties"]["walking_m"] for f in answer["features"]]
    assert walks == sorted(walks)


def test_before_it_became_a_safe_space_again_the_library_is_not_offered(
    client: Any, demo_headers: dict[str, dict[str, str]],
) -> None:
    headers = demo_headers["youth_worker"]
    lon, lat = _demo_place(client, headers, "Chicken Shack Express")["geometry"]["coordinates"]
    answer = client.get("/api/safe-spaces/nearest", headers=headers,
                        params={"lon": lon, "lat": lat, "at": "2026-05-20T16:30:00+01:00"}).json()
    assert "Wellgate Central Library" not in [f["properties"]["name"] for f in answer["features"]]


def test_on_a_bank_holiday_the_library_is_closed(client: Any, demo_headers: dict[str, dict[str, str]]) -> None:
    headers = demo_headers["youth_worker"]
    lon, lat = _demo_place(client, headers, "Chicken Shack Express")["geometry"]["coordinates"]
    answer = client.get("/api/safe-spaces/nearest", headers=headers,
                        params={"lon": lon, "lat": lat, "at": SUMMER_BANK_HOLIDAY_1630, "limit": 10}).json()
    names = [f["properties"]["name"] for f in answer["features"]]
    assert "Wellgate Central Library" not in names  # PH off
    assert "Brookfield Leisure Centre" in names  # no PH rule: open as on any Monday


def test_the_panel_sees_safe_spaces_without_free_text(client: Any, demo_headers: dict[str, dict[str, str]]) -> None:
    headers = demo_headers["panel"]
    lon, lat = _demo_place(client, headers, "Chicken Shack Express")["geometry"]["coordinates"]
    answer = client.get("/api/safe-spaces/nearest", headers=headers,
                        params={"lon": lon, "lat": lat, "at": WEDNESDAY_1630}).json()
    guardians = [g for f in answer["features"] for g in f["properties"]["guardians"]]
    assert guardians and all(g["description"] is None for g in guardians)


# ---- ordering, exclusion and the fallback on a synthetic town -------------------------------------------
def test_nearest_orders_by_walk_and_excludes_closed_unknown_and_unsuitable(client: Any, town: Org) -> None:
    near = safe_space(client, town, 100, 0, "Mo-Fr 09:00-19:00", age_min=11, age_max=18)
    farther = safe_space(client, town, 300, 0, "Mo-Su 08:00-22:00")
    closed = safe_space(client, town, 50, 0, "Mo-Fr 08:00-16:00")
    unknown = safe_space(client, town, 60, 0, None)
    too_young = safe_space(client, town, 70, 0, "24/7", age_min=16, age_max=25)
    ended = safe_space(client, town, 80, 0, "24/7", valid_from="2025-01-01T00:00:00Z",
                       valid_to="2026-01-01T00:00:00Z")

    answer = nearest(client, town, at=WEDNESDAY_1630, age=14, limit=3).json()
    ids = [f["id"] for f in answer["features"]]
    assert ids[:2] == [near, farther]
    assert not {closed, unknown, too_young, ended} & set(ids)
    assert answer["excluded"]["closed"] >= 1 and answer["excluded"]["hours_unknown"] >= 1
    assert answer["excluded"]["age"] >= 1
    first = answer["features"][0]["properties"]
    assert first["walking_minutes"] == pytest.approx(first["walking_m"] / 80, abs=0.1)

    # Older young people are welcome at the 16-25 space; no age means no age filter.
    older = nearest(client, town, at=WEDNESDAY_1630, age=17).json()
    assert older["features"][0]["id"] == too_young


def test_when_nothing_is_open_within_15_minutes_it_says_so_and_lists_the_nearest_anyway(
    client: Any, database: Any, settings: Any,
) -> None:
    remote = make_org(database, settings, unique("remote-"))
    far = safe_space(client, remote, 2000, 0, "24/7")  # 2000 m x 1.3 = 32.5 minutes
    answer = nearest(client, remote, at=WEDNESDAY_1630).json()
    assert answer["within_threshold"] is False
    assert answer["advice"] == settings.fallback_advice
    assert [f["id"] for f in answer["features"]] == [far]
    assert answer["features"][0]["properties"]["within_threshold"] is False
    assert answer["features"][0]["properties"]["walking_minutes"] == pytest.approx(32.5, abs=0.1)

    close = nearest(client, remote, dx=1500, at=WEDNESDAY_1630).json()
    assert close["within_threshold"] is True and close["advice"] is None


# ---- street network -------------------------------------------------------------------------------------
def _streets_file(tmp_path: Path, lines: list[list[tuple[float, float]]]) -> Path:
    features = [{"type": "Feature", "properties": {"name": f"Street {k}"},
                 "geometry": {"type": "LineString", "coordinates": [lonlat(x, y) for x, y in line]}}
                for k, line in enumerate(lines)]
    features.append({"type": "Feature", "properties": {"name": "A square"},
                     "geometry": {"type": "Point", "coordinates": lonlat(0, 0)}})
    path = tmp_path / "streets.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def test_walking_distance_follows_the_street_network_once_one_is_loaded(
    client: Any, database: Any, settings: Any, tmp_path: Path,
) -> None:
    river = make_org(database, settings, unique("river-"))
    across = safe_space(client, river, 0, 200, "24/7", name="Across the river")  # 200 m as the crow flies
    along = safe_space(client, river, 420, -420, "24/7", name="Down the road")  # 594 m, but a straight road
    before = nearest(client, river, at=WEDNESDAY_1630, limit=2).json()
    assert before["distance_method"] == "straight_line_with_detour_factor" and before["network_loaded"] is False
    assert [f["id"] for f in before["features"]] == [across, along]
    assert before["features"][0]["properties"]["walking_m"] == pytest.approx(260.0, abs=1.0)
    assert "1.3" in before["method_note"]

    # The only bridge is 700 m upstream; a straight road runs to the second space.
    lines = [[(0, 0), (700, 0)], [(700, 0), (700, 200)], [(700, 200), (0, 200)], [(0, 0), (420, -420)]]
    result = CliRunner().invoke(cli, ["import", "streets", str(_streets_file(tmp_path, lines)), "--org", river.slug],
                                env={"CONTEXTMAP_DATABASE_URL": settings.database_url})
    assert result.exit_code == 0, result.output
    assert "4 street segment(s) loaded" in result.stdout and "feature 5: Point is not a line" in result.output

    after = nearest(client, river, at=WEDNESDAY_1630, limit=2).json()
    assert after["distance_method"] == "network" and after["network_loaded"] is True
    by_id = {f["id"]: f["properties"] for f in after["features"]}
    assert [f["id"] for f in after["features"]] == [along, across]  # the network reorders them
    assert by_id[across]["walking_m"] == pytest.approx(1600.0, abs=2.0)  # 700 + 200 + 700
    assert by_id[across]["walking_m"] > by_id[across]["straight_line_m"] * 1.3
    assert by_id[across]["distance_method"] == "network" and by_id[across]["within_threshold"] is False
    assert by_id[along]["walking_m"] == pytest.approx(594.0, abs=2.0)
    with database.owner_session() as session:
        count = session.execute(text("SELECT count(*) FROM street_edges WHERE organisation_id = :o"),
                                {"o": river.id}).scalar_one()
        audited = session.execute(text("SELECT detail FROM audit_events WHERE organisation_id = :o "
                                       "AND resource = 'street_edges'"), {"o": river.id}).scalar_one()
    assert count == 4 and audited["stored"] == 4 and audited["rejected"] == 1


def test_street_import_refuses_a_file_without_lines(tmp_path: Path, settings: Any, org: Org) -> None:
    path = tmp_path / "points.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [-0.41, 51.88]}}]}))
    result = CliRunner().invoke(cli, ["import", "streets", str(path), "--org", org.slug],
                                env={"CONTEXTMAP_DATABASE_URL": settings.database_url})
    assert result.exit_code == 2 and "no usable street lines" in " ".join(result.output.split())


# ---- validation -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("params", "fields"), [
    ({"lon": -200, "lat": 51.88}, {"lon"}),
    ({"lon": -0.41, "lat": 95}, {"lat"}),
    ({"lon": 51.88, "lat": -0.41}, {"lon", "lat"}),  # swapped: outside the service area
    ({"lon": -0.41}, {"lat"}),
    ({"lon": -0.41, "lat": 51.88, "at": "2026-06-17T16:30:00"}, {"at"}),  # no time zone
    ({"lon": -0.41, "lat": 51.88, "at": "9999-12-31T23:59:59Z"}, {"at"}),  # outside any opening calendar
    ({"lon": -0.41, "lat": 51.88, "age": 40}, {"age"}),
    ({"lon": -0.41, "lat": 51.88, "limit": 0}, {"limit"}),
])
def test_bad_nearest_requests_are_refused_naming_the_field(
    client: Any, org: Org, params: dict[str, Any], fields: set[str],
) -> None:
    response = client.get("/api/safe-spaces/nearest", params=params, headers=org.headers("youth_worker"))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert {e["field"] for e in response.json()["errors"]} == fields


# ---- guardianship at a time -----------------------------------------------------------------------------
def test_guardianship_at_a_time_uses_guardian_and_place_hours_and_bank_holidays(client: Any, town: Org) -> None:
    place = create_place(client, town, role="youth_worker", opening_hours="Mo-Fr 09:00-17:00; PH off")
    bodies = [
        {"role": "staff", "hours": "Mo-Fr 09:00-17:00; PH off", "description": "Front desk",
         "trainings": [{"kind": "safeguarding", "completed_on": "2023-08-30"}]},
        {"role": "place_manager", "trainings": [{"kind": "bystander_intervention", "completed_on": "2026-01-05"}]},
        {"role": "youth_worker", "hours": "Mo-Fr 15:00-17:00"},
    ]
    ids = []
    for body in bodies:
        response = client.post("/api/guardians", json={"place_id": place["id"], **body},
                               headers=town.headers("youth_worker"))
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    staff, manager, worker = ids

    def at(instant: str, role: str = "youth_worker") -> dict[str, Any]:
        response = client.get(f"/api/places/{place['id']}/guardianship", params={"at": instant},
                              headers=town.headers(role))
        assert response.status_code == 200, response.text
        return response.json()

    tuesday_noon = at("2026-09-01T12:00:00+01:00")
    presence = {g["id"]: (g["present"], g["presence_basis"]) for g in tuesday_noon["guardians"]}
    assert presence == {staff: (True, "guardian_hours"), manager: (True, "place_hours"),
                        worker: (False, "guardian_hours")}
    assert tuesday_noon["open"] is True and tuesday_noon["present_count"] == 2
    training = {g["id"]: g["trainings"] for g in tuesday_noon["guardians"]}
    assert training[staff][0]["current"] is False  # completed 30 Aug 2023: lapsed after three years
    assert training[manager][0]["current"] is True
    assert tuesday_noon["training_valid_years"] == 3

    bank_holiday = at("2026-08-31T12:00:00+01:00")
    assert bank_holiday["open"] is False and bank_holiday["present_count"] == 0
    assert at("2026-09-01T16:00:00+01:00")["present_count"] == 3
    panel = at("2026-09-01T12:00:00+01:00", role="panel")
    assert all(g["description"] is None for g in panel["guardians"])


def test_guardianship_needs_a_place_of_ones_own(client: Any, org: Org, other_org: Org) -> None:
    theirs = create_place(client, other_org)
    response = client.get(f"/api/places/{theirs['id']}/guardianship", headers=org.headers("youth_worker"))
    assert response.status_code == 404


# ---- safe-space list ------------------------------------------------------------------------------------
def test_safe_space_list_flags_stale_verification(client: Any, database: Any, settings: Any) -> None:
    checked = make_org(database, settings, unique("checked-"))
    fresh = safe_space(client, checked, 0, 0, verified_on="2026-06-01")
    stale = safe_space(client, checked, 10, 0, verified_on="2024-01-01")
    never = safe_space(client, checked, 20, 0)
    answer = client.get("/api/safe-spaces", params={"at": WEDNESDAY_1630}, headers=checked.headers("panel")).json()
    flags = {f["id"]: f["properties"]["safe_space"]["stale"] for f in answer["features"]}
    assert flags == {fresh: False, stale: True, never: True}


# ---- Level 1 safety plan --------------------------------------------------------------------------------
def test_safety_plan_answers_each_place_and_time_and_audits_without_locations(
    client: Any, database: Any, demo_headers: dict[str, dict[str, str]],
) -> None:
    headers = demo_headers["youth_worker"]
    outlet = _demo_place(client, headers, "Chicken Shack Express")
    station = _demo_place(client, headers, "Townsend Bus Interchange")
    lon, lat = outlet["geometry"]["coordinates"]
    label = unique("Nan's flat on ")
    body = [
        {"lon": lon, "lat": lat, "label": label, "times": [WEDNESDAY_1630, "2026-06-21T03:00:00+01:00"]},
        {"place_id": station["id"], "times": [WEDNESDAY_1630]},
    ]
    response = client.post("/api/safety-plan", json=body, headers=headers)
    assert response.status_code == 200, response.text
    plan = response.json()
    assert plan["stored"] is False and len(plan["locations"]) == 2
    first, second = plan["locations"]
    assert first["label"] == label
    after_school, small_hours = first["times"]
    assert after_school["safe_spaces"][0]["name"] == "Wellgate Central Library"
    assert small_hours["safe_spaces"] == [] and small_hours["within_threshold"] is False
    assert small_hours["advice"]
    assert any(c["name"] == "Townsend Bus Interchange" and c["distance_m"] == 0 for c in second["concerns_nearby"])
    for location in plan["locations"]:
        counts = [*location["recent_harm"].values(), location["recent_harm_total"]]
        assert all(c is None or c == 0 or (c >= 10 and c % 5 == 0) for c in counts)  # always disclosed

    with database.owner_session() as session:
        event = session.execute(text(
            "SELECT action, resource, detail::text AS detail FROM audit_events "
            "WHERE action = 'safety_plan.create' ORDER BY id DESC LIMIT 1")).one()
        leaked = session.execute(text("SELECT count(*) FROM audit_events WHERE detail::text LIKE :label "
                                      "OR resource LIKE :label"), {"label": f"%{label}%"}).scalar_one()
    assert json.loads(event.detail) == {"locations": 2, "times": 3}
    assert str(round(lon, 3)) not in event.detail and leaked == 0


def test_safety_plan_also_takes_an_object_with_an_age(client: Any, town: Org) -> None:
    space = safe_space(client, town, 500, 500, "24/7", age_min=11, age_max=15)
    lon, lat = lonlat(500, 450)
    body = {"age": 17, "locations": [{"lon": lon, "lat": lat, "times": [WEDNESDAY_1630]}]}
    plan = client.post("/api/safety-plan", json=body, headers=town.headers("community_safety")).json()
    assert space not in [s["place_id"] for s in plan["locations"][0]["times"][0]["safe_spaces"]]
    body["age"] = 13
    plan = client.post("/api/safety-plan", json=body, headers=town.headers("community_safety")).json()
    assert plan["locations"][0]["times"][0]["safe_spaces"][0]["place_id"] == space


@pytest.mark.parametrize(("body", "field"), [
    ([], "locations"),
    ([{"lon": -0.41, "lat": 51.88, "times": []}], "0.times"),
    ([{"lon": -0.41, "lat": 51.88, "times": ["2026-06-17T16:30:00"]}], "0.times.0"),
    ([{"lon": -0.41, "times": [WEDNESDAY_1630]}], "locations.0.lat"),
    ([{"lon": 51.88, "lat": -0.41, "times": [WEDNESDAY_1630]}], "locations.0.lon"),
    ([{"place_id": 99999999, "times": [WEDNESDAY_1630]}], "locations.0.place_id"),
    ([{"lon": -0.41, "lat": 51.88, "times": [WEDNESDAY_1630, "0001-01-01T00:00:00Z"]}], "locations.0.times.1"),
    ({"locations": [{"lon": -0.41, "lat": 51.88, "times": [WEDNESDAY_1630]}], "age": 30}, "age"),
])
def test_bad_safety_plans_are_refused_naming_the_field(client: Any, org: Org, body: Any, field: str) -> None:
    response = client.post("/api/safety-plan", json=body, headers=org.headers("youth_worker"))
    assert response.status_code == 422, response.text
    assert any(e["field"].endswith(field) for e in response.json()["errors"]), response.json()


def test_the_panel_cannot_make_a_safety_plan(client: Any, org: Org) -> None:
    body = [{"lon": -0.41, "lat": 51.88, "times": [WEDNESDAY_1630]}]
    assert client.post("/api/safety-plan", json=body, headers=org.headers("panel")).status_code == 403


def test_safety_plan_takes_weekly_patterns_as_the_web_plan_does(
    client: Any, database: Any, demo_headers: dict[str, dict[str, str]],
) -> None:
    """``weekly`` patterns are judged as /safe-spaces/plan judges them: the same spaces, in the same order,
    open at the same times of the week (checked against the web page for the same place and pattern)."""
    import html as html_lib

    headers = demo_headers["youth_worker"]
    outlet = _demo_place(client, headers, "Chicken Shack Express")
    lon, lat = outlet["geometry"]["coordinates"]
    body = {"age": 14, "week_from": "2026-09-14", "locations": [{
        "lon": lon, "lat": lat, "label": "After school",
        "weekly": [{"days": ["Mo", "Tu", "We", "Th", "Fr"], "start": "15:30", "end": "18:00"},
                   {"days": ["Sa"], "start": "12:00", "end": "17:00"}]}]}
    response = client.post("/api/safety-plan", json=body, headers=headers)
    assert response.status_code == 200, response.text
    plan = response.json()
    assert plan["week_from"] == "2026-09-14"
    location = plan["locations"][0]
    assert location["times"] == []
    weekdays, saturday = location["weekly"]
    assert weekdays["description"] == "Weekdays 15:30\u201318:00" and weekdays["days"] == ["Mo", "Tu", "We", "Th", "Fr"]
    assert saturday["description"] == "Saturdays 12:00\u201317:00"
    library = next(s for s in weekdays["safe_spaces"] if s["name"] == "Wellgate Central Library")
    assert library["open_when"] == "Open all of this time"
    assert any("youth club" in (a["description"] or "").lower() for a in library["trusted_adults"])

    # The web plan for the same place and the same patterns lists the same spaces with the same words.
    page = client.post("/safe-spaces/plan", headers={**headers, "Accept": "text/html"}, data={
        "count": "1", "age": "14", "week": "2026-09-14", "label-1": "After school",
        "where-1": "Chicken Shack Express", "days-1-1": "weekdays", "from-1-1": "15:30", "to-1-1": "18:00",
        "days-1-2": "d5", "from-1-2": "12:00", "to-1-2": "17:00", "action": "make"})
    assert page.status_code == 200, page.text[:2000]
    text_of_page = html_lib.unescape(page.text)
    for pattern in (weekdays, saturday):
        assert pattern["description"] in text_of_page
        for space in pattern["safe_spaces"]:
            assert space["name"] in text_of_page and f"{space['open_when']}." in text_of_page
    weekdays_part = text_of_page.split(weekdays["description"], 1)[1].split(saturday["description"], 1)[0]
    positions = [weekdays_part.index(s["name"]) for s in weekdays["safe_spaces"]]
    assert positions == sorted(positions), "nearest on foot first, as on the page"

    with database.owner_session() as session:
        detail = session.execute(text("SELECT detail::text FROM audit_events WHERE action = 'safety_plan.create' "
                                      "AND detail ? 'weekly' ORDER BY id DESC LIMIT 1")).scalar_one()
    assert json.loads(detail) == {"locations": 1, "times": 0, "weekly": 2}  # counts only


@pytest.mark.parametrize(("weekly", "field"), [
    ([{"days": ["Xx"], "start": "15:30", "end": "18:00"}], "locations.0.weekly.0.days.0"),
    ([{"days": [], "start": "15:30", "end": "18:00"}], "locations.0.weekly.0.days"),
    ([{"days": ["Mo"], "start": "15:30", "end": "15:30"}], "locations.0.weekly.0.end"),
    ([{"days": ["Mo"], "start": "25:00", "end": "18:00"}], "locations.0.weekly.0.start"),
    ([{"days": ["Mo"], "start": "15:30+01:00", "end": "18:00"}], "locations.0.weekly.0.start"),
    ([{"days": ["Mo"], "start": "15:30"}], "locations.0.weekly.0.end"),
    ([{"days": ["Mo"], "start": "15:30", "end": "18:00", "where": "x"}], "locations.0.weekly.0.where"),
    ([{"days": ["Mo"], "start": "09:00", "end": "10:00"}] * 3, "locations.0.weekly"),
])
def test_bad_weekly_patterns_are_refused_naming_the_field(
    client: Any, org: Org, database: Any, weekly: Any, field: str
) -> None:
    before = own_rows(database, "audit_events", org)
    body = {"locations": [{"lon": -0.41, "lat": 51.88, "weekly": weekly}]}
    response = client.post("/api/safety-plan", json=body, headers=org.headers("youth_worker"))
    assert response.status_code == 422, response.text
    # The body is an object or a bare list: pydantic prefixes the union member ("SafetyPlanRequest.").
    assert any(e["field"].endswith(field) for e in response.json()["errors"]), response.json()
    assert own_rows(database, "audit_events", org) == before


def test_weekly_patterns_are_in_the_openapi_schema(client: Any) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    pattern = schemas["WeeklyPattern"]
    assert set(pattern["required"]) == {"days", "start", "end"}
    assert pattern["properties"]["days"]["items"]["enum"] == ["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"]
    location = schemas["PlanLocation"]["properties"]
    assert location["weekly"]["items"]["$ref"].endswith("/WeeklyPattern") and location["weekly"]["maxItems"] == 2
    assert "week_from" in schemas["SafetyPlanRequest"]["properties"]
    assert "weekly" in schemas["PlanLocationAnswer"]["properties"]
