"""Write the demo scenario (``geo.demo``) into the database through the owner connection."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from uuid import NAMESPACE_URL, uuid5

from shapely.geometry import LineString, Point, Polygon, mapping
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.db import accounts, safety_maps
from app.db.street_network import StreetLine, load_street_edges
from app.settings import Settings
from geo.demo import DemoScenario, build_demo_scenario, demo_streets
from geo.grid import PUBLISHED_CELL_SIZES


@dataclass(frozen=True)
class DemoLogin:
    role: str
    email: str
    password: str
    token: str


def demo_loaded(session: Session, slug: str = "demo-town") -> bool:
    return session.execute(text("SELECT 1 FROM organisations WHERE slug = :s"), {"s": slug}).first() is not None


def remove_demo(session: Session, slug: str = "demo-town") -> None:
    session.execute(text("DELETE FROM organisations WHERE slug = :s"), {"s": slug})


def load_demo(session: Session, settings: Settings, scenario: DemoScenario | None = None) -> list[DemoLogin]:
    """Load the scenario as its own organisation; returns the demo logins (with fresh API tokens)."""
    scenario = scenario or build_demo_scenario()
    org = accounts.add_organisation(
        session, scenario.organisation_slug, scenario.organisation_name, Polygon(scenario.service_area).wkt
    )
    place_ids: dict[str, int] = {}
    for place in scenario.places:
        geometry = Polygon(place.polygon) if place.polygon else Point(place.lon, place.lat)
        place_ids[place.key] = session.execute(
            text("INSERT INTO places (organisation_id, name, kind, address, opening_hours, place_manager, geom) "
                 "VALUES (:org, :name, :kind, :address, :hours, :manager, ST_GeomFromText(:wkt, 4326)) RETURNING id"),
            {"org": org, "name": place.name, "kind": place.kind, "address": place.address,
             "hours": place.opening_hours, "manager": place.place_manager, "wkt": geometry.wkt},
        ).scalar_one()
    for d in scenario.designations:
        session.execute(
            text("INSERT INTO designations (organisation_id, place_id, kind, valid_from, valid_to, level, reason, "
                 "review_by, scheme, age_min, age_max, help_offered, accessibility, verified_on) VALUES "
                 "(:org, :place, :kind, :vf, :vt, :level, :reason, :review, :scheme, :amin, :amax, "
                 "CAST(:help AS text[]), :access, :verified)"),
            {"org": org, "place": place_ids[d.place_key], "kind": d.kind, "vf": d.valid_from, "vt": d.valid_to,
             "level": d.level, "reason": d.reason, "review": d.review_by, "scheme": d.scheme,
             "amin": d.age_min, "amax": d.age_max, "help": list(d.help_offered),
             "access": d.accessibility, "verified": d.verified_on},
        )
    for g in scenario.guardians:
        trainings = [{"kind": kind, "completed_on": done.isoformat()} for kind, done in g.trainings]
        session.execute(
            text("INSERT INTO guardians (organisation_id, place_id, role, description, trainings, hours) "
                 "VALUES (:org, :place, :role, :description, CAST(:trainings AS jsonb), :hours)"),
            {"org": org, "place": place_ids[g.place_key], "role": g.role, "description": g.description,
             "trainings": json.dumps(trainings), "hours": g.hours},
        )
    for v in scenario.interventions:
        session.execute(
            text("INSERT INTO interventions (organisation_id, place_id, kind, description, owning_partner, "
                 "partners, starts_on, ends_on) VALUES (:org, :place, :kind, :description, :owner, "
                 "CAST(:partners AS text[]), :starts, :ends)"),
            {"org": org, "place": place_ids[v.place_key], "kind": v.kind, "description": v.description,
             "owner": v.owning_partner, "partners": list(v.partners), "starts": v.starts_on, "ends": v.ends_on},
        )
    session.execute(
        text("INSERT INTO incidents (organisation_id, occurred_from, occurred_to, harm_category, source_category, "
             "source, source_ref, location_precision, young_people, description, place_id, place_link, geom) "
             "VALUES (:org, :of, :ot, :harm, :scat, :source, :ref, :precision, :yp, :description, :place, "
             ":link, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))"),
        [
            {"org": org, "of": i.occurred_from, "ot": i.occurred_to, "harm": i.harm_category,
             "scat": i.source_category, "source": i.source, "ref": i.source_ref,
             "precision": i.location_precision, "yp": i.young_people, "description": i.description,
             "place": place_ids[i.place_key] if i.place_key else None,
             "link": "explicit" if i.place_key else None, "lon": i.lon, "lat": i.lat}
            for i in scenario.incidents
        ],
    )
    link_unlinked_incidents(session, org, settings.auto_link_distance_m)
    load_safety_maps(session, org, scenario, place_ids, settings.analysis_srid)
    # The town's streets: walking distances, and the maps' background when there is no internet.
    load_street_edges(session, org, [StreetLine(LineString(coords), name) for name, coords in demo_streets()])
    logins = []
    for user in scenario.users:
        user_id = accounts.add_user(session, org, user.email, user.role, user.password)
        issued = accounts.issue_token(session, org, user_id, "api", timedelta(days=settings.token_ttl_days))
        logins.append(DemoLogin(user.role, user.email, user.password, issued.token))
    return logins


def load_safety_maps(session: Session, organisation_id: int, scenario: DemoScenario, place_ids: dict[str, int],
                     srid: int) -> None:
    """The scenario's agreed safety maps as a finished session keeps them (issue 21): marks snapped to the
    published squares each marked place touches, the month and age band, places named as safe, suggestions."""
    size = int(PUBLISHED_CELL_SIZES[0])
    where = {p.key: json.dumps(mapping(Polygon(p.polygon) if p.polygon else Point(p.lon, p.lat)))
             for p in scenario.places}
    cells: dict[str, list[safety_maps.Cell]] = {}
    for number, kept in enumerate(scenario.safety_maps):
        submission = uuid5(NAMESPACE_URL, f"contextmap-demo-safety-map-{number}")
        map_id = safety_maps.insert_map(session, organisation_id, kept.month, kept.age_band, submission)
        if map_id is None:
            continue
        for key, _, _ in kept.marks:
            if key not in cells:
                cells[key] = safety_maps.cells_of_geometry(session, where[key], srid, size, 64)
        safety_maps.insert_marks(session, organisation_id, map_id, size,
                                 [(cell, rating, phrase) for key, rating, phrase in kept.marks for cell in cells[key]])
        safety_maps.insert_safe_places(session, organisation_id, map_id, [place_ids[k] for k in kept.safe_place_keys])
    for suggestion in scenario.place_suggestions:
        point = json.dumps({"type": "Point", "coordinates": [suggestion.lon, suggestion.lat]})
        cell = safety_maps.cells_of_geometry(session, point, srid, size, 1)[0]
        safety_maps.insert_suggestions(session, organisation_id, suggestion.month, size, [(suggestion.name, cell)])


def link_unlinked_incidents(session: Session, organisation_id: int, distance_m: float) -> int:
    """Link each unlinked incident to its nearest place within ``distance_m`` (one set-based UPDATE)."""
    result = session.execute(
        text(
            """
            UPDATE incidents i SET place_id = nearest.id, place_link = 'auto'
            FROM incidents src
            CROSS JOIN LATERAL (
                SELECT p.id FROM places p
                WHERE p.organisation_id = src.organisation_id AND ST_DWithin(p.geom_metric, src.geom_metric, :d)
                ORDER BY p.geom_metric <-> src.geom_metric, p.id LIMIT 1
            ) AS nearest
            -- (organisation_id, id): the key on Citus too, where the join must hold the distribution column
            WHERE i.organisation_id = :org AND src.organisation_id = :org AND i.id = src.id AND src.place_id IS NULL
            """
        ),
        {"org": organisation_id, "d": distance_m},
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
