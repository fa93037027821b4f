"""police.uk street-level crime files: crime type → harm category, row parsing and validation, stable keys.

The monthly "street" CSV files published by data.police.uk have the columns of :data:`HEADER`. Locations
are already anonymised by police.uk: each crime is *snapped* to the centre of a nearby street segment or
"map point" (so ``location_precision`` is ``"snapped"``), and the month is the only time given.

Decisions (documented in the import report and README):

* **Harm category.** :data:`HARM_BY_CRIME_TYPE` maps the published crime types onto the harm categories of
  DESIGN.md; every other type (burglary, shoplifting, vehicle crime, …) is ``"other"``. The original type
  is kept as ``source_category``, so the mapping can be revisited without re-importing.
* **Time window.** A month ``YYYY-MM`` is the calendar month in England and Wales local time:
  ``occurred_from`` is the first of the month at 00:00 Europe/London, ``occurred_to`` the first of the next
  month at 00:00 Europe/London, both stored in UTC (so April starts at 23:00 UTC on 31 March, in BST).
* **De-duplication.** A row with a ``Crime ID`` is keyed by it. Anti-social behaviour rows (and any other
  row without an ID) are keyed by :func:`content_key`: the SHA-256 of month, longitude, latitude, location,
  LSOA code and crime type, *plus the occurrence index of that content within the file* — so two identical
  ASB reports in one month are two incidents, and re-importing the same file finds both again.
* **No location.** Rows with empty longitude and latitude are counted, not imported.

This module is pure: it never touches a database or the web layer.
"""

from __future__ import annotations

import csv
import hashlib
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from typing import TextIO

from geo.calendar import FUTURE_TOLERANCE_MINUTES, add_months, london_midnight, too_far_ahead

HEADER = (
    "Crime ID", "Month", "Reported by", "Falls within", "Longitude", "Latitude", "Location",
    "LSOA code", "LSOA name", "Crime type", "Last outcome category", "Context",
)
(CRIME_ID, MONTH, REPORTED_BY, FALLS_WITHIN, LONGITUDE, LATITUDE, LOCATION, LSOA_CODE, LSOA_NAME,
 CRIME_TYPE, LAST_OUTCOME, CONTEXT) = range(len(HEADER))

#: police.uk crime type → harm category. Everything else → "other" (see :func:`harm_category`).
HARM_BY_CRIME_TYPE: dict[str, str] = {
    "Anti-social behaviour": "antisocial_behaviour",
    "Drugs": "drugs",
    "Possession of weapons": "weapon_carrying",
    "Violence and sexual offences": "serious_violence",
    # police.uk also published these before May 2013; the meaning is the same.
    "Violent crime": "serious_violence",
    "Violence and Sexual Offences": "serious_violence",
}
#: The crime types police.uk publishes today (for documentation and the test-file generator).
CRIME_TYPES = (
    "Anti-social behaviour", "Bicycle theft", "Burglary", "Criminal damage and arson", "Drugs",
    "Other crime", "Other theft", "Possession of weapons", "Public order", "Robbery", "Shoplifting",
    "Theft from the person", "Vehicle crime", "Violence and sexual offences",
)
SOURCE = "police_uk"
LOCATION_PRECISION = "snapped"


def harm_category(crime_type: str) -> str:
    """The harm category for a police.uk crime type; unknown types are ``"other"``.

    Examples
    --------
    >>> harm_category("Drugs"), harm_category("Possession of weapons"), harm_category("Burglary")
    ('drugs', 'weapon_carrying', 'other')
    """
    return HARM_BY_CRIME_TYPE.get(crime_type.strip(), "other")


class PoliceUkFormatError(ValueError):
    """The file is not a police.uk street-level crime file (wrong header): nothing in it can be read."""


@lru_cache(maxsize=512)
def month_window(month: str) -> tuple[datetime, datetime]:
    """``(occurred_from, occurred_to)`` in UTC for a police.uk month ``YYYY-MM`` (Europe/London months).

    Examples
    --------
    >>> [t.isoformat() for t in month_window("2024-04")]
    ['2024-03-31T23:00:00+00:00', '2024-04-30T23:00:00+00:00']
    >>> month_window("2024-13")
    Traceback (most recent call last):
    ...
    ValueError: month '2024-13' is not YYYY-MM
    """
    text = month.strip()
    try:
        if len(text) != 7 or text[4] != "-":
            raise ValueError
        first = date(int(text[:4]), int(text[5:]), 1)
    except ValueError:
        raise ValueError(f"month {month!r} is not YYYY-MM") from None
    return london_midnight(first), london_midnight(add_months(first, 1))


def content_key(fields: Iterable[str], occurrence: int) -> str:
    """Stable de-duplication key for a row without a Crime ID: ``asb:`` + SHA-256 hex (68 characters).

    ``fields`` are month, longitude, latitude, location, LSOA code and crime type *as published* (text,
    not parsed floats, so the key never depends on float formatting); ``occurrence`` counts identical
    rows before this one in the same file.

    Examples
    --------
    >>> a = content_key(["2024-03", "-0.41", "51.88", "On or near Park Road", "E01", "Anti-social behaviour"], 0)
    >>> b = content_key(["2024-03", "-0.41", "51.88", "On or near Park Road", "E01", "Anti-social behaviour"], 1)
    >>> a != b and len(a) == 68 and a.startswith("asb:")
    True
    """
    digest = hashlib.sha256("\x1f".join([*(f.strip() for f in fields), str(occurrence)]).encode("utf-8"))
    return "asb:" + digest.hexdigest()


@dataclass(frozen=True, slots=True)
class CrimeRow:
    """One importable row: everything the incidents table needs."""

    line: int
    source_ref: str
    occurred_from: datetime
    occurred_to: datetime
    harm_category: str
    source_category: str
    lon: float
    lat: float


@dataclass(frozen=True, slots=True)
class RowProblem:
    """A row that cannot be imported: ``kind`` is ``"rejected"`` (with a reason) or ``"no_location"``."""

    line: int
    kind: str
    reason: str = ""


def check_header(header: list[str] | None) -> None:
    """Refuse a file whose first row is not the police.uk street-level header."""
    if header is None:
        raise PoliceUkFormatError("the file is empty (expected the police.uk header on line 1)")
    cleaned = [h.strip().lstrip("\ufeff") for h in header]
    if tuple(cleaned) != HEADER:
        raise PoliceUkFormatError(
            "line 1 is not the police.uk street-level crime header: expected "
            f"{','.join(HEADER)!r}, got {','.join(cleaned)[:300]!r}"
        )


def parse_rows(stream: TextIO, future_tolerance_minutes: float = FUTURE_TOLERANCE_MINUTES,
               ) -> Iterator[CrimeRow | RowProblem]:
    """Parse a police.uk street-level CSV, one result per data row, in file order.

    Line numbers are physical lines of the file (line 1 is the header), so a quoted field spanning
    lines still reports where its row starts. Raises :class:`PoliceUkFormatError` for a wrong header.

    Examples
    --------
    >>> import io
    >>> text = ",".join(HEADER) + "\\n" + "abc,2024-03,F,F,-0.41,51.88,On or near X,E01,L,Drugs,,\\n"
    >>> [type(r).__name__ for r in parse_rows(io.StringIO(text))]
    ['CrimeRow']
    """
    reader = csv.reader(stream)
    check_header(next(reader, None))
    seen_content: dict[tuple[str, ...], int] = {}
    width = len(HEADER)
    harm = HARM_BY_CRIME_TYPE
    line = reader.line_num + 1
    # A month that has not begun yet is a wrong file, never a crime (a far-future date moved an
    # organisation's default analysis window off the data): the write use case's rule, too_far_ahead.
    now = datetime.now(UTC)
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:  # e.g. a field over the csv module's 128 KB limit
            start, line = line, reader.line_num + 1
            yield RowProblem(start, "rejected", f"unreadable row: {exc}")
            continue
        start, line = line, reader.line_num + 1
        if not row or (len(row) == 1 and not row[0].strip()):
            continue  # blank line (e.g. at the end of the file)
        if len(row) != width:
            yield RowProblem(start, "rejected", f"expected {width} columns, found {len(row)}")
            continue
        crime_type = row[CRIME_TYPE].strip()
        if not crime_type:
            yield RowProblem(start, "rejected", "Crime type is empty")
            continue
        # Only these two texts are stored; PostgreSQL text cannot hold NUL (it failed the whole COPY).
        if "\x00" in crime_type or "\x00" in row[CRIME_ID]:
            yield RowProblem(start, "rejected", "contains a NUL character")
            continue
        try:
            occurred_from, occurred_to = month_window(row[MONTH])
        except ValueError as exc:
            yield RowProblem(start, "rejected", str(exc))
            continue
        if too_far_ahead(occurred_from, future_tolerance_minutes, now):
            yield RowProblem(start, "rejected", f"Month {row[MONTH].strip()} is in the future")
            continue
        lon_text, lat_text = row[LONGITUDE].strip(), row[LATITUDE].strip()
        if not lon_text and not lat_text:
            yield RowProblem(start, "no_location")
            continue
        # Inlined rather than a helper call: this loop runs once per row of million-row files.
        try:
            lon = float(lon_text)
        except ValueError:
            yield RowProblem(start, "rejected", f"Longitude {lon_text!r} is not a number")
            continue
        try:
            lat = float(lat_text)
        except ValueError:
            yield RowProblem(start, "rejected", f"Latitude {lat_text!r} is not a number")
            continue
        if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):  # also refuses NaN
            reason = (f"Longitude {lon} is out of range [-180.0, 180.0]" if not -180.0 <= lon <= 180.0
                      else f"Latitude {lat} is out of range [-90.0, 90.0]")
            yield RowProblem(start, "rejected", reason)
            continue
        crime_id = row[CRIME_ID].strip()
        if crime_id:
            if len(crime_id) > 128:
                yield RowProblem(start, "rejected", "Crime ID is longer than 128 characters")
                continue
            source_ref = crime_id
        else:
            content = (row[MONTH].strip(), lon_text, lat_text, row[LOCATION].strip(),
                       row[LSOA_CODE].strip(), crime_type)
            occurrence = seen_content.get(content, 0)
            seen_content[content] = occurrence + 1
            source_ref = content_key(content, occurrence)
        yield CrimeRow(start, source_ref, occurred_from, occurred_to, harm.get(crime_type, "other"), crime_type,
                       lon, lat)


def police_uk_files(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """The CSV files to import from files and folders, in a stable order.

    A folder (e.g. an unzipped police.uk download, one sub-folder per month) contributes its
    ``*-street.csv`` files, recursively — the download also holds outcomes and stop-and-search files with
    other columns; a folder with no ``*-street.csv`` file contributes every ``*.csv``.
    """
    found: list[Path] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            street = sorted(path.rglob("*-street.csv"))
            found.extend(street or sorted(path.rglob("*.csv")))
        else:
            found.append(path)
    return found
