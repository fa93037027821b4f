"""Form handling shared by every page that writes: the posted fields, per-field errors for the GOV.UK
error summary, dates typed as day/month/year, and the one write path (app.services.records) run in a
savepoint so that nothing at all is written when any check fails."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Annotated, Any

from fastapi import Depends, Request
from pydantic import ValidationError
from sqlalchemy.orm import Session

from app.errors import Conflict, InvalidInput

MAX_FIELD = 5000  # characters: the longest text a form field accepts (LongText in app.schemas.common)


class Posted:
    """The fields of a submitted form (text values, stripped)."""

    def __init__(self, items: list[tuple[str, Any]]):
        self._items = [(k, v.strip() if isinstance(v, str) else "") for k, v in items]

    def get(self, name: str) -> str:
        return next((v for k, v in self._items if k == name), "")

    def all(self, name: str) -> list[str]:
        return [v for k, v in self._items if k == name and v]

    def lines(self, name: str) -> list[str]:
        return [line.strip() for line in self.get(name).splitlines() if line.strip()]

    def optional(self, name: str) -> str | None:
        return self.get(name) or None


async def _posted(request: Request) -> Posted:
    form = await request.form()
    return Posted(list(form.multi_items()))


PostedForm = Annotated[Posted, Depends(_posted)]


@dataclass
class FormErrors:
    """Errors by form field id, in the order the fields appear (the error summary links to each)."""

    messages: dict[str, str] = field(default_factory=dict)
    anchors: dict[str, str] = field(default_factory=dict)  # where the summary links: a date's day box

    def add(self, field_id: str, message: str) -> None:
        self.messages.setdefault(field_id, message)

    def __bool__(self) -> bool:
        return bool(self.messages)

    def of(self, field_id: str) -> dict[str, str] | None:
        message = self.messages.get(field_id)
        return {"text": message} if message else None

    def summary(self, order: list[str]) -> list[dict[str, str]]:
        ranked = sorted(self.messages.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order))
        return [{"text": message, "href": f"#{self.anchors.get(field_id, field_id)}"} for field_id, message in ranked]

    def from_validation(self, exc: ValidationError, fields: Mapping[str, str]) -> None:
        """Pydantic's errors on the request schema, each at the form field its location names."""
        for error in exc.errors():
            names = [str(p) for p in error.get("loc", ()) if isinstance(p, str)]
            message = str(error.get("msg", "is not valid")).removeprefix("Value error, ")
            if ": " in message and message.split(": ", 1)[0] in fields:  # "<field>: ..." from model validators
                names.append(message.split(": ", 1)[0])
                message = message.split(": ", 1)[1]
            target = next((fields[n] for n in reversed(names) if n in fields), "form")
            self.add(target, message[:1].upper() + message[1:])

    def from_domain(self, exc: InvalidInput | Conflict, fields: Mapping[str, str]) -> None:
        for error in exc.errors or [{"field": exc.field, "message": exc.detail}]:
            name = str(error.get("field") or "").removeprefix("properties.")
            message = str(error.get("message") or exc.detail)
            if message.startswith(f"{error.get('field')}: "):
                message = message.split(": ", 1)[1]
            self.add(fields.get(name, "form"), message[:1].upper() + message[1:])


def parse_date(posted: Posted, prefix: str, errors: FormErrors, label: str, *, required: bool = False) -> date | None:
    """A GOV.UK date input (``<prefix>-day``, ``-month``, ``-year``) as a date, or an error naming it."""
    parts = [posted.get(f"{prefix}-{p}") for p in ("day", "month", "year")]
    errors.anchors[prefix] = f"{prefix}-day"  # the GOV.UK date input's first box takes the focus
    if not any(parts):
        if required:
            errors.add(prefix, f"Enter the {label}")
        return None
    try:
        day, month, year = (int(p) for p in parts)
        if year < 1900:
            raise ValueError
        return date(year, month, day)
    except ValueError:
        errors.add(prefix, f"The {label} must be a real date, like 27 3 2026")
        return None


def date_items(posted: Posted | None, prefix: str, value: date | None = None) -> list[dict[str, Any]]:
    """The three boxes of a GOV.UK date input, filled from what was posted or a stored date."""
    values = ({p: posted.get(f"{prefix}-{p}") for p in ("day", "month", "year")} if posted is not None else
              {"day": value.day, "month": value.month, "year": value.year} if value else {})
    return [{"name": "day", "classes": "govuk-input--width-2", "value": values.get("day", "")},
            {"name": "month", "classes": "govuk-input--width-2", "value": values.get("month", "")},
            {"name": "year", "classes": "govuk-input--width-4", "value": values.get("year", "")}]


@contextmanager
def written(session: Session, errors: FormErrors, fields: Mapping[str, str]) -> Iterator[None]:
    """Run a write in a savepoint: any refusal becomes form errors and leaves nothing behind."""
    try:
        with session.begin_nested():
            yield
    except ValidationError as exc:
        errors.from_validation(exc, fields)
    except (InvalidInput, Conflict) as exc:
        errors.from_domain(exc, fields)


def build(errors: FormErrors, fields: Mapping[str, str], make: Callable[[], Any]) -> Any:
    """Build a request schema (validation the JSON API also runs); errors go to their form fields."""
    try:
        return make()
    except ValidationError as exc:
        errors.from_validation(exc, fields)
        return None


def check(errors: FormErrors, fields: Mapping[str, str], run: Callable[[], Any]) -> None:
    """Run one of the write path's own checks early, so that every wrong field is reported at once."""
    try:
        run()
    except (InvalidInput, Conflict) as exc:
        errors.from_domain(exc, fields)
