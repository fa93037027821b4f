"""geo.policeuk: crime type mapping, month windows, row validation and stable keys (pure, no database)."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest

from geo.policeuk import (
    CRIME_TYPES,
    HEADER,
    CrimeRow,
    PoliceUkFormatError,
    RowProblem,
    content_key,
    harm_category,
    month_window,
    parse_rows,
    police_uk_files,
)
from geo.vocabulary import HARM_CATEGORIES
from tests.fixtures.policeuk import Hotspot, policeuk_csv_text


def parse(text: str) -> list[CrimeRow | RowProblem]:
    return list(parse_rows(io.StringIO(text)))


def test_every_published_crime_type_maps_to_a_known_harm_category():
    assert {harm_category(t) for t in CRIME_TYPES} <= set(HARM_CATEGORIES)
    assert harm_category("Anti-social behaviour") == "antisocial_behaviour"
    assert harm_category("Violence and sexual offences") == "serious_violence"
    assert harm_category("Something new in 2031") == "other"


@pytest.mark.parametrize(("month", "start", "end"), [
    ("2024-01", datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 2, 1, tzinfo=UTC)),
    ("2024-10", datetime(2024, 9, 30, 23, tzinfo=UTC), datetime(2024, 11, 1, tzinfo=UTC)),  # BST ends 27 Oct
    ("2023-12", datetime(2023, 12, 1, tzinfo=UTC), datetime(2024, 1, 1, tzinfo=UTC)),
])
def test_a_month_is_the_europe_london_calendar_month(month, start, end):
    assert month_window(month) == (start, end)


@pytest.mark.parametrize("bad", ["2024", "2024-00", "2024/03", "March", "24-03-01", ""])
def test_malformed_months_are_refused(bad):
    with pytest.raises(ValueError, match="is not YYYY-MM"):
        month_window(bad)


def test_line_numbers_count_physical_lines_including_quoted_newlines():
    rows = [
        'id1,2024-03,F,F,-0.41,51.88,"On or near\nPark Road",E01,L,Drugs,,',
        "id2,2024-03,F,F,-0.41,north,On or near X,E01,L,Drugs,,",
    ]
    results = parse(",".join(HEADER) + "\n" + "\n".join(rows) + "\n")
    assert isinstance(results[0], CrimeRow) and results[0].line == 2
    assert results[1] == RowProblem(4, "rejected", "Latitude 'north' is not a number")


def test_header_is_checked_and_a_byte_order_mark_tolerated():
    assert parse("\ufeff" + ",".join(HEADER) + "\n") == []
    with pytest.raises(PoliceUkFormatError, match="line 1"):
        parse("Crime ID,Month\n")
    with pytest.raises(PoliceUkFormatError, match="empty"):
        parse("")


def test_out_of_range_and_half_missing_coordinates_are_rejected_but_no_location_is_counted():
    lines = [
        "a,2024-03,F,F,-200,51.8,X,E,L,Drugs,,",
        "b,2024-03,F,F,-0.4,,X,E,L,Drugs,,",
        "c,2024-03,F,F,nan,51.8,X,E,L,Drugs,,",
        ",2024-03,F,F,,,No Location,,,Anti-social behaviour,,",
        "d,2024-03,F,F,-0.4,51.8,X,E,L,,,",
    ]
    results = parse(",".join(HEADER) + "\n" + "\n".join(lines))
    assert [(r.line, r.kind) for r in results if isinstance(r, RowProblem)] == [
        (2, "rejected"), (3, "rejected"), (4, "rejected"), (5, "no_location"), (6, "rejected")]


def test_asb_keys_are_stable_across_files_and_distinct_within_one():
    text = policeuk_csv_text(400, seed=11, map_points=20, asb_share=0.9)
    first = [r.source_ref for r in parse(text) if isinstance(r, CrimeRow)]
    again = [r.source_ref for r in parse(text) if isinstance(r, CrimeRow)]
    assert first == again
    assert len(set(first)) == len(first)  # identical ASB rows get their occurrence index
    assert all(len(ref) <= 128 for ref in first)


def test_content_key_depends_on_every_field():
    base = ["2024-03", "-0.41", "51.88", "On or near X", "E01", "Anti-social behaviour"]
    keys = {content_key(base, 0)}
    for i in range(len(base)):
        changed = list(base)
        changed[i] += "x"
        keys.add(content_key(changed, 0))
    assert len(keys) == len(base) + 1


def test_generator_places_hotspots_where_asked():
    spot = Hotspot(-0.40, 51.88, radius_m=100, weight=0.5)
    rows = [r for r in parse(policeuk_csv_text(1000, seed=5, hotspots=[spot])) if isinstance(r, CrimeRow)]
    near = [r for r in rows if abs(r.lon - spot.lon) < 0.002 and abs(r.lat - spot.lat) < 0.001]
    assert 0.4 < len(near) / len(rows) < 0.6


def test_folders_contribute_their_street_files(tmp_path):
    (tmp_path / "2024-03").mkdir()
    for name in ("2024-03-force-street.csv", "2024-03-force-outcomes.csv"):
        (tmp_path / "2024-03" / name).write_text("")
    (tmp_path / "loose.csv").write_text("")
    found = police_uk_files([tmp_path, tmp_path / "loose.csv"])
    assert [p.name for p in found] == ["2024-03-force-street.csv", "loose.csv"]
