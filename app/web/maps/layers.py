"""Building blocks shared by the map builders in :mod:`app.web.maps.render`.

Everything that puts text into a page goes through :func:`escape_text` (HTML, and safe inside the
JavaScript template literals folium wraps popups and tooltips in) or :func:`script_json` (JSON that
cannot close a ``<script>`` element). Controls are Leaflet controls, so they stay visible in full
screen, and no element uses inline event-handler attributes (the app sends a Content Security Policy).
"""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import folium
import folium.plugins
import geopandas as gpd
import numpy as np
import shapely
from branca.element import Element, Figure, MacroElement
from folium.template import Template
from folium.utilities import JsCode
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from app.web.maps.assets import DEFAULT_VENDOR_BASE_URL, localise_assets

OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
OSM_ATTRIBUTION = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'

# Binds the escaped tooltip/popup strings that we precompute into each feature's properties.
BIND_TOOLTIP_AND_POPUP = JsCode(
    """function (feature, layer) {
        var p = feature.properties || {};
        if (p.tooltip) { layer.bindTooltip(p.tooltip, {sticky: true}); }
        if (p.popup) { layer.bindPopup(p.popup, {maxWidth: 340}); }
    }"""
)

_CSS = """
.contextmap-box { background: rgba(255,255,255,0.94); padding: 6px 9px; border-radius: 5px;
  box-shadow: 0 1px 4px rgba(0,0,0,0.35); font: 13px/1.35 system-ui, sans-serif; max-width: 340px;
  max-height: 60vh; overflow: auto; }
.contextmap-box h2 { font-size: 14px; margin: 0 0 4px; }
.contextmap-box table { border-collapse: collapse; width: 100%; }
.contextmap-box td, .contextmap-box th { padding: 1px 4px; vertical-align: top; text-align: left; }
.contextmap-swatch { display: inline-block; width: 14px; height: 14px; margin-right: 5px;
  vertical-align: middle; border: 1px solid #555; }
.contextmap-popup dt { font-weight: 600; }
.contextmap-popup dd { margin: 0 0 4px; }
.contextmap-next { margin: 4px 0 0; font-weight: 600; }
.contextmap-symbol { color: #ffffff; font-size: 11px; line-height: 16px; text-align: center; }
.contextmap-box h3 { font-size: 13px; margin: 6px 0 2px; }
.contextmap-summary { max-height: 42vh; }
.contextmap-fold { cursor: pointer; font-weight: 600; }
.contextmap-box:focus, .contextmap-box summary:focus { outline: 3px solid #fd0; }
@media (max-width: 640px) {
  .contextmap-box { max-width: 62vw; max-height: 45vh; font-size: 12px; }
  .contextmap-filters { max-width: 70vw; }
}
.contextmap-box svg, .leaflet-popup-content svg { max-width: 100%; height: auto; }
.leaflet-popup-content h2 { font-size: 14px; margin: 6px 0 2px; }
.leaflet-container.contextmap-has-streets { background: #f8f8f5; }
.contextmap-swipe-divider { position: absolute; top: 0; bottom: 0; width: 3px; margin-left: -1px;
  background: #222; z-index: 650; pointer-events: none; }
"""


def escape_text(value: object) -> str:
    """Escape any value for HTML and for the JavaScript template literals folium emits.

    ``html.escape`` covers ``<>&"'``; folium wraps popup and tooltip HTML in backtick template
    literals, where a backtick, ``${`` or a backslash would still be live, so those are escaped as
    character references too.

    Examples
    --------
    >>> escape_text("<img src=x onerror=alert(1)> `${x}`")
    '&lt;img src=x onerror=alert(1)&gt; &#96;&#36;&#123;x&#125;&#96;'
    >>> escape_text(None)
    ''
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    # Braces too: branca compiles each element's rendered script as a Jinja template again, so a
    # "{{ ... }}" in user text would be evaluated on the server (template injection). See
    # :func:`jinja_inert`.
    return (
        html.escape(str(value), quote=True)
        .replace("`", "&#96;")
        .replace("$", "&#36;")
        .replace("\\", "&#92;")
        .replace("{", "&#123;")
        .replace("}", "&#125;")
    )


def script_json(value: Any) -> str:
    """Serialise ``value`` as JSON that is safe inside an inline ``<script>``.

    Examples
    --------
    >>> script_json({"name": "</script>&"})
    '{"name": "\\\\u003c/script\\\\u003e\\\\u0026"}'
    """
    return jinja_inert(
        json.dumps(value, ensure_ascii=False, default=str)
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def jinja_inert(json_text: str) -> str:
    """JSON text in which no Jinja delimiter (``{{``, ``{%``, ``{#``) survives.

    branca's ``MacroElement.render`` wraps each element's rendered script in a new ``Element``, whose
    text is compiled and rendered as a Jinja template when the page renders. A place named
    ``{{ lipsum.__globals__.os.getpid() }}`` would run on the server. JSON never puts ``{`` before
    ``{``, ``%`` or ``#`` outside a string, so every such pair is inside a string, where escaping the
    second character as ``\\uXXXX`` keeps the value and breaks the delimiter.

    Examples
    --------
    >>> jinja_inert('{"name": "{{ 7*7 }} {% x %} {#"}')
    '{"name": "{\\\\u007b 7*7 }} {\\\\u0025 x %} {\\\\u0023"}'
    """
    return json_text.replace("{{", "{\\u007b").replace("{%", "{\\u0025").replace("{#", "{\\u0023")


def definition_list(rows: Iterable[tuple[str, object]], title: object | None = None) -> str:
    """Escaped popup HTML: an optional bold title and ``label: value`` rows (empty values skipped)."""
    parts = ['<div class="contextmap-popup">']
    if title is not None:
        parts.append(f"<strong>{escape_text(title)}</strong>")
    parts.append("<dl>")
    for label, value in rows:
        text = escape_text(value)
        if text:
            parts.append(f"<dt>{escape_text(label)}</dt><dd>{text}</dd>")
    parts.append("</dl></div>")
    return "".join(parts)


def base_map(*, tiles: str | None, attribution: str | None, max_zoom: int = 19) -> folium.Map:
    """A map with a scale bar, full-screen control and (optionally) one external tile layer.

    ``tiles=None`` gives a map with no basemap at all; the data layers never depend on tiles.
    """
    m = folium.Map(tiles=None, control_scale=True, prefer_canvas=False, max_zoom=max_zoom)
    if tiles is not None:
        folium.TileLayer(
            tiles=tiles,
            attr=attribution or "Map tiles",
            name="Base map",
            max_zoom=max_zoom,
            overlay=False,
            control=True,
        ).add_to(m)
    folium.plugins.Fullscreen(position="topleft").add_to(m)
    return m


def feature_group(m: folium.Map, name: str, *, show: bool = True) -> folium.FeatureGroup:
    """Add a named overlay layer (the name is what the layer control and browser tests see)."""
    group = folium.FeatureGroup(name=name, overlay=True, control=True, show=show)
    group.add_to(m)
    return group


_BOX_LABELS = {"filters": "Map title, pages and filters", "legend": "Legend", "summary": "Summary",
               "place": "About this place"}


class HtmlControl(MacroElement):
    """A Leaflet control holding pre-escaped HTML (legend, summary or information box).

    The HTML is passed to the browser as a JSON string (:func:`script_json`) and set as the
    control's ``innerHTML``; callers build it only from :func:`escape_text` output.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var control = L.control({position: {{ this.position|tojson }}});
            control.onAdd = function () {
                var div = L.DomUtil.create("div", "contextmap-box " + {{ this.css_class|tojson }});
                div.setAttribute({{ this.data_attribute|tojson }}, "");
                // A named region that takes focus: its content is reachable and scrollable by keyboard
                // (axe: region, scrollable-region-focusable).
                div.setAttribute("role", "region");
                div.setAttribute("aria-label", {{ this.label|tojson }});
                div.tabIndex = 0;
                div.innerHTML = {{ this.html_json }};
                // On a phone the boxes fold behind their summary buttons so the map keeps the screen.
                if (window.matchMedia("(max-width: 640px)").matches) {
                    div.querySelectorAll("details").forEach(function (d) { d.open = false; });
                }
                L.DomEvent.disableClickPropagation(div);
                L.DomEvent.disableScrollPropagation(div);
                return div;
            };
            control.addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}
        """
    )

    def __init__(self, safe_html: str, *, position: str = "bottomright", kind: str = "legend") -> None:
        super().__init__()
        self._name = "HtmlControl"
        self.position = position
        self.css_class = f"contextmap-{kind}"
        self.data_attribute = f"data-contextmap-{kind}"
        self.label = _BOX_LABELS.get(kind, kind.replace("_", " ").capitalize())
        if kind != "filters":  # the filter box folds its own form (map_controls.html)
            safe_html = (f'<details open><summary class="contextmap-fold">{escape_text(self.label)}</summary>'
                         f"{safe_html}</details>")
        self.html_json = script_json(safe_html)

    def render(self, **kwargs: Any) -> str:
        add_stylesheet(self)
        return super().render(**kwargs)  # type: ignore[no-any-return]


class StreetLayer(MacroElement):
    """The organisation's own streets as the map's background, for maps with no internet basemap.

    Drawn in their own pane between Leaflet's tile pane (z-index 200) and the overlay pane (400), so
    every data layer sits on top whatever order layers are added in; not interactive, so the streets
    never take a click, a tab stop or a screen reader's attention from the data. The lines carry the
    ``contextmap-street`` class, which the browser tests count.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var map = {{ this._parent.get_name() }};
            var pane = map.createPane("contextmapStreets");
            pane.style.zIndex = 250;
            pane.style.pointerEvents = "none";
            map.getContainer().classList.add("contextmap-has-streets");
            L.geoJSON({{ this.data_json }}, {
                pane: "contextmapStreets", interactive: false,
                style: {color: "#9ea3a8", weight: 1.2, opacity: 0.9, className: "contextmap-street"}
            }).addTo(map);
        })();
        {% endmacro %}
        """
    )

    def __init__(self, geometry: Mapping[str, Any]) -> None:
        super().__init__()
        self._name = "StreetLayer"
        self.data_json = script_json(dict(geometry))


PROTOMAPS_LEAFLET = "protomaps-leaflet/dist/protomaps-leaflet.js"  # npm, app/static/package.json


class LocalBasemap(MacroElement):
    """The admin's local basemap (``contextmap basemap load``), served by this service at ``/basemap/{z}/{x}/{y}``.

    Raster archives are an ordinary Leaflet tile layer. Vector archives (MVT) are drawn in the browser by
    protomaps-leaflet (npm, vendored under ``/static/vendor``) with its "light" flavour: it reads any
    ``{z}/{x}/{y}`` URL, and styles the Protomaps basemap layers (earth, water, landuse, roads, buildings,
    places). Both sit in their own pane under the street and data panes, take no clicks, and stop at the
    archive's zoom levels (deeper zooms enlarge the last level's tiles).
    """

    _template = Template(
        """
        {% macro header(this, kwargs) %}
        {% if this.vector %}<script src="{{ this.script_url }}"></script>{% endif %}
        {% endmacro %}
        {% macro script(this, kwargs) %}
        (function () {
            var map = {{ this._parent.get_name() }};
            var pane = map.createPane("contextmapBasemap");
            pane.style.zIndex = 200;
            pane.style.pointerEvents = "none";
            map.getContainer().classList.add("contextmap-has-basemap");
            var options = {{ this.options_json }};
            {% if this.vector %}
            options.flavor = "light";
            options.lang = "en";
            var layer = protomapsL.leafletLayer(options);
            {% else %}
            var layer = L.tileLayer(options.url, options);
            {% endif %}
            layer.addTo(map);
        })();
        {% endmacro %}
        """
    )

    def __init__(self, *, vector: bool, minzoom: int, maxzoom: int, attribution: str | None,
                 url: str = "/basemap/{z}/{x}/{y}", vendor_base: str = "/static/vendor") -> None:
        super().__init__()
        self._name = "LocalBasemap"
        self.vector = vector
        self.script_url = f"{vendor_base}/{PROTOMAPS_LEAFLET}"
        options: dict[str, Any] = {
            "url": url, "pane": "contextmapBasemap", "attribution": escape_text(attribution or "Local basemap"),
            "className": "contextmap-basemap", "maxZoom": 19,
        }
        if vector:
            options["maxDataZoom"] = maxzoom
        else:
            options.update(minNativeZoom=minzoom, maxNativeZoom=maxzoom)
        self.options_json = script_json(options)


class FinderLayer(MacroElement):
    """The finder's answer on the map: the starting point (a black disc in a white ring, named) and a dashed
    straight line to each safe space listed beside the map (direction, not a route: the list says so).
    The view moves to show them all."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var map = {{ this._parent.get_name() }};
            var data = {{ this.data_json }};
            var group = L.featureGroup().addTo(map);
            var start = [data.origin[1], data.origin[0]];
            data.places.forEach(function (place) {
                L.polyline([start, [place.lat, place.lon]], {color: "#0b0c0c", weight: 2, dashArray: "6 6",
                    className: "contextmap-finder-line", interactive: false}).addTo(group);
            });
            var marker = L.circleMarker(start, {radius: 10, color: "#ffffff", weight: 3, fillColor: "#0b0c0c",
                fillOpacity: 1, className: "contextmap-finder-start"}).bindTooltip(data.tooltip).addTo(group);
            if (marker.getElement()) {
                marker.getElement().setAttribute("role", "img");
                marker.getElement().setAttribute("aria-label", {{ this.label_json }});
            }
            map.fitBounds(group.getBounds().pad(0.25), {maxZoom: 16});
        })();
        {% endmacro %}
        """
    )

    def __init__(self, origin: tuple[float, float], label: str, places: Sequence[Mapping[str, Any]]) -> None:
        super().__init__()
        self._name = "FinderLayer"
        # The tooltip is HTML (escaped here); the accessible name is set as text.
        self.data_json = _script_string({"origin": list(origin), "tooltip": escape_text(f"Starting point: {label}"),
                                         "places": [{"lon": p["lon"], "lat": p["lat"]} for p in places]})
        self.label_json = _text_json(f"Starting point: {label}")


def add_stylesheet(element: Element) -> None:
    """Add contextmap's small stylesheet (boxes, swatches, swipe divider) to the page once."""
    figure = element.get_root()
    if isinstance(figure, Figure):
        figure.header.add_child(Element(f"<style>{_CSS}</style>"), name="contextmap_css")


def legend_html(title: str, entries: Sequence[tuple[str, str]], note: str | None = None) -> str:
    """Escaped legend HTML: ``entries`` are (CSS colour, label) pairs."""
    rows = "".join(
        f'<div><span class="contextmap-swatch" style="background:{escape_text(colour)}"></span>'
        f"{escape_text(label)}</div>"
        for colour, label in entries
    )
    note_html = f"<div><small>{escape_text(note)}</small></div>" if note else ""
    return f"<h2>{escape_text(title)}</h2>{rows}{note_html}"


class PageData(MacroElement):
    """Publishes a map's data as ``window.contextmapData[key]`` (script-safe JSON), for tests and tools.

    Only what the map already draws belongs here: the page's privacy is the caller's inputs'.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        window.contextmapData = window.contextmapData || {};
        window.contextmapData[{{ this.key|tojson }}] = {{ this.data_json }};
        {% endmacro %}
        """
    )

    def __init__(self, key: str, data: Any) -> None:
        super().__init__()
        self._name = "PageData"
        self.key = key
        self.data_json = script_json(data)


class LayerRegistry(MacroElement):
    """Publishes the map's layer names for browser checks.

    Sets ``window.contextmapLayers`` (a list of names) and a ``data-contextmap-layers`` attribute
    (the same list as JSON) on the map's container element.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var names = {{ this.names_json }};
            window.contextmapLayers = names;
            {{ this._parent.get_name() }}.getContainer().setAttribute(
                "data-contextmap-layers", JSON.stringify(names));
        })();
        {% endmacro %}
        """
    )

    def __init__(self, names: Sequence[str]) -> None:
        super().__init__()
        self._name = "LayerRegistry"
        self.names = list(names)
        self.names_json = script_json(self.names)


class PhoneLayerControl(MacroElement):
    """On a phone, fold the layer list behind Leaflet's own "Layers" button (tap or focus opens it).

    Leaflet's ``collapsed`` option is fixed when the control is made; the desktop keeps the list open, so
    here, at 640 px and narrower, the expanded class is removed; the button opens it, the map closes it.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            if (!window.matchMedia("(max-width: 640px)").matches) { return; }
            var map = {{ this._parent.get_name() }};
            map.getContainer().querySelectorAll(".leaflet-control-layers").forEach(function (control) {
                control.classList.remove("leaflet-control-layers-expanded");
                var button = control.querySelector(".leaflet-control-layers-toggle");
                if (!button) { return; }
                button.setAttribute("aria-label", "Layers");
                // Leaflet itself opens the list on the button's focus; a tap on the map closes it.
                button.addEventListener("click", function (event) {
                    event.preventDefault();
                    control.classList.add("leaflet-control-layers-expanded");
                });
                map.on("click", function () { control.classList.remove("leaflet-control-layers-expanded"); });
            });
        })();
        {% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "PhoneLayerControl"


def overlay_names(m: folium.Map) -> list[str]:
    """Names of the overlay layers directly on ``m``, in the order they were added."""
    return [
        child.layer_name
        for child in m._children.values()
        if isinstance(child, folium.map.Layer) and child.overlay and child.control
    ]


def finish_map(
    m: folium.Map,
    bounds: tuple[float, float, float, float] | None,
    *,
    extra_layer_names: Sequence[str] = (),
    vendor_base_url: str = DEFAULT_VENDOR_BASE_URL,
) -> folium.Map:
    """Add the layer control and layer registry, fit to ``bounds`` (minx, miny, maxx, maxy), localise."""
    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    PhoneLayerControl().add_to(m)
    LayerRegistry([*overlay_names(m), *extra_layer_names]).add_to(m)
    if bounds is not None and all(math.isfinite(v) for v in bounds):
        minx, miny, maxx, maxy = bounds
        m.fit_bounds([[miny, minx], [maxy, maxx]], max_zoom=17)
    else:
        m.location = [54.0, -2.0]  # Great Britain, when there is nothing to show
        m.options["zoom"] = 6
    return localise_assets(m, vendor_base_url)


def combined_bounds(
    *frames: gpd.GeoDataFrame | BaseGeometry | None,
) -> tuple[float, float, float, float] | None:
    """Total bounds of several frames/geometries (EPSG:4326), ignoring empty ones."""
    boxes = []
    for frame in frames:
        if frame is None:
            continue
        if isinstance(frame, BaseGeometry):
            if not frame.is_empty:
                boxes.append(frame.bounds)
        elif len(frame) and not frame.geometry.is_empty.all():
            boxes.append(tuple(frame.total_bounds))
    if not boxes:
        return None
    array = np.asarray(boxes, dtype=float)
    return (array[:, 0].min(), array[:, 1].min(), array[:, 2].max(), array[:, 3].max())


def round_geometry(geometry: BaseGeometry) -> dict[str, Any]:
    """GeoJSON geometry with coordinates rounded to 6 decimals (about 0.1 m): smaller pages."""
    return dict(mapping(shapely.transform(geometry, _round_coordinates)))


def _round_coordinates(coordinates: np.ndarray) -> np.ndarray:
    return np.round(coordinates, 6)


def feature_collection(
    geometries: Iterable[BaseGeometry], properties: Iterable[Mapping[str, Any]]
) -> dict[str, Any]:
    """A GeoJSON FeatureCollection with numeric ids (folium needs ids to style features).

    Coordinates are rounded to 6 decimals (about 0.1 m) in one vectorised pass: pages with thousands
    of cells are built in milliseconds, not seconds.
    """
    kept = [
        (i, g, dict(p))
        for i, (g, p) in enumerate(zip(geometries, properties, strict=True))
        if g is not None and not g.is_empty
    ]
    rounded = shapely.to_geojson(
        shapely.transform(np.array([g for _, g, _ in kept], dtype=object), _round_coordinates)
    )
    return {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "id": i, "geometry": json.loads(text), "properties": p}
            for (i, _, p), text in zip(kept, rounded, strict=True)
        ],
    }


def styled_geojson(
    parent: folium.map.Layer | folium.Map,
    collection: dict[str, Any],
    *,
    name: str | None = None,
    **options: Any,
) -> folium.GeoJson:
    """Add a GeoJson layer whose features carry their own ``style``, ``tooltip`` and ``popup``.

    Styles are read from each feature's properties in the browser (folium's ``style_function``
    would emit one JavaScript ``case`` per feature, which bloats pages with many cells). The features
    are added by a script line of their own (:class:`GeoJsonData`), not through folium's template:
    branca compiles every element's rendered script as a Jinja template once more, which for a
    megabyte of cells takes most of a second.
    """
    layer = folium.GeoJson(
        {"type": "FeatureCollection", "features": []},
        name=name,
        control=False,
        on_each_feature=BIND_TOOLTIP_AND_POPUP,
        style=STYLE_FROM_PROPERTIES,
        **options,
    )
    layer.add_child(GeoJsonData(collection))
    layer.add_to(parent)
    return layer


STYLE_FROM_PROPERTIES = JsCode("function (feature) { return (feature.properties || {}).style || {}; }")


class RawScript(Element):
    """Script text that goes into the page as it is, never compiled as a Jinja template."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self._name = "RawScript"
        self.text = text

    def render(self, **kwargs: Any) -> str:
        return self.text


class GeoJsonData(Element):
    """Adds a FeatureCollection to its parent ``folium.GeoJson`` with one ``addData`` call."""

    def __init__(self, collection: Mapping[str, Any]) -> None:
        super().__init__()
        self._name = "GeoJsonData"
        self.data_json = script_json(collection)

    def render(self, **kwargs: Any) -> str:
        figure = self.get_root()
        if isinstance(figure, Figure) and self._parent is not None:
            figure.script.add_child(
                RawScript(f"{self._parent.get_name()}.addData({self.data_json});"), name=self.get_name()
            )
        return ""


class PointBudget:
    """Counts individual point markers against the map's ``max_points`` cap.

    Privacy and page size: no map embeds more than ``max_points`` individual points. A layer whose
    points do not fit in what is left is drawn as aggregated grid cells instead.
    """

    def __init__(self, max_points: int) -> None:
        if max_points < 0:
            raise ValueError(f"max_points must be >= 0, got {max_points}")
        self.remaining = max_points

    def take(self, n: int) -> bool:
        """Reserve ``n`` markers; ``False`` (and nothing reserved) if they do not fit."""
        if n > self.remaining:
            return False
        self.remaining -= n
        return True


def aggregate_points(points: gpd.GeoDataFrame, cell_size_m: float) -> gpd.GeoDataFrame:
    """Count point features per square grid cell of ``cell_size_m`` metres.

    The grid is built in the frame's local UTM zone (metres) and returned in EPSG:4326 with a
    ``count`` column; only cells holding at least one point are returned.
    """
    if cell_size_m <= 0:
        raise ValueError(f"cell_size_m must be positive, got {cell_size_m}")
    if points.empty:
        return gpd.GeoDataFrame({"count": []}, geometry=[], crs="EPSG:4326")
    metric_crs = points.estimate_utm_crs()
    projected = points.to_crs(metric_crs).geometry.representative_point()
    ix = np.floor(projected.x.to_numpy() / cell_size_m).astype(np.int64)
    iy = np.floor(projected.y.to_numpy() / cell_size_m).astype(np.int64)
    keys, counts = np.unique(np.column_stack([ix, iy]), axis=0, return_counts=True)
    boxes = shapely.box(
        keys[:, 0] * cell_size_m,
        keys[:, 1] * cell_size_m,
        (keys[:, 0] + 1) * cell_size_m,
        (keys[:, 1] + 1) * cell_size_m,
    )
    cells = gpd.GeoDataFrame({"count": counts.astype(int)}, geometry=boxes, crs=metric_crs)
    return cells.to_crs("EPSG:4326")


def is_point(geometry: BaseGeometry | None) -> bool:
    return geometry is not None and not geometry.is_empty and geometry.geom_type == "Point"


def add_point_or_cells(
    group: folium.FeatureGroup,
    frame: gpd.GeoDataFrame,
    budget: PointBudget,
    *,
    popup: Any,
    tooltip: Any,
    point_style: Any,
    cell_size_m: float,
    what: str,
    colour: str,
) -> bool:
    """Draw ``frame``'s rows: polygons as shapes, points as markers or, over budget, as cells.

    Parameters
    ----------
    popup, tooltip : callable
        ``row -> escaped HTML`` (use :func:`escape_text`).
    point_style : callable
        ``row -> dict`` of ``folium.CircleMarker`` options.
    what : str
        Plural noun for aggregated cells' tooltips ("places of concern").

    Returns
    -------
    bool
        ``True`` if the points were aggregated into cells.
    """
    if frame is None or frame.empty:
        return False
    point_mask = frame.geometry.apply(is_point).to_numpy()
    shapes = frame[~point_mask & ~frame.geometry.is_empty.to_numpy() & frame.geometry.notna().to_numpy()]
    points = frame[point_mask]
    if len(shapes):
        styled_geojson(
            group,
            feature_collection(
                shapes.geometry,
                (
                    {
                        "tooltip": tooltip(row),
                        "popup": popup(row),
                        "style": {"color": colour, "weight": 2, "fillColor": colour, "fillOpacity": 0.25},
                    }
                    for row in shapes.itertuples()
                ),
            ),
        )
    if points.empty:
        return False
    if budget.take(len(points)):
        CircleMarkers(
            [
                (row.geometry.y, row.geometry.x, with_symbol(point_style(row), column(row, "kind")), tooltip(row),
                 popup(row))
                for row in points.itertuples()
            ]
        ).add_to(group)
        return False
    cells = aggregate_points(points, cell_size_m)
    styled_geojson(
        group,
        feature_collection(
            cells.geometry,
            (
                {
                    "tooltip": escape_text(f"{count} {what} in this {cell_size_m:g} m square"),
                    "style": {"color": colour, "weight": 1, "fillColor": colour, "fillOpacity": 0.45},
                    "aggregated": True,
                }
                for count in cells["count"]
            ),
        ),
    )
    return True


def _script_string(value: object) -> str:
    """JSON for an inline script: ``<``, ``>`` and line separators escaped (``&`` kept, so entity-escaped
    text such as ``&lt;img&gt;`` still reads as itself in the page source), Jinja-inert."""
    return jinja_inert(
        json.dumps(value, ensure_ascii=False, default=str)
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


# A symbol per kind of place (Font Awesome 6 free, solid; vendored, already on every map page), drawn in
# white inside the marker's coloured disc: the colour says what the place is to us (concern, safe space open
# or closed), the symbol what kind of place it is. Decorative: the marker's accessible name says both.
PLACE_SYMBOLS = {
    "fast_food": "fa-burger", "takeaway": "fa-bag-shopping", "library": "fa-book", "park": "fa-tree",
    "sports_cage": "fa-futbol", "school": "fa-school", "college": "fa-graduation-cap",
    "youth_club": "fa-people-group", "community_centre": "fa-people-roof", "leisure_centre": "fa-person-swimming",
    "shopping_centre": "fa-cart-shopping", "shop": "fa-store", "transport_hub": "fa-bus",
    "bus_route": "fa-bus-simple", "housing_estate": "fa-building", "stairwell": "fa-stairs", "hotel": "fa-hotel",
    "arcade": "fa-gamepad", "faith_setting": "fa-place-of-worship", "street": "fa-road",
    "other": "fa-location-dot",
}
SYMBOL_NOTE = "The symbol in a circle is the kind of place (a book: a library; a bus: a transport hub)."
SYMBOL_RADIUS = 10  # px: room for a 12 px symbol inside the white ring


def with_symbol(style: Mapping[str, Any], kind: object) -> dict[str, Any]:
    """The marker style with its place kind's symbol (none for things that are not places)."""
    symbol = PLACE_SYMBOLS.get(str(kind)) if kind is not None else None
    if symbol is None:
        return dict(style)
    return {**style, "symbol": symbol, "kind_label": str(kind).replace("_", " "),
            "radius": max(float(style.get("radius", 7)), SYMBOL_RADIUS)}


_TAGS = re.compile(r"<[^>]+>")


def _plain(html_text: str) -> str:
    """Escaped HTML (a tooltip) as the plain words of an accessible name."""
    return " ".join(html.unescape(_TAGS.sub(" ", html_text)).split())


_OPAQUE = str.maketrans({c: f"\\u{ord(c):04x}" for c in "<>&'`${}\u2028\u2029"})


def _text_json(text: str) -> str:
    """Plain text as a JavaScript string literal in which no markup, template or quote character appears
    as itself (each is a \\u escape), for ``setAttribute``: the page's source never holds user text raw."""
    return json.dumps(text, ensure_ascii=False).translate(_OPAQUE)


_LEAFLET_OPTION = {"fill_opacity": "fillOpacity", "fill_color": "fillColor", "dash_array": "dashArray"}


def _outlined(style: Mapping[str, Any]) -> dict[str, Any]:
    """A marker filled with its colour inside a white ring, so a red place stays visible on a red cell."""
    style = dict(style)
    if "fill_color" not in style and "color" in style:
        style["fill_color"], style["color"] = style["color"], "#ffffff"
        style["fill_opacity"] = max(float(style.get("fill_opacity", 0.9)), 0.9)
    return style


class CircleMarkers(MacroElement):
    """Many circle markers with tooltips and popups, written by one template.

    A ``folium.CircleMarker`` with a ``Popup`` compiles Jinja templates per marker (about 8 ms for
    each); at the map's point cap that would take seconds. Here every marker is one line of script.
    Tooltip and popup HTML must come from :func:`escape_text` (they are passed as JSON strings, so
    nothing in them can end the script either).
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var group = {{ this._parent.get_name() }};
            // Each marker is named for assistive technology (its tooltip's words) once Leaflet has drawn it.
            function named(marker, label) {
                marker.on("add", function () {
                    var element = marker.getElement();
                    if (element) { element.setAttribute("role", "img"); element.setAttribute("aria-label", label); }
                });
                return marker;
            }
            function symbol(location, icon) {
                // The kind's symbol on top of the disc: not interactive, so clicks and focus reach the disc.
                L.marker(location, {icon: L.divIcon({className: "contextmap-symbol", iconSize: [16, 16],
                    html: '<i class="fa-solid ' + icon + '" aria-hidden="true"></i>'}),
                    interactive: false, keyboard: false, pane: "markerPane"}).addTo(group);
            }
            {%- for m in this.markers %}
            named(L.circleMarker({{ m.location }}, {{ m.options }}), {{ m.label }})
                .bindTooltip({{ m.tooltip }}, {sticky: true}).bindPopup({{ m.popup }}, {maxWidth: 340}).addTo(group);
            {%- if m.symbol %}
            symbol({{ m.location }}, {{ m.symbol }});
            {%- endif %}
            {%- endfor %}
        })();
        {% endmacro %}
        """
    )

    def __init__(self, markers: Sequence[tuple[float, float, Mapping[str, Any], str, str]]) -> None:
        super().__init__()
        self._name = "CircleMarkers"
        self.markers = []
        for lat, lon, style, tooltip_html, popup_html in markers:
            options = dict(style)
            symbol, kind_label = options.pop("symbol", None), options.pop("kind_label", None)
            label = _plain(tooltip_html) + (f" ({kind_label})" if kind_label else "")
            self.markers.append({
                "location": f"[{round(float(lat), 6)}, {round(float(lon), 6)}]",
                "options": _script_string({_LEAFLET_OPTION.get(k, k): v for k, v in _outlined(options).items()}),
                "tooltip": _script_string(tooltip_html),
                "popup": _script_string(popup_html),
                "label": _text_json(label),
                "symbol": _script_string(symbol) if symbol else None,
            })


def column(row: Any, name: str, default: Any = None) -> Any:
    """A row attribute from ``itertuples()`` that may be missing or NaN."""
    value = getattr(row, name, default)
    if isinstance(value, float) and math.isnan(value):
        return default
    return value


class NearestOpenSafeSpaces(MacroElement):
    """Click anywhere on the map: a popup lists the nearest open safe spaces (straight-line distance).

    Everything happens in the browser with no network call: the open safe spaces' names and
    coordinates are embedded as JSON (names already HTML-escaped, JSON made script-safe), and the
    distance is the haversine great-circle distance.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var map = {{ this._parent.get_name() }};
            var spaces = {{ this.spaces_json }};
            var speed = {{ this.walking_speed|tojson }};
            function metres(a, b) {
                var r = 6371008.8, rad = Math.PI / 180;
                var dlat = (b[0] - a[0]) * rad, dlon = (b[1] - a[1]) * rad;
                var h = Math.sin(dlat / 2) * Math.sin(dlat / 2) + Math.cos(a[0] * rad) *
                    Math.cos(b[0] * rad) * Math.sin(dlon / 2) * Math.sin(dlon / 2);
                return 2 * r * Math.asin(Math.sqrt(h));
            }
            map.on("click", function (e) {
                var here = [e.latlng.lat, e.latlng.lng];
                var html = "<div data-contextmap-nearest><strong>Nearest open safe spaces</strong>";
                if (!spaces.length) {
                    html += "<p>No safe space is open at this time.</p>";
                } else {
                    var ranked = spaces.map(function (s) {
                        return {name: s.name, hours: s.hours, d: metres(here, [s.lat, s.lon])};
                    }).sort(function (a, b) { return a.d - b.d; }).slice(0, {{ this.count|tojson }});
                    html += "<ol>";
                    ranked.forEach(function (s) {
                        html += "<li>" + s.name + " – " + Math.round(s.d) + " m (about " +
                            Math.max(1, Math.round(s.d / speed)) + " min walk, straight line)" +
                            (s.hours ? "<br><small>" + s.hours + "</small>" : "") + "</li>";
                    });
                    html += "</ol>";
                }
                L.popup({maxWidth: 340}).setLatLng(e.latlng).setContent(html + "</div>").openOn(map);
            });
        })();
        {% endmacro %}
        """
    )

    def __init__(self, spaces: Sequence[Mapping[str, Any]], walking_speed_m_per_min: float, count: int = 3):
        super().__init__()
        self._name = "NearestOpenSafeSpaces"
        self.spaces = [
            {
                "name": escape_text(space["name"]),
                "hours": escape_text(space.get("hours")),
                "lat": round(float(space["lat"]), 6),
                "lon": round(float(space["lon"]), 6),
            }
            for space in spaces
        ]
        self.spaces_json = script_json(self.spaces)
        self.walking_speed = float(walking_speed_m_per_min)
        self.count = int(count)


class BeforeAfterSwipe(MacroElement):
    """A before/after swipe: the left part of the map shows one pane, the right part another.

    Like leaflet-side-by-side, but clipping map *panes*, so it works with vector layers (that
    plugin clips tile containers only, and its npm package pulls in a build toolchain). Put the
    "before" layers in pane ``left_pane`` and the "after" layers in ``right_pane``.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var map = {{ this._parent.get_name() }};
            var left = map.getPane({{ this.left_pane|tojson }});
            var right = map.getPane({{ this.right_pane|tojson }});
            var divider = L.DomUtil.create("div", "contextmap-swipe-divider", map.getContainer());
            var control = L.control({position: "bottomleft"});
            var range;
            control.onAdd = function () {
                var div = L.DomUtil.create("div", "contextmap-box contextmap-swipe");
                div.setAttribute("data-contextmap-swipe", "");
                var label = L.DomUtil.create("label", "", div);
                label.textContent = {{ this.label|tojson }} + " ";
                range = L.DomUtil.create("input", "", label);
                range.type = "range"; range.min = "0"; range.max = "1"; range.step = "any";
                range.value = "0.5";
                L.DomEvent.disableClickPropagation(div);
                L.DomEvent.on(range, "input change", clip);
                L.DomEvent.on(range, "mousedown touchstart", function () { map.dragging.disable(); });
                L.DomEvent.on(range, "mouseup touchend", function () { map.dragging.enable(); });
                return div;
            };
            control.addTo(map);
            function clip() {
                if (!left || !right) { return; }
                var nw = map.containerPointToLayerPoint([0, 0]);
                var se = map.containerPointToLayerPoint(map.getSize());
                var ratio = parseFloat(range.value);
                var x = nw.x + (se.x - nw.x) * ratio;
                left.style.clip = "rect(" + [nw.y, x, se.y, nw.x].join("px,") + "px)";
                right.style.clip = "rect(" + [nw.y, se.x, se.y, x].join("px,") + "px)";
                divider.style.left = (map.getSize().x * ratio) + "px";
            }
            map.on("move resize zoomend", clip);
            clip();
        })();
        {% endmacro %}
        """
    )

    def __init__(self, left_pane: str, right_pane: str, label: str = "Before ◀ ▶ After") -> None:
        super().__init__()
        self._name = "BeforeAfterSwipe"
        self.left_pane = left_pane
        self.right_pane = right_pane
        self.label = label

    def render(self, **kwargs: Any) -> str:
        add_stylesheet(self)
        return super().render(**kwargs)  # type: ignore[no-any-return]


def bar_chart_svg(values: Mapping[str, int | None], *, suppressed_text: str, height: int = 90) -> str:
    """A small server-side SVG bar chart of monthly counts (``None`` bars drawn as suppressed)."""
    months = list(values)
    if not months:
        return "<p>No monthly counts.</p>"
    known = [v for v in values.values() if v is not None]
    top = max(known, default=0) or 1
    bar_w, gap = 12, 2
    width = len(months) * (bar_w + gap)
    bars = []
    for i, month in enumerate(months):
        count = values[month]
        x = i * (bar_w + gap)
        label = escape_text(f"{month}: {suppressed_text if count is None else count}")
        if count is None:
            bars.append(
                f'<rect x="{x}" y="{height - 6}" width="{bar_w}" height="6" fill="#bbb">'
                f"<title>{label}</title></rect>"
            )
        else:
            h = max(1.0, (height - 14) * count / top) if count else 0.0
            bars.append(
                f'<rect x="{x}" y="{height - h:.1f}" width="{bar_w}" height="{h:.1f}" fill="#c0392b">'
                f"<title>{label}</title></rect>"
            )
    first, last = escape_text(months[0]), escape_text(months[-1])
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height + 14}" '
        f'viewBox="0 0 {width} {height + 14}" data-contextmap-timeline>'
        f"<title>Monthly incidents {first} to {last}</title>{''.join(bars)}"
        f'<text x="0" y="{height + 12}" font-size="10">{first}</text>'
        f'<text x="{width}" y="{height + 12}" font-size="10" text-anchor="end">{last}</text></svg>'
    )
