"""Opening hours in plain words for the place page ("Open today 09:00–19:00; closed on bank holidays"),
computed from the same parser the safe-space finder uses (geo.opening_hours)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from geo.opening_hours import OpeningHours, OpeningHoursError
from geo.vocabulary import LONDON


@dataclass(frozen=True)
class HoursInWords:
    summary: str  # "Open now until 19:00" / "Closed now"
    today: str  # "Open today 09:00–19:00" / "Closed today"
    week: list[tuple[str, str]]  # ("Tuesday 2 December", "09:00–19:00") for the next seven days
    notes: list[str]  # e.g. "Closed on bank holidays"
    today_spans: str  # "09:00–19:00" or "closed"


def _spans(hours: OpeningHours, day_start: datetime) -> str:
    # The next local midnight (a clock-change day is 23 or 25 hours long).
    day_end = datetime.combine(day_start.date() + timedelta(days=1), time(0), tzinfo=LONDON)
    spans = hours.intervals(day_start, day_end)
    if not spans:
        return "closed"
    # A span that runs to midnight is shown as 24:00, as people write it on a door.
    return ", ".join(f"{a:%H:%M}–{'24:00' if b.time() == time(0) else f'{b:%H:%M}'}" for a, b in spans)


def hours_in_words(text: str | None, now: datetime) -> HoursInWords | None:
    if not text:
        return None
    try:
        hours = OpeningHours.parse(text)
    except OpeningHoursError:
        return None
    local = now.astimezone(LONDON)
    week = []
    for offset in range(7):
        day = datetime.combine(local.date() + timedelta(days=offset), time(0), tzinfo=LONDON)
        week.append((f"{day:%A} {day.day} {day:%B}", _spans(hours, day)))
    today = week[0][1]
    if hours.is_open(now):
        closes = hours.next_change(now)
        summary = f"Open now until {closes.astimezone(LONDON):%H:%M}" if closes else "Open now"
    else:
        opens = hours.next_change(now)
        summary = (f"Closed now; opens {opens.astimezone(LONDON):%A %H:%M}" if opens else "Closed now")
    notes = []
    if "PH off" in hours.text:
        notes.append("Closed on bank holidays")
    elif "PH" in hours.text:
        notes.append("Bank holidays have their own hours")
    return HoursInWords(summary, "Closed today" if today == "closed" else f"Open today {today}", week, notes,
                        today)
