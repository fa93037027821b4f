"""The role table of DESIGN.md, as route gates.

Every route declares exactly one gate (``Depends(gate)``); the route × role × organisation test walks the
application's route table and fails for any route without one, so a new route cannot ship without a rule.
"""

from __future__ import annotations

from dataclasses import dataclass

from geo.vocabulary import ROLES

ADMIN, COMMUNITY_SAFETY, YOUTH_WORKER, PANEL = ROLES


@dataclass(frozen=True)
class Gate:
    name: str
    roles: frozenset[str]
    public: bool = False

    def allows(self, role: str) -> bool:
        return self.public or role in self.roles


def _gate(name: str, *roles: str) -> Gate:
    return Gate(name, frozenset(roles))


PUBLIC = Gate("public", frozenset(ROLES), public=True)
# Places, designations, guardians, interventions: everyone reads (panel without free text).
READ_CONTEXT = _gate("read_context", *ROLES)
# Safe spaces, guardians, assessments, places: youth workers record them too.
WRITE_SAFE_SPACES = _gate("write_safe_spaces", ADMIN, COMMUNITY_SAFETY, YOUTH_WORKER)
# Places of concern are a community-safety judgement.
FLAG_CONCERN = _gate("flag_concern", ADMIN, COMMUNITY_SAFETY)
WRITE_INTERVENTIONS = _gate("write_interventions", ADMIN, COMMUNITY_SAFETY)
DELETE_PLACES = _gate("delete_places", ADMIN, COMMUNITY_SAFETY)
# Individual incident records: never the panel (aggregates only).
READ_INCIDENTS = _gate("read_incidents", ADMIN, COMMUNITY_SAFETY, YOUTH_WORKER)
CREATE_INCIDENTS = _gate("create_incidents", ADMIN, COMMUNITY_SAFETY, YOUTH_WORKER)
EDIT_INCIDENTS = _gate("edit_incidents", ADMIN, COMMUNITY_SAFETY)
IMPORT_INCIDENTS = _gate("import_incidents", ADMIN, COMMUNITY_SAFETY)
# Analysis and maps: everyone; the panel's answers are disclosure-controlled.
ANALYSIS = _gate("analysis", *ROLES)
ADMINISTER = _gate("administer", ADMIN)


def gates_of(dependant: object) -> list[Gate]:
    """The gates a route's dependency tree declares (used by the route × role test and the docs)."""
    found: list[Gate] = []
    stack = [dependant]
    while stack:
        current = stack.pop()
        call = getattr(current, "call", None)
        rule = getattr(call, "gate", None)
        if isinstance(rule, Gate):
            found.append(rule)
        stack.extend(getattr(current, "dependencies", []))
    return found
