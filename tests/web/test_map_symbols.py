"""Place markers carry a symbol per kind of place inside their white-ringed disc, and an accessible name."""

from __future__ import annotations

from typing import Any

from app.web.maps.layers import PLACE_SYMBOLS, CircleMarkers, with_symbol
from geo.vocabulary import PLACE_KINDS


def test_every_place_kind_has_a_symbol_and_other_things_none() -> None:
    assert set(PLACE_SYMBOLS) == set(PLACE_KINDS)
    assert "symbol" not in with_symbol({"radius": 7}, "Youth diversion")  # an intervention's kind
    styled = with_symbol({"radius": 7, "color": "#d4351c"}, "library")
    assert styled["symbol"] == "fa-book" and styled["radius"] == 10


def test_markers_are_named_with_their_tooltip_and_kind() -> None:
    markers = CircleMarkers([(51.9, -0.4, with_symbol({"color": "#00703c"}, "library"),
                              "Wellgate &lt;Central&gt; Library", "<b>popup</b>")])
    assert markers.markers[0]["label"] == '"Wellgate \\u003cCentral\\u003e Library (library)"'
    assert markers.markers[0]["symbol"] == '"fa-book"'


def test_the_safe_spaces_map_draws_symbols(client: Any, demo_headers: dict[str, dict[str, str]]) -> None:
    html = client.get("/maps/safe-spaces", headers=demo_headers["community_safety"]).text
    assert '"fa-book"' in html and "contextmap-symbol" in html and "The symbol in a circle" in html


def test_density_is_drawn_as_contour_lines_of_the_same_bands() -> None:
    import geopandas as gpd
    from shapely.geometry import box

    from app.web.maps.render import density_contours

    # Three nested bands of one surface (low, middle, peak): a contour line at each band's lower bound.
    bands = gpd.GeoDataFrame({"density": [10.0, 30.0, 50.0]},
                             geometry=[box(0, 0, 0.03, 0.03).difference(box(0.01, 0.01, 0.02, 0.02)),
                                       box(0.01, 0.01, 0.02, 0.02).difference(box(0.014, 0.014, 0.016, 0.016)),
                                       box(0.014, 0.014, 0.016, 0.016)], crs="EPSG:4326")
    contours = density_contours(bands)
    assert list(contours["density"]) == [10.0, 30.0, 50.0]
    assert all(g.geom_type in ("LineString", "MultiLineString", "LinearRing") for g in contours.geometry)
    # The lowest contour is the outer edge of everything at or above it, not the band's inner ring too.
    assert abs(contours.geometry.iloc[0].length - 0.12) < 1e-9
    assert "incidents per km²" in contours["label"].iloc[0]
    assert len(density_contours(None)) == 0
