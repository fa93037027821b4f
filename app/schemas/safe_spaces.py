"""Schemas for safe spaces, guardianship, the Level 1 safety plan and coverage analysis."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Any, Literal

from geojson_pydantic import Feature, FeatureCollection
from geojson_pydantic.geometries import Geometry
from pydantic import AwareDatetime, BaseModel, Field, field_validator, model_validator

from app.schemas.common import Day, Link, StrictModel

Age = Annotated[int, Field(ge=0, le=25)]


class TrainingStatus(BaseModel):
    kind: str
    completed_on: date
    expires_on: date
    current: bool


class GuardianPresence(BaseModel):
    id: int
    role: str
    description: str | None = None
    hours: str | None = None
    present: bool | None = Field(description="null when neither the guardian's nor the place's hours are known")
    presence_basis: str = Field(description="guardian_hours | place_hours | unknown")
    trainings: list[TrainingStatus] = []
    current_training: list[str] = []


class SafeSpaceDetails(BaseModel):
    designation_id: int
    valid_from: datetime
    valid_to: datetime | None = None
    scheme: str | None = None
    age_min: int | None = None
    age_max: int | None = None
    help_offered: list[str] = []
    accessibility: str | None = None
    verified_on: date | None = None
    stale: bool = Field(description="verified more than safe_space_stale_days before the time asked, or never")


class NearestProperties(BaseModel):
    place_id: int
    name: str
    kind: str
    address: str | None = None
    opening_hours: str | None = None
    open: bool
    hours_state: str = Field("open", description="open | closed | unknown (the hours say so: ring first) | "
                                                 "not_recorded")
    hours_note: str | None = Field(None, description='for people: "open, by appointment", '
                                                     '"hours not known \u2014 ring first (ring the bell)"')
    open_until: datetime | None = None
    straight_line_m: float
    walking_m: float
    walking_minutes: float
    within_threshold: bool
    distance_method: str
    safe_space: SafeSpaceDetails
    reasons: list[str]
    guardians: list[GuardianPresence]


class NearestFeature(Feature[Geometry, NearestProperties]):
    id: int  # type: ignore[assignment]


class Origin(BaseModel):
    lon: float
    lat: float


class NearestCollection(FeatureCollection[NearestFeature]):
    at: datetime
    origin: Origin
    age: int | None = None
    distance_method: str = Field(description="network | straight_line_with_detour_factor")
    network_loaded: bool
    detour_factor: float = Field(description="used for straight-line estimates (Levinson & El-Geneidy 2009)")
    walking_speed_m_per_min: float
    threshold_minutes: float
    within_threshold: bool = Field(description="whether any answer is within the walking threshold")
    advice: str | None = None
    excluded: dict[str, int]
    method_note: str
    numberReturned: int = 0


class SafeSpaceListProperties(BaseModel):
    place_id: int
    name: str
    kind: str
    address: str | None = None
    opening_hours: str | None = None
    open: bool | None
    hours_state: str = "open"
    hours_note: str | None = None
    safe_space: SafeSpaceDetails
    guardians: list[GuardianPresence]


class SafeSpaceListFeature(Feature[Geometry, SafeSpaceListProperties]):
    id: int  # type: ignore[assignment]


class SafeSpaceCollection(FeatureCollection[SafeSpaceListFeature]):
    at: datetime
    links: list[Link] = []
    numberReturned: int = 0


class Guardianship(BaseModel):
    place_id: int
    name: str
    at: datetime
    opening_hours: str | None = None
    open: bool | None
    present_count: int
    guardians: list[GuardianPresence]
    training_valid_years: int
    rules: list[str]


# ---- safety plan ------------------------------------------------------------------------------------------
DayCode = Literal["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"]
MAX_WEEKLY_PER_LOCATION = 2  # as the web plan (app.services.safety_plan.MAX_TIMES_PER_CONTEXT)
MAX_WEEKLY = 12  # across all locations: each pattern judges the nearest spaces over a whole week


class WeeklyPattern(StrictModel):
    """A time of the week the young person is there, as the web safety plan takes it: days of the week and
    a start and an end on the Europe/London clock. An end at or before the start runs past midnight
    (``"19:00"`` to ``"01:00"``); ``"00:00"`` as the end is midnight."""

    days: list[DayCode] = Field(min_length=1, max_length=7,
                                description="days of the week (OpenStreetMap codes), e.g. [\"Mo\", \"Tu\"]")
    start: time = Field(description="HH:MM, Europe/London wall clock", examples=["15:30"])
    end: time = Field(description="HH:MM; at or before the start: past midnight", examples=["18:00"])

    @field_validator("start", "end")
    @classmethod
    def _clock(cls, value: time) -> time:
        if value.tzinfo is not None or value.second or value.microsecond:
            raise ValueError("give a time on the clock as HH:MM, without a time zone (Europe/London)")
        return value

    @model_validator(mode="after")
    def _differ(self) -> WeeklyPattern:
        if self.start == self.end:
            raise ValueError("end: the end must differ from the start")
        return self


class PlanLocation(StrictModel):
    """Where a young person spends time, and when: instants (``times``), times of the week (``weekly``), or
    both. ``label`` is echoed back, never stored or audited."""

    lon: float | None = None
    lat: float | None = None
    place_id: int | None = None
    times: list[AwareDatetime] = Field(default_factory=list, max_length=24,
                                       description="instants (RFC 3339 with a time zone)")
    weekly: list[WeeklyPattern] = Field(
        default_factory=list, max_length=MAX_WEEKLY_PER_LOCATION,
        description="times of the week, checked over the week from `week_from` (as the web plan)")
    label: Annotated[str, Field(max_length=200)] | None = None

    @model_validator(mode="after")
    def _some_time(self) -> PlanLocation:
        if not self.times and not self.weekly:
            raise ValueError("times: give at least one instant (times) or time of the week (weekly)")
        return self


class SafetyPlanRequest(StrictModel):
    locations: list[PlanLocation] = Field(min_length=1, max_length=12)
    age: Age | None = None
    radius_m: Annotated[float, Field(ge=50, le=2000)] = 400.0
    limit: Annotated[int, Field(ge=1, le=10)] = 3
    week_from: Day | None = Field(None, description="first day of the week the weekly patterns are checked "
                                                    "over (default: today, Europe/London)")


class ConcernNearby(BaseModel):
    place_id: int
    name: str
    kind: str
    level: str | None = None
    review_by: date | None = None
    distance_m: float


class PlanTime(BaseModel):
    at: datetime
    within_threshold: bool
    advice: str | None = None
    distance_method: str
    safe_spaces: list[NearestProperties]


class PlanTrustedAdult(BaseModel):
    role: str
    description: str | None = None
    when: str = Field(description='"all of this time", "while open", or the days and hours, e.g. "Mon–Fri 16:00–18:00"')
    safeguarding_trained: bool


class PlanWeeklySpace(BaseModel):
    place_id: int
    name: str
    address: str | None = None
    walking_minutes: float
    distance_method: str
    within_threshold: bool
    open_when: str = Field(description='"Open all of this time", "Open Mon–Fri 15:30–17:00" or "Hours not known '
                                       'then: ring first"')
    open_throughout: bool
    trusted_adults: list[PlanTrustedAdult]
    help_offered: list[str]
    accessibility: str | None = None


class PlanWeekly(BaseModel):
    days: list[str]
    start: time
    end: time
    description: str = Field(description='in words, e.g. "Weekdays 15:30–18:00"')
    within_threshold: bool
    advice: str | None = None
    safe_spaces: list[PlanWeeklySpace] = Field(description="open (or 'ring first') at some time of the pattern, "
                                                           "nearest on foot first")


class PlanLocationAnswer(BaseModel):
    index: int
    label: str | None = None
    lon: float
    lat: float
    place_id: int | None = None
    concerns_nearby: list[ConcernNearby]
    recent_harm: dict[str, int | None] = Field(description="disclosure-controlled counts by harm category")
    recent_harm_total: int | None
    times: list[PlanTime]
    weekly: list[PlanWeekly] = []


class SafetyPlan(BaseModel):
    made_at: datetime
    week_from: date = Field(description="the week the weekly patterns were checked over starts this day")
    age: int | None = None
    radius_m: float
    harm_window_days: int
    disclosure_control: dict[str, int]
    detour_factor: float
    walking_speed_m_per_min: float
    threshold_minutes: float
    locations: list[PlanLocationAnswer]
    stored: bool = Field(False, description="always false: nothing about the young person is kept")


# ---- coverage ---------------------------------------------------------------------------------------------
class CoverageProperties(BaseModel):
    rank: int
    i: int
    j: int
    harm_count: int | None = Field(description="disclosure-controlled for the panel (null = suppressed)")
    nearest_open_walk_m: float | None = Field(description="null when no safe space is open at all")
    nearest_open_walk_minutes: float | None = None
    uncovered_hours: float | None = Field(None, description="with `when`: hours of the pattern left uncovered")
    uncovered_share: float | None = None


class CoverageFeature(Feature[Geometry, CoverageProperties]):
    id: str  # type: ignore[assignment]


class CoverageCollection(FeatureCollection[CoverageFeature]):
    at: datetime
    when: str | None = None
    minutes: float
    cell_size_m: float
    window: dict[str, Any]
    distance_method: str
    detour_factor: float
    walking_speed_m_per_min: float
    safe_spaces_considered: int
    harm_cells: int
    gap_cells: int
    disclosure_controlled: bool
    numberReturned: int = 0
