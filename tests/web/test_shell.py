"""The web application's shell without a browser: sign-in (with its login CSRF token), error pages for
browsers and problem+json for the API, the home page per role and the places pages' escaping."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.db.demo_loader import DemoLogin
from geo.vocabulary import ROLES
from tests.conftest import sign_in

HTML = {"Accept": "text/html,application/xhtml+xml"}


@pytest.fixture
def browser(app: Any, demo: list[DemoLogin]) -> Iterator[TestClient]:
    c = TestClient(app)  # no ``with``: the shared app's lifespan would dispose its engine on exit
    yield c
    c.close()


def _login(demo: list[DemoLogin], role: str) -> DemoLogin:
    return next(login for login in demo if login.role == role)


def test_sign_in_without_the_login_csrf_token_is_refused_and_nothing_is_issued(
    browser: TestClient, demo: list[DemoLogin]
) -> None:
    # Login CSRF (issue 10): a cross-site form posting an attacker's credentials must not sign the victim in.
    login = _login(demo, "community_safety")
    forged = browser.post("/signin", data={"email": login.email, "password": login.password},
                          follow_redirects=False)
    assert forged.status_code == 403
    assert "contextmap_session" not in forged.headers.get("set-cookie", "")
    # A token from another pre-session cookie does not fit this one.
    browser.get("/signin")
    other = TestClient(browser.app)
    stolen = re.search(r'name="csrf_token" value="([^"]+)"', other.get("/signin").text)
    assert stolen is not None
    replayed = browser.post("/signin", follow_redirects=False,
                            data={"email": login.email, "password": login.password, "csrf_token": stolen.group(1)})
    assert replayed.status_code == 403
    assert "contextmap_session" not in replayed.headers.get("set-cookie", "")
    assert sign_in(browser, login.email, login.password).status_code == 303


def test_wrong_password_keeps_the_email_and_shows_the_error_summary(browser: TestClient, demo: list[DemoLogin]) -> None:
    login = _login(demo, "youth_worker")
    response = sign_in(browser, login.email, "not-the-password")
    assert response.status_code == 401
    assert f'value="{login.email}"' in response.text
    assert "govuk-error-summary" in response.text and "Wrong e-mail or password." in response.text
    assert '<html lang="en-GB"' in response.text
    viewport = re.search(r'<meta name="viewport" content="([^"]+)"', response.text)
    assert viewport is not None
    assert "user-scalable" not in viewport.group(1) and "maximum-scale" not in viewport.group(1)


def test_browsers_get_error_pages_and_the_api_keeps_problem_json(
    client: TestClient, demo_headers: dict[str, dict[str, str]]
) -> None:
    missing = client.get("/places/999999999", headers={**demo_headers["admin"], **HTML})
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("text/html")
    assert "Page not found" in missing.text and "govuk-header" in missing.text
    unknown = client.get("/no-such-page", headers=HTML)
    assert unknown.status_code == 404 and "Page not found" in unknown.text
    bad = client.get("/places/not-a-number", headers={**demo_headers["admin"], **HTML})
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("text/html")
    api = client.get("/api/places/999999999", headers={**demo_headers["admin"], **HTML})
    assert api.status_code == 404 and api.headers["content-type"].startswith("application/problem+json")
    stranger = client.get("/places", headers=HTML, follow_redirects=False)
    assert stranger.status_code == 303 and stranger.headers["location"] == "/signin?next=/places"
    refused = client.get("/places/1/guardians/new", headers={**demo_headers["panel"], **HTML})
    assert refused.status_code == 403 and "You cannot do this with your role" in refused.text


def _title(html: str) -> str:
    found = re.search(r"<title>(.*?)</title>", html)
    assert found is not None
    return found.group(1)


def test_page_titles_name_the_service_once(client: TestClient, demo_headers: dict[str, dict[str, str]]) -> None:
    """Signed out (no organisation known), an error page's title read "Page not found – contextmap – contextmap"."""
    assert _title(client.get("/no-such-page", headers=HTML).text) == "Page not found – contextmap"
    assert _title(client.get("/signin", headers=HTML).text).count("contextmap") == 1
    signed_in = _title(client.get("/places/999999999", headers={**demo_headers["admin"], **HTML}).text)
    assert signed_in.startswith("Page not found – ") and signed_in.endswith(" – contextmap")
    assert signed_in.count("contextmap") == 1 and len(signed_in.split(" – ")) == 3  # with the organisation
    expired = client.post("/places/new", headers=HTML, data={"name": "x"})
    assert _title(expired.text) == "You need to sign in – contextmap"


@pytest.mark.parametrize("role", ROLES)
def test_home_and_places_show_the_shell_for_each_role(
    client: TestClient, demo_headers: dict[str, dict[str, str]], role: str
) -> None:
    home = client.get("/", headers=demo_headers[role])
    assert home.status_code == 200
    assert "Demo Town Community Safety Partnership" in home.text
    assert 'href="#main-content"' in home.text and "govuk-service-navigation" in home.text
    assert "Sign out" in home.text
    assert ('href="/places/new"' in home.text) == (role != "panel")
    places = client.get("/places?q=Wellgate&sort=review&order=desc", headers=demo_headers[role])
    assert places.status_code == 200 and "Wellgate Central Library" in places.text
    assert 'aria-sort="descending"' in places.text
    # An address is free text (geo.privacy.FREE_TEXT_FIELDS): a panel does not see it in the list either.
    assert ("1 Library Square" in places.text) == (role != "panel")


def _library_id(client: TestClient, headers: dict[str, str]) -> int:
    places = client.get("/api/places?limit=1000", headers=headers).json()["features"]
    return int(next(f["id"] for f in places if f["properties"]["name"] == "Wellgate Central Library"))


def test_place_page_brings_the_library_story_together(
    client: TestClient, demo_headers: dict[str, dict[str, str]]
) -> None:
    library = _library_id(client, demo_headers["admin"])
    html = client.get(f"/places/{library}", headers=demo_headers["community_safety"]).text
    assert html.count('class="cm-timeline__item') == 3  # safe space -> concern -> safe space again
    assert "Open today" in html or "Closed today" in html
    assert "Library staff on the teen floor" in html and "Bystander intervention" in html
    assert "data-harm-chart" in html and "data-suppressed" not in html
    assert f'href="/maps/places/{library}"' in html and "/maps/displacement?intervention=" in html


def test_panel_sees_the_place_page_without_free_text_and_with_suppressed_months_marked(
    client: TestClient, demo_headers: dict[str, dict[str, str]]
) -> None:
    library = _library_id(client, demo_headers["admin"])
    html = client.get(f"/places/{library}", headers=demo_headers["panel"]).text
    assert "Library staff on the teen floor" not in html  # a guardian's description is free text
    assert "fights, ASB complaints" not in html  # a designation's reason is free text
    assert "Panel view" in html
    # Months with 1..7 incidents are hatched and labelled, never drawn or written as zero.
    assert "data-suppressed" in html and "Suppressed (1 to 7)" in html
    assert "Change the place's details" not in html and "Add a guardian" not in html


def test_pages_show_free_text_columns_by_the_request_disclosure_not_by_role(
    client: TestClient, demo_headers: dict[str, dict[str, str]]
) -> None:
    """The interventions pages and home show or hide free text from the one rule (Disclosure.shows_free_text)."""
    staff = client.get("/interventions", headers=demo_headers["community_safety"]).text
    panel = client.get("/interventions?partner=police", headers=demo_headers["panel"]).text
    assert "Owned by" in staff and 'name="partner"' in staff
    assert "Owned by" not in panel and 'name="partner"' not in panel
    # A partner filter typed into the address bar is ignored for the panel: it would reveal hidden text.
    assert panel.count("data-interventions-table") == staff.count("data-interventions-table") == 1
    intervention = client.get("/api/interventions?limit=1", headers=demo_headers["admin"]).json()["features"][0]
    page = client.get(f"/interventions/{intervention['id']}", headers=demo_headers["panel"]).text
    assert "Panels see the title and the summary" in page and "What is being done" not in page
    assert "Panel view" in client.get("/", headers=demo_headers["panel"]).text
    assert "Panel view" not in client.get("/", headers=demo_headers["community_safety"]).text


def test_an_unexpected_error_is_a_page_for_browsers_and_a_problem_for_the_api(settings: Any) -> None:
    from app.main import create_app

    app = create_app(settings)

    @app.get("/places-boom", include_in_schema=False)
    def boom() -> None:
        raise RuntimeError("SELECT secret FROM somewhere")

    with TestClient(app, raise_server_exceptions=False) as fresh:
        page = fresh.get("/places-boom", headers=HTML)
        assert page.status_code == 500 and page.headers["content-type"].startswith("text/html")
        assert "Sorry, there is a problem with the service" in page.text and "secret" not in page.text
        api = fresh.get("/places-boom")
        assert api.status_code == 500 and api.headers["content-type"].startswith("application/problem+json")
        # A form posted after the session ended: a page that says to sign in again, not a problem document.
        expired = fresh.post("/places/new", headers=HTML, data={"name": "x"})
        assert expired.status_code == 401 and "You need to sign in" in expired.text
        assert 'href="/signin?next=/places/new"' in expired.text
