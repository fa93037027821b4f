"""Serve folium's browser assets from our own origin, and describe inline scripts for a CSP.

folium and its plugins link Leaflet, jQuery, Bootstrap, Font Awesome and plugin files from CDNs.
contextmap runs where those hosts may be unreachable (and a CSP should not trust them anyway), so
every map is rewritten to load the same files from the npm packages pinned in
``app/static/package.json``; the web layer serves ``app/static/node_modules`` at ``/static/vendor``.

Where the CDN links live in folium 0.20: each ``JSCSSMixin`` element (``Map`` and the plugins) keeps
``default_js`` / ``default_css`` lists of ``(name, url)`` as *class* attributes and, when rendered,
adds one ``branca.element.JavascriptLink`` / ``CssLink`` per entry to the figure's header. We rewrite
both places: the per-element lists now (as instance copies, because folium's own ``add_js_link``
mutates the shared class list), and the header links at render time, through an element appended
to the figure after the map, so links added by elements created later are caught too.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from collections.abc import Iterator, Mapping
from html.parser import HTMLParser

import folium
from branca.element import CssLink, Element, Figure, JavascriptLink

__all__ = [
    "CDN_TO_VENDOR",
    "CSS_FONT_OVERRIDES",
    "CSS_REPLACEMENTS",
    "DEFAULT_VENDOR_BASE_URL",
    "inline_script_hashes",
    "localise_assets",
    "missing_assets",
    "vendor_paths",
]

logger = logging.getLogger(__name__)

DEFAULT_VENDOR_BASE_URL = "/static/vendor"

#: CDN URL used by folium 0.20 → path inside ``app/static/node_modules`` (``None``: drop the link).
#: Versions match the CDN URLs exactly; ``tests/geo/test_map_assets.py`` checks package.json agrees.
CDN_TO_VENDOR: Mapping[str, str | None] = {
    # folium.Map
    "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js": "leaflet/dist/leaflet.js",
    "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css": "leaflet/dist/leaflet.css",
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery/dist/jquery.min.js",
    "https://cdn.jsdelivr.net/npm/bootstrap@5.2.2/dist/js/bootstrap.bundle.min.js": (
        "bootstrap/dist/js/bootstrap.bundle.min.js"
    ),
    "https://cdn.jsdelivr.net/npm/bootstrap@5.2.2/dist/css/bootstrap.min.css": (
        "bootstrap/dist/css/bootstrap.min.css"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.js": (
        "leaflet.awesome-markers/dist/leaflet.awesome-markers.js"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.css": (
        "leaflet.awesome-markers/dist/leaflet.awesome-markers.css"
    ),
    # all.min.css loads ../webfonts/* relatively, so serving the package folder serves the fonts.
    "https://cdn.jsdelivr.net/npm/@fortawesome/fontawesome-free@6.2.0/css/all.min.css": (
        "@fortawesome/fontawesome-free/css/all.min.css"
    ),
    # Glyphicons are only needed for folium.Icon(prefix="glyphicon"); contextmap's icons use the
    # "fa" prefix, and Bootstrap 3's stylesheet would fight Bootstrap 5's, so the link is dropped.
    "https://netdna.bootstrapcdn.com/bootstrap/3.0.0/css/bootstrap-glyphicons.css": None,
    # Only styles folium.Icon(angle=...), which contextmap does not use; not published on npm.
    "https://cdn.jsdelivr.net/gh/python-visualization/folium/folium/templates/"
    "leaflet.awesome.rotate.min.css": None,
    # folium.plugins.Fullscreen
    "https://cdn.jsdelivr.net/npm/leaflet.fullscreen@3.0.0/Control.FullScreen.min.js": (
        "leaflet.fullscreen/Control.FullScreen.js"
    ),
    "https://cdn.jsdelivr.net/npm/leaflet.fullscreen@3.0.0/Control.FullScreen.css": (
        "leaflet.fullscreen/Control.FullScreen.css"
    ),
    # folium.plugins.PolyLineTextPath (arrow heads on displacement lines)
    "https://cdn.jsdelivr.net/npm/leaflet-textpath@1.2.3/leaflet.textpath.min.js": (
        "leaflet-textpath/leaflet.textpath.js"
    ),
    # folium.plugins.TimestampedGeoJson (monthly time slider)
    "https://cdnjs.cloudflare.com/ajax/libs/jquery/3.7.1/jquery.min.js": "jquery/dist/jquery.min.js",
    # The Leaflet.TimeDimension control draws its own slider; jQuery UI is not used by it.
    "https://cdnjs.cloudflare.com/ajax/libs/jqueryui/1.10.2/jquery-ui.min.js": None,
    "https://cdn.jsdelivr.net/npm/iso8601-js-period@0.2.1/iso8601.min.js": "iso8601-js-period/iso8601.js",
    "https://cdn.jsdelivr.net/npm/leaflet-timedimension@1.1.1/dist/leaflet.timedimension.min.js": (
        "leaflet-timedimension/dist/leaflet.timedimension.min.js"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/moment.js/2.18.1/moment.min.js": "moment/min/moment.min.js",
    # Code-highlighting theme that folium links for no visible purpose on a map.
    "https://cdnjs.cloudflare.com/ajax/libs/highlight.js/8.4/styles/default.min.css": None,
    "https://cdn.jsdelivr.net/npm/leaflet-timedimension@1.1.1/dist/leaflet.timedimension.control.css": (
        "leaflet-timedimension/dist/leaflet.timedimension.control.min.css"
    ),
}

#: Vendored stylesheets replaced by a copy inlined in the page. Leaflet.TimeDimension's control CSS
#: declares its Glyphicons @font-face with CDN URLs; redefining the rule that uses the font is not
#: enough (Chromium still requested the CDN font, which the CSP blocks with a console error), so the
#: stylesheet is not linked at all. The copy below is that file (leaflet-timedimension 1.1.1, MIT
#: licence) without its @font-face, drawing the buttons with the same font from the vendored
#: Bootstrap 3 package (npm alias ``bootstrap3``) under a family name of our own.
CSS_REPLACEMENTS: Mapping[str, str] = {
    "leaflet-timedimension/dist/leaflet.timedimension.control.min.css": (
        "@font-face{font-family:'contextmap-glyphicons';"
        "src:url({base}/bootstrap3/dist/fonts/glyphicons-halflings-regular.woff2) format('woff2'),"
        "url({base}/bootstrap3/dist/fonts/glyphicons-halflings-regular.woff) format('woff'),"
        "url({base}/bootstrap3/dist/fonts/glyphicons-halflings-regular.ttf) format('truetype')}"
        '.leaflet-bar-timecontrol{background-color:#fff;color:#000}'
        '.leaflet-bar-timecontrol *{box-sizing:border-box}'
        '.leaflet-bar-timecontrol .leaflet-control-timecontrol{float:left;height:26px;line-height:26px;'
        'border:solid #a5a5a5;background-color:#fff;border-width:0 1px 0 0}'
        '.leaflet-bar-timecontrol .leaflet-control-timecontrol:first-child{border-radius:4px 0 0 4px}'
        '.leaflet-bar-timecontrol .leaflet-control-timecontrol:last-child{border-radius:0 4px 4px 0}'
        ".leaflet-bar-timecontrol .leaflet-control-timecontrol:before{font-family:'contextmap-glyphicons';"
        'display:block}.leaflet-bar-timecontrol .timecontrol-slider{position:relative;width:auto;'
        'cursor:auto}.leaflet-bar-timecontrol a.timecontrol-date,'
        '.leaflet-bar-timecontrol a.timecontrol-date:hover{position:relative;min-width:150px;width:auto;'
        'padding:0 10px 0 20px;white-space:nowrap}.leaflet-bar-timecontrol a.timecontrol-date.utc,'
        '.leaflet-bar-timecontrol a.timecontrol-date.utc:hover{min-width:185px}'
        '.leaflet-bar-timecontrol a.timecontrol-date.loading,'
        '.leaflet-bar-timecontrol a.timecontrol-date.loading:hover{background-color:#ffefa4}'
        '.leaflet-bar-timecontrol .timecontrol-dateslider .slider{width:200px}'
        '.leaflet-bar-timecontrol .timecontrol-speed{white-space:nowrap;cursor:auto}'
        '.leaflet-bar-timecontrol .timecontrol-speed .slider{width:55px;display:inline-block}'
        '.leaflet-bar-timecontrol .timecontrol-speed .speed{width:55px;display:inline-block;float:left;'
        'text-align:right}.leaflet-bar-timecontrol .timecontrol-play,'
        '.leaflet-bar-timecontrol .timecontrol-play:hover{position:relative}'
        '.leaflet-bar-timecontrol .timecontrol-play span{font-size:10px}'
        '.leaflet-bar-timecontrol a.timecontrol-play.loading{background-color:#ffefa4}'
        '.timecontrol-slider .slider{position:relative;height:12px;margin:6px;border:1px solid #a5a5a5;'
        'cursor:pointer}.timecontrol-slider .slider.has-limits{margin-left:15px;margin-right:15px;'
        'background-color:#ddd}.timecontrol-slider .slider.has-limits .range{position:absolute;'
        'height:10px;background-color:#fff}.timecontrol-slider .knob{position:absolute;width:8px;'
        'height:22px;background-color:#ddd;border-radius:2px;border:1px solid #a5a5a5;margin-top:-6px;'
        'margin-left:-4px;cursor:ew-resize;cursor:-webkit-grab;cursor:-moz-grab}'
        ".timecontrol-slider .knob:after{content:' ';display:block;position:absolute;width:20px;top:-5px;"
        'height:32px;left:-7px}.timecontrol-slider .knob.lower,'
        '.timecontrol-slider .knob.upper{width:11px;height:20px;border:none;background-color:transparent}'
        '.timecontrol-slider .knob.upper{margin-top:-5px;margin-left:-1px}'
        '.timecontrol-slider .knob.lower{margin-top:-5px;margin-left:-10px}'
        '.timecontrol-slider .knob.lower:after{right:0;left:initial}'
        '.timecontrol-slider .knob.upper:after{left:0}.timecontrol-slider .knob.lower:before,'
        ".timecontrol-slider .knob.upper:before{display:block;content:'';position:relative;top:2px;"
        'width:0;height:0;border-style:solid}'
        '.timecontrol-slider .knob.upper:before{border-width:16px 0 0 10px;'
        'border-color:transparent transparent transparent #a5a5a5}'
        '.timecontrol-slider .knob.lower:before{border-width:0 0 16px 10px;'
        'border-color:transparent transparent #a5a5a5}.timecontrol-slider .dragging .knob,'
        '.timecontrol-slider .knob.leaflet-drag-target,'
        '.timecontrol-slider .slider.dragging{cursor:ew-resize;cursor:grabbing;cursor:-webkit-grabbing;'
        'cursor:-moz-grabbing}@-webkit-keyframes icon-rotation{from{-webkit-transform:rotate(0);'
        'transform:rotate(0)}to{-webkit-transform:rotate(360deg);transform:rotate(360deg)}}'
        '@keyframes icon-rotation{from{-webkit-transform:rotate(0);transform:rotate(0)}'
        'to{-webkit-transform:rotate(360deg);transform:rotate(360deg)}}.timecontrol-loop.looped,'
        '.timecontrol-loop.looped:hover{background-color:#ddd;color:#094f8e}.timecontrol-backward:before,'
        '.timecontrol-forward:before,.timecontrol-loop:before,.timecontrol-play:before,'
        '.timecontrol-stop:before{width:100%;text-align:center}'
        '.timecontrol-play:before{position:absolute;content:"\\e072"}'
        '.timecontrol-play.reverse:before{content:"\\e072";-ms-transform:scaleX(-1);'
        '-webkit-transform:scaleX(-1);transform:scaleX(-1)}'
        '.timecontrol-play.pause:before{content:"\\e073"}'
        '.timecontrol-play.reverse.pause:before{-ms-transform:none;-webkit-transform:none;transform:none}'
        'a.timecontrol-play.loading:before{content:"\\e031";opacity:.2;'
        '-webkit-animation:icon-rotation 6s infinite linear;animation:icon-rotation 6s infinite linear}'
        '.timecontrol-date.loading:before{content:"\\e031";left:5px;position:absolute;'
        '-webkit-animation:icon-rotation 6s infinite linear;animation:icon-rotation 6s infinite linear}'
        '.timecontrol-speed:before{content:"\\e141";position:absolute;left:7px}'
        '.timecontrol-stop:before{content:"\\e074"}.timecontrol-forward:before{content:"\\e075"}'
        '.timecontrol-backward:before{content:"\\e071"}.timecontrol-loop:before{content:"\\e030"}'
        '@media (max-width:767px){.leaflet-bar-timecontrol .timecontrol-date,'
        '.leaflet-bar-timecontrol .timecontrol-slider{clear:both;float:none;border-right:none}}'
        '.leaflet-touch .leaflet-bar-timecontrol .leaflet-control-timecontrol{height:30px;'
        'line-height:30px}.leaflet-touch .timecontrol-slider .slider{margin-top:10px}'
    ),
}

#: Vendored stylesheets whose CDN fonts are safe to override with a later local rule (none at present:
#: see :data:`CSS_REPLACEMENTS` for why overriding was not enough for Leaflet.TimeDimension).
CSS_FONT_OVERRIDES: Mapping[str, str] = {}

_REWRITER_NAME = "contextmap_vendor_assets"
_FONT_OVERRIDES_NAME = "contextmap_vendor_font_overrides"
_REPLACEMENTS_NAME = "contextmap_vendor_replacements"


def _vendor_url(url: str, base_url: str) -> str | None:
    """Return the local URL for a CDN ``url``, ``None`` to drop it, or ``url`` itself if unknown."""
    if url not in CDN_TO_VENDOR:
        if _is_external(url):
            logger.warning("no vendored copy of %s; the map will try to load it from the network", url)
        return url
    path = CDN_TO_VENDOR[url]
    return None if path is None else f"{base_url.rstrip('/')}/{path}"


def _localise_links(links: list[tuple[str, str]], base_url: str) -> list[tuple[str, str]]:
    localised = []
    for name, url in links:
        local = _vendor_url(url, base_url)
        if local is not None:
            localised.append((name, local))
    return localised


def _walk(element: Element) -> Iterator[Element]:
    yield element
    for child in list(element._children.values()):
        yield from _walk(child)


class _VendorAssetRewriter(Element):
    """Rewrites the figure header's CDN links when the figure renders (after the map has added them)."""

    def __init__(self, base_url: str) -> None:
        super().__init__()
        self._name = "VendorAssetRewriter"
        self.base_url = base_url

    def render(self, **kwargs: object) -> str:
        figure = self.get_root()
        if isinstance(figure, Figure):
            header = figure.header
            seen: set[str] = set()
            prefix = self.base_url.rstrip("/")
            replacements = {f"{prefix}/{path}": css for path, css in CSS_REPLACEMENTS.items()}
            inlined: list[str] = []
            for name, child in list(header._children.items()):
                if isinstance(child, JavascriptLink | CssLink):
                    local = _vendor_url(child.url, self.base_url)
                    # Plugins name the same library differently (jQuery twice), so dedupe by URL.
                    if local is None or local in seen:
                        del header._children[name]
                    elif local in replacements:
                        del header._children[name]
                        seen.add(local)
                        inlined.append(replacements[local].replace("{base}", prefix))
                    else:
                        child.url = local
                        seen.add(local)
            header._children.pop(_REPLACEMENTS_NAME, None)
            if inlined:
                header.add_child(Element(f"<style>{''.join(inlined)}</style>"), name=_REPLACEMENTS_NAME)
            overrides = [
                css.replace("{base}", prefix)
                for path, css in CSS_FONT_OVERRIDES.items()
                if f"{prefix}/{path}" in seen
            ]
            header._children.pop(_FONT_OVERRIDES_NAME, None)
            if overrides:
                header.add_child(Element(f"<style>{''.join(overrides)}</style>"), name=_FONT_OVERRIDES_NAME)
        return ""


def localise_assets(m: folium.Map, base_url: str = DEFAULT_VENDOR_BASE_URL) -> folium.Map:
    """Make ``m`` load every JavaScript and CSS file from ``base_url`` instead of CDNs.

    Parameters
    ----------
    m : folium.Map
        The map; its children and plugins are rewritten too, including ones added after this call.
    base_url : str, default "/static/vendor"
        URL prefix at which ``app/static/node_modules`` is served.

    Returns
    -------
    folium.Map
        The same map, for chaining.

    Examples
    --------
    >>> import folium
    >>> m = localise_assets(folium.Map(tiles=None))
    >>> missing_assets(m.get_root().render())
    []
    """
    for element in _walk(m):
        for attribute in ("default_js", "default_css"):
            links = getattr(element, attribute, None)
            if isinstance(links, list):
                setattr(element, attribute, _localise_links(links, base_url))
    figure = m.get_root()
    if isinstance(figure, Figure):
        figure._children.pop(_REWRITER_NAME, None)
        figure.add_child(_VendorAssetRewriter(base_url), name=_REWRITER_NAME)
    return m


def _is_external(url: str) -> bool:
    lowered = url.strip().lower()
    return lowered.startswith(("http://", "https://", "//"))


class _AssetAndScriptParser(HTMLParser):
    """Collects external script/stylesheet references and the text of inline scripts."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.references: list[str] = []
        self.inline_scripts: list[str] = []
        self._script_chunks: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {key.lower(): value or "" for key, value in attrs}
        if tag == "script":
            if "src" in values:
                self.references.append(values["src"])
                self._script_chunks = None
            else:
                self._script_chunks = []
        elif tag == "link" and "href" in values:
            self.references.append(values["href"])

    def handle_data(self, data: str) -> None:
        if self._script_chunks is not None:
            self._script_chunks.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._script_chunks is not None:
            self.inline_scripts.append("".join(self._script_chunks))
            self._script_chunks = None


def _parse(html: str) -> _AssetAndScriptParser:
    parser = _AssetAndScriptParser()
    parser.feed(html)
    parser.close()
    return parser


def missing_assets(html: str) -> list[str]:
    """List script and stylesheet references in ``html`` that point off-site.

    Parameters
    ----------
    html : str
        A rendered map page.

    Returns
    -------
    list of str
        Every ``<script src>`` and ``<link href>`` that starts with ``http://``, ``https://`` or
        ``//``, in document order; empty when the page loads all its code from our origin. Tile
        image URLs are not listed: tiles are images, and the map's data never depends on them.

    Examples
    --------
    >>> missing_assets('<script src="https://cdn.example/x.js"></script><script src="/static/a.js"></script>')
    ['https://cdn.example/x.js']
    """
    return [url for url in _parse(html).references if _is_external(url)]


def vendor_paths(html: str, base_url: str = DEFAULT_VENDOR_BASE_URL) -> list[str]:
    """List the files under ``base_url`` that ``html`` loads, as paths relative to ``node_modules``.

    Examples
    --------
    >>> vendor_paths('<link rel="stylesheet" href="/static/vendor/leaflet/dist/leaflet.css"/>')
    ['leaflet/dist/leaflet.css']
    """
    prefix = base_url.rstrip("/") + "/"
    return [url[len(prefix) :] for url in _parse(html).references if url.startswith(prefix)]


def inline_script_hashes(html: str) -> list[str]:
    """CSP source expressions (``'sha256-…'``) for every inline ``<script>`` in ``html``.

    folium writes the map itself as inline scripts, so a Content Security Policy without
    ``'unsafe-inline'`` must list their hashes: ``script-src 'self' <hashes…>``. The hash is over
    the script's text exactly as the browser sees it, after the HTML parser's newline
    normalisation (CSP Level 3, "does element match source list"; HTML "preprocessing the input
    stream"). The scripts include per-render random element names, so compute the hashes from the
    very HTML you send.

    Parameters
    ----------
    html : str
        A rendered page.

    Returns
    -------
    list of str
        One quoted source expression per distinct inline script, in document order.

    Examples
    --------
    >>> inline_script_hashes("<script>alert(1)</script>")
    ["'sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI='"]
    """
    hashes: list[str] = []
    for script in _parse(html).inline_scripts:
        text = script.replace("\r\n", "\n").replace("\r", "\n")
        digest = base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")
        expression = f"'sha256-{digest}'"
        if expression not in hashes:
            hashes.append(expression)
    return hashes
