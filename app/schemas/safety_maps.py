"""A safety-mapping session (issue 21) as the worker's form carries it between steps: never stored as such.

The session page keeps the marks, safe places and trusted adults made so far in one hidden field (this
model as JSON), so the session works without JavaScript and nothing is written until the worker finishes.
The field comes back from the browser, so it is validated like any request body, every time.
"""

from __future__ import annotations

from datetime import date, time
from typing import Annotated, Literal
from uuid import UUID, uuid4

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.schemas.common import one_of
from geo.vocabulary import AGE_BANDS, SAFETY_RATINGS

Words = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
HARD_CAP = 200  # entries of any list, whatever the settings say (the settings' limits are checked too)


class Where(BaseModel):
    """A place of ours (its id), a typed place or street name, an OS grid reference, or a map tap/drawing
    (GeoJSON text)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: Literal["place", "words", "grid_reference", "shape"]
    value: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60_000)]


class Mark(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    where: Where
    rating: Annotated[str, one_of(SAFETY_RATINGS)]
    words: Words = ""
    shareable: bool = False


class SafePlace(BaseModel):
    """A place of ours the young person named as safe, or a new place suggested (name, optional where)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    place_id: int | None = None
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    where: Where | None = None


class TrustedAdult(BaseModel):
    """A guardian of ours (a role at a place), or words the young person used ("my football coach")."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    guardian_id: int | None = None
    label: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class SessionItems(BaseModel):
    """What the hidden field carries."""

    model_config = ConfigDict(extra="forbid")
    submission_id: UUID = Field(default_factory=uuid4)  # one finished session = one kept map
    marks: list[Mark] = Field(default_factory=list, max_length=HARD_CAP)
    safe_places: list[SafePlace] = Field(default_factory=list, max_length=HARD_CAP)
    adults: list[TrustedAdult] = Field(default_factory=list, max_length=HARD_CAP)


class MapSession(SessionItems):
    """A finished session: the items with the age band, the date and the young person's answer."""

    age_band: Annotated[str, one_of(AGE_BANDS)]
    held_on: date
    agreed: bool
    # For the safety plan only (never kept): when the young person is usually out, and what to do.
    out_days: Literal["weekdays", "weekends", "every_day"] = "weekdays"
    out_from: time = time(15, 30)
    out_to: time = time(18, 0)
    plan_steps: Annotated[str, StringConstraints(strip_whitespace=True, max_length=600)] = ""
