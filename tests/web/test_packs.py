"""The panel pack PDF (issue 17): the demo's WiFi-off intervention and a three-item meeting, read back with
poppler (pdftotext) and saved as page images (pdftoppm) in test-artifacts/pack/ for a person to look at.
Always disclosure-controlled: even the community-safety user's pack has no free text, no incident
coordinate and no count from 1 to the threshold."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

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
    area_row = r"^\s*(?:Target|Buffer|Control|Control buffer)\s.*?(\d+|suppressed)\s+(\d+|suppressed)\s*$"
    counts = re.findall(area_row, text, re.MULTILINE)
    counts += [(n,) for n in re.findall(r"^\s*\d{4}-\d{2}\s+(\d+|suppressed)\s*$", text, re.MULTILINE)]
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

    def watch(analysis: dict[str, Any], srid: int = packs.LONDON_SRID, streets: Any = None) -> str:
        lines = streets((0.0, 0.0, 1e7, 1e7)) if streets else []
        svg = original(analysis, srid, streets)
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
    control = places["Brookfield Leisure Centre"]
    response = client.get(f"/interventions/{wifi['id']}/pack.pdf?control_place={control}",
                          headers=demo_headers["panel"])
    assert response.status_code == 200, response.text
    text = _read(response.content, "wifi-off-control")
    flat = " ".join(text.split())
    assert "Control area: Brookfield Leisure Centre: the place's own area" in flat
    assert "weighted displacement difference cannot be worked out" not in flat
    assert "Taking the target and the area around it together" in flat
    assert "Wellgate Central Library is outside the 400 m buffer" in flat
    _assert_disclosure_controlled(text, _free_text(demo_ids["interventions"]), settings.suppress_max)
    meeting = client.get(f"/packs/meeting.pdf?intervention={wifi['id']}&control_place={control}",
                         headers=demo_headers["panel"])
    assert meeting.status_code == 200
    refused = client.get(f"/packs/meeting.pdf?intervention={wifi['id']}&control_place=x",
                         headers=demo_headers["panel"])
    assert refused.status_code == 422 and "control_place" in refused.text
    default = _read(client.get(f"/interventions/{wifi['id']}/pack.pdf", headers=demo_headers["panel"]).content,
                    "wifi-off-default-control")
    assert "The rest of the service area, outside the target and its buffer (the default)" in " ".join(default.split())
