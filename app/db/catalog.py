"""The live schema as PostgreSQL's catalogue describes it: tables, columns, grants and row-level-security
policies. Read by the data inventory (:mod:`app.governance.schema`), run as the owner (it sees every table)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

# Tables of extensions (PostGIS's spatial_ref_sys) are not ours: pg_depend marks them deptype 'e'.
_COLUMNS_SQL = """
    SELECT c.relname AS table_name, a.attname AS column_name, format_type(a.atttypid, a.atttypmod) AS type,
           a.attgenerated <> '' AS generated
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
    WHERE n.nspname = :schema AND c.relkind IN ('r', 'p')
      AND NOT EXISTS (SELECT 1 FROM pg_depend d
                      WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
    ORDER BY c.relname, a.attnum
"""
_TABLES_SQL = """
    SELECT c.relname AS table_name, c.relrowsecurity AS rls,
           CASE WHEN r.oid IS NULL THEN ARRAY[]::text[] ELSE ARRAY(
               SELECT p FROM unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE']) AS p
               WHERE has_table_privilege(r.oid, c.oid, p)) END AS privileges,
           EXISTS (SELECT 1 FROM pg_constraint k
                   JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = ANY (k.conkey)
                   WHERE k.conrelid = c.oid AND k.contype = 'f' AND k.confdeltype = 'c'
                     AND k.confrelid = to_regclass(quote_ident(:schema) || '.organisations')
                     AND a.attname = 'organisation_id')
               AS deleted_with_organisation
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_roles r ON r.rolname = :role
    WHERE n.nspname = :schema AND c.relkind IN ('r', 'p')
"""
_POLICIES_SQL = """
    SELECT tablename AS table_name, policyname AS name, cmd, roles::text[] AS roles, qual, with_check
    FROM pg_policies WHERE schemaname = :schema ORDER BY tablename, policyname
"""


def columns(session: Session, schema: str) -> Sequence[Any]:
    """``table_name, column_name, type, generated`` for every column of the schema's own tables."""
    return session.execute(text(_COLUMNS_SQL), {"schema": schema}).all()


def tables(session: Session, schema: str, role: str) -> Sequence[Any]:
    """``table_name, rls, privileges`` (of ``role``) ``, deleted_with_organisation`` per table."""
    return session.execute(text(_TABLES_SQL), {"schema": schema, "role": role}).all()


def policies(session: Session, schema: str) -> Sequence[Any]:
    """``table_name, name, cmd, roles, qual, with_check`` for every row-level-security policy."""
    return session.execute(text(_POLICIES_SQL), {"schema": schema}).all()


def revision(session: Session, schema: str) -> str | None:
    """The Alembic revision the schema is at."""
    value = session.execute(text(f'SELECT version_num FROM "{schema}".alembic_version')).scalar()
    return None if value is None else str(value)


def postgis_version(session: Session) -> str | None:
    """The PostGIS library version: the health check's proof that the database answers queries."""
    value = session.execute(text("SELECT postgis_lib_version()")).scalar()
    return None if value is None else str(value)
