"""Every statistic a disclosure-controlled reader sees is computed from the counts they are shown, never from
the exact ones (app.services.disclosure, ``Disclosure.basis``).

A new-user walk-through found the panel's "Harm rose at Wellgate Central Library … rate ratio 17.2, 95 %
interval 9.6 to 33.8" fits exactly one pair of counts (12 before, 203 after) by brute force over the exact
conditional-binomial interval, which undid the rounding of the counts shown (10 and 205); and the quotient
and total net effect ("WDQ −0.86", "+20.97") came from exact counts too, so the panel's own counts gave
different figures. Staff keep exact figures.
"""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.services.rates import RATE_CONFIDENCE
from geo.calendar import london_midnight
from geo.displacement import displacement_report
from geo.rates import rate_ratio
from tests.web.test_findings_page import _map_summary

HTML = {"Accept": "text/html,application/xhtml+xml"}
LIBRARY = "Wellgate Central Library"


@pytest.fixture(scope="module")
def wifi(client: TestClient, demo_headers: dict[str, dict[str, str]]) -> int:
    found = client.get("/api/interventions?limit=1000", headers=demo_headers["community_safety"]).json()
    return int(next(f["id"] for f in found["features"] if "WiFi" in (f["properties"]["description"] or "")))


@pytest.fixture(scope="module")
def map_pages(client: TestClient, demo_headers: dict[str, dict[str, str]], wifi: int) -> dict[str, dict[str, Any]]:
    return {role: _map_summary(client.get(f"/maps/displacement?intervention={wifi}",
                                          headers={**demo_headers[role], **HTML}).text)
            for role in ("panel", "community_safety")}


def _same_windows(shown: dict[str, Any]) -> str:
    """The API parameters for the map page's own windows ("1 March 2025 to 31 August 2025 against …")."""
    dates = [datetime.strptime(d, "%d %B %Y").date()
             for d in re.findall(r"\d{1,2} [A-Z][a-z]+ \d{4}", shown["Compared"][1])]
    assert len(dates) == 4, shown["Compared"]
    edges = [london_midnight(d).isoformat() for d in (dates[0], dates[1] + timedelta(days=1), dates[2],
                                                       dates[3] + timedelta(days=1))]
    return "&".join(f"{k}={v.replace('+', '%2B')}" for k, v in (("before", f"{edges[0]}/{edges[1]}"),
                                                                 ("after", f"{edges[2]}/{edges[3]}")))


def _rates(client: TestClient, headers: dict[str, str], wifi: int, windows: str) -> dict[str, dict[str, Any]]:
    response = client.get(f"/api/analysis/displacement?intervention={wifi}&{windows}", headers=headers)
    assert response.status_code == 200, response.text
    return {p["name"]: p["rate"] for p in response.json()["where_it_went"]["places"]}


def _interval(before: int, before_days: float, after: int, after_days: float) -> tuple[float, float, float]:
    r = rate_ratio(before, before_days, after, after_days, confidence=RATE_CONFIDENCE)
    assert r.ratio is not None and r.lower is not None and r.upper is not None
    return r.ratio, r.lower, r.upper


def test_the_panels_rises_are_computed_from_the_counts_it_is_shown(
    client: TestClient, demo_headers: dict[str, dict[str, str]], wifi: int, map_pages: dict[str, dict[str, Any]]
) -> None:
    windows = _same_windows(map_pages["panel"])
    panel = _rates(client, demo_headers["panel"], wifi, windows)
    staff = _rates(client, demo_headers["community_safety"], wifi, windows)
    assert LIBRARY in panel and LIBRARY in staff
    for rate in panel.values():
        b, a = rate["before_count"], rate["after_count"]
        assert b % 5 == 0 and a % 5 == 0, rate  # rounded counts (none suppressed, or the rise is not listed)
        expected = _interval(b, rate["before_days"], a, rate["after_days"])
        assert (rate["ratio"], rate["lower"], rate["upper"]) == pytest.approx(expected, abs=0.006), rate
    # The attack: every (before, after) pair near the shown counts whose exact interval gives the figures
    # shown. The shown counts are among them, so the figures single out nothing the panel cannot see.
    shown = panel[LIBRARY]
    days = shown["before_days"], shown["after_days"]
    b0, a0 = shown["before_count"], shown["after_count"]
    fits = set()
    for b in range(max(1, b0 - 7), b0 + 8):
        for a in range(max(0, a0 - 7), a0 + 8):
            ratio, lower, upper = _interval(b, days[0], a, days[1])
            if (round(ratio, 2), round(lower, 2), round(upper, 2)) == (shown["ratio"], shown["lower"], shown["upper"]):
                fits.add((b, a))
    assert (b0, a0) in fits, (shown, fits)
    exact = (staff[LIBRARY]["before_count"], staff[LIBRARY]["after_count"])
    if exact != (b0, a0):
        assert exact not in fits, (exact, shown)
    # The page's sentence says the same figures (rounded to one place).
    sentence = map_pages["panel"]["Where did it go?"][1]
    assert (f"{LIBRARY}, " in sentence and f"rate ratio {shown['ratio']:.1f}, 95 % interval "
            f"{shown['lower']:.1f} to {shown['upper']:.1f}") in sentence, (sentence, shown)


def test_staff_still_see_statistics_from_exact_counts(
    client: TestClient, demo_headers: dict[str, dict[str, str]], wifi: int, map_pages: dict[str, dict[str, Any]]
) -> None:
    staff = _rates(client, demo_headers["community_safety"], wifi, _same_windows(map_pages["community_safety"]))
    rate = staff[LIBRARY]
    assert (rate["before_count"], rate["after_count"]) == (12, 203)  # the demo's exact counts, unrounded
    expected = _interval(12, rate["before_days"], 203, rate["after_days"])
    assert (rate["ratio"], rate["lower"], rate["upper"]) == pytest.approx(expected, rel=1e-4)  # days: 3 places
    sentence = map_pages["community_safety"]["Where did it go?"][1]
    assert "rate ratio 17.2, 95 % interval 9.6 to 33.8" in sentence, sentence


def _counts(cell: str) -> tuple[int, int]:
    found = re.fullmatch(r"([\d,]+) before → ([\d,]+) after", cell)
    assert found, cell
    return int(found[1].replace(",", "")), int(found[2].replace(",", ""))


@pytest.mark.parametrize("role", ["panel", "community_safety"])
def test_the_quotient_and_net_effect_follow_the_counts_shown(map_pages: dict[str, dict[str, Any]], role: str) -> None:
    """The panel's WDQ and total net effect are the ones a reader gets from the panel's own (rounded) counts;
    staff's are the ones from their exact counts. Either way, the page agrees with itself."""
    shown = map_pages[role]
    target, buffer, control = (_counts(shown[name][0]) for name in ("Target", "Buffer", "Control"))
    if role == "panel":
        assert all(n % 5 == 0 for n in (*target, *buffer, *control))
    else:
        assert target == (198, 24)  # exact
    quotient = displacement_report(target, buffer, control).quotient
    assert quotient.wdq.value is not None and quotient.total_net_effect.value is not None
    figure = float(html.unescape(shown["Weighted displacement quotient"][0]).replace("\u2212", "-"))
    assert figure == pytest.approx(quotient.wdq.value, abs=0.006), (figure, quotient.wdq)
    net = float(shown["Total net effect"][0].replace("\u2212", "-").replace("+", ""))
    assert net == pytest.approx(quotient.total_net_effect.value, abs=0.006), (net, quotient.total_net_effect)
