"""A panel member receives no incident coordinates, no free text and no count from 1 to 7 — from any route.

Built from the application's own route table: every GET route is called as the demo's panel user (path
parameters filled from the demo data, every value of a ``Literal`` parameter tried), and every successful
answer is searched. A new route that leaks fails here without anyone having to remember to add it.
"""

from __future__ import annotations

import csv
import io
import json
import re
import typing
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text

from app.main import api_routes
from app.policy import gates_of

# Query parameters a route needs before it can answer with data.
REQUIRED_QUERY = {"lon": "-0.4170", "lat": "51.8790",
                  # /places/flag (issue 14): a hot-spot cell and its analysis; the panel is refused it.
                  "cell": "0,0", "size": "250", "start": "2025-01-01", "end": "2025-12-31"}
FREE_TEXT_MIN_LENGTH = 12
COUNT_KEY = re.compile(r"count|incident|total", re.IGNORECASE)
# Counts of features or of adults present, not of incidents or young people.
NOT_INCIDENT_COUNTS = {"numberReturned", "numberMatched", "present_count"}
PAIR = re.compile(r"(-?\d{1,3}\.\d{5,})\s*,\s*(-?\d{1,3}\.\d{5,})")


@pytest.fixture(scope="module")
def demo_facts(demo: Any, database: Any, client: Any, demo_headers: dict[str, dict[str, str]]) -> dict[str, Any]:
    with database.owner_session() as session:
        org = session.execute(text("SELECT id FROM organisations WHERE slug = 'demo-town'")).scalar_one()
        scoped = {"org": org}
        points = session.execute(text(
            "SELECT round(ST_X(geom)::numeric, 5), round(ST_Y(geom)::numeric, 5) FROM incidents "
            "WHERE organisation_id = :org"), scoped).all()
        texts = session.execute(text(
            "SELECT reason FROM designations WHERE organisation_id = :org AND reason IS NOT NULL "
            "UNION SELECT description FROM incidents WHERE organisation_id = :org AND description IS NOT NULL "
            "UNION SELECT description FROM guardians WHERE organisation_id = :org AND description IS NOT NULL "
            "UNION SELECT description FROM interventions WHERE organisation_id = :org "
            "UNION SELECT notes FROM places WHERE organisation_id = :org AND notes IS NOT NULL"), scoped).scalars()
        # A place manager is a role label shown to everyone; the demo reuses some as guardian text.
        managers = session.execute(text(
            "SELECT place_manager FROM places WHERE organisation_id = :org AND place_manager IS NOT NULL"),
            scoped).scalars().all()
        texts = [t for t in texts if not any(t.lower() in m.lower() for m in managers)]
        ids = {
            name: session.execute(text(f"SELECT min(id) FROM {table} WHERE organisation_id = :org"), scoped).scalar()
            for name, table in (("place_id", "places"), ("designation_id", "designations"),
                                ("guardian_id", "guardians"), ("intervention_id", "interventions"),
                                ("incident_id", "incidents"), ("user_id", "users"))
        }
        ids["place_id"] = session.execute(text(
            "SELECT id FROM places WHERE organisation_id = :org AND kind = 'library'"), scoped).scalar()
        ids["intervention_id"] = session.execute(text(
            "SELECT id FROM interventions WHERE organisation_id = :org AND starts_on = '2025-09-01'"), scoped).scalar()
    assessment = client.post("/api/assessments", json={
        "place_id": ids["place_id"], "assessed_on": "2026-06-10",
        "young_people": {"rating": "amber", "notes": "Groups of young people after school, some very young"},
        "guardianship": {"rating": "green", "notes": "Trained staff on the teen floor"},
        "environment": {"rating": "amber", "notes": "Poor sight lines by the back stairs"},
    }, headers=demo_headers["admin"])
    if assessment.status_code == 201:
        ids["assessment_id"] = assessment.json()["id"]
        texts = [*texts, "Groups of young people after school, some very young"]
    return {"points": {(float(x), float(y)) for x, y in points}, "ids": ids,
            "texts": [t for t in texts if len(t) >= FREE_TEXT_MIN_LENGTH]}


def _literal_values(route: Any, name: str) -> list[str] | None:
    for param in route.dependant.path_params:
        if param.name == name and typing.get_origin(param.field_info.annotation) is typing.Literal:
            return [str(v) for v in typing.get_args(param.field_info.annotation)]
    return None


def _urls(route: Any, ids: dict[str, Any], client: Any, admin: dict[str, str]) -> Iterator[str]:
    names = re.findall(r"\{(\w+)\}", route.path)
    options: list[list[tuple[str, str]]] = []
    for name in names:
        literal = _literal_values(route, name)
        if literal is not None:
            options.append([(name, v) for v in literal])
        elif name == "collection_id":
            collections = client.get("/ogc/collections", headers=admin).json()["collections"]
            options.append([(name, c["id"]) for c in collections])
        elif name in ("z", "x", "y"):
            # The demo town (Luton) at zoom 14.
            options.append([(name, {"z": "14", "x": "8173", "y": "5431"}[name])])
        elif name == "item_id":
            options.append([(name, "__first_item__")])
        elif name == "job_id":  # the panel may not import: any job id (a row of import_jobs) is refused
            options.append([(name, "no-such-import")])
        else:
            assert ids.get(name) is not None, f"no demo record for path parameter {name!r}: add it to this test"
            options.append([(name, str(ids[name]))])
    required = [p.name for p in route.dependant.query_params if p.field_info.is_required()]
    query = {n: (str(ids["intervention_id"]) if n == "intervention" else REQUIRED_QUERY[n]) for n in required}
    for combination in _product(options):
        path = route.path
        values = dict(combination)
        if values.get("item_id") == "__first_item__":
            items = client.get(f"/ogc/collections/{values['collection_id']}/items?limit=1", headers=admin).json()
            if not items.get("features"):
                continue
            values["item_id"] = str(items["features"][0]["id"])
        for name, value in values.items():
            path = path.replace("{" + name + "}", value)
        suffix = "&".join(f"{k}={v}" for k, v in query.items())
        yield f"{path}?{suffix}" if suffix else path
        if path.startswith("/ogc"):
            yield f"{path}?{suffix + '&' if suffix else ''}f=html"
        if path.startswith("/api/exports"):
            yield f"{path}?{suffix + '&' if suffix else ''}format=csv"


def _product(options: list[list[tuple[str, str]]]) -> Iterator[list[tuple[str, str]]]:
    if not options:
        yield []
        return
    for first in options[0]:
        for rest in _product(options[1:]):
            yield [first, *rest]


def _small_counts(value: Any, key: str = "") -> Iterator[str]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _small_counts(v, str(k))
    elif isinstance(value, list):
        for v in value:
            yield from _small_counts(v, key)
    elif (isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 7
          and COUNT_KEY.search(key) and key not in NOT_INCIDENT_COUNTS):
        yield f"{key}={value}"


def _csv_small_counts(body: str) -> Iterator[str]:
    for row in csv.DictReader(io.StringIO(body)):
        for key, value in row.items():
            if key and COUNT_KEY.search(key) and value and value.isdigit() and 1 <= int(value) <= 7:
                yield f"{key}={value}"


def test_panel_answers_carry_no_incident_points_no_free_text_and_no_small_counts(
    app: Any, client: Any, demo_facts: dict[str, Any], demo_headers: dict[str, dict[str, str]],
) -> None:
    panel, admin = demo_headers["panel"], demo_headers["admin"]
    checked, leaks = 0, []
    for route in api_routes(app):
        if "GET" not in route.methods or gates_of(route.dependant)[0].public:
            continue
        for url in _urls(route, demo_facts["ids"], client, admin):
            response = client.get(url, headers=panel, follow_redirects=False)
            if response.status_code != 200:
                assert response.status_code in (403, 404, 422), f"{url}: {response.status_code}"
                continue
            checked += 1
            content_type = response.headers.get("content-type", "")
            if "protobuf" in content_type or "geopackage" in content_type or "octet-stream" in content_type:
                continue  # binary: the panel's tile layer is cells only (tested with the tiles)
            body = response.text
            for x, y in PAIR.findall(body):
                for lon, lat in ((float(x), float(y)), (float(y), float(x))):
                    if (round(lon, 5), round(lat, 5)) in demo_facts["points"]:
                        leaks.append(f"{url}: incident coordinates {lon}, {lat}")
            leaks.extend(f"{url}: free text {t[:40]!r}" for t in demo_facts["texts"] if t in body)
            if "json" in content_type:
                leaks.extend(f"{url}: count {c}" for c in _small_counts(json.loads(body)))
            elif "csv" in content_type:
                leaks.extend(f"{url}: count {c}" for c in _csv_small_counts(body))
    assert checked >= 30, f"only {checked} panel answers were checked"
    assert not leaks, "\n".join(sorted(set(leaks))[:60])


def test_panel_is_refused_individual_incidents_everywhere(client: Any, demo_facts: dict[str, Any],
                                                         demo_headers: dict[str, dict[str, str]]) -> None:
    panel = demo_headers["panel"]
    incident = demo_facts["ids"]["incident_id"]
    for url in ("/api/incidents", f"/api/incidents/{incident}", "/api/exports/incidents",
                "/ogc/collections/incidents/items", f"/ogc/collections/incidents/items/{incident}",
                "/api/tiles/incidents/14/8173/5431.mvt"):
        assert client.get(url, headers=panel).status_code == 403, url
