"""SQL for the administration pages (issue 14): a user's role, the audit log's pages and actions, the
organisation's name, service area and street network size. Users, tokens and the audit record itself
stay in app.db.accounts and app.db.audit."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import DataError, InternalError
from sqlalchemy.orm import Session

from app.db.audit import AuditSearch
from app.exceptions import InvalidInput, NotFound
from geo.vocabulary import ROLES


def user(session: Session, user_id: int) -> dict[str, Any]:
    row = session.execute(text("SELECT id, email, role, created_at, disabled_at FROM users WHERE id = :id"),
                          {"id": user_id}).mappings().first()
    if row is None:
        raise NotFound(f"no user {user_id} in your organisation", field="user_id")
    return dict(row)


def set_role(session: Session, user_id: int, role: str) -> None:
    if role not in ROLES:
        raise InvalidInput(f"unknown role {role!r}; expected one of: {', '.join(ROLES)}", field="role")
    changed = session.execute(text("UPDATE users SET role = :role WHERE id = :id"), {"id": user_id, "role": role})
    if changed.rowcount == 0:  # type: ignore[attr-defined]
        raise NotFound(f"no user {user_id} in your organisation", field="user_id")


def admins_left(session: Session, except_user: int) -> int:
    """Enabled admins other than this user (an organisation must keep one)."""
    return int(session.execute(text(
        "SELECT count(*) FROM users WHERE role = 'admin' AND disabled_at IS NULL AND id <> :id"),
        {"id": except_user}).scalar_one())


def audit_page(session: Session, search: AuditSearch) -> tuple[list[dict[str, Any]], int]:
    """Events of the organisation (row-level security), newest first, with the user's e-mail; and the total."""
    where, params = search.where("a")
    rows = [dict(r) for r in session.execute(text(
        "SELECT a.id, a.at, a.user_id, u.email, a.action, a.resource, a.request_id, a.client, a.detail "
        "FROM audit_events a LEFT JOIN users u ON u.id = a.user_id "
        f"{where} ORDER BY a.at DESC, a.id DESC LIMIT :lim OFFSET :off"),
        {**params, "lim": search.limit, "off": search.offset}).mappings()]
    total = int(session.execute(text(f"SELECT count(*) FROM audit_events a {where}"), params).scalar_one())
    return rows, total


def audit_actions(session: Session) -> list[str]:
    return [str(a) for a in session.execute(text("SELECT DISTINCT action FROM audit_events ORDER BY action")).scalars()]


def organisation(session: Session, organisation_id: int) -> dict[str, Any]:
    row = session.execute(text(
        "SELECT id, slug, name, ST_AsGeoJSON(service_area, 7) AS service_area, suppress_max, round_to, "
        "retention_days, "
        "ST_Area(service_area::geography) AS area_m2, "
        "(SELECT count(*) FROM street_edges) AS street_edges, "
        "(SELECT COALESCE(sum(length_m), 0) FROM street_edges) AS street_length_m "
        "FROM organisations WHERE id = :id"), {"id": organisation_id}).mappings().first()
    if row is None:
        raise NotFound("no such organisation", field="organisation")
    return dict(row)


def update_organisation(session: Session, organisation_id: int, name: str, service_area_geojson: str | None) -> None:
    """Change the name and, when given, the service area (a GeoJSON Polygon or MultiPolygon, EPSG:4326)."""
    try:
        with session.begin_nested():
            session.execute(text(
                "UPDATE organisations SET name = :name, service_area = CASE WHEN CAST(:area AS text) IS NULL "
                "THEN service_area ELSE ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON(CAST(:area AS text)), 4326)) END "
                "WHERE id = :id"), {"id": organisation_id, "name": name, "area": service_area_geojson})
    except (DataError, InternalError) as exc:
        raise InvalidInput("the service area is not a polygon PostGIS can read", field="service_area") from exc


def update_thresholds(session: Session, organisation_id: int, *, suppress_max: int | None, round_to: int | None,
                      retention_days: int | None) -> None:
    """The organisation's own disclosure thresholds and retention period (None: the deployment's); the
    caller has checked them against the deployment's safe bounds."""
    session.execute(text(
        "UPDATE organisations SET suppress_max = :suppress_max, round_to = :round_to, "
        "retention_days = :retention_days WHERE id = :id"),
        {"id": organisation_id, "suppress_max": suppress_max, "round_to": round_to, "retention_days": retention_days})
