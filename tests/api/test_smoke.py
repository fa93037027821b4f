from tests.conftest import create_place


def test_create_and_read_place(client, org):
    created = create_place(client, org, name="Smoke library")
    got = client.get(f"/api/places/{created['id']}", headers=org.headers("panel"))
    assert got.status_code == 200
    assert got.json()["properties"]["name"] == "Smoke library"
