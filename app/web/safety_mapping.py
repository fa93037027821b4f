"""Safety mapping with a young person (issue 21): the session page, the Level 1 plan it becomes, and the area
picture of everyone's agreed maps.

The session works without JavaScript: every step posts the whole form back, and the marks, safe places and
trusted adults made so far travel in one hidden field (:class:`app.schemas.safety_maps.SessionItems` as JSON),
so nothing is stored until the worker finishes — and then only what :func:`app.services.safety_mapping.finish`
keeps (with agreement: snapped squares, the month and the age band). The map (``/static/web/safety_map.js``)
adds tapping and drawing; a keyboard user chooses a place or types a street, place or OS grid reference.
"""

from __future__ import annotations

import json
from contextlib import suppress
from datetime import date, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from app import policy
from app.db import safety_maps as db
from app.dependencies import Principal, SessionDep, SettingsDep, gate
from app.errors import InvalidInput
from app.schemas.safety_maps import MapSession, Mark, SafePlace, SessionItems, TrustedAdult, Where
from app.services.disclosure import Disclosure
from app.services.safety_area import area_picture, default_months
from app.services.safety_mapping import BNG, OUT_DAYS, PUBLISHED_CELL_SIZE, Finished, make_safety_plan, resolve
from app.services.safety_mapping import finish as finish_session
from app.services.safety_plan import SafetyPlan
from app.web.finder import service_centre
from app.web.forms import FormErrors, Posted, PostedForm, date_items, parse_date, written
from app.web.maps.background import small_map
from app.web.safety_plan import DEFAULT_STEPS, MARK_HEADINGS, MapSheet, PlaceRow, PlanForm
from app.web.shell import page
from geo.calendar import add_months, quarter_name, quarter_start
from geo.os_grid import GridReferenceError, bng_to_grid_reference, grid_reference_to_bng
from geo.vocabulary import AGE_BAND_WORDS, AGE_BANDS, SAFETY_RATING_WORDS, SAFETY_RATINGS

router = APIRouter(tags=["web"], include_in_schema=False)

CHOICE_LIMIT = 500  # places and guardians offered in a list
ORDER = ["state", "mark_where", "mark_rating", "mark_said", "safe_place", "safe_new_name", "safe_new_where",
         "adult_guardian", "adult_words", "out_days", "out_from", "out_to", "plan_steps", "age_band", "held_on",
         "agreed", "form"]
# A service error's field (the session's item paths) -> the form field the summary links to.
FIELDS = {"age_band": "age_band", "held_on": "held_on", "agreed": "agreed", "steps": "plan_steps"}
SESSION_URL = "/safety-mapping/session"


def _where(text_value: str) -> Where:
    """A typed location: an OS grid reference when it reads as one, else a place or street name."""
    try:
        grid_reference_to_bng(text_value)
        return Where(kind="grid_reference", value=text_value)
    except GridReferenceError:
        return Where(kind="words", value=text_value)


def _items(posted: Posted, errors: FormErrors) -> SessionItems:
    raw = posted.get("state")
    if not raw:
        return SessionItems()
    try:
        return SessionItems.model_validate_json(raw)
    except ValidationError:
        errors.add("state", "The session could not be read back: start a new session")
        return SessionItems()


def _check(errors: FormErrors, field: str, run: Any) -> Any:
    try:
        return run()
    except InvalidInput as exc:
        errors.add(field, _sentence(str(exc.detail)))
        return None
    except ValidationError as exc:
        errors.add(field, _sentence(str(exc.errors()[0].get("msg", "is not valid")).removeprefix("Value error, ")))
        return None


def _sentence(message: str) -> str:
    message = message.split(": ", 1)[-1] if message.split(": ", 1)[0].replace(".", "").replace("_", "").isalnum() \
        else message
    return message[:1].upper() + message[1:]


def _add_mark(request: Request, session: SessionDep, settings: Any, posted: Posted, items: SessionItems,
              errors: FormErrors) -> None:
    if len(items.marks) >= settings.safety_map_max_marks:
        errors.add("mark_where", f"A session holds at most {settings.safety_map_max_marks} marks")
        return
    shape, place, typed = posted.get("mark_shape"), posted.get("mark_place"), posted.get("mark_where")
    where = (Where(kind="shape", value=shape) if shape else Where(kind="place", value=place) if place
             else _where(typed) if typed else None)
    if where is None:
        errors.add("mark_where", "Choose a place, type a street, place or grid reference, or tap the map")
    rating = posted.get("mark_rating")
    if rating not in SAFETY_RATINGS:
        errors.add("mark_rating", "Choose how the young person feels there: unsafe, not sure or safe")
    if len(posted.get("mark_said")) > 200:
        errors.add("mark_said", "Their words must be 200 characters or fewer")
    if errors or where is None:
        return
    if _check(errors, "mark_where", lambda: resolve(session, settings, where, "mark_where")) is None:
        return
    mark = _check(errors, "mark_said", lambda: Mark(where=where, rating=rating, words=posted.get("mark_said"),
                                                   shareable=posted.get("mark_shareable") == "yes"))
    if mark is not None:
        items.marks.append(mark)


def _add_place(session: SessionDep, settings: Any, posted: Posted, items: SessionItems, errors: FormErrors,
               choices: dict[int, str]) -> None:
    if len(items.safe_places) >= settings.safety_map_max_places:
        errors.add("safe_place", f"A session holds at most {settings.safety_map_max_places} safe places")
        return
    chosen, name, typed = posted.get("safe_place"), posted.get("safe_new_name"), posted.get("safe_new_where")
    if chosen:
        if not chosen.isdigit() or int(chosen) not in choices:
            errors.add("safe_place", "Choose a place from the list")
            return
        items.safe_places.append(SafePlace(place_id=int(chosen), name=choices[int(chosen)]))
        return
    if not name:
        errors.add("safe_place", "Choose a place from the list, or give the name of a new place to suggest")
        return
    if len(name) > 200:
        errors.add("safe_new_name", "The name must be 200 characters or fewer")
        return
    where = _where(typed) if typed else None
    if where is not None and _check(errors, "safe_new_where",
                                    lambda: resolve(session, settings, where, "safe_new_where")) is None:
        return
    items.safe_places.append(SafePlace(name=name, where=where))


def _add_adult(settings: Any, posted: Posted, items: SessionItems, errors: FormErrors,
               guardians: dict[int, str]) -> None:
    if len(items.adults) >= settings.safety_map_max_places:
        errors.add("adult_guardian", f"A session holds at most {settings.safety_map_max_places} trusted adults")
        return
    chosen, words = posted.get("adult_guardian"), posted.get("adult_words")
    if chosen:
        if not chosen.isdigit() or int(chosen) not in guardians:
            errors.add("adult_guardian", "Choose a trusted adult from the list")
            return
        items.adults.append(TrustedAdult(guardian_id=int(chosen), label=guardians[int(chosen)]))
    elif words:
        if len(words) > 200:
            errors.add("adult_words", "Describe the adult in 200 characters or fewer")
            return
        items.adults.append(TrustedAdult(label=words))
    else:
        errors.add("adult_guardian", "Choose a trusted adult from the list, or describe them in a few words")


def _remove(action: str, items: SessionItems) -> None:
    kind, _, index = action.removeprefix("remove-").rpartition("-")
    lists: dict[str, list[Any]] = {"mark": items.marks, "place": items.safe_places, "adult": items.adults}
    if kind in lists and index.isdigit() and int(index) < len(lists[kind]):
        del lists[kind][int(index)]


def _choice_items(rows: list[dict[str, Any]], chosen: str | None, label: str) -> list[dict[str, Any]]:
    return [{"value": str(r["id"]), "text": str(r[label]), "selected": str(r["id"]) == (chosen or "")} for r in rows]


def _option_items(options: list[tuple[str, str]], chosen: str | None) -> list[dict[str, Any]]:
    return [{"value": value, "text": text, "checked": value == chosen} for value, text in options]


def _guardian_label(row: dict[str, Any]) -> str:
    return f"{str(row['role']).replace('_', ' ').capitalize()} at {row['place_name']}"


def _clock(posted: Posted, field: str, errors: FormErrors, label: str, default: time) -> time | None:
    if not posted.get(field):
        return default
    try:
        return time.fromisoformat(posted.get(field))
    except ValueError:
        errors.add(field, f"Enter the {label} like 15:30")
        return None


def _finish(session: SessionDep, principal: Principal, settings: Any, posted: Posted, items: SessionItems,
            errors: FormErrors) -> tuple[MapSession | None, Finished | None, SafetyPlan | None]:
    band = posted.get("age_band")
    if band not in AGE_BANDS:
        errors.add("age_band", "Choose the young person's age band")
    held_on = parse_date(posted, "held_on", errors, "date of the session", required=True)
    if held_on is not None and held_on > date.today():
        errors.add("held_on", "The date of the session must be today or in the past")
    agreed = posted.get("agreed")
    if agreed not in ("yes", "no"):
        errors.add("agreed", "Say whether the young person agreed that their map may be added to the area picture")
    days = posted.get("out_days") or "weekdays"
    if days not in OUT_DAYS:
        errors.add("out_days", "Choose when the young person is usually out")
    out_from = _clock(posted, "out_from", errors, "time they usually go out", time(15, 30))
    out_to = _clock(posted, "out_to", errors, "time they are usually home", time(18, 0))
    if out_from is not None and out_to is not None and out_from == out_to:
        errors.add("out_to", "The time they are usually home must differ from the time they go out")
    if len(posted.get("plan_steps")) > 600:
        errors.add("plan_steps", "What to do must be 600 characters or fewer")
    if errors:
        return None, None, None
    map_session = MapSession(**items.model_dump(), age_band=band, held_on=held_on, agreed=agreed == "yes",
                             out_days=days, out_from=out_from, out_to=out_to, plan_steps=posted.get("plan_steps"))
    finished, plan = None, None
    with written(session, errors, FIELDS):
        finished = finish_session(session, principal, settings, map_session)
        plan = make_safety_plan(session, settings, principal, map_session, finished, DEFAULT_STEPS)
    return (map_session, finished, plan) if not errors else (None, None, None)


def _map_marks(session: SessionDep, settings: Any, items: SessionItems) -> tuple[list[dict[str, Any]], list[str]]:
    """Each mark as the map and the list show it: its label, its squares and its drawing; unreadable ones named."""
    shown, problems = [], []
    for k, mark in enumerate(items.marks):
        try:
            where = resolve(session, settings, mark.where, f"marks.{k}")
        except InvalidInput as exc:
            problems.append(_sentence(str(exc.detail)))
            continue
        shown.append(_mark_view(session, settings, k, mark, where.label, where.cells, where.geometry))
    return shown, problems


def _mark_view(session: SessionDep, settings: Any, k: int, mark: Mark, label: str, cells: Any,
               geometry: Any) -> dict[str, Any]:
    squares = db.cell_squares(session, list(cells), settings.analysis_srid, PUBLISHED_CELL_SIZE)
    return {"index": k, "rating": mark.rating, "feeling": SAFETY_RATING_WORDS[mark.rating], "label": label,
            "words": mark.words, "shareable": mark.shareable, "cells": len(cells),
            "squares": list(squares.values()), "geometry": geometry}


def _session_page(request: Request, session: SessionDep, settings: Any, principal: Principal,
                  items: SessionItems, posted: Posted | None, errors: FormErrors) -> HTMLResponse:
    places = db.place_choices(session, CHOICE_LIMIT)
    guardians = db.guardian_choices(session, CHOICE_LIMIT)
    marks, problems = _map_marks(session, settings, items)
    for problem in problems:
        errors.add("state", problem)
    keep = ({k: posted.get(k) for k in ("age_band", "agreed", "out_days", "out_from", "out_to", "plan_steps")}
            if posted else {"out_days": "weekdays", "out_from": "15:30", "out_to": "18:00"})
    # What the young person typed stays in the form after an error, so nothing has to be said twice.
    draft = ({k: posted.get(k) for k in ("mark_place", "mark_where", "mark_rating", "mark_said", "mark_shareable",
                                         "mark_shape", "safe_place", "safe_new_name", "safe_new_where",
                                         "adult_guardian", "adult_words")}
             if posted and errors else {})
    response = page(
        request, "safety_mapping/session.html", principal=principal, session=session,
        title="Safety mapping with a young person", breadcrumbs=[("Home", "/")],
        status_code=422 if errors else 200, errors=errors, error_summary=errors.summary(ORDER) if errors else None,
        items=items, state=items.model_dump_json(), marks=marks, marks_json=json.dumps(marks),
        places=places, guardians=[{"id": g["id"], "label": _guardian_label(g)} for g in guardians],
        ratings=[(r, SAFETY_RATING_WORDS[r]) for r in SAFETY_RATINGS],
        age_bands=[(b, AGE_BAND_WORDS[b]) for b in AGE_BANDS], keep=keep, draft=draft,
        place_items=lambda rows, chosen: _choice_items(rows, chosen, "name"),
        guardian_items=lambda rows, chosen: _choice_items(rows, chosen, "label"),
        rating_items=lambda options, chosen: [{**item, "text": f"{item['text']} ({item['value']})"}
                                              for item in _option_items(options, chosen)],
        band_items=_option_items,
        out_day_items=[{"value": v, "text": t, "checked": v == keep.get("out_days")}
                       for v, t in (("weekdays", "Weekdays"), ("weekends", "Weekends"), ("every_day", "Every day"))],
        held_on=date_items(posted, "held_on", None if posted else date.today()),
        centre=service_centre(session, settings), cell_size=PUBLISHED_CELL_SIZE,
        map=small_map(session, settings),
    )
    return response


@router.get("/safety-mapping/session", response_class=HTMLResponse)
def new_session(request: Request, session: SessionDep, settings: SettingsDep,
                principal: Principal = gate(policy.WRITE_SAFE_SPACES)) -> HTMLResponse:
    return _session_page(request, session, settings, principal, SessionItems(), None, FormErrors())


@router.post("/safety-mapping/session", response_class=HTMLResponse)
def session_step(request: Request, session: SessionDep, settings: SettingsDep, posted: PostedForm,
                 principal: Principal = gate(policy.WRITE_SAFE_SPACES)) -> HTMLResponse:
    errors = FormErrors()
    items = _items(posted, errors)
    action = posted.get("action")
    if action == "enter":  # Enter pressed in a text box: add what that part of the form holds
        action = ("add-mark" if any(posted.get(k) for k in ("mark_place", "mark_where", "mark_shape", "mark_said"))
                  else "add-place" if any(posted.get(k) for k in ("safe_place", "safe_new_name"))
                  else "add-adult" if any(posted.get(k) for k in ("adult_guardian", "adult_words")) else "")
    if not errors:
        if action == "add-mark":
            _add_mark(request, session, settings, posted, items, errors)
        elif action == "add-place":
            choices = {int(p["id"]): str(p["name"]) for p in db.place_choices(session, CHOICE_LIMIT)}
            _add_place(session, settings, posted, items, errors, choices)
        elif action == "add-adult":
            guardians = {int(g["id"]): _guardian_label(g) for g in db.guardian_choices(session, CHOICE_LIMIT)}
            _add_adult(settings, posted, items, errors, guardians)
        elif action.startswith("remove-"):
            _remove(action, items)
        elif action == "finish":
            map_session, finished, plan = _finish(session, principal, settings, posted, items, errors)
            if map_session is not None and finished is not None:
                return _plan_page(request, session, settings, principal, map_session, finished, plan)
    return _session_page(request, session, settings, principal, items, posted, errors)


def _plan_page(request: Request, session: SessionDep, settings: Any, principal: Principal,
               map_session: MapSession, finished: Finished, plan: SafetyPlan | None) -> HTMLResponse:
    marks = [_mark_view(session, settings, k, mark, where.label, where.cells, where.geometry)
             for k, (mark, where) in enumerate(zip(map_session.marks, finished.marks, strict=True))]
    by_rating = {r: [m for m in marks if m["rating"] == r] for r in SAFETY_RATINGS}
    form = _plan_form(plan, map_session, finished)
    hidden = form.hidden() if plan is not None else []
    return page(
        request, "safety_mapping/plan.html", principal=principal, session=session, title="Safety plan",
        breadcrumbs=[("Home", "/")], map_session=map_session, finished=finished, by_rating=by_rating, plan=plan,
        marks_json=json.dumps(marks), age_band=AGE_BAND_WORDS[map_session.age_band], hidden=hidden,
        default_steps=DEFAULT_STEPS, sheet=form.sheet, marks=form.marks, headings=MARK_HEADINGS,
        map=small_map(session, settings),
    )


NEAR_PLACE_METRES = 100  # a square is "near" a place lying in it or this close to its edge


def square_label(i: int, j: int, srid: int, near: str | None = None) -> str:
    """A published square as practitioners read it: its OS grid reference (south-west corner, 10 m digits), and
    the nearest place's name when one lies in it or within :data:`NEAR_PLACE_METRES` of it."""
    size = PUBLISHED_CELL_SIZE
    where = f"{size} m square {i}, {j}"
    if srid == BNG:
        with suppress(GridReferenceError):
            where = f"{size} m square from {bng_to_grid_reference(i * size, j * size)}"
    return f"{where}, near {near}" if near else where


def _plan_form(plan: SafetyPlan | None, map_session: MapSession, finished: Finished) -> PlanForm:
    """The plan as the safety-plan page's own fields (app.web.safety_plan), so its PDF download and its
    "Change the plan" form take over from here: the session is handed to that page, nothing is stored."""
    days = {"weekdays": "weekdays", "weekends": "weekends", "every_day": "everyday"}[map_session.out_days]
    rows = []
    for place in plan.places if plan is not None else []:
        context = place.context
        times = [{"days": days, "from": f"{t.time.start:%H:%M}", "to": f"{t.time.end:%H:%M}"} for t in place.times]
        times += [{"days": "", "from": "", "to": ""}] * (2 - len(times))
        rows.append(PlaceRow(label=context.label, where=context.label, point=f"{context.lon},{context.lat}",
                             point_label=context.label, times=times))
    # The young person's own marks go with the plan to its PDF (a list; nothing is stored).
    marks = [{"rating": mark.rating, "label": where.label, "words": mark.words or ""}
             for mark, where in zip(map_session.marks, finished.marks, strict=True)]
    # The session's sheet goes with it too: its date, age band, named places and adults, and what was kept.
    sheet = MapSheet(held_on=map_session.held_on.isoformat(), age_band=map_session.age_band,
                     reference=str(finished.map_id) if finished.map_id is not None else "",
                     cells=str(finished.kept_cells) if finished.map_id is not None else "",
                     already="yes" if finished.already_kept else "",
                     places=[(p.name, str(p.place_id) if p.place_id is not None else "")
                             for p in map_session.safe_places],
                     adults=[a.label for a in map_session.adults])
    return PlanForm(steps=plan.steps if plan is not None else "", places=rows or [PlaceRow()], marks=marks,
                    sheet=sheet)


# ---- the area picture --------------------------------------------------------------------------------------
def _month(text_value: str, field: str, errors: FormErrors) -> date | None:
    try:
        year, month = (int(p) for p in text_value.split("-"))
        if not 1900 <= year < 2200:
            raise ValueError
        return date(year, month, 1)
    except ValueError:
        errors.add(field, "Enter the month as year and month, like 2026-09")
        return None


def quarter_choices(today: date, count: int = 12, since: date | None = None) -> list[tuple[str, str]]:
    """The calendar quarters that have ended, latest first: (first month "YYYY-MM", "July to September 2026").
    With ``since`` (the first safety map's month), none before that month's quarter: there is nothing to show."""
    latest = add_months(quarter_start(today), -3)
    quarters = (add_months(latest, -3 * k) for k in range(count))
    earliest = quarter_start(since) if since is not None else None
    return [(f"{q:%Y-%m}", quarter_name(q)) for q in quarters if earliest is None or q >= earliest] or \
        [(f"{latest:%Y-%m}", quarter_name(latest))]


def snapped_note(asked: tuple[date, date], used: tuple[date, date]) -> str | None:
    """What a controlled reader is told when the months asked for were replaced by a whole quarter."""
    if asked == used:
        return None
    return (f"Panel members see one whole calendar quarter that has ended, so that overlapping ranges of months "
            f"cannot be compared to single out one young person's map: showing {quarter_name(used[0])}.")


@router.get("/safety-mapping/area", response_class=HTMLResponse)
def area(request: Request, session: SessionDep, settings: SettingsDep,
         first_text: Annotated[str, Query(alias="from", max_length=10)] = "",
         last_text: Annotated[str, Query(alias="to", max_length=10)] = "",
         quarter_text: Annotated[str, Query(alias="quarter", max_length=10)] = "",
         principal: Principal = gate(policy.ANALYSIS)) -> HTMLResponse:
    errors = FormErrors()
    today = date.today()
    disclosure = Disclosure.for_reader(principal, settings)
    if quarter_text:
        first = _month(quarter_text, "quarter", errors)
        if first is not None and first != quarter_start(first):
            errors.add("quarter", "Choose a quarter: it starts in January, April, July or October")
        last = add_months(first, 2) if first is not None else None
    else:
        default_first, default_last = default_months(today)
        last = _month(last_text, "to", errors) if last_text else default_last
        first = _month(first_text, "from", errors) if first_text else default_first
    if first is not None and last is not None and first > last:
        errors.add("to", "The last month must be the same as or after the first")
    if first is not None and last is not None and (last.year - first.year) * 12 + last.month - first.month > 120:
        errors.add("from", "Choose at most 10 years")
    picture, note = None, None
    if not errors and first is not None and last is not None:
        used = disclosure.map_quarter(first, last, today)
        if first_text or last_text or quarter_text:
            note = snapped_note((first, last), used)
        first, last = used
        picture = area_picture(session, principal, settings, disclosure, first, last,
                               with_suggestions=policy.WRITE_SAFE_SPACES.allows(principal.role))
    if picture is not None:
        near = db.names_near_cells(session, [(c["i"], c["j"]) for c in picture.cells], settings.analysis_srid,
                                   PUBLISHED_CELL_SIZE, NEAR_PLACE_METRES)
        for c in picture.cells:
            c["label"] = square_label(c["i"], c["j"], settings.analysis_srid, near.get((c["i"], c["j"])))
        for c in picture.unmentioned_hot_spots:
            c["name"] = square_label(c["i"], c["j"], settings.analysis_srid)
        for suggestion in picture.suggestions or []:
            suggestion["where"] = (square_label(suggestion["cell_i"], suggestion["cell_j"], settings.analysis_srid)
                                   if suggestion["cell_i"] is not None else "")
    layer = ({"cells": [{k: c[k] for k in ("label", "maps", "red", "amber", "green", "colour", "geometry")}
                        for c in picture.cells],
              "hot": [{"geometry": json.loads(c["geometry"]), "label": f"{c['name']}: {c['label']}"}
                      for c in picture.unmentioned_hot_spots]} if picture else {"cells": [], "hot": []})
    shown_quarter = f"{first:%Y-%m}" if picture is not None and first is not None else quarter_text
    return page(
        request, "safety_mapping/area.html", principal=principal, session=session,
        title="Where young people feel safe and unsafe", breadcrumbs=[("Home", "/")],
        status_code=422 if errors else 200, errors=errors,
        error_summary=errors.summary(["quarter", "from", "to"]) if errors else None, picture=picture,
        first_text=first_text or (first.strftime("%Y-%m") if first else ""),
        last_text=last_text or (last.strftime("%Y-%m") if last else ""), layer=json.dumps(layer),
        is_panel=principal.is_panel, cell_size=PUBLISHED_CELL_SIZE, one_day=timedelta(days=1),
        map=small_map(session, settings), quarters=disclosure.applied, snapped=note,
        may_review=policy.FLAG_CONCERN.allows(principal.role),
        quarter_items=[{"value": v, "text": t, "selected": v == shown_quarter}
                       for v, t in quarter_choices(today, since=db.first_map_month(session))],
        period_words=(quarter_name(first) if disclosure.applied and first is not None
                      else f"{first:%B %Y} to {last:%B %Y}" if first is not None and last is not None else ""),
    )
