// Small Leaflet maps on the places pages, and the point picker of the place form. Data come from
// data-* attributes the server rendered (escaped), so no inline script is needed under the CSP.
// Leaflet is loaded by the page (/static/vendor/leaflet), and only where a map is shown.

import { background } from "/static/web/background.js";
function tiles(map, element) {
  background(map, element);
}

function pointStyle(kind) {
  const colours = { concern: "#d4351c", safe_space: "#00703c" };
  return { radius: 7, color: "#0b0c0c", weight: 1, fillColor: colours[kind] || "#1d70b8", fillOpacity: 0.9 };
}

function placesMap(element) {
  const places = JSON.parse(element.dataset.places || "[]");
  const map = L.map(element, { scrollWheelZoom: false });
  element.cmMap = map; // other page scripts read the view (the incidents list's "use the map's area")
  tiles(map, element);
  const layer = L.featureGroup();
  for (const place of places) {
    const marker = L.circleMarker([place.lat, place.lon], pointStyle(place.designation));
    // Text, never HTML: place names are user input (DESIGN.md: popups are an XSS vector).
    const link = document.createElement("a");
    link.href = place.href;
    link.textContent = place.name;
    marker.bindPopup(link);
    layer.addLayer(marker);
  }
  layer.addTo(map);
  if (places.length) {
    map.fitBounds(layer.getBounds().pad(0.2), { maxZoom: 16 });
  } else {
    map.setView([Number(element.dataset.lat || 51.5), Number(element.dataset.lon || -0.12)], 13);
  }
}

function pointPicker(element) {
  const lon = document.getElementById(element.dataset.lonInput);
  const lat = document.getElementById(element.dataset.latInput);
  const start = [Number(lat.value || element.dataset.lat), Number(lon.value || element.dataset.lon)];
  const map = L.map(element, { scrollWheelZoom: false }).setView(start, lat.value ? 17 : 13);
  tiles(map, element);
  let marker = lat.value ? L.marker(start, { keyboard: false }).addTo(map) : null;
  map.on("click", (event) => {
    const { lat: y, lng: x } = event.latlng;
    lat.value = y.toFixed(6);
    lon.value = x.toFixed(6);
    if (marker) marker.setLatLng(event.latlng);
    else marker = L.marker(event.latlng, { keyboard: false }).addTo(map);
  });
}

export function initMaps() {
  if (typeof L === "undefined") return;
  document.querySelectorAll("[data-cm-places-map]").forEach(placesMap);
  document.querySelectorAll("[data-cm-point-picker]").forEach(pointPicker);
}
