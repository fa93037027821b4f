"""Partner uploads cannot read server files or make the server fetch URLs (issue 10, High).

An outside test uploaded a GDAL VRT named ``partner.geojson`` whose source was ``CSV:/etc/passwd``, and the
422 quoted the server's files; a ``/vsicurl/`` source made the server fetch URLs. The format is now read
from the content (CSV, GeoJSON, GeoPackage only) and nothing but a GeoPackage reaches GDAL.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from tests.conftest import Org, assert_problem, make_org, own_rows

URL = "/api/imports/partner"


def _upload(client: Any, org: Org, name: str, body: bytes, target: str = "places", **form: Any) -> Any:
    return client.post(URL, files={"file": (name, body, "application/geo+json")}, data={"target": target, **form},
                       headers=org.headers("community_safety"))


def _vrt(source: str, layer: str) -> bytes:
    return (f'<OGRVRTDataSource><OGRVRTLayer name="{layer}"><SrcDataSource>{source}</SrcDataSource>'
            f"<SrcLayer>{layer}</SrcLayer></OGRVRTLayer></OGRVRTDataSource>").encode()


class _Recorder(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:
        _Recorder.hits.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"name,kind,longitude,latitude\nFetched,park,-0.417,51.879\n")

    do_HEAD = do_GET

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture()
def listener() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _Recorder)
    _Recorder.hits = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture()
def fresh_org(database: Any, settings: Any) -> Org:
    return make_org(database, settings)


def _refused_audits(database: Any, org: Org) -> list[dict[str, Any]]:
    with database.owner_session() as session:
        return [dict(r) for r in session.execute(text(
            "SELECT resource, detail FROM audit_events WHERE organisation_id = :o AND action = 'import.refused' "
            "ORDER BY id"), {"o": org.id}).mappings()]


def test_a_vrt_named_geojson_reading_etc_passwd_is_refused_without_quoting_it(client: Any, database: Any,
                                                                              fresh_org: Org) -> None:
    mapping = json.dumps({"name": "root:x:0:0:root:/root:/bin/bash", "kind": "root:x:0:0:root:/root:/bin/bash"})
    response = _upload(client, fresh_org, "partner.geojson", _vrt("CSV:/etc/passwd", "passwd"), mapping=mapping)
    body = assert_problem(response, 422, "file")
    assert "VRT" in body["detail"]
    for secret in ("daemon", "/usr/sbin", "/bin/", "nologin", "/etc/passwd"):
        assert secret not in response.text
    assert own_rows(database, "places", fresh_org) == 0
    # The refusal itself is in the audit log, though the request's own transaction rolled back.
    (refused,) = _refused_audits(database, fresh_org)
    assert refused["resource"] == "places" and refused["detail"]["files"] == ["partner.geojson"]


def test_a_vsicurl_source_makes_no_request(client: Any, database: Any, fresh_org: Org, listener: str) -> None:
    for name in ("partner.geojson", "partner.gpkg", "partner.csv"):
        response = _upload(client, fresh_org, name, _vrt(f"/vsicurl/{listener}/x.csv", "x"))
        assert_problem(response, 422, "file")
    # A GeoJSON whose "geometry" is a path is only ever JSON: nothing is opened.
    sneaky = json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": f"/vsicurl/{listener}/y.csv", "properties": {"name": "A", "kind": "park"}}]})
    assert_problem(_upload(client, fresh_org, "p.geojson", sneaky.encode()), 422, "file")
    assert _Recorder.hits == []
    assert own_rows(database, "places", fresh_org) == 0


def test_the_format_comes_from_the_content_not_the_name(client: Any, database: Any, fresh_org: Org,
                                                       tmp_path: Path) -> None:
    import geopandas as gpd
    from shapely.geometry import Point

    csv = b"name,kind,longitude,latitude\nRec ground,park,-0.417,51.879\n"
    assert _upload(client, fresh_org, "parks.geojson", csv).json()["imported"] == 1
    collection = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [-0.418, 51.880]},
         "properties": {"name": "Library", "kind": "library"}}]}
    assert _upload(client, fresh_org, "library.csv", json.dumps(collection).encode()).json()["imported"] == 1
    path = tmp_path / "club.gpkg"
    gpd.GeoDataFrame({"name": ["Club"], "kind": ["youth_club"]}, geometry=[Point(-0.419, 51.881)],
                     crs="EPSG:4326").to_file(path, driver="GPKG")
    assert _upload(client, fresh_org, "club.txt", path.read_bytes()).json()["imported"] == 1
    assert own_rows(database, "places", fresh_org) == 3


def test_geojson_in_british_national_grid_is_transformed(client: Any, database: Any, fresh_org: Org) -> None:
    collection = {"type": "FeatureCollection",
                  "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::27700"}},
                  "features": [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [508900, 222600]},
                                "properties": {"name": "Wardown Park", "kind": "park"}}]}
    assert _upload(client, fresh_org, "parks.geojson", json.dumps(collection).encode()).json()["imported"] == 1
    with database.owner_session() as session:
        lon, lat = session.execute(text("SELECT ST_X(geom), ST_Y(geom) FROM places WHERE organisation_id = :o"),
                                   {"o": fresh_org.id}).one()
    assert abs(lon - (-0.4207)) < 0.002 and abs(lat - 51.8930) < 0.002


def test_dry_runs_and_refused_row_imports_are_audited(client: Any, database: Any, fresh_org: Org) -> None:
    good = b"name,kind,longitude,latitude\nRec ground,park,-0.417,51.879\n"
    assert _upload(client, fresh_org, "parks.csv", good, dry_run="true").json()["dry_run"] is True
    bad = b"name,kind,longitude,latitude\nRec ground,castle,-0.417,51.879\n"
    assert_problem(_upload(client, fresh_org, "bad.csv", bad), 422, "file")
    with database.owner_session() as session:
        dry = session.execute(text(
            "SELECT detail FROM audit_events WHERE organisation_id = :o AND action = 'import'"),
            {"o": fresh_org.id}).scalar_one()
    assert dry["dry_run"] is True and dry["imported"] == 1
    (refused,) = _refused_audits(database, fresh_org)
    assert refused["detail"]["rejected"] == 1 and refused["detail"]["files"] == ["bad.csv"]
    assert own_rows(database, "places", fresh_org) == 0
