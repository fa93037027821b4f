// The street context of the small maps (issue 16): internet tiles only where the server gives a tile URL
// (app/web/maps/background.py leaves it empty when a local basemap or the organisation's own street network
// can draw the background, or when the internet is never to be asked), else the organisation's street network
// from /maps/streets.geojson, drawn as thin grey lines under everything else. A council intranet that blocks
// tile servers still gets streets, not a grey box.
export function background(map, element) {
  const url = element.dataset.tileUrl;
  if (url) {
    L.tileLayer(url, { maxZoom: 19, attribution: element.dataset.tileAttribution || "" }).addTo(map);
    return;
  }
  if (!map.getPane("cmStreets")) {
    map.createPane("cmStreets");
    map.getPane("cmStreets").style.zIndex = 250; // above the (empty) tile pane, below every data layer
  }
  fetch("/maps/streets.geojson", { credentials: "same-origin" })
    .then((response) => (response.ok ? response.json() : null))
    .then((streets) => {
      if (!streets) return;
      L.geoJSON(streets, {
        pane: "cmStreets", interactive: false,
        style: { color: "#6f777b", weight: 1.5, opacity: 0.9 },
        attribution: "Streets: the organisation's street network",
      }).addTo(map);
      element.dataset.streetsDrawn = "true";
    })
    .catch(() => {});
}
