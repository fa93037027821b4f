"""The Level 1 safety plan page (issue 15): the young person's places and times of the week as the worker
describes them → for each, the safe spaces open then and the trusted adults on duty, what to do and who to
call; a page that prints on one A4 sheet and a PDF built on the server.

``GET /safe-spaces/plan`` shows the form (prefilled from the finder's "Make a safety plan": start, age,
day and time). ``POST /safe-spaces/plan`` makes the plan and shows it; ``POST /safe-spaces/plan.pdf``
makes the same plan from the same fields as a PDF. Nothing about the young person is stored: the fields
travel in the form, and :func:`app.services.safety_plan.make_plan` audits only that a plan was made (and
counts). Works without JavaScript: "Add another place" posts the form back with one more place.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from app import policy
from app.db import finder_places
from app.dependencies import Principal, SessionDep, SettingsDep, gate
from app.errors import InvalidInput
from app.services import safety_plan as service
from app.services.safety_plan import Contact, PlanContext, PlanInput, SafetyPlan, WeeklyTime
from app.web.forms import FormErrors, Posted, PostedForm
from app.web.packs import pack_pdf
from app.web.shell import page
from app.web.templating import templates
from geo.vocabulary import AGE_BAND_WORDS, LONDON, SAFETY_RATINGS

router = APIRouter(tags=["web"], include_in_schema=False)

CONTACT_ROWS = 3
MAX_MARKS, MARK_TEXT = 40, 200  # a safety-mapping session's marks (Settings.safety_map_max_marks) and their text
MAX_MAP_ITEMS = 40  # a session's safe places or trusted adults carried to the plan (each at most MARK_TEXT)
MARK_HEADINGS = {"red": "Places and routes that feel unsafe", "amber": "Places they are not sure about",
                 "green": "Places and routes that feel safe"}
# The page's stylesheet, print rules included, is also the PDF's: one design for both.
PLAN_CSS = Path(__file__).resolve().parent.parent / "static" / "web" / "safety-plan.css"
DAY_CHOICES: tuple[tuple[str, str, tuple[int, ...]], ...] = (
    ("weekdays", "Weekdays (Monday to Friday)", (0, 1, 2, 3, 4)),
    ("everyday", "Every day", (0, 1, 2, 3, 4, 5, 6)),
    ("weekends", "Weekends", (5, 6)),
    *((f"d{d}", f"{name}s", (d,)) for d, name in enumerate(service.DAY_NAMES)),
)
DAYS = {key: days for key, _, days in DAY_CHOICES}
DEFAULT_STEPS = ("If you feel unsafe, go to one of the safe spaces listed for where you are, and tell an adult "
                 "there. If you are in danger now, call 999.")


@dataclass
class PlaceRow:
    """One place as typed: where, what to call it, and up to two times of the week."""

    label: str = ""
    where: str = ""
    point: str = ""  # "lon,lat" carried from the finder
    point_label: str = ""  # the finder's name for that point: the point is used while `where` still says it
    times: list[dict[str, str]] = field(default_factory=lambda: [{"days": "weekdays", "from": "", "to": ""},
                                                                 {"days": "", "from": "", "to": ""}])

    @property
    def empty(self) -> bool:
        return not (self.label or self.where or any(t["from"] or t["to"] for t in self.times))


@dataclass
class MapSheet:
    """A safety-mapping session's own sheet (issue 21) as it travels in the plan's form fields: the date, the
    age band, the safe places and trusted adults the young person named, and whether their map was kept (its
    reference and how many squares). Page and PDF render it with one partial (safety_plan/_map_sheet.html), so
    what is printed and what is downloaded cannot differ. Nothing here is stored."""

    held_on: str = ""  # ISO date of the session
    age_band: str = ""  # a key of AGE_BAND_WORDS
    reference: str = ""  # the kept map's id (SM-N), only with agreement
    cells: str = ""  # how many grid squares were kept
    already: str = ""  # "yes": this map had been added before and was not added again
    places: list[tuple[str, str]] = field(default_factory=list)  # (name, our place id or "")
    adults: list[str] = field(default_factory=list)

    @property
    def present(self) -> bool:
        return bool(self.held_on_date and self.age_words)

    @property
    def held_on_date(self) -> date | None:
        try:
            return date.fromisoformat(self.held_on)
        except ValueError:
            return None

    @property
    def age_words(self) -> str:
        return AGE_BAND_WORDS.get(self.age_band, "")

    @property
    def map_id(self) -> int | None:
        return int(self.reference) if self.reference.isdigit() else None

    @property
    def kept_cells(self) -> int:
        return int(self.cells) if self.cells.isdigit() else 0

    @property
    def kept(self) -> bool:
        """With agreement the map was added to the area picture (now or by an earlier post of the same form)."""
        return self.present and (self.map_id is not None or self.already == "yes")

    @classmethod
    def posted(cls, posted: Posted) -> MapSheet:
        places, adults = [], []
        for n in range(1, MAX_MAP_ITEMS + 1):
            name = posted.get(f"map-place-{n}")[:MARK_TEXT]
            if not name:
                break
            place_id = posted.get(f"map-place-{n}-id")
            places.append((name, place_id if place_id.isdigit() else ""))
        for n in range(1, MAX_MAP_ITEMS + 1):
            label = posted.get(f"map-adult-{n}")[:MARK_TEXT]
            if not label:
                break
            adults.append(label)
        return cls(posted.get("map-held-on")[:10], posted.get("map-age-band")[:10], posted.get("map-ref")[:12],
                   posted.get("map-cells")[:6], posted.get("map-already")[:3], places, adults)

    def fields(self) -> list[tuple[str, str]]:
        found = [("map-held-on", self.held_on), ("map-age-band", self.age_band), ("map-ref", self.reference),
                 ("map-cells", self.cells), ("map-already", self.already)]
        for n, (name, place_id) in enumerate(self.places, start=1):
            found += [(f"map-place-{n}", name), (f"map-place-{n}-id", place_id)]
        found += [(f"map-adult-{n}", label) for n, label in enumerate(self.adults, start=1)]
        return found


@dataclass
class PlanForm:
    age: str = ""
    week: str = ""
    steps: str = ""
    places: list[PlaceRow] = field(default_factory=lambda: [PlaceRow()])
    contacts: list[dict[str, str]] = field(default_factory=lambda: [{"name": "", "number": ""}
                                                                    for _ in range(CONTACT_ROWS)])
    # A safety-mapping session's own marks (issue 21), carried to the PDF as a list: rating, label, words.
    marks: list[dict[str, str]] = field(default_factory=list)
    sheet: MapSheet = field(default_factory=MapSheet)

    @classmethod
    def posted(cls, posted: Posted) -> PlanForm:
        count = min(max(int(posted.get("count")) if posted.get("count").isdigit() else 1, 1), service.MAX_CONTEXTS)
        places = []
        for n in range(1, count + 1):
            times = [{"days": posted.get(f"days-{n}-{t}"), "from": posted.get(f"from-{n}-{t}"),
                      "to": posted.get(f"to-{n}-{t}")} for t in (1, 2)]
            places.append(PlaceRow(posted.get(f"label-{n}"), posted.get(f"where-{n}"), posted.get(f"point-{n}"),
                                   posted.get(f"pointlabel-{n}"), times))
        contacts = [{"name": posted.get(f"contact-name-{k}"), "number": posted.get(f"contact-number-{k}")}
                    for k in range(1, CONTACT_ROWS + 1)]
        marks = []
        for n in range(1, MAX_MARKS + 1):
            rating = posted.get(f"mark-{n}-rating")
            if rating not in SAFETY_RATINGS:
                break
            marks.append({"rating": rating, "label": posted.get(f"mark-{n}-label")[:MARK_TEXT],
                          "words": posted.get(f"mark-{n}-words")[:MARK_TEXT]})
        return cls(posted.get("age"), posted.get("week"), posted.get("steps"), places, contacts, marks,
                   MapSheet.posted(posted))

    def hidden(self) -> list[tuple[str, str]]:
        """Every field as (name, value), to carry the plan to the PDF and back to the form: nothing is stored."""
        fields = [("count", str(len(self.places))), ("age", self.age), ("week", self.week), ("steps", self.steps)]
        for n, row in enumerate(self.places, start=1):
            fields += [(f"label-{n}", row.label), (f"where-{n}", row.where), (f"point-{n}", row.point),
                       (f"pointlabel-{n}", row.point_label)]
            for t, weekly in enumerate(row.times, start=1):
                fields += [(f"days-{n}-{t}", weekly["days"]), (f"from-{n}-{t}", weekly["from"]),
                           (f"to-{n}-{t}", weekly["to"])]
        for k, contact in enumerate(self.contacts, start=1):
            fields += [(f"contact-name-{k}", contact["name"]), (f"contact-number-{k}", contact["number"])]
        for n, mark in enumerate(self.marks, start=1):
            fields += [(f"mark-{n}-rating", mark["rating"]), (f"mark-{n}-label", mark["label"]),
                       (f"mark-{n}-words", mark["words"])]
        fields += self.sheet.fields()
        return [(name, value) for name, value in fields if value]

    def mark_fields(self) -> list[tuple[str, str]]:
        """Only the session's marks and sheet as (name, value): the plan form carries them unchanged to the plan
        and PDF."""
        return [(name, value) for name, value in self.hidden() if name.startswith(("mark-", "map-"))]

    def field_order(self) -> list[str]:
        order = ["age", "week"]
        for n in range(1, len(self.places) + 1):
            order += [f"label-{n}", f"where-{n}"] + [f"{p}-{n}-{t}" for t in (1, 2) for p in ("days", "from", "to")]
        order += ["steps"] + [f"contact-{p}-{k}" for k in range(1, CONTACT_ROWS + 1) for p in ("name", "number")]
        return [*order, "form"]


def _time(text: str, field_id: str, errors: FormErrors, label: str) -> clock | None:
    try:
        return clock.fromisoformat(text)
    except ValueError:
        errors.add(field_id, f"Enter the {label} time like 15:30")
        return None


def _parse(session: Any, principal: Principal, form: PlanForm, errors: FormErrors) -> PlanInput | None:
    age = None
    if form.age:
        if not form.age.isdigit() or not 0 <= int(form.age) <= 25:
            errors.add("age", "Enter the young person's age as a whole number from 0 to 25")
        else:
            age = int(form.age)
    week = None
    if form.week:
        try:
            week = date.fromisoformat(form.week)
            if not 1900 <= week.year < 2200:
                raise ValueError
        except ValueError:
            errors.add("week", "Enter the first day of the week to check as a date, like 2026-09-14")
    if len(form.steps) > service.MAX_STEPS:
        errors.add("steps", f"What to do must be {service.MAX_STEPS} characters or fewer")
    contexts = []
    rows = [(n, row) for n, row in enumerate(form.places, start=1) if not row.empty]
    if not rows:
        errors.add("where-1", "Enter where the young person spends time")
    for n, row in rows:
        if len(row.label) > service.MAX_LABEL:
            errors.add(f"label-{n}", f"The name on the plan must be {service.MAX_LABEL} characters or fewer")
        point = _where(session, principal, row, n, errors)
        times = []
        for t, weekly in enumerate(row.times, start=1):
            if t > 1 and not (weekly["from"] or weekly["to"]):
                continue
            days = DAYS.get(weekly["days"])
            if days is None:
                errors.add(f"days-{n}-{t}", "Choose the days")
            start = _time(weekly["from"], f"from-{n}-{t}", errors, "start")
            end = _time(weekly["to"], f"to-{n}-{t}", errors, "end")
            if start is not None and end is not None and start == end:
                errors.add(f"to-{n}-{t}", "The end time must be different from the start time")
            if days is not None and start is not None and end is not None:
                times.append(WeeklyTime(days, start, end))
        if point is not None and times:
            contexts.append(PlanContext((row.label or row.where)[: service.MAX_LABEL], point[0], point[1],
                                        tuple(times)))
    contacts = []
    for k, contact in enumerate(form.contacts, start=1):
        if not (contact["name"] or contact["number"]):
            continue
        if not contact["name"] or len(contact["name"]) > service.MAX_CONTACT_NAME:
            errors.add(f"contact-name-{k}", f"Enter who to call, in {service.MAX_CONTACT_NAME} characters or fewer")
        if not contact["number"] or len(contact["number"]) > service.MAX_CONTACT_NUMBER:
            errors.add(f"contact-number-{k}",
                       f"Enter their phone number, in {service.MAX_CONTACT_NUMBER} characters or fewer")
        contacts.append(Contact(contact["name"], contact["number"]))
    if errors:
        return None
    return PlanInput(tuple(contexts), age, form.steps, tuple(contacts), week)


def _where(session: Any, principal: Principal, row: PlaceRow, n: int, errors: FormErrors) -> tuple[float, float] | None:
    if not row.where:
        errors.add(f"where-{n}", "Enter a place or street name")
        return None
    if len(row.where) > 200:
        errors.add(f"where-{n}", "Where must be 200 characters or fewer")
        return None
    if row.point and row.where == row.point_label:
        try:
            lon, lat = (float(v) for v in row.point.split(","))
            return lon, lat
        except ValueError:
            pass
    matches = finder_places.match_locations(session, principal.organisation_id, row.where, limit=1)
    if not matches:
        errors.add(f"where-{n}", f"No place or street called \u201c{row.where}\u201d: try part of the name")
        return None
    return matches[0]["lon"], matches[0]["lat"]


def _field_of(name: str, form: PlanForm) -> str:
    """The form field an error from the service names (``contexts.0.lon`` → the first filled place's where)."""
    parts = name.split(".")
    if parts[0] == "contexts" and len(parts) > 1 and parts[1].isdigit():
        filled = [n for n, row in enumerate(form.places, start=1) if not row.empty]
        index = int(parts[1])
        return f"where-{filled[index]}" if index < len(filled) else "form"
    return {"age": "age", "steps": "steps"}.get(parts[0], "form")


def _form_page(request: Request, session: Any, principal: Principal, form: PlanForm, errors: FormErrors,
               status_code: int = 200) -> HTMLResponse:
    return page(request, "safety_plan/form.html", principal=principal, session=session,
                title="Make a safety plan", breadcrumbs=[("Home", "/"), ("Find a safe space", "/safe-spaces/find")],
                errors=errors, error_summary=errors.summary(form.field_order()) if errors else None, form=form,
                day_choices=DAY_CHOICES, limits=service, status_code=status_code)


def _made(session: Any, settings: Any, principal: Principal, form: PlanForm, errors: FormErrors, output: str,
          ) -> SafetyPlan | None:
    plan_input = _parse(session, principal, form, errors)
    if plan_input is None:
        return None
    try:
        return service.make_plan(session, settings, principal, plan_input, output=output)
    except InvalidInput as exc:
        for error in exc.errors or [{"field": exc.field, "message": exc.detail}]:
            message = str(error.get("message") or exc.detail).split(": ", 1)[-1]
            errors.add(_field_of(str(error.get("field") or ""), form), message[:1].upper() + message[1:])
        return None


def _from_finder(where: str, lon: str, lat: str, age: str, day: str, time_text: str) -> PlanForm:
    form = PlanForm(age=age if age.isdigit() else "")
    row = form.places[0]
    row.where = where
    with suppress(ValueError):
        row.point, row.point_label = f"{float(lon)},{float(lat)}", where
    now = datetime.now(UTC).astimezone(LONDON)
    try:
        when = date.fromisoformat(day)
        form.week = when.isoformat()
    except ValueError:
        when = now.date()
    try:
        start = clock.fromisoformat(time_text).replace(second=0, microsecond=0)
    except ValueError:
        start = now.time().replace(minute=0 if now.minute < 30 else 30, second=0, microsecond=0)
    end = (datetime.combine(when, start) + timedelta(hours=2)).time()
    row.times[0] = {"days": f"d{when.weekday()}", "from": f"{start:%H:%M}", "to": f"{end:%H:%M}"}
    return form


@router.get("/safe-spaces/plan", response_class=HTMLResponse)
def plan_form(
    request: Request, session: SessionDep, where: Annotated[str, Query(max_length=200)] = "",
    lon: Annotated[str, Query(max_length=40)] = "", lat: Annotated[str, Query(max_length=40)] = "",
    age: Annotated[str, Query(max_length=10)] = "", day: Annotated[str, Query(max_length=20)] = "",
    time_text: Annotated[str, Query(alias="time", max_length=20)] = "",
    principal: Principal = gate(policy.WRITE_SAFE_SPACES),
) -> HTMLResponse:
    form = _from_finder(where.strip(), lon.strip(), lat.strip(), age.strip(), day.strip(), time_text.strip()) \
        if where.strip() else PlanForm()
    return _form_page(request, session, principal, form, FormErrors())


@router.post("/safe-spaces/plan", response_class=HTMLResponse)
def make_plan_page(request: Request, session: SessionDep, settings: SettingsDep, posted: PostedForm,
                   principal: Principal = gate(policy.WRITE_SAFE_SPACES)) -> HTMLResponse:
    form = PlanForm.posted(posted)
    errors = FormErrors()
    action = posted.get("action")
    if action == "add" and len(form.places) < service.MAX_CONTEXTS:
        form.places.append(PlaceRow())
    if action in ("add", "change"):
        return _form_page(request, session, principal, form, errors)
    plan = _made(session, settings, principal, form, errors, "page")
    if plan is None:
        return _form_page(request, session, principal, form, errors, status_code=422)
    return page(request, "safety_plan/plan.html", principal=principal, session=session, title="Safety plan",
                breadcrumbs=[("Home", "/"), ("Find a safe space", "/safe-spaces/find")], plan=plan,
                hidden=form.hidden(), default_steps=DEFAULT_STEPS, sheet=form.sheet, marks=form.marks,
                headings=MARK_HEADINGS)


@router.post("/safe-spaces/plan.pdf")
def plan_pdf(request: Request, session: SessionDep, settings: SettingsDep, posted: PostedForm,
             principal: Principal = gate(policy.WRITE_SAFE_SPACES)) -> Response:
    form = PlanForm.posted(posted)
    errors = FormErrors()
    plan = _made(session, settings, principal, form, errors, "pdf")
    if plan is None:
        return _form_page(request, session, principal, form, errors, status_code=422)
    html = templates.get_template("safety_plan/plan_pdf.html").render(
        plan=plan, default_steps=DEFAULT_STEPS, css=PLAN_CSS.read_text(), marks=form.marks,
        headings=MARK_HEADINGS, sheet=form.sheet, map_kept=form.sheet.kept, pdf=True)
    # Attachment: a download, never cached (the plan is about one young person).
    return Response(pack_pdf(html), media_type="application/pdf",
                    headers={"Content-Disposition": 'attachment; filename="safety-plan.pdf"',
                             "Cache-Control": "no-store"})
