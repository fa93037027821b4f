"""police.uk and partner imports through the API and the CLI, against the migrated PostGIS."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from app.cli import cli
from geo.policeuk import HEADER
from tests.conftest import Org, create_place, make_org
from tests.fixtures.policeuk import policeuk_csv_text

URL = "/api/imports/police-uk"


def incidents_of(database: Any, org: Org) -> list[dict[str, Any]]:
    with database.owner_session() as session:
        rows = session.execute(
            text("SELECT source_ref, harm_category, source_category, occurred_from, occurred_to, "
                 "location_precision, place_id, place_link, ST_X(geom) AS lon, ST_Y(geom) AS lat "
                 "FROM incidents WHERE organisation_id = :o ORDER BY id"), {"o": org.id},
        ).mappings()
        return [dict(r) for r in rows]


def upload(client: Any, org: Org, *files: tuple[str, str], role: str = "community_safety", **form: Any) -> Any:
    multipart = [("files", (name, body.encode(), "text/csv")) for name, body in files]
    return client.post(URL, files=multipart, data={k: str(v).lower() for k, v in form.items()},
                       headers=org.headers(role))


def row(crime_id: str = "", month: str = "2024-03", lon: str = "-0.4170", lat: str = "51.8790",
        location: str = "On or near Park Street", crime_type: str = "Anti-social behaviour") -> str:
    return ",".join([crime_id, month, "Bedfordshire Police", "Bedfordshire Police", lon, lat, location,
                     "E01015679", "Luton 012A", crime_type, "", ""])


def csv_of(*rows: str) -> str:
    return ",".join(HEADER) + "\n" + "\n".join(rows) + "\n"


@pytest.fixture()
def fresh_org(database: Any, settings: Any) -> Org:
    return make_org(database, settings)


def test_import_reports_counts_and_reimport_imports_nothing_twice(client, database, fresh_org):
    body = policeuk_csv_text(300, seed=7, months=("2024-03", "2024-04"))
    first = upload(client, fresh_org, ("2024-03-bedfordshire-street.csv", body))
    assert first.status_code == 200, first.text
    report = first.json()
    assert report["rows_read"] == 300
    assert report["rejected"] == 0 and report["rejections"] == []
    assert report["without_location"] > 0
    assert report["imported"] + report["duplicates"] + report["without_location"] == 300
    assert report["imported"] == len(incidents_of(database, fresh_org))

    again = upload(client, fresh_org, ("same-file-again.csv", body)).json()
    assert again["imported"] == 0
    assert again["duplicates"] == report["imported"] + report["duplicates"]
    assert len(incidents_of(database, fresh_org)) == report["imported"]


def test_identical_asb_rows_are_distinct_incidents_but_stable_across_imports(client, database, fresh_org):
    body = csv_of(row(), row(), row(crime_id="c" * 64, crime_type="Drugs"), row(crime_id="c" * 64, crime_type="Drugs"))
    report = upload(client, fresh_org, ("a.csv", body)).json()
    assert (report["imported"], report["duplicates"]) == (3, 1)  # two ASB reports; the Crime ID once
    assert upload(client, fresh_org, ("a.csv", body)).json()["imported"] == 0
    assert len(incidents_of(database, fresh_org)) == 3


def test_rows_are_mapped_to_harm_categories_month_windows_and_snapped_locations(client, database, fresh_org):
    body = csv_of(row("a1", crime_type="Drugs", month="2024-04"), row("a2", crime_type="Possession of weapons"),
                  row("a3", crime_type="Violence and sexual offences"), row("a4", crime_type="Burglary"), row())
    assert upload(client, fresh_org, ("b.csv", body)).status_code == 200
    stored = {r["source_category"]: r for r in incidents_of(database, fresh_org)}
    assert {k: v["harm_category"] for k, v in stored.items()} == {
        "Drugs": "drugs", "Possession of weapons": "weapon_carrying",
        "Violence and sexual offences": "serious_violence", "Burglary": "other",
        "Anti-social behaviour": "antisocial_behaviour",
    }
    drugs = stored["Drugs"]
    # April in England is in BST: the month starts at 23:00 UTC on 31 March.
    assert drugs["occurred_from"].isoformat() == "2024-03-31T23:00:00+00:00"
    assert drugs["occurred_to"].isoformat() == "2024-04-30T23:00:00+00:00"
    assert drugs["location_precision"] == "snapped"
    assert (round(drugs["lon"], 4), round(drugs["lat"], 4)) == (-0.417, 51.879)
    assert stored["Burglary"]["occurred_from"].isoformat() == "2024-03-01T00:00:00+00:00"


def test_a_malformed_row_rejects_the_whole_upload_with_its_line_number(client, database, fresh_org):
    good = csv_of(row("g1", crime_type="Drugs"))
    bad = csv_of(row("b1", crime_type="Drugs"), row("b2", lat="fifty-one"), row("b3", crime_type="Drugs"))
    response = upload(client, fresh_org, ("good.csv", good), ("bad.csv", bad))
    assert response.status_code == 422
    problem = response.json()
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "bad.csv line 3" in problem["detail"] and "Latitude" in problem["detail"]
    assert problem["errors"][0] == {"field": "file", "file": "bad.csv", "line": 3,
                                    "message": "Latitude 'fifty-one' is not a number"}
    assert incidents_of(database, fresh_org) == []
    # The refusal is audited though nothing was written (issue 10).
    with database.owner_session() as session:
        refused = session.execute(text(
            "SELECT detail FROM audit_events WHERE organisation_id = :o AND action = 'import.refused'"),
            {"o": fresh_org.id}).scalar_one()
    assert refused["source"] == "police_uk" and refused["files"] == ["good.csv", "bad.csv"] and refused["rejected"] == 1


def test_allow_partial_imports_the_good_rows_and_reports_the_bad(client, database, fresh_org):
    bad = csv_of(row("p1", crime_type="Drugs"), "p2,2024-03,too,few,columns", row("p3", month="March 2024"),
                 row("p4", lon="2.35", lat="48.85"), row("p5", lon="", lat=""), row("p6", crime_type="Drugs"))
    response = upload(client, fresh_org, ("bad.csv", bad), allow_partial=True)
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["rows_read"], report["imported"], report["without_location"], report["rejected"]) == (6, 2, 1, 3)
    assert [(r["line"], r["reason"].split(" ")[0]) for r in report["rejections"]] == [
        (3, "expected"), (4, "month"), (5, "location")]
    assert "outside the organisation's service area" in report["rejections"][2]["reason"]
    assert sorted(r["source_ref"] for r in incidents_of(database, fresh_org)) == ["p1", "p6"]


def test_points_outside_the_service_area_are_rejected(client, database, settings):
    square = "MULTIPOLYGON(((-0.45 51.86, -0.38 51.86, -0.38 51.90, -0.45 51.90, -0.45 51.86)))"
    org = make_org(database, settings, service_area_wkt=square)
    body = csv_of(row("in1"), row("out1", lon="-0.30"))
    response = upload(client, org, ("x.csv", body))
    assert response.status_code == 422
    assert response.json()["errors"][0]["line"] == 3
    assert incidents_of(database, org) == []


def test_a_file_that_is_not_a_police_uk_file_is_refused(client, database, fresh_org):
    response = upload(client, fresh_org, ("other.csv", "name,value\nx,1\n"))
    assert response.status_code == 422
    assert "line 1" in response.json()["detail"]


def test_new_incidents_are_linked_to_the_nearest_place(client, database, fresh_org):
    near = create_place(client, fresh_org, geometry={"type": "Point", "coordinates": [-0.4170, 51.8791]})
    body = csv_of(row("l1", crime_type="Drugs"), row("l2", crime_type="Drugs", lon="-0.4000"))
    report = upload(client, fresh_org, ("l.csv", body)).json()
    assert report["linked_to_places"] == 1
    linked = {r["source_ref"]: (r["place_id"], r["place_link"]) for r in incidents_of(database, fresh_org)}
    assert linked == {"l1": (near["id"], "auto"), "l2": (None, None)}


def test_the_panel_and_youth_workers_may_not_import(client, fresh_org):
    for role in ("panel", "youth_worker"):
        assert upload(client, fresh_org, ("x.csv", csv_of(row())), role=role).status_code == 403


def test_imports_are_audited(client, database, fresh_org):
    upload(client, fresh_org, ("audited.csv", csv_of(row("au1"))))
    with database.owner_session() as session:
        detail = session.execute(
            text("SELECT detail FROM audit_events WHERE organisation_id = :o AND action = 'import'"),
            {"o": fresh_org.id}).scalar_one()
    assert detail["files"] == ["audited.csv"] and detail["imported"] == 1


def test_cli_imports_files_and_folders_and_prints_the_report(database, settings, tmp_path: Path, monkeypatch):
    org = make_org(database, settings)
    monkeypatch.setenv("CONTEXTMAP_DATABASE_URL", settings.database_url)
    month = tmp_path / "2024-03"
    month.mkdir()
    (month / "2024-03-bedfordshire-street.csv").write_text(policeuk_csv_text(120, seed=3))
    (month / "2024-03-bedfordshire-outcomes.csv").write_text("not,a,street,file\n")
    runner = CliRunner()
    result = runner.invoke(cli, ["import", "police-uk", str(tmp_path), "--org", org.slug])
    assert result.exit_code == 0, result.output
    assert "rows read:          120" in result.output
    imported = int(next(line for line in result.output.splitlines() if line.startswith("imported:")).split()[-1])
    assert imported == len(incidents_of(database, org)) > 0

    again = runner.invoke(cli, ["import", "police-uk", str(month / "2024-03-bedfordshire-street.csv"),
                                "--org", org.slug])
    assert again.exit_code == 0 and "imported:           0" in again.output


def test_cli_rejects_a_malformed_file_unless_partial_is_allowed(database, settings, tmp_path: Path, monkeypatch):
    org = make_org(database, settings)
    monkeypatch.setenv("CONTEXTMAP_DATABASE_URL", settings.database_url)
    bad = tmp_path / "bad.csv"
    bad.write_text(csv_of(row("c1"), row("c2", month="2024-3x")))
    runner = CliRunner()
    refused = runner.invoke(cli, ["import", "police-uk", str(bad), "--org", org.slug])
    assert refused.exit_code != 0
    assert f"{bad} line 3: month '2024-3x' is not YYYY-MM" in refused.output
    assert incidents_of(database, org) == []
    partial = runner.invoke(cli, ["import", "police-uk", str(bad), "--org", org.slug, "--allow-partial"])
    assert partial.exit_code == 0, partial.output
    assert [r["source_ref"] for r in incidents_of(database, org)] == ["c1"]


def test_report_json_is_stable(client, fresh_org):
    report = upload(client, fresh_org, ("s.csv", csv_of(row("s1")))).json()
    assert set(report) == {"files", "rows_read", "imported", "duplicates", "without_location", "rejected",
                           "linked_to_places", "rejections", "rejections_truncated", "allow_partial", "dry_run"}
    json.dumps(report)


# ---- partner data -----------------------------------------------------------------------------------------
PARTNER_URL = "/api/imports/partner"


def partner_upload(client: Any, org: Org, name: str, body: bytes, target: str, **form: Any) -> Any:
    data = {"target": target, **{k: (str(v).lower() if isinstance(v, bool) else v) for k, v in form.items()}}
    return client.post(PARTNER_URL, files={"file": (name, body, "application/octet-stream")}, data=data,
                       headers=org.headers("community_safety"))


def places_of(database: Any, org: Org) -> list[dict[str, Any]]:
    with database.owner_session() as session:
        rows = session.execute(text(
            "SELECT p.name, p.kind, ST_X(ST_Centroid(p.geom)) AS lon, ST_Y(ST_Centroid(p.geom)) AS lat, "
            "(SELECT count(*) FROM designations d WHERE d.organisation_id = p.organisation_id AND d.place_id = p.id "
            "AND d.kind = 'safe_space') AS safe "
            "FROM places p WHERE p.organisation_id = :o ORDER BY p.id"), {"o": org.id}).mappings()
        return [dict(r) for r in rows]


def test_partner_csv_incidents_with_a_column_mapping_import_once(client, database, fresh_org):
    body = (b"Reported,Category,Lon,Lat,Ref\n"
            b"2026-05-01T16:00:00Z,drugs,-0.417,51.879,yot-1\n"
            b"01/05/2026 17:30,Serious violence,-0.418,51.880,\n"
            b"01/05/2026 17:30,Serious violence,-0.418,51.880,\n")
    mapping = json.dumps({"occurred_from": "Reported", "harm_category": "Category", "longitude": "Lon",
                          "latitude": "Lat", "source_ref": "Ref"})
    first = partner_upload(client, fresh_org, "yot.csv", body, "incidents", mapping=mapping)
    assert first.status_code == 200, first.text
    assert (first.json()["imported"], first.json()["duplicates"]) == (3, 0)
    again = partner_upload(client, fresh_org, "yot.csv", body, "incidents", mapping=mapping).json()
    assert (again["imported"], again["duplicates"]) == (0, 3)
    stored = incidents_of(database, fresh_org)
    assert {r["harm_category"] for r in stored} == {"drugs", "serious_violence"}
    # A naive local time is Europe/London: 17:30 BST is 16:30 UTC.
    assert any(r["occurred_from"].isoformat() == "2026-05-01T16:30:00+00:00" for r in stored)


def test_partner_csv_easting_northing_is_transformed(client, database, fresh_org):
    body = b"name,kind,easting,northing\nWardown Park,park,508900,222600\n"
    report = partner_upload(client, fresh_org, "parks.csv", body, "places", crs="EPSG:27700").json()
    assert report["imported"] == 1
    (park,) = places_of(database, fresh_org)
    assert abs(park["lon"] - (-0.4207)) < 0.002 and abs(park["lat"] - 51.8930) < 0.002


def test_partner_geojson_places_and_geopackage_safe_spaces(client, database, fresh_org, tmp_path: Path):
    import geopandas as gpd
    from shapely.geometry import Point

    collection = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [-0.4170, 51.8790]},
         "properties": {"Site": "Central Library", "Type": "library"}},
        {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [[[-0.41, 51.87], [-0.409, 51.87],
                                                                              [-0.409, 51.871], [-0.41, 51.87]]]},
         "properties": {"Site": "Rec ground", "Type": "park"}},
    ]}
    mapping = json.dumps({"name": "Site", "kind": "Type"})
    report = partner_upload(client, fresh_org, "places.geojson", json.dumps(collection).encode(), "places",
                            mapping=mapping).json()
    assert report["imported"] == 2
    frame = gpd.GeoDataFrame({"Site": ["Central Library"], "Type": ["library"], "scheme": ["Safe Places"],
                              "age_min": [11], "age_max": [18], "help_offered": ["wifi; phone charging"]},
                             geometry=[Point(-0.4170, 51.8790)], crs="EPSG:4326").to_crs(27700)
    path = tmp_path / "safe.gpkg"
    frame.to_file(path, driver="GPKG")
    safe = partner_upload(client, fresh_org, "safe.gpkg", path.read_bytes(), "safe_spaces", mapping=mapping)
    assert safe.status_code == 200, safe.text
    assert safe.json()["imported"] == 1
    assert [(p["name"], p["safe"]) for p in places_of(database, fresh_org)] == [("Central Library", 1),
                                                                                ("Rec ground", 0)]
    again = partner_upload(client, fresh_org, "safe.gpkg", path.read_bytes(), "safe_spaces", mapping=mapping).json()
    assert (again["imported"], again["duplicates"]) == (0, 1)


def test_a_bad_partner_row_rejects_the_file_and_dry_run_writes_nothing(client, database, fresh_org):
    body = (b"occurred_from,harm_category,longitude,latitude\n"
            b"2026-05-01T16:00:00Z,drugs,-0.417,51.879\n"
            b"2026-05-01T16:00:00Z,shoplifting,-0.417,51.879\n"
            b"2026-05-01T16:00:00Z,drugs,51.879,-0.417\n")
    refused = partner_upload(client, fresh_org, "bad.csv", body, "incidents")
    assert refused.status_code == 422
    errors = refused.json()["errors"]
    assert [(e["line"], e["message"].split(":")[0]) for e in errors] == [(3, "harm_category"), (4, "geometry")]
    assert "service area" in errors[1]["message"]
    assert incidents_of(database, fresh_org) == []

    good = b"occurred_from,harm_category,longitude,latitude\n2026-05-01T16:00:00Z,drugs,-0.417,51.879\n"
    dry = partner_upload(client, fresh_org, "good.csv", good, "incidents", dry_run=True).json()
    assert (dry["dry_run"], dry["imported"]) == (True, 1)
    assert incidents_of(database, fresh_org) == []


def test_partner_options_are_checked(client, fresh_org):
    body = b"name,kind,longitude,latitude\nX,park,-0.41,51.87\n"
    assert partner_upload(client, fresh_org, "x.csv", body, "people").json()["field"] == "target"
    assert partner_upload(client, fresh_org, "x.csv", body, "places", mapping="{").json()["field"] == "mapping"
    unknown = partner_upload(client, fresh_org, "x.csv", body, "places", mapping='{"colour": "C"}')
    assert unknown.json()["field"] == "mapping"
    assert partner_upload(client, fresh_org, "x.gpkg", b"not a package", "places").json()["field"] == "file"


def test_cli_imports_partner_files(database, settings, tmp_path: Path, monkeypatch):
    org = make_org(database, settings)
    monkeypatch.setenv("CONTEXTMAP_DATABASE_URL", settings.database_url)
    path = tmp_path / "clubs.csv"
    path.write_text("Club,kind,longitude,latitude\nBoxing club,youth_club,-0.42,51.88\n")
    runner = CliRunner()
    dry = runner.invoke(cli, ["import", "partner", str(path), "--org", org.slug, "--target", "safe_spaces",
                              "--mapping", '{"name": "Club"}', "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "would import:       1" in dry.output and places_of(database, org) == []
    done = runner.invoke(cli, ["import", "partner", str(path), "--org", org.slug, "--target", "safe_spaces",
                               "--mapping", '{"name": "Club"}'])
    assert done.exit_code == 0, done.output
    assert [(p["name"], p["safe"]) for p in places_of(database, org)] == [("Boxing club", 1)]
    # Like the upload endpoint, the CLI records the import, and the dry run before it, in the audit log.
    with database.owner_session() as session:
        audited = session.execute(text(
            "SELECT resource, detail->>'via', (detail->>'imported')::int, (detail->>'dry_run')::bool "
            "FROM audit_events WHERE organisation_id = :o AND action = 'import' ORDER BY id"), {"o": org.id}).all()
    assert [tuple(row) for row in audited] == [("safe_spaces", "cli", 1, True), ("safe_spaces", "cli", 1, False)]
