"""The displacement's per-place counts: incidents within the place radius OR linked to the place, once each.

The query was rewritten from one OR join (a nested loop over places x incidents) into two disjoint parts;
this checks it against the definition on hand-made data, including the cases the split could get wrong:
linked and within the radius (counted once), linked but beyond the radius, within the radius of two places.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text

from app.db import analysis as db
from tests.conftest import make_org

SRID = 27700
SITE = (510_000.0, 220_000.0)  # British National Grid, near Luton


def _place(session: Any, org: int, name: str, x: float, y: float) -> int:
    return int(session.execute(text(
        "INSERT INTO places (organisation_id, name, kind, geom) VALUES (:o, :n, 'shop', "
        "ST_Transform(ST_SetSRID(ST_MakePoint(:x, :y), 27700), 4326)) RETURNING id"),
        {"o": org, "n": name, "x": x, "y": y}).scalar_one())


def _incident(session: Any, org: int, x: float, y: float, when: str, place_id: int | None = None) -> None:
    session.execute(text(
        "INSERT INTO incidents (organisation_id, occurred_from, harm_category, source, location_precision, geom, "
        "place_id, place_link) VALUES (:o, :t, 'drugs', 'manual', 'exact', "
        "ST_Transform(ST_SetSRID(ST_MakePoint(:x, :y), 27700), 4326), :p, "
        "CASE WHEN CAST(:p AS bigint) IS NULL THEN NULL ELSE 'explicit' END)"),
        {"o": org, "t": when, "x": x, "y": y, "p": place_id})


def test_place_counts_are_within_radius_or_linked_each_incident_once(database, settings):
    org = make_org(database, settings).id
    x, y = SITE
    before, after = "2025-03-01T12:00:00Z", "2025-09-01T12:00:00Z"
    with database.owner_session() as session:
        site = _place(session, org, "Site", x, y)
        intervention = int(session.execute(text(
            "INSERT INTO interventions (organisation_id, place_id, kind, description, owning_partner, starts_on) "
            "VALUES (:o, :p, 'disruption', 'WiFi off', 'Council', '2025-06-01') RETURNING id"),
            {"o": org, "p": site}).scalar_one())
        north = _place(session, org, "North", x, y + 600)
        _place(session, org, "East", x + 650, y)
        _incident(session, org, x, y + 620, after)                   # North: within the radius
        _incident(session, org, x, y + 590, after, place_id=north)   # North: within and linked: once
        _incident(session, org, x + 300, y + 300, after, place_id=north)  # North: linked, beyond the radius
        _incident(session, org, x, y + 610, before)                  # North: before
        _incident(session, org, x + 640, y + 40, after)              # East only
        _incident(session, org, x + 325, y + 300, before)            # neither (beyond both radii)
        _incident(session, org, x, y + 605, "2024-01-01T00:00:00Z")  # North, but outside both windows
    grid = db.Grid("hexagon", 250.0, SRID)
    windows = db.Windows((datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 6, 1, tzinfo=UTC)),
                         (datetime(2025, 6, 1, tzinfo=UTC), datetime(2025, 12, 1, tzinfo=UTC)))
    spec = db.AreaSpec(100.0, False)
    with database.tenant_session(org) as session, session.begin():  # as the service: the organisation bound
        areas = db.displacement_areas(session, SRID, intervention, spec, 200.0, None, None, spec)
        local = db.displacement_local_counts(session, grid, intervention, areas, windows, db.IncidentFilter(),
                                             search_distance=1000.0, place_radius=50.0)
    counts = {p["name"]: (p["before"], p["after"]) for p in local.places}
    assert counts == {"North": (1, 3), "East": (0, 1)}
