// The incidents list's map-area filter, enhanced: a button fills the "Map area" box with the bounds of the
// map as the user has panned and zoomed it. Without JavaScript the box is typed (west, south, east, north).
const button = document.querySelector("[data-use-map-area]");
const input = document.getElementById("bbox");
const mapElement = document.querySelector("[data-cm-places-map]");

if (button && input && mapElement) {
  button.hidden = false;
  button.addEventListener("click", () => {
    const map = mapElement.cmMap;
    if (!map) return;
    const b = map.getBounds();
    input.value = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map((v) => v.toFixed(5)).join(",");
    input.focus();
  });
}
