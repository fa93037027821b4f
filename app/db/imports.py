"""Bulk imports (police.uk street-level crime, partner files): all their SQL.

police.uk: rows parsed by :mod:`geo.policeuk` are streamed with ``COPY`` into a temporary staging table,
checked against the service area in one statement, linked to their nearest places in one set-based
statement, then written with one ``INSERT … SELECT … ON CONFLICT DO NOTHING``. One transaction: a rejected
file raises :class:`ImportRejected` and the caller's rollback leaves nothing behind.

The link is computed on the staging table and written by the INSERT, rather than by an UPDATE of the new
rows afterwards (what ``link_unlinked_incidents`` does for the demo): an UPDATE would write every new row
twice — a second tuple version and a second entry in each of the table's five indexes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TextIO

from shapely.geometry import box, shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.db.citus import is_citus
from app.exceptions import InvalidInput
from geo.calendar import FUTURE_TOLERANCE_MINUTES, too_far_ahead
from geo.geometry import ALLOWED_TYPES, GeometryError, GeometryLimits, parse_geometry
from geo.partner_data import PartnerRecord, RowError
from geo.policeuk import LOCATION_PRECISION, SOURCE, CrimeRow, PoliceUkFormatError, RowProblem, parse_rows

#: How many rejections a report lists (all are counted); a force-wide file can reject thousands.
MAX_LISTED_REJECTIONS = 1000
PROGRESS_EVERY = 10_000
COPY_BATCH = 5_000
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value: str) -> str:
    """A value for PostgreSQL's COPY text format (backslash, tab, newline and return escaped)."""
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.translate(_COPY_ESCAPES)
    return value


@dataclass(frozen=True)
class Rejection:
    file: str
    line: int
    reason: str


@dataclass
class ImportReport:
    """What an import did (or, when rejected or a dry run, would have done)."""

    files: list[str] = field(default_factory=list)
    rows_read: int = 0
    imported: int = 0
    duplicates: int = 0
    without_location: int = 0
    rejected: int = 0
    linked_to_places: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    allow_partial: bool = False
    dry_run: bool = False

    def reject(self, file: str, line: int, reason: str) -> None:
        self.rejected += 1
        if len(self.rejections) < MAX_LISTED_REJECTIONS:
            self.rejections.append(Rejection(file, line, reason))

    def summary_lines(self) -> list[str]:
        """The report as the CLI prints it (the API returns :meth:`as_dict`)."""
        verb = "would import" if self.dry_run else "imported"
        lines = [
            f"files:              {len(self.files)}",
            f"rows read:          {self.rows_read}",
            f"{verb + ':':<20}{self.imported}",
            f"duplicates:         {self.duplicates}",
            f"without location:   {self.without_location}",
            f"rejected:           {self.rejected}",
            f"linked to places:   {self.linked_to_places}",
        ]
        lines += [f"  {r.file} line {r.line}: {r.reason}" for r in self.rejections]
        if self.rejected > len(self.rejections):
            lines.append(f"  … and {self.rejected - len(self.rejections)} more")
        return lines

    def as_dict(self) -> dict[str, Any]:
        return {
            "files": self.files, "rows_read": self.rows_read, "imported": self.imported,
            "duplicates": self.duplicates, "without_location": self.without_location,
            "rejected": self.rejected, "linked_to_places": self.linked_to_places,
            "rejections": [r.__dict__ for r in self.rejections],
            "rejections_truncated": self.rejected > len(self.rejections),
            "allow_partial": self.allow_partial, "dry_run": self.dry_run,
        }


ALLOW_PARTIAL_HINT = "use allow_partial to import the good rows"


class ImportRejected(InvalidInput):
    """A file had rejected rows and partial imports were not allowed: nothing was written."""

    def __init__(self, report: ImportReport, hint: str = ALLOW_PARTIAL_HINT):
        self.hint = hint
        detail = self.describe(report, hint)
        errors = [{"field": "file", "file": r.file, "line": r.line, "message": r.reason}
                  for r in report.rejections]
        super().__init__(detail, field="file", errors=errors)
        self.report = report

    @staticmethod
    def describe(report: ImportReport, hint: str) -> str:
        """The refusal in one sentence; the hint says how to import the good rows in the caller's terms."""
        first = report.rejections[0] if report.rejections else Rejection("", 0, "rejected")
        return (f"{report.rejected} row(s) rejected, nothing was imported ({hint}); first: "
                f"{first.file} line {first.line}: {first.reason}")


def _default_area_sql(bounds: tuple[float, float, float, float]) -> tuple[str, dict[str, float]]:
    sql = "ST_MakeEnvelope(:ax0, :ay0, :ax1, :ay1, 4326)"
    return sql, dict(zip(("ax0", "ay0", "ax1", "ay1"), bounds, strict=True))


def import_police_uk(
    session: Session, organisation_id: int, sources: Sequence[tuple[str, TextIO]], *,
    analysis_srid: int, link_distance_m: float, default_area: tuple[float, float, float, float],
    allow_partial: bool = False, progress: Callable[[str, int], None] | None = None,
    future_tolerance_minutes: float = FUTURE_TOLERANCE_MINUTES,
) -> ImportReport:
    """Import police.uk street-level CSV files into one organisation; returns the report.

    Works in the caller's transaction (the web request's, or the CLI's owner session). Raises
    :class:`ImportRejected` when any row is rejected and ``allow_partial`` is false, and ``InvalidInput``
    for a file that is not a police.uk file at all (wrong header) — in both cases the caller rolls back.
    """
    report = ImportReport(files=[name for name, _ in sources], allow_partial=allow_partial)
    session.execute(text("DROP TABLE IF EXISTS pg_temp.police_uk_staging"))
    session.execute(text(
        "CREATE TEMP TABLE police_uk_staging (file_no int NOT NULL, line int NOT NULL, source_ref text NOT NULL, "
        "occurred_from timestamptz NOT NULL, occurred_to timestamptz NOT NULL, harm_category text NOT NULL, "
        "source_category text NOT NULL, lon float8 NOT NULL, lat float8 NOT NULL) ON COMMIT DROP"
    ))
    connection = session.connection().connection.driver_connection
    assert connection is not None
    staged = 0
    iso: dict[datetime, str] = {}  # the few month boundaries, formatted once
    with connection.cursor() as cursor:
        for file_no, (name, stream) in enumerate(sources):
            with cursor.copy(
                "COPY police_uk_staging (file_no, line, source_ref, occurred_from, occurred_to, harm_category, "
                "source_category, lon, lat) FROM STDIN"
            ) as copy:
                # COPY text lines built here rather than with write_row: about 2.5x faster per row, and the
                # import of a million rows is mostly this loop.
                batch: list[str] = []
                try:
                    for result in parse_rows(stream, future_tolerance_minutes):
                        report.rows_read += 1
                        if isinstance(result, CrimeRow):
                            start = iso.get(result.occurred_from) or iso.setdefault(
                                result.occurred_from, result.occurred_from.isoformat())
                            end = iso.get(result.occurred_to) or iso.setdefault(
                                result.occurred_to, result.occurred_to.isoformat())
                            batch.append(
                                f"{file_no}\t{result.line}\t{_copy_text(result.source_ref)}\t{start}\t{end}\t"
                                f"{result.harm_category}\t{_copy_text(result.source_category)}\t"
                                f"{result.lon!r}\t{result.lat!r}\n")
                            staged += 1
                            if len(batch) >= COPY_BATCH:
                                copy.write("".join(batch))
                                batch.clear()
                        elif isinstance(result, RowProblem) and result.kind == "no_location":
                            report.without_location += 1
                        else:
                            report.reject(name, result.line, result.reason)
                        if progress is not None and report.rows_read % PROGRESS_EVERY == 0:
                            progress(name, report.rows_read)
                    copy.write("".join(batch))
                except PoliceUkFormatError as exc:
                    raise InvalidInput(f"{name}: {exc}", field="file",
                                       errors=[{"field": "file", "file": name, "line": 1, "message": str(exc)}]
                                       ) from exc
                except UnicodeDecodeError as exc:
                    raise InvalidInput(f"{name}: not UTF-8 text ({exc.reason})", field="file") from exc
            if progress is not None:
                progress(name, report.rows_read)

    area_sql, area_params = _default_area_sql(default_area)
    # The area is copied to a temporary table first: Citus joins no local (temporary) table with a table on
    # the cluster (organisations is a reference table there), and one row costs nothing on one PostgreSQL.
    session.execute(text("DROP TABLE IF EXISTS pg_temp.police_uk_area"))
    session.execute(text(
        f"CREATE TEMP TABLE police_uk_area ON COMMIT DROP AS "
        f"SELECT COALESCE(o.service_area, {area_sql}) AS g FROM organisations o WHERE o.id = :org"
    ), {"org": organisation_id, **area_params})
    outside = session.execute(
        text(
            """
            WITH area AS (SELECT g FROM police_uk_area)
            DELETE FROM police_uk_staging s USING area
            WHERE NOT ST_Covers(area.g, ST_SetSRID(ST_MakePoint(s.lon, s.lat), 4326))
            RETURNING s.file_no, s.line, s.lon, s.lat
            """
        ),
    ).all()
    for row in sorted(outside, key=lambda r: (r.file_no, r.line)):
        report.reject(report.files[row.file_no], row.line,
                      f"location ({row.lon}, {row.lat}) is outside the organisation's service area")
    staged -= len(outside)
    report.rejections.sort(key=lambda r: (report.files.index(r.file), r.line))
    if report.rejected and not allow_partial:
        raise ImportRejected(report)

    srid = int(analysis_srid)
    params = {"org": organisation_id, "precision": LOCATION_PRECISION}
    _link_staged_to_places(session, organisation_id, srid, link_distance_m)
    if is_citus(session.connection()):
        imported, linked = _insert_staged_on_citus(session, params)
        report.imported, report.linked_to_places = imported, linked
        report.duplicates = staged - report.imported
        session.execute(text("DROP TABLE IF EXISTS pg_temp.police_uk_staging, pg_temp.police_uk_links, "
                             "pg_temp.police_uk_area, pg_temp.police_uk_places"))
        return report
    inserted = session.execute(
        text(
            f"""
            WITH inserted AS (
                INSERT INTO incidents (organisation_id, occurred_from, occurred_to, harm_category, source_category,
                                       source, source_ref, location_precision, geom, place_id, place_link)
                SELECT :org, s.occurred_from, s.occurred_to, s.harm_category, s.source_category, '{SOURCE}',
                       s.source_ref, :precision, ST_SetSRID(ST_MakePoint(s.lon, s.lat), 4326), l.place_id,
                       CASE WHEN l.place_id IS NOT NULL THEN 'auto' END
                FROM police_uk_staging s LEFT JOIN police_uk_links l ON l.file_no = s.file_no AND l.line = s.line
                -- Rows already imported are dropped by an anti-join first, so a re-import writes nothing;
                -- ON CONFLICT still catches repeats within the upload and concurrent imports.
                WHERE NOT EXISTS (SELECT 1 FROM incidents i WHERE i.organisation_id = :org AND i.source = '{SOURCE}'
                                  AND i.source_ref = s.source_ref)
                -- Hilbert-curve order (PostGIS sorts geometries that way): neighbouring inserts touch the
                -- same GiST pages, ~30 % faster than file order on a large table.
                ORDER BY ST_SetSRID(ST_MakePoint(s.lon, s.lat), 4326)
                ON CONFLICT (organisation_id, source, source_ref) DO NOTHING
                RETURNING place_id
            )
            SELECT count(*) AS imported, count(place_id) AS linked FROM inserted
            """
        ),
        params,
    ).one()
    report.imported = int(inserted.imported)
    report.linked_to_places = int(inserted.linked)
    report.duplicates = staged - report.imported
    session.execute(text("DROP TABLE IF EXISTS pg_temp.police_uk_staging, pg_temp.police_uk_links, "
                         "pg_temp.police_uk_area, pg_temp.police_uk_places"))
    return report


def _insert_staged_on_citus(session: Session, params: dict[str, Any]) -> tuple[int, int]:
    """The staged rows into ``incidents`` on Citus: an INSERT … SELECT from local tables only (Citus routes
    the rows to the organisation's shard; it refuses the anti-join against ``incidents`` and a data-modifying
    CTE around it), duplicates dropped by ON CONFLICT; imported and linked rows counted before and after."""
    count = text("SELECT count(*), count(*) FILTER (WHERE place_link = 'auto') FROM incidents "
                 f"WHERE organisation_id = :org AND source = '{SOURCE}'")
    before = session.execute(count, params).one()
    session.execute(text(
        f"""
        INSERT INTO incidents (organisation_id, occurred_from, occurred_to, harm_category, source_category,
                               source, source_ref, location_precision, geom, place_id, place_link)
        SELECT :org, s.occurred_from, s.occurred_to, s.harm_category, s.source_category, '{SOURCE}',
               s.source_ref, :precision, ST_SetSRID(ST_MakePoint(s.lon, s.lat), 4326), l.place_id,
               CASE WHEN l.place_id IS NOT NULL THEN 'auto' END
        FROM police_uk_staging s LEFT JOIN police_uk_links l ON l.file_no = s.file_no AND l.line = s.line
        ORDER BY ST_SetSRID(ST_MakePoint(s.lon, s.lat), 4326)
        ON CONFLICT (organisation_id, source, source_ref) DO NOTHING
        """
    ), params)
    after = session.execute(count, params).one()
    return int(after[0] - before[0]), int(after[1] - before[1])


def _link_staged_to_places(session: Session, organisation_id: int, srid: int, distance_m: float) -> None:
    """``police_uk_links(file_no, line, place_id)``: each staged row's nearest place within ``distance_m``.

    Set-based and driven from the (few) places: a GiST index on the staged points in the analysis CRS lets
    every place find its incidents by ``ST_DWithin``; ``DISTINCT ON`` keeps the nearest place per row. (A
    per-row nearest-place lookup costs a coordinate transformation per place per row when the planner
    picks the organisation index — minutes for a million rows.)
    """
    session.execute(text("DROP TABLE IF EXISTS pg_temp.police_uk_links"))
    point = f"ST_Transform(ST_SetSRID(ST_MakePoint(s.lon, s.lat), 4326), {srid})"
    has_places = session.execute(text("SELECT EXISTS (SELECT 1 FROM places WHERE organisation_id = :org)"),
                                 {"org": organisation_id}).scalar()
    if has_places:
        session.execute(text(
            f"CREATE INDEX ON police_uk_staging USING gist ((ST_Transform(ST_SetSRID(ST_MakePoint(lon, lat), 4326), "
            f"{srid})))"))
        session.execute(text("ANALYZE police_uk_staging"))
    # The organisation's places are copied to a temporary table first: Citus joins no local table with a
    # distributed one; on one PostgreSQL it is a copy of the (few) places.
    session.execute(text("DROP TABLE IF EXISTS pg_temp.police_uk_places"))
    session.execute(text("CREATE TEMP TABLE police_uk_places ON COMMIT DROP AS "
                         "SELECT id, geom_metric FROM places WHERE organisation_id = :org"), {"org": organisation_id})
    session.execute(text(
        f"""
        CREATE TEMP TABLE police_uk_links ON COMMIT DROP AS
        SELECT DISTINCT ON (s.file_no, s.line) s.file_no, s.line, p.id AS place_id
        FROM police_uk_places p JOIN police_uk_staging s ON ST_DWithin({point}, p.geom_metric, :d)
        WHERE :has_places
        ORDER BY s.file_no, s.line, ST_Distance({point}, p.geom_metric), p.id
        """
    ), {"org": organisation_id, "d": distance_m, "has_places": bool(has_places)})


# ---- partner data ----------------------------------------------------------------------------------------
def import_partner(
    session: Session, organisation_id: int, name: str, rows: Iterable[PartnerRecord | RowError], target: str, *,
    analysis_srid: int, link_distance_m: float, default_area: tuple[float, float, float, float],
    dry_run: bool = False, limits: GeometryLimits | None = None,
    future_tolerance_minutes: float = FUTURE_TOLERANCE_MINUTES,
) -> ImportReport:
    """Import one partner file (incidents, places or safe spaces): all of it, or — with any rejected row —
    none of it (:class:`ImportRejected`). A dry run validates and counts inside a savepoint it rolls back.
    An incident dated more than ``future_tolerance_minutes`` ahead is a rejected row, as in the write use case.
    """
    report = ImportReport(files=[name], dry_run=dry_run)
    area = _service_area(session, organisation_id, default_area)
    now = datetime.now(UTC)
    accepted: list[PartnerRecord] = []
    for row in rows:
        report.rows_read += 1
        if isinstance(row, RowError):
            report.reject(name, row.line, row.reason)
            continue
        if target == "incidents":
            ahead = next((f for f in ("occurred_from", "occurred_to")
                          if too_far_ahead(row.values.get(f), future_tolerance_minutes, now)), None)
            if ahead is not None:
                report.reject(name, row.line, f"{ahead}: {row.values[ahead].isoformat()} is in the future")
                continue
        try:
            if row.geometry is not None:
                allowed = frozenset({"Point"}) if target == "incidents" else ALLOWED_TYPES
                parse_geometry(row.geometry, service_area=area, allowed_types=allowed, limits=limits)
            elif row.lon is not None and row.lat is not None:
                parse_geometry({"type": "Point", "coordinates": [row.lon, row.lat]}, service_area=area)
            else:
                raise GeometryError("a location is required")
        except GeometryError as exc:
            report.reject(name, row.line, f"{exc.field}: {exc.message}")
            continue
        accepted.append(row)
    if report.rejected:
        raise ImportRejected(report, hint="a partner file is imported whole or not at all")

    savepoint = session.begin_nested()
    try:
        for record in accepted:
            geometry = (json.dumps(record.geometry) if record.geometry is not None
                        else json.dumps({"type": "Point", "coordinates": [record.lon, record.lat]}))
            if target == "incidents":
                created = _insert_partner_incident(session, organisation_id, record, geometry, analysis_srid,
                                                   link_distance_m)
                report.linked_to_places += int(created == "linked")
            else:
                created = _insert_partner_place(session, organisation_id, record, geometry, target)
            if created is None:
                report.duplicates += 1
            else:
                report.imported += 1
    except IntegrityError as exc:
        savepoint.rollback()
        raise InvalidInput(f"{name}: a row breaks a rule of the data model ({exc.orig})", field="file") from exc
    if dry_run:
        savepoint.rollback()
    else:
        savepoint.commit()
    return report


def _service_area(session: Session, organisation_id: int, default: tuple[float, float, float, float]) -> BaseGeometry:
    geojson = session.execute(text("SELECT ST_AsGeoJSON(service_area) FROM organisations WHERE id = :o"),
                              {"o": organisation_id}).scalar()
    return shape(json.loads(geojson)) if geojson else box(*default)


def _insert_partner_incident(session: Session, organisation_id: int, record: PartnerRecord, geometry: str,
                             srid: int, distance_m: float) -> str | None:
    v = record.values
    row = session.execute(text(
        f"""
        WITH g AS (SELECT ST_SetSRID(ST_GeomFromGeoJSON(:geometry), 4326) AS geom),
        nearest AS (
            SELECT p.id FROM places p, g
            WHERE p.organisation_id = :org AND ST_DWithin(p.geom_metric, ST_Transform(g.geom, {int(srid)}), :d)
            ORDER BY p.geom_metric <-> ST_Transform(g.geom, {int(srid)}), p.id LIMIT 1
        )
        INSERT INTO incidents (organisation_id, occurred_from, occurred_to, harm_category, source_category, source,
                               source_ref, location_precision, young_people, description, geom, place_id, place_link)
        SELECT :org, :occurred_from, :occurred_to, :harm_category, :source_category, 'partner', :source_ref,
               :precision, :young_people, :description, g.geom, (SELECT id FROM nearest),
               CASE WHEN EXISTS (SELECT 1 FROM nearest) THEN 'auto' END
        FROM g
        ON CONFLICT (organisation_id, source, source_ref) DO NOTHING
        RETURNING place_id
        """
    ), {"geometry": geometry, "org": organisation_id, "d": distance_m,
        "occurred_from": v["occurred_from"], "occurred_to": v.get("occurred_to"),
        "harm_category": v["harm_category"], "source_category": v.get("source_category"),
        "source_ref": v["source_ref"], "precision": v.get("location_precision", "exact"),
        "young_people": v.get("young_people"), "description": v.get("description")}).first()
    if row is None:
        return None
    return "linked" if row.place_id is not None else "unlinked"


def _insert_partner_place(session: Session, organisation_id: int, record: PartnerRecord, geometry: str,
                          target: str) -> str | None:
    """A place (and for safe spaces its safe_space designation); ``None`` when it is already there — the same
    name and kind within a metre, and for safe spaces an overlapping safe-space designation."""
    v = record.values
    params = {"org": organisation_id, "geometry": geometry, "name": v["name"], "kind": v["kind"]}
    place_id = session.execute(text(
        """
        SELECT p.id FROM places p
        WHERE p.organisation_id = :org AND lower(p.name) = lower(:name) AND p.kind = :kind
          AND ST_DWithin(p.geom::geography, ST_SetSRID(ST_GeomFromGeoJSON(:geometry), 4326)::geography, 1.0)
        ORDER BY p.id LIMIT 1
        """
    ), params).scalar()
    created_place = place_id is None
    if created_place:
        place_id = session.execute(text(
            """
            INSERT INTO places (organisation_id, name, kind, address, opening_hours, place_manager, notes, geom)
            VALUES (:org, :name, :kind, :address, :opening_hours, :place_manager, :notes,
                    ST_SetSRID(ST_GeomFromGeoJSON(:geometry), 4326))
            RETURNING id
            """
        ), {**params, **{k: v.get(k) for k in ("address", "opening_hours", "place_manager", "notes")}}).scalar_one()
    if target != "safe_spaces":
        return "place" if created_place else None
    valid_from = v.get("valid_from") or datetime.now(UTC)
    overlapping = session.execute(text(
        "SELECT 1 FROM designations WHERE organisation_id = :org AND place_id = :p AND kind = 'safe_space' "
        "AND tstzrange(valid_from, valid_to) && tstzrange(:vf, :vt)"
    ), {"org": organisation_id, "p": place_id, "vf": valid_from, "vt": v.get("valid_to")}).first()
    if overlapping is not None:
        return None
    session.execute(text(
        """
        INSERT INTO designations (organisation_id, place_id, kind, valid_from, valid_to, scheme, age_min, age_max,
                                  help_offered, accessibility, verified_on)
        VALUES (:org, :p, 'safe_space', :vf, :vt, :scheme, :age_min, :age_max, CAST(:help AS text[]),
                :accessibility, :verified_on)
        """
    ), {"org": organisation_id, "p": place_id, "vf": valid_from, "vt": v.get("valid_to"),
        "scheme": v.get("scheme"), "age_min": v.get("age_min"), "age_max": v.get("age_max"),
        "help": v.get("help_offered") or [], "accessibility": v.get("accessibility"),
        "verified_on": v.get("verified_on")})
    return "safe_space"
