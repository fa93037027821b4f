"""Safe-space judgements and walking distances, checked against hand-worked cases and brute force."""

from __future__ import annotations

import heapq
import itertools
from datetime import UTC, date, datetime, timedelta, timezone

import numpy as np
import pytest

from geo.safe_spaces import (
    CoverageCell,
    GuardianRecord,
    SafeSpaceCandidate,
    evaluate,
    guardian_presence,
    guardians_at,
    is_stale,
    open_at,
    rank_coverage_gaps,
    stable_open_sets,
    training_status,
)
from geo.walking import StreetNetwork, WalksFrom, walks_from, walks_to_nearest

BST = timezone(timedelta(hours=1))
WEDNESDAY_1630 = datetime(2026, 6, 17, 16, 30, tzinfo=BST)
SUMMER_BANK_HOLIDAY = datetime(2026, 8, 31, 12, 0, tzinfo=BST)
LIBRARY = "Mo-Fr 09:00-19:00; Sa 10:00-16:00; Su off; PH off"


def candidate(**overrides: object) -> SafeSpaceCandidate:
    values: dict[str, object] = {
        "place_id": 1, "name": "Library", "kind": "library", "opening_hours": LIBRARY, "designation_id": 10,
        "valid_from": datetime(2026, 6, 1, tzinfo=UTC), "valid_to": None, "scheme": "Safe Places",
        "age_min": 11, "age_max": 18, "help_offered": ("phone a trusted adult",), "accessibility": "Step-free",
        "verified_on": date(2026, 5, 28), "guardians": (),
    }
    values.update(overrides)
    return SafeSpaceCandidate(**values)  # type: ignore[arg-type]


# ---- opening hours and presence -----------------------------------------------------------------------
def test_open_at_uses_the_parser_including_bank_holidays() -> None:
    assert open_at(LIBRARY, WEDNESDAY_1630) is True
    assert open_at("Mo-Fr 08:00-16:00; PH off", WEDNESDAY_1630) is False  # the school has closed
    assert open_at(LIBRARY, SUMMER_BANK_HOLIDAY) is False  # Monday, but a bank holiday
    assert open_at("Mo-Fr 09:00-19:00", SUMMER_BANK_HOLIDAY) is True  # no PH rule: open as any Monday
    assert open_at(None, WEDNESDAY_1630) is None and open_at("  ", WEDNESDAY_1630) is None


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError):
        open_at(LIBRARY, datetime(2026, 6, 17, 16, 30))


@pytest.mark.parametrize(("hours", "place_open", "expected"), [
    ("Mo-Fr 15:00-19:00", False, (True, "guardian_hours")),  # own hours win over the place's
    ("Mo-Fr 08:00-16:00", True, (False, "guardian_hours")),
    (None, True, (True, "place_hours")),  # no hours: present while the place is open
    (None, False, (False, "place_hours")),
    (None, None, (None, "unknown")),
])
def test_guardian_presence(hours: str | None, place_open: bool | None, expected: tuple[bool | None, str]) -> None:
    assert guardian_presence(hours, place_open, WEDNESDAY_1630) == expected


def test_training_is_current_for_three_years_from_completion() -> None:
    trainings = [{"kind": "safeguarding", "completed_on": "2023-06-17"},
                 {"kind": "bystander_intervention", "completed_on": date(2023, 6, 18)},
                 {"kind": "adolescent_development", "completed_on": "2026-07-01"},  # not yet done
                 {"kind": "safeguarding", "completed_on": "2024-02-29"}]
    status = training_status(trainings, date(2026, 6, 17))
    assert [s["current"] for s in status] == [False, True, False, True]
    assert status[0]["expires_on"] == date(2026, 6, 17)
    assert status[3]["expires_on"] == date(2027, 2, 28)  # leap day rolls to the 28th


def test_guardians_at_lists_present_first_with_their_training() -> None:
    guardians = (
        GuardianRecord(1, "security", None, "Mo-Su 20:00-23:00"),
        GuardianRecord(2, "staff", "Teen floor", None, ({"kind": "safeguarding", "completed_on": "2025-01-01"},)),
        GuardianRecord(3, "youth_worker", None, "Mo-Fr 15:00-19:00"),
    )
    rows = guardians_at(guardians, True, WEDNESDAY_1630)
    assert [(g["id"], g["present"]) for g in rows] == [(2, True), (3, True), (1, False)]
    assert rows[0]["current_training"] == ["safeguarding"] and rows[0]["presence_basis"] == "place_hours"


# ---- suitability ----------------------------------------------------------------------------------------
def test_evaluate_open_suitable_space_gives_reasons() -> None:
    staff = GuardianRecord(1, "staff", None, None, ({"kind": "safeguarding", "completed_on": "2026-04-13"},))
    verdict = evaluate(candidate(guardians=(staff,)), WEDNESDAY_1630, 14, 365)
    assert verdict.excluded_because is None and verdict.open is True and not verdict.stale
    assert verdict.closes_at == datetime(2026, 6, 17, 19, 0, tzinfo=BST)
    text = " | ".join(verdict.reasons)
    assert "until 19:00" in text and "suitable for age 14 (ages 11\u201318)" in text
    assert "guardians present: staff (1 with current safeguarding training)" in text
    assert "offers: phone a trusted adult" in text


@pytest.mark.parametrize(("overrides", "at", "age", "why"), [
    ({}, SUMMER_BANK_HOLIDAY, 14, "closed"),
    ({"opening_hours": "Mo-Fr 08:00-16:00"}, WEDNESDAY_1630, 14, "closed"),
    ({"opening_hours": None}, WEDNESDAY_1630, 14, "hours_unknown"),
    ({}, WEDNESDAY_1630, 10, "age"),
    ({}, WEDNESDAY_1630, 19, "age"),
    ({"age_min": None, "age_max": None}, WEDNESDAY_1630, 25, None),
    ({}, WEDNESDAY_1630, None, None),
])
def test_evaluate_excludes_closed_unknown_and_unsuitable(
    overrides: dict[str, object], at: datetime, age: int | None, why: str | None,
) -> None:
    assert evaluate(candidate(**overrides), at, age, 365).excluded_because == why


def test_staleness() -> None:
    assert not is_stale(date(2025, 6, 17), date(2026, 6, 17), 365)
    assert is_stale(date(2025, 6, 16), date(2026, 6, 17), 365)
    assert is_stale(None, date(2026, 6, 17), 365)
    verdict = evaluate(candidate(verified_on=date(2024, 1, 1)), WEDNESDAY_1630, None, 365)
    assert verdict.stale and any("due for re-checking" in r for r in verdict.reasons)


# ---- coverage -------------------------------------------------------------------------------------------
def test_rank_coverage_gaps_orders_by_harm_and_keeps_only_uncovered_cells() -> None:
    cells = [CoverageCell(0, 0, 0, 0, 4), CoverageCell(1, 0, 1, 0, 9), CoverageCell(2, 0, 2, 0, 9),
             CoverageCell(3, 0, 3, 0, 50)]
    ranked = rank_coverage_gaps(cells, [5000.0, float("inf"), 1300.0, 1200.0], 1200.0)
    assert [(c.i, c.harm_count) for c, _ in ranked] == [(1, 9), (2, 9), (0, 4)]


def test_stable_open_sets_split_a_weekly_pattern_where_spaces_open_and_close() -> None:
    monday = datetime(2026, 6, 15, tzinfo=BST)
    pieces = stable_open_sets("Mo-Fr 15:00-19:00", [LIBRARY, "Mo-Fr 15:30-21:00", None], monday,
                              monday + timedelta(days=7))
    first = [(a.strftime("%a %H:%M"), b.strftime("%H:%M"), m.tolist()) for a, b, m in pieces[:2]]
    assert first == [("Mon 15:00", "15:30", [True, False, False]), ("Mon 15:30", "19:00", [True, True, False])]
    assert len(pieces) == 10
    assert sum((b - a).total_seconds() for a, b, _ in pieces) == 5 * 4 * 3600


# ---- walking network ------------------------------------------------------------------------------------
def _reference_shortest(lines: list[list[tuple[float, float]]], start: tuple[float, float]) -> dict[tuple, float]:
    """Plain Dijkstra over the line vertices, written independently of geo.walking."""
    graph: dict[tuple, dict[tuple, float]] = {}
    for line in lines:
        for a, b in itertools.pairwise(line):
            w = float(np.hypot(a[0] - b[0], a[1] - b[1]))
            graph.setdefault(a, {})[b] = min(w, graph.get(a, {}).get(b, np.inf))
            graph.setdefault(b, {})[a] = min(w, graph.get(b, {}).get(a, np.inf))
    best = {start: 0.0}
    queue = [(0.0, start)]
    while queue:
        d, node = heapq.heappop(queue)
        if d > best.get(node, np.inf):
            continue
        for other, w in graph[node].items():
            if d + w < best.get(other, np.inf):
                best[other] = d + w
                heapq.heappush(queue, (d + w, other))
    return best


def _grid(n: int = 6, step: float = 100.0) -> list[list[tuple[float, float]]]:
    rows = [[(x * step, y * step) for x in range(n)] for y in range(n)]
    columns = [[(x * step, y * step) for y in range(n)] for x in range(n)]
    # A missing block of streets forces detours, as a river or railway would.
    return [line for line in rows + columns if line[0] != (300.0, 0.0)] + [[(0.0, 0.0), (70.0, 70.0)]]


def test_network_distances_match_an_independent_dijkstra() -> None:
    lines = _grid()
    network = StreetNetwork.from_lines(lines)
    reference = _reference_shortest(lines, (0.0, 0.0))
    targets = np.array(list(reference), dtype=float)
    got = network.distances_from((0.0, 0.0), targets)
    assert np.allclose(got, [reference[tuple(t)] for t in targets])


def test_network_route_can_be_much_longer_than_the_straight_line() -> None:
    # Two banks of a river joined by one bridge 600 m away.
    lines = [[(0, 0), (600, 0)], [(600, 0), (600, 200)], [(600, 200), (0, 200)]]
    network = StreetNetwork.from_lines(lines)
    walk, on_network = walks_from(network, (0, 0), np.array([[0.0, 200.0]]), np.array([200.0]), 1.3)
    assert on_network.tolist() == [True] and walk[0] == pytest.approx(1400.0)
    straight, used = walks_from(None, (0, 0), np.array([[0.0, 200.0]]), np.array([200.0]), 1.3)
    assert used.tolist() == [False] and straight[0] == pytest.approx(260.0)


def test_points_far_from_the_network_fall_back_to_the_detour_factor() -> None:
    network = StreetNetwork.from_lines([[(0, 0), (100, 0)]], max_snap_m=250)
    walk, on_network = walks_from(network, (0, 0), np.array([[0.0, 1000.0]]), np.array([1000.0]), 1.3)
    assert on_network.tolist() == [False] and walk[0] == pytest.approx(1300.0)


def test_multi_source_distances_equal_the_minimum_of_single_source_runs() -> None:
    network = StreetNetwork.from_lines(_grid())
    rng = np.random.default_rng(7)
    sources = rng.uniform(0, 500, size=(4, 2))
    points = rng.uniform(0, 500, size=(25, 2))
    multi = network.distances_to_nearest(sources, points)
    brute = np.min([[network.distances_from(p, s[None, :])[0] for s in sources] for p in points], axis=1)
    assert np.allclose(multi, brute)
    walk, on_network = walks_to_nearest(network, sources, points, 1.3)
    assert on_network.all() and np.allclose(walk, brute)
    none, _ = walks_to_nearest(network, np.empty((0, 2)), points, 1.3)
    assert np.isinf(none).all()


def test_a_bounded_search_widens_when_a_target_lies_beyond_it() -> None:
    network = StreetNetwork.from_lines(_grid())
    targets = np.array([[100.0, 0.0], [500.0, 500.0]])
    straight = np.hypot(targets[:, 0], targets[:, 1])
    bounded = WalksFrom.compute(network, (0.0, 0.0), 1.3, search_m=150.0)
    assert not bounded.complete
    walk, on_network = bounded.to(targets, straight)
    assert bounded.complete and on_network.all()
    assert np.allclose(walk, network.distances_from((0.0, 0.0), targets))
