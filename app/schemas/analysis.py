"""Response and request models of the analysis endpoints: hot spots, emerging hot spots, displacement,
outcomes, a place's timeline and flagging a hot spot cell.

Every incident count is ``int | None``: ``None`` means suppressed by disclosure control (1 to 7 incidents
in a disclosure-controlled answer); a statistic that cannot be computed is ``None`` with a reason.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from geojson_pydantic import Feature, FeatureCollection
from geojson_pydantic.geometries import Geometry, MultiPolygon, Polygon
from pydantic import BaseModel, Field

from app.schemas.common import Day, LongText, ShortText, StrictModel
from app.schemas.domain import ConcernLevel, DesignationFeature, HarmCategory, IncidentSource, PlaceFeature
from geo.displacement import COMPARISON

IncidentCount = Annotated[int | None, Field(ge=0, description="incidents; null when suppressed (1..7)")]
CellShapeParam = Literal["hex", "square"]
WeightsParam = Literal["contiguity", "distance"]


class DisclosureInfo(BaseModel):
    """Whether counts in this answer are disclosure-controlled, and by which rule."""

    applied: bool
    suppress_max: int
    round_to: int
    note: str


class Period(BaseModel):
    start: datetime | None = Field(description="inclusive; null = open")
    end: datetime | None = Field(description="exclusive; null = open")


# ---- hot spots ------------------------------------------------------------------------------------------
class GridParameters(BaseModel):
    cell: CellShapeParam
    size: float = Field(description="hexagon edge or square side, metres in the analysis CRS")
    srid: int
    bbox: list[float] | None = None
    box: list[float] | None = Field(None, description="disclosure-controlled answers: the whole published "
                                    "cells the bbox selected (snapped outwards), minx,miny,maxx,maxy in the "
                                    "analysis CRS")
    period: Period
    harm_category: list[str] = []
    source: list[str] = []
    weights: WeightsParam
    distance: float | None = Field(None, description="distance band in metres (weights=distance)")
    fdr: bool


class HotspotParameters(GridParameters):
    density: bool
    bandwidth: float | None = None
    shareable: bool


class GridSummary(BaseModel):
    n_cells: int = Field(description="cells analysed, zero-count cells included")
    n_incidents: IncidentCount
    study_area: Literal["service_area", "service_area_and_bbox", "bbox", "data_extent", "none"]
    grid_mode: Literal["full", "non_empty_and_neighbours", "empty"]
    grid_note: str


class HotspotMetadata(GridSummary):
    n_hot: int = Field(description="cells binned as hot spots (90 % confidence or more)")
    n_cold: int
    parameters: HotspotParameters
    method: str
    disclosure: DisclosureInfo


class HotspotCellProperties(BaseModel):
    i: int
    j: int
    count: IncidentCount
    z: float | None = Field(description="Getis-Ord Gi* z-score (null when disclosure-controlled)")
    p: float | None = Field(description="two-sided p-value (null when disclosure-controlled)")
    p_fdr: float | None = Field(description="Benjamini-Hochberg adjusted p-value (null when disclosure-controlled)")
    gi_bin: int | None = Field(ge=-3, le=3, description="±3/±2/±1: hot (+) or cold (−) at 99/95/90 % confidence; "
                                                         "null (withheld) for a suppressed cell")
    label: str


class HotspotCell(Feature[Polygon, HotspotCellProperties]):
    id: str  # type: ignore[assignment]


class DensityBandProperties(BaseModel):
    band: int
    density_min: float = Field(description="incidents per square kilometre, inclusive")
    density_max: float | None = Field(description="exclusive; null for the top band")


class DensityBand(Feature[Polygon | MultiPolygon, DensityBandProperties]):
    pass


class DensitySurface(FeatureCollection[DensityBand]):
    bandwidth_m: float
    raster_cell_m: float
    basis: str
    method: str


class HotspotCollection(FeatureCollection[HotspotCell]):
    metadata: HotspotMetadata
    density: DensitySurface | None = None


# ---- emerging hot spots ----------------------------------------------------------------------------------
class EmergingParameters(GridParameters):
    step: Literal["week", "month"]
    shareable: bool


class EmergingMetadata(GridSummary):
    steps: list[date] = Field(description="first day of each time step (Europe/London), oldest first")
    alpha: float
    parameters: EmergingParameters
    method: str
    disclosure: DisclosureInfo


class EmergingCellProperties(BaseModel):
    i: int
    j: int
    count: IncidentCount = Field(description="incidents in the cell over the whole period")
    category: str = Field(description="one of the 17 ArcGIS emerging hot spot patterns, or no_pattern")
    trend: Literal["increasing", "decreasing", "none"] | None = Field(description="null when withheld")
    trend_z: float | None = Field(description="Mann-Kendall z of the cell's Gi* series")
    trend_p: float | None
    hot_steps: int | None = Field(description="time steps in which the cell was a significant hot spot")
    cold_steps: int | None


class EmergingCell(Feature[Polygon, EmergingCellProperties]):
    id: str  # type: ignore[assignment]


class EmergingCollection(FeatureCollection[EmergingCell]):
    metadata: EmergingMetadata


# ---- rates, displacement, outcomes ----------------------------------------------------------------------
class RateComparison(BaseModel):
    """After/before incident rate ratio with an exact interval (``geo.rates.rate_ratio``)."""

    before_count: IncidentCount
    after_count: IncidentCount
    before_days: float
    after_days: float
    ratio: float | None
    lower: float | None
    upper: float | None
    p_value: float | None
    confidence: float
    significant_rise: bool | None = Field(description="the whole interval lies above 1; null when withheld "
                                                      "(computed from a suppressed count)")
    significant_fall: bool | None = Field(description="the whole interval lies below 1; null when withheld")
    interpretation: str
    undefined: dict[str, str] = Field(default={}, description="field -> why it is null")


class Window(BaseModel):
    start: datetime
    end: datetime = Field(description="exclusive")
    observed_days: float = Field(description="days of the window up to now (exposure for rates)")


class InterventionSummary(BaseModel):
    id: int
    kind: str
    place_id: int | None
    place_name: str | None
    owning_partner: str | None = Field(description="free text; null for disclosure-controlled answers")
    starts_on: date
    ends_on: date | None
    description: str | None = Field(description="free text; null for disclosure-controlled answers")


class AreaCounts(BaseModel):
    before: IncidentCount
    after: IncidentCount


class DisplacementArea(BaseModel):
    definition: str
    area_m2: float
    counts: AreaCounts
    geometry: Geometry


class Measure(BaseModel):
    name: str
    value: float | None
    interpretation: str
    undefined_reason: str | None = None


class Quotient(BaseModel):
    success_measure: Measure
    buffer_displacement_measure: Measure
    wdq: Measure
    total_net_effect: Measure


class Difference(BaseModel):
    """Wheeler & Ratcliffe (2018) weighted displacement difference (incidents, after minus before)."""

    wdd: float | None
    local_difference: float | None
    displacement_difference: float | None
    variance: float | None
    standard_error: float | None
    z: float | None
    p_value: float | None
    lower: float | None
    upper: float | None
    confidence: float
    interpretation: str
    undefined_reason: str | None = None


class PlaceRise(BaseModel):
    place_id: int
    name: str
    kind: str
    distance_m: float
    rate: RateComparison


class CellRiseProperties(BaseModel):
    i: int
    j: int
    rate: RateComparison


class CellRise(Feature[Polygon, CellRiseProperties]):
    id: str  # type: ignore[assignment]


class CellRises(FeatureCollection[CellRise]):
    cell: CellShapeParam
    size: float


class WhereItWent(BaseModel):
    """Places and cells near the intervention whose incident rate rose significantly afterwards."""

    search_distance_m: float
    place_radius_m: float
    places_examined: int
    places: list[PlaceRise]
    cells: CellRises
    interpretation: str


class DisplacementParameters(BaseModel):
    intervention: int
    target_radius: float
    target_definition: str
    buffer_m: float
    control: str
    control_place: int | None
    harm_category: list[str] = []
    source: list[str] = []
    search_distance: float
    shareable: bool


class DisplacementResult(BaseModel):
    intervention: InterventionSummary
    before: Window
    after: Window
    target: DisplacementArea
    buffer: DisplacementArea
    control: DisplacementArea
    control_buffer: DisplacementArea | None
    quotient: Quotient
    difference: Difference | None
    difference_undefined_reason: str | None
    where_it_went: WhereItWent
    parameters: DisplacementParameters
    method: str
    disclosure: DisclosureInfo


class DisplacementRequest(StrictModel):
    """POST variant: the same as the GET parameters, plus a control area drawn by the user."""

    intervention: int
    control: Geometry | None = Field(None, description="control area (Polygon/MultiPolygon, lon/lat)")
    control_place: int | None = None
    target_radius: Annotated[float, Field(ge=10, le=2000)] | None = None
    buffer_m: Annotated[float, Field(ge=50, le=5000)] = COMPARISON.buffer_m
    before: str | None = Field(None, description="RFC 3339 interval start/end")
    after: str | None = Field(None, description="RFC 3339 interval start/end")
    harm_category: list[HarmCategory] = []
    source: list[IncidentSource] = []
    search_distance: Annotated[float, Field(ge=100, le=10_000)] = 1000.0
    cell: CellShapeParam = "hex"
    size: Annotated[float, Field(ge=50, le=5000)] = 250.0
    shareable: bool = False


class PlaceSummary(BaseModel):
    id: int
    name: str
    kind: str


class CategoryOutcome(BaseModel):
    harm_category: str
    rate: RateComparison


class InterventionOutcome(BaseModel):
    intervention: InterventionSummary
    before: Window
    after: Window
    overall: RateComparison
    by_harm_category: list[CategoryOutcome]


class PlaceOutcomes(BaseModel):
    place: PlaceSummary
    radius_m: float
    outcomes: list[InterventionOutcome]
    method: str
    disclosure: DisclosureInfo


class TimelineMonth(BaseModel):
    month: str = Field(description="YYYY-MM (Europe/London)")
    count: IncidentCount


class TimelineDesignation(BaseModel):
    id: int
    kind: str
    level: str | None
    valid_from: datetime
    valid_to: datetime | None
    review_by: date | None
    scheme: str | None = Field(description="free text; null for disclosure-controlled answers")
    reason: str | None = Field(description="free text; null for disclosure-controlled answers")


class TimelineIntervention(BaseModel):
    id: int
    kind: str
    owning_partner: str | None = Field(description="free text; null for disclosure-controlled answers")
    starts_on: date
    ends_on: date | None
    description: str | None = Field(description="free text; null for disclosure-controlled answers")


class TimelineTraining(BaseModel):
    kind: str
    completed_on: date


class TimelineGuardian(BaseModel):
    id: int
    role: str
    trainings: list[TimelineTraining]
    hours: str | None
    description: str | None = Field(description="free text; null for disclosure-controlled answers")


class PlaceTimeline(BaseModel):
    place: PlaceSummary
    radius_m: float
    months: list[TimelineMonth]
    total: IncidentCount
    designations: list[TimelineDesignation]
    interventions: list[TimelineIntervention]
    guardians: list[TimelineGuardian]
    disclosure: DisclosureInfo


# ---- flag a hot spot cell as a place of concern ---------------------------------------------------------
class HotspotFlagCreate(StrictModel):
    """Which cell, under which analysis: the cell must be a significant hot spot under these parameters."""

    i: int
    j: int
    cell: CellShapeParam = "hex"
    size: Annotated[float, Field(ge=50, le=5000)] = 250.0
    bbox: Annotated[list[float], Field(min_length=4, max_length=4)] | None = None
    datetime: str | None = Field(None, description="RFC 3339 interval start/end")
    harm_category: list[HarmCategory] = []
    source: list[IncidentSource] = []
    weights: WeightsParam = "contiguity"
    distance: Annotated[float, Field(gt=0, le=20_000)] | None = None
    fdr: bool = True
    confidence: Literal[90, 95, 99] = 95
    name: ShortText | None = None
    kind: Literal["other", "street"] = "other"
    level: ConcernLevel = "medium"
    reason: LongText | None = Field(None, description=(
        "Why the place is of concern, in the flagger's words; the statistic is quoted after it"))
    review_by: Day | None = Field(None, description="when to review the concern; default in 13 weeks")


class FlagStatistic(BaseModel):
    i: int
    j: int
    count: int
    z: float
    p: float
    p_fdr: float
    gi_bin: int
    reason: str


class HotspotFlagResult(BaseModel):
    place: PlaceFeature
    designation: DesignationFeature
    statistic: FlagStatistic
