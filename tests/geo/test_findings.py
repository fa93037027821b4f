"""Plain-English findings never claim more than the statistic supports (geo.findings)."""

from __future__ import annotations

import pytest

from geo import findings
from geo.displacement import weighted_displacement_difference, weighted_displacement_quotient
from geo.rates import rate_ratio


def test_rate_fell_when_the_whole_interval_is_below_one() -> None:
    result = rate_ratio(before_count=50, before_exposure=182, after_count=8, after_exposure=182)
    assert result.upper is not None and result.upper < 1
    finding = findings.rate_change("Chicken Shack Express", result.ratio, result.lower, result.upper,
                                   after="after the WiFi was switched off")
    assert finding.verdict == "fell"
    assert finding.sentence.startswith("Harm at Chicken Shack Express fell by about 84 % after the WiFi")
    assert "95 % interval" in finding.sentence


def test_rate_rose_when_the_whole_interval_is_above_one() -> None:
    result = rate_ratio(before_count=10, before_exposure=182, after_count=40, after_exposure=182)
    finding = findings.rate_change("Wellgate Central Library", result.ratio, result.lower, result.upper)
    assert finding.verdict == "rose"
    assert "rose to about 4.0 times its rate before" in finding.sentence


def test_an_interval_including_no_change_says_no_clear_change_even_with_a_large_estimate() -> None:
    result = rate_ratio(before_count=4, before_exposure=182, after_count=1, after_exposure=182)
    assert result.ratio == pytest.approx(0.25)  # a 75 % fall by the point estimate ...
    finding = findings.rate_change("the park", result.ratio, result.lower, result.upper)
    assert finding.verdict == "no clear change"  # ... but the interval includes 1
    assert finding.sentence.startswith("No clear change in harm at the park")
    assert "fell" not in finding.sentence and "rose" not in finding.sentence


def test_rate_with_no_incidents_is_undefined_and_says_why() -> None:
    result = rate_ratio(0, 182, 0, 182)
    finding = findings.rate_change("the park", result.ratio, result.lower, result.upper,
                                   undefined_reason=result.undefined["ratio"])
    assert finding.verdict == "undefined"
    assert "no incidents were recorded in either period" in finding.sentence
    assert "nan" not in finding.sentence.lower() and "inf" not in finding.sentence.lower()


def test_rate_from_none_before_rises_only_when_the_lower_limit_clears_one() -> None:
    many = rate_ratio(0, 182, 12, 182)
    assert findings.rate_change("the car park", many.ratio, many.lower, many.upper).verdict == "rose"
    few = rate_ratio(0, 182, 2, 182)
    assert findings.rate_change("the car park", few.ratio, few.lower, few.upper).verdict == "no clear change"


def test_withheld_rate_says_so_and_shows_no_figure() -> None:
    finding = findings.rate_change("the park", None, None, None, withheld=True)
    assert finding.verdict == "withheld"
    assert not any(ch.isdigit() for ch in finding.sentence)


def test_wdd_worked_example_reads_as_a_clear_fall_with_its_interval() -> None:
    # Wheeler & Ratcliffe (2018) worked example: WDD -118, variance 1568, 95 % interval about -196 to -40.
    wdd = weighted_displacement_difference((207, 110), (308, 318), (178, 157), (150, 140))
    finding = findings.weighted_displacement_difference(wdd.wdd, wdd.lower, wdd.upper)
    assert finding.verdict == "fell"
    assert "about 118 fewer incidents" in finding.sentence
    assert "WDD \u2212118, 95 % interval \u2212196 to \u221240" in finding.sentence


def test_wdd_rose_and_no_clear_change() -> None:
    rise = weighted_displacement_difference((50, 150), (300, 300), (50, 60), (50, 50))
    assert findings.weighted_displacement_difference(rise.wdd, rise.lower, rise.upper).verdict == "rose"
    unclear = weighted_displacement_difference((20, 15), (300, 300), (20, 22), (50, 50))
    assert unclear.lower is not None and unclear.upper is not None and unclear.lower < 0 < unclear.upper
    finding = findings.weighted_displacement_difference(unclear.wdd, unclear.lower, unclear.upper)
    assert finding.verdict == "no clear change"
    assert "the interval includes no change" in finding.sentence


def test_wdd_undefined_with_zero_counts() -> None:
    zero = weighted_displacement_difference((0, 0), (0, 0), (0, 0), (0, 0))
    finding = findings.weighted_displacement_difference(zero.wdd if zero.lower is not None else None, zero.lower,
                                                        zero.upper, undefined_reason=zero.undefined_reason)
    assert finding.verdict == "undefined"
    assert "no incidents were recorded in any area or period" in finding.sentence


def _wdq(target: tuple[int, int], buffer: tuple[int, int], control: tuple[int, int]) -> findings.Finding:
    q = weighted_displacement_quotient(target, buffer, control)
    return findings.weighted_displacement_quotient(
        q.wdq.value, q.success_measure.value, q.buffer_displacement_measure.value,
        undefined_reason=q.wdq.undefined_reason or q.success_measure.undefined_reason)


def test_wdq_displacement() -> None:
    finding = _wdq((100, 50), (100, 130), (100, 100))  # target fell, buffer rose: WDQ -0.6
    assert finding.verdict == "displacement"
    assert "consistent with displacement, but less than the benefit at the target" in finding.sentence
    assert "not a test" in finding.sentence  # the quotient has no interval: never called clear


def test_wdq_displacement_that_outweighs_the_benefit() -> None:
    finding = _wdq((100, 80), (100, 150), (100, 100))  # WDQ -2.5
    assert finding.verdict == "displacement"
    assert "more than cancelling" in finding.sentence


def test_wdq_diffusion_of_benefits() -> None:
    finding = _wdq((100, 50), (100, 80), (100, 100))
    assert finding.verdict == "diffusion"
    assert "diffusion of benefits" in finding.sentence


def test_wdq_neither_when_the_buffer_moves_with_control() -> None:
    assert _wdq((100, 50), (100, 100), (100, 100)).verdict == "neither"


def test_wdq_neither_when_the_target_did_not_improve() -> None:
    # Bowers & Johnson (2003, p. 285): the quotient is only read when the success measure is negative.
    finding = _wdq((100, 120), (100, 150), (100, 100))
    assert finding.verdict == "neither"
    assert "did not fall" in finding.sentence and "displacement" in finding.sentence


def test_wdq_undefined_when_the_control_area_had_no_incidents() -> None:
    finding = _wdq((10, 5), (10, 12), (0, 0))
    assert finding.verdict == "undefined"
    assert "control area recorded no incidents" in finding.sentence


def test_total_net_effect_readings() -> None:
    q = weighted_displacement_quotient((100, 50), (100, 130), (100, 100))
    assert q.total_net_effect.value == pytest.approx(20.0)
    assert findings.total_net_effect(q.total_net_effect.value).verdict == "fell"
    assert findings.total_net_effect(-7.72).sentence.startswith(
        "Allowing for the area around the target, about 8 more incidents")
    assert findings.total_net_effect(0.2).verdict == "neither"
    undefined = weighted_displacement_quotient((1, 1), (1, 1), (0, 3)).total_net_effect
    finding = findings.total_net_effect(undefined.value, undefined_reason=undefined.undefined_reason)
    assert finding.verdict == "undefined" and "no incidents before" in finding.sentence


def test_places_where_harm_rose_are_displacement_only_when_the_target_fell() -> None:
    library = findings.RisingPlace("Wellgate Central Library", 300.4, 2.1, 1.2, 3.8)
    after_fall = findings.rising_places([library], target_fell=True, search_distance_m=1000)
    assert after_fall.verdict == "displacement"
    assert after_fall.sentence == ("Harm rose at Wellgate Central Library, 300 m away (rate ratio 2.1, 95 % "
                                   "interval 1.2 to 3.8) — consistent with displacement.")
    without = findings.rising_places([library], target_fell=False, search_distance_m=1000)
    assert without.verdict == "rose" and "not evidence of displacement" in without.sentence
    none = findings.rising_places([], target_fell=True, search_distance_m=1000)
    assert none.verdict == "neither" and "1,000 m" in none.sentence


def test_numbers_use_a_true_minus_and_no_negative_zero() -> None:
    assert findings.number(-118) == "\u2212118"
    assert findings.number(-0.2) == "0"
    assert findings.number(1234.5, 1) == "1,234.5"


def test_a_rising_place_beyond_the_buffer_is_said_to_be_outside_what_the_quotient_weighs() -> None:
    library = findings.RisingPlace("Wellgate Central Library", 620, 2.1, 1.2, 3.8, in_buffer=False)
    found = findings.rising_places([library], target_fell=True, search_distance_m=1000, buffer_m=400,
                                   quotient_verdict="diffusion")
    assert found.verdict == "displacement"
    assert found.sentence == (
        "Harm rose at Wellgate Central Library, 620 m away (rate ratio 2.1, 95 % interval 1.2 to 3.8) — consistent "
        "with displacement. Wellgate Central Library is outside the 400 m buffer around the target, so the "
        "displacement quotient, which weighs only the buffer, does not count its rise: that is how the quotient "
        "can suggest a diffusion of benefits while harm rose there.")
    # Without a diffusion reading, only the fact; two places are joined with "and".
    cafe = findings.RisingPlace("Cafe", 700, 1.8, 1.1, 2.9, in_buffer=False)
    two = findings.rising_places([library, cafe], target_fell=False, search_distance_m=1000, buffer_m=400,
                                 quotient_verdict="neither")
    assert two.sentence.endswith("Wellgate Central Library and Cafe are outside the 400 m buffer around the target, "
                                 "so the displacement quotient, which weighs only the buffer, does not count their "
                                 "rises.")


def test_no_buffer_sentence_when_the_rising_place_is_inside_or_unknown() -> None:
    inside = findings.RisingPlace("Shop", 200, 2.1, 1.2, 3.8, in_buffer=True)
    unknown = findings.RisingPlace("Shop", 200, 2.1, 1.2, 3.8)
    for place in (inside, unknown):
        found = findings.rising_places([place], target_fell=True, search_distance_m=1000, buffer_m=400,
                                       quotient_verdict="diffusion")
        assert "outside" not in found.sentence


@pytest.mark.parametrize(("before", "after", "too_few"), [
    (0, 0, True),  # Brookfield Leisure Centre on the demo
    (None, 40, True),  # suppressed: a count the panel cannot see
    (40, None, True),
    (7, 30, True),
    (30, 7, True),
    (8, 8, False),
    (585, 525, False),
])
def test_a_control_needs_incidents_in_both_periods(before: int | None, after: int | None, too_few: bool) -> None:
    assert findings.control_too_few(before, after, minimum=8) is too_few


def test_exact_interval_of_seven_behind_the_minimum() -> None:
    """The docstring's figures: the exact (Garwood 1936) 95 % interval of a count of 7 is 2.8 to 14.4,
    checked against scipy's chi-square quantiles, an independent route to the same limits."""
    from scipy.stats import chi2

    assert round(chi2.ppf(0.025, 14) / 2, 1) == 2.8 and round(chi2.ppf(0.975, 16) / 2, 1) == 14.4


@pytest.mark.parametrize("measure", ["wdd", "wdq", "total_net_effect"])
def test_too_few_in_the_control_gives_no_verdict(measure: str) -> None:
    finding = findings.too_few_in_control(measure, 8)  # type: ignore[arg-type]
    assert finding.measure == measure and finding.verdict == "undefined"
    assert finding.sentence.startswith("Cannot say ")
    assert "the control area has too few incidents (fewer than 8 in the before or the after period)" in (
        finding.sentence)
    for verdict_word in ("fewer incidents than", "more incidents than", "consistent with"):
        assert verdict_word not in finding.sentence

