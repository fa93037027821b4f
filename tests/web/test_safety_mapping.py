"""Safety mapping with a young person over HTTP (no browser): a session walked step by step without anything
stored, finished with and without agreement (and what the database holds afterwards), a reload that keeps one
map, bad input named on the form with nothing written, the limits, and the area picture's threshold for staff and
panel. The phone journeys are in tests/browser/test_safety_mapping_browser.py."""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any
from uuid import uuid4

from fastapi.testclient import TestClient
from sqlalchemy import text

from app.db.session import Database
from geo.os_grid import grid_reference_to_bng
from geo.vocabulary import AGE_BAND_WORDS
from tests.conftest import count_rows
from tests.web.test_safety_plan_page import pdf_pages

HTML = {"Accept": "text/html"}
SESSION = "/safety-mapping/session"
TABLES = ("safety_maps", "safety_map_marks", "safety_map_safe_places", "place_suggestions")


def _post(client: TestClient, headers: dict[str, str], data: dict[str, Any]) -> Any:
    return client.post(SESSION, data=data, headers={**headers, **HTML}, follow_redirects=False)


def _state(page: str) -> str:
    found = re.search(r'name="state" value="([^"]*)"', page)
    assert found is not None
    return found.group(1).replace("&#34;", '"').replace("&quot;", '"').replace("&amp;", "&").replace("&#39;", "'")


def _problems(page: str) -> list[str]:
    return re.findall(r'<a href="#[^"]*">([^<]*)</a>', page.split("govuk-error-summary", 1)[-1].split("</ul>", 1)[0])


def _counts(database: Database) -> dict[str, int]:
    return {t: count_rows(database, t) for t in TABLES}


def _finish(when: date, band: str = "14_15", agreed: str = "yes") -> dict[str, str]:
    return {"action": "finish", "age_band": band, "agreed": agreed, "held_on-day": str(when.day),
            "held_on-month": str(when.month), "held_on-year": str(when.year)}


def _walk(client: TestClient, headers: dict[str, str]) -> str:
    """Three marks, a safe place of ours, a suggested place and two trusted adults; returns the state."""
    page = client.get(SESSION, headers={**headers, **HTML})
    assert page.status_code == 200
    state = _state(page.text)
    steps = [
        {"action": "add-mark", "mark_where": "Alder Close", "mark_rating": "red",
         "mark_said": "older lads wait here after school", "mark_shareable": "yes"},
        {"action": "add-mark", "mark_where": "TL 0926 2145", "mark_rating": "amber", "mark_said": "my nan lives near"},
        {"action": "add-mark", "mark_place": "", "mark_where": "Wellgate Central Library", "mark_rating": "green"},
        {"action": "add-place", "safe_place": _place_id(client, headers, "Wellgate Central Library")},
        {"action": "add-place", "safe_new_name": "The boxing club", "safe_new_where": "TL 0926 2145"},
        {"action": "add-adult", "adult_words": "My football coach"},
    ]
    for step in steps:
        response = _post(client, headers, {**step, "state": state})
        assert response.status_code == 200, (step, _problems(response.text))
        state = _state(response.text)
    page_text = response.text
    assert page_text.count("data-safety-mark ") == 3
    assert "older lads wait here after school" in page_text and "The boxing club" in page_text
    return state


def _place_id(client: TestClient, headers: dict[str, str], name: str) -> str:
    page = client.get(SESSION, headers={**headers, **HTML}).text
    found = re.search(r'<option value="(\d+)"[^>]*>' + re.escape(name) + "</option>", page)
    assert found is not None, name
    return found.group(1)


def test_a_session_walked_without_agreement_keeps_nothing_but_an_audit_record(
    client: TestClient, demo_headers: dict[str, dict[str, str]], database: Database
) -> None:
    headers = demo_headers["youth_worker"]
    before, audits = _counts(database), count_rows(database, "audit_events")
    state = _walk(client, headers)
    assert _counts(database) == before and count_rows(database, "audit_events") == audits  # steps store nothing
    plan = _post(client, headers, {**_finish(date.today(), agreed="no"), "state": state})
    assert plan.status_code == 200, plan.text[:3000]
    assert "data-safety-plan" in plan.text and "Nothing from this session was saved" in plan.text
    assert "older lads wait here after school" in plan.text and "My football coach" in plan.text
    # The session handed to the safety-plan service: safe spaces near the marked places, at the times out.
    assert "data-plan-place-result" in plan.text and "Alder Close (unsafe)" in plan.text
    assert "Weekdays 15:30" in plan.text
    assert "Trusted adults: My football coach." in plan.text  # with what to do: the plan has no field of its own
    # The plan's own PDF takes the session over, from the fields the page carries (nothing stored).
    fields = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">',
                        plan.text.split("data-plan-pdf-form", 1)[1].split("</form>", 1)[0])
    assert ("label-1", "Alder Close (unsafe)") in fields
    assert ("mark-1-label", "Alder Close") in fields and ("mark-1-rating", "red") in fields
    pdf = client.post("/safe-spaces/plan.pdf", data=dict(fields), headers=headers)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    # The young person's own marks are in the PDF, as on the printed page: a list by rating, with their words.
    _, words = pdf_pages(pdf.content)
    flat = " ".join(words.split())
    assert "Their safety map" in flat and "Places and routes that feel unsafe" in flat
    assert "Alder Close: “older lads wait here after school”" in flat
    assert "Places they are not sure about" in flat and "Wellgate Central Library" in flat
    # The same sheet as the page: the safe places they named, the date and age band, and that nothing was kept.
    assert "Safe places to go" in flat and "The boxing club" in flat and "My football coach" in flat
    assert f"Made on {date.today():%-d %B %Y} with a young person aged 14 or 15." in flat
    assert "Nothing from this session was saved." in flat and "SM-" not in flat
    assert "Nothing about the young person was stored when this plan was made" in flat
    assert _counts(database) == before
    # Audit records without content: the session happened, a plan was made and its PDF (counts only).
    assert count_rows(database, "audit_events") == audits + 3
    with database.owner_session() as session:
        rows = session.execute(text(
            "SELECT action, resource, detail FROM audit_events ORDER BY id DESC LIMIT 3")).all()
    assert ("safety_map.session", "safety_map", {"agreed": False}) in [tuple(r) for r in rows]
    assert all("Alder" not in json.dumps(r.detail) and "lads" not in json.dumps(r.detail) for r in rows)


def test_with_agreement_only_snapped_cells_the_month_and_the_age_band_are_kept(
    client: TestClient, demo_headers: dict[str, dict[str, str]], database: Database
) -> None:
    headers = demo_headers["youth_worker"]
    before = _counts(database)
    state = _walk(client, headers)
    held_on = date(2026, 3, 17)
    plan = _post(client, headers, {**_finish(held_on, band="14_15"), "state": state})
    assert plan.status_code == 200, plan.text[:3000]
    reference = re.search(r"SM-(\d+)", plan.text)
    assert reference is not None
    map_id = int(reference.group(1))
    # Its PDF says what the page says: the map's reference, its squares, month and age band, and how to withdraw.
    fields = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">',
                        plan.text.split("data-plan-pdf-form", 1)[1].split("</form>", 1)[0])
    pdf = client.post("/safe-spaces/plan.pdf", data=dict(fields), headers=headers)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    flat = " ".join(pdf_pages(pdf.content)[1].split())
    kept = re.search(r"Their map was added, without their name, to the area picture: (\d+) grid squares?, "
                     r"March 2026, age 14 or 15\.", flat)
    assert kept is not None and f"{kept.group(1)} grid square" in " ".join(plan.text.split())
    assert f"the reference SM-{map_id} to remove it" in flat
    assert "Nothing about the young person was stored" not in flat and "Nothing from this session" not in flat
    assert "With their agreement, their safety map was added without their name" in flat
    assert "Safe places to go" in flat and "The boxing club" in flat and "Wellgate Central Library" in flat
    assert "Made on 17 March 2026 with a young person aged 14 or 15." in flat
    # "Change the plan" carries the sheet on: the plan page made from those fields says the same.
    changed = client.post("/safe-spaces/plan", data=dict(fields), headers={**headers, **HTML})
    assert changed.status_code == 200 and f"SM-{map_id}" in changed.text and "The boxing club" in changed.text
    assert "data-plan-not-stored" not in changed.text
    with database.owner_session() as session:
        kept = session.execute(text("SELECT month, age_band FROM safety_maps WHERE id = :id"), {"id": map_id}).one()
        marks = session.execute(text(
            "SELECT cell_size, cell_i, cell_j, rating, phrase FROM safety_map_marks WHERE safety_map_id = :id"),
            {"id": map_id}).all()
        columns = session.execute(text(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_name IN "
            "('safety_maps', 'safety_map_marks') ORDER BY 1, 2")).all()
        suggestion = session.execute(text(
            "SELECT name, month, cell_i, cell_j FROM place_suggestions ORDER BY id DESC LIMIT 1")).one()
        named = session.execute(text("SELECT count(*) FROM safety_map_safe_places WHERE safety_map_id = :id"),
                                {"id": map_id}).scalar_one()
    assert tuple(kept) == (date(2026, 3, 1), "14_15")  # the month, never the day
    # Nothing but the cell, the rating and the shareable phrase: no drawn shape, no words not marked shareable.
    assert {c for _, c in columns} == {"id", "organisation_id", "month", "age_band", "submission_id", "safety_map_id",
                                      "cell_size", "cell_i", "cell_j", "rating", "phrase"}
    assert {m.cell_size for m in marks} == {250}
    assert {m.rating for m in marks} == {"red", "amber", "green"}
    assert {m.phrase for m in marks} == {None, "older lads wait here after school"}
    assert all(m.phrase is None for m in marks if m.rating != "red")
    easting, northing = grid_reference_to_bng("TL 0926 2145")
    assert (int(easting // 250), int(northing // 250)) in {(m.cell_i, m.cell_j) for m in marks if m.rating == "amber"}
    assert len([m for m in marks if m.rating == "red"]) > 1  # a street covers several squares
    assert suggestion.name == "The boxing club" and suggestion.month == date(2026, 3, 1)
    assert (suggestion.cell_i, suggestion.cell_j) == (int(easting // 250), int(northing // 250))
    assert named == 1
    after = _counts(database)
    assert after["safety_maps"] == before["safety_maps"] + 1
    assert after["place_suggestions"] == before["place_suggestions"] + 1

    # The same finished form posted again (a reload of the plan) is still one map.
    again = _post(client, headers, {**_finish(held_on, band="14_15"), "state": state})
    assert again.status_code == 200 and "already been added" in again.text
    assert _counts(database) == after


def test_a_wrong_finish_names_each_field_and_writes_nothing(
    client: TestClient, demo_headers: dict[str, dict[str, str]], database: Database
) -> None:
    headers = demo_headers["community_safety"]
    before, audits = _counts(database), count_rows(database, "audit_events")
    response = _post(client, headers, {"action": "finish", "state": "", "held_on-day": "31", "held_on-month": "2",
                                       "held_on-year": "2026"})
    assert response.status_code == 422
    assert "govuk-error-summary" in response.text
    for field in ("#age_band", "#held_on-day", "#agreed"):
        assert f'href="{field}"' in response.text, field
    future = _post(client, headers, {**_finish(date(2099, 1, 1)), "state": ""})
    assert future.status_code == 422 and "today or in the past" in future.text
    assert _counts(database) == before and count_rows(database, "audit_events") == audits


def test_bad_marks_are_named_and_limits_hold(
    client: TestClient, demo_headers: dict[str, dict[str, str]], database: Database
) -> None:
    headers = demo_headers["youth_worker"]
    unknown = _post(client, headers, {"action": "add-mark", "mark_where": "Nowhere Lane Xyzzy", "mark_rating": "red"})
    assert unknown.status_code == 422 and "No place or street called" in unknown.text
    assert 'href="#mark_where"' in unknown.text
    no_rating = _post(client, headers, {"action": "add-mark", "mark_where": "Wellgate Street"})
    assert no_rating.status_code == 422 and 'href="#mark_rating"' in no_rating.text
    # An area over far more than the per-mark limit of grid squares (a whole town).
    huge = {"type": "Polygon", "coordinates": [[[-0.44, 51.86], [-0.39, 51.86], [-0.39, 51.90], [-0.44, 51.90],
                                                [-0.44, 51.86]]]}
    too_big = _post(client, headers, {"action": "add-mark", "mark_shape": json.dumps(huge), "mark_rating": "red"})
    assert too_big.status_code == 422 and "more than 64 grid squares" in too_big.text
    # A tampered state is refused, not trusted.
    tampered = _post(client, headers, {"action": "finish", "state": '{"marks": [{"rating": "purple"}]}',
                                       **_finish(date.today())})
    assert tampered.status_code == 422 and "could not be read back" in tampered.text
    # More marks than a session holds.
    mark = {"where": {"kind": "words", "value": "Wellgate Street"}, "rating": "red"}
    full = json.dumps({"submission_id": str(uuid4()), "marks": [mark] * 40})
    over = _post(client, headers, {"action": "add-mark", "state": full, "mark_where": "Wellgate Street",
                                   "mark_rating": "red"})
    assert over.status_code == 422 and "at most 40 marks" in over.text


def test_typed_places_outside_the_service_area_are_named_and_nothing_is_added(
    client: TestClient, demo_headers: dict[str, dict[str, str]], database: Database
) -> None:
    headers = demo_headers["youth_worker"]
    before = _counts(database)
    # Trafalgar Square, London: a real grid reference, far outside Demo Town.
    far = _post(client, headers, {"action": "add-mark", "mark_where": "TQ 2996 8050", "mark_rating": "red"})
    assert far.status_code == 422, far.text[:500]
    problem = _problems(far.text)[0].replace("&#39;", "'")
    assert "Grid reference TQ 2996 8050 is outside the organisation's service area" in problem
    assert 'href="#mark_where"' in far.text and "data-safety-mark " not in far.text
    place = _post(client, headers, {"action": "add-place", "safe_new_name": "A club in London",
                                    "safe_new_where": "TQ 2996 8050"})
    assert place.status_code == 422 and 'href="#safe_new_where"' in place.text
    assert "outside the organisation&#39;s service area" in place.text and "A club in London</" not in place.text
    # The same check when a finished session's state was made by hand.
    state = {"submission_id": str(uuid4()), "marks": [{"where": {"kind": "grid_reference", "value": "TQ 2996 8050"},
                                                       "rating": "red"}]}
    finished = _post(client, headers, {**_finish(date(2024, 3, 4)), "state": json.dumps(state)})
    assert finished.status_code == 422 and "outside the organisation&#39;s service area" in finished.text
    assert _counts(database) == before


def test_panel_and_anonymous_users_cannot_open_a_session(
    client: TestClient, demo_headers: dict[str, dict[str, str]]
) -> None:
    assert client.get(SESSION, headers={**demo_headers["panel"], **HTML}).status_code == 403
    assert _post(client, demo_headers["panel"], {"action": "finish"}).status_code == 403


# ---- the area picture -------------------------------------------------------------------------------------
def _agreed_map(client: TestClient, headers: dict[str, str], held_on: date, marks: list[tuple[str, str]],
                places: list[str] = ()) -> None:
    state = {"submission_id": str(uuid4()),
             "marks": [{"where": {"kind": "grid_reference", "value": ref}, "rating": rating,
                        "words": "the underpass is dark at night", "shareable": rating == "green"}
                       for ref, rating in marks],
             "safe_places": [{"place_id": int(p), "name": "x"} for p in places]}
    response = _post(client, headers, {**_finish(held_on, band="16_17"), "state": json.dumps(state)})
    assert response.status_code == 200 and "SM-" in response.text, response.text[:2000]


def test_the_area_picture_shows_only_squares_marked_by_the_threshold_of_separate_maps(
    client: TestClient, demo_headers: dict[str, dict[str, str]]
) -> None:
    worker = demo_headers["youth_worker"]
    held_on = date(2024, 5, 9)  # a month no other test uses
    eight, seven = "TL 0900 2100", "TL 0950 2200"  # two squares of the demo town
    library = _place_id(client, worker, "Wellgate Central Library")
    for k in range(8):
        marks = [(eight, "red" if k < 6 else "green")] + ([(seven, "red")] if k < 7 else [])
        _agreed_map(client, worker, held_on, marks, places=[library])
    e8, n8 = grid_reference_to_bng(eight)
    e7, n7 = grid_reference_to_bng(seven)
    cell8, cell7 = f"{int(e8 // 250)},{int(n8 // 250)}", f"{int(e7 // 250)},{int(n7 // 250)}"
    for role in ("community_safety", "panel"):
        page = client.get("/safety-mapping/area?from=2024-05&to=2024-05", headers={**demo_headers[role], **HTML})
        assert page.status_code == 200, page.text[:2000]
        assert f'data-area-cell="{cell8}"' in page.text, role
        assert f'data-area-cell="{cell7}"' not in page.text, role  # 7 maps: not shown at all
        row = page.text.split(f'data-area-cell="{cell8}"', 1)[1].split("</tr>", 1)[0]
        if role == "panel":
            assert ">10<" in row  # 8 maps rounded to the nearest 5, never below the threshold
            assert "fewer than 8" in row  # 6 red and 2 green: suppressed
            assert "the underpass is dark" not in page.text  # shareable words are free text: never a panel's
        else:
            assert ">8<" in row and ">6<" in row and ">2<" in row
            assert "the underpass is dark at night" in row  # marked shareable (on the green marks only)
        # The library is a current safe space, so it is not listed as "not yet a safe space".
        named = page.text.split('id="named-safe"', 1)[1].split("</ul>", 1)[0]
        assert "Wellgate Central Library" not in named
    assert client.get("/safety-mapping/area?from=2024-05&to=2024-05",
                      headers={**demo_headers["panel"], **HTML}).text.count("data-area-suggestions") == 0


def test_the_area_picture_refuses_bad_months(client: TestClient, demo_headers: dict[str, dict[str, str]]) -> None:
    page = client.get("/safety-mapping/area?from=2026-13&to=2026-01", headers={**demo_headers["panel"], **HTML})
    assert page.status_code == 422 and 'href="#from"' in page.text


def _latest_ended_quarter(today: date) -> date:
    first = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    return date(first.year - (first.month == 1), (first.month - 4) % 12 + 1, 1)


def test_the_place_page_says_young_people_feel_unsafe_beside_recorded_harm(
    client: TestClient, demo_headers: dict[str, dict[str, str]]
) -> None:
    worker = demo_headers["youth_worker"]
    shop = _place_id(client, worker, "Corner Stop Convenience")  # a place the demo's young people do not mark
    page = client.get(f"/places/{shop}", headers={**worker, **HTML}).text
    assert "data-young-people-feel" in page and "Young people feel unsafe here" not in page
    # The last month of the latest quarter that has ended: in a staff member's last 12 months, and the quarter a
    # panel member sees (one whole quarter that has ended).
    quarter = _latest_ended_quarter(date.today())
    month = date(quarter.year, quarter.month + 2, 1)
    for _ in range(8):
        mark = {"where": {"kind": "place", "value": shop}, "rating": "red"}
        state = {"submission_id": str(uuid4()), "marks": [mark]}
        response = _post(client, worker, {**_finish(month, band="14_15"), "state": json.dumps(state)})
        assert response.status_code == 200 and "SM-" in response.text
    for role in ("community_safety", "panel"):
        page = client.get(f"/places/{shop}", headers={**demo_headers[role], **HTML}).text
        feel = page.split("data-young-people-feel", 1)[1].split("</div>", 1)[0]
        assert "Young people feel unsafe here" in feel, role
        assert page.index("Harm over time") < page.index("data-young-people-feel")
        if role == "panel":
            assert f"from {quarter:%B} to {month:%B %Y}" in feel


def _rows(page: str) -> list[str]:
    return re.findall(r'<tr class="govuk-table__row" data-area-cell="[^"]*">.*?</tr>', page, flags=re.S)


def test_a_panel_sees_one_whole_quarter_so_overlapping_months_cannot_be_differenced(
    client: TestClient, demo_headers: dict[str, dict[str, str]]
) -> None:
    worker, panel, staff = demo_headers["youth_worker"], demo_headers["panel"], demo_headers["community_safety"]
    square = "TL 0850 2050"
    for held_on in [date(2024, 1, 10)] * 8 + [date(2024, 2, 12)]:  # 8 maps in January, one more in February
        _agreed_map(client, worker, held_on, [(square, "red")])
    easting, northing = grid_reference_to_bng(square)
    cell = f'data-area-cell="{int(easting // 250)},{int(northing // 250)}"'

    def area(headers: dict[str, str], query: str) -> Any:
        return client.get(f"/safety-mapping/area?{query}", headers={**headers, **HTML})

    # Staff choose their months: January alone and January to February differ by the one February map.
    january, both = area(staff, "from=2024-01&to=2024-01").text, area(staff, "from=2024-01&to=2024-02").text
    assert ">8<" in january.split(cell, 1)[1].split("</tr>", 1)[0]
    assert ">9<" in both.split(cell, 1)[1].split("</tr>", 1)[0]
    assert "data-area-snapped" not in january
    # A panel member asking for either gets the same whole quarter, told why; the difference is always nothing.
    pages = [area(panel, q) for q in ("from=2024-01&to=2024-01", "from=2024-01&to=2024-02", "from=2023-11&to=2024-02",
                                      "quarter=2024-01")]
    assert all(p.status_code == 200 for p in pages)
    assert len({tuple(_rows(p.text)) for p in pages}) == 1 and cell in pages[0].text
    for snapped in pages[:3]:
        note = snapped.text.split("data-area-snapped", 1)[1].split("</div>\n</div>", 1)[0]
        assert "one whole calendar quarter that has ended" in note and "January to March 2024" in note
    assert "data-area-snapped" not in pages[3].text  # a quarter asked for is a quarter given
    assert 'name="quarter"' in pages[3].text and 'name="from"' not in pages[3].text
    # A quarter still under way is never shown to a panel: the latest that has ended is, and the page says so.
    this_month = f"{date.today():%Y-%m}"
    current = area(panel, f"from={this_month}&to={this_month}").text
    shown = _latest_ended_quarter(date.today())
    assert f"showing {shown:%B} to " in current.split("data-area-snapped", 1)[1]
    # Not a quarter's first month: the field is named.
    wrong = area(panel, "quarter=2024-02")
    assert wrong.status_code == 422 and 'href="#quarter"' in wrong.text


def test_a_withdrawn_map_leaves_the_area_picture(
    client: TestClient, demo_headers: dict[str, dict[str, str]], database: Database, settings: Any
) -> None:
    from typer.testing import CliRunner

    from app.cli import cli

    state = {"submission_id": str(uuid4()), "marks": [{"where": {"kind": "grid_reference", "value": "TL 0900 2100"},
                                                       "rating": "red"}]}
    plan = _post(client, demo_headers["youth_worker"], {**_finish(date(2024, 7, 2)), "state": json.dumps(state)})
    reference = re.search(r"SM-\d+", plan.text)
    assert reference is not None
    before = _counts(database)
    env = {"CONTEXTMAP_DATABASE_URL": settings.database_url}
    result = CliRunner().invoke(cli, ["safety-maps", "withdraw", reference.group(0), "--org", "demo-town"], env=env)
    assert result.exit_code == 0, result.output
    after = _counts(database)
    assert after["safety_maps"] == before["safety_maps"] - 1
    assert after["safety_map_marks"] == before["safety_map_marks"] - 1
    again = CliRunner().invoke(cli, ["safety-maps", "withdraw", reference.group(0), "--org", "demo-town"], env=env)
    assert again.exit_code == 2 and "no safety map" in again.output


def test_the_hot_spot_map_shows_where_young_people_feel_unsafe_only_above_the_threshold(
    client: TestClient, demo_headers: dict[str, dict[str, str]], settings: Any
) -> None:
    from app.web.safety_mapping import square_label

    worker = demo_headers["youth_worker"]
    eight, seven_of_eight, seven = "TL 1050 2050", "TL 1050 2150", "TL 1050 2250"
    for k in range(8):  # October 2023: a quarter no other test and no demo map uses
        marks = [(eight, "red"), (seven_of_eight, "red" if k < 7 else "green")] + ([(seven, "red")] if k < 7 else [])
        _agreed_map(client, worker, date(2023, 10, 5 + k), marks)

    def label(ref: str) -> str:
        easting, northing = grid_reference_to_bng(ref)
        return square_label(int(easting // 250), int(northing // 250), settings.analysis_srid)

    for role in ("community_safety", "panel"):
        page = client.get("/maps/hotspots?from=2023-10-01&to=2023-12-31", headers={**demo_headers[role], **HTML})
        assert page.status_code == 200, page.text[:1000]
        html = page.text
        assert '"Young people feel unsafe here"' in html, role  # the layer
        # The squares the area picture colours red (its most common answer), no others: the square 7 maps marked
        # is nowhere in the page source (no outline, no row, no count). The square 8 maps marked, 7 of them red,
        # is red for staff (7 of 8); for a panel its 7 and 1 are suppressed, so the area picture colours it
        # nothing and the layer leaves it out.
        table = html.split("Where young people feel unsafe (", 1)[1].split("</table>", 1)[0]
        assert label(eight) in table and label(seven) not in html, role
        row = table.split(label(eight), 1)[1].split("</tr>", 1)[0]
        area = client.get("/safety-mapping/area?quarter=2023-10", headers={**demo_headers[role], **HTML}).text
        assert _area_red(area) == _layer_red(html), role
        if role == "panel":
            assert html.count("contextmap-young-unsafe") == 1 and label(seven_of_eight) not in html
            assert "October to December 2023, one whole quarter" in html
            assert ">10<" in row and ">8<" not in row  # rounded to the nearest 5
            assert "10 of 10 safety maps coloured" in html and "8 of 8 safety maps" not in html
        else:
            assert html.count("contextmap-young-unsafe") == 2 and label(seven_of_eight) in table
            assert ">8<" in row and "8 of 8 safety maps coloured" in html and "7 of 8 safety maps coloured" in html
    # A panel's arbitrary months: the layer uses the one whole quarter the last day falls in.
    snapped = client.get("/maps/hotspots?from=2023-11-15&to=2023-11-20", headers={**demo_headers["panel"], **HTML})
    assert "October to December 2023, one whole quarter" in snapped.text
    assert snapped.text.count("contextmap-young-unsafe") == 1


def _area_red(page: str) -> set[str]:
    """The squares the area picture colours red (its map's layer data, coloured on the server)."""
    found = re.search(r'data-layer="([^"]*)"', page)
    assert found is not None
    layer = json.loads(found.group(1).replace("&#34;", '"').replace("&quot;", '"').replace("&amp;", "&")
                       .replace("&#39;", "'"))
    return {c["label"] for c in layer["cells"] if c["colour"] == "red"}


def _layer_red(page: str) -> set[str]:
    """The squares in the table under the hot-spot map's "Young people feel unsafe here" layer."""
    table = page.split("Where young people feel unsafe (", 1)[1].split("</table>", 1)[0]
    return set(re.findall(r"<td[^>]*>(250 m square[^<]*)</td>", table))


# ---- after a session: withdrawing a map (admins), reviewing suggested places ------------------------------------
def test_an_admin_withdraws_a_map_from_the_admin_pages_after_confirming(
    client: TestClient, demo_headers: dict[str, dict[str, str]], database: Database
) -> None:
    admin = demo_headers["admin"]
    state = {"submission_id": str(uuid4()), "marks": [{"where": {"kind": "grid_reference", "value": "TL 0950 2050"},
                                                       "rating": "red"}]}
    plan = _post(client, demo_headers["youth_worker"], {**_finish(date(2024, 8, 2)), "state": json.dumps(state)})
    found = re.search(r"SM-(\d+)", plan.text)
    assert found is not None
    reference, number = found.group(0), int(found.group(1))
    for role in ("community_safety", "youth_worker", "panel"):
        assert client.get("/admin/safety-maps", headers={**demo_headers[role], **HTML}).status_code == 403
        assert client.post("/admin/safety-maps", data={"reference": reference, "confirm": "yes"},
                           headers={**demo_headers[role], **HTML}).status_code == 403
    shown = client.get(f"/admin/safety-maps?reference={reference.lower()}", headers={**admin, **HTML})
    assert shown.status_code == 200 and "data-withdraw-summary" in shown.text
    summary = shown.text.split("data-withdraw-summary", 1)[1].split("</dl>", 1)[0]
    compact = summary.replace("\n", "").replace(" ", "")
    assert "August 2024" in summary and AGE_BAND_WORDS["14_15"] in summary and ">1<" in compact
    unknown = client.get("/admin/safety-maps?reference=SM-999999999", headers={**admin, **HTML})
    assert unknown.status_code == 422 and 'href="#reference"' in unknown.text
    assert "SM-999999999 is not held: it was withdrawn or never existed" in unknown.text
    bad = client.get("/admin/safety-maps?reference=twelve", headers={**admin, **HTML})
    assert bad.status_code == 422 and "like SM-12" in bad.text
    before, audits = _counts(database), count_rows(database, "audit_events")
    unconfirmed = client.post("/admin/safety-maps", data={"reference": reference}, headers={**admin, **HTML})
    assert unconfirmed.status_code == 422 and 'href="#confirm"' in unconfirmed.text
    assert _counts(database) == before and count_rows(database, "audit_events") == audits
    done = client.post("/admin/safety-maps", data={"reference": reference, "confirm": "yes"}, headers={**admin, **HTML})
    assert done.status_code == 200 and f"Safety map {reference} withdrawn" in done.text
    after = _counts(database)
    assert after["safety_maps"] == before["safety_maps"] - 1
    assert after["safety_map_marks"] == before["safety_map_marks"] - 1
    with database.owner_session() as session:
        row = session.execute(text("SELECT action, resource, detail FROM audit_events ORDER BY id DESC LIMIT 1")).one()
    assert tuple(row) == ("safety_map.withdraw", f"safety_map:{number}", {"via": "web"})
    again = client.post("/admin/safety-maps", data={"reference": reference, "confirm": "yes"},
                        headers={**admin, **HTML})
    assert again.status_code == 422 and f"{reference} is not held: it was withdrawn or never existed" in again.text
    looked_up = client.get(f"/admin/safety-maps?reference={reference}", headers={**admin, **HTML})
    assert looked_up.status_code == 422 and "withdrawn or never existed" in looked_up.text


def test_suggested_places_are_accepted_as_places_or_dismissed(
    client: TestClient, demo_headers: dict[str, dict[str, str]], database: Database
) -> None:
    staff = demo_headers["community_safety"]
    for role in ("youth_worker", "panel"):
        assert client.get("/safety-mapping/suggestions", headers={**demo_headers[role], **HTML}).status_code == 403
    assert 'href="/safety-mapping/suggestions"' in client.get("/", headers={**staff, **HTML}).text
    assert 'href="/safety-mapping/suggestions"' not in client.get("/", headers={**demo_headers["youth_worker"],
                                                                             **HTML}).text
    page = client.get("/safety-mapping/suggestions", headers={**staff, **HTML})
    assert page.status_code == 200
    ids = dict(re.findall(r'data-suggestion="(\d+)">\s*<h2[^>]*>([^<]+)</h2>', page.text))
    by_name = {name: int(i) for i, name in ids.items()}
    boxing, shed = by_name["Boxing club above the tyre shop"], by_name["Grandad&#39;s allotment shed"]
    before_places, audits = count_rows(database, "places"), count_rows(database, "audit_events")
    # Accepting needs the kind of place; nothing is written without it.
    no_kind = client.post("/safety-mapping/suggestions", data={"action": "accept", "suggestion": str(boxing)},
                          headers={**staff, **HTML})
    assert no_kind.status_code == 422 and 'href="#kind"' in no_kind.text and 'id="kind"' in no_kind.text
    # The field in error is labelled (label for = the select's id) and what was typed or chosen is kept.
    typed = client.post("/safety-mapping/suggestions", data={"action": "accept", "suggestion": str(boxing),
                                                             "grid_reference": "TL 0926 2145"},
                        headers={**staff, **HTML})
    assert typed.status_code == 422 and '<label class="govuk-label" for="kind">' in typed.text
    assert f'for="kind-{boxing}"' not in typed.text and 'aria-describedby="kind-error"' in typed.text
    assert re.search(r'id="grid_reference" name="grid_reference" type="text"[^>]*value="TL 0926 2145"', typed.text) \
        or re.search(r'value="TL 0926 2145"[^>]*id="grid_reference"', typed.text), typed.text
    bad_grid = client.post("/safety-mapping/suggestions", data={"action": "accept", "suggestion": str(boxing),
                                                                "kind": "other", "grid_reference": "nowhere"},
                           headers={**staff, **HTML})
    assert bad_grid.status_code == 422 and 'href="#grid_reference"' in bad_grid.text
    mine = bad_grid.text.split(f'data-suggestion="{boxing}"', 1)[1].split("</form>", 1)[0]
    assert '<option value="other" selected>' in mine and 'value="nowhere"' in mine
    others = bad_grid.text.split(f'data-suggestion="{shed}"', 1)[1].split("</form>", 1)[0]
    assert " selected>" not in others and 'value="nowhere"' not in others
    assert count_rows(database, "places") == before_places and count_rows(database, "audit_events") == audits
    accepted = client.post("/safety-mapping/suggestions",
                           data={"action": "accept", "suggestion": str(boxing), "kind": "other"},
                           headers={**staff, **HTML}, follow_redirects=False)
    assert accepted.status_code == 303 and accepted.headers["location"].startswith("/places/")
    place_id = int(accepted.headers["location"].split("/")[2].split("?")[0])
    place = client.get(f"/api/places/{place_id}", headers=staff).json()
    assert place["properties"]["name"] == "Boxing club above the tyre shop" and place["properties"]["kind"] == "other"
    assert "centre of the 250 m square" in place["properties"]["notes"]
    assert count_rows(database, "places") == before_places + 1
    # Dismissed: gone from the list, nothing created.
    dismissed = client.post("/safety-mapping/suggestions", data={"action": "dismiss", "suggestion": str(shed)},
                            headers={**staff, **HTML}, follow_redirects=False)
    assert dismissed.status_code == 303
    listed = client.get("/safety-mapping/suggestions?done=dismissed", headers={**staff, **HTML}).text
    assert "Suggestion dismissed" in listed
    assert f'data-suggestion="{boxing}"' not in listed and f'data-suggestion="{shed}"' not in listed
    assert count_rows(database, "places") == before_places + 1
    with database.owner_session() as session:
        actions = [tuple(r) for r in session.execute(text(
            "SELECT action, resource FROM audit_events WHERE action LIKE 'place_suggestion.%' ORDER BY id")).all()]
    assert ("place_suggestion.accept", f"place_suggestion:{boxing}") in actions
    assert ("place_suggestion.dismiss", f"place_suggestion:{shed}") in actions
    # Reviewed already: named, not a server error.
    again = client.post("/safety-mapping/suggestions", data={"action": "dismiss", "suggestion": str(shed)},
                        headers={**staff, **HTML})
    assert again.status_code == 422 and "already reviewed" in again.text


def test_the_demo_young_people_feel_unsafe_near_the_outlet_and_the_library(
    client: TestClient, demo_headers: dict[str, dict[str, str]], database: Database, settings: Any
) -> None:
    with database.owner_session() as session:
        cells = dict(session.execute(text(
            """
            SELECT name, floor(ST_X(p) / 250)::int || ',' || floor(ST_Y(p) / 250)::int
            FROM (SELECT name, ST_Transform(ST_PointOnSurface(geom), :srid) AS p FROM places) q
            WHERE name IN ('Chicken Shack Express', 'Wellgate Central Library')
            """), {"srid": settings.analysis_srid}).all())
    # January to March 2026: harm displaced to the library; the outlet still feels unsafe.
    for role in ("community_safety", "panel"):
        page = client.get("/safety-mapping/area?quarter=2026-01", headers={**demo_headers[role], **HTML}).text
        for place in ("Chicken Shack Express", "Wellgate Central Library"):
            row = page.split(f'data-area-cell="{cells[place]}"', 1)[1].split("</tr>", 1)[0]
            red = int(re.search(r'data-area-red>(\d+)<', row).group(1))  # type: ignore[union-attr]
            assert red >= 8, (role, place, row)
            # The square is read by its grid reference and the place in it (a register name, not free text).
            assert re.search(r"250 m square from TL \d{4} \d{4}, near [A-Z]", row), (role, place, row)
        library_row = page.split(f'data-area-cell="{cells["Wellgate Central Library"]}"', 1)[1].split("</tr>", 1)[0]
        assert "near Wellgate Central Library" in library_row, library_row
        # The park's river path: unsafe to young people, little harm recorded (the "not reported?" difference).
        little = page.split("data-area-little-harm", 1)[1].split("</ul>", 1)[0]
        assert little.count("<li>") >= 1, role
        # The hot-spot map's layer shows the same squares as unsafe.
        hot = client.get("/maps/hotspots?from=2026-01-01&to=2026-03-31", headers={**demo_headers[role], **HTML}).text
        assert hot.count("contextmap-young-unsafe") >= 3, role
        # One rule: the layer draws exactly the squares the area picture colours red (its most common answer).
        assert _area_red(page) == _layer_red(hot) and _area_red(page), role
    # The same by default: no months asked for, both show the last twelve whole months and the same squares.
    for role in ("community_safety", "panel"):
        area = client.get("/safety-mapping/area", headers={**demo_headers[role], **HTML}).text
        hot = client.get("/maps/hotspots", headers={**demo_headers[role], **HTML}).text
        assert _area_red(area) == _layer_red(hot), role
        if role == "community_safety":
            assert _area_red(area), role
    # Named as safe but not a safe space: the games cage (staff, twelve months of maps).
    staff = client.get("/safety-mapping/area?from=2025-12&to=2026-11", headers={**demo_headers["community_safety"],
                                                                              **HTML}).text
    named = staff.split('id="named-safe"', 1)[1].split("</ul>", 1)[0]
    assert "Crescent Fields Games Cage" in named


def test_the_quarter_list_starts_at_the_first_safety_map() -> None:
    from app.web.safety_mapping import quarter_choices

    today = date(2026, 2, 10)  # the last ended quarter: October to December 2025
    assert [v for v, _ in quarter_choices(today, since=date(2024, 12, 1))] == [
        "2025-10", "2025-07", "2025-04", "2025-01", "2024-10"]  # December 2024's quarter is the first
    assert len(quarter_choices(today)) == 12  # no map yet: the last twelve quarters
    assert [v for v, _ in quarter_choices(today, since=date(2026, 1, 5))] == ["2025-10"]  # always one to choose
