"""One write use case for the domain records: create, update and delete, each checked, written, audited, re-read.

Places, designations, guardians, interventions, incidents and assessments are all written the same way:

1. check the actor's role for the verb, and for values only some roles may touch (a place of *concern*);
2. check the change: no required value cleared, the place it names exists in the actor's organisation,
   opening hours parse, a period does not run backwards, the geometry is valid and inside the service area;
3. write it (:mod:`app.db.repository`: one generic INSERT/UPDATE/DELETE), audit it in the same transaction
   (:func:`app.services.audit.record_action`), and re-read the stored feature.

What differs between the resources is data, a :class:`RecordRules` per resource (:data:`PLACE`,
:data:`DESIGNATION`, :data:`GUARDIAN`, :data:`INTERVENTION`, :data:`INCIDENT`, :data:`ASSESSMENT`), so a new
form or endpoint cannot forget a check or the audit record. The JSON API and the browser forms both call
:func:`create`, :func:`update` and :func:`delete` with the request schemas of :mod:`app.schemas` (the forms
build the same models, so input is validated once, the same way).

Failures are domain exceptions (:mod:`app.errors`), turned into problem+json by the web layer; nothing is
written when one is raised (the caller's transaction is rolled back, audit row included):

- :class:`~app.errors.Forbidden` — the role may not do this, or may not touch this value;
- :class:`~app.errors.NotFound` — no such record in the actor's organisation (row-level security);
- :class:`~app.errors.InvalidInput` — a check failed; ``field`` names the request field at fault
  (``properties.<name>`` for GeoJSON Feature bodies);
- :class:`~app.errors.Conflict` — a database constraint said no (e.g. overlapping designations).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal

from pydantic import BaseModel
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

from app import policy
from app.db import repository
from app.db.assessments import ASSESSMENTS, columns
from app.db.repository import ResourceSpec
from app.db.resources import DESIGNATIONS, GUARDIANS, INCIDENTS, INTERVENTIONS, PLACES
from app.errors import Forbidden, InvalidInput
from app.policy import Gate
from app.security import Principal
from app.services.audit import record_action
from app.services.geometry import validated_geometry
from app.settings import Settings

FeatureDict = dict[str, Any]  # a GeoJSON Feature as PostGIS built it


@dataclass(frozen=True)
class Period:
    """Two fields that must not run backwards: ``end`` before ``start`` (or equal to it, if ``strictly``)."""

    start: str
    end: str
    message: str  # said after "<end field>: "
    strictly: bool = False


@dataclass(frozen=True)
class ValueGate:
    """A value only some roles may write or remove, e.g. designation ``kind = 'concern'`` (role table)."""

    field: str
    value: Any
    gate: Gate
    doing: str  # "flag or end a place of concern": said in the refusal


@dataclass(frozen=True)
class KeptWhile:
    """Fields a record may not clear while ``field`` has ``value`` (a place of concern keeps its reason)."""

    field: str
    value: Any
    keep: tuple[str, ...]
    what: str  # "a place of concern": said in the refusal


@dataclass(frozen=True)
class RecordRules:
    """How one kind of record is checked and written: the resource's checks as data.

    Field names are the request's: with ``feature_body`` the values sit under ``properties`` of a GeoJSON
    Feature (and errors name ``properties.<field>``), else the body is the values.
    """

    spec: ResourceSpec
    create_gate: Gate
    update_gate: Gate
    delete_gate: Gate
    feature_body: bool = False
    geometry_types: frozenset[str] | None = None  # allowed types of the record's own geometry; None: any
    geometry_required: bool = False  # on create
    dump_mode: Literal["python", "json"] = "python"  # "json" for values stored as jsonb (dates as text)
    place_field: str | None = None  # names a place that must exist in the actor's organisation
    hours_fields: tuple[str, ...] = ()  # OpenStreetMap opening_hours syntax
    period: Period | None = None
    value_gates: tuple[ValueGate, ...] = ()
    kept: tuple[KeptWhile, ...] = ()
    not_removable: tuple[str, ...] = ()  # request fields a change may not clear, beyond ``spec.required``
    empty_lists: tuple[str, ...] = ()  # a null in a change means "none": stored as an empty list
    links_to_place: bool = False  # no explicit place: link to the nearest within ``auto_link_distance_m``
    stamp_updated_at: bool = False  # the table's updated_at is set here (places: by the repository)
    audit_fields: tuple[str, ...] = ()  # values copied into the create audit record
    to_columns: Callable[[Mapping[str, Any]], dict[str, Any]] = dict  # request fields -> table columns

    @property
    def name(self) -> str:
        return self.spec.name

    def field(self, name: str) -> str:
        """The request field a value came from (what an error names)."""
        return f"properties.{name}" if self.feature_body else name


_AREA_TYPES = frozenset({"Polygon", "MultiPolygon", "Point"})
_CONCERN_GATE = ValueGate("kind", "concern", policy.FLAG_CONCERN, "flag or end a place of concern")

PLACE = RecordRules(
    spec=PLACES, create_gate=policy.WRITE_SAFE_SPACES, update_gate=policy.WRITE_SAFE_SPACES,
    delete_gate=policy.DELETE_PLACES, feature_body=True, geometry_required=True,
    hours_fields=("opening_hours",),
)
DESIGNATION = RecordRules(
    spec=DESIGNATIONS, create_gate=policy.WRITE_SAFE_SPACES, update_gate=policy.WRITE_SAFE_SPACES,
    delete_gate=policy.WRITE_SAFE_SPACES, place_field="place_id",
    period=Period("valid_from", "valid_to", "the designation ends at or before it starts", strictly=True),
    value_gates=(_CONCERN_GATE,),
    # A place of concern is a safeguarding judgement: it keeps its level and its reason.
    kept=(KeptWhile("kind", "concern", ("level", "reason"), "a place of concern"),),
    audit_fields=("kind", "place_id"),
)
GUARDIAN = RecordRules(
    spec=GUARDIANS, create_gate=policy.WRITE_SAFE_SPACES, update_gate=policy.WRITE_SAFE_SPACES,
    delete_gate=policy.WRITE_SAFE_SPACES, dump_mode="json", place_field="place_id", hours_fields=("hours",),
)
INTERVENTION = RecordRules(
    spec=INTERVENTIONS, create_gate=policy.WRITE_INTERVENTIONS, update_gate=policy.WRITE_INTERVENTIONS,
    delete_gate=policy.WRITE_INTERVENTIONS, feature_body=True, geometry_types=_AREA_TYPES, place_field="place_id",
    period=Period("starts_on", "ends_on", "the intervention ends before it starts"),
)
INCIDENT = RecordRules(
    spec=INCIDENTS, create_gate=policy.CREATE_INCIDENTS, update_gate=policy.EDIT_INCIDENTS,
    delete_gate=policy.EDIT_INCIDENTS, feature_body=True, geometry_types=frozenset({"Point"}),
    geometry_required=True, place_field="place_id", links_to_place=True,
    period=Period("occurred_from", "occurred_to", "ends before occurred_from"),
)
ASSESSMENT = RecordRules(
    spec=ASSESSMENTS, create_gate=policy.WRITE_SAFE_SPACES, update_gate=policy.WRITE_SAFE_SPACES,
    delete_gate=policy.WRITE_SAFE_SPACES, dump_mode="json", place_field="place_id",
    period=Period("assessed_on", "review_on", "the review date is before the assessment date"),
    not_removable=("young_people", "guardianship", "environment", "assessed_on"),
    empty_lists=("methods", "recommended_responses", "goals"),
    stamp_updated_at=True, audit_fields=("place_id",), to_columns=columns,
)


# ---- the three verbs ----------------------------------------------------------------------------------
def create(session: Session, settings: Settings, actor: Principal, rules: RecordRules, body: BaseModel) -> FeatureDict:
    """Create a record from its create schema (e.g. ``PlaceCreate``) and return the stored feature.

    Checks the role (``rules.create_gate`` and value gates), the place named, opening hours, the period,
    the geometry (valid, allowed type, inside the service area) and, for incidents, links the nearest place.
    Audits ``<name>.create`` on ``<name>:<id>`` (with ``rules.audit_fields``).
    """
    _allow(actor, rules.create_gate)
    values, geojson = _values(rules, body, partial=False)
    _check_values(session, actor, rules, values, {})
    if geojson is None and rules.geometry_required:
        raise InvalidInput("geometry: required", field="geometry")
    geometry = _geometry(session, settings, rules, geojson)
    if rules.links_to_place:
        assert geometry is not None  # geometry_required
        values = _linked(session, settings, values, geometry)
    record_id = repository.insert(session, rules.spec, actor.organisation_id, rules.to_columns(values), geometry)
    record_action(session, actor, f"{rules.name}.create", f"{rules.name}:{record_id}",
                  {name: values.get(name) for name in rules.audit_fields} or None)
    return repository.get_feature(session, rules.spec, record_id)


def update(
    session: Session, settings: Settings, actor: Principal, rules: RecordRules, record_id: int, body: BaseModel,
) -> FeatureDict:
    """Change the fields a patch schema (e.g. ``PlacePatch``) sets; return the stored feature.

    Raises :class:`~app.errors.NotFound` first if the record is not the organisation's. Then the create
    checks, against the stored values where the patch leaves a field alone (a period is checked with the
    stored start), and: no required value cleared, a place of concern keeps its level and reason, an
    incident whose place or location changes is linked again (unless it keeps an explicit place), and a
    patch with nothing in it is refused. Audits ``<name>.update`` with the names of the fields changed.
    """
    _allow(actor, rules.update_gate)
    current = repository.get_feature(session, rules.spec, record_id)
    stored = current["properties"]
    _gate_values(actor, rules, stored)
    values, geojson = _values(rules, body, partial=True)
    for name in (*rules.spec.required, *rules.not_removable):
        if name in values and values[name] is None:
            raise InvalidInput(f"{rules.field(name)}: cannot be null", field=rules.field(name))
    _check_values(session, actor, rules, values, stored)
    for name in rules.empty_lists:
        if name in values and values[name] is None:
            values[name] = []
    geometry = _geometry(session, settings, rules, geojson)
    if rules.links_to_place:
        keeps_explicit_link = "place_id" not in values and stored.get("place_link") == "explicit"
        if "place_id" in values or (geometry is not None and not keeps_explicit_link):
            located = geometry if geometry is not None else shape(current["geometry"])
            values = _linked(session, settings, {**values, "place_id": values.get("place_id")}, located)
    if not values and geometry is None:
        raise InvalidInput("nothing to change", field="properties")
    columns_ = rules.to_columns(values)
    if rules.stamp_updated_at:
        columns_["updated_at"] = datetime.now(UTC)
    repository.update(session, rules.spec, record_id, columns_, geometry)
    record_action(session, actor, f"{rules.name}.update", f"{rules.name}:{record_id}", {"fields": sorted(values)})
    return repository.get_feature(session, rules.spec, record_id)


def delete(session: Session, actor: Principal, rules: RecordRules, record_id: int) -> None:
    """Delete a record of the actor's organisation (:class:`~app.errors.NotFound` if there is none).

    Checks the role (``rules.delete_gate``, and value gates against the stored record: only community
    safety may end a place of concern). Audits ``<name>.delete``. What the resource's ``before_delete``
    says happens to records that point at it (incidents keep their record but lose a deleted place).
    """
    _allow(actor, rules.delete_gate)
    if rules.value_gates:
        _gate_values(actor, rules, repository.get_feature(session, rules.spec, record_id)["properties"])
    repository.delete(session, rules.spec, record_id)
    record_action(session, actor, f"{rules.name}.delete", f"{rules.name}:{record_id}")


def add(
    session: Session, actor: Principal, rules: RecordRules, values: Mapping[str, Any],
    geometry: BaseGeometry | None = None, detail: dict[str, Any] | None = None,
) -> int:
    """Insert values the system derived itself (not a user's form), audited like :func:`create`; its id.

    For use cases that create records from an analysis (a hot spot flagged as a place of concern): the
    values come from a checked computation, so only the role is checked here.
    """
    _allow(actor, rules.create_gate)
    _gate_values(actor, rules, values)
    record_id = repository.insert(session, rules.spec, actor.organisation_id, rules.to_columns(values), geometry)
    record_action(session, actor, f"{rules.name}.create", f"{rules.name}:{record_id}", detail)
    return record_id


# ---- checks shared by the verbs -----------------------------------------------------------------------
def validated_hours(value: str | None, field: str) -> str | None:
    """Opening hours in OpenStreetMap syntax, normalised; refused with the position of the error."""
    if value is None or not value.strip():
        return None
    from geo.opening_hours import OpeningHoursError, validate_opening_hours

    try:
        return validate_opening_hours(value)
    except OpeningHoursError as exc:
        raise InvalidInput(
            f"{field}: malformed opening hours at character {exc.position}: {exc.message}", field=field
        ) from exc


def geojson_of(geometry: Any) -> dict[str, Any] | None:
    """The plain GeoJSON dict of a parsed geojson-pydantic geometry (``None`` stays ``None``)."""
    return None if geometry is None else dict(geometry.model_dump(exclude_none=True))


def _allow(actor: Principal, gate: Gate) -> None:
    # The routes declare the same gate (the route matrix test checks them); checking it here as well means
    # a browser form cannot write with a role the API would refuse.
    if not gate.allows(actor.role):
        raise Forbidden(f"The {actor.role} role may not do this ({gate.name}).")


def _gate_values(actor: Principal, rules: RecordRules, values: Mapping[str, Any]) -> None:
    for rule in rules.value_gates:
        if values.get(rule.field) == rule.value and not rule.gate.allows(actor.role):
            raise Forbidden(f"The {actor.role} role may not {rule.doing}.", field=rule.field)


def _values(rules: RecordRules, body: BaseModel, *, partial: bool) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The request's values (only those it sets, for a change) and its GeoJSON geometry, if it has one."""
    if not rules.feature_body:
        return body.model_dump(mode=rules.dump_mode, exclude_unset=partial), None
    properties = getattr(body, "properties", None)
    values = properties.model_dump(mode=rules.dump_mode, exclude_unset=partial) if properties is not None else {}
    return values, geojson_of(getattr(body, "geometry", None))


def _check_values(
    session: Session, actor: Principal, rules: RecordRules, values: dict[str, Any], stored: Mapping[str, Any],
) -> None:
    """Checks that read the values (and, for a change, the stored record they complete); hours normalised."""
    _gate_values(actor, rules, values)
    place_id = values.get(rules.place_field) if rules.place_field else None
    if rules.place_field and place_id is not None and not repository.place_exists(session, place_id):
        field = rules.field(rules.place_field)
        raise InvalidInput(f"{field}: no place {place_id} in your organisation", field=field)
    for name in rules.hours_fields:
        if name in values:
            values[name] = validated_hours(values[name], rules.field(name))
    if rules.period is not None:
        period = rules.period
        start = _instant(values[period.start] if period.start in values else stored.get(period.start))
        end = _instant(values[period.end] if period.end in values else stored.get(period.end))
        if start is not None and end is not None and (end <= start if period.strictly else end < start):
            field = rules.field(period.end)
            raise InvalidInput(f"{field}: {period.message}", field=field)
    for kept in rules.kept:
        if values.get(kept.field, stored.get(kept.field)) == kept.value:
            for name in kept.keep:
                if name in values and not values[name]:
                    raise InvalidInput(f"{name}: {kept.what} must keep its {name}", field=rules.field(name))


def _instant(value: Any) -> date | datetime | None:
    # JSON-mode values carry dates as ISO text; stored values come back from PostgreSQL as date/datetime.
    if isinstance(value, str):
        return date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value)
    return value


def _geometry(
    session: Session, settings: Settings, rules: RecordRules, geojson: Mapping[str, Any] | None,
) -> BaseGeometry | None:
    if geojson is None:
        return None
    return validated_geometry(session, settings, geojson, rules.geometry_types)


def _linked(session: Session, settings: Settings, values: dict[str, Any], geometry: BaseGeometry) -> dict[str, Any]:
    """An incident's place: the one it names (checked already), else the nearest within the set distance."""
    if values.get("place_id") is not None:
        return {**values, "place_link": "explicit"}
    nearest = repository.nearest_place_within(session, geometry, settings.auto_link_distance_m, settings.analysis_srid)
    return {**values, "place_id": nearest, "place_link": "auto" if nearest is not None else None}
