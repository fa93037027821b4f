import json
def test_scratch(client, demo_headers):
    h = demo_headers["youth_worker"]
    places = client.get("/api/places?limit=100", headers=h).json()["features"]
    outlet = next(p for p in places if p["properties"]["name"] == "Chicken Shack Express")
    lon, lat = outlet["geometry"]["coordinates"]
    r = client.get("/api/safe-spaces/nearest", params={"lon": lon, "lat": lat, "at": "2026-06-17T16:30:00+01:00", "age": 14}, headers=h)
    print(r.status_code, json.dumps(r.json(), indent=1, default=str)[:5000])
    r = client.get("/api/analysis/coverage", params={"at": "2026-06-17T16:30:00+01:00"}, headers=demo_headers["panel"])
    print(r.status_code, json.dumps(r.json(), default=str)[:1500])
    r = client.get("/api/analysis/coverage", params={"at": "2026-06-17T16:30:00+01:00", "when": "Mo-Fr 15:00-19:00"}, headers=h)
    print(r.status_code, json.dumps(r.json(), default=str)[:1500])
