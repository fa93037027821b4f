"""The harm-over-time chart of the place page as server-drawn SVG (no JavaScript), with a table of the
same figures for screen readers. A suppressed month (disclosure control) is drawn as a hatched bar with a
label, never as zero: zero means no incidents, suppressed means a few that may not be shown."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str  # month, e.g. "Jan 2026"
    value: str  # "12", "0" or "suppressed"
    suppressed: bool
    tick: bool  # whether the month is labelled on the axis


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    y_ticks: list[tuple[float, int]]  # (y position, value)
    plot_left: float
    plot_bottom: float
    plot_top: float
    suppressed_height: float


WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 480, 250, 52, 24, 12, 56


def _nice_max(value: int) -> int:
    for step in (5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000):
        if value <= step * 5:
            return max(step, -(-value // step) * step)
    return value


def monthly_chart(months: list[dict[str, object]], suppress_max: int) -> Chart | None:
    """``months`` are ``{"month": date|str, "count": int|None}``; ``None`` is a suppressed count."""
    if not months:
        return None
    counts = [m["count"] for m in months]
    top = _nice_max(max([int(c) for c in counts if isinstance(c, int)] + [suppress_max, 1]))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / len(months)
    every = max(1, -(-len(months) // 4))  # at most four month labels: readable on a phone
    bars = []
    for i, item in enumerate(months):
        month = item["month"]
        when = month if isinstance(month, date) else date.fromisoformat(str(month)[:7] + "-01")
        count = item["count"]
        suppressed = count is None
        # A suppressed month is drawn to the height of the threshold (the most it could be), hatched.
        shown = suppress_max if suppressed else int(count)  # type: ignore[call-overload]
        height = plot_h * shown / top
        bars.append(Bar(x=LEFT + i * slot + slot * 0.1, y=TOP + plot_h - height, width=max(slot * 0.8, 1),
                        height=height, label=f"{when:%b %Y}", value="suppressed" if suppressed else str(count),
                        suppressed=suppressed, tick=i % every == 0))
    ticks = [(TOP + plot_h - plot_h * v / top, v) for v in range(0, top + 1, max(1, top // 5))]
    return Chart(WIDTH, HEIGHT, bars, ticks, LEFT, TOP + plot_h, TOP, plot_h * suppress_max / top)
