"""SQLAlchemy 2 + GeoAlchemy2 models. The schema itself is built only by the Alembic migrations.

These classes are Alembic's ``target_metadata`` (the service queries with SQL text), so they describe
exactly what ``migrations/versions`` build: every index is declared by the name a migration gave it, and
geometry columns say ``spatial_index=False`` because their GiST indexes are declared explicitly.
``tests/db/test_models_match_migrations.py`` runs ``alembic check`` against a migrated database to keep it
so. CHECK constraints, row-level security, grants and functions live only in the migrations (autogenerate
does not compare them).

Geometry is stored in EPSG:4326 (GeoJSON's CRS) with a generated, GiST-indexed copy in the analysis CRS
(``geom_metric``) for distances, buffers and grids: measured faster than casting to geography.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    Computed,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    column,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, DOUBLE_PRECISION, JSONB, ExcludeConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ANALYSIS_SRID = 27700
IN_ANALYSIS_CRS = f"ST_Transform(geom, {ANALYSIS_SRID})"


class Base(DeclarativeBase):
    pass


class TenantMixin:
    # The isolation key for row-level security, and the distribution column should we ever shard.
    # Its index is declared per table: the migrations name them, and api_tokens has none.
    organisation_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("organisations.id", ondelete="CASCADE")
    )


class RoutedMixin:
    """A table Citus distributes by organisation (0015): keyed by ``(organisation_id, id)``, and its foreign
    keys to other such tables name the organisation too, so an organisation's rows stay on one shard."""

    organisation_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )


def place_key(table: str, ondelete: str | None) -> ForeignKeyConstraint:
    """``(organisation_id, place_id) REFERENCES places (organisation_id, id)`` (0015)."""
    return ForeignKeyConstraint(["organisation_id", "place_id"], ["places.organisation_id", "places.id"],
                                ondelete=ondelete, name=f"{table}_place_id_fkey")


class Organisation(Base):
    """A tenant: a local authority or partnership, with the area it serves."""

    __tablename__ = "organisations"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    service_area: Mapped[Any | None] = mapped_column(Geometry("MULTIPOLYGON", srid=4326, spatial_index=False))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # The organisation's own disclosure thresholds and retention (0012); NULL: the deployment's settings,
    # which are also the floor (an organisation may suppress more, never less).
    suppress_max: Mapped[int | None] = mapped_column(SmallInteger)
    round_to: Mapped[int | None] = mapped_column(SmallInteger)
    retention_days: Mapped[int | None] = mapped_column(Integer)


class User(TenantMixin, Base):
    """A person who signs in; e-mail addresses are unique regardless of case."""

    __tablename__ = "users"
    __table_args__ = (
        Index("users_email_key", func.lower(column("email")), unique=True),
        Index("users_organisation_id_idx", "organisation_id"),
        # For composite foreign keys from tenant tables (0012: import_jobs).
        UniqueConstraint("organisation_id", "id", name="users_organisation_id_id_key"),
    )
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    role: Mapped[str] = mapped_column(String(32))
    password_hash: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ApiToken(TenantMixin, Base):
    """An API or session token, stored only as its hash."""

    __tablename__ = "api_tokens"
    __table_args__ = (Index("api_tokens_user_id_idx", "user_id"),)
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # "api" or "session"
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Place(RoutedMixin, Base):
    """A place young people use: a park, a shop, a library, a transport hub."""

    __tablename__ = "places"
    __table_args__ = (
        Index("places_organisation_id_idx", "organisation_id"),
        Index("places_geom_idx", "geom", postgresql_using="gist"),
        Index("places_geom_metric_idx", "geom_metric", postgresql_using="gist"),
        # What composite foreign keys point at (0014: the safe places a safety map names).
        UniqueConstraint("organisation_id", "id", name="places_organisation_id_id_key"),
    )
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    address: Mapped[str | None] = mapped_column(Text)
    opening_hours: Mapped[str | None] = mapped_column(Text)
    place_manager: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    geom: Mapped[Any] = mapped_column(Geometry("GEOMETRY", srid=4326, spatial_index=False))
    geom_metric: Mapped[Any | None] = mapped_column(
        Geometry("GEOMETRY", srid=ANALYSIS_SRID, spatial_index=False), Computed(IN_ANALYSIS_CRS, persisted=True)
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Designation(RoutedMixin, Base):
    """A time-bounded judgement about a place: a concern (with a level) or a safe space."""

    __tablename__ = "designations"
    __table_args__ = (
        # A place keeps a history, but never two overlapping judgements of the same kind.
        ExcludeConstraint(
            ("organisation_id", "="), ("place_id", "="), ("kind", "="),
            (func.tstzrange(column("valid_from"), column("valid_to")), "&&"),
            name="designations_no_overlap", using="gist",
        ),
        place_key("designations", "CASCADE"),
        Index("designations_organisation_id_idx", "organisation_id"),
        Index("designations_place_id_idx", "place_id"),
        Index("designations_place_kind_idx", "place_id", "kind", postgresql_include=["valid_from", "valid_to"]),
    )
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    place_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16))
    valid_from: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    valid_to: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    level: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    review_by: Mapped[date | None] = mapped_column(Date)
    scheme: Mapped[str | None] = mapped_column(Text)
    age_min: Mapped[int | None] = mapped_column(Integer)
    age_max: Mapped[int | None] = mapped_column(Integer)
    help_offered: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{}")
    accessibility: Mapped[str | None] = mapped_column(Text)
    verified_on: Mapped[date | None] = mapped_column(Date)
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Guardian(RoutedMixin, Base):
    """Someone (or a role) who watches over a place."""

    __tablename__ = "guardians"
    __table_args__ = (
        place_key("guardians", "CASCADE"),
        Index("guardians_organisation_id_idx", "organisation_id"),
        Index("guardians_place_id_idx", "place_id"),
    )
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    place_id: Mapped[int] = mapped_column(BigInteger)
    role: Mapped[str] = mapped_column(String(32))
    description: Mapped[str | None] = mapped_column(Text)
    trainings: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, server_default="[]")
    hours: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Incident(RoutedMixin, Base):
    """A recorded harm at a point in space and a period in time; ``source_ref`` de-duplicates imports."""

    __tablename__ = "incidents"
    __table_args__ = (
        UniqueConstraint("organisation_id", "source", "source_ref", name="incidents_source_ref_key"),
        # No ON DELETE SET NULL (Citus refuses it on a key holding the organisation): the service unlinks.
        place_key("incidents", None),
        Index("incidents_org_time_idx", "organisation_id", "occurred_from"),
        Index("incidents_place_id_idx", "place_id"),
        Index("incidents_geom_idx", "geom", postgresql_using="gist"),
        Index("incidents_geom_metric_idx", "geom_metric", postgresql_using="gist"),
    )
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    occurred_from: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    occurred_to: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    harm_category: Mapped[str] = mapped_column(String(32))
    source_category: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(32))
    source_ref: Mapped[str | None] = mapped_column(String(128))
    location_precision: Mapped[str] = mapped_column(String(16))
    young_people: Mapped[int | None] = mapped_column(Integer)
    description: Mapped[str | None] = mapped_column(Text)
    place_id: Mapped[int | None] = mapped_column(BigInteger)
    place_link: Mapped[str | None] = mapped_column(String(16))  # "explicit" | "auto" | None
    geom: Mapped[Any] = mapped_column(Geometry("POINT", srid=4326, spatial_index=False))
    geom_metric: Mapped[Any | None] = mapped_column(
        Geometry("POINT", srid=ANALYSIS_SRID, spatial_index=False), Computed(IN_ANALYSIS_CRS, persisted=True)
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class IncidentArchive(Base):
    """Incidents past the retention period, readable by the owner only (0002: ``CREATE TABLE AS``).

    ``CREATE TABLE AS`` copies types but no NOT NULL, default, foreign key or index, so every column but
    the primary key is nullable, and ``geom_metric`` is a plain column: archives are not analysed.
    """

    __tablename__ = "incidents_archive"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    organisation_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # 0015: NOT NULL, in the key
    occurred_from: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    occurred_to: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    harm_category: Mapped[str | None] = mapped_column(String(32))
    source_category: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(String(32))
    source_ref: Mapped[str | None] = mapped_column(String(128))
    location_precision: Mapped[str | None] = mapped_column(String(16))
    young_people: Mapped[int | None] = mapped_column(Integer)
    description: Mapped[str | None] = mapped_column(Text)
    place_id: Mapped[int | None] = mapped_column(BigInteger)
    place_link: Mapped[str | None] = mapped_column(String(16))
    geom: Mapped[Any | None] = mapped_column(Geometry("POINT", srid=4326, spatial_index=False))
    geom_metric: Mapped[Any | None] = mapped_column(Geometry("POINT", srid=ANALYSIS_SRID, spatial_index=False))
    created_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    archived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Intervention(RoutedMixin, Base):
    """Something partners do about a context: patrols, outreach, changes to a place."""

    __tablename__ = "interventions"
    __table_args__ = (
        place_key("interventions", None),
        Index("interventions_organisation_id_idx", "organisation_id"),
        Index("interventions_place_id_idx", "place_id"),
    )
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    place_id: Mapped[int | None] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(Text)
    owning_partner: Mapped[str] = mapped_column(Text)
    partners: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{}")
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    notes: Mapped[str | None] = mapped_column(Text)
    # 0011: written for a multi-agency panel to read (not withheld from them, unlike description and notes).
    title: Mapped[str | None] = mapped_column(String(200))
    shareable_summary: Mapped[str | None] = mapped_column(String(1000))
    # Not indexed in the migrations: interventions are read by place or organisation, not by area.
    geom: Mapped[Any | None] = mapped_column(Geometry("GEOMETRY", srid=4326, spatial_index=False))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class StreetEdge(RoutedMixin, Base):
    """A walkable street segment (0003), with its length in metres of the analysis CRS."""

    __tablename__ = "street_edges"
    __table_args__ = (
        # (organisation, id): the cached graph's version check is an index-only max(id).
        Index("street_edges_organisation_id_idx", "organisation_id", "id"),
        Index("street_edges_geom_metric_idx", "geom_metric", postgresql_using="gist"),
    )
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    name: Mapped[str | None] = mapped_column(Text)
    geom: Mapped[Any] = mapped_column(Geometry("LINESTRING", srid=4326, spatial_index=False))
    geom_metric: Mapped[Any | None] = mapped_column(
        Geometry("LINESTRING", srid=ANALYSIS_SRID, spatial_index=False), Computed(IN_ANALYSIS_CRS, persisted=True)
    )
    length_m: Mapped[float | None] = mapped_column(
        DOUBLE_PRECISION, Computed(f"ST_Length({IN_ANALYSIS_CRS})", persisted=True)
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Assessment(RoutedMixin, Base):
    """A context assessment of a place (0003): the red/amber/green triangle and outcome goals."""

    __tablename__ = "assessments"
    __table_args__ = (
        place_key("assessments", "CASCADE"),
        Index("assessments_organisation_id_idx", "organisation_id"),
        Index("assessments_place_id_idx", "place_id", "assessed_on"),
    )
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    place_id: Mapped[int] = mapped_column(BigInteger)
    assessed_on: Mapped[date] = mapped_column(Date)
    young_people_rating: Mapped[str] = mapped_column(String(8))
    young_people_notes: Mapped[str | None] = mapped_column(Text)
    guardianship_rating: Mapped[str] = mapped_column(String(8))
    guardianship_notes: Mapped[str | None] = mapped_column(Text)
    environment_rating: Mapped[str] = mapped_column(String(8))
    environment_notes: Mapped[str | None] = mapped_column(Text)
    methods: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{}")
    context_weighting: Mapped[int | None] = mapped_column(Integer)
    recommended_responses: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{}")
    review_on: Mapped[date | None] = mapped_column(Date)
    goals: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, server_default="[]")
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class SchoolTerm(RoutedMixin, Base):
    """One teaching period of the organisation's schools (0008): the gaps are school holidays (``SH``)."""

    __tablename__ = "school_terms"
    __table_args__ = (Index("school_terms_organisation_id_idx", "organisation_id", "starts_on"),)
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ImportJob(Base):
    """An import started from the web pages (0012): its stage, progress and report, readable by every worker
    process. A running job whose ``heartbeat_at`` stops moving is read as failed (its process died)."""

    __tablename__ = "import_jobs"
    __table_args__ = (
        ForeignKeyConstraint(["organisation_id", "user_id"], ["users.organisation_id", "users.id"],
                             ondelete="CASCADE"),
        Index("import_jobs_started_idx", "organisation_id", "started_at"),
    )
    organisation_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True)
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16))
    target: Mapped[str] = mapped_column(String(16), server_default="incidents")
    files: Mapped[Any] = mapped_column(JSONB, server_default="[]")
    workdir: Mapped[str] = mapped_column(Text)
    dry_run: Mapped[bool] = mapped_column(Boolean, server_default="false")
    allow_partial: Mapped[bool] = mapped_column(Boolean, server_default="false")
    mapping: Mapped[Any] = mapped_column(JSONB, server_default="{}")
    crs: Mapped[str | None] = mapped_column(String(16))
    stage: Mapped[str] = mapped_column(String(16))
    rows_read: Mapped[int] = mapped_column(BigInteger, server_default="0")
    done_bytes: Mapped[int] = mapped_column(BigInteger, server_default="0")
    report: Mapped[Any | None] = mapped_column(JSONB)
    message: Mapped[str | None] = mapped_column(Text)
    new_incidents_from: Mapped[date | None] = mapped_column(Date)
    new_incidents_to: Mapped[date | None] = mapped_column(Date)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    heartbeat_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
class SafetyMap(Base):
    """One young person's safety map, kept only with their agreement (0014): the month and an age band."""

    __tablename__ = "safety_maps"
    __table_args__ = (
        UniqueConstraint("organisation_id", "submission_id", name="safety_maps_submission_key"),
        Index("safety_maps_month_idx", "organisation_id", "month"),
    )
    organisation_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True)
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    month: Mapped[date] = mapped_column(Date)
    age_band: Mapped[str] = mapped_column(String(8))
    submission_id: Mapped[uuid.UUID] = mapped_column(Uuid)


class SafetyMapMark(Base):
    """A red/amber/green mark of a safety map, snapped to a published 250 m cell (0014)."""

    __tablename__ = "safety_map_marks"
    __table_args__ = (
        ForeignKeyConstraint(["organisation_id", "safety_map_id"], ["safety_maps.organisation_id", "safety_maps.id"],
                             ondelete="CASCADE"),
        UniqueConstraint("organisation_id", "safety_map_id", "cell_size", "cell_i", "cell_j", "rating",
                         name="safety_map_marks_cell_key"),
        Index("safety_map_marks_cell_idx", "organisation_id", "cell_size", "cell_i", "cell_j"),
    )
    organisation_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True)
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    safety_map_id: Mapped[int] = mapped_column(BigInteger)
    cell_size: Mapped[int] = mapped_column(Integer)
    cell_i: Mapped[int] = mapped_column(Integer)
    cell_j: Mapped[int] = mapped_column(Integer)
    rating: Mapped[str] = mapped_column(String(8))
    phrase: Mapped[str | None] = mapped_column(String(200))


class SafetyMapSafePlace(Base):
    """A place of ours a young person named as safe on an agreed safety map (0014)."""

    __tablename__ = "safety_map_safe_places"
    __table_args__ = (
        ForeignKeyConstraint(["organisation_id", "safety_map_id"], ["safety_maps.organisation_id", "safety_maps.id"],
                             ondelete="CASCADE"),
        ForeignKeyConstraint(["organisation_id", "place_id"], ["places.organisation_id", "places.id"],
                             ondelete="CASCADE"),
        UniqueConstraint("organisation_id", "safety_map_id", "place_id", name="safety_map_safe_places_key"),
        Index("safety_map_safe_places_place_idx", "organisation_id", "place_id"),
    )
    organisation_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True)
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    safety_map_id: Mapped[int] = mapped_column(BigInteger)
    place_id: Mapped[int] = mapped_column(BigInteger)


class PlaceSuggestion(Base):
    """A new safe place suggested in a safety-mapping session, for staff to review; no link to the map (0014)."""

    __tablename__ = "place_suggestions"
    __table_args__ = (Index("place_suggestions_month_idx", "organisation_id", "month"),)
    organisation_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True)
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str | None] = mapped_column(String(32))
    month: Mapped[date] = mapped_column(Date)
    cell_size: Mapped[int | None] = mapped_column(Integer)
    cell_i: Mapped[int | None] = mapped_column(Integer)
    cell_j: Mapped[int | None] = mapped_column(Integer)
class IncidentCellMonth(Base):
    """Live incidents per published cell, Europe/London month, harm category and source (0013), kept
    current by statement-level triggers on ``incidents``; read by the analyses on the published grid."""

    __tablename__ = "incident_cell_months"
    __table_args__ = (
        PrimaryKeyConstraint("organisation_id", "cell_size", "harm_category", "source", "month", "cell_i",
                             "cell_j", name="incident_cell_months_pkey",
                             postgresql_include=["incidents"]),
        Index("incident_cell_months_empty_idx", "organisation_id", postgresql_where=column("incidents") == 0),
    )
    organisation_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("organisations.id", ondelete="CASCADE"))
    cell_size: Mapped[int] = mapped_column(SmallInteger)
    harm_category: Mapped[str] = mapped_column(String(32))  # '*': all categories (with source '*')
    source: Mapped[str] = mapped_column(String(32))
    month: Mapped[date] = mapped_column(Date)
    cell_i: Mapped[int] = mapped_column(Integer)
    cell_j: Mapped[int] = mapped_column(Integer)
    incidents: Mapped[int] = mapped_column(Integer)


class AnalysisDataVersion(Base):
    """When the data an organisation's analyses read last changed (0016): one row per UTC month of
    ``incidents.occurred_from`` and (``month = -infinity``) for places, interventions and the organisation;
    change rows added by statement-level triggers; the analysis cache's key (app.db.data_versions)."""

    __tablename__ = "analysis_data_versions"
    __table_args__ = (
        PrimaryKeyConstraint("organisation_id", "month", "version", name="analysis_data_versions_pkey",
                             postgresql_include=["changes"]),
    )
    organisation_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("organisations.id", ondelete="CASCADE"))
    month: Mapped[date] = mapped_column(Date)
    version: Mapped[int] = mapped_column(BigInteger)
    changes: Mapped[int] = mapped_column(BigInteger)


class AuditEvent(Base):
    """An append-only record of who did what in an organisation (unknown sign-ins: AuditEventUnattributed)."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("audit_events_org_at_idx", "organisation_id", "at"),)
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # 0015: NOT NULL, in the key
    user_id: Mapped[int | None] = mapped_column(BigInteger)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    action: Mapped[str] = mapped_column(String(64))
    resource: Mapped[str | None] = mapped_column(Text)
    request_id: Mapped[str | None] = mapped_column(String(64))  # generated by the server
    client: Mapped[str | None] = mapped_column(String(64))
    client_request_id: Mapped[str | None] = mapped_column(String(64))  # the client's X-Request-ID, as sent
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")


class AuditEventUnattributed(Base):
    """Audit rows with no organisation (a sign-in refused before anyone is known), readable by the owner only
    (0015): on Citus they stay on the coordinator, as a distribution column cannot be NULL."""

    __tablename__ = "audit_events_unattributed"
    __table_args__ = (Index("audit_events_unattributed_at_idx", "at"),)
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(BigInteger)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    action: Mapped[str] = mapped_column(String(64))
    resource: Mapped[str | None] = mapped_column(Text)
    request_id: Mapped[str | None] = mapped_column(String(64))
    client_request_id: Mapped[str | None] = mapped_column(String(64))
    client: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")


class SignInFailure(Base):
    """Failed sign-ins per (e-mail, client) key, hashed; shared by every worker (the throttle)."""

    __tablename__ = "sign_in_failures"
    __table_args__ = (Index("sign_in_failures_last_idx", "last_failed_at"),)
    key_hash: Mapped[str] = mapped_column(Text, primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    last_failed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
