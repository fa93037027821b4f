"""OGC API – Features under /ogc, exercised by a real OGC client (OWSLib) against a running service."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from owslib.ogcapi.features import Features
from sqlalchemy import text

from app.main import create_app
from geo.policeuk import HEADER
from tests.conftest import Org, create_place, make_org

# A small fictional town centre; incidents sit on a few points that are not places.
LIBRARY = (-0.4170, 51.8790)
OUTLET = (-0.4140, 51.8800)
HOT = (-0.4100, 51.8770)  # twelve incidents here: one disclosable cell (12 -> 10 for the panel)
LONE = (-0.4250, 51.8830)  # three incidents: suppressed for the panel
MARCH, APRIL = "2024-03", "2024-04"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def live_url(settings: Any) -> Iterator[str]:
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def _crime_rows() -> str:
    rows = []
    for n in range(12):
        rows.append([f"hot{n}", MARCH, "F", "F", str(HOT[0]), str(HOT[1]), "On or near Hot Street", "E01", "L",
                     "Drugs", "", ""])
    for n in range(3):
        rows.append([f"lone{n}", APRIL, "F", "F", str(LONE[0]), str(LONE[1]), "On or near Lone Lane", "E01", "L",
                     "Possession of weapons", "", ""])
    return "\n".join([",".join(HEADER), *(",".join(r) for r in rows)]) + "\n"


@pytest.fixture(scope="module")
def town(client: Any, database: Any, settings: Any) -> dict[str, Any]:
    org = make_org(database, settings)
    library = create_place(client, org, name="Central <b>Library</b>", kind="library",
                           geometry={"type": "Point", "coordinates": list(LIBRARY)}, notes="Staff noticed older men")
    outlet = create_place(client, org, name="Chicken outlet", kind="fast_food",
                          geometry={"type": "Point", "coordinates": list(OUTLET)})
    admin = org.headers("admin")
    for body in ({"place_id": library["id"], "kind": "safe_space", "valid_from": "2024-01-01T00:00:00Z"},
                 {"place_id": outlet["id"], "kind": "concern", "level": "high", "valid_from": "2024-01-01T00:00:00Z",
                  "reason": "Drug dealing after school", "review_by": "2099-01-01"}):
        assert client.post("/api/designations", json=body, headers=admin).status_code == 201
    guardian = {"place_id": library["id"], "role": "staff", "notes": "Trained in bystander intervention"}
    assert client.post("/api/guardians", json=guardian, headers=admin).status_code == 201
    upload = client.post("/api/imports/police-uk", files=[("files", ("t.csv", _crime_rows().encode(), "text/csv"))],
                         headers=admin)
    assert upload.status_code == 200 and upload.json()["imported"] == 15, upload.text
    return {"org": org, "library": library, "outlet": outlet}


def features_client(url: str, org: Org, role: str) -> Features:
    return Features(f"{url}/ogc", headers=org.headers(role))


def test_owslib_lists_collections_and_reads_items_with_bbox_and_datetime(live_url, town):
    org: Org = town["org"]
    api = features_client(live_url, org, "community_safety")
    assert any(link["rel"] == "service-desc" for link in api.links)
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in api.conformance()["conformsTo"]
    assert api.feature_collections() == ["places-of-concern", "safe-spaces", "places", "guardians", "incidents",
                                         "hotspot-cells"]
    assert api.collection("safe-spaces")["itemType"] == "feature"

    around_hot = [HOT[0] - 0.001, HOT[1] - 0.001, HOT[0] + 0.001, HOT[1] + 0.001]
    march = api.collection_items("incidents", bbox=around_hot, datetime_="2024-03-01T00:00:00Z/2024-03-31T00:00:00Z",
                                 limit=100)
    assert march["numberMatched"] == march["numberReturned"] == 12
    assert {f["properties"]["source_ref"] for f in march["features"]} == {f"hot{n}" for n in range(12)}
    april = api.collection_items("incidents", bbox=around_hot, datetime_="2024-04-01T00:00:00Z/..")
    assert april["numberMatched"] == 0
    everywhere_april = api.collection_items("incidents", datetime_="2024-04-10T00:00:00Z")
    assert everywhere_april["numberMatched"] == 3

    places = api.collection_items("places", bbox=[LIBRARY[0] - 0.0005, LIBRARY[1] - 0.0005,
                                                  LIBRARY[0] + 0.0005, LIBRARY[1] + 0.0005])
    assert [f["id"] for f in places["features"]] == [town["library"]["id"]]
    assert [f["id"] for f in api.collection_items("places-of-concern")["features"]] == [town["outlet"]["id"]]
    assert [f["id"] for f in api.collection_items("safe-spaces")["features"]] == [town["library"]["id"]]
    one = api.collection_item("places", str(town["library"]["id"]))
    assert one["properties"]["name"] == "Central <b>Library</b>"

    cells = api.collection_items("hotspot-cells", limit=100)
    assert sorted(f["properties"]["incidents"] for f in cells["features"]) == [3, 12]


def test_items_page_with_limit_next_links_and_timestamp(live_url, town):
    headers = town["org"].headers("admin")
    first = httpx.get(f"{live_url}/ogc/collections/incidents/items", params={"limit": 5}, headers=headers).json()
    assert (first["numberReturned"], first["numberMatched"]) == (5, 15)
    assert first["timeStamp"].endswith("Z")
    seen = [f["id"] for f in first["features"]]
    page = first
    while any(link["rel"] == "next" for link in page["links"]):
        next_href = next(link["href"] for link in page["links"] if link["rel"] == "next")
        page = httpx.get(next_href, headers=headers).json()
        seen += [f["id"] for f in page["features"]]
    assert len(seen) == len(set(seen)) == 15
    default = httpx.get(f"{live_url}/ogc/collections/incidents/items", headers=headers).json()
    assert default["numberReturned"] == 10  # OGC default limit
    huge = httpx.get(f"{live_url}/ogc/collections/incidents/items", params={"limit": 50_000}, headers=headers)
    assert huge.status_code == 200 and huge.json()["numberReturned"] == 15
    assert huge.headers["content-type"].startswith("application/geo+json")


def test_panel_responses_carry_no_incident_coordinates(live_url, town, database):
    org: Org = town["org"]
    with database.owner_session() as session:
        points = session.execute(text("SELECT ST_X(geom), ST_Y(geom) FROM incidents WHERE organisation_id = :o"),
                                 {"o": org.id}).all()

    api = features_client(live_url, org, "panel")
    listed = api.feature_collections()
    assert "incidents" not in listed and "hotspot-cells" in listed
    documents: list[Any] = [api.conformance(), api.collections()]
    for collection_id in listed:
        documents.append(api.collection(collection_id))
        page = api.collection_items(collection_id, limit=10_000)
        documents.append(page)
        documents += [api.collection_item(collection_id, str(f["id"])) for f in page["features"]]
    pairs = list(_coordinate_pairs(documents))
    assert len(pairs) > 10  # places, guardians and cell outlines are there
    leaked = [p for p in pairs if any(abs(p[0] - x) < 1e-6 and abs(p[1] - y) < 1e-6 for x, y in points)]
    assert not leaked, f"panel responses contain incident coordinates: {leaked[:3]}"

    headers = org.headers("panel")
    for path in ("/ogc/collections/incidents", "/ogc/collections/incidents/items",
                 "/ogc/collections/incidents/items/1"):
        assert httpx.get(live_url + path, headers=headers).status_code == 403, path

    cells = api.collection_items("hotspot-cells")["features"]
    assert [f["properties"]["incidents"] for f in cells] == [10]  # 12 rounded; the cell of 3 suppressed
    guardians = api.collection_items("guardians")["features"]
    assert guardians and all(f["properties"]["notes"] is None for f in guardians)
    assert all(f["properties"]["notes"] is None for f in api.collection_items("places")["features"])


def _coordinate_pairs(value: Any) -> Iterator[tuple[float, float]]:
    """Every [x, y] number pair anywhere in a JSON document (geometries, bboxes, extents)."""
    if isinstance(value, dict):
        for item in value.values():
            yield from _coordinate_pairs(item)
    elif isinstance(value, list):
        if len(value) >= 2 and all(isinstance(v, int | float) for v in value):
            for k in range(0, len(value) - 1, 2 if len(value) == 4 else len(value)):
                yield float(value[k]), float(value[k + 1])
        else:
            for item in value:
                yield from _coordinate_pairs(item)


def test_html_views_escape_user_text(client, town):
    headers = town["org"].headers("youth_worker")
    page = client.get("/ogc/collections/places/items?f=html", headers=headers)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "Central &lt;b&gt;Library&lt;/b&gt;" in page.text and "<b>Library</b>" not in page.text
    browser = client.get("/ogc", headers={**headers, "Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert browser.headers["content-type"].startswith("text/html") and "conformance" in browser.text
    for path in ("/ogc/conformance", "/ogc/collections", "/ogc/collections/safe-spaces",
                 f"/ogc/collections/places/items/{town['library']['id']}"):
        assert client.get(path, params={"f": "html"}, headers=headers).status_code == 200, path
    assert client.get("/ogc", params={"f": "xml"}, headers=headers).json()["field"] == "f"


def test_landing_page_links_and_conformance(client, town):
    headers = town["org"].headers("panel")
    landing = client.get("/ogc", headers=headers).json()
    rels = {link["rel"]: link for link in landing["links"]}
    assert {"self", "service-desc", "conformance", "data"} <= set(rels)
    assert rels["service-desc"]["href"].endswith("/ogc/api")
    classes = client.get("/ogc/conformance", headers=headers).json()["conformsTo"]
    assert {c.rsplit("/", 1)[1] for c in classes} == {"core", "geojson", "oas30", "html"}


def test_unknown_collections_and_other_organisations_items_are_not_found(client, town, database, settings):
    headers = town["org"].headers("admin")
    assert client.get("/ogc/collections/nope", headers=headers).status_code == 404
    assert client.get("/ogc/collections/places/items/abc", headers=headers).status_code == 404
    assert client.get("/ogc/collections/hotspot-cells/items/x_y", headers=headers).status_code == 404
    stranger = make_org(database, settings)
    theirs = create_place(client, stranger, name="Elsewhere")
    assert client.get(f"/ogc/collections/places/items/{theirs['id']}", headers=headers).status_code == 404
    assert client.get("/ogc", headers={}).status_code == 401


def test_hotspot_cell_item_and_audited_incident_reads(client, town, database):
    org: Org = town["org"]
    headers = org.headers("community_safety")
    cells = client.get("/ogc/collections/hotspot-cells/items", headers=headers).json()["features"]
    busiest = max(cells, key=lambda f: f["properties"]["incidents"])
    one = client.get(f"/ogc/collections/hotspot-cells/items/{busiest['id']}", headers=headers).json()
    assert one["properties"]["incidents"] == 12 and one["geometry"]["type"] == "Polygon"
    incident = client.get("/ogc/collections/incidents/items", params={"limit": 1}, headers=headers).json()
    client.get(f"/ogc/collections/incidents/items/{incident['features'][0]['id']}", headers=headers)
    with database.owner_session() as session:
        actions = session.execute(
            text("SELECT action, detail->>'via' FROM audit_events "
                 "WHERE organisation_id = :o AND action LIKE 'incident.%'"),
            {"o": org.id}).all()
    assert ("incident.list", "ogc") in actions and ("incident.read", "ogc") in actions


def test_bad_bbox_and_datetime_name_the_parameter(client, town):
    headers = town["org"].headers("admin")
    bad_bbox = client.get("/ogc/collections/places/items", params={"bbox": "1,2,3"}, headers=headers)
    assert bad_bbox.status_code == 422 and bad_bbox.json()["field"] == "bbox"
    bad_time = client.get("/ogc/collections/incidents/items", params={"datetime": "yesterday"}, headers=headers)
    assert bad_time.status_code == 422 and bad_time.json()["field"] == "datetime"
