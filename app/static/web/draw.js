// Drawing an area on a Leaflet map (intervention areas, an organisation's service area), and showing one.
// Progressive enhancement: without JavaScript the GeoJSON box the drawer fills is typed or pasted into.
// Each selected point adds a vertex; the polygon is written to the box as GeoJSON (longitude, latitude).

function tiles(map, element) {
  const url = element.dataset.tileUrl;
  if (url) {
    L.tileLayer(url, { maxZoom: 19, attribution: element.dataset.tileAttribution || "" }).addTo(map);
  }
}

function ring(geometry) {
  if (!geometry) return [];
  if (geometry.type === "Polygon") return geometry.coordinates[0];
  if (geometry.type === "MultiPolygon") return geometry.coordinates[0][0];
  return [];
}

function parse(text) {
  try {
    const found = JSON.parse(text);
    if (found && found.type === "Feature") return found.geometry;
    if (found && found.type === "FeatureCollection" && found.features.length) return found.features[0].geometry;
    return found;
  } catch (error) {
    return null;
  }
}

function button(text, onClick) {
  const element = document.createElement("button");
  element.type = "button";
  element.className = "govuk-button govuk-button--secondary";
  element.textContent = text;
  element.addEventListener("click", onClick);
  return element;
}

function areaDrawer(element) {
  const input = document.getElementById(element.dataset.geojsonInput);
  const map = L.map(element, { scrollWheelZoom: false });
  tiles(map, element);
  let points = ring(parse(input.value)).slice(0, -1).map(([x, y]) => [y, x]);
  const shape = L.polygon([], { color: "#1d70b8", weight: 2 }).addTo(map);
  const markers = L.layerGroup().addTo(map);

  function redraw(write) {
    shape.setLatLngs(points);
    markers.clearLayers();
    points.forEach((point) => L.circleMarker(point, { radius: 4, color: "#0b0c0c" }).addTo(markers));
    if (!write) return;
    if (points.length >= 3) {
      const coordinates = points.map(([y, x]) => [Number(x.toFixed(6)), Number(y.toFixed(6))]);
      coordinates.push(coordinates[0]);
      input.value = JSON.stringify({ type: "Polygon", coordinates: [coordinates] });
    } else {
      input.value = "";
    }
  }

  // The stored area (an organisation's service area), drawn grey under the new one.
  const current = element.dataset.current ? parse(element.dataset.current) : null;
  const currentLayer = current ? L.geoJSON(current, { style: { color: "#505a5f", weight: 2, dashArray: "4" } }).addTo(map) : null;
  redraw(false);
  if (points.length >= 3) map.fitBounds(shape.getBounds().pad(0.2));
  else if (currentLayer) map.fitBounds(currentLayer.getBounds().pad(0.1));
  else map.setView([Number(element.dataset.lat), Number(element.dataset.lon)], 14);
  map.on("click", (event) => {
    points.push([event.latlng.lat, event.latlng.lng]);
    redraw(true);
    // Drawing an area says where the intervention is: choose "over an area" for the user.
    const choice = document.querySelector(`input[type=radio][value=area][name=${element.dataset.choose || "location"}]`);
    if (choice) choice.checked = true;
  });
  input.addEventListener("change", () => {
    points = ring(parse(input.value)).slice(0, -1).map(([x, y]) => [y, x]);
    redraw(false);
    if (points.length >= 3) map.fitBounds(shape.getBounds().pad(0.2));
  });
  const group = document.createElement("div");
  group.className = "govuk-button-group";
  group.append(
    button("Undo the last point", () => { points.pop(); redraw(true); }),
    button("Clear the area", () => { points = []; redraw(true); }),
  );
  element.after(group);
}

function areaMap(element) {
  const geometry = parse(element.dataset.area || "null");
  const map = L.map(element, { scrollWheelZoom: false });
  tiles(map, element);
  const layer = L.geoJSON(geometry, { style: { color: "#1d70b8", weight: 2 } }).addTo(map);
  map.fitBounds(layer.getBounds().pad(0.2), { maxZoom: 17 });
}

function start() {
  if (typeof L === "undefined") return;
  document.querySelectorAll("[data-cm-area-drawer]").forEach(areaDrawer);
  document.querySelectorAll("[data-cm-area-map]").forEach(areaMap);
}

// Leaflet is loaded with defer; module scripts run after deferred ones, in document order.
start();
