"""All SQL for the domain resources. Routers call these functions; nothing here speaks HTTP.

One generic implementation serves every resource (list with filters and paging, get, insert, update,
delete); a :class:`ResourceSpec` says what differs. GeoJSON is built by PostGIS (``ST_AsGeoJSON``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shapely.geometry import box, shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.db.analysis import record_time_sql
from app.exceptions import Conflict, InvalidInput, NotFound
from geo.privacy import FREE_TEXT_FIELDS

__all__ = ["FREE_TEXT_FIELDS", "ListQuery", "ResourceSpec"]  # FREE_TEXT_FIELDS: what a panel never sees


@dataclass(frozen=True)
class ListQuery:
    bbox: tuple[float, float, float, float] | None = None
    interval: tuple[datetime | None, datetime | None] | None = None
    equals: Mapping[str, Sequence[Any]] = field(default_factory=dict)
    limit: int = 100
    offset: int = 0
    extra_where: tuple[str, ...] = ()
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ResourceSpec:
    """What one resource's SQL needs: its table, the SELECT that shapes a feature, what may be written."""

    name: str
    table: str
    select_sql: str  # a SELECT with alias ``r`` producing id, geometry (json) and the property columns
    writable: tuple[str, ...]
    geometry_column: str | None  # own geometry column, written from GeoJSON; None if borrowed
    geometry_sql: str  # expression used for bbox filtering
    time_range: tuple[str, str] | None  # (start, exclusive end) SQL expressions for the datetime filter
    filterable: Mapping[str, str]  # query parameter -> SQL expression
    array_columns: tuple[str, ...] = ()
    json_columns: tuple[str, ...] = ()
    conflicts: Mapping[str, tuple[str, str]] = field(default_factory=dict)  # constraint -> (field, message)
    order_by: str = "r.id"
    vocabularies: Mapping[str, Sequence[str]] = field(default_factory=dict)  # filter -> allowed values
    required: tuple[str, ...] = ()  # columns a change may not set to null
    before_delete: tuple[str, ...] = ()  # SQL run (with :id and :org) before a row is deleted
    open_end_is_instant: bool = False  # a record without an end happened at its start (else: ongoing)


def _constraint(exc: IntegrityError) -> str:
    diag = getattr(exc.orig, "diag", None)
    name = str(getattr(diag, "constraint_name", "") or "")
    if not name:  # Citus passes a worker's error on as its message alone
        found = re.search(r'constraint "([^"]+)"', str(exc.orig))
        name = found.group(1) if found else ""
    # On Citus the shard raises the error: its constraint carries the shard id ("designations_no_overlap_102211").
    return re.sub(r"_\d{6,}$", "", name)


def _column(exc: IntegrityError) -> str:
    diag = getattr(exc.orig, "diag", None)
    return str(getattr(diag, "column_name", "") or "")


def _raise_integrity(spec: ResourceSpec, exc: IntegrityError) -> None:
    name = _constraint(exc)
    if name in spec.conflicts:
        fld, message = spec.conflicts[name]
        raise Conflict(message, field=fld) from exc
    if name.endswith("_fkey"):
        column = name.removeprefix(f"{spec.table}_").removesuffix("_fkey")
        raise InvalidInput(f"{column}: no such record in your organisation", field=column) from exc
    column = _column(exc) or name
    raise InvalidInput(f"the record breaks a rule of the data model ({column})", field=column) from exc


def _feature(row: Mapping[str, Any], spec: ResourceSpec) -> dict[str, Any]:
    props = {k: v for k, v in row.items() if k not in ("id", "geometry") and not k.startswith("_")}
    geometry = row.get("geometry")
    if isinstance(geometry, str):
        geometry = json.loads(geometry)
    return {"type": "Feature", "id": row["id"], "geometry": geometry, "properties": props}


def scoped_organisation(session: Session) -> int | None:
    """The organisation the session's transaction is scoped to (app.db.session), if any.

    Queries name it as well as row-level security enforcing it: on Citus a bound ``organisation_id`` routes
    a query to the one shard holding the organisation's rows, where a filter on ``current_setting`` would
    be sent to every shard (issue 19).
    """
    value = session.info.get("organisation_id")
    return None if value is None else int(value)


def _org_clause(session: Session, column: str, params: dict[str, Any]) -> list[str]:
    organisation_id = scoped_organisation(session)
    if organisation_id is None:
        return []
    params["org"] = organisation_id
    return [f"{column} = :org"]


def _filtered(session: Session, spec: ResourceSpec, query: ListQuery) -> tuple[str, dict[str, Any]]:
    params: dict[str, Any] = dict(query.params)
    where: list[str] = _org_clause(session, "r._org", params)
    if query.bbox is not None:
        # The explicit && lets PostgreSQL use the GiST index under row-level security (migration 0004
        # marks the operator LEAKPROOF; ST_Intersects alone is not, so it would scan every row).
        envelope = "ST_MakeEnvelope(:bx0, :by0, :bx1, :by1, 4326)"
        where.append(f"{spec.geometry_sql} && {envelope} AND ST_Intersects({spec.geometry_sql}, {envelope})")
        params.update(zip(("bx0", "by0", "bx1", "by1"), query.bbox, strict=True))
    if query.interval is not None and spec.time_range is not None:
        # Overlap of the record's [start, end) with the requested interval (the one rule, app.db.analysis).
        clauses, more = record_time_sql(*spec.time_range, *query.interval,
                                        open_end_is_instant=spec.open_end_is_instant)
        where.extend(clauses)
        params.update(more)
    for i, (name, values) in enumerate(query.equals.items()):
        allowed = spec.vocabularies.get(name)
        for value in values:
            if allowed is not None and value not in allowed:
                raise InvalidInput(f"{name}: unknown value {value!r}; expected one of: {', '.join(allowed)}",
                                   field=name)
        if values:
            where.append(f"{spec.filterable[name]} = ANY(:eq{i})")
            params[f"eq{i}"] = list(values)
    where.extend(query.extra_where)
    sql = f"SELECT * FROM ({spec.select_sql}) AS r"
    if where:
        sql += " WHERE " + " AND ".join(where)
    return sql, params


def list_features(session: Session, spec: ResourceSpec, query: ListQuery) -> tuple[list[dict[str, Any]], bool]:
    sql, params = _filtered(session, spec, query)
    sql += f" ORDER BY {spec.order_by} LIMIT :lim OFFSET :off"
    params.update(lim=query.limit + 1, off=query.offset)
    rows = [dict(r) for r in session.execute(text(sql), params).mappings()]
    has_more = len(rows) > query.limit
    return [_feature(r, spec) for r in rows[: query.limit]], has_more


def count_features(session: Session, spec: ResourceSpec, query: ListQuery) -> int:
    sql, params = _filtered(session, spec, query)
    return int(session.execute(text(f"SELECT count(*) FROM ({sql}) AS c"), params).scalar_one())


def get_feature(session: Session, spec: ResourceSpec, record_id: int) -> dict[str, Any]:
    params: dict[str, Any] = {"id": record_id}
    where = " AND ".join([*_org_clause(session, "r._org", params), "r.id = :id"])
    row = session.execute(text(f"SELECT * FROM ({spec.select_sql}) AS r WHERE {where}"), params).mappings().first()
    if row is None:
        raise NotFound(f"no {spec.name} with id {record_id} in your organisation")
    return _feature(dict(row), spec)


def refuse_nulls(spec: ResourceSpec, values: Mapping[str, Any], prefix: str = "") -> None:
    """A partial update may change a required value, never clear it."""
    for name in spec.required:
        if name in values and values[name] is None:
            raise InvalidInput(f"{prefix}{name}: cannot be null", field=f"{prefix}{name}")


def _values_sql(spec: ResourceSpec, values: Mapping[str, Any]) -> tuple[list[str], list[str], dict[str, Any]]:
    columns: list[str] = []
    exprs: list[str] = []
    params: dict[str, Any] = {}
    for name, value in values.items():
        if name not in spec.writable:
            raise InvalidInput(f"{name} cannot be written", field=name)
        columns.append(name)
        if name in spec.json_columns:
            exprs.append(f"CAST(:{name} AS jsonb)")
            params[name] = json.dumps(value, default=str)
        elif name in spec.array_columns:
            exprs.append(f"CAST(:{name} AS text[])")
            params[name] = list(value or [])
        else:
            exprs.append(f":{name}")
            params[name] = value
    return columns, exprs, params


def insert(
    session: Session, spec: ResourceSpec, organisation_id: int, values: Mapping[str, Any],
    geometry: BaseGeometry | None = None,
) -> int:
    columns, exprs, params = _values_sql(spec, values)
    columns.append("organisation_id")
    exprs.append(":organisation_id")
    params["organisation_id"] = organisation_id
    if spec.geometry_column and geometry is not None:
        columns.append(spec.geometry_column)
        exprs.append("ST_SetSRID(ST_GeomFromWKB(:geom_wkb), 4326)")
        params["geom_wkb"] = geometry.wkb
    sql = f"INSERT INTO {spec.table} ({', '.join(columns)}) VALUES ({', '.join(exprs)}) RETURNING id"
    try:
        with session.begin_nested():
            return int(session.execute(text(sql), params).scalar_one())
    except IntegrityError as exc:
        _raise_integrity(spec, exc)
        raise


def update(
    session: Session, spec: ResourceSpec, record_id: int, values: Mapping[str, Any],
    geometry: BaseGeometry | None = None,
) -> None:
    columns, exprs, params = _values_sql(spec, values)
    assignments = [f"{c} = {e}" for c, e in zip(columns, exprs, strict=True)]
    if spec.geometry_column and geometry is not None:
        assignments.append(f"{spec.geometry_column} = ST_SetSRID(ST_GeomFromWKB(:geom_wkb), 4326)")
        params["geom_wkb"] = geometry.wkb
    if spec.table == "places":
        assignments.append("updated_at = now()")
    if not assignments:
        raise InvalidInput("nothing to change", field="properties")
    params["id"] = record_id
    where = " AND ".join([*_org_clause(session, "organisation_id", params), "id = :id"])
    try:
        with session.begin_nested():
            result = session.execute(
                text(f"UPDATE {spec.table} SET {', '.join(assignments)} WHERE {where} RETURNING id"), params
            )
            if result.first() is None:
                raise NotFound(f"no {spec.name} with id {record_id} in your organisation")
    except IntegrityError as exc:
        _raise_integrity(spec, exc)
        raise


def delete(session: Session, spec: ResourceSpec, record_id: int) -> None:
    params: dict[str, Any] = {"id": record_id}
    clause = _org_clause(session, "organisation_id", params)
    for statement in spec.before_delete:
        if not clause:  # no scope bound (an owner session): the statements' :org means "any organisation"
            statement = statement.replace("organisation_id = :org AND ", "")
        session.execute(text(statement), params)
    where = " AND ".join([*clause, "id = :id"])
    result = session.execute(text(f"DELETE FROM {spec.table} WHERE {where} RETURNING id"), params)
    if result.first() is None:
        raise NotFound(f"no {spec.name} with id {record_id} in your organisation")


def service_area(session: Session, default_bounds: tuple[float, float, float, float]) -> BaseGeometry:
    """The signed-in organisation's service area, else the default bounds."""
    geojson = session.execute(text(
        "SELECT ST_AsGeoJSON(service_area) FROM organisations "
        "WHERE id = NULLIF(current_setting('contextmap.organisation_id', true), '')::bigint"
    )).scalar()
    return shape(json.loads(geojson)) if geojson else box(*default_bounds)


def place_exists(session: Session, place_id: int) -> bool:
    params: dict[str, Any] = {"id": place_id}
    where = " AND ".join([*_org_clause(session, "organisation_id", params), "id = :id"])
    return session.execute(text(f"SELECT 1 FROM places WHERE {where}"), params).first() is not None


def nearest_place_within(session: Session, geometry: BaseGeometry, distance_m: float, srid: int) -> int | None:
    """The nearest place to a point within ``distance_m`` metres, using the indexed metric column."""
    params: dict[str, Any] = {"wkb": geometry.wkb, "d": distance_m}
    where = " AND ".join(["true", *_org_clause(session, "places.organisation_id", params)])
    return session.execute(
        text(
            f"""
            WITH p AS (SELECT ST_Transform(ST_SetSRID(ST_GeomFromWKB(:wkb), 4326), {int(srid)}) AS g)
            SELECT places.id FROM places, p
            -- && (LEAKPROOF, migration 0004) lets the index work under row-level security.
            WHERE {where} AND places.geom_metric && ST_Expand(p.g, :d) AND ST_DWithin(places.geom_metric, p.g, :d)
            ORDER BY places.geom_metric <-> p.g, places.id LIMIT 1
            """
        ),
        params,
    ).scalar()


