"""The monthly cell-count aggregate (migration 0013, issue 18): when an analysis can read it, reading it,
and rebuilding it.

``incident_cell_months`` counts live incidents per published square (250 m, 500 m, 1 km on the analysis
CRS's origin), Europe/London month, harm category and source. Statement-level triggers on ``incidents``
keep it current inside every writer's transaction (writes, edits, deletes, the police.uk ``COPY`` path,
partner imports, retention), so a request on the published grid and whole months can be answered from it
in time that grows with the cells and months asked for, not with the incidents.

A request is answered from the aggregate exactly when its answer is the same as the incident path's
(:func:`window`): square cells of a published size; no lon/lat ``bbox`` (it cuts cells); a metric ``box``
only when its edges are cell edges; a period whose ends are Europe/London month starts (or open).
``tests/db/test_cell_month_aggregate.py`` checks both the bookkeeping (aggregate = a recount after random
writes, edits, deletes, imports and retention) and the reads (aggregate path = incident path).

Citus (issue 19): the table is distributed by ``organisation_id`` and co-located with ``incidents``. The
statement triggers cannot run there: a query naming both a transition table and a distributed table is
sent to the shard without the transition table ("executor could not find named tuplestore"). So on Citus
:func:`app.db.citus.distribute` replaces them with one row-level trigger (:func:`row_trigger_sql`),
created on every shard of ``incidents`` (``citus.enable_unsafe_triggers``). Each row adds or takes one off
its six aggregate rows (three cell sizes, its own category and source and the all-categories row) in the
co-located aggregate shard on the same worker, named with Citus's ``get_shard_id_for_distribution_column``
and written directly (Citus lets its own connections change shards; through the distributed table each
row cost a Citus plan, 3.5x slower for an import). Same transaction as the write, as on one node; a
``COPY`` pays per row. ``TRUNCATE incidents`` does not empty the aggregate there (``contextmap aggregates
rebuild`` does).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.db.session import CURRENT_ORG_SQL
from geo.calendar import month_floor
from geo.grid import PUBLISHED_CELL_SIZES
from geo.vocabulary import HARM_CATEGORIES, INCIDENT_SOURCES, LONDON

TABLE = "incident_cell_months"
ORG = CURRENT_ORG_SQL  # the one spelling app.db.session binds to the organisation (routing on Citus)
KEY = "organisation_id, cell_size, harm_category, source, month, cell_i, cell_j"  # the primary key's order
ALL = "*"  # the harm category and source of the rows that count every category and source


@dataclass(frozen=True)
class Window:
    """What the aggregate is asked: cell size, months ``[first, end)`` (None: open), whole-cell index box
    ``[i0, i1) x [j0, j1)`` (None: all), harm categories and sources (empty: all)."""

    size: int
    first: date | None
    end: date | None
    cells: tuple[int, int, int, int] | None
    harm_categories: tuple[str, ...]
    sources: tuple[str, ...]

    def where(self) -> tuple[str, dict[str, Any]]:
        """Filters as index conditions: harm category and source are always lists (the all-categories row
        when neither is filtered, else every category or source asked for) so the month range follows."""
        everything = not self.harm_categories and not self.sources
        harm = [ALL] if everything else list(self.harm_categories or HARM_CATEGORIES)
        sources = [ALL] if everything else list(self.sources or INCIDENT_SOURCES)
        clauses = [f"a.organisation_id = {ORG}", "a.cell_size = :agg_size", "a.harm_category = ANY(:agg_harm)",
                   "a.source = ANY(:agg_sources)"]
        params: dict[str, Any] = {"agg_size": self.size, "agg_harm": harm, "agg_sources": sources}
        if self.first is not None:
            clauses.append("a.month >= :agg_first")
            params["agg_first"] = self.first
        if self.end is not None:
            clauses.append("a.month < :agg_end")
            params["agg_end"] = self.end
        if self.cells is not None:
            clauses.append("a.cell_i >= :agg_i0 AND a.cell_i < :agg_i1 AND a.cell_j >= :agg_j0 AND a.cell_j < :agg_j1")
            params.update(zip(("agg_i0", "agg_i1", "agg_j0", "agg_j1"), self.cells, strict=True))
        return " AND ".join(clauses), params


def _month(moment: datetime | None) -> tuple[bool, date | None]:
    """(whether ``moment`` is a Europe/London month start or open, that month's first day)."""
    if moment is None:
        return True, None
    if moment.tzinfo is None or month_floor(moment) != moment:
        return False, None
    return True, moment.astimezone(LONDON).date()


def window(shape: str, size: float, bbox: Any, box: tuple[float, float, float, float] | None,
           start: datetime | None, end: datetime | None, harm_categories: tuple[str, ...],
           sources: tuple[str, ...]) -> Window | None:
    """The aggregate's question for an analysis request, or None when only the incidents can answer it."""
    if shape != "square" or float(size) not in PUBLISHED_CELL_SIZES or bbox is not None:
        return None
    cells = None
    if box is not None:
        steps = [edge / size for edge in box]
        if any(s != int(s) for s in steps):
            return None
        cells = (int(steps[0]), int(steps[2]), int(steps[1]), int(steps[3]))
    ok_start, first = _month(start)
    ok_end, last = _month(end)
    if not (ok_start and ok_end):
        return None
    return Window(int(size), first, last, cells, tuple(harm_categories), tuple(sources))


def _arrays(session: Session, sql: str, params: dict[str, Any], columns: int) -> np.ndarray:
    """``columns`` integer columns of ``sql`` as one ``(n, columns)`` array, sent back as one row of arrays
    (``array_agg``): a hundred thousand rows arrive several times faster than as row objects."""
    names = ", ".join(f"c{k}" for k in range(columns))
    aggs = ", ".join(f"COALESCE(array_agg(c{k}), '{{}}')" for k in range(columns))
    row = session.execute(text(f"SELECT {aggs} FROM ({sql}) AS q({names})"), params).one()
    return np.column_stack([np.asarray(v, dtype=np.int64) for v in row]).reshape(-1, columns)


def cell_counts(session: Session, win: Window) -> tuple[list[int], list[int], list[int]]:
    """Incidents per non-empty cell ``(i, j)``, sorted by ``(i, j)``."""
    where, params = win.where()
    rows = _arrays(session, f"SELECT a.cell_i, a.cell_j, sum(a.incidents) FROM {TABLE} a WHERE {where} "
                            "GROUP BY a.cell_i, a.cell_j ORDER BY a.cell_i, a.cell_j", params, 3)
    return rows[:, 0].tolist(), rows[:, 1].tolist(), rows[:, 2].tolist()


def month_cell_counts(session: Session, win: Window) -> np.ndarray:
    """Rows ``(months since year 0, i, j, n)``, one per non-empty (month, cell).

    Without harm or source filters each (month, cell) is one all-categories row already; with them the
    rows of the categories asked for are added up here."""
    where, params = win.where()
    rows = _arrays(session, "SELECT (extract(year FROM a.month) * 12 + extract(month FROM a.month) - 1)::int, "
                            f"a.cell_i, a.cell_j, a.incidents FROM {TABLE} a WHERE {where}", params, 4)
    if not (win.harm_categories or win.sources) or rows.shape[0] == 0:
        return rows
    keys, inverse = np.unique(rows[:, :3], axis=0, return_inverse=True)
    sums = np.bincount(inverse.ravel(), weights=rows[:, 3], minlength=len(keys)).astype(np.int64)
    return np.column_stack([keys, sums])


def month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def consecutive_months(step_starts: Sequence[datetime]) -> date | None:
    """The first month when ``step_starts`` are consecutive Europe/London month starts, else None."""
    months = []
    for moment in step_starts:
        ok, first = _month(moment)
        if not ok or first is None:
            return None
        months.append(month_index(first))
    if not months or any(b - a != 1 for a, b in itertools.pairwise(months)):
        return None
    return _month(step_starts[0])[1]


# ---- bookkeeping -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Difference:
    organisation_id: int
    cell_size: int
    harm_category: str
    source: str
    month: date
    cell_i: int
    cell_j: int
    stored: int
    counted: int


SIZES_SQL = ", ".join(f"({float(s)!r}::float8)" for s in PUBLISHED_CELL_SIZES)


def recount_sql(organisation: str) -> str:
    """What the aggregate should say for one organisation (``organisation``: a bind parameter such as
    ``:org``), counted from its incidents: the key expression of migration 0013's ``_recount`` view.

    The organisation is filtered inside the grouping: the view filtered from outside counts every
    organisation's incidents first (a filter is not pushed below ``GROUPING SETS``), and Citus runs
    ``GROUPING SETS`` only in a query routed to one shard by an equality on the organisation."""
    return f"""
        SELECT organisation_id, cell_size, COALESCE(harm_category, '{ALL}') AS harm_category,
               COALESCE(source, '{ALL}') AS source, month, cell_i, cell_j, count(*)::int AS incidents
        FROM (SELECT r.organisation_id, s.size::smallint AS cell_size,
                     date_trunc('month', r.occurred_from AT TIME ZONE 'Europe/London')::date AS month,
                     floor(ST_X(r.geom_metric) / s.size)::int AS cell_i,
                     floor(ST_Y(r.geom_metric) / s.size)::int AS cell_j, r.harm_category, r.source
              FROM incidents r CROSS JOIN (VALUES {SIZES_SQL}) AS s(size)
              WHERE r.organisation_id = {organisation}) AS k
        GROUP BY GROUPING SETS (({KEY}), (organisation_id, cell_size, month, cell_i, cell_j))"""


def _organisations(session: Session, organisation_id: int | None) -> list[tuple[int, str]]:
    return [(int(r[0]), str(r[1])) for r in session.execute(
        text("SELECT id, slug FROM organisations WHERE CAST(:org AS bigint) IS NULL OR id = :org ORDER BY slug"),
        {"org": organisation_id}).all()]


def differences(session: Session, organisation_id: int | None = None) -> list[Difference]:
    """Rows where the aggregate and a recount from the incidents disagree (none when it is current).
    One organisation at a time (on Citus each comparison is routed to that organisation's shard)."""
    found: list[Difference] = []
    for org, _ in _organisations(session, organisation_id):
        rows = session.execute(
            text(f"""
                SELECT {", ".join(f"COALESCE(s.{k}, c.{k})" for k in KEY.split(", "))},
                       COALESCE(s.incidents, 0), COALESCE(c.incidents, 0)
                FROM (SELECT * FROM {TABLE} WHERE organisation_id = :org) AS s
                FULL JOIN ({recount_sql(":org")}) AS c USING ({KEY})
                WHERE s.incidents IS DISTINCT FROM c.incidents
                ORDER BY 1, 2, 3, 4, 5, 6, 7"""),
            {"org": org}).all()
        found.extend(Difference(*r) for r in rows)
    return found


@dataclass(frozen=True)
class RebuildReport:
    organisation: str
    rows_before: int
    rows_after: int
    incidents: int
    out_of_date: int  # rows that differed from a recount before the rebuild


def rebuild(session: Session, organisation_id: int | None = None) -> list[RebuildReport]:
    """Recount the aggregate from the incidents (one organisation, or all), in the caller's transaction.

    Runs on the owner connection; incidents are locked against writes (SHARE) until the transaction ends.
    Each organisation is deleted and recounted by statements routed to its shard on Citus.
    """
    session.execute(text("LOCK TABLE incidents IN SHARE MODE"))
    reports = []
    for org_id, slug in _organisations(session, organisation_id):
        before = session.execute(text(f"SELECT count(*) FROM {TABLE} WHERE organisation_id = :o"),
                                 {"o": org_id}).scalar_one()
        stale = len(differences(session, org_id))
        session.execute(text(f"DELETE FROM {TABLE} WHERE organisation_id = :o"), {"o": org_id})
        after = session.execute(text(f"INSERT INTO {TABLE} ({KEY}, incidents) SELECT {KEY}, incidents "
                                     f"FROM ({recount_sql(':o')}) AS c ORDER BY {KEY}"),
                                {"o": org_id}).rowcount  # type: ignore[attr-defined]
        incidents = session.execute(
            text("SELECT count(*) FROM incidents WHERE organisation_id = :o"), {"o": org_id}).scalar_one()
        reports.append(RebuildReport(slug, int(before), int(after), int(incidents), stale))
    session.execute(text(f"ANALYZE {TABLE}"))
    return reports


_MAINTAINED: dict[str, bool] = {}


def maintained(session: Session) -> bool:
    """Whether this database keeps the aggregate: its triggers on ``incidents`` exist (the statement triggers
    of 0013 on one node, the row trigger of :func:`row_trigger_sql` on Citus). Without them every analysis
    counts the incidents. Asked once per database and process."""
    key = session.connection().engine.url.render_as_string(hide_password=True)
    known = _MAINTAINED.get(key)
    if known is None:
        known = _MAINTAINED[key] = bool(session.execute(text(
            "SELECT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname IN ('incident_cell_months_insert', :row) "
            "AND tgrelid = 'incidents'::regclass)"), {"row": ROW_TRIGGER}).scalar_one())
    return known


# ---- Citus: per-shard row trigger -------------------------------------------------------------------------
ROW_TRIGGER = f"{TABLE}_rows"
STATEMENT_TRIGGERS = tuple(f"{TABLE}_{verb}" for verb in ("insert", "update", "delete", "truncate"))


def _row_keys(rec: str, *extra: str) -> list[str]:
    """The six aggregate keys of one incident record (``NEW`` or ``OLD``) as ``VALUES`` rows, in key order
    (``extra`` columns appended).

    The same key expression as migration 0013's ``_keyed``: the cell is ``floor(x / size)`` in float8, the
    month the Europe/London month of ``occurred_from``."""
    month = f"date_trunc('month', {rec}.occurred_from AT TIME ZONE 'Europe/London')::date"
    rows = []
    for size in PUBLISHED_CELL_SIZES:
        cell = (f"floor(ST_X({rec}.geom_metric) / {float(size)!r}::float8)::int, "
                f"floor(ST_Y({rec}.geom_metric) / {float(size)!r}::float8)::int")
        for harm, source in ((f"{rec}.harm_category", f"{rec}.source"), (f"'{ALL}'", f"'{ALL}'")):
            rows.append(", ".join((f"({rec}.organisation_id", f"{int(size)}::smallint", f"{harm}::varchar",
                                   f"{source}::varchar", month, cell, *extra)) + ")")
    return rows


def row_trigger_sql() -> list[str]:
    """The row-level maintenance for Citus (see the module docstring): the function and the trigger.

    An edit that changes none of the key's inputs (organisation, time's month, position, category, source)
    writes nothing. A count that falls to zero is deleted by the same statement's trigger, as on one node.
    ``SECURITY DEFINER`` as 0013's functions: the service role may read the aggregate but not write it."""
    same = ("OLD.organisation_id = NEW.organisation_id AND OLD.harm_category = NEW.harm_category "
            "AND OLD.source = NEW.source AND ST_X(OLD.geom_metric) = ST_X(NEW.geom_metric) "
            "AND ST_Y(OLD.geom_metric) = ST_Y(NEW.geom_metric) "
            "AND date_trunc('month', OLD.occurred_from AT TIME ZONE 'Europe/London') "
            "= date_trunc('month', NEW.occurred_from AT TIME ZONE 'Europe/London')")
    old_keys = f"({', '.join(_row_keys('($1)'))})"

    def dynamic(statement: str) -> str:  # a format() literal: the shard's name is %1$s, the record $1
        return "'" + statement.replace("'", "''") + "'"

    subtract = dynamic(f"UPDATE %1$s AS a SET incidents = a.incidents - 1 "
                       f"WHERE a.organisation_id = ($1).organisation_id AND ({KEY}) IN {old_keys}")
    drop_zero = dynamic(f"DELETE FROM %1$s AS a WHERE a.organisation_id = ($1).organisation_id "
                        f"AND a.incidents = 0 AND ({KEY}) IN {old_keys}")
    add = dynamic(f"INSERT INTO %1$s AS a ({KEY}, incidents) VALUES {', '.join(_row_keys('($1)', '1'))} "
                  f"ON CONFLICT ({KEY}) DO UPDATE SET incidents = a.incidents + 1")
    shard = f"shard_name('{TABLE}'::regclass, get_shard_id_for_distribution_column('{TABLE}', %s))"
    # The co-located aggregate shard is written directly (it is on this worker; Citus lets its own
    # connections change shards): going through the distributed table cost a Citus plan per row, and a
    # police.uk import of 50,000 rows ran at 160 rows/s.
    function = f"""
        CREATE OR REPLACE FUNCTION {TABLE}_on_row() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $fn$
        BEGIN
            IF TG_OP = 'UPDATE' AND {same} THEN
                RETURN NULL;
            END IF;
            IF TG_OP IN ('UPDATE', 'DELETE') THEN
                EXECUTE format({subtract}, {shard % "OLD.organisation_id"}) USING OLD;
                EXECUTE format({drop_zero}, {shard % "OLD.organisation_id"}) USING OLD;
            END IF;
            IF TG_OP IN ('UPDATE', 'INSERT') THEN
                EXECUTE format({add}, {shard % "NEW.organisation_id"}) USING NEW;
            END IF;
            RETURN NULL;
        END $fn$"""
    trigger = (f"CREATE TRIGGER {ROW_TRIGGER} AFTER INSERT OR UPDATE OR DELETE ON incidents "
               f"FOR EACH ROW EXECUTE FUNCTION {TABLE}_on_row()")
    return [function, f"REVOKE ALL ON FUNCTION {TABLE}_on_row() FROM PUBLIC", trigger]
