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
                 "Diffusion of benefits", "no clear change", "Cannot say", "too few incidents",
                 "has no buffer of its own", "Compared window and chart window", "up to 12 months either side"):
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
    # The intervention's place and the place the findings name (harm rose at the library) are labelled.
    outlines = text.split('id="cm-outlines"', 1)[1].split("</g>", 1)[0]
    labels = re.findall(r'class="cm-place-label"[^>]*>([^<]+)<', outlines)
    assert labels == ["Chicken Shack Express", "Wellgate Central Library"], labels
    assert "Named on the map: Chicken Shack Express, Wellgate Central Library." in text
    assert "Started " in text  # the start is marked on the chart
    assert "Month</text>" in text and "Incidents a month" in text  # labelled axes
    rows = re.findall(r"<th scope=\"row\" class=\"govuk-table__header\">([A-Z][a-z]{2} \d{4})", text)
    assert len(rows) >= len(maps)
    # The months the findings compare (COMPARISON: six either side of Sep 2025) are shaded and said in the table.
    compared = re.findall(r'header">([A-Z][a-z]{2} \d{4}) <span class="govuk-body-s">\([a-z]+, compared\)', text)
    assert compared[0] == "Mar 2025" and compared[-1] == "Feb 2026" and len(compared) == 12, compared
    assert text.count('class="cm-compared"') == 2  # the wide chart and the phone's


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
    options = {n: i for i, n in re.findall(r'<option value="(\d+)"[^>]*>([^<]+)</option>', default)}
    assert options and wifi["properties"].get("place_id") not in {int(i) for i in options.values()}
    # The estate has incidents of its own either side of the start: a control that can give a verdict.
    control_name = "Crescent Fields Estate"
    control_id = options[control_name]
    chosen = client.get(f"/interventions/{wifi['id']}/findings?control_place={control_id}",
                        headers={**demo_headers["panel"], **HTML})
    assert chosen.status_code == 200, chosen.text
    assert f"{control_name}: the place's own area" in html.unescape(chosen.text)
    assert re.search(r'data-finding="wdd" data-verdict="(?!undefined)', chosen.text)
    assert re.search(r'data-finding="wdq" data-verdict="(?!undefined)', chosen.text)
    assert f'<option value="{control_id}" selected>' in chosen.text


@pytest.mark.parametrize("role", ["community_safety", "panel"])
def test_a_control_with_too_few_incidents_gives_no_verdict(
    client: TestClient, demo_headers: dict[str, dict[str, str]], wifi: dict[str, Any], role: str
) -> None:
    """Brookfield Leisure Centre has no incident within its 100 m either side of the WiFi-off: the WDD is
    computable (it is then the target's own change) but says nothing, so no measure leaning on the control
    gets a verdict, for staff (exact counts) and panel (disclosed) alike."""
    default = client.get(f"/interventions/{wifi['id']}/findings", headers={**demo_headers[role], **HTML}).text
    options = {n: i for i, n in re.findall(r'<option value="(\d+)"[^>]*>([^<]+)</option>', default)}
    text = client.get(f"/interventions/{wifi['id']}/findings?control_place={options['Brookfield Leisure Centre']}",
                      headers={**demo_headers[role], **HTML}).text
    for measure in ("wdd", "wdq", "total_net_effect"):
        assert f'data-finding="{measure}" data-verdict="undefined"' in text, measure
    assert html.unescape(text).count("the control area has too few incidents (fewer than 8 in the before or the "
                                     "after period)") == 3
    assert 'data-finding="rate_ratio" data-verdict="fell"' in text  # the target's own change needs no control


def test_a_bad_control_names_the_field(
    client: TestClient, demo_headers: dict[str, dict[str, str]], wifi: dict[str, Any]
) -> None:
    for value, status in (("abc", 422), ("999999999", 404), (str(wifi["properties"]["place_id"]), 422)):
        response = client.get(f"/interventions/{wifi['id']}/findings?control_place={value}",
                              headers={**demo_headers["panel"], **HTML})
        assert response.status_code == status, (value, response.status_code)
        if status == 422:  # an unknown place is "Page not found", like any other unknown id
            assert "control_place" in response.text, value


@pytest.mark.parametrize("role", ["community_safety", "panel"])
def test_a_control_place_inside_the_buffer_is_refused_naming_the_field(
    client: TestClient, demo_headers: dict[str, dict[str, str]], wifi: dict[str, Any], role: str
) -> None:
    """The library lies inside the WiFi-off's buffer: all of its area is taken out of the comparison (0 / 0), so it
    is refused on the form with the default control's figures below, not shown as "too few incidents"."""
    default = client.get(f"/interventions/{wifi['id']}/findings", headers={**demo_headers[role], **HTML}).text
    options = {n: i for i, n in re.findall(r'<option value="(\d+)"[^>]*>([^<]+)</option>', default)}
    response = client.get(f"/interventions/{wifi['id']}/findings?control_place={options['Wellgate Central Library']}",
                          headers={**demo_headers[role], **HTML})
    assert response.status_code == 422
    text = html.unescape(response.text)
    assert 'href="#control_place"' in text and 'id="control_place-error"' in text
    assert ("That place is inside the area around the intervention (the buffer), so it cannot be the comparison; "
            "choose a place further away") in text
    assert "The rest of the service area, outside the target and its buffer (the default)" in text
    assert "too few incidents" not in text


def test_the_library_is_inside_the_buffer_so_the_quotient_reads_displacement(
    client: TestClient, demo_headers: dict[str, dict[str, str]], wifi: dict[str, Any]
) -> None:
    """The comparison's 600 m buffer (geo.displacement.COMPARISON) takes in the library, 509 m from the
    outlet: the quotient and the rising place both read displacement, with no "outside the buffer" caveat."""
    text = html.unescape(client.get(f"/interventions/{wifi['id']}/findings",
                                    headers={**demo_headers["panel"], **HTML}).text)
    assert 'data-finding="wdq" data-verdict="displacement"' in text
    assert 'data-finding="places_rising" data-verdict="displacement"' in text
    assert "Harm rose at Wellgate Central Library" in text and "outside the 600 m buffer" not in text
    assert "a ring 600 m wide around the target" in text


def _map_summary(text: str) -> dict[str, tuple[str, str]]:
    """The map's "What the comparison found" rows: label -> (value, reading)."""
    table = text[text.index("What the comparison found"):]
    table = table[:table.index("</table>")]
    rows = re.findall(r"<tr[^>]*>\s*<td[^>]*>(.*?)</td>\s*<td[^>]*>(.*?)</td>\s*<td[^>]*>(.*?)</td>", table, re.S)
    return {html.unescape(a).strip(): (html.unescape(b).strip(), html.unescape(c).strip()) for a, b, c in rows}


def _findings(text: str) -> dict[str, tuple[str, str]]:
    """The findings page's readings: measure -> (verdict, sentence)."""
    found = re.findall(r'data-finding="([a-z_]+)" data-verdict="([a-z ]+)">.*?<dd[^>]*><p[^>]*>(.*?)</p>', text,
                       re.S)
    return {m: (v, re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", "", s))).strip()) for m, v, s in found}


@pytest.mark.parametrize("role", ["community_safety", "panel"])
def test_the_map_and_the_findings_page_give_the_same_reading(
    client: TestClient, demo_headers: dict[str, dict[str, str]], wifi: dict[str, Any], role: str
) -> None:
    """One comparison (geo.displacement.COMPARISON) behind the displacement map and the findings page: the
    same WDQ and WDD, and the same sentences, for the demo's WiFi-off (issue 17: the map read
    "counter-productive" while the findings read "diffusion")."""
    headers = {**demo_headers[role], **HTML}
    map_page = client.get(f"/maps/displacement?intervention={wifi['id']}", headers=headers).text
    shown = _map_summary(map_page)
    assert shown["Where did it go?"][0] == "1 place", shown["Where did it go?"]  # the library; not "place(s)"
    assert "Started 1 September 2025" in map_page  # dates as on every other page
    findings = client.get(f"/interventions/{wifi['id']}/findings", headers=headers).text
    readings = _findings(findings)
    assert readings["wdq"][0] == "displacement", readings
    for label, measure in (("Weighted displacement quotient", "wdq"), ("Weighted displacement difference", "wdd"),
                           ("Total net effect", "total_net_effect"), ("Harm at the target", "rate_ratio"),
                           ("Where did it go?", "places_rising")):
        assert shown[label][1] == readings[measure][1], (label, shown[label], readings[measure])
    wdq = float(shown["Weighted displacement quotient"][0].replace("\u2212", "-"))
    assert f"WDQ {wdq:.2f}".replace("-", "\u2212") in readings["wdq"][1]
    assert shown["Weighted displacement difference"][0] == "—"  # the default control has no buffer of its own
    counts = re.findall(r"(\d[\d,]*) before → (\d[\d,]*) after", shown["Target"][0])
    assert counts, shown["Target"]


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
    # About 750 m east, 400 m across: outside the target and buffer, with enough incidents to compare.
    area = _square(lon + 0.011, lat, 0.006)
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
