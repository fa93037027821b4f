"""Only imports set imported sources and their references (issue 10, Low).

An outside test recorded a manual incident as ``source: police_uk`` with a genuine police.uk Crime ID, and
the real row was later skipped by the import as a duplicate."""

from __future__ import annotations

from typing import Any

from tests.conftest import assert_problem, incident_body, make_org, own_rows, unique

CRIME_ID = "a" * 64


def test_a_manual_incident_cannot_claim_an_imported_source_or_reference(client: Any, database: Any,
                                                                        settings: Any) -> None:
    org = make_org(database, settings)
    headers = org.headers("community_safety")
    for source in ("police_uk", "partner"):
        response = client.post("/api/incidents", json=incident_body(source=source, source_ref=unique("r")),
                               headers=headers)
        assert_problem(response, 422, "properties.source")
    for ref in (CRIME_ID, "partner:" + "0" * 64):
        response = client.post("/api/incidents", json=incident_body(source="manual", source_ref=ref), headers=headers)
        assert_problem(response, 422, "properties.source_ref")
    assert own_rows(database, "incidents", org) == 0
    # What staff record by hand stays possible: manual reports and council ASB log entries with their own refs.
    for source in ("manual", "council_asb"):
        made = client.post("/api/incidents", json=incident_body(source=source, source_ref=unique("ASB-")),
                           headers=headers)
        assert made.status_code == 201, made.text

