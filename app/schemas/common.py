"""Shared schema pieces: controlled vocabularies as validated strings, links, collections."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    field_validator,
)

from geo.calendar import too_far_ahead


def one_of(values: Sequence[str]) -> AfterValidator:
    """Restrict a string to ``values``; the error names the allowed values (not an opaque enum)."""
    allowed = tuple(values)

    def check(value: str) -> str:
        if value not in allowed:
            raise ValueError(f"unknown value {value!r}; expected one of: {', '.join(allowed)}")
        return value

    return AfterValidator(check)


def enum_schema(values: Sequence[str], description: str = "") -> WithJsonSchema:
    return WithJsonSchema({"type": "string", "enum": list(values), "description": description})


def _without_nul(value: Any) -> Any:
    # PostgreSQL text cannot hold NUL; refuse it here, where the error can name the field.
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("contains a NUL character")
    if isinstance(value, list):
        for item in value:
            _without_nul(item)
    return value


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _refuse_nul(cls, value: Any) -> Any:
        return _without_nul(value)


ShortText = Annotated[str, Field(min_length=1, max_length=200)]
LongText = Annotated[str, Field(max_length=10_000)]


class Link(BaseModel):
    href: str
    rel: str
    type: str = "application/geo+json"
    title: str | None = None


# Instants outside these years are refused: no record of harm to a young person is older than 1900, and
# date arithmetic near year 1 or 9999 overflows (``datetime=9999-12-31`` was a 500 and a reset connection).
EARLIEST_YEAR = 1900
LATEST_YEAR = 2199


def _refuse_bare_number(value: Any) -> Any:
    # Pydantic reads a number (or a string of digits) as Unix seconds: ``occurred_from: 0`` was stored as
    # 1970-01-01. A date-time in this API is always an RFC 3339 string.
    if isinstance(value, int | float) or (isinstance(value, str) and value.strip().lstrip("-").isdigit()):
        raise ValueError("a date-time is an RFC 3339 string such as 2026-05-01T16:00:00Z, not a number")
    return value


def _refuse_number_as_date(value: Any) -> Any:
    # As for date-times: pydantic reads 0 or "86400" as a day counted from 1970-01-01.
    if isinstance(value, int | float) or (isinstance(value, str) and value.strip().lstrip("-").isdigit()):
        raise ValueError("a date is an ISO 8601 string such as 2026-05-01, not a number")
    return value


_D = TypeVar("_D", date, datetime)


def _within_years(value: _D) -> _D:
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValueError(f"outside the years {EARLIEST_YEAR}..{LATEST_YEAR}")
    return value


Timestamp = Annotated[AwareDatetime, BeforeValidator(_refuse_bare_number), AfterValidator(_within_years)]
#: A calendar day in a request body: an ISO 8601 date string within the years above, never a number.
Day = Annotated[date, BeforeValidator(_refuse_number_as_date), AfterValidator(_within_years)]


def refuse_future(value: datetime | None, field: str, tolerance_minutes: int) -> None:
    """Refuse an incident dated later than now plus a small tolerance (:func:`geo.calendar.too_far_ahead`).

    Raises ``ValueError`` naming the field; callers turn it into their own error (422 or an import row).
    """
    if value is not None and too_far_ahead(value, tolerance_minutes):
        raise ValueError(f"{field}: {value.isoformat()} is in the future")
