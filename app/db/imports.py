"""Bulk imports (police.uk street-level crime, partner files): all their SQL.

police.uk: rows parsed by :mod:`geo.policeuk` are streamed with ``COPY`` into a temporary staging table,
checked against the service area in one statement, then written with one ``INSERT … SELECT … ON CONFLICT
DO NOTHING`` that also links each new incident to its nearest place. One transaction: a rejected file
raises :class:`ImportRejected` and the caller's rollback leaves nothing behind.

Linking happens inside the INSERT rather than as an UPDATE afterwards (what ``link_unlinked_incidents``
does for the demo): an UPDATE would write every new row twice — a second tuple version and a second
entry in each of the table's five indexes — which roughly doubles the cost of a large import.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.errors import InvalidInput
from geo.policeuk import LOCATION_PRECISION, SOURCE, CrimeRow, PoliceUkFormatError, RowProblem, parse_rows

#: How many rejections a report lists (all are counted); a force-wide file can reject thousands.
MAX_LISTED_REJECTIONS = 1000
PROGRESS_EVERY = 10_000


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


class ImportRejected(InvalidInput):
    """A file had rejected rows and partial imports were not allowed: nothing was written."""

    def __init__(self, report: ImportReport, hint: str = "use allow_partial to import the good rows"):
        first = report.rejections[0] if report.rejections else Rejection("", 0, "rejected")
        detail = (f"{report.rejected} row(s) rejected, nothing was imported ({hint}); first: "
                  f"{first.file} line {first.line}: {first.reason}")
        errors = [{"field": "file", "file": r.file, "line": r.line, "message": r.reason}
                  for r in report.rejections]
        super().__init__(detail, field="file", errors=errors)
        self.report = report


def _default_area_sql(bounds: tuple[float, float, float, float]) -> tuple[str, dict[str, float]]:
    sql = "ST_MakeEnvelope(:ax0, :ay0, :ax1, :ay1, 4326)"
    return sql, dict(zip(("ax0", "ay0", "ax1", "ay1"), bounds, strict=True))


def import_police_uk(
    session: Session, organisation_id: int, sources: Sequence[tuple[str, TextIO]], *,
    analysis_srid: int, link_distance_m: float, default_area: tuple[float, float, float, float],
    allow_partial: bool = False, progress: Callable[[str, int], None] | None = None,
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
    with connection.cursor() as cursor:
        for file_no, (name, stream) in enumerate(sources):
            with cursor.copy(
                "COPY police_uk_staging (file_no, line, source_ref, occurred_from, occurred_to, harm_category, "
                "source_category, lon, lat) FROM STDIN"
            ) as copy:
                try:
                    for result in parse_rows(stream):
                        report.rows_read += 1
                        if isinstance(result, CrimeRow):
                            copy.write_row((file_no, result.line, result.source_ref, result.occurred_from,
                                            result.occurred_to, result.harm_category, result.source_category,
                                            result.lon, result.lat))
                            staged += 1
                        elif isinstance(result, RowProblem) and result.kind == "no_location":
                            report.without_location += 1
                        else:
                            report.reject(name, result.line, result.reason)
                        if progress is not None and report.rows_read % PROGRESS_EVERY == 0:
                            progress(name, report.rows_read)
                except PoliceUkFormatError as exc:
                    raise InvalidInput(f"{name}: {exc}", field="file",
                                       errors=[{"field": "file", "file": name, "line": 1, "message": str(exc)}]
                                       ) from exc
                except UnicodeDecodeError as exc:
                    raise InvalidInput(f"{name}: not UTF-8 text ({exc.reason})", field="file") from exc
            if progress is not None:
                progress(name, report.rows_read)

    area_sql, area_params = _default_area_sql(default_area)
    outside = session.execute(
        text(
            f"""
            WITH area AS (SELECT COALESCE(o.service_area, {area_sql}) AS g FROM organisations o WHERE o.id = :org)
            DELETE FROM police_uk_staging s USING area
            WHERE NOT ST_Covers(area.g, ST_SetSRID(ST_MakePoint(s.lon, s.lat), 4326))
            RETURNING s.file_no, s.line, s.lon, s.lat
            """
        ),
        {"org": organisation_id, **area_params},
    ).all()
    for row in sorted(outside, key=lambda r: (r.file_no, r.line)):
        report.reject(report.files[row.file_no], row.line,
                      f"location ({row.lon}, {row.lat}) is outside the organisation's service area")
    staged -= len(outside)
    report.rejections.sort(key=lambda r: (report.files.index(r.file), r.line))
    if report.rejected and not allow_partial:
        raise ImportRejected(report)

    srid = int(analysis_srid)
    inserted = session.execute(
        text(
            f"""
            WITH staged AS (
                SELECT s.*, ST_SetSRID(ST_MakePoint(s.lon, s.lat), 4326) AS g FROM police_uk_staging s
            ), inserted AS (
                INSERT INTO incidents (organisation_id, occurred_from, occurred_to, harm_category, source_category,
                                       source, source_ref, location_precision, geom, place_id, place_link)
                SELECT :org, s.occurred_from, s.occurred_to, s.harm_category, s.source_category, :source,
                       s.source_ref, :precision, s.g, nearest.id, CASE WHEN nearest.id IS NOT NULL THEN 'auto' END
                FROM staged s
                LEFT JOIN LATERAL (
                    SELECT p.id FROM places p
                    WHERE p.organisation_id = :org AND ST_DWithin(p.geom_metric, ST_Transform(s.g, {srid}), :d)
                    ORDER BY p.geom_metric <-> ST_Transform(s.g, {srid}), p.id LIMIT 1
                ) AS nearest ON true
                ON CONFLICT (organisation_id, source, source_ref) DO NOTHING
                RETURNING place_id
            )
            SELECT count(*) AS imported, count(place_id) AS linked FROM inserted
            """
        ),
        {"org": organisation_id, "source": SOURCE, "precision": LOCATION_PRECISION, "d": link_distance_m},
    ).one()
    report.imported = int(inserted.imported)
    report.linked_to_places = int(inserted.linked)
    report.duplicates = staged - report.imported
    session.execute(text("DROP TABLE IF EXISTS pg_temp.police_uk_staging"))
    return report
