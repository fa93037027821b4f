"""Map builders: named layers, controls, offline assets, escaping, the point cap and page size."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Callable
from datetime import date, datetime
from html.parser import HTMLParser
from pathlib import Path

import folium
import geopandas as gpd
import pandas as pd
import pytest
import shapely
from shapely.geometry import Point

from app.web.maps.assets import inline_script_hashes, missing_assets, vendor_paths
from app.web.maps.layers import aggregate_points, escape_text, script_json
from app.web.maps.render import (
    Designation,
    DisplacementMeasure,
    Guardian,
    Place,
    displacement_map,
    hotspot_map,
    place_map,
    safe_spaces_map,
)

NODE_MODULES = Path(__file__).resolve().parents[2] / "app" / "static" / "node_modules"
XSS_NAME = "<img src=x onerror=alert(1)>"
XSS_REASON = "</script><script>alert(1)</script>"
XSS_TEMPLATE = "`${alert(document.cookie)}`"
LON, LAT = -0.1, 51.5


# --- factories -------------------------------------------------------------------------------


def make_cells(n: int = 9, size: float = 0.002) -> gpd.GeoDataFrame:
    side = max(1, int(n**0.5))
    boxes = [
        shapely.box(
            LON + (i % side) * size,
            LAT + (i // side) * size,
            LON + (i % side + 1) * size,
            LAT + (i // side + 1) * size,
        )
        for i in range(n)
    ]
    bins = [(i % 7) - 3 for i in range(n)]
    counts = [None if i % 4 == 0 else 8 + i for i in range(n)]
    return gpd.GeoDataFrame(
        {"count": counts, "gi_bin": bins, "z": [b * 1.1 for b in bins], "p": [0.01] * n},
        geometry=boxes,
        crs="EPSG:4326",
    )


def make_points(n: int, **columns: list[object]) -> gpd.GeoDataFrame:
    points = [Point(LON + 0.001 * (i % 10), LAT + 0.001 * (i // 10)) for i in range(n)]
    return gpd.GeoDataFrame(columns, geometry=points, crs="EPSG:4326")


def make_concerns(n: int = 2) -> gpd.GeoDataFrame:
    return make_points(
        n,
        name=[XSS_NAME] + [f"Chicken shop {i}" for i in range(1, n)],
        level=["high"] * n,
        reason=[XSS_REASON] * n,
        review_by=["2025-03-01"] * n,
    )


def make_interventions() -> gpd.GeoDataFrame:
    return make_points(
        1,
        kind=["environmental_change"],
        description=[XSS_TEMPLATE],
        owning_partner=[XSS_NAME],
        starts_on=["2024-06-01"],
    )


def make_safe_spaces() -> gpd.GeoDataFrame:
    frame = make_points(
        3,
        name=[XSS_NAME, "Library", "Youth club"],
        open_now=[True, True, False],
        hours=["Mo-Fr 15:00-19:00", XSS_REASON, "Sa 10:00-14:00"],
        help_offered=[["a safe place to wait", XSS_NAME], "homework club", None],
        age_range=["11-18", "11-25", None],
    )
    frame["guardians"] = [
        [Guardian("library staff", ("bystander intervention", "adolescent development"))],
        [{"role": XSS_NAME, "training": [XSS_REASON]}],
        [],
    ]
    return frame


def make_monthly_cells() -> gpd.GeoDataFrame:
    cells = make_cells(4)
    rows = []
    for month, factor in (("2024-04", 1), ("2024-05", 1), ("2024-06", 3), ("2024-07", 3)):
        for cell_id, geometry in enumerate(cells.geometry):
            count = None if (cell_id == 0 and month == "2024-07") else 2 * factor + cell_id
            rows.append({"cell_id": cell_id, "month": month, "count": count, "geometry": geometry})
    return gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")


def build_hotspot(**kwargs: object) -> folium.Map:
    cells = make_cells()
    density = cells.assign(density=[0.1 * i for i in range(len(cells))])
    return hotspot_map(
        cells,
        density,
        make_concerns(),
        make_interventions(),
        make_safe_spaces(),
        title=f"Hotspots {XSS_NAME}",
        **kwargs,
    )  # type: ignore[arg-type]


def build_safe_spaces(**kwargs: object) -> folium.Map:
    return safe_spaces_map(make_safe_spaces(), make_concerns(), at=datetime(2024, 6, 3, 16, 0), **kwargs)  # type: ignore[arg-type]


def build_displacement(**kwargs: object) -> folium.Map:
    target = shapely.box(LON, LAT, LON + 0.004, LAT + 0.004)
    rises = pd.DataFrame(
        {
            "name": [XSS_NAME],
            "rate_ratio": [2.4],
            "lower": [1.3],
            "upper": [4.1],
            "lon": [LON + 0.02],
            "lat": [LAT + 0.01],
        }
    )
    summary = [
        DisplacementMeasure("Weighted displacement quotient", "-0.8", XSS_REASON),
        (XSS_NAME, "1.9", "Harm rose nearby: displacement, not diffusion of benefits."),
    ]
    return displacement_map(
        target,
        target.buffer(0.004).difference(target),
        shapely.box(LON + 0.05, LAT, LON + 0.06, LAT + 0.01),
        make_monthly_cells(),
        rises,
        summary,
        intervention_date=date(2024, 6, 10),
        **kwargs,  # type: ignore[arg-type]
    )


def build_place(**kwargs: object) -> folium.Map:
    place = Place(
        name=XSS_NAME,
        geometry=Point(LON, LAT),
        kind="library",
        address=XSS_REASON,
        opening_hours="Mo-Sa 09:00-20:00",
        place_manager="Council libraries",
    )
    designations = [
        Designation("safe_space", date(2023, 1, 1), date(2023, 9, 1), scheme="Safe Places"),
        Designation("concern", date(2023, 9, 1), date(2024, 3, 1), level="high", reason=XSS_REASON),
        Designation("safe_space", date(2024, 3, 1), None, scheme="Safe Places"),
    ]
    guardians = [Guardian("staff", ("bystander intervention",), "09:00-20:00"), Guardian(XSS_NAME)]
    timeline = {"2024-01": 12, "2024-02": None, "2024-03": 30, "2024-04": 9}
    return place_map(
        place, designations, guardians, make_concerns(), make_safe_spaces(), make_cells(4), timeline, **kwargs
    )  # type: ignore[arg-type]


BUILDERS: dict[str, tuple[Callable[..., folium.Map], list[str]]] = {
    "hotspot": (
        build_hotspot,
        ["Hotspot cells (Gi*)", "Young people feel unsafe here", "Kernel density", "Places of concern",
         "Interventions", "Safe spaces"],
    ),
    "safe_spaces": (
        build_safe_spaces,
        [
            "Safe spaces (open)",
            "Safe spaces (closed)",
            "Walking catchment 10 min",
            "Walking catchment 15 min",
            "Places of concern",
        ],
    ),
    "displacement": (
        build_displacement,
        [
            "Target area",
            "Buffer",
            "Control area",
            "Before intervention",
            "After intervention",
            "Rises elsewhere",
        ],
    ),
    "place": (build_place, ["Place", "Incident cells", "Nearby places of concern", "Nearby safe spaces"]),
}


class _AttributeCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.attributes: list[tuple[str, str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.attributes.extend((tag, key, value) for key, value in attrs)


def registered_layers(html: str) -> list[str]:
    match = re.search(r"var names = (\[.*?\]);\s*window\.contextmapLayers = names;", html, flags=re.DOTALL)
    assert match, "window.contextmapLayers is not set"
    return json.loads(match.group(1))


# --- every builder ---------------------------------------------------------------------------


@pytest.fixture(params=sorted(BUILDERS))
def built(request: pytest.FixtureRequest) -> tuple[str, str, list[str]]:
    build, layers = BUILDERS[request.param]
    return request.param, build().get_root().render(), layers


def test_named_layers_are_in_the_layer_control_and_registry(built: tuple[str, str, list[str]]) -> None:
    _, html, layers = built
    assert "L.control.layers(" in html
    for name in layers:
        assert json.dumps(name) in html, f"layer {name!r} not in the layer control"
    assert set(layers) <= set(registered_layers(html))
    assert 'setAttribute(\n                "data-contextmap-layers"' in html


def test_scale_fullscreen_and_legend(built: tuple[str, str, list[str]]) -> None:
    _, html, _ = built
    assert "L.control.scale(" in html
    assert "L.control.fullscreen(" in html
    assert '"data-contextmap-legend"' in html


def test_no_external_scripts_or_stylesheets_and_all_vendored_files_exist(
    built: tuple[str, str, list[str]],
) -> None:
    _, html, _ = built
    assert missing_assets(html) == []
    assert NODE_MODULES.is_dir(), f"{NODE_MODULES} missing: run `make vendor` (npm ci --prefix app/static)"
    missing = [p for p in vendor_paths(html) if not (NODE_MODULES / p).is_file()]
    assert not missing, f"not installed: {missing}; run `make vendor`"


def test_user_text_is_escaped_everywhere(built: tuple[str, str, list[str]]) -> None:
    name, html, _ = built
    for raw in (XSS_NAME, XSS_REASON, XSS_TEMPLATE, "onerror=alert(1)>"):
        assert raw not in html, f"{name}: unescaped {raw!r}"
    assert "&lt;img src=x onerror=alert(1)&gt;" in html or "\\u003cimg" in html


def test_no_inline_event_handler_attributes(built: tuple[str, str, list[str]]) -> None:
    _, html, _ = built
    collector = _AttributeCollector()
    collector.feed(html)
    handlers = [(tag, key) for tag, key, _ in collector.attributes if key.startswith("on")]
    assert handlers == []


def test_csp_hashes_cover_every_inline_script(built: tuple[str, str, list[str]]) -> None:
    _, html, _ = built
    bodies = re.findall(r"<script>(.*?)</script>", html, flags=re.DOTALL)
    expected = {
        "'sha256-" + base64.b64encode(hashlib.sha256(b.encode()).digest()).decode() + "'" for b in bodies
    }
    assert set(inline_script_hashes(html)) == expected


def test_tiles_are_optional_and_configurable() -> None:
    assert "tile.openstreetmap.org" in build_hotspot().get_root().render()
    without = build_hotspot(tiles=None).get_root().render()
    assert "L.tileLayer(" not in without
    assert '"Hotspot cells (Gi*)"' in without
    custom = build_place(tiles="https://tiles.example/{z}/{x}/{y}.png", attribution="Example tiles")
    html = custom.get_root().render()
    assert "https://tiles.example/{z}/{x}/{y}.png" in html and "Example tiles" in html


# --- escaping helpers ------------------------------------------------------------------------


def test_escape_text_neutralises_html_and_template_literals() -> None:
    escaped = escape_text("<b>&'\"`${x}\\")
    assert not set("<>`$\\\"'") & set(escaped)


def test_script_json_cannot_close_the_script_element() -> None:
    text = script_json({"name": XSS_REASON})
    assert "<" not in text and ">" not in text
    assert json.loads(text) == {"name": XSS_REASON}


# --- privacy: the point cap and suppressed counts ---------------------------------------------


def test_point_cap_switches_a_layer_to_aggregated_cells() -> None:
    cells = make_cells(4)
    under = hotspot_map(cells, None, make_concerns(30), None, None, title="t", max_points=30)
    over = hotspot_map(cells, None, make_concerns(30), None, None, title="t", max_points=29)
    under_html, over_html = under.get_root().render(), over.get_root().render()
    assert under_html.count("L.circleMarker(") == 30
    assert over_html.count("L.circleMarker(") == 0
    assert "places of concern in this 250 m square" in over_html
    assert "Chicken shop 7" not in over_html


def test_point_cap_counts_markers_across_the_whole_map() -> None:
    html = build_hotspot(max_points=4).get_root().render()
    assert html.count("L.circleMarker(") <= 4
    assert "safe spaces in this 250 m square" in html


def test_aggregate_points_counts_per_cell() -> None:
    points = make_points(20)  # 10 columns × 2 rows, about 70 m apart
    cells = aggregate_points(points, cell_size_m=10_000)
    assert cells["count"].sum() == 20
    assert cells.crs.to_epsg() == 4326
    assert aggregate_points(points, cell_size_m=1)["count"].max() == 1


def test_suppressed_counts_are_shown_as_suppressed() -> None:
    html = build_hotspot(suppressed_text="fewer than 8").get_root().render()
    assert "Incidents: fewer than 8" in html
    assert "Incidents: None" not in html and "Incidents: nan" not in html


# --- builder specifics -----------------------------------------------------------------------


def test_hotspot_cells_coloured_by_gi_bin() -> None:
    html = build_hotspot().get_root().render()
    assert "#b2182b" in html and "#2166ac" in html  # 99 % hot and cold: ColorBrewer RdBu's ends
    assert "Hot spot — very likely, 99 %" in html


def test_legends_are_short_density_is_off_and_markers_are_outlined() -> None:
    html = build_hotspot().get_root().render()
    # Kernel density is a layer to tick, not drawn over the cells.
    assert "Kernel density" in html
    legend = html[html.index("data-contextmap-legend"):]
    for label in ("Hot spot — likely, 95 %", "Cold spot — possibly, 90 %", "Safe space, open now"):
        assert label in legend
    assert "Not significant" not in html
    assert '"color": "#ffffff", "fill": true' in html  # a white ring round each place marker
    m = build_hotspot()
    shown = {g.layer_name: g.show for g in m._children.values() if isinstance(g, folium.FeatureGroup)}
    assert shown["Kernel density"] is False and shown["Hotspot cells (Gi*)"] is True


def test_safe_spaces_split_open_closed_and_catchments() -> None:
    m = build_safe_spaces(walking_speed_m_per_min=75)
    html = m.get_root().render()
    assert '"radius": 750.0' in html and '"radius": 1125.0' in html
    nearest = re.search(r"var spaces = (\[.*?\]);", html)
    assert nearest
    spaces = json.loads(nearest.group(1))
    assert [s["name"] for s in spaces] == [escape_text(XSS_NAME), "Library"]
    assert "Youth club (closed)" in html
    assert "bystander intervention, adolescent development" in html
    assert 'map.on("click"' in html


def test_safe_spaces_open_state_from_opening_hours_evaluator() -> None:
    seen: list[tuple[str | None, datetime]] = []

    def only_weekend(hours: str | None, at: datetime) -> bool:
        seen.append((hours, at))
        return hours is not None and hours.startswith("Sa")

    html = build_safe_spaces(is_open=only_weekend).get_root().render()
    match = re.search(r"var spaces = (\[.*?\]);", html)
    assert match and [s["name"] for s in json.loads(match.group(1))] == ["Youth club"]
    assert len(seen) == 3 and seen[0][1] == datetime(2024, 6, 3, 16, 0)


def test_displacement_has_slider_swipe_arrows_and_summary() -> None:
    html = build_displacement().get_root().render()
    assert "L.timeDimension" in html and '"2024-06-01"' in html
    assert "contextmapBefore" in html and "contextmapAfter" in html and "data-contextmap-swipe" in html
    assert ".setText(" in html  # arrow heads along the displacement line
    assert "data-contextmap-summary" in html and "Weighted displacement quotient" in html
    # cell 1: 3 a month before (2024-04/05), 7 a month after (2024-06/07)
    assert "Before intervention: 3.0 a month over 2 months" in html
    assert "After intervention: 7.0 a month over 2 months" in html
    assert "Monthly cells (time slider)" in registered_layers(html)


def test_place_map_shows_history_guardians_and_timeline() -> None:
    html = build_place().get_root().render()
    assert "data-contextmap-designations" in html
    assert "Safe Places" in html and "bystander intervention" in html
    assert "data-contextmap-timeline" in html and "2024-02: suppressed (fewer than 8)" in html


def test_builders_accept_empty_inputs() -> None:
    empty = gpd.GeoDataFrame({"count": [], "gi_bin": [], "z": [], "p": []}, geometry=[], crs="EPSG:4326")
    html = hotspot_map(empty, None, None, None, None, title="Nothing yet").get_root().render()
    assert missing_assets(html) == [] and '"Hotspot cells (Gi*)"' in html
    html = safe_spaces_map(make_points(0, name=[]), None, at=datetime(2024, 1, 1)).get_root().render()
    assert "No safe space is open at this time." in html


def test_html_size_with_20000_cells() -> None:
    cells = make_cells(20_000, size=0.0005)
    html = hotspot_map(cells, None, None, None, None, title="Big", tiles=None).get_root().render()
    per_cell = len(html) / 20_000
    print(f"hotspot map with 20,000 cells: {len(html) / 1e6:.1f} MB ({per_cell:.0f} bytes a cell)")
    assert per_cell < 600
