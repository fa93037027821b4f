"""Shared schema pieces: controlled vocabularies as validated strings, links, collections."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema


def vocabulary(values: Sequence[str], description: str = "") -> Any:
    """A string restricted to ``values``; the error names the allowed values (not an opaque enum)."""
    allowed = tuple(values)

    def check(value: str) -> str:
        if value not in allowed:
            raise ValueError(f"unknown value {value!r}; expected one of: {', '.join(allowed)}")
        return value

    return Annotated[
        str,
        AfterValidator(check),
        WithJsonSchema({"type": "string", "enum": list(allowed), "description": description}),
    ]


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


ShortText = Annotated[str, Field(min_length=1, max_length=200)]
LongText = Annotated[str, Field(max_length=10_000)]


class Link(BaseModel):
    href: str
    rel: str
    type: str = "application/geo+json"
    title: str | None = None


class Page(BaseModel):
    links: list[Link] = []
    numberReturned: int = 0  # noqa: N815 - OGC API Features name
