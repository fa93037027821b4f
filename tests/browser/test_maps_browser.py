"""Every map page in headless Chromium, as a signed-in user of each role, against the demo town.

A page passes when it loads with no JavaScript or console error (a CSP violation is a console error),
asks nothing of any other site (tiles get an empty image), and shows a Leaflet map with its layers.
Screenshots land in ``test-artifacts/browser/`` for people to look at.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from geo.vocabulary import ROLES
from tests.browser.conftest import Browser

pytestmark = pytest.mark.browser

XSS_NAME = "<img src=x onerror=alert(1)>"
XSS_POINT = (-0.4465, 51.8612)  # a corner of the demo town, away from the story's places
LAYERS = {
    "hotspots": ["Kernel density", "Hotspot cells (Gi*)", "Young people feel unsafe here", "Places of concern",
                 "Interventions", "Safe spaces"],
    "safe-spaces": ["Walking catchment 15 min", "Walking catchment 10 min", "Safe spaces (open)",
                    "Safe spaces (closed)", "Places of concern"],
    "displacement": ["Target area", "Buffer", "Control area", "Before intervention", "After intervention",
                     "Rises elsewhere", "Monthly cells (time slider)"],
    "place": ["Incident cells", "Place", "Nearby places of concern", "Nearby safe spaces"],
}
# Layers drawn outside Leaflet's layer control (the time slider has its own control).
NOT_IN_CONTROL = {"Monthly cells (time slider)"}
MIN_SHAPES = {"hotspots": 30, "safe-spaces": 8, "displacement": 30, "place": 5}

FIND_MAP = "(() => window[document.querySelector('.folium-map').id])()"


@pytest.fixture(scope="module")
def demo_ids(client: Any, demo_headers: dict[str, dict[str, str]]) -> dict[str, Any]:
    headers = demo_headers["admin"]
    places = client.get("/api/places?limit=1000", headers=headers).json()["features"]
    interventions = client.get("/api/interventions?limit=1000", headers=headers).json()["features"]
    library = next(f for f in places if f["properties"]["name"] == "Wellgate Central Library")
    wifi = next(f["id"] for f in interventions if "WiFi" in (f["properties"]["description"] or ""))
    return {"library": library["id"], "library_lonlat": library["geometry"]["coordinates"], "wifi": wifi}


def _paths(ids: dict[str, Any]) -> dict[str, str]:
    # The safe-spaces map at a fixed demo time (a Wednesday afternoon in term, when the library and the
    # leisure centre are open): what is open "now" depends on the hour CI runs, and so do its shapes.
    return {"hotspots": "/maps/hotspots", "safe-spaces": "/maps/safe-spaces?at=2026-06-17T16:30",
            "displacement": f"/maps/displacement?intervention={ids['wifi']}", "place": f"/maps/places/{ids['library']}"}


@pytest.mark.parametrize("role", ROLES)
def test_every_map_page_works_for_every_role(
    browser: Browser, demo_ids: dict[str, Any], artifacts: Path, role: str
) -> None:
    for name, path in _paths(demo_ids).items():
        page, log = browser.open(role, path)
        try:
            page.wait_for_function("window.contextmapLayers !== undefined")
            page.wait_for_load_state("networkidle")
            assert page.evaluate("window.contextmapLayers") == LAYERS[name], f"{path} as {role}"
            overlays = page.locator(".leaflet-control-layers-overlays label").all_inner_texts()
            assert [o.strip() for o in overlays] == [n for n in LAYERS[name] if n not in NOT_IN_CONTROL]
            assert page.locator(".leaflet-interactive").count() >= MIN_SHAPES[name], f"{path} as {role}"
            for control in (".leaflet-control-scale", ".leaflet-control-zoom-fullscreen", ".contextmap-legend",
                            ".contextmap-filters"):
                assert page.locator(control).count() == 1, f"{path} as {role}: no {control}"
            if name == "displacement":
                assert page.locator(".leaflet-bar-timecontrol").count() == 1
                assert page.locator("[data-contextmap-swipe]").count() == 1
                assert page.locator("[data-contextmap-summary]").is_visible()
            if role == "panel":
                assert page.get_by_text("Panel view").is_visible()
            page.screenshot(path=artifacts / f"{name}-{role}.png")
            log.assert_clean(f"{path} as {role}")
        finally:
            page.close()


def test_the_intervention_chooser(browser: Browser, demo_ids: dict[str, Any], artifacts: Path) -> None:
    page, log = browser.open("panel", "/maps/displacement")
    try:
        link = page.locator(f'a[href="/maps/displacement?intervention={demo_ids["wifi"]}"]')
        assert link.count() == 1
        with page.expect_navigation():
            link.click()
        page.wait_for_function("window.contextmapLayers !== undefined")
        page.screenshot(path=artifacts / "displacement-chosen-panel.png")
        log.assert_clean("the chooser")
    finally:
        page.close()


def _metres(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    dx = (lon2 - lon1) * 111_320 * math.cos(math.radians(lat1))
    return math.hypot(dx, (lat2 - lat1) * 111_250)


def _mean(series: dict[str, float], first: str, last: str) -> float:
    values = [v for month, v in series.items() if first <= month <= last]
    assert values, (first, last)
    return sum(values) / len(values)


@pytest.mark.parametrize("role", ["community_safety", "panel"])
def test_displacement_tells_the_demo_story(browser: Browser, demo_ids: dict[str, Any], role: str) -> None:
    """WiFi off at the outlet (Sep 2025): harm moves to the library, then settles after the youth club."""
    page, log = browser.open(role, _paths(demo_ids)["displacement"])
    try:
        page.wait_for_function("window.contextmapData && window.contextmapData.displacement")
        data = page.evaluate("window.contextmapData.displacement")
        log.assert_clean(f"displacement as {role}")
    finally:
        page.close()
    assert data["intervention_date"] == "2025-09-01"
    assert "Wellgate Central Library" in [r["name"] for r in data["rises"]]
    lon, lat = demo_ids["library_lonlat"]
    near = [c for c in data["cells"] if _metres(lon, lat, c["lon"], c["lat"]) < 200]
    assert near, "no monthly cells around the library"
    series = {m: float(sum(c["counts"].get(m) or 0 for c in near)) for m in data["months"]}
    before = _mean(series, "2024-12", "2025-08")
    displaced = _mean(series, "2025-10", "2026-02")
    settled = _mean(series, "2026-05", "2026-08")
    assert displaced > 3 * max(before, 1.0), series
    assert settled < displaced / 2, series


@pytest.fixture()
def xss_place(client: Any, demo_headers: dict[str, dict[str, str]]) -> Iterator[int]:
    """A place named like an XSS payload — open around the clock, a safe space and a place of concern."""
    headers = demo_headers["admin"]
    response = client.post("/api/places", headers=headers, json={
        "type": "Feature", "geometry": {"type": "Point", "coordinates": list(XSS_POINT)},
        "properties": {"name": XSS_NAME, "kind": "other", "opening_hours": "Mo-Su 00:00-24:00"}})
    assert response.status_code == 201, response.text
    place_id = int(response.json()["id"])
    try:
        for kind, extra in (("safe_space", {"scheme": XSS_NAME}), ("concern", {"level": "low", "reason": XSS_NAME})):
            made = client.post("/api/designations", headers=headers, json={
                "place_id": place_id, "kind": kind, "valid_from": "2020-01-01T00:00:00Z", **extra})
            assert made.status_code == 201, made.text
        yield place_id
    finally:
        assert client.delete(f"/api/places/{place_id}", headers=headers).status_code == 204


OPEN_XSS_LABELS = f"""() => {{
    const map = {FIND_MAP};
    let opened = 0;
    map.eachLayer(layer => {{
        const tooltip = layer.getTooltip && layer.getTooltip();
        if (tooltip && String(tooltip.getContent()).includes('&lt;img')) {{ layer.openTooltip(); opened++; }}
    }});
    return opened;
}}"""
OPEN_XSS_POPUP = f"""() => {{
    const map = {FIND_MAP};
    let opened = 0;
    map.eachLayer(layer => {{
        const popup = layer.getPopup && layer.getPopup();
        if (!opened && popup && String(popup.getContent().innerHTML || popup.getContent()).includes('&lt;img')) {{
            layer.openPopup(); opened++;
        }}
    }});
    return opened;
}}"""


def test_a_place_named_like_a_script_shows_as_text(
    browser: Browser, xss_place: int, artifacts: Path
) -> None:
    for path in (f"/maps/places/{xss_place}", "/maps/hotspots", "/maps/safe-spaces"):
        for role in ("admin", "panel"):
            page, log = browser.open(role, path)
            try:
                page.wait_for_function("window.contextmapLayers !== undefined")
                assert page.evaluate(OPEN_XSS_LABELS) >= 1, f"{path} as {role}: no label names the place"
                assert page.locator(".leaflet-tooltip", has_text=XSS_NAME).first.is_visible()
                assert page.evaluate(OPEN_XSS_POPUP) == 1, f"{path} as {role}: no popup names the place"
                assert page.locator(".leaflet-popup-content", has_text=XSS_NAME).is_visible()
                if path.startswith("/maps/places/"):
                    assert page.locator(".contextmap-filters h1", has_text=XSS_NAME).is_visible()
                if path == "/maps/safe-spaces":
                    # A click beside it lists the nearest open safe spaces: the name is text there too.
                    page.evaluate("() => " + FIND_MAP + ".closePopup()")
                    # The map sits under the shell's header: centre it on the place so the click is in view.
                    page.evaluate(f"() => {FIND_MAP}.setView([{XSS_POINT[1]}, {XSS_POINT[0]}], {FIND_MAP}.getZoom(),"
                                  " {animate: false})")
                    x, y = page.evaluate(
                        f"() => {{ const p = {FIND_MAP}.latLngToContainerPoint([{XSS_POINT[1]}, {XSS_POINT[0]}]);"
                        " return [p.x, p.y]; }")
                    box = page.locator(".folium-map").bounding_box()
                    assert box is not None
                    page.mouse.click(box["x"] + x + 25, box["y"] + y + 25)
                    # The nearest list is drawn after the click: wait for it.
                    page.locator("[data-contextmap-nearest]", has_text=XSS_NAME).wait_for(state="visible")
                page.wait_for_timeout(200)  # give an injected handler its chance to fire
                assert page.locator("img[src=x]").count() == 0
                page.screenshot(path=artifacts / f"xss-{path.strip('/').replace('/', '-')}-{role}.png")
                log.assert_clean(f"{path} as {role}")
            finally:
                page.close()
