"""The panel pack PDF (issue 17): the demo's WiFi-off intervention and a three-item meeting, read back with
poppler (pdftotext) and saved as page images (pdftoppm) in test-artifacts/pack/ for a person to look at.
Always disclosure-controlled: even the community-safety user's pack has no free text, no incident
coordinate and no count from 1 to the threshold."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

HTML = {"Accept": "text/html,application/xhtml+xml"}

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "pack"
COORDINATE = re.compile(r"-?\d{1,3}\.\d{4,}")  # a longitude or latitude to 4+ decimals
pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils missing: make system-packages")


@pytest.fixture(scope="module")
def demo_ids(client: TestClient, demo_headers: dict[str, dict[str, str]]) -> dict[str, Any]:
    cs = demo_headers["community_safety"]
    interventions = client.get("/api/interventions?limit=1000", headers=cs).json()["features"]
    found = client.get("/api/places?limit=1000", headers=cs).json()["features"]
    places = {f["properties"]["name"]: f["id"] for f in found}
    return {"interventions": interventions, "places": places,
            "wifi": next(f for f in interventions if "WiFi" in (f["properties"]["description"] or ""))}


def _read(pdf: bytes, name: str) -> str:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "60", "-png", str(path), str(ARTIFACTS / name)], check=True)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout


def _free_text(features: list[dict[str, Any]]) -> list[str]:
    return [str(f["properties"][key]) for f in features for key in ("description", "notes", "owning_partner")
            if f["properties"].get(key)]


def _assert_disclosure_controlled(text: str, free_text: list[str], suppress_max: int) -> None:
    assert "OFFICIAL-SENSITIVE" in text
    assert not COORDINATE.search(text), COORDINATE.search(text)
    for value in free_text:
        assert value not in text
    # Every count in the count tables: "suppressed" or outside 1..suppress_max.
    area_row = r"^\s*(?:Target|Buffer|Control|Control buffer)\s.*?([\d,]+|suppressed)\s+([\d,]+|suppressed)\s*$"
    counts = re.findall(area_row, text, re.MULTILINE)
    counts += [(n,) for n in re.findall(r"^\s*\d{4}-\d{2}\s+([\d,]+|suppressed)\s*$", text, re.MULTILINE)]
    # The month-by-month table of an intervention: "Dec 2024   20   90   155".
    figure = r"([\d,]+|suppressed)"
    counts += re.findall(rf"^\s*[A-Z][a-z]{{2}} \d{{4}}\s+{figure}\s+{figure}\s+{figure}\s*$", text, re.MULTILINE)
    assert counts
    for row in counts:
        for cell in row:
            assert cell == "suppressed" or not 1 <= int(cell.replace(",", "")) <= suppress_max, row


def test_the_wifi_off_pack_reads_the_findings_and_hides_what_the_panel_may_not_see(
    client: TestClient, demo_headers: dict[str, dict[str, str]], demo_ids: dict[str, Any], settings: Any
) -> None:
    wifi = demo_ids["wifi"]
    response = client.get(f"/interventions/{wifi['id']}/pack.pdf", headers=demo_headers["community_safety"])
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    text = _read(response.content, "wifi-off")
    flat = " ".join(text.split())
    assert "Harm at Chicken Shack Express fell by about" in flat
    assert "DISPLACEMENT" in flat and "Harm rose at Wellgate Central Library" in flat
    assert re.search(r"^\s*Buffer\s.*\s\d,\d{3}\s+\d,\d{3}\s*$", text, re.MULTILINE)  # "1,210  1,225"
    assert "Weighted displacement quotient" in flat and "95 % interval" in flat
    assert re.search(r"Page 1 of \d", text)
    assert "Month by month" in flat and "Started 1 Sep 2025" in flat  # the chart, start marked
    assert len(re.findall(r"^\s*[A-Z][a-z]{2} \d{4}\s+(?:\d+|suppressed)\s", text, re.MULTILINE)) >= 12
    _assert_disclosure_controlled(text, _free_text(demo_ids["interventions"]), settings.suppress_max)


def test_a_three_item_meeting_pack(
    client: TestClient, demo_headers: dict[str, dict[str, str]], demo_ids: dict[str, Any], settings: Any
) -> None:
    wifi, places = demo_ids["wifi"], demo_ids["places"]
    query = (f"intervention={wifi['id']}&place={places['Wellgate Central Library']}"
             f"&place={places['Chicken Shack Express']}")
    form = client.get("/packs/new", headers={**demo_headers["panel"], "Accept": "text/html"})
    assert form.status_code == 200 and 'action="/packs/meeting.pdf"' in form.text
    response = client.get(f"/packs/meeting.pdf?{query}", headers=demo_headers["panel"])
    assert response.status_code == 200, response.text
    text = _read(response.content, "meeting")
    flat = " ".join(text.split())
    assert "Meeting pack" in flat and "Interventions timeline" in flat
    assert "Harm month by month" in flat and "Designations" in flat
    assert "Place of concern" in flat
    _assert_disclosure_controlled(text, _free_text(demo_ids["interventions"]), settings.suppress_max)


def test_an_empty_meeting_is_refused_naming_the_field(
    client: TestClient, demo_headers: dict[str, dict[str, str]]
) -> None:
    response = client.get("/packs/meeting.pdf", headers=demo_headers["panel"])
    assert response.status_code == 422
    assert "intervention" in response.text


def test_the_pack_map_is_drawn_over_the_organisations_streets(
    client: TestClient, demo_headers: dict[str, dict[str, str]], demo_ids: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Streets drawn in a PDF are hard to read back, so the map drawing step is watched: it got the demo's
    street lines (in the analysis CRS, clipped to the map) and drew them under the areas."""
    from app.web import packs

    drawn: list[tuple[int, str]] = []
    original = packs.area_map_svg

    def watch(analysis: dict[str, Any], srid: int = packs.LONDON_SRID, streets: Any = None,
              target_name: str | None = None, places: Any = ()) -> str:
        lines = streets((0.0, 0.0, 1e7, 1e7)) if streets else []
        svg = original(analysis, srid, streets, target_name, places)
        drawn.append((len(lines), svg))
        return svg

    monkeypatch.setattr(packs, "area_map_svg", watch)
    response = client.get(f"/interventions/{demo_ids['wifi']['id']}/pack.pdf", headers=demo_headers["panel"])
    assert response.status_code == 200, response.text
    assert len(drawn) == 1
    available, svg = drawn[0]
    assert available > 0
    shown = int(re.search(r'data-street-lines="(\d+)"', svg).group(1))  # type: ignore[union-attr]
    assert 0 < shown <= available
    assert svg.index('class="streets"') < svg.index('fill="#fff7bf"')  # streets under the buffer
    text = _read(response.content, "wifi-off-streets")
    assert "streets" in text


def test_a_pack_with_a_chosen_control_place_says_which_and_works_out_the_difference(
    client: TestClient, demo_headers: dict[str, dict[str, str]], demo_ids: dict[str, Any], settings: Any
) -> None:
    wifi, places = demo_ids["wifi"], demo_ids["places"]
    control = places["Crescent Fields Estate"]  # incidents of its own either side of the start
    response = client.get(f"/interventions/{wifi['id']}/pack.pdf?control_place={control}",
                          headers=demo_headers["panel"])
    assert response.status_code == 200, response.text
    text = _read(response.content, "wifi-off-control")
    flat = " ".join(text.split())
    assert "Control area: Crescent Fields Estate: the place's own area" in flat
    assert "weighted displacement difference cannot be worked out" not in flat
    assert "Taking the target and the area around it together" in flat
    assert "outside the 600 m buffer" not in flat  # the library is inside the comparison's buffer
    _assert_disclosure_controlled(text, _free_text(demo_ids["interventions"]), settings.suppress_max)
    thin = _read(client.get(f"/interventions/{wifi['id']}/pack.pdf?control_place="
                            f"{places['Brookfield Leisure Centre']}", headers=demo_headers["panel"]).content,
                 "wifi-off-thin-control")
    flat_thin = " ".join(thin.split())  # table cells interleave in the text, so count each reading's opening
    assert flat_thin.count("Cannot say") == 3 and "too few incidents" in flat_thin
    meeting = client.get(f"/packs/meeting.pdf?intervention={wifi['id']}&control_place={control}",
                         headers=demo_headers["panel"])
    assert meeting.status_code == 200
    refused = client.get(f"/packs/meeting.pdf?intervention={wifi['id']}&control_place=x",
                         headers=demo_headers["panel"])
    assert refused.status_code == 422 and "control_place" in refused.text
    default = _read(client.get(f"/interventions/{wifi['id']}/pack.pdf", headers=demo_headers["panel"]).content,
                    "wifi-off-default-control")
    assert "The rest of the service area, outside the target and its buffer (the default)" in " ".join(default.split())


def _square(lon: float, lat: float, d: float) -> str:
    return json.dumps({"type": "Polygon", "coordinates": [[[lon, lat], [lon + d, lat], [lon + d, lat + d],
                                                            [lon, lat + d], [lon, lat]]]})


def test_a_meeting_pack_takes_the_findings_pages_control_choices(
    client: TestClient, demo_headers: dict[str, dict[str, str]], demo_ids: dict[str, Any], settings: Any
) -> None:
    """Issue 17: the meeting pack's control could only be a place. Now as on the findings page: the rest of
    the service area, a place, or a drawn area; a bad choice is said on the form, naming the field."""
    wifi, places = demo_ids["wifi"], demo_ids["places"]
    form = client.get("/packs/new", headers={**demo_headers["community_safety"], **HTML})
    assert form.status_code == 200
    for name in ('name="control_place"', 'name="control_area"', "data-cm-area-drawer", 'value="service-area"'):
        assert name in form.text, name
    lon, lat = wifi["geometry"]["coordinates"]
    area = _square(lon + 0.011, lat, 0.006)  # about 750 m east, outside the target and buffer
    response = client.get("/packs/meeting.pdf", params={"intervention": wifi["id"], "control_area": area},
                          headers=demo_headers["panel"])
    assert response.status_code == 200, response.text
    flat = " ".join(_read(response.content, "meeting-drawn-control").split())
    assert "An area you drew (widened to whole squares of the published grid)" in flat
    assert "Taking the target and the area around it together" in flat  # the WDD has a verdict
    for params, field, words in (
        ({"intervention": wifi["id"], "control_area": "not json"}, "control_area", "must be GeoJSON"),
        ({"intervention": wifi["id"], "control_area": area, "control_place": places["Crescent Fields Estate"]},
         "control_area", "not both"),
        ({"intervention": wifi["id"], "control_place": "x"}, "control_place", "choose a place from the list"),
        ({"intervention": wifi["id"], "control_place": places["Chicken Shack Express"]}, "control_place",
         "other than the intervention's own"),
        ({"intervention": wifi["id"], "control_place": places["Wellgate Central Library"]}, "control_place",
         "inside the area around the intervention (the buffer), so it cannot be the comparison"),
    ):
        problem = client.get("/packs/meeting.pdf", params=params, headers=demo_headers["panel"])
        assert problem.status_code == 422 and problem.json()["field"] == field, (params, problem.text)
        page = client.get("/packs/meeting.pdf", params=params, headers={**demo_headers["panel"], **HTML})
        assert page.status_code == 422, params
        text = html.unescape(page.text)
        assert "There is a problem" in text and f'href="#{field}"' in text, field
        assert words.lower() in text.lower(), (field, words)
        assert f'id="{field}-error"' in text
        assert f'id="intervention-{wifi["id"]}" name="intervention" type="checkbox" value="{wifi["id"]}" checked' in (
            page.text)  # what was chosen is kept
    empty = client.get("/packs/meeting.pdf", headers={**demo_headers["panel"], **HTML})
    assert empty.status_code == 422 and 'href="#intervention-' in empty.text  # the first box of the list


def test_the_pack_map_labels_the_intervention_and_the_places_the_findings_name(
    client: TestClient, demo_headers: dict[str, dict[str, str]], demo_ids: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The map names the intervention's place (on the target) and the places where harm rose (a dot each):
    read back from the PDF, each name appears once more than in the same pack with an unlabelled map."""
    from app.web import packs

    url = f"/interventions/{demo_ids['wifi']['id']}/pack.pdf"
    labelled = client.get(url, headers=demo_headers["panel"])
    assert labelled.status_code == 200, labelled.text
    original = packs.area_map_svg
    monkeypatch.setattr(packs, "area_map_svg", lambda analysis, srid, streets, *_: original(analysis, srid, streets))
    unlabelled = client.get(url, headers=demo_headers["panel"])
    with_labels = " ".join(_read(labelled.content, "wifi-off-labels").split())
    without = " ".join(_read(unlabelled.content, "wifi-off-no-labels").split())
    for name in ("Chicken Shack Express", "Wellgate Central Library"):
        assert with_labels.count(name) == without.count(name) + 1, name
