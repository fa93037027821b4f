"""Opening hours: parse and evaluate speed over real-world values (prints figures, asserts nothing).

Values: the reference implementation's own test values that geo.opening_hours accepts
(tests/differential/reference_values.json). The finder evaluates each candidate's hours once per
search (parsed hours are cached by text in geo.safe_spaces), so "state at a new day" is the cost that
matters: it builds that day's timeline once.
"""

from __future__ import annotations

import contextlib
import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from geo.opening_hours import OpeningHours, OpeningHoursError

VALUES = Path(__file__).resolve().parents[1] / "tests" / "differential" / "reference_values.json"


def main() -> None:
    texts = json.loads(VALUES.read_text(encoding="utf-8"))["values"]
    started = time.perf_counter()
    parsed = []
    for text in texts:
        with contextlib.suppress(OpeningHoursError):
            parsed.append(OpeningHours.parse(text))
    parse_s = time.perf_counter() - started
    instants = [datetime(2026, 1, 1, 12, tzinfo=UTC) + timedelta(days=k, hours=k % 24) for k in range(365)]
    started = time.perf_counter()
    for hours in parsed:
        for at in instants:
            hours.state(at)
    state_s = time.perf_counter() - started
    evaluations = len(parsed) * len(instants)
    print(f"parsed {len(texts)} values ({len(parsed)} accepted) in {parse_s * 1000:.1f} ms "
          f"({parse_s / len(texts) * 1e6:.0f} us each)")
    print(f"{evaluations} state() calls, each on a new day, in {state_s:.2f} s "
          f"({state_s / evaluations * 1e6:.0f} us each)")


if __name__ == "__main__":
    main()
