"""The demo story (DESIGN.md): a fast-food outlet of concern turns off its WiFi, harm moves to the library,
the library gets a youth club and trained staff, and becomes a safe space again. Seen through the API and
the browser sign-in of the demo community-safety user."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from app.main import create_app
from tests.conftest import sign_in

OUTLET = "Chicken Shack Express"
LIBRARY = "Wellgate Central Library"
CS_EMAIL, CS_PASSWORD = "cs@demo.contextmap.test", "demo-cs-2026"
BEFORE_WIFI_OFF = "2025-03-01T00:00:00Z/2025-09-01T00:00:00Z"  # six months before 2025-09-01
AFTER_WIFI_OFF = "2025-09-01T00:00:00Z/2026-03-01T00:00:00Z"  # six months after


@pytest.fixture(scope="module")
def cs(demo_headers: dict[str, dict[str, str]]) -> dict[str, str]:
    return demo_headers["community_safety"]


@pytest.fixture(scope="module")
def demo_places(client: TestClient, cs: dict[str, str]) -> dict[str, dict[str, Any]]:
    response = client.get("/api/places?limit=1000", headers=cs)
    assert response.status_code == 200
    return {f["properties"]["name"]: f for f in response.json()["features"]}


def history(client: TestClient, headers: dict[str, str], place: dict[str, Any]) -> list[dict[str, Any]]:
    response = client.get(f"/api/places/{place['id']}/designations", headers=headers)
    assert response.status_code == 200
    return [f["properties"] for f in response.json()["features"]]


def incident_count(client: TestClient, headers: dict[str, str], place: dict[str, Any], interval: str) -> int:
    response = client.get(f"/api/incidents?place_id={place['id']}&datetime={interval}&limit=1000", headers=headers)
    assert response.status_code == 200
    body = response.json()
    assert not any(link["rel"] == "next" for link in body["links"])
    return int(body["numberReturned"])


# ---- the API, as the community-safety user ------------------------------------------------------------
def test_the_outlet_and_the_library_are_listed(client, cs, demo_places):
    assert demo_places[OUTLET]["properties"]["kind"] == "fast_food"
    assert demo_places[LIBRARY]["properties"]["kind"] == "library"
    fast_food = client.get("/api/places?kind=fast_food", headers=cs).json()
    assert OUTLET in [f["properties"]["name"] for f in fast_food["features"]]
    libraries = client.get("/api/places?kind=library", headers=cs).json()
    assert LIBRARY in [f["properties"]["name"] for f in libraries["features"]]


def test_library_was_a_safe_space_then_a_concern_and_is_a_safe_space_again(client, cs, demo_places):
    library = demo_places[LIBRARY]
    rows = history(client, cs, library)
    assert [r["kind"] for r in rows] == ["safe_space", "concern", "safe_space"]
    assert [r["current"] for r in rows] == [False, False, True]
    assert [r["valid_from"][:10] for r in rows] == ["2024-12-01", "2025-10-15", "2026-06-01"]
    assert rows[1]["level"] == "high"
    assert "displaced" in rows[1]["reason"]
    assert [d["kind"] for d in library["properties"]["current_designations"]] == ["safe_space"]


def test_the_outlet_was_a_place_of_concern(client, cs, demo_places):
    outlet = demo_places[OUTLET]
    rows = history(client, cs, outlet)
    assert {r["kind"] for r in rows} == {"concern"}
    assert [r["level"] for r in rows] == ["high", "low"]
    assert rows[0]["valid_from"][:10] == "2025-02-10"
    # Both concerns have ended (the last on 2026-03-01): nothing is current now.
    assert not any(r["current"] for r in rows)
    assert outlet["properties"]["current_designations"] == []


def test_harm_moved_from_the_outlet_to_the_library_after_the_wifi_went_off(client, cs, demo_places):
    outlet, library = demo_places[OUTLET], demo_places[LIBRARY]
    library_before = incident_count(client, cs, library, BEFORE_WIFI_OFF)
    library_after = incident_count(client, cs, library, AFTER_WIFI_OFF)
    outlet_before = incident_count(client, cs, outlet, BEFORE_WIFI_OFF)
    outlet_after = incident_count(client, cs, outlet, AFTER_WIFI_OFF)
    assert library_after > 5 * library_before > 0
    assert outlet_before > 3 * outlet_after > 0


def test_the_librarys_incidents_are_linked_explicitly_and_automatically(client, cs, demo_places):
    library = demo_places[LIBRARY]
    body = client.get(f"/api/incidents?place_id={library['id']}&limit=1000", headers=cs).json()
    assert body["numberReturned"] > 100
    assert {f["properties"]["place_id"] for f in body["features"]} == {library["id"]}
    assert {f["properties"]["place_link"] for f in body["features"]} == {"explicit", "auto"}


def test_following_next_links_walks_every_incident_once(client, cs, demo_places):
    outlet = demo_places[OUTLET]
    everything = client.get(f"/api/incidents?place_id={outlet['id']}&limit=1000", headers=cs).json()
    url: str | None = f"/api/incidents?place_id={outlet['id']}&limit=100"
    seen: list[int] = []
    while url:
        page = client.get(url, headers=cs).json()
        seen += [f["id"] for f in page["features"]]
        url = next((link["href"] for link in page["links"] if link["rel"] == "next"), None)
    assert len(seen) == len(set(seen)) == everything["numberReturned"] > 100
    assert seen == [f["id"] for f in everything["features"]]


def test_the_interventions_tell_the_story(client, cs, demo_places):
    outlet, library = demo_places[OUTLET], demo_places[LIBRARY]
    at_outlet = client.get(f"/api/interventions?place_id={outlet['id']}", headers=cs).json()["features"]
    wifi = [f["properties"] for f in at_outlet if f["properties"]["kind"] == "disruption"]
    assert [(w["description"], w["starts_on"]) for w in wifi] == [("Restaurant disabled its customer WiFi",
                                                                    "2025-09-01")]
    at_library = client.get(f"/api/interventions?place_id={library['id']}", headers=cs).json()["features"]
    kinds = {f["properties"]["kind"] for f in at_library}
    assert {"youth_provision", "guardianship_training"} <= kinds


def test_library_staff_are_trained_guardians(client, cs, demo_places):
    library = demo_places[LIBRARY]
    guardians = client.get(f"/api/guardians?place_id={library['id']}&role=staff", headers=cs).json()["features"]
    trainings = {t["kind"] for g in guardians for t in g["properties"]["trainings"]}
    assert {"bystander_intervention", "adolescent_development"} <= trainings


def test_the_panel_sees_the_history_but_no_reasons_and_no_incidents(client, demo_headers, demo_places):
    panel = demo_headers["panel"]
    rows = history(client, panel, demo_places[LIBRARY])
    assert [r["kind"] for r in rows] == ["safe_space", "concern", "safe_space"]
    assert all(r["reason"] is None for r in rows)
    response = client.get(f"/api/incidents?place_id={demo_places[LIBRARY]['id']}", headers=panel)
    assert response.status_code == 403


def test_the_demo_town_sees_only_its_own_places(client, cs, demo_places, org):
    theirs = client.get("/api/places?limit=1000", headers=org.headers("admin")).json()["features"]
    assert {f["id"] for f in demo_places.values()}.isdisjoint({f["id"] for f in theirs})
    assert client.get(f"/api/places/{demo_places[OUTLET]['id']}", headers=org.headers("admin")).status_code == 404


# ---- the browser --------------------------------------------------------------------------------------
@pytest.fixture
def browser(app: Any, demo: Any) -> Iterator[TestClient]:
    """A browser of its own: its cookies must not leak into the shared API client."""
    # No ``with``: entering would run the shared app's lifespan, whose exit disposes its database engine.
    c = TestClient(app)
    yield c
    c.close()


def test_sign_in_sets_a_strict_http_only_cookie_and_shows_places_under_review(browser):
    response = sign_in(browser, CS_EMAIL, CS_PASSWORD)
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("contextmap_session=")
    flags = {part.strip().lower() for part in cookie.split(";")}
    assert "httponly" in flags
    assert "samesite=strict" in flags

    home = browser.get("/")
    assert home.status_code == 200
    assert "text/html" in home.headers["content-type"]
    assert "Demo Town Community Safety Partnership" in home.text
    assert "Reviews due and overdue" in home.text
    # The bus interchange is the demo's current place of concern; the outlet's concerns have ended.
    assert "Townsend Bus Interchange" in home.text
    assert OUTLET not in home.text

    # The session also reads the API from the browser.
    assert browser.get("/api/places?kind=library").status_code == 200


def test_sign_in_returns_to_the_page_asked_for(browser):
    response = sign_in(browser, CS_EMAIL, CS_PASSWORD, next="/maps/hotspots")
    assert (response.status_code, response.headers["location"]) == (303, "/maps/hotspots")
    elsewhere = sign_in(browser, CS_EMAIL, CS_PASSWORD, next="https://evil.example/")
    assert elsewhere.headers["location"] == "/"


def test_home_page_asks_a_stranger_to_sign_in(browser):
    response = browser.get("/", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/signin?next=/"


@contextmanager
def _forget_sign_in_failures(database: Any) -> Iterator[None]:
    try:
        yield
    finally:
        with database.owner_session() as session:
            session.execute(text("DELETE FROM sign_in_failures"))


def test_wrong_password_is_401_and_five_failures_lock_sign_in(settings, database, demo):
    # The throttle lives in the database (shared by every worker): clear this lock-out afterwards so it
    # does not reach other tests.
    with TestClient(create_app(settings)) as fresh, _forget_sign_in_failures(database):
        for _ in range(5):
            wrong = sign_in(fresh, CS_EMAIL, "not-the-password")
            assert wrong.status_code == 401
            assert "set-cookie" not in wrong.headers
            assert "Wrong e-mail or password" in wrong.text
        locked = sign_in(fresh, CS_EMAIL, "still-wrong")
        assert locked.status_code == 429
        # Locked means locked: even the right password waits.
        right = sign_in(fresh, CS_EMAIL, CS_PASSWORD)
        assert right.status_code == 429
        assert "set-cookie" not in right.headers
        # Another user is not locked out.
        other = sign_in(fresh, "youth@demo.contextmap.test", "demo-youth-2026")
        assert other.status_code == 303
