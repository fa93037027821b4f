"""Disclosure control for panel-facing and shareable outputs.

Small counts can identify a child, so counts from 1 to ``suppress_max`` (default 7) are suppressed and
other counts are rounded to the nearest ``round_to`` (default 5) — the small-cell suppression and rounding
conventions of UK official statistics (ONS, "Statistical disclosure control" guidance; GSS "Policy on
protecting confidentiality in tables of birth and death statistics"). Zero is not disclosive and stays 0.
Every output path (API, maps, exports, OGC) calls :func:`disclose_count` — there is no second copy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

SUPPRESSED = None

#: Every property a person types freely, and what a disclosure-controlled reader gets instead — the one
#: place this is decided. Free text can name a child, a family, a member of staff or a home, whatever the
#: field was meant for, so it never leaves in a panel's or a shared answer. Kept: names and kinds of places
#: (published context), vocabularies (kind, level, role, harm category, trainings), dates, opening hours
#: (a machine syntax, validated), age ranges, and an intervention's ``title`` and ``shareable_summary``:
#: texts written *for* the panel (the form says they are shared), so the panel sees them and nothing else
#: said about the intervention (issue 14).
FREE_TEXT_FIELDS: dict[str, Any] = {
    "notes": None,            # anything at all
    "reason": None,           # a concern's reason: often describes the young people involved
    "description": None,      # incidents, interventions, guardians: narrative
    "address": None,          # may be a home address (a housing estate stairwell, a flat)
    "place_manager": None,    # usually a named person
    "scheme": None,           # safe-space scheme: free text, may carry contact names
    "accessibility": None,    # free text notes
    "help_offered": [],       # free strings (up to 200 characters each), not a vocabulary
    "owning_partner": None,   # typed freely: may be a named officer or worker rather than an agency
    "partners": [],           # as owning_partner
    "phrase": None,           # a young person's words on a safety map, kept only when marked shareable (issue 21)
    "recommended_responses": None,  # an assessment's responses: free strings
    "statement": None,        # an assessment goal's statement (its measure and values are kept)
}


@dataclass(frozen=True)
class DisclosureRule:
    suppress_max: int = 7
    round_to: int = 5

    def __post_init__(self) -> None:
        if self.suppress_max < 0 or self.round_to < 1:
            raise ValueError("suppress_max must be >= 0 and round_to >= 1")


def disclose_count(count: int | None, rule: DisclosureRule = DisclosureRule()) -> int | None:
    """Return the count as a panel may see it: ``None`` when suppressed, else rounded.

    Rounding is half-up to the nearest multiple, and never rounds a shown count down into the
    suppressed range (8 rounds to 10, not 5), so a shown value never hints at a small count.

    Examples
    --------
    >>> [disclose_count(n) for n in (0, 1, 7, 8, 12, 13, 102)]
    [0, None, None, 10, 10, 15, 100]
    """
    if count is None:
        return None
    if count < 0:
        raise ValueError("counts cannot be negative")
    if count == 0:
        return 0
    if count <= rule.suppress_max:
        return SUPPRESSED
    rounded = int((count + rule.round_to / 2) // rule.round_to * rule.round_to)
    while rounded <= rule.suppress_max:
        rounded += rule.round_to
    return rounded


def strip_free_text(record: Mapping[str, Any], free_text_fields: Sequence[str] = tuple(FREE_TEXT_FIELDS)
                    ) -> dict[str, Any]:
    """Drop free-text fields (:data:`FREE_TEXT_FIELDS`) from a record shown to a panel."""
    return {k: v for k, v in record.items() if k not in free_text_fields}


def withhold_free_text(record: Mapping[str, Any]) -> dict[str, Any]:
    """The record with each free-text field replaced by its withheld value (null, or an empty list),
    at any depth: an assessment's sides, goals, baselines and observations carry ``notes`` too.

    >>> withhold_free_text({"kind": "cafe", "notes": "x", "goals": [{"statement": "s", "measure": "m"}]})
    {'kind': 'cafe', 'notes': None, 'goals': [{'statement': None, 'measure': 'm'}]}
    """
    def withheld(key: str, value: Any) -> Any:
        if key in FREE_TEXT_FIELDS:
            replacement = FREE_TEXT_FIELDS[key]
            return list(replacement) if isinstance(replacement, list) else replacement
        return nested(value)

    def nested(value: Any) -> Any:
        if isinstance(value, Mapping):
            return withhold_free_text(value)
        if isinstance(value, list):
            return [nested(item) for item in value]
        return value

    return {k: withheld(k, v) for k, v in record.items()}
