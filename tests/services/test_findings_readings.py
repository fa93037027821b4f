"""The readings of one displacement answer (app.services.packs.intervention_findings): what the findings
page, the map and the pack all say. Pure: a disclosed answer in, sentences out (no database)."""

from __future__ import annotations

from app.services.disclosure import DisclosureInfo
from app.services.packs import intervention_findings


def _result(control: tuple[int | None, int | None], wdd: float | None = -171.0) -> dict[str, object]:
    """A disclosed displacement answer as app.services.displacement returns it (the parts the findings read)."""
    measure = {"value": 1.5, "interpretation": "x", "undefined_reason": None}
    return {
        "target": {"counts": {"before": 200, "after": 25}, "geometry": None},
        "buffer": None, "control": {"counts": {"before": control[0], "after": control[1]}},
        "before": {"observed_days": 184.0}, "after": {"observed_days": 181.0},
        "quotient": {"wdq": {**measure, "value": None, "undefined_reason": "the control area recorded no incidents"},
                     "success_measure": {**measure, "value": None}, "buffer_displacement_measure": measure,
                     "total_net_effect": {**measure, "value": None}},
        "difference": None if wdd is None else {"wdd": wdd, "lower": -273.8, "upper": -68.2, "confidence": 0.95,
                                                "undefined_reason": None, "interpretation": "x"},
        "where_it_went": {"places": [], "search_distance_m": 1000.0},
        "parameters": {"buffer_m": 600.0},
        "disclosure": DisclosureInfo(applied=True, suppress_max=7, round_to=5, note=""),
    }


def test_a_control_with_no_incidents_gets_no_wdd_verdict() -> None:
    """Issue 17: Brookfield Leisure Centre as the control (0 incidents either side) gave "about 171 fewer
    incidents than the control areas suggest" while the quotient could not be worked out."""
    read = {f.measure: f for f in intervention_findings(_result((0, 0)), "Chicken Shack Express", "after it")}
    assert read["rate_ratio"].verdict == "fell"
    for measure in ("wdd", "wdq", "total_net_effect"):
        assert read[measure].verdict == "undefined" and "too few incidents" in read[measure].sentence, measure
    busy = {f.measure: f for f in intervention_findings(_result((97, 85)), "Chicken Shack Express", "after it")}
    assert busy["wdd"].verdict == "fell" and "171 fewer incidents" in busy["wdd"].sentence
