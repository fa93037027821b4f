"""Every route × every role × own/other organisation, built from the application's own route table.

A route added without a gate fails ``test_every_route_declares_one_gate``; a gate whose roles drift from
DESIGN.md's role table fails ``test_gates_match_the_design_role_table``; and every (route, role) pair is
exercised against the running service, so a rule that is declared but not enforced fails too.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import text

from app.db import accounts
from app.main import api_routes
from app.policy import gates_of
from geo.vocabulary import ROLES
from tests.conftest import Org, create_place, incident_body, unique

# DESIGN.md "Roles (the default policy)", transcribed: gate name -> roles allowed.
ALL = frozenset(ROLES)
STAFF = frozenset({"admin", "community_safety"})
PRACTITIONERS = frozenset({"admin", "community_safety", "youth_worker"})
DESIGN_ROLE_TABLE = {
    "public": ALL,
    "read_context": ALL,                 # places, designations, guardians, interventions: read
    "write_safe_spaces": PRACTITIONERS,  # safe spaces, guardians, assessments: write
    "flag_concern": STAFF,               # flag/end a place of concern
    "write_interventions": STAFF,        # record interventions (community safety teams)
    "delete_places": STAFF,
    "read_incidents": PRACTITIONERS,     # individual incident records: never the panel
    "create_incidents": PRACTITIONERS,   # youth workers: create only
    "edit_incidents": STAFF,
    "import_incidents": STAFF,
    "analysis": ALL,                     # analysis and maps: panel sees suppressed output
    "administer": frozenset({"admin"}),  # users, tokens, audit log
}


def _routes(app: Any) -> list[tuple[str, str, Any]]:
    rows = []
    for route in api_routes(app):
        for method in sorted(route.methods - {"HEAD", "OPTIONS"}):
            rows.append((method, route.path, route))
    return rows


def test_every_route_declares_one_gate(app: Any) -> None:
    missing = [f"{m} {p}" for m, p, r in _routes(app) if len(gates_of(r.dependant)) != 1
               and p not in ("/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc")]
    assert not missing, f"routes without exactly one role gate: {missing}"


def test_gates_match_the_design_role_table(app: Any) -> None:
    for method, path, route in _routes(app):
        for gate in gates_of(route.dependant):
            assert gate.name in DESIGN_ROLE_TABLE, f"{method} {path}: gate {gate.name} is not in the role table"
            assert gate.roles == DESIGN_ROLE_TABLE[gate.name], f"{method} {path}: {gate.name} drifted"


# ---- records to aim at: one factory per path parameter name -----------------------------------------------
def _factories(client: Any, database: Any) -> dict[str, Callable[[Org], int]]:
    def place(org: Org) -> int:
        return int(create_place(client, org)["id"])

    def designation(org: Org) -> int:
        body = {"place_id": place(org), "kind": "safe_space", "valid_from": "2026-01-01T00:00:00Z"}
        response = client.post("/api/designations", json=body, headers=org.headers("admin"))
        assert response.status_code == 201, response.text
        return int(response.json()["id"])

    def guardian(org: Org) -> int:
        body = {"place_id": place(org), "role": "staff"}
        response = client.post("/api/guardians", json=body, headers=org.headers("admin"))
        assert response.status_code == 201, response.text
        return int(response.json()["id"])

    def intervention(org: Org) -> int:
        body = {"type": "Feature", "geometry": None,
                "properties": {"place_id": place(org), "kind": "outreach", "description": "Detached youth work",
                               "owning_partner": "Youth service", "starts_on": "2026-01-05"}}
        response = client.post("/api/interventions", json=body, headers=org.headers("admin"))
        assert response.status_code == 201, response.text
        return int(response.json()["id"])

    def incident(org: Org) -> int:
        body = incident_body(source="council_asb", source_ref=unique("ref-"))
        response = client.post("/api/incidents", json=body, headers=org.headers("admin"))
        assert response.status_code == 201, response.text
        return int(response.json()["id"])

    def user(org: Org) -> int:
        # A throwaway user: the revoke route must not revoke the tokens this test signs in with.
        with database.owner_session() as session:
            return accounts.add_user(session, org.id, f"{unique('u')}@{org.slug}.test", "panel")

    def assessment(org: Org) -> int:
        body = {"place_id": place(org), "assessed_on": "2026-05-01", "young_people": {"rating": "amber"},
                "guardianship": {"rating": "red"}, "environment": {"rating": "green"}}
        response = client.post("/api/assessments", json=body, headers=org.headers("admin"))
        assert response.status_code == 201, response.text
        return int(response.json()["id"])

    def import_job(org: Org) -> str:
        job_id = unique("job-")
        with database.owner_session() as session:
            session.execute(text(
                "INSERT INTO import_jobs (organisation_id, id, user_id, kind, workdir, stage, report, finished_at) "
                "VALUES (:o, :id, :u, 'police_uk', '/nonexistent', 'done', CAST(:report AS jsonb), now())"),
                {"o": org.id, "id": job_id, "u": org.user_ids["admin"],
                 "report": '{"files": ["x.csv"], "rows_read": 0, "imported": 0, "rejections": []}'})
        return job_id

    return {"place_id": place, "designation_id": designation, "guardian_id": guardian,
            "intervention_id": intervention, "incident_id": incident, "user_id": user,
            "assessment_id": assessment,
            # OGC API, exports and vector tiles: names of collections, layers and tiles, not records.
            "collection_id": lambda org: "places", "item_id": place, "resource": lambda org: "places",
            "layer": lambda org: "hotspot-cells", "z": lambda org: 14, "x": lambda org: 8173, "y": lambda org: 5420,
            # A web import's job is a row of import_jobs (0012): a finished one of this organisation.
            "job_id": import_job}


# Path parameters that name a collection, layer or tile rather than one organisation's record.
NOT_RECORDS = frozenset({"collection_id", "resource", "layer", "z", "x", "y"})


def _url(path: str, org: Org, factories: dict[str, Callable[[Org], int]]) -> str:
    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in factories:
            pytest.fail(f"no record factory for path parameter {name!r}: add one to this test")
        return str(factories[name](org))

    return re.sub(r"\{(\w+)\}", fill, path)


def _call(client: Any, method: str, url: str, headers: dict[str, str]) -> Any:
    kwargs: dict[str, Any] = {"headers": headers, "follow_redirects": False}
    if method in ("POST", "PATCH", "PUT"):
        # An empty change in the shape the route expects, so that the record lookup is reached.
        feature_shaped = method == "PATCH" and url.startswith(("/api/places", "/api/interventions", "/api/incidents"))
        kwargs["json"] = {"type": "Feature", "geometry": None, "properties": {}} if feature_shaped else {}
    return client.request(method, url, **kwargs)


def test_each_role_is_allowed_or_refused_exactly_as_the_table_says(app: Any, client: Any, database: Any,
                                                                   org: Org) -> None:
    factories = _factories(client, database)
    failures = []
    for method, path, route in _routes(app):
        (gate,) = gates_of(route.dependant)
        if gate.public:
            continue
        for role in ROLES:
            response = _call(client, method, _url(path, org, factories), org.headers(role))
            allowed = role in gate.roles
            if allowed and response.status_code in (401, 403):
                failures.append(f"{method} {path} as {role}: refused ({response.status_code}) but allowed")
            if not allowed and response.status_code != 403:
                failures.append(f"{method} {path} as {role}: {response.status_code}, expected 403")
            if response.status_code >= 500:
                failures.append(f"{method} {path} as {role}: server error {response.status_code}")
    assert not failures, "\n".join(failures)


def test_no_route_reaches_another_organisations_records(app: Any, client: Any, database: Any, org: Org,
                                                        other_org: Org) -> None:
    factories = _factories(client, database)
    failures = []
    for method, path, route in _routes(app):
        (gate,) = gates_of(route.dependant)
        if gate.public or not set(re.findall(r"\{(\w+)\}", path)) - NOT_RECORDS:
            continue
        url = _url(path, other_org, factories)  # ids that exist, but in the other organisation
        for role in sorted(gate.roles):
            response = _call(client, method, url, org.headers(role))
            if response.status_code != 404:
                failures.append(f"{method} {url} as {org.slug}/{role}: {response.status_code}, expected 404")
    assert not failures, "\n".join(failures)


def test_every_protected_route_requires_a_signed_in_user(app: Any, client: Any, database: Any, org: Org) -> None:
    factories = _factories(client, database)
    for method, path, route in _routes(app):
        (gate,) = gates_of(route.dependant)
        if gate.public:
            continue
        response = _call(client, method, _url(path, org, factories), {})
        if method == "GET" and not path.startswith(("/api", "/ogc")):  # OGC API clients get 401, not a page
            assert response.status_code == 303 and response.headers["location"].startswith("/signin"), path
        else:
            assert response.status_code == 401, f"{method} {path}: {response.status_code}"
            assert response.headers["content-type"].startswith("application/problem+json")


def test_lists_never_include_another_organisations_rows(client: Any, org: Org, other_org: Org) -> None:
    theirs = create_place(client, other_org, name=unique("Theirs "))
    for role in ROLES:
        listed = client.get("/api/places?limit=1000", headers=org.headers(role)).json()
        assert theirs["id"] not in {f["id"] for f in listed["features"]}
