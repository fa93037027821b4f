"""Query parameter text turned into typed values: RFC 3339 instants and intervals, bounding boxes, paging.

No FastAPI here: services and the CLI parse the same text the same way. The request-side declarations
(``BboxParam``, ``DatetimeParam``, the paging dependency, page links) are in :mod:`app.api.parameters`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from app.exceptions import InvalidInput
from app.schemas.common import EARLIEST_YEAR, LATEST_YEAR


def parse_instant(value: str, field: str) -> datetime:
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError as exc:
        raise InvalidInput(f"{field}: {value!r} is not an RFC 3339 date-time", field=field) from exc
    if parsed.tzinfo is None:
        if len(text) > 10:  # a bare date means that day in UTC
            raise InvalidInput(f"{field}: {value!r} needs a time zone (e.g. Z or +01:00)", field=field)
        parsed = parsed.replace(tzinfo=UTC)
    # Day and month arithmetic near year 1 or 9999 overflows (a 500 and a reset connection before).
    if not EARLIEST_YEAR <= parsed.year <= LATEST_YEAR:
        raise InvalidInput(f"{field}: {value!r} is outside the years {EARLIEST_YEAR}..{LATEST_YEAR}", field=field)
    return parsed


def parse_interval(value: str | None, field: str = "datetime") -> tuple[datetime | None, datetime | None] | None:
    """An RFC 3339 instant, or an interval ``start/end`` with ``..`` (or empty) for an open end."""
    if value is None or not value.strip():
        return None
    if "/" not in value:
        instant = parse_instant(value, field)
        if len(value.strip()) == 10:  # a bare date means the whole of that day
            return instant, instant + timedelta(days=1)
        return instant, instant
    start_text, _, end_text = value.partition("/")
    start = None if start_text.strip() in ("", "..") else parse_instant(start_text, field)
    end = None if end_text.strip() in ("", "..") else parse_instant(end_text, field)
    if start is None and end is None:
        raise InvalidInput(f"{field}: an interval needs at least one end", field=field)
    if start is not None and end is not None and end < start:
        raise InvalidInput(f"{field}: the interval ends before it starts", field=field)
    return start, end


def parse_bbox(value: str | None, field: str = "bbox") -> tuple[float, float, float, float] | None:
    if value is None or not value.strip():
        return None
    try:
        numbers = [float(v) for v in value.split(",")]
    except ValueError as exc:
        raise InvalidInput(f"{field}: expected four numbers minLon,minLat,maxLon,maxLat", field=field) from exc
    if len(numbers) != 4 or any(n != n for n in numbers):
        raise InvalidInput(f"{field}: expected four numbers minLon,minLat,maxLon,maxLat", field=field)
    x0, y0, x1, y1 = numbers
    if not (-180 <= x0 <= 180 and -180 <= x1 <= 180 and -90 <= y0 <= 90 and -90 <= y1 <= 90):
        raise InvalidInput(f"{field}: coordinates out of range", field=field)
    if x0 > x1 or y0 > y1:
        raise InvalidInput(f"{field}: minimum is greater than maximum", field=field)
    return x0, y0, x1, y1


@dataclass(frozen=True)
class Paging:
    limit: int
    offset: int
