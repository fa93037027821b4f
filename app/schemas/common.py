"""Shared schema pieces: controlled vocabularies as validated strings, links, collections."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema, field_validator


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
