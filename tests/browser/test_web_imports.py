"""The import journeys of issue 14 in Chromium, through the pages only, against the demo.

- A generated 100,000-row police.uk file, uploaded through the page, shows the progress page (checked with
  axe and at phone width while the import runs) and ends on a correct result page with a link to the new
  incidents on the hot-spot map; the import history names who ran it.
- A malformed file (several months in a zip, with bad rows) gets its line-numbered report, writes nothing,
  and the rejected rows download as CSV with formulas neutralised. Done with JavaScript off: the
  "Check progress" button is the way to the result.
- A partner CSV with British National Grid columns under its own names: the mapping step shows the first
  rows and maps them; a dry run writes nothing; the import then writes the rows.
- A youth worker records incidents but may not import.

Rows are dated 2018-2019, before the demo's period, so the other browser tests' maps and counts stay as
the demo made them.
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from app.db.demo_loader import DemoLogin
from tests.browser.conftest import Browser
from tests.browser.test_web_pages import check_page
from tests.fixtures.policeuk import policeuk_csv_text

pytestmark = pytest.mark.browser

ROWS = 100_000
# Inside the demo's service area (a 5 km square about LUTON): no row is rejected for its location.
INSIDE_M = 2000.0


def _clean(log: Any, where: str) -> None:
    log.errors = [e for e in log.errors if "status of 422" not in e and "status of 403" not in e]
    log.assert_clean(where)


def _report(page: Any) -> dict[str, str]:
    """The result page's summary list as {label: value}."""
    keys = page.locator("[data-import-report] .govuk-summary-list__key").all_inner_texts()
    values = page.locator("[data-import-report] .govuk-summary-list__value").all_inner_texts()
    return {k.strip(): v.strip() for k, v in zip(keys, values, strict=True)}


def _until_result(page: Any) -> None:
    """Press "Check progress" until the result page shows (no JavaScript needed)."""
    for _ in range(600):
        if not page.locator("[data-check-progress]").count():
            return
        page.wait_for_timeout(1000)  # polling, not a timed assertion
        # The link leads to the page's own address: a plain click, then the reloaded page (Playwright's
        # expect_navigation waits forever for a same-address navigation with JavaScript off).
        page.click("[data-check-progress]")
        page.wait_for_load_state()
    pytest.fail(f"the import at {page.url} did not finish: {page.locator('main').inner_text()}")


def test_a_100k_row_police_uk_file_shows_progress_and_a_correct_result(browser: Browser, tmp_path: Path) -> None:
    text = policeuk_csv_text(ROWS, months=("2019-03",), spread_m=INSIDE_M, seed=14_100_000, no_location_share=0.01)
    without_location = sum(1 for line in csv.reader(io.StringIO(text)) if line[4:6] == ["", ""])
    upload = tmp_path / "2019-03-demo-street.csv"  # a file on disk: Chromium reads it itself, no 25 MB over CDP
    upload.write_text(text, encoding="utf-8")
    page, log = browser.open("community_safety", "/imports")
    try:
        check_page(page, "imports-start")
        page.set_input_files("#files", upload)
        # The progress page's own script is held back for the checks (it would reload the page into the
        # result mid-check); pressing "Check progress" works without it, then the script takes over.
        page.route("**/static/web/imports.js", lambda route: route.abort())
        with page.expect_navigation():
            page.click("form[data-police-uk-form] button[value=import]")
        assert page.locator("h1").inner_text() == "Import in progress"
        assert page.locator("progress#progress").count() == 1
        assert "2019-03-demo-street.csv" in page.locator("main").inner_text()
        check_page(page, "import-progress")
        page.unroute("**/static/web/imports.js")
        log.errors = [e for e in log.errors if "net::ERR_FAILED" not in e]  # the script held back above
        page.reload()
        page.wait_for_selector("[data-import-report]", timeout=300_000)  # the script reloads into the result

        assert page.locator("h1").inner_text().startswith("Import finished")
        report = _report(page)
        assert report["Rows read"] == f"{ROWS:,}"
        assert report["Without a location (skipped)"] == f"{without_location:,}"
        assert report["Rows rejected"] == "0"
        imported = int(report["Imported"].replace(",", ""))
        assert imported + int(report["Duplicates skipped"].replace(",", "")) == ROWS - without_location
        assert imported > 0.9 * ROWS
        link = page.locator("[data-hotspots-link]")
        query = parse_qs(urlsplit(link.get_attribute("href")).query)
        assert query == {"from": ["2019-03-01"], "to": ["2019-03-31"]}
        check_page(page, "import-result")
        with page.expect_navigation():
            link.click()
        assert urlsplit(page.url).path == "/maps/hotspots"

        page.goto("/imports")
        with page.expect_navigation():
            page.get_by_role("link", name="See past imports").click()
        first = page.locator("[data-import-history] tbody tr").first.inner_text()
        assert "cs@demo.contextmap.test" in first and "2019-03-demo-street.csv" in first
        assert f"{imported:,} imported" in first
        check_page(page, "import-history")
        _clean(log, "100k police.uk import")
    finally:
        page.close()


def _zip(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _signed_in_without_javascript(chromium: Any, base_url: str, login: DemoLogin) -> Any:
    context = chromium.new_context(java_script_enabled=False, base_url=base_url,
                                   viewport={"width": 1400, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto("/signin")
    page.fill("#email", login.email)
    page.fill("#password", login.password)
    with page.expect_navigation():
        page.click("button[type=submit]")
    return context


def test_a_malformed_zip_gets_its_line_numbered_report_and_writes_nothing(
    chromium: Any, live_server: str, demo: list[DemoLogin], browser: Browser, tmp_path: Path,
) -> None:
    good = policeuk_csv_text(40, months=("2018-01",), spread_m=INSIDE_M, seed=1801, no_location_share=0.0)
    lines = policeuk_csv_text(30, months=("2018-02",), spread_m=INSIDE_M, seed=1802, no_location_share=0.0).splitlines()
    lines[5] = lines[5].replace("2018-02", "2018-13", 1)  # line 6: no such month
    fields = next(csv.reader([lines[9]]))
    fields[4] = "=HYPERLINK(\"http://evil.example\")"  # line 10: a formula where the longitude goes
    lines[9] = ",".join(f'"{f}"' if "," in f or '"' in f else f for f in (x.replace('"', '""') for x in fields))
    bad = "\n".join(lines) + "\n"
    archive = _zip({"2018-01/2018-01-demo-street.csv": good, "2018-02/2018-02-demo-street.csv": bad,
                    "2018-02/2018-02-demo-outcomes.csv": "not,a,street,file\n"})
    login = next(d for d in demo if d.role == "admin")
    context = _signed_in_without_javascript(chromium, live_server, login)
    try:
        page = context.new_page()
        page.goto("/imports")
        page.set_input_files("#files", {"name": "=demo-download.zip", "mimeType": "application/zip", "buffer": archive})
        with page.expect_navigation():
            page.click("form[data-police-uk-form] button[value=import]")
        _until_result(page)
        assert page.locator("h1").inner_text() == "The file was not imported"
        report = _report(page)
        assert report["Rows rejected"] == "2" and report["Rows read"] == "70"
        rejected = page.locator("[data-rejections] tbody tr").all_inner_texts()
        assert len(rejected) == 2
        assert "2018-02-demo-street.csv" in rejected[0] and "6" in rejected[0] and "2018-13" in rejected[0]
        assert "10" in rejected[1] and "Longitude" in rejected[1]
        assert "outcomes" not in page.locator("main").inner_text()
        # axe needs JavaScript: the same result page, checked in the admin's usual browser.
        checked, checked_log = browser.open("admin", urlsplit(page.url).path)
        check_page(checked, "import-refused")
        checked_log.assert_clean("refused import result")
        checked.close()

        with page.expect_download() as download:
            page.click("[data-rejections-csv]")
        saved = tmp_path / "rejections.csv"
        download.value.save_as(saved)
        table = list(csv.reader(saved.open(encoding="utf-8")))
        assert table[0] == ["file", "line", "reason"]
        assert [row[1] for row in table[1:]] == ["6", "10"]
        assert all(row[0].startswith("'=demo-download.zip/") for row in table[1:])  # neutralised
        assert all(not row[2].startswith(("=", "+", "-", "@")) for row in table[1:])

        # Nothing was written: the good month in the zip is not in the incidents list either.
        page.goto("/incidents?from=2018-01-01&to=2018-02-28")
        assert page.locator("[data-incidents-total]").inner_text().startswith("0 incidents")
        page.goto("/imports/history")
        assert "Refused" in page.locator("[data-import-history] tbody tr").first.inner_text()
    finally:
        context.close()


PARTNER_CSV = """Ref,Logged,Category,Site E,Site N,People,Notes
A1,03/02/2019 16:30,drugs,509150,221400,2,Seen near the bus shelters
A2,04/02/2019 17:10,antisocial_behaviour,509200,221500,,Shouting outside the shops
A3,05/02/2019 18:45,serious_violence,509100,221350,1,Fight reported by staff
"""


def test_partner_csv_with_column_mapping_dry_run_then_import(browser: Browser) -> None:
    page, log = browser.open("admin", "/imports")
    try:
        page.set_input_files("#file", {"name": "youth-service-log.csv", "mimeType": "text/csv",
                                       "buffer": PARTNER_CSV.encode()})
        page.check("#target")  # incidents
        with page.expect_navigation():
            page.click("form[data-partner-form] button[type=submit]")
        assert page.locator("h1").inner_text() == "Match the file's columns"
        preview = page.locator("[data-preview]").inner_text()
        assert "Site E" in preview and "Seen near the bus shelters" in preview
        check_page(page, "import-mapping")

        with page.expect_navigation():  # the required fields are not matched by name: the summary says so
            page.click("form[data-mapping-form] button[value=dry_run]")
        summary = page.locator(".govuk-error-summary").inner_text()
        assert "Choose the column that holds occurred from" in summary
        check_page(page, "import-mapping-errors")
        for ours, theirs in {"occurred_from": "Logged", "harm_category": "Category", "source_ref": "Ref",
                             "young_people": "People", "description": "Notes", "easting": "Site E",
                             "northing": "Site N"}.items():
            page.select_option(f"#map-{ours}", theirs)
        page.check("#crs-2")  # British National Grid
        with page.expect_navigation():
            page.click("form[data-mapping-form] button[value=dry_run]")
        _until_result(page)
        assert page.locator("h1").inner_text() == "Dry run finished: nothing was written"
        assert _report(page)["Would import"] == "3"
        page.goto("/incidents?from=2019-02-01&to=2019-02-28&source=partner")
        assert page.locator("[data-incidents-total]").inner_text().startswith("0 incidents")

        page.goto("/imports")
        page.set_input_files("#file", {"name": "youth-service-log.csv", "mimeType": "text/csv",
                                       "buffer": PARTNER_CSV.encode()})
        with page.expect_navigation():
            page.click("form[data-partner-form] button[type=submit]")
        for ours, theirs in {"occurred_from": "Logged", "harm_category": "Category", "source_ref": "Ref",
                             "young_people": "People", "description": "Notes", "easting": "Site E",
                             "northing": "Site N"}.items():
            page.select_option(f"#map-{ours}", theirs)
        page.check("#crs-2")
        with page.expect_navigation():
            page.click("form[data-mapping-form] button[value=import]")
        _until_result(page)
        assert _report(page)["Imported"] == "3"
        page.goto("/incidents?from=2019-02-01&to=2019-02-28&source=partner")
        assert page.locator("[data-incidents-total]").inner_text().startswith("3 incidents")
        assert "Fight reported by staff" not in page.locator("main").inner_text()  # free text only on the page
        with page.expect_navigation():
            page.locator("[data-incidents-table] tbody tr a").first.click()
        assert "Fight reported by staff" in page.locator("[data-incident]").inner_text()
        _clean(log, "partner import")
    finally:
        page.close()


def test_youth_worker_may_not_import(browser: Browser) -> None:
    page, log = browser.open("youth_worker", "/incidents")
    try:
        assert page.get_by_role("link", name="Import incidents").count() == 0
        for path in ("/imports", "/imports/history"):
            response = page.goto(path)
            assert response is not None and response.status == 403, path
        _clean(log, "youth worker refused imports")
    finally:
        page.close()
