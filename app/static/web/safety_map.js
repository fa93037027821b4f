// Safety mapping (issue 21): tap a place, or draw a route or an area, on a phone; see the marks so far coloured
// red, amber or green with the grid squares they were snapped to; the area picture's map; print the plan.
// Progressive enhancement: without JavaScript the session uses the list of places and the typed box, and the
// area picture's table. What is drawn is written to a hidden field of the form as GeoJSON (longitude, latitude).

import { background } from "/static/web/background.js";
const COLOURS = { red: "#d4351c", amber: "#f47738", green: "#00703c" };

function tiles(map, element) {
  background(map, element);
}

function parse(text, fallback) {
  try {
    return JSON.parse(text);
  } catch (error) {
    return fallback;
  }
}

function button(text, onClick) {
  const element = document.createElement("button");
  element.type = "button";
  element.className = "govuk-button govuk-button--secondary govuk-!-margin-bottom-2";
  element.textContent = text;
  element.addEventListener("click", onClick);
  return element;
}

function drawMarks(map, marks) {
  const layer = L.featureGroup().addTo(map);
  marks.forEach((mark) => {
    const colour = COLOURS[mark.rating] || "#505a5f";
    (mark.squares || []).forEach((square) => {
      L.geoJSON(square, { style: { color: colour, weight: 1, fillOpacity: 0.3 } }).addTo(layer);
    });
    if (mark.geometry) {
      L.geoJSON(mark.geometry, {
        style: { color: colour, weight: 4 },
        pointToLayer: (feature, latlng) => L.circleMarker(latlng, { radius: 7, color: "#ffffff", weight: 2, fillColor: colour, fillOpacity: 1 }),
      }).addTo(layer);
    }
  });
  return layer;
}

// The session's map: marks so far, and a drawer for the next one (a tapped point, a route or an area).
function sessionMap(element) {
  element.hidden = false;
  const map = L.map(element, { scrollWheelZoom: false, tap: true });
  tiles(map, element);
  const marks = parse(element.dataset.marks || "[]", []);
  const shown = drawMarks(map, marks);
  if (shown.getLayers().length) map.fitBounds(shown.getBounds().pad(0.3), { maxZoom: 16 });
  else map.setView([Number(element.dataset.lat), Number(element.dataset.lon)], 15);
  if (element.dataset.readonly) return;

  const input = document.getElementById(element.dataset.shapeInput);
  const status = document.querySelector("[data-safety-draw-status]");
  let mode = "point";
  let points = [];
  const drawing = L.layerGroup().addTo(map);

  function write() {
    drawing.clearLayers();
    const lonlat = points.map(([lat, lon]) => [Number(lon.toFixed(6)), Number(lat.toFixed(6))]);
    let geometry = null;
    if (mode === "point" && points.length) geometry = { type: "Point", coordinates: lonlat[lonlat.length - 1] };
    if (mode === "route" && points.length >= 2) geometry = { type: "LineString", coordinates: lonlat };
    if (mode === "area" && points.length >= 3) geometry = { type: "Polygon", coordinates: [[...lonlat, lonlat[0]]] };
    points.forEach((point) => L.circleMarker(point, { radius: 5, color: "#0b0c0c" }).addTo(drawing));
    if (mode === "route" && points.length >= 2) L.polyline(points, { color: "#1d70b8", weight: 4 }).addTo(drawing);
    if (mode === "area" && points.length >= 3) L.polygon(points, { color: "#1d70b8", weight: 3 }).addTo(drawing);
    input.value = geometry ? JSON.stringify(geometry) : "";
    const words = { point: "a place", route: "a route", area: "an area" }[mode];
    const needed = { point: 1, route: 2, area: 3 }[mode];
    status.textContent = geometry
      ? `Drawn on the map: ${words}${mode === "point" ? "" : ` of ${points.length} points`}. Now choose how they feel there and add it.`
      : points.length ? `Keep tapping: ${words} needs ${needed} points.` : `Tap the map to mark ${words}.`;
  }

  map.on("click", (event) => {
    if (mode === "point") points = [];
    points.push([event.latlng.lat, event.latlng.lng]);
    write();
  });

  const modes = document.createElement("div");
  modes.className = "cm-actions";
  const choices = [["point", "Tap a place"], ["route", "Draw a route"], ["area", "Draw an area"]];
  const buttons = choices.map(([value, text]) => {
    const choice = button(text, () => {
      mode = value;
      points = [];
      buttons.forEach((b) => b.setAttribute("aria-pressed", String(b === choice)));
      write();
    });
    choice.setAttribute("aria-pressed", String(value === mode));
    choice.dataset.safetyMode = value;
    return choice;
  });
  modes.append(...buttons,
    button("Undo the last point", () => { points.pop(); write(); }),
    button("Clear the drawing", () => { points = []; write(); }));
  element.after(modes);
  if (input.value) status.textContent = "A drawing is ready to add.";
  else write();
}

// The area picture's map: squares coloured by the most common answer; hot spots young people did not mention.
function areaMap(element) {
  element.hidden = false;
  const map = L.map(element, { scrollWheelZoom: false });
  tiles(map, element);
  const layer = parse(element.dataset.layer || "{}", {});
  const group = L.featureGroup().addTo(map);
  (layer.cells || []).forEach((cell) => {
    // The colour comes from the server (app.services.safety_area.colour): the hot-spot map's layer uses the same.
    const square = L.geoJSON(cell.geometry, { style: { color: COLOURS[cell.colour] || "#505a5f", weight: 2, fillOpacity: 0.45 } });
    const text = document.createElement("div");
    text.textContent = `${cell.label}: unsafe ${cell.red ?? "few"}, not sure ${cell.amber ?? "few"}, safe ${cell.green ?? "few"} of ${cell.maps} maps`;
    square.bindPopup(text);
    square.addTo(group);
  });
  (layer.hot || []).forEach((hot) => {
    const square = L.geoJSON(hot.geometry, { style: { color: "#0b0c0c", weight: 2, dashArray: "6", fillOpacity: 0 } });
    const text = document.createElement("div");
    text.textContent = hot.label;
    square.bindPopup(text);
    square.addTo(group);
  });
  if (group.getLayers().length) map.fitBounds(group.getBounds().pad(0.2), { maxZoom: 16 });
}

function start() {
  document.querySelectorAll("[data-safety-print]").forEach((element) => {
    element.hidden = false;
    element.addEventListener("click", () => window.print());
  });
  if (typeof L === "undefined") return;
  document.querySelectorAll("[data-cm-safety-map]").forEach(sessionMap);
  document.querySelectorAll("[data-cm-safety-area]").forEach(areaMap);
}

// Leaflet is loaded with defer; module scripts run after deferred ones, in document order.
start();
