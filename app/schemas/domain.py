"""Request and response schemas for the domain resources (separate models per use)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, TypeAlias

from geojson_pydantic import Feature, FeatureCollection
from geojson_pydantic.geometries import Geometry
from pydantic import BaseModel, Field, model_validator

from app.schemas.common import Day, Link, LongText, ShortText, StrictModel, Timestamp, enum_schema, one_of
from geo.vocabulary import (
    CONCERN_LEVELS,
    DESIGNATION_KINDS,
    GUARDIAN_ROLES,
    HARM_CATEGORIES,
    INCIDENT_SOURCES,
    INTERVENTION_KINDS,
    LOCATION_PRECISIONS,
    PLACE_KINDS,
    TRAINING_KINDS,
)

PlaceKind: TypeAlias = Annotated[
    str, one_of(PLACE_KINDS), enum_schema(PLACE_KINDS, "kind of place")
]
DesignationKind: TypeAlias = Annotated[
    str, one_of(DESIGNATION_KINDS), enum_schema(DESIGNATION_KINDS, "concern or safe_space")
]
ConcernLevel: TypeAlias = Annotated[
    str, one_of(CONCERN_LEVELS), enum_schema(CONCERN_LEVELS, "level of concern")
]
GuardianRole: TypeAlias = Annotated[
    str, one_of(GUARDIAN_ROLES), enum_schema(GUARDIAN_ROLES, "guardian role (a role, never a named person)")
]
TrainingKind: TypeAlias = Annotated[
    str, one_of(TRAINING_KINDS), enum_schema(TRAINING_KINDS, "training kind")
]
HarmCategory: TypeAlias = Annotated[
    str, one_of(HARM_CATEGORIES), enum_schema(HARM_CATEGORIES, "harm category")
]
IncidentSource: TypeAlias = Annotated[
    str, one_of(INCIDENT_SOURCES), enum_schema(INCIDENT_SOURCES, "where the record came from")
]
LocationPrecision: TypeAlias = Annotated[
    str, one_of(LOCATION_PRECISIONS), enum_schema(LOCATION_PRECISIONS, "how exact the location is")
]
InterventionKind: TypeAlias = Annotated[
    str, one_of(INTERVENTION_KINDS), enum_schema(INTERVENTION_KINDS, "kind of intervention")
]
Age = Annotated[int, Field(ge=0, le=25)]


def _end_after_start(start: Any, end: Any, end_field: str, *, strictly: bool = False) -> None:
    # The "<field>: " prefix lets the error handler name the field (model validators have no location).
    if start is not None and end is not None and (end <= start if strictly else end < start):
        raise ValueError(f"{end_field}: ends {'at or ' if strictly else ''}before it starts")


# ---- places -------------------------------------------------------------------------------------------
class PlaceProperties(StrictModel):
    name: ShortText
    kind: PlaceKind
    address: LongText | None = None
    opening_hours: Annotated[str, Field(max_length=500)] | None = None
    place_manager: LongText | None = None
    notes: LongText | None = None


class PlacePatchProperties(StrictModel):
    name: ShortText | None = None
    kind: PlaceKind | None = None
    address: LongText | None = None
    opening_hours: Annotated[str, Field(max_length=500)] | None = None
    place_manager: LongText | None = None
    notes: LongText | None = None


class PlaceCreate(Feature[Geometry, PlaceProperties]):
    geometry: Geometry  # type: ignore[assignment]  # required, never null
    properties: PlaceProperties  # type: ignore[assignment]


class PlacePatch(Feature[Geometry | None,  # type: ignore[type-var]
     PlacePatchProperties]):
    pass


class DesignationSummary(BaseModel):
    id: int
    kind: str
    level: str | None = None
    valid_from: datetime
    valid_to: datetime | None = None
    review_by: date | None = None
    review_overdue: bool = False


class PlaceOutProperties(BaseModel):
    name: str
    kind: str
    address: str | None = None
    opening_hours: str | None = None
    place_manager: str | None = None
    notes: str | None = None
    current_designations: list[DesignationSummary] = []
    created_at: datetime
    updated_at: datetime


class PlaceFeature(Feature[Geometry, PlaceOutProperties]):
    id: int  # type: ignore[assignment]


class PlaceCollection(FeatureCollection[PlaceFeature]):
    links: list[Link] = []
    numberReturned: int = 0


# ---- designations -------------------------------------------------------------------------------------
class DesignationFields(StrictModel):
    valid_to: Timestamp | None = None
    level: ConcernLevel | None = None
    reason: LongText | None = None
    review_by: Day | None = None
    scheme: LongText | None = None
    age_min: Age | None = None
    age_max: Age | None = None
    help_offered: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(default=[], max_length=30)
    accessibility: LongText | None = None
    verified_on: Day | None = None
    notes: LongText | None = None


class DesignationCreate(DesignationFields):
    place_id: int
    kind: DesignationKind
    valid_from: Timestamp

    @model_validator(mode="after")
    def _consistent(self) -> DesignationCreate:
        _end_after_start(self.valid_from, self.valid_to, "valid_to", strictly=True)
        if self.age_min is not None and self.age_max is not None and self.age_max < self.age_min:
            raise ValueError("age_max: below age_min")
        if self.kind == "concern":
            if self.level is None:
                raise ValueError("level: required for a place of concern")
            if not self.reason:
                raise ValueError("reason: required for a place of concern, since it is a safeguarding judgement")
        return self


class DesignationPatch(DesignationFields):
    valid_from: Timestamp | None = None


class DesignationOutProperties(BaseModel):
    place_id: int
    place_name: str
    kind: str
    valid_from: datetime
    valid_to: datetime | None = None
    current: bool
    level: str | None = None
    reason: str | None = None
    review_by: date | None = None
    review_overdue: bool = False
    scheme: str | None = None
    age_min: int | None = None
    age_max: int | None = None
    help_offered: list[str] = []
    accessibility: str | None = None
    verified_on: date | None = None
    notes: str | None = None
    created_at: datetime


class DesignationFeature(Feature[Geometry, DesignationOutProperties]):
    id: int  # type: ignore[assignment]


class DesignationCollection(FeatureCollection[DesignationFeature]):
    links: list[Link] = []
    numberReturned: int = 0


# ---- guardians ----------------------------------------------------------------------------------------
class Training(StrictModel):
    kind: TrainingKind
    completed_on: Day


class GuardianFields(StrictModel):
    description: LongText | None = None
    trainings: list[Training] = Field(default=[], max_length=50)
    hours: Annotated[str, Field(max_length=500)] | None = None
    notes: LongText | None = None


class GuardianCreate(GuardianFields):
    place_id: int
    role: GuardianRole


class GuardianPatch(GuardianFields):
    role: GuardianRole | None = None
    trainings: list[Training] | None = None  # type: ignore[assignment]


class GuardianOutProperties(BaseModel):
    place_id: int
    place_name: str
    role: str
    description: str | None = None
    trainings: list[Training] = []
    hours: str | None = None
    notes: str | None = None
    created_at: datetime


class GuardianFeature(Feature[Geometry, GuardianOutProperties]):
    id: int  # type: ignore[assignment]


class GuardianCollection(FeatureCollection[GuardianFeature]):
    links: list[Link] = []
    numberReturned: int = 0


# ---- incidents ----------------------------------------------------------------------------------------
class IncidentProperties(StrictModel):
    occurred_from: Timestamp
    occurred_to: Timestamp | None = None
    harm_category: HarmCategory
    source_category: Annotated[str, Field(max_length=200)] | None = None
    source: IncidentSource = "manual"
    source_ref: Annotated[str, Field(min_length=1, max_length=128)] | None = None
    location_precision: LocationPrecision = "exact"
    young_people: Annotated[int, Field(ge=0, le=1000)] | None = None
    description: LongText | None = None
    place_id: int | None = None

    @model_validator(mode="after")
    def _window(self) -> IncidentProperties:
        _end_after_start(self.occurred_from, self.occurred_to, "occurred_to")
        return self


class IncidentPatchProperties(StrictModel):
    occurred_from: Timestamp | None = None
    occurred_to: Timestamp | None = None
    harm_category: HarmCategory | None = None
    source_category: Annotated[str, Field(max_length=200)] | None = None
    location_precision: LocationPrecision | None = None
    young_people: Annotated[int, Field(ge=0, le=1000)] | None = None
    description: LongText | None = None
    place_id: int | None = None


class IncidentCreate(Feature[Geometry, IncidentProperties]):
    geometry: Geometry  # type: ignore[assignment]  # required, never null
    properties: IncidentProperties  # type: ignore[assignment]


class IncidentPatch(Feature[Geometry | None,  # type: ignore[type-var]
     IncidentPatchProperties]):
    pass


class IncidentOutProperties(BaseModel):
    occurred_from: datetime
    occurred_to: datetime | None = None
    harm_category: str
    source_category: str | None = None
    source: str
    source_ref: str | None = None
    location_precision: str
    young_people: int | None = None
    description: str | None = None
    place_id: int | None = None
    place_link: str | None = None
    created_at: datetime


class IncidentFeature(Feature[Geometry, IncidentOutProperties]):
    id: int  # type: ignore[assignment]


class IncidentCollection(FeatureCollection[IncidentFeature]):
    links: list[Link] = []
    numberReturned: int = 0


# ---- interventions ------------------------------------------------------------------------------------
ShareableTitle = Annotated[str, Field(min_length=1, max_length=200, description=(
    "A short title, written to be read by a multi-agency panel (panels see it)"))]
ShareableSummary = Annotated[str, Field(min_length=1, max_length=1000, description=(
    "A short summary written to be shared with panels: the only text about the intervention a panel sees "
    "(description and notes are withheld from them). Name no one."))]


class InterventionProperties(StrictModel):
    place_id: int | None = None
    kind: InterventionKind
    title: ShareableTitle | None = None
    shareable_summary: ShareableSummary | None = None
    description: Annotated[str, Field(min_length=1, max_length=2000)]
    owning_partner: ShortText
    partners: list[ShortText] = Field(default=[], max_length=30)
    starts_on: Day
    ends_on: Day | None = None
    notes: LongText | None = None

    @model_validator(mode="after")
    def _dates(self) -> InterventionProperties:
        _end_after_start(self.starts_on, self.ends_on, "ends_on")
        return self


class InterventionPatchProperties(StrictModel):
    place_id: int | None = None
    kind: InterventionKind | None = None
    title: ShareableTitle | None = None
    shareable_summary: ShareableSummary | None = None
    description: Annotated[str, Field(min_length=1, max_length=2000)] | None = None
    owning_partner: ShortText | None = None
    partners: list[ShortText] | None = None
    starts_on: Day | None = None
    ends_on: Day | None = None
    notes: LongText | None = None


class InterventionCreate(Feature[Geometry | None,  # type: ignore[type-var]
     InterventionProperties]):
    properties: InterventionProperties  # type: ignore[assignment]

    @model_validator(mode="after")
    def _located(self) -> InterventionCreate:
        if self.geometry is None and self.properties is not None and self.properties.place_id is None:
            raise ValueError("properties.place_id: an intervention needs a place_id or its own geometry (an area)")
        return self


class InterventionPatch(Feature[Geometry | None,  # type: ignore[type-var]
     InterventionPatchProperties]):
    pass


class InterventionOutProperties(BaseModel):
    place_id: int | None = None
    place_name: str | None = None
    kind: str
    title: str | None = None
    shareable_summary: str | None = Field(None, description="written for panels: shown to every role")
    description: str | None = None
    owning_partner: str | None = Field(None, description="null for disclosure-controlled readers (free text)")
    partners: list[str] = []
    starts_on: date
    ends_on: date | None = None
    notes: str | None = None
    created_at: datetime


class InterventionFeature(Feature[Geometry | None,  # type: ignore[type-var]
     InterventionOutProperties]):
    id: int  # type: ignore[assignment]


class InterventionCollection(FeatureCollection[InterventionFeature]):
    links: list[Link] = []
    numberReturned: int = 0
