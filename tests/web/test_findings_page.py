"""The intervention findings page and the glossary (issue 17): plain-English findings from the same
disclosure-controlled displacement service the API uses; the panel sees no free text and no small count."""

from __future__ import annotations

import html
import json
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

HTML = {"Accept": "text/html,application/xhtml+xml"}


@pytest.fixture(scope="module")
def wifi(client: TestClient, demo_headers: dict[str, dict[str, str]]) -> dict[str, Any]:
    found = client.get("/api/interventions?limit=1000", headers=demo_headers["community_safety"]).json()
    return next(f for f in found["features"] if "WiFi" in (f["properties"]["description"] or ""))


def test_staff_see_the_title_and_plain_english_findings(
    client: TestClient, demo_headers: dict[str, dict[str, str]], wifi: dict[str, Any]
) -> None:
    response = client.get(f"/interventions/{wifi['id']}/findings", headers={**demo_headers["community_safety"], **HTML})
    assert response.status_code == 200, response.text
    text = response.text
    assert wifi["properties"]["description"] in text
    assert re.search(r'data-finding="rate_ratio" data-verdict="fell"', text)  # the demo's outlet improved
    assert "Harm at Chicken Shack Express fell by about" in text
    assert "95 % interval" in text
    for measure in ("wdd", "wdq", "total_net_effect", "places_rising"):
        assert f'data-finding="{measure}"' in text
    assert f'href="/maps/displacement?intervention={wifi["id"]}"' in text and 'href="/glossary"' in text


def test_the_panel_sees_no_free_text_and_no_small_count(
    client: TestClient, demo_headers: dict[str, dict[str, str]], wifi: dict[str, Any], settings: Any
) -> None:
    response = client.get(f"/interventions/{wifi['id']}/findings", headers={**demo_headers["panel"], **HTML})
    assert response.status_code == 200, response.text
    text = response.text
    assert wifi["properties"]["description"] not in text
    assert "Chicken Shack Express" in text  # the place's name is not free text
    cells = re.findall(r'govuk-table__cell--numeric">\s*([^<]*?)\s*<', text)
    assert cells
    for cell in cells:
        assert cell == "suppressed" or not 1 <= int(cell) <= settings.suppress_max


def test_unknown_intervention_is_a_404_page(client: TestClient, demo_headers: dict[str, dict[str, str]]) -> None:
    response = client.get("/interventions/999999999/findings", headers={**demo_headers["panel"], **HTML})
    assert response.status_code == 404 and "Page not found" in response.text


def test_glossary_explains_the_terms(client: TestClient, demo_headers: dict[str, dict[str, str]]) -> None:
    response = client.get("/glossary", headers={**demo_headers["youth_worker"], **HTML})
    assert response.status_code == 200
    for term in ("Weighted displacement quotient (WDQ)", "Weighted displacement difference (WDD)",
                 "Diffusion of benefits", "no clear change"):
        assert term in response.text


def _small_counts(text: str) -> list[str]:
    """Every figure of the month-by-month table, the map key and the small maps' text alternatives."""
    table = text[text.index("data-series-table"):]
    table = table[:table.index("</table>")]
    figures = re.findall(r'govuk-table__cell--numeric">\s*([^<]*?)\s*<', table)
    figures += re.findall(r"the most in one (\d+)", text)
    return figures


def test_month_by_month_small_maps_and_chart(
    client: TestClient, demo_headers: dict[str, dict[str, str]], wifi: dict[str, Any], settings: Any
) -> None:
    response = client.get(f"/interventions/{wifi['id']}/findings", headers={**demo_headers["community_safety"], **HTML})
    text = response.text
    assert 'id="month-by-month"' in text and "data-series-chart" in text
    maps = re.findall(r'data-month="(\d{4}-\d{2})" data-phase="(before|during|after)"', text)
    assert 2 <= len(maps) <= 24  # bounded: at most 12 months either side of the start
    phases = [p for _, p in maps]
    assert "before" in phases and "during" in phases and phases == sorted(phases, key=["before", "during",
                                                                                        "after"].index)
    assert text.count('class="cm-small-map"') == len(maps)
    assert len(re.findall(r'class="cm-small-map"[^>]*role="img" aria-label="[A-Z][a-z]+ \d{4}, ', text)) == len(maps)
    assert 'class="cm-streets"' in text  # the demo's street network under the small maps
    assert "Started " in text  # the start is marked on the chart
    assert "Month</text>" in text and "Incidents a month" in text  # labelled axes
    rows = re.findall(r"<th scope=\"row\" class=\"govuk-table__header\">([A-Z][a-z]{2} \d{4})", text)
    assert len(rows) >= len(maps)


def test_the_panels_month_by_month_shows_no_small_count(
    client: TestClient, demo_headers: dict[str, dict[str, str]], wifi: dict[str, Any], settings: Any
) -> None:
    text = client.get(f"/interventions/{wifi['id']}/findings", headers={**demo_headers["panel"], **HTML}).text
    figures = _small_counts(text)
    assert figures
    for figure in figures:
        assert figure == "suppressed" or not 1 <= int(figure.replace(",", "")) <= settings.suppress_max, figure
    assert "suppressed" in figures or "(suppressed)" in text  # suppressed months are said, not drawn as 0
    key = re.findall(r'cm-swatch--\d"></span>(\d+)', text)
    assert all(int(low) > settings.suppress_max for low in key)


def test_a_chosen_control_place_gives_the_difference_and_says_so(
    client: TestClient, demo_headers: dict[str, dict[str, str]], wifi: dict[str, Any]
) -> None:
    default = client.get(f"/interventions/{wifi['id']}/findings", headers={**demo_headers["panel"], **HTML}).text
    assert "The rest of the service area, outside the target and its buffer (the default)" in default
    assert 'data-finding="wdd" data-verdict="undefined"' in default
    options = re.findall(r'<option value="(\d+)"[^>]*>([^<]+)</option>', default)
    assert options and wifi["properties"].get("place_id") not in {int(i) for i, _ in options}
    control_id, control_name = next((i, n) for i, n in options if "Library" not in n)
    chosen = client.get(f"/interventions/{wifi['id']}/findings?control_place={control_id}",
                        headers={**demo_headers["panel"], **HTML})
    assert chosen.status_code == 200, chosen.text
    assert f"{control_name}: the place's own area" in html.unescape(chosen.text)
    assert re.search(r'data-finding="wdd" data-verdict="(?!undefined)', chosen.text)
    assert f'<option value="{control_id}" selected>' in chosen.text


def test_a_bad_control_names_the_field(
    client: TestClient, demo_headers: dict[str, dict[str, str]], wifi: dict[str, Any]
) -> None:
    for value, status in (("abc", 422), ("999999999", 404), (str(wifi["properties"]["place_id"]), 422)):
        response = client.get(f"/interventions/{wifi['id']}/findings?control_place={value}",
                              headers={**demo_headers["panel"], **HTML})
        assert response.status_code == status, (value, response.status_code)
        if status == 422:  # an unknown place is "Page not found", like any other unknown id
            assert "control_place" in response.text, value


def test_the_library_beyond_the_buffer_is_explained(
    client: TestClient, demo_headers: dict[str, dict[str, str]], wifi: dict[str, Any]
) -> None:
    text = client.get(f"/interventions/{wifi['id']}/findings", headers={**demo_headers["panel"], **HTML}).text
    assert "Wellgate Central Library is outside the 400 m buffer around the target" in text


def test_panels_reach_place_pages_from_the_interventions_list_and_the_findings(
    client: TestClient, demo_headers: dict[str, dict[str, str]], wifi: dict[str, Any]
) -> None:
    listed = client.get("/interventions", headers={**demo_headers["panel"], **HTML})
    assert listed.status_code == 200
    assert f'href="/places/{wifi["properties"]["place_id"]}"' in listed.text
    findings = client.get(f"/interventions/{wifi['id']}/findings", headers={**demo_headers["panel"], **HTML}).text
    for place_id in re.findall(r'href="/places/(\d+)"', findings):
        assert client.get(f"/places/{place_id}", headers={**demo_headers["panel"], **HTML}).status_code == 200


def _square(lon: float, lat: float, d: float = 0.003) -> str:
    return json.dumps({"type": "Polygon", "coordinates": [[[lon, lat], [lon + d, lat], [lon + d, lat + d],
                                                            [lon, lat + d], [lon, lat]]]})


def test_a_drawn_control_area_is_used_and_said(
    client: TestClient, demo_headers: dict[str, dict[str, str]], wifi: dict[str, Any], settings: Any
) -> None:
    lon, lat = wifi["geometry"]["coordinates"]
    area = _square(lon + 0.012, lat + 0.004)  # about 800 m east: outside the target and buffer
    response = client.get(f"/interventions/{wifi['id']}/findings", params={"control_area": area},
                          headers={**demo_headers["panel"], **HTML})
    assert response.status_code == 200, response.text
    text = html.unescape(response.text)
    assert "An area you drew (widened to whole squares of the published grid)" in text
    assert 'data-finding="wdd" data-verdict="undefined"' not in text
    figures = _small_counts(response.text)
    assert all(f == "suppressed" or not 1 <= int(f.replace(",", "")) <= settings.suppress_max for f in figures)
    pack = client.get(f"/interventions/{wifi['id']}/pack.pdf", params={"control_area": area},
                      headers=demo_headers["panel"])
    assert pack.status_code == 200 and pack.headers["content-type"] == "application/pdf"


def test_a_bad_drawn_area_is_shown_in_the_error_summary_and_the_default_used(
    client: TestClient, demo_headers: dict[str, dict[str, str]], wifi: dict[str, Any]
) -> None:
    lon, lat = wifi["geometry"]["coordinates"]
    for value, words in (("not json", "must be GeoJSON"), ('{"type": "Point", "coordinates": [0, 0]}', ""),
                         ("x" * 20_001, "too detailed")):
        response = client.get(f"/interventions/{wifi['id']}/findings", params={"control_area": value},
                              headers={**demo_headers["panel"], **HTML})
        assert response.status_code == 422, value[:40]
        text = html.unescape(response.text)
        assert "There is a problem" in text and 'href="#control_area"' in text and words in text
        assert "The rest of the service area, outside the target and its buffer (the default)" in text
    both = client.get(f"/interventions/{wifi['id']}/findings",
                      params={"control_area": _square(lon + 0.012, lat), "control_place": "3"},
                      headers={**demo_headers["panel"], **HTML})
    assert both.status_code == 422 and "not both" in both.text
    pack = client.get(f"/interventions/{wifi['id']}/pack.pdf", params={"control_area": "not json"},
                      headers=demo_headers["panel"])
    assert pack.status_code == 422 and "control_area" in pack.text
