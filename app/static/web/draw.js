// Drawing an area on a Leaflet map (a place's outline, intervention areas, an organisation's service area),
// and showing one. Progressive enhancement: without JavaScript the boxes the drawer fills are typed or pasted
// into. Each selected point adds a corner; the polygon is written to the GeoJSON box (longitude, latitude)
// and, where the form has one, to the list of corners (one "longitude, latitude" a line), the keyboard route:
// typing corners there redraws the map.

import { background } from "/static/web/background.js";
function tiles(map, element) {
  background(map, element);
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

// The list of corners: lines of two numbers (longitude, latitude); grid references are read by the server
// only, so a list holding one is not drawn here.
function readPoints(text) {
  const points = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    const match = line.match(/^\s*(-?\d+(?:\.\d+)?)\s*[,;\s]\s*(-?\d+(?:\.\d+)?)\s*$/);
    if (!match) return null;
    const [x, y] = [Number(match[1]), Number(match[2])];
    if (Math.abs(x) > 180 || Math.abs(y) > 90) return null;
    points.push([y, x]);
  }
  if (points.length > 1 && points[0][0] === points.at(-1)[0] && points[0][1] === points.at(-1)[1]) points.pop();
  return points;
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
  const list = element.dataset.pointsInput ? document.getElementById(element.dataset.pointsInput) : null;
  const map = L.map(element, { scrollWheelZoom: false });
  tiles(map, element);
  let points = (list && list.value.trim() && readPoints(list.value)) || ring(parse(input.value)).slice(0, -1).map(([x, y]) => [y, x]);
  const shape = L.polygon([], { color: "#1d70b8", weight: 2 }).addTo(map);
  const markers = L.layerGroup().addTo(map);

  function redraw(write) {
    shape.setLatLngs(points);
    markers.clearLayers();
    points.forEach((point) => L.circleMarker(point, { radius: 4, color: "#0b0c0c" }).addTo(markers));
    if (!write) return;
    const coordinates = points.map(([y, x]) => [Number(x.toFixed(6)), Number(y.toFixed(6))]);
    if (list) list.value = coordinates.map(([x, y]) => `${x}, ${y}`).join("\n");
    if (points.length >= 3) {
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
  if (list) {
    list.addEventListener("change", () => {
      const typed = readPoints(list.value);
      if (!typed) return; // grid references: the server reads them
      points = typed;
      redraw(false);
      if (points.length >= 3) map.fitBounds(shape.getBounds().pad(0.2));
    });
  }
  input.addEventListener("change", () => {
    const pasted = parse(input.value);
    points = ring(pasted).slice(0, -1).map(([x, y]) => [y, x]);
    // The list of corners wins over the GeoJSON box on the server: keep it the same area, or empty it
    // when the pasted area has more than one ring (a list holds one).
    if (list) {
      const simple = pasted && pasted.type === "Polygon" && pasted.coordinates.length === 1;
      list.value = simple ? points.map(([y, x]) => `${x}, ${y}`).join("\n") : "";
    }
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

// "Skip the map": move the keyboard's focus to the list of corners (an in-page link alone only scrolls).
function skipLinks() {
  document.querySelectorAll("a[data-skip-map]").forEach((link) => {
    link.addEventListener("click", (event) => {
      const target = document.getElementById(link.getAttribute("href").slice(1));
      if (!target) return;
      event.preventDefault();
      target.focus();
    });
  });
}

function start() {
  skipLinks();
  if (typeof L === "undefined") return;
  document.querySelectorAll("[data-cm-area-drawer]").forEach(areaDrawer);
  document.querySelectorAll("[data-cm-area-map]").forEach(areaMap);
}

// Leaflet is loaded with defer; module scripts run after deferred ones, in document order.
start();
