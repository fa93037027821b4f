"""A typed list of corners (geo.point_list): longitude and latitude, easting and northing, grid references."""

from __future__ import annotations

import pytest

from geo.point_list import PointListError, parse_point_list, points_to_polygon, polygon_to_point_list


def test_the_three_ways_of_giving_a_corner_agree() -> None:
    lonlat = parse_point_list("-0.41, 51.88\n-0.40 51.88\n-0.40;51.89")
    assert lonlat == [(-0.41, 51.88), (-0.40, 51.88), (-0.40, 51.89)]
    # TL 0632 2185 names a 1 m square; its centre in metres is 506320.5, 221850.5.
    by_reference = parse_point_list("TL 06320 21850\nTL 06420 21850\nTL 06420 21950")
    by_metres = parse_point_list("506320.5, 221850.5\n506420.5, 221850.5\n506420.5, 221950.5")
    for (x1, y1), (x2, y2) in zip(by_reference, by_metres, strict=True):
        assert abs(x1 - x2) < 1e-6 and abs(y1 - y2) < 1e-6


def test_a_closing_corner_is_not_doubled_and_the_ring_round_trips() -> None:
    points = parse_point_list("-0.41, 51.88\n-0.40, 51.88\n-0.40, 51.89\n-0.41, 51.88\n\n")
    polygon = points_to_polygon(points)
    assert polygon["coordinates"][0] == [[-0.41, 51.88], [-0.40, 51.88], [-0.40, 51.89], [-0.41, 51.88]]
    assert parse_point_list(polygon_to_point_list(polygon) or "") == points
    assert polygon_to_point_list({"type": "MultiPolygon", "coordinates": []}) is None


@pytest.mark.parametrize(("text", "message"), [
    ("-0.41, 51.88\n-0.41, 51.88\n-0.40, 51.88", "at least three different points"),
    ("51.88, -0.41\n-0.40, 51.88\n-0.40, 51.89", "line 1: 51.88, -0.41 looks like latitude then longitude"),
    ("-0.41, 51.88\nsomewhere\n-0.40, 51.89", "line 2: somewhere is not"),
    ("-0.41, 51.88\n-0.40, 95\n-0.40, 51.89", "line 2"),
    ("9000000, 100\n-0.40, 51.88\n-0.40, 51.89", "line 1"),
])
def test_a_wrong_list_names_the_line(text: str, message: str) -> None:
    with pytest.raises(PointListError, match=message):
        parse_point_list(text)


def test_the_number_of_corners_is_limited_before_reading_them() -> None:
    with pytest.raises(PointListError, match="the list has 6 points; at most 5 are accepted"):
        parse_point_list("\n".join(["x"] * 6), max_points=5)
