"""The safe-space finder page over HTTP (no browser): typed names, a point, age and time, the spaces left out
with their reasons, the fallback advice, bad input named on the form, and who may use it. The browser
journeys at 390×844 are in tests/browser/test_web_finder.py."""

from __future__ import annotations

from fastapi.testclient import TestClient
from shapely.geometry import LineString

from app.db import finder_places, safety_maps
from app.db.session import Database
from app.db.street_network import StreetLine, load_street_edges
from app.settings import Settings
from geo.demo import _lonlat
from tests.conftest import count_rows, create_place, make_org, point

HTML = {"Accept": "text/html"}
# Tuesday 15 September 2026, 17:30 in London: the library (a safe space again since June) is open until
# 19:00 with its youth worker on duty; the school closed at 16:00.
LIBRARY_OPEN_SCHOOL_CLOSED = {"when": "later", "day": "2026-09-15", "time": "17:30"}


def _find(client: TestClient, headers: dict[str, str], **params: str) -> str:
    response = client.get("/safe-spaces/find", params=params, headers={**headers, **HTML})
    assert response.status_code == 200, response.text[:2000]
    return response.text


def test_a_typed_street_lists_the_open_library_with_its_guardians_and_names_the_closed_school(
    client: TestClient, demo_headers: dict[str, dict[str, str]], database: Database
) -> None:
    before = count_rows(database, "audit_events")
    page = _find(client, demo_headers["youth_worker"], where="Wellgate Street", age="14",
                 **LIBRARY_OPEN_SCHOOL_CLOSED)
    results = page.split("data-finder-results", 1)[1]
    # The demo town has the street (geo.demo.demo_streets): the start is the street, not the outlet on it.
    assert "Safe spaces near Wellgate Street</h2>" in results or "estimate: straight line" in results
    assert "Wellgate Central Library" in results
    assert "Open until 19:00" in results
    assert "Youth worker running the pop-up youth club" in results  # on duty Mo-Fr 15:00-19:00
    # Along the demo's street network, or the labelled estimate when a test replaced the network (admin upload).
    assert "(along the streets)" in results or "estimate: straight line × detour" in results
    left_out = results.split("data-finder-left-out", 1)[1]
    assert "Riverside Academy: closed at that time" in left_out
    assert "data-finder-advice" not in page
    assert count_rows(database, "audit_events") == before  # a search stores nothing


def test_age_leaves_out_spaces_not_for_that_age(client: TestClient, demo_headers: dict[str, dict[str, str]]) -> None:
    lon, lat = _lonlat(250, -290)  # at the library
    page = _find(client, demo_headers["youth_worker"], lon=str(lon), lat=str(lat), age="9",
                 **LIBRARY_OPEN_SCHOOL_CLOSED)
    left_out = page.split("data-finder-left-out", 1)[1]
    assert "Wellgate Central Library: not for the young person&#39;s age" in left_out  # ages 11-18


def test_nothing_within_the_walk_shows_the_fallback_advice_first(
    client: TestClient, demo_headers: dict[str, dict[str, str]]
) -> None:
    lon, lat = _lonlat(2400, 2400)  # the far corner of the demo town, half an hour from the nearest space
    page = _find(client, demo_headers["community_safety"], lon=str(lon), lat=str(lat), **LIBRARY_OPEN_SCHOOL_CLOSED)
    results = page.split("data-finder-results", 1)[1]
    assert results.index("data-finder-advice") < results.index("data-finder-result")
    assert "Nothing open is within a 15-minute walk" in results


def test_bad_input_is_named_on_the_form(client: TestClient, demo_headers: dict[str, dict[str, str]]) -> None:
    page = _find(client, demo_headers["admin"], where="No such street anywhere", age="abc", when="later",
                 day="15/09/2026", time="")
    assert "govuk-error-summary" in page
    for anchor in ('href="#where"', 'href="#age"', 'href="#day"', 'href="#time"'):
        assert anchor in page
    outside = _find(client, demo_headers["admin"], lon="-3.0", lat="55.0")
    assert "outside your organisation" in outside and 'href="#lon"' in outside


def test_the_form_alone_and_who_may_use_it(client: TestClient, demo_headers: dict[str, dict[str, str]]) -> None:
    page = _find(client, demo_headers["youth_worker"])
    assert 'action="/safe-spaces/find"' in page and "data-finder-results" not in page
    assert 'href="/safe-spaces/find"' in page  # in the navigation
    refused = client.get("/safe-spaces/find", headers={**demo_headers["panel"], **HTML})
    assert refused.status_code == 403
    assert 'href="/safe-spaces/find"' not in client.get("/", headers={**demo_headers["panel"], **HTML}).text


def test_directions_follow_the_streets_when_the_network_reaches(
    client: TestClient, demo_headers: dict[str, dict[str, str]]
) -> None:
    import html
    import json
    import re

    page = _find(client, demo_headers["youth_worker"], where="Wellgate Street", **LIBRARY_OPEN_SCHOOL_CLOSED)
    data = json.loads(html.unescape(re.search(r'data-finder="([^"]+)"', page).group(1)))  # type: ignore[union-attr]
    library = next(p for p in data["places"] if p["name"] == "Wellgate Central Library")
    note = page.split("data-finder-route-note>", 1)[1].split("</p>", 1)[0]
    if "(along the streets)" not in page.split("data-finder-results", 1)[1]:  # a test replaced the network
        assert library["route"] is None and "Dashed lines" in note
        return
    route = library["route"]
    assert len(route) > 2, "a walk along the streets turns corners"
    origin = data["origin"]
    assert route[0] == [round(origin["lat"], 6), round(origin["lon"], 6)]
    assert abs(route[-1][0] - library["lat"]) < 1e-4 and abs(route[-1][1] - library["lon"]) < 1e-4
    assert "walking routes along the streets" in note


def test_a_typed_street_name_is_the_street_before_a_shop_whose_address_names_it(
    client: TestClient, database: Database, settings: Settings
) -> None:
    """A walk-through typed "Wellgate Street" and was placed at the fast-food outlet at "14 Wellgate Street":
    a whole name typed (street or place) comes first, part of a name next, an address-only match last."""
    org = make_org(database, settings)
    with database.owner_session() as session:
        load_street_edges(session, org.id, [
            StreetLine(LineString([(-0.4200, 51.8800), (-0.4150, 51.8801), (-0.4100, 51.8802)]), "Wellgate Street"),
            StreetLine(LineString([(-0.4150, 51.8801), (-0.4150, 51.8770)]), "Wellgate Street Mews"),
        ])
    create_place(client, org, name="Chicken Shack Express", kind="fast_food", address="14 Wellgate Street",
                 geometry=point(-0.4180, 51.8803))
    create_place(client, org, name="Wellgate Street Youth Hub", kind="youth_club", geometry=point(-0.4120, 51.8790))
    with database.request_transaction(org.id) as session:
        labels = [m["label"] for m in finder_places.match_locations(session, org.id, "wellgate street")]
        located = safety_maps.locate_words(session, "Wellgate Street")
        by_address = safety_maps.locate_words(session, "14 Wellgate")
    # Whole name; parts of names (places before streets); the address-only match last.
    assert labels == ["Wellgate Street", "Wellgate Street Youth Hub", "Wellgate Street Mews",
                      "Chicken Shack Express, 14 Wellgate Street"]
    assert located is not None and located.label == "Wellgate Street"
    assert by_address is not None and by_address.label == "Chicken Shack Express"  # still found by address
    page = _find(client, org.headers("youth_worker"), where="Wellgate Street")
    heading = page.split('id="results-heading">', 1)[1].split("</h2>", 1)[0]
    assert heading == "Safe spaces near Wellgate Street"
