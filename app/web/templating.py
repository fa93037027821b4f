"""One Jinja environment for every page: our templates, then GOV.UK Frontend's macros
(``govuk_frontend_jinja``, the Jinja port of the Nunjucks macros, version matched to the npm package)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, PrefixLoader, select_autoescape

from geo.vocabulary import LONDON

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"


def _london(value: datetime | date | str | None, fmt: str = "%-d %B %Y") -> str:
    """Dates as people in England write them; times are stored UTC and shown Europe/London (DESIGN.md)."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):  # JSON columns (trainings, goals) keep ISO dates as text
        value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
    if isinstance(value, datetime):
        value = value.astimezone(LONDON) if value.tzinfo else value
    return value.strftime(fmt)


def humanise(value: str | None) -> str:
    """A vocabulary value as words: ``sports_cage`` -> ``Sports cage``."""
    return "" if not value else value.replace("_", " ").capitalize()


def _environment() -> Environment:
    loader = ChoiceLoader([
        FileSystemLoader(str(TEMPLATES_DIR)),
        PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")}),
    ])
    env = Environment(loader=loader, autoescape=select_autoescape(["html"], default_for_string=True),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["london"] = _london
    env.filters["humanise"] = humanise
    return env


templates = Jinja2Templates(env=_environment())


def render_string(name: str, context: dict[str, Any]) -> str:
    return templates.get_template(name).render(context)
