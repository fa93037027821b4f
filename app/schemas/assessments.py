"""Context assessments: the practice's triangle with red/amber/green ratings, and outcome goals."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, TypeAlias

from geojson_pydantic import Feature, FeatureCollection
from geojson_pydantic.geometries import Geometry
from pydantic import BaseModel, Field, ValidationInfo, field_validator

from app.schemas.common import Day, Link, LongText, StrictModel, enum_schema, one_of

RATINGS = ("red", "amber", "green")
# How the assessment was made (Contextual Safeguarding Network toolkit: observations, neighbourhood
# walkabouts, consultation with young people, peer-group mapping, partner data). Must match migration 0003.
ASSESSMENT_METHODS = (
    "observation", "walkabout", "young_people_consultation", "survey", "focus_group",
    "practitioner_interview", "place_manager_interview", "partner_data", "peer_group_mapping", "other",
)
# A goal is a measure of *change* in the context (ASB reports fall) or of *effort* (staff trained).
GOAL_MEASURES = ("change", "effort")

Rating: TypeAlias = Annotated[str, one_of(RATINGS), enum_schema(RATINGS, "red, amber or green")]
Method: TypeAlias = Annotated[str, one_of(ASSESSMENT_METHODS), enum_schema(ASSESSMENT_METHODS, "assessment method")]
GoalMeasure: TypeAlias = Annotated[
    str, one_of(GOAL_MEASURES), enum_schema(GOAL_MEASURES, "change (in the context) or effort (what was done)")
]
Statement = Annotated[str, Field(min_length=1, max_length=500)]


class Side(StrictModel):
    """One side of the triangle."""

    rating: Rating
    notes: LongText | None = None


class Observation(StrictModel):
    observed_on: Day
    value: float | None = Field(None, description="the measure's value, e.g. ASB reports that month")
    notes: LongText | None = None


class Goal(StrictModel):
    statement: Statement
    measure: GoalMeasure
    baseline: Observation | None = None
    observations: list[Observation] = Field(default=[], max_length=100)

    @field_validator("observations")
    @classmethod
    def _after_baseline(cls, value: list[Observation], info: ValidationInfo) -> list[Observation]:
        baseline = info.data.get("baseline")
        if baseline is not None:
            for observation in value:
                if observation.observed_on < baseline.observed_on:
                    raise ValueError("a follow-up observation cannot be dated before the baseline")
        return value


def _unique_methods(value: list[str] | None) -> list[str] | None:
    if value is not None and len(set(value)) != len(value):
        raise ValueError("each method once")
    return value


class AssessmentCreate(StrictModel):
    place_id: int
    assessed_on: Day
    young_people: Side = Field(description="young people's strengths and needs")
    guardianship: Side
    environment: Side = Field(description="environment, resources and policy")
    methods: list[Method] = Field(default=[], max_length=len(ASSESSMENT_METHODS))
    context_weighting: Annotated[int, Field(ge=1, le=1000)] | None = Field(
        None, description="rank among the young person's or area's contexts; 1 weighs most")
    recommended_responses: list[Statement] = Field(default=[], max_length=50)
    review_on: Day | None = None
    goals: list[Goal] = Field(default=[], max_length=30)
    notes: LongText | None = None

    _methods = field_validator("methods")(_unique_methods)

    @field_validator("review_on")
    @classmethod
    def _review_after_assessment(cls, value: date | None, info: ValidationInfo) -> date | None:
        assessed = info.data.get("assessed_on")
        if value is not None and assessed is not None and value < assessed:
            raise ValueError("the review date is before the assessment date")
        return value


class AssessmentPatch(StrictModel):
    assessed_on: Day | None = None
    young_people: Side | None = None
    guardianship: Side | None = None
    environment: Side | None = None
    methods: list[Method] | None = Field(None, max_length=len(ASSESSMENT_METHODS))
    context_weighting: Annotated[int, Field(ge=1, le=1000)] | None = None
    recommended_responses: list[Statement] | None = Field(None, max_length=50)
    review_on: Day | None = None
    goals: list[Goal] | None = Field(None, max_length=30)
    notes: LongText | None = None

    _methods = field_validator("methods")(_unique_methods)


class SideOut(BaseModel):
    rating: str
    notes: str | None = None


class ObservationOut(BaseModel):
    observed_on: date
    value: float | None = None
    notes: str | None = None


class GoalOut(BaseModel):
    statement: str | None = None
    measure: str
    baseline: ObservationOut | None = None
    observations: list[ObservationOut] = []


class AssessmentProperties(BaseModel):
    place_id: int
    place_name: str
    assessed_on: date
    young_people: SideOut
    guardianship: SideOut
    environment: SideOut
    methods: list[str] = []
    context_weighting: int | None = None
    recommended_responses: list[str] | None = None
    review_on: date | None = None
    review_overdue: bool = False
    goals: list[GoalOut] = []
    notes: str | None = None
    created_at: datetime
    updated_at: datetime


class AssessmentFeature(Feature[Geometry, AssessmentProperties]):
    id: int  # type: ignore[assignment]


class AssessmentCollection(FeatureCollection[AssessmentFeature]):
    links: list[Link] = []
    numberReturned: int = 0
