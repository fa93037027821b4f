"""The demo scenario: deterministic, well-formed, and the seed story holds in the numbers."""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from shapely.geometry import Point, Polygon

from geo.demo import DemoIncident, DemoScenario, build_demo_scenario

PLACE_KINDS = {
    "fast_food", "takeaway", "library", "park", "sports_cage", "school", "college", "youth_club",
    "community_centre", "leisure_centre", "shopping_centre", "shop", "transport_hub", "bus_route",
    "housing_estate", "stairwell", "hotel", "arcade", "faith_setting", "street", "other",
}
HARM_CATEGORIES = {
    "criminal_exploitation", "sexual_exploitation", "serious_violence", "weapon_carrying", "peer_abuse",
    "missing_episode", "drugs", "antisocial_behaviour", "online_harm", "other",
}
INTERVENTION_KINDS = {
    "disruption", "environmental_change", "guardianship_training", "youth_provision", "outreach",
    "enforcement", "licensing", "safe_space_creation",
}
GUARDIAN_ROLES = {"place_manager", "staff", "youth_worker", "volunteer", "security"}
TRAINING_KINDS = {"bystander_intervention", "adolescent_development", "safeguarding"}
USER_ROLES = {"admin", "community_safety", "youth_worker", "panel"}


@pytest.fixture(scope="module")
def scenario() -> DemoScenario:
    return build_demo_scenario()


def _metres(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Haversine distance, independent of the module's local projection."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (math.sin((p2 - p1) / 2) ** 2
         + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2)
    return 2 * 6_371_000 * math.asin(math.sqrt(a))


def _month_index(when: datetime) -> int:
    return (when.year - 2024) * 12 + when.month - 12


def _monthly_at(scenario: DemoScenario, key: str) -> list[int]:
    """Incidents per month linked to a place the way the service links them: explicit or within 50 m."""
    place = next(p for p in scenario.places if p.key == key)
    counts = [0] * 24

    def linked(i: DemoIncident) -> bool:
        if i.place_key is not None:
            return i.place_key == key
        return _metres(i.lon, i.lat, place.lon, place.lat) <= 50

    for incident in scenario.incidents:
        if linked(incident):
            counts[_month_index(incident.occurred_from)] += 1
    return counts


def _mean(values: list[int]) -> float:
    return sum(values) / len(values)


def test_same_seed_gives_an_equal_scenario(scenario: DemoScenario) -> None:
    assert build_demo_scenario() == scenario
    assert build_demo_scenario(seed=7) != scenario


def test_period_is_the_24_months_from_december_2024(scenario: DemoScenario) -> None:
    assert scenario.period_start == datetime(2024, 12, 1, tzinfo=UTC)
    assert scenario.period_end == datetime(2026, 12, 1, tzinfo=UTC)  # exclusive
    assert {_month_index(i.occurred_from) for i in scenario.incidents} == set(range(24))


def test_incidents_lie_inside_the_service_area_and_the_period(scenario: DemoScenario) -> None:
    area = Polygon(scenario.service_area)
    assert area.is_valid
    for i in scenario.incidents:
        assert area.contains(Point(i.lon, i.lat)), i
        assert i.occurred_from.tzinfo is not None
        assert scenario.period_start <= i.occurred_from < scenario.period_end
        if i.occurred_to is not None:
            assert i.occurred_from < i.occurred_to <= scenario.period_end


def test_places_lie_inside_the_service_area(scenario: DemoScenario) -> None:
    area = Polygon(scenario.service_area)
    for place in scenario.places:
        assert area.contains(Point(place.lon, place.lat)), place.key
        if place.polygon is not None:
            outline = Polygon(place.polygon)
            assert outline.is_valid and area.contains(outline)
            assert outline.contains(Point(place.lon, place.lat))
    assert len({p.key for p in scenario.places}) == len(scenario.places)


def test_library_is_400_to_600_m_from_the_outlet(scenario: DemoScenario) -> None:
    by_key = {p.key: p for p in scenario.places}
    outlet, library = by_key["outlet"], by_key["library"]
    assert 400 <= _metres(outlet.lon, outlet.lat, library.lon, library.lat) <= 600


def test_vocabularies_are_the_domain_model_s(scenario: DemoScenario) -> None:
    place_keys = {p.key for p in scenario.places}
    assert {p.kind for p in scenario.places} <= PLACE_KINDS
    assert {i.harm_category for i in scenario.incidents} == HARM_CATEGORIES
    assert {i.source for i in scenario.incidents} == {"police_uk", "council_asb", "partner"}
    assert {i.location_precision for i in scenario.incidents} == {"exact", "snapped", "street"}
    assert {i.place_key for i in scenario.incidents} - {None} <= place_keys
    assert {v.kind for v in scenario.interventions} <= INTERVENTION_KINDS
    assert {v.place_key for v in scenario.interventions} <= place_keys
    assert {g.role for g in scenario.guardians} <= GUARDIAN_ROLES
    assert {k for g in scenario.guardians for k, _ in g.trainings} <= TRAINING_KINDS
    assert {g.place_key for g in scenario.guardians} <= place_keys
    assert sorted(u.role for u in scenario.users) == sorted(USER_ROLES)
    assert all(u.email.endswith("@demo.contextmap.test") and u.password for u in scenario.users)


def test_source_refs_are_unique_per_source_and_police_refs_look_like_crime_ids(
        scenario: DemoScenario) -> None:
    refs = Counter((i.source, i.source_ref) for i in scenario.incidents)
    assert max(refs.values()) == 1
    police = [i for i in scenario.incidents if i.source == "police_uk"]
    assert all(re.fullmatch(r"[0-9a-f]{64}", i.source_ref) for i in police)
    # police.uk gives the month only: the record's window is that whole month, snapped to a map point.
    for i in police:
        assert i.occurred_from.day == 1 and i.occurred_from.hour == 0
        assert i.occurred_to is not None and _month_index(i.occurred_to) == _month_index(i.occurred_from) + 1
        assert i.location_precision == "snapped"
    assert all(i.occurred_to is None for i in scenario.incidents if i.source != "police_uk")


def test_council_asb_reports_come_mostly_after_school_and_in_the_evening(scenario: DemoScenario) -> None:
    from zoneinfo import ZoneInfo

    hours = [i.occurred_from.astimezone(ZoneInfo("Europe/London")).hour
             for i in scenario.incidents if i.source == "council_asb"]
    assert sum(15 <= h < 23 for h in hours) / len(hours) > 0.9


def test_incident_total_and_volume_are_realistic(scenario: DemoScenario) -> None:
    assert 5_000 <= len(scenario.incidents) <= 9_000
    per_month = Counter(_month_index(i.occurred_from) for i in scenario.incidents
                        if i.source == "police_uk")
    assert all(200 <= n <= 400 for n in per_month.values())


def test_background_noise_clusters_on_a_few_points(scenario: DemoScenario) -> None:
    police = Counter((i.lon, i.lat) for i in scenario.incidents if i.source == "police_uk")
    busiest = sum(n for _, n in police.most_common(20))
    assert busiest / sum(police.values()) > 0.4


def test_designations_on_the_same_place_and_kind_do_not_overlap(scenario: DemoScenario) -> None:
    far_future = datetime(9999, 1, 1, tzinfo=UTC)
    groups: dict[tuple[str, str], list[tuple[datetime, datetime]]] = {}
    for d in scenario.designations:
        end = d.valid_to or far_future
        assert d.valid_from < end
        groups.setdefault((d.place_key, d.kind), []).append((d.valid_from, end))
    for spans in groups.values():
        spans.sort()
        for (_, end), (start, _) in itertools.pairwise(spans):
            assert end <= start


def test_designations_carry_the_fields_of_their_kind(scenario: DemoScenario) -> None:
    for d in scenario.designations:
        if d.kind == "concern":
            assert d.level in {"low", "medium", "high"} and d.reason and d.review_by
            assert d.scheme is None and d.help_offered == ()
        else:
            assert d.kind == "safe_space"
            assert d.scheme and d.help_offered and d.verified_on and d.level is None
            assert d.age_min is not None and d.age_max is not None and d.age_min < d.age_max


def test_library_history_is_safe_space_then_concern_then_safe_space(scenario: DemoScenario) -> None:
    history = sorted((d for d in scenario.designations if d.place_key == "library"),
                     key=lambda d: d.valid_from)
    assert [d.kind for d in history] == ["safe_space", "concern", "safe_space"]
    assert history[1].level == "high"
    assert history[-1].valid_to is None
    assert history[-1].valid_from.date() == scenario.library_safe_again_on
    outlet = [d for d in scenario.designations if d.place_key == "outlet" and d.level == "high"]
    assert outlet and outlet[0].valid_from.date() == scenario.outlet_concern_from


def test_interventions_tell_the_story(scenario: DemoScenario) -> None:
    by_key = {v.key: v for v in scenario.interventions}
    wifi = by_key["wifi_off"]
    assert wifi.place_key == "outlet" and wifi.starts_on == scenario.wifi_off_on
    assert wifi.kind in {"disruption", "environmental_change"}
    at_library = {v.kind: v for v in scenario.interventions
                  if v.place_key == "library" and v.starts_on == scenario.youth_club_on}
    assert at_library["youth_provision"].owning_partner == "Youth service"
    assert at_library["guardianship_training"].owning_partner == "Library service"
    trained = [g for g in scenario.guardians if g.place_key == "library" and g.role == "staff"]
    assert trained and all(on > scenario.youth_club_on for _, on in trained[0].trainings)
    assert any(g.place_key == "library" and g.role == "youth_worker" and g.hours == "Mo-Fr 15:00-19:00"
               for g in scenario.guardians)


def test_outlet_harm_drops_after_the_wifi_goes_off(scenario: DemoScenario) -> None:
    counts = _monthly_at(scenario, "outlet")
    before, after = counts[:9], counts[9:]
    assert all(20 <= n <= 50 for n in before)
    assert _mean(after) < 0.3 * _mean(before)


def test_harm_moves_to_the_library_and_falls_after_the_youth_club(scenario: DemoScenario) -> None:
    counts = _monthly_at(scenario, "library")
    before, displaced, recovered = counts[:9], counts[9:15], counts[18:]
    assert _mean(displaced) > 4 * _mean(before)
    assert all(n >= 15 for n in displaced)
    # Mar 2026 (youth club) onward declines; by June it is back to the background level.
    assert counts[15] > counts[17] and _mean(recovered) < 0.25 * _mean(displaced)


def test_the_story_stands_out_for_other_seeds_too() -> None:
    for seed in (1, 2, 3):
        s = build_demo_scenario(seed)
        outlet, library = _monthly_at(s, "outlet"), _monthly_at(s, "library")
        assert _mean(outlet[9:]) < 0.3 * _mean(outlet[:9])
        assert _mean(library[9:15]) > 4 * _mean(library[:9])


def test_most_story_incidents_are_left_for_automatic_linking(scenario: DemoScenario) -> None:
    by_key = {p.key: p for p in scenario.places}
    story = [by_key["outlet"], by_key["library"]]
    near_story = [i for i in scenario.incidents
                  if any(_metres(i.lon, i.lat, p.lon, p.lat) <= 50 for p in story)]
    explicit = [i for i in near_story if i.place_key is not None]
    assert 0 < len(explicit) < len(near_story) / 2
    assert all(i.place_key in {"outlet", "library"} for i in explicit)
    assert all(_metres(i.lon, i.lat, by_key[i.place_key].lon, by_key[i.place_key].lat) <= 40
               for i in explicit if i.place_key)


def test_descriptions_carry_no_personal_detail(scenario: DemoScenario) -> None:
    # No ages, dates of birth or case numbers: only fixed, generic phrases.
    texts = {i.description for i in scenario.incidents if i.description}
    assert len(texts) < 100
    assert not any(re.search(r"\d", t) for t in texts)


def test_library_is_open_on_a_weekday_after_school_and_the_school_is_shut(scenario: DemoScenario) -> None:
    hours = {p.key: p.opening_hours for p in scenario.places}
    assert hours["library"] is not None and "Mo-Fr 09:00-19:00" in hours["library"]
    assert hours["school"] == "Mo-Fr 08:00-16:00; PH off"
    from geo.opening_hours import OpeningHours

    wednesday_1630 = datetime(2026, 6, 17, 16, 30, tzinfo=ZoneInfo("Europe/London"))
    assert OpeningHours.parse(hours["library"]).is_open(wednesday_1630)
    assert not OpeningHours.parse(hours["school"]).is_open(wednesday_1630)
