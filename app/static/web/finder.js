// The safe-space finder's enhancements (the page works without them: a GET form).
// - "Use my location": the browser asks for permission only when the button is pressed; the position
//   fills the longitude and latitude fields and the form is sent.
// - Tapping the map fills the same fields.
// - The results map: the starting point, the safe spaces listed, and the walk to each (along the streets
//   when the street network reaches them, else a dashed straight line).
// Data come from escaped data-* attributes; names are set as text, never HTML (user input).

import { background } from "/static/web/background.js";
function tiles(map, element) {
  background(map, element);
}

function fields() {
  return { lon: document.getElementById("lon"), lat: document.getElementById("lat"),
           where: document.getElementById("where"), form: document.querySelector("[data-finder-form]"),
           status: document.querySelector("[data-finder-status]") };
}

function setPoint(lon, lat) {
  const f = fields();
  f.lon.value = lon.toFixed(6);
  f.lat.value = lat.toFixed(6);
  f.where.value = "";
}

function picker(element) {
  const f = fields();
  const start = [Number(element.dataset.lat), Number(element.dataset.lon)];
  const map = L.map(element, { scrollWheelZoom: false }).setView(start, f.lat.value ? 16 : 14);
  tiles(map, element);
  let marker = f.lat.value ? L.marker(start, { keyboard: false }).addTo(map) : null;
  map.on("click", (event) => {
    setPoint(event.latlng.lng, event.latlng.lat);
    if (marker) marker.setLatLng(event.latlng);
    else marker = L.marker(event.latlng, { keyboard: false }).addTo(map);
    f.status.textContent = "Point chosen on the map. Press Find safe spaces.";
  });
}

function locate(button) {
  button.addEventListener("click", () => {
    const f = fields();
    if (!navigator.geolocation) {
      f.status.textContent = "This browser cannot share your location: type a place or street name.";
      return;
    }
    f.status.textContent = "Finding your location…";
    navigator.geolocation.getCurrentPosition(
      (position) => {
        setPoint(position.coords.longitude, position.coords.latitude);
        f.status.textContent = "Location found.";
        f.form.requestSubmit();
      },
      () => { f.status.textContent = "Your location is not available: type a place or street name, or tap the map."; },
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 },
    );
  });
}

function resultsMap(element) {
  const data = JSON.parse(element.dataset.finder || "{}");
  const map = L.map(element, { scrollWheelZoom: false });
  tiles(map, element);
  const layer = L.featureGroup();
  const origin = [data.origin.lat, data.origin.lon];
  L.circleMarker(origin, { radius: 8, color: "#0b0c0c", weight: 2, fillColor: "#ffdd00", fillOpacity: 1 })
    .bindTooltip("You are here").addTo(layer);
  for (const place of data.places || []) {
    const to = [place.lat, place.lon];
    // Along the streets when the server found the walk on the street network; else a dashed straight line.
    if (Array.isArray(place.route) && place.route.length > 1) {
      L.polyline(place.route, { color: "#1d70b8", weight: 4 }).addTo(layer);
    } else {
      L.polyline([origin, to], { color: "#1d70b8", weight: 3, dashArray: "6 6" }).addTo(layer);
    }
    const marker = L.circleMarker(to, { radius: 7, color: "#0b0c0c", weight: 1, fillColor: "#00703c", fillOpacity: 0.9 });
    marker.bindTooltip(`${place.name}, ${place.minutes} min`);  // a tooltip's string is set as text below
    marker.getTooltip().setContent(document.createTextNode(`${place.name}, ${place.minutes} min`));
    layer.addLayer(marker);
  }
  layer.addTo(map);
  map.fitBounds(layer.getBounds().pad(0.2), { maxZoom: 17 });
}

if (typeof L !== "undefined") {
  document.querySelectorAll("[data-finder-enhanced]").forEach((element) => { element.hidden = false; });
  document.querySelectorAll("[data-cm-finder-picker]").forEach(picker);
  document.querySelectorAll("[data-cm-finder-map]").forEach(resultsMap);
}
document.querySelectorAll("[data-finder-locate]").forEach(locate);
const whereInput = document.getElementById("where");
if (whereInput) {
  // Typing a name again means "not the point chosen before".
  whereInput.addEventListener("input", () => {
    const f = fields();
    f.lon.value = "";
    f.lat.value = "";
  });
}
