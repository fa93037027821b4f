"""Administration request bodies (the JSON API and the admin pages validate users the same way)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from app.schemas.common import StrictModel, enum_schema, one_of
from geo.vocabulary import ROLES


class UserCreate(StrictModel):
    email: Annotated[str, Field(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")]
    role: Annotated[str, one_of(ROLES), enum_schema(ROLES, "role")]
    password: Annotated[str, Field(min_length=12, max_length=1024)] | None = None
