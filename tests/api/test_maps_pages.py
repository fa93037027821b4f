"""The map pages over HTTP: every page for every role, its CSP, offline assets, privacy, escaping, 404s."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from app.db.demo_loader import DemoLogin
from app.db.session import Database
from app.web.maps.assets import inline_script_hashes, missing_assets
from geo.vocabulary import ROLES
from tests.conftest import Org, create_place, sign_in

XSS_NAME = "<img src=x onerror=alert(1)>"
# branca compiles rendered map scripts as Jinja templates: user text must never be evaluated there.
TEMPLATE_NAME = "{{ 7*7 }}x{{ lipsum.__globals__.os.getpid() }}y{% if 1 %}z{% endif %}{# c"
# A corner of the demo town, away from the story's places (and from other tests' expectations).
XSS_POINT = (-0.4465, 51.8612)
# Free text the panel must never see: a concern's reason, an intervention's description, an incident's
# description and a guardian's description, all from the demo scenario.
FREE_TEXT = (
    "Repeated robberies and fights among young people",
    "Restaurant disabled its customer WiFi",
    "Young people seen exchanging small packages",
    "Library staff on the teen floor",
)


@pytest.fixture(scope="module")
def demo_ids(client: Any, demo: list[DemoLogin], demo_headers: dict[str, dict[str, str]]) -> dict[str, int]:
    headers = demo_headers["admin"]
    places = client.get("/api/places?limit=1000", headers=headers).json()["features"]
    interventions = client.get("/api/interventions?limit=1000", headers=headers).json()["features"]
    by_name = {f["properties"]["name"]: f["id"] for f in places}
    wifi = next(f["id"] for f in interventions if "WiFi" in (f["properties"]["description"] or ""))
    return {"library": by_name["Wellgate Central Library"], "outlet": by_name["Chicken Shack Express"],
            "wifi": wifi}


def map_pages(ids: dict[str, int]) -> list[str]:
    return ["/maps/hotspots", "/maps/safe-spaces", f"/maps/displacement?intervention={ids['wifi']}",
            f"/maps/places/{ids['library']}"]


@pytest.fixture(scope="module")
def pages(client: Any, demo_headers: dict[str, dict[str, str]], demo_ids: dict[str, int]) -> dict[tuple[str, str], Any]:
    """Every map page as every role, fetched once for the module."""
    return {(role, url): client.get(url, headers=demo_headers[role]) for role in ROLES for url in map_pages(demo_ids)}


def _script_src(csp: str) -> str:
    return next(d for d in csp.split(";") if d.strip().startswith("script-src")).strip()


def test_every_map_page_is_html_with_a_csp_naming_its_inline_scripts(pages: dict[tuple[str, str], Any]) -> None:
    for (role, url), response in pages.items():
        assert response.status_code == 200, f"{url} as {role}: {response.status_code} {response.text[:300]}"
        assert response.headers["content-type"].startswith("text/html"), url
        script_src = _script_src(response.headers["content-security-policy"])
        hashes = inline_script_hashes(response.text)
        assert hashes, url
        assert all(h in script_src for h in hashes), f"{url} as {role}: a script hash is missing from the CSP"
        assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
        assert "object-src 'none'" in response.headers["content-security-policy"]


def test_every_map_page_loads_its_assets_from_our_own_origin(pages: dict[tuple[str, str], Any]) -> None:
    for (role, url), response in pages.items():
        assert missing_assets(response.text) == [], f"{url} as {role}"
        assert "netdna.bootstrapcdn.com" not in response.text, f"{url} as {role}: CDN font left in a stylesheet"


def test_every_map_page_has_its_layers_controls_and_legend(pages: dict[tuple[str, str], Any]) -> None:
    expected = {
        "/maps/hotspots": ["Hotspot cells (Gi*)", "Young people feel unsafe here", "Kernel density",
                           "Places of concern", "Interventions", "Safe spaces"],
        "/maps/safe-spaces": ["Safe spaces (open)", "Safe spaces (closed)", "Walking catchment 10 min",
                              "Walking catchment 15 min", "Places of concern"],
        "/maps/displacement": ["Target area", "Buffer", "Control area", "Before intervention",
                               "After intervention", "Rises elsewhere", "Monthly cells (time slider)"],
        "/maps/places": ["Place", "Incident cells", "Nearby places of concern", "Nearby safe spaces"],
    }
    for (role, url), response in pages.items():
        layers = next(v for k, v in expected.items() if url.startswith(k))
        for name in layers:
            assert name in response.text, f"{url} as {role}: no layer {name!r}"
        for control in ("L.control.layers", "L.control.scale", "L.control.fullscreen", "data-contextmap-legend"):
            assert control in response.text, f"{url} as {role}: no {control}"


def _incident_points(database: Database, slug: str = "demo-town") -> list[tuple[float, float]]:
    with database.owner_session() as session:
        rows = session.execute(text(
            "SELECT ST_X(i.geom), ST_Y(i.geom) FROM incidents i JOIN organisations o ON o.id = i.organisation_id "
            "WHERE o.slug = :slug"), {"slug": slug}).all()
    return [(round(float(x), 6), round(float(y), 6)) for x, y in rows]


_PAIR = re.compile(r"\[\s*(-?\d+\.\d+)\s*,\s*(-?\d+\.\d+)\s*\]")
_LAT_LON = re.compile(r'"lat":\s*(-?\d+\.\d+),\s*"lon":\s*(-?\d+\.\d+)')


def _coordinate_pairs(html: str) -> set[tuple[float, float]]:
    """Every coordinate pair in the page as (lon, lat): GeoJSON [lon, lat], Leaflet [lat, lon], {lat, lon}."""
    pairs = set()
    for a, b in _PAIR.findall(html):
        x, y = round(float(a), 6), round(float(b), 6)
        pairs.update({(x, y), (y, x)})
    for lat, lon in _LAT_LON.findall(html):
        pairs.add((round(float(lon), 6), round(float(lat), 6)))
    return pairs


def test_no_map_embeds_an_incident_location(pages: dict[tuple[str, str], Any], database: Database) -> None:
    incidents = set(_incident_points(database))
    assert len(incidents) > 1000
    for (role, url), response in pages.items():
        pairs = _coordinate_pairs(response.text)
        assert len(pairs) > 5, url  # the check sees the page's coordinates
        leaked = incidents & pairs
        assert not leaked, f"{url} as {role} embeds incident coordinates, e.g. {sorted(leaked)[0]}"


def test_panel_pages_carry_no_free_text(pages: dict[tuple[str, str], Any], demo_ids: dict[str, int]) -> None:
    for url in map_pages(demo_ids):
        html = pages[("panel", url)].text
        for text_ in FREE_TEXT:
            assert text_ not in html, f"{url}: the panel sees {text_!r}"
        assert "Disclosure" in html or "Panel view" in html
    # The same pages do show it to practitioners: the check above is not vacuous.
    assert FREE_TEXT[0] in pages[("community_safety", "/maps/hotspots")].text
    assert FREE_TEXT[1] in pages[("community_safety", map_pages(demo_ids)[2])].text


def test_panel_counts_are_disclosure_controlled(pages: dict[tuple[str, str], Any], demo_ids: dict[str, int]) -> None:
    html = pages[("panel", map_pages(demo_ids)[2])].text
    summary = re.findall(r"(\d[\d,]*) before \\u2192 (\d[\d,]*) after|(\d[\d,]*) before → (\d[\d,]*) after", html)
    counts = [int(c.replace(",", "")) for group in summary for c in group if c]
    assert counts, "no before/after counts in the panel's displacement summary"
    assert all(c == 0 or (c > 7 and c % 5 == 0) for c in counts), counts
    monthly = [int(n) for n in re.findall(r"\d{4}-\d\d: (\d+)", html)]
    assert monthly and all(n == 0 or (n > 7 and n % 5 == 0) for n in monthly)
    assert "suppressed (fewer than 8)" in html


def test_unknown_ids_are_html_404s(client: Any, demo_headers: dict[str, dict[str, str]]) -> None:
    for url in ("/maps/places/987654321", "/maps/displacement?intervention=987654321"):
        response = client.get(url, headers=demo_headers["community_safety"])
        assert response.status_code == 404, url
        assert response.headers["content-type"].startswith("text/html")
        assert "Not found" in response.text


def test_bad_parameters_are_html_422s_naming_the_field(client: Any, demo_headers: dict[str, dict[str, str]]) -> None:
    for url, field in (("/maps/places/abc", "place_id"), ("/maps/displacement?intervention=abc", "intervention"),
                       ("/maps/hotspots?from=yesterday", "from"), ("/maps/hotspots?harm=gossip", "harm"),
                       ("/maps/hotspots?from=2026-05-01&to=2026-01-01", "from"),
                       ("/maps/safe-spaces?at=teatime", "at")):
        response = client.get(url, headers=demo_headers["youth_worker"])
        assert response.status_code == 422, url
        assert response.headers["content-type"].startswith("text/html")
        assert field in response.text, url


def test_other_organisations_ids_are_404(client: Any, other_org: Org, demo_headers: dict[str, dict[str, str]]) -> None:
    place = create_place(client, other_org, role="admin")
    body = {"type": "Feature", "geometry": None,
            "properties": {"place_id": place["id"], "kind": "outreach", "description": "Detached youth work",
                           "owning_partner": "Youth service", "starts_on": "2026-01-05"}}
    response = client.post("/api/interventions", json=body, headers=other_org.headers("admin"))
    assert response.status_code == 201, response.text
    for url in (f"/maps/places/{place['id']}", f"/maps/displacement?intervention={response.json()['id']}"):
        for role in ROLES:
            assert client.get(url, headers=demo_headers[role]).status_code == 404, f"{url} as {role}"


def test_the_chooser_lists_the_organisations_interventions(
    client: Any, demo_headers: dict[str, dict[str, str]], demo_ids: dict[str, int]
) -> None:
    cs = client.get("/maps/displacement", headers=demo_headers["community_safety"])
    assert cs.status_code == 200
    assert f'href="/maps/displacement?intervention={demo_ids["wifi"]}"' in cs.text
    assert "Restaurant disabled its customer WiFi" in cs.text
    panel = client.get("/maps/displacement", headers=demo_headers["panel"])
    assert f'href="/maps/displacement?intervention={demo_ids["wifi"]}"' in panel.text
    assert "Restaurant disabled its customer WiFi" not in panel.text
    # The owning partner is free text too: staff see it, a panel does not.
    assert "Police neighbourhood team" in cs.text
    assert "Police neighbourhood team" not in panel.text


def test_signed_out_browsers_are_sent_to_sign_in(app: Any) -> None:
    response = TestClient(app).get("/maps/hotspots", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/signin")


def test_filters_change_what_the_hotspot_map_counts(client: Any, demo_headers: dict[str, dict[str, str]]) -> None:
    everything = client.get("/maps/hotspots?from=2025-01-01&to=2025-12-31", headers=demo_headers["admin"])
    drugs = client.get("/maps/hotspots?from=2025-01-01&to=2025-12-31&harm=drugs", headers=demo_headers["admin"])
    assert everything.status_code == drugs.status_code == 200
    # The filter box is a Leaflet control whose HTML travels as a JSON string: quotes are escaped.
    assert "<title>Hotspots: drugs" in drugs.text and 'value=\\"drugs\\" checked' in drugs.text
    assert 'value=\\"2025-01-01\\"' in drugs.text

    def total(html: str) -> int:
        return sum(int(n) for n in re.findall(r"Incidents: (\d+)", html))

    assert 0 < total(drugs.text) < total(everything.text)


def _hostile_place(client: Any, headers: dict[str, str], name: str) -> int:
    """A place with a hostile name: a safe space (open all day) and a place of concern, in the demo town."""
    place = client.post("/api/places", headers=headers, json={
        "type": "Feature", "geometry": {"type": "Point", "coordinates": list(XSS_POINT)},
        "properties": {"name": name, "kind": "other", "opening_hours": "Mo-Su 00:00-24:00"}})
    assert place.status_code == 201, place.text
    place_id = int(place.json()["id"])
    for kind, extra in (("safe_space", {"scheme": name}), ("concern", {"level": "low", "reason": name})):
        response = client.post("/api/designations", headers=headers, json={
            "place_id": place_id, "kind": kind, "valid_from": "2020-01-01T00:00:00Z", **extra})
        assert response.status_code == 201, response.text
    return place_id


@pytest.fixture()
def xss_place(client: Any, demo_headers: dict[str, dict[str, str]]) -> Iterator[int]:
    """A place named like an XSS payload, removed afterwards (other tests share the demo town)."""
    place_id = _hostile_place(client, demo_headers["admin"], XSS_NAME)
    yield place_id
    assert client.delete(f"/api/places/{place_id}", headers=demo_headers["admin"]).status_code == 204


@pytest.fixture()
def template_place(client: Any, demo_headers: dict[str, dict[str, str]]) -> Iterator[int]:
    place_id = _hostile_place(client, demo_headers["admin"], TEMPLATE_NAME)
    yield place_id
    assert client.delete(f"/api/places/{place_id}", headers=demo_headers["admin"]).status_code == 204


def test_user_text_is_never_evaluated_as_a_template(
    client: Any, demo_headers: dict[str, dict[str, str]], template_place: int
) -> None:
    for url in (f"/maps/places/{template_place}", "/maps/hotspots", "/maps/safe-spaces"):
        for role in ("admin", "panel"):
            html = client.get(url, headers=demo_headers[role]).text
            assert "49x" not in html and re.search(r"x\d+y", html) is None, f"{url} as {role}: evaluated"
            assert "&#123;&#123; 7*7 &#125;&#125;x" in html or "{\\u007b 7*7 }}x" in html, f"{url} as {role}"


def test_user_text_is_escaped_on_every_map(
    client: Any, demo_headers: dict[str, dict[str, str]], xss_place: int
) -> None:
    for url in (f"/maps/places/{xss_place}", "/maps/hotspots", "/maps/safe-spaces"):
        for role in ("admin", "panel"):
            html = client.get(url, headers=demo_headers[role]).text
            assert "&lt;img src=x onerror=alert(1)&gt;" in html, f"{url} as {role}: the name is not shown"
            assert XSS_NAME not in html, f"{url} as {role}: the name is not escaped"


def test_home_links_the_maps_places_under_review_and_interventions(
    client: Any, demo_headers: dict[str, dict[str, str]], demo_ids: dict[str, int]
) -> None:
    for role in ROLES:
        html = client.get("/", headers=demo_headers[role]).text
        for href in ("/maps/hotspots", "/maps/safe-spaces", "/maps/displacement",
                     f"/maps/displacement?intervention={demo_ids['wifi']}"):
            assert f'href="{href}"' in html, f"home as {role}: no link to {href}"
        assert 'href="/places/' in html
        assert ("Restaurant disabled its customer WiFi" in html) == (role != "panel"), role


def test_sign_in_returns_to_the_map_asked_for(app: Any, demo: list[DemoLogin], demo_ids: dict[str, int]) -> None:
    browser = TestClient(app)
    wanted = f"/maps/displacement?intervention={demo_ids['wifi']}&months_before=6"
    redirect = browser.get(wanted, follow_redirects=False)
    assert redirect.status_code == 303
    login = next(d for d in demo if d.role == "youth_worker")
    signin = browser.get(redirect.headers["location"])
    next_value = re.search(r'name="next" value="([^"]*)"', signin.text)
    assert next_value is not None
    response = sign_in(browser, login.email, login.password, next=next_value.group(1).replace("&amp;", "&"))
    assert response.status_code == 303 and response.headers["location"] == wanted


def test_panel_map_popups_and_tables_carry_no_free_text(pages: dict[tuple[str, str], Any]) -> None:
    """Popups, tooltips and the tables under every map: the panel never gets free text (geo.privacy), such as a
    place's address or manager, an intervention's owning partner or a safe space's help offered (a new-user
    walk-through found them in popups). Staff see them, so the test has teeth."""
    withheld = ("1 Library Square", "Library service manager", "Police neighbourhood team", "charge a phone")
    staff = " ".join(r.text for (role, _), r in pages.items() if role == "community_safety")
    assert all(value in staff for value in withheld), [v for v in withheld if v not in staff]
    for (role, url), response in pages.items():
        if role == "panel":
            leaked = [value for value in withheld if value in response.text]
            assert not leaked, f"{url}: {leaked}"


def test_hotspot_table_explains_a_hot_spot_without_incidents_of_its_own() -> None:
    """Gi* counts a cell's neighbours: a hot cell with 0 incidents says so, and the table says why."""
    import geopandas as gpd
    from shapely.geometry import box

    from app.web.maps.page import table_html
    from app.web.maps.pages import HOTSPOT_NOTE, NEIGHBOURS_ONLY, _hotspot_table

    cells = gpd.GeoDataFrame({"count": [0, 12, 0, None], "gi_bin": [3, 3, -2, 1],
                              "flag": ["/places/flag?cell=1,2&size=100", "/places/flag?cell=2,2&size=100", None,
                                       "/places/flag?cell=3,2&size=100"]},
                             geometry=[box(i, 0, i + 1, 1) for i in range(4)], crs="EPSG:4326")
    table = _hotspot_table(cells, [], "suppressed")
    assert table.headers[-1] == "Flag" and table.note == HOTSPOT_NOTE
    findings = {str(r[0]): r for r in table.rows}
    assert f"Hot spot — very likely, 99 %: {NEIGHBOURS_ONLY}" in findings  # the 0-incident hot cell
    assert "Hot spot — very likely, 99 %" in findings  # 12 incidents: no explanation needed
    assert "Cold spot — likely, 95 %" in findings and findings["Cold spot — likely, 95 %"][-1] == "—"
    assert findings["Hot spot — possibly, 90 %"][1] == "suppressed"  # unknown count: nothing claimed
    html = table_html(table, 1)
    assert html.count("data-flag-hotspot") == 3 and "cell=1,2&amp;size=100" in html and HOTSPOT_NOTE in html
    # A role that may not flag: no column.
    assert _hotspot_table(cells.drop(columns="flag"), [], "suppressed").headers[-1] == "Places in or next to it"


def test_hotspot_rows_link_to_the_flag_form_for_roles_that_may_flag(
    client: Any, demo_headers: dict[str, dict[str, str]]
) -> None:
    url = "/maps/hotspots?from=2025-07-01&to=2026-06-30"
    staff = client.get(url, headers=demo_headers["community_safety"]).text
    tables = staff.split('id="contextmap-tables"', 1)[1]
    hot_table = tables.split("</table>", 1)[0]
    rows = re.findall(r'<tr class="govuk-table__row">(.*?)</tr>', hot_table)[1:]
    hot = [r for r in rows if "Hot spot" in r]
    assert hot, "the demo town has hot spots in this year"
    links = [re.search(r'href="(/places/flag\?[^"]+)"', r) for r in hot]
    assert all(links), "every hot-spot row links to the flag form"
    assert not any("data-flag-hotspot" in r for r in rows if "Cold spot" in r)
    for row in hot:  # a hot row with no incidents of its own says its neighbours had them
        cells = re.findall(r'<td class="govuk-table__cell">(.*?)</td>', row)
        assert (cells[1] == "0") == ("the cells around it had them" in cells[0]), cells
    assert "neighbours have many" in tables  # the table's note
    form = client.get(links[0].group(1).replace("&amp;", "&"), headers=demo_headers["community_safety"])  # type: ignore[union-attr]
    assert form.status_code == 200 and "data-flag-form" in form.text
    for role in ("youth_worker", "panel"):  # the role table: they may not flag
        page = client.get(url, headers=demo_headers[role]).text
        assert "data-flag-hotspot" not in page and "/places/flag?" not in page


def test_a_map_pages_error_needs_no_second_heavy_connection(database: Database, settings: Any) -> None:
    """The failing map route still holds the heavy lane's only connection: the error page's header takes
    the organisation's name from the cheap lane, so it answers at once and keeps the name (it used to wait
    out the pool timeout, log "QueuePool limit of size 1 ... timed out" and lose the name)."""
    from app.main import create_app
    from tests.conftest import make_org

    org = make_org(database, settings)
    tight = settings.model_copy(update={"heavy_pool_size": 1, "pool_timeout_seconds": 0.5})
    with TestClient(create_app(tight)) as fresh:
        for url, status in (("/maps/hotspots?from=2026-13-01", 422), ("/maps/displacement?intervention=999", 404),
                            ("/maps/places/987654321", 404)):
            for role in ("panel", "community_safety"):
                response = fresh.get(url, headers={**org.headers(role), "Accept": "text/html"})
                assert response.status_code == status, (url, role, response.text[:300])
                assert response.headers["content-type"].startswith("text/html")
                assert f"Test {org.slug}" in response.text, (url, role)
