"""The one free-text rule (geo.privacy.withhold_free_text) and its doctests."""

from __future__ import annotations

import doctest

import geo.privacy
from geo.privacy import FREE_TEXT_FIELDS, withhold_free_text


def test_doctests() -> None:
    assert doctest.testmod(geo.privacy).failed == 0


def test_free_text_is_withheld_at_any_depth_and_nothing_else_changes() -> None:
    assessment = {
        "place_name": "Wellgate Central Library", "notes": "n", "recommended_responses": ["r"],
        "young_people": {"rating": "amber", "notes": "n"},
        "goals": [{"statement": "s", "measure": "asb_reports",
                   "baseline": {"observed_on": "2026-01-01", "value": 3.0, "notes": "n"},
                   "observations": [{"observed_on": "2026-02-01", "value": 2.0, "notes": "n"}]}],
        "partners": ["p"],
    }
    out = withhold_free_text(assessment)
    assert out == {
        "place_name": "Wellgate Central Library", "notes": None, "recommended_responses": None,
        "young_people": {"rating": "amber", "notes": None},
        "goals": [{"statement": None, "measure": "asb_reports",
                   "baseline": {"observed_on": "2026-01-01", "value": 3.0, "notes": None},
                   "observations": [{"observed_on": "2026-02-01", "value": 2.0, "notes": None}]}],
        "partners": [],
    }
    assert assessment["young_people"]["notes"] == "n"  # the input is not changed
    assert withhold_free_text({"help_offered": ["x"]})["help_offered"] == FREE_TEXT_FIELDS["help_offered"] == []
