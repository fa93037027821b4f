"""Offline assets: CDN links become /static/vendor paths that exist, and CSP hashes are right."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path

import folium
import folium.plugins

from app.web.maps.assets import (
    CDN_TO_VENDOR,
    CSS_FONT_OVERRIDES,
    DEFAULT_VENDOR_BASE_URL,
    inline_script_hashes,
    localise_assets,
    missing_assets,
    vendor_paths,
)

STATIC = Path(__file__).resolve().parents[2] / "app" / "static"
NODE_MODULES = STATIC / "node_modules"


def _map_with_plugins() -> folium.Map:
    m = folium.Map(location=[51.5, -0.1], zoom_start=13, tiles=None)
    folium.plugins.Fullscreen().add_to(m)
    line = folium.PolyLine([[51.5, -0.1], [51.51, -0.11]]).add_to(m)
    folium.plugins.PolyLineTextPath(line, "►").add_to(m)
    folium.plugins.TimestampedGeoJson({"type": "FeatureCollection", "features": []}).add_to(m)
    folium.Marker([51.5, -0.1], icon=folium.Icon(icon="home", prefix="fa")).add_to(m)
    return m


def assert_vendor_files_exist(html: str) -> None:
    """Every /static/vendor file the page loads is installed (fails with how to fix it)."""
    assert NODE_MODULES.is_dir(), (
        f"{NODE_MODULES} is missing: run `make vendor` (npm ci --prefix app/static) before the tests"
    )
    paths = vendor_paths(html)
    assert paths, "the page loads nothing from /static/vendor"
    missing = [path for path in paths if not (NODE_MODULES / path).is_file()]
    assert not missing, f"not installed under app/static/node_modules: {missing}; run `make vendor`"


def test_plain_folium_map_loads_from_cdns() -> None:
    # Guards the premise: if folium stops linking CDNs, this module's rewriting needs revisiting.
    assert missing_assets(_map_with_plugins().get_root().render())


def test_localised_map_references_no_external_script_or_stylesheet() -> None:
    html = localise_assets(_map_with_plugins()).get_root().render()
    assert missing_assets(html) == []
    assert_vendor_files_exist(html)


def test_elements_added_after_localising_are_rewritten_too() -> None:
    m = localise_assets(folium.Map(tiles=None))
    folium.plugins.Fullscreen().add_to(m)
    html = m.get_root().render()
    assert missing_assets(html) == []
    assert "leaflet.fullscreen/Control.FullScreen.js" in vendor_paths(html)


def test_custom_base_url() -> None:
    html = localise_assets(folium.Map(tiles=None), base_url="/assets/").get_root().render()
    assert '<script src="/assets/leaflet/dist/leaflet.js"></script>' in html
    assert missing_assets(html) == []


def test_localising_does_not_change_folium_class_defaults() -> None:
    localise_assets(_map_with_plugins())
    assert folium.plugins.Fullscreen.default_js[0][1].startswith("https://")
    assert folium.Map.default_js[0][1].startswith("https://")


def test_shared_libraries_load_once() -> None:
    html = localise_assets(_map_with_plugins()).get_root().render()
    paths = vendor_paths(html)
    assert paths.count("jquery/dist/jquery.min.js") == 1
    assert len(paths) == len(set(paths))


def test_every_vendored_file_exists_and_versions_match_package_json() -> None:
    assert NODE_MODULES.is_dir(), f"{NODE_MODULES} is missing: run `make vendor` (npm ci --prefix app/static)"
    dependencies = json.loads((STATIC / "package.json").read_text())["dependencies"]
    lock = json.loads((STATIC / "package-lock.json").read_text())["packages"]
    for url, path in CDN_TO_VENDOR.items():
        if path is None:
            continue
        assert (NODE_MODULES / path).is_file(), f"{path} (for {url}) not installed; run `make vendor`"
        package = "/".join(path.split("/")[:2]) if path.startswith("@") else path.split("/")[0]
        assert package in dependencies, f"{package} missing from app/static/package.json"
        pinned = dependencies[package].rsplit("@", 1)[-1]  # "npm:bootstrap@3.4.1" for an alias
        assert re.fullmatch(r"\d+\.\d+\.\d+", pinned), f"{package} must be pinned exactly, not {pinned}"
        assert lock[f"node_modules/{package}"]["version"] == pinned
        installed = json.loads((NODE_MODULES / package / "package.json").read_text())["version"]
        assert installed == pinned, f"{package} {installed} installed, {pinned} pinned; run `make vendor`"


def test_vendored_stylesheets_load_nothing_from_other_sites() -> None:
    """A CDN font inside a vendored CSS file must be overridden by a later local @font-face."""
    html = localise_assets(_map_with_plugins()).get_root().render()
    for path in vendor_paths(html):
        if not path.endswith(".css"):
            continue
        css = (NODE_MODULES / path).read_text()
        external = re.findall(r"url\(['\"]?((?:https?:)?//[^)'\"]+)", css)
        if external:
            assert path in CSS_FONT_OVERRIDES, f"{path} loads {external[0]} from another site"
            override = CSS_FONT_OVERRIDES[path].replace("{base}", DEFAULT_VENDOR_BASE_URL)
            assert html.index(override) > html.index(f"{DEFAULT_VENDOR_BASE_URL}/{path}")
            for url in re.findall(r"url\(([^)]+)\)", override):
                assert (NODE_MODULES / url.removeprefix(DEFAULT_VENDOR_BASE_URL + "/")).is_file()


def test_font_awesome_fonts_are_served_with_the_css() -> None:
    css = (NODE_MODULES / "@fortawesome/fontawesome-free/css/all.min.css").read_text()
    fonts = set(re.findall(r"url\((\.\./webfonts/[^)]+)\)", css))
    assert fonts
    css_dir = NODE_MODULES / "@fortawesome/fontawesome-free/css"
    assert all((css_dir / font).resolve().is_file() for font in fonts)


def test_missing_assets_finds_scripts_and_stylesheets() -> None:
    html = (
        '<script src="https://a.example/x.js"></script>'
        '<link rel="stylesheet" href="//b.example/y.css">'
        '<link rel="stylesheet" href="/static/vendor/z.css">'
        "<script>var u = 'https://not-a-reference.example';</script>"
    )
    assert missing_assets(html) == ["https://a.example/x.js", "//b.example/y.css"]


def _sha256_expression(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def test_inline_script_hashes_match_script_bodies() -> None:
    html = localise_assets(_map_with_plugins()).get_root().render()
    bodies = re.findall(r"<script>(.*?)</script>", html, flags=re.DOTALL)
    assert bodies
    expected = list(dict.fromkeys(_sha256_expression(body) for body in bodies))
    assert inline_script_hashes(html) == expected


def test_inline_script_hashes_normalise_newlines_like_browsers() -> None:
    assert inline_script_hashes("<script>a;\r\nb;</script>") == [_sha256_expression("a;\nb;")]
    assert inline_script_hashes('<script src="/x.js"></script>') == []


def test_default_base_url() -> None:
    assert DEFAULT_VENDOR_BASE_URL == "/static/vendor"
