"""National Grid references against Ordnance Survey's published examples."""

from __future__ import annotations

import pytest
from pyproj import Transformer

from geo.os_grid import GridReferenceError, bng_to_grid_reference, grid_reference_to_bng


def test_references_resolve_to_the_centre_of_their_square() -> None:
    # OS "A guide to coordinate systems in Great Britain": NN 166 712 (Ben Nevis) is 216600 771200, 100 m squares.
    assert grid_reference_to_bng("NN 166 712") == (216650.0, 771250.0)
    assert grid_reference_to_bng("TQ 30247 79662") == (530247.5, 179662.5)
    assert grid_reference_to_bng("tq3024779662") == (530247.5, 179662.5)
    assert grid_reference_to_bng("SV 00 00") == (500.0, 500.0)  # the false origin's square, 1 km
    assert grid_reference_to_bng("HP 6 1") == (465000.0, 1215000.0)


def test_a_reference_lands_where_pyproj_puts_the_place() -> None:
    # Big Ben is at about 51.5007 N, 0.1246 W.
    lon, lat = Transformer.from_crs(27700, 4326, always_xy=True).transform(*grid_reference_to_bng("TQ 30247 79662"))
    assert lat == pytest.approx(51.5007, abs=0.0005) and lon == pytest.approx(-0.1246, abs=0.0005)


@pytest.mark.parametrize("text", ["", "TQ", "TQ 123", "TQ 12 345", "IQ 12 34", "AA 12 34", "51.5, -0.12",
                                  "TQ 123456789012"])
def test_malformed_references_are_refused(text: str) -> None:
    with pytest.raises(GridReferenceError):
        grid_reference_to_bng(text)


def test_a_point_gives_back_the_reference_of_its_square() -> None:
    assert bng_to_grid_reference(216600, 771200, 6) == "NN 166 712"  # OS's Ben Nevis example
    assert bng_to_grid_reference(530247.5, 179662.5, 10) == "TQ 30247 79662"
    assert bng_to_grid_reference(500, 500, 4) == "SV 00 00"
    assert bng_to_grid_reference(465000, 1215000, 2) == "HP 6 1"
    # Every 100 km square letter pair round-trips.
    for e100k in range(7):
        for n100k in range(13):
            reference = bng_to_grid_reference(e100k * 100_000 + 12_340, n100k * 100_000 + 56_780)
            assert grid_reference_to_bng(reference) == (e100k * 100_000 + 12_345, n100k * 100_000 + 56_785)
    with pytest.raises(GridReferenceError):
        bng_to_grid_reference(-1, 0)
