"""What a reader may see of an analysis: exact figures for staff, disclosure-controlled ones for a panel or
for anything shared (:func:`geo.privacy.disclose_count`), and the audit record every shared answer leaves."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from app.db import audit
from app.schemas.analysis import DisclosureInfo
from app.security import Principal
from app.settings import Settings
from geo.privacy import DisclosureRule, disclose_count


@dataclass(frozen=True)
class Disclosure:
    """What the reader may see: exact figures, or disclosure-controlled ones (panel, or shareable)."""

    applied: bool
    rule: DisclosureRule

    @classmethod
    def for_reader(cls, principal: Principal, settings: Settings, shareable: bool) -> Disclosure:
        return cls(principal.is_panel or shareable, DisclosureRule(settings.suppress_max, settings.round_to))

    def count(self, n: int | None) -> int | None:
        return disclose_count(int(n), self.rule) if self.applied and n is not None else n

    def hides(self, *counts: int) -> bool:
        """True when a statistic built from these counts would reveal a suppressed count."""
        return self.applied and any(1 <= int(c) <= self.rule.suppress_max for c in counts)

    def stat(self, value: float | None, digits: int) -> float | None:
        if value is None or not self.applied:
            return value
        return round(float(value), digits)

    def text(self, value: str | None) -> str | None:
        return None if self.applied else value

    def cell_stat(self, value: float | None) -> float | None:
        # A cell's exact z and p, with its neighbours', are linear in the counts and could be solved back
        # towards suppressed counts; the confidence bin says what a panel needs (as the maps do).
        return None if self.applied else value

    def info(self) -> DisclosureInfo:
        if self.applied:
            note = (f"Counts of 1 to {self.rule.suppress_max} are suppressed (null), others rounded to the "
                    f"nearest {self.rule.round_to}; cell z and p values are withheld (confidence bins shown); "
                    "other statistics are rounded and withheld where computed from a suppressed count; no free "
                    "text or incident locations.")
        else:
            note = "Exact counts, for staff use only: ask for shareable=true before sharing outside the team."
        return DisclosureInfo(applied=self.applied, suppress_max=self.rule.suppress_max,
                              round_to=self.rule.round_to, note=note)


WITHHELD = "Withheld: computed from a count below the disclosure threshold."


def audit_export(session: Session, principal: Principal, shareable: bool, what: str, detail: dict[str, Any]) -> None:
    # A shareable answer is an export (DESIGN.md: every export is audited).
    if shareable:
        audit.record(session, organisation_id=principal.organisation_id, user_id=principal.user_id,
                     action="analysis.export", resource=what, detail=detail)
