"""WDQ (Bowers & Johnson 2003) and WDD (Wheeler & Ratcliffe 2018) against worked examples."""

from __future__ import annotations

import doctest
import json
import math

import pytest

import geo.displacement
from geo.displacement import (
    displacement_report,
    weighted_displacement_difference,
    weighted_displacement_quotient,
)


def test_wdq_brief_worked_example_displacement_cancels_benefit() -> None:
    result = weighted_displacement_quotient(target=(100, 50), buffer=(100, 150), control=(100, 100))
    assert result.success_measure.value == pytest.approx(-0.5)
    assert result.buffer_displacement_measure.value == pytest.approx(0.5)
    assert result.wdq.value == pytest.approx(-1.0)
    assert result.total_net_effect.value == pytest.approx(0.0)
    assert "fell relative to the control" in result.success_measure.interpretation
    assert "displacement" in result.buffer_displacement_measure.interpretation
    assert "cancelled out" in result.wdq.interpretation


def test_wdq_hand_computed_with_a_falling_control_trend() -> None:
    # Control falls 200 -> 180 (trend 0.9). Success = 30/180 - 60/200, buffer = 50/180 - 40/200,
    # total net effect = (60 * 0.9 - 30) - (50 - 40 * 0.9) = 24 - 14 = 10 incidents prevented.
    result = weighted_displacement_quotient(target=(60, 30), buffer=(40, 50), control=(200, 180))
    success = 30 / 180 - 60 / 200
    buffer = 50 / 180 - 40 / 200
    assert result.success_measure.value == pytest.approx(success)
    assert result.buffer_displacement_measure.value == pytest.approx(buffer)
    assert result.wdq.value == pytest.approx(buffer / success)
    assert -1 < result.wdq.value < 0
    assert "less than the reduction" in result.wdq.interpretation
    assert result.total_net_effect.value == pytest.approx(10.0)
    assert "10.0 incidents prevented" in result.total_net_effect.interpretation


@pytest.mark.parametrize(
    ("buffer", "phrase"),
    [
        ((100, 80), "Diffusion of benefits: the buffer also improved"),
        ((100, 20), "larger than the effect at the target"),
        ((100, 100), "No displacement or diffusion"),
        ((100, 200), "counter-productive"),
    ],
)
def test_wdq_reading_follows_bowers_johnson_scale(buffer: tuple[int, int], phrase: str) -> None:
    result = weighted_displacement_quotient(target=(100, 50), buffer=buffer, control=(100, 100))
    assert phrase in result.wdq.interpretation


def test_wdq_not_meaningful_when_target_did_not_improve() -> None:
    result = weighted_displacement_quotient(target=(50, 100), buffer=(100, 150), control=(100, 100))
    assert result.success_measure.value == pytest.approx(0.5)
    assert "Not meaningful" in result.wdq.interpretation


@pytest.mark.parametrize(
    ("target", "control", "undefined"),
    [
        ((10, 5), (0, 10), {"success_measure", "buffer_displacement_measure", "wdq", "total_net_effect"}),
        ((10, 5), (10, 0), {"success_measure", "buffer_displacement_measure", "wdq"}),
        ((10, 10), (10, 10), {"wdq"}),  # success measure exactly zero
    ],
)
def test_zero_denominators_are_undefined_not_crashes(
    target: tuple[int, int], control: tuple[int, int], undefined: set[str]
) -> None:
    result = weighted_displacement_quotient(target=target, buffer=(5, 5), control=control)
    for name in ("success_measure", "buffer_displacement_measure", "wdq", "total_net_effect"):
        measure = getattr(result, name)
        if name in undefined:
            assert measure.value is None and measure.undefined_reason
            assert measure.interpretation.startswith("Undefined")
        else:
            assert measure.value is not None and math.isfinite(measure.value)
    json.dumps(result.to_dict())  # no inf/NaN sneaks into the JSON


def test_wdd_matches_wheeler_ratcliffe_published_example() -> None:
    # Wheeler & Ratcliffe (2018): control 308 -> 318, treated 207 -> 110, displacement-control buffer
    # 150 -> 140, treated buffer 178 -> 157. Published: WDD -118, variance 1568, z -2.98, 95% CI (-196, -40).
    result = weighted_displacement_difference(
        treated=(207, 110), control=(308, 318), treated_buffer=(178, 157), control_buffer=(150, 140)
    )
    assert result.wdd == -118
    assert result.variance == 1568
    assert result.standard_error == pytest.approx(math.sqrt(1568))
    assert round(result.z, 2) == -2.98
    assert (round(result.lower), round(result.upper)) == (-196, -40)
    assert result.local_difference == -107 and result.displacement_difference == -11
    assert "statistically clear reduction" in result.interpretation


def test_wdd_ptools_reference_cases() -> None:
    # Cases from the authors' R package ptools (tests/testthat/test-wdd.R): local -10, total -20.
    local = weighted_displacement_difference((20, 10), (20, 20), (0, 0), (0, 0))
    assert local.wdd == -10 and local.variance == 70
    total = weighted_displacement_difference((20, 10), (20, 20), (20, 10), (20, 20))
    assert total.wdd == -20
    assert "could be chance" in local.interpretation


def test_wdd_with_no_incidents_is_undefined() -> None:
    result = weighted_displacement_difference((0, 0), (0, 0), (0, 0), (0, 0))
    assert result.z is None and result.p_value is None and result.undefined_reason
    json.dumps(result.to_dict())


def test_report_serialises_and_rejects_bad_counts() -> None:
    report = displacement_report((207, 110), (178, 157), (308, 318), control_buffer=(150, 140))
    payload = json.loads(json.dumps(report.to_dict()))
    assert payload["difference"]["wdd"] == -118
    assert payload["quotient"]["wdq"]["value"] == pytest.approx(report.quotient.wdq.value)
    with pytest.raises(ValueError, match="non-negative"):
        weighted_displacement_quotient((-1, 2), (1, 1), (1, 1))
    with pytest.raises(ValueError, match="pair"):
        weighted_displacement_quotient((1, 2, 3), (1, 1), (1, 1))  # type: ignore[arg-type]


def test_docstring_examples_run() -> None:
    assert doctest.testmod(geo.displacement, raise_on_error=False).failed == 0
