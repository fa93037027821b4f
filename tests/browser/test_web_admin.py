"""Administration of issue 14 in Chromium, through the pages only: users (add, change role, disable and
enable, revoke tokens, issue an API token shown once), the audit log (filters, pages, CSV download),
organisation settings (name, service area drawn, pasted or uploaded) and the street network upload; only
admins see Admin and reach its pages. Each page is checked with axe-core, at 390×844 and photographed."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from app.db.session import Database
from tests.browser.conftest import Browser
from tests.browser.test_web_pages import check_page
from tests.conftest import count_rows, unique

pytestmark = pytest.mark.browser

BANNER = ".govuk-notification-banner--success"
SUMMARY = ".govuk-error-summary"
ORGANISATION = "Demo Town Community Safety Partnership"


def _clean(log: Any, where: str) -> None:
    log.errors = [e for e in log.errors if "status of 422" not in e and "status of 403" not in e]
    log.assert_clean(where)


def _submit(page: Any, form: str) -> None:
    with page.expect_navigation():
        page.click(f"form[{form}] button[type=submit]")


def test_only_admins_see_and_reach_admin(browser: Browser) -> None:
    for role in ("community_safety", "youth_worker", "panel"):
        page, _ = browser.open(role, "/")
        try:
            assert page.get_by_role("link", name="Admin", exact=True).count() == 0
            for path in ("/admin", "/admin/users", "/admin/users/new", "/admin/audit", "/admin/audit.csv",
                         "/admin/organisation", "/admin/streets"):
                response = page.goto(path)
                assert response is not None and response.status == 403, f"{role} {path}"
        finally:
            page.close()
    page, log = browser.open("admin", "/")
    try:
        with page.expect_navigation():
            page.get_by_role("link", name="Admin", exact=True).click()
        check_page(page, "admin")
        _clean(log, "admin home")
    finally:
        page.close()


def test_admin_adds_a_user_changes_their_role_and_access(browser: Browser, database: Database) -> None:
    page, log = browser.open("admin", "/admin/users")
    email = unique("new.worker") + "@demo.contextmap.test"
    try:
        check_page(page, "admin-users")
        with page.expect_navigation():
            page.get_by_role("link", name="Add a user").click()
        before = count_rows(database, "users")
        page.fill("#email", "not-an-address")
        _submit(page, "data-user-form")
        summary = page.locator(SUMMARY).inner_text()
        assert "Enter an e-mail address in the right format" in summary and "Choose the user's role" in summary
        check_page(page, "admin-user-new-errors")
        assert count_rows(database, "users") == before
        page.fill("#email", email)
        page.check("#role-3")  # youth worker
        _submit(page, "data-user-form")
        token = page.locator("[data-issued-token]").inner_text()
        assert token.startswith("cm_") and email in page.locator("main").inner_text()
        check_page(page, "admin-user-token")
        assert count_rows(database, "users") == before + 1

        page.goto("/admin/users")
        with page.expect_navigation():
            page.get_by_role("link", name=email).click()
        assert token not in page.content()  # shown once, never again
        check_page(page, "admin-user")
        page.check("#role-2")  # community safety
        _submit(page, "data-role-form")
        assert page.locator(BANNER).inner_text().endswith("User's role changed")
        assert "Community safety" in page.locator("[data-user-summary]").inner_text()

        _submit(page, "data-disable-form")
        assert page.locator(BANNER).inner_text().endswith("User disabled")
        assert "Disabled since" in page.locator("[data-user-summary]").inner_text()
        assert page.locator("form[data-token-form]").count() == 0
        _submit(page, "data-enable-form")
        assert page.locator(BANNER).inner_text().endswith("User enabled")

        _submit(page, "data-token-form")
        second = page.locator("[data-issued-token]").inner_text()
        assert second.startswith("cm_") and second != token
        page.goto("/admin/users")
        with page.expect_navigation():
            page.get_by_role("link", name=email).click()
        _submit(page, "data-revoke-form")
        assert page.locator(BANNER).inner_text().endswith("User's tokens revoked")
        assert "Active API tokens\n0" in page.locator("[data-user-summary]").inner_text().replace("\t", "\n")
        _clean(log, "admin user journey")
    finally:
        page.close()


def test_an_admin_cannot_lock_themself_out(browser: Browser) -> None:
    page, log = browser.open("admin", "/admin/users")
    try:
        with page.expect_navigation():
            page.get_by_role("link", name="admin@demo.contextmap.test").click()
        text_ = page.locator("main").inner_text()
        assert "You cannot change your own role" in text_
        assert page.locator("form[data-disable-form]").count() == 0
        assert page.locator("form[data-revoke-form]").count() == 0
        _clean(log, "admin's own page")
    finally:
        page.close()


def test_audit_log_filters_pages_and_downloads(browser: Browser) -> None:
    page, log = browser.open("admin", "/admin/audit")
    try:
        check_page(page, "admin-audit")
        page.select_option("#action", "user.create")
        _submit(page, "data-audit-filters")
        rows = page.locator("[data-audit-table] tbody tr")
        assert rows.count() >= 1
        assert all(r.strip() for r in page.locator("[data-audit-table] td[data-label=Action]").all_inner_texts())
        assert set(page.locator("[data-audit-table] td[data-label=Action]").all_inner_texts()) == {"user.create"}
        page.fill("#from", "2026-05-02")
        page.fill("#to", "2026-05-01")
        _submit(page, "data-audit-filters")
        assert "The last day must be the same as or after the first day" in page.locator(SUMMARY).inner_text()
        check_page(page, "admin-audit-errors")

        page.goto("/admin/audit")
        total = int(page.locator("[data-audit-total]").inner_text().split()[0])
        if total > 50:  # every browser test run audits its page views, so there are pages to turn
            with page.expect_navigation():
                page.locator(".govuk-pagination__next a").click()
            assert "page 2 of" in page.locator("[data-audit-total]").inner_text()

        page.select_option("#action", "user.create")
        _submit(page, "data-audit-filters")
        with page.expect_download() as download_info:
            page.click("[data-audit-csv]")
        content = Path(download_info.value.path()).read_text()
        table = list(csv.DictReader(io.StringIO(content)))
        assert table and {r["action"] for r in table} == {"user.create"}
        assert list(table[0]) == ["id", "at", "user_id", "email", "action", "resource", "request_id", "client",
                                  "detail"]
        page.goto("/admin/audit?action=export")
        assert "audit_events" in page.locator("[data-audit-table]").inner_text()  # the download is audited
        _clean(log, "audit log")
    finally:
        page.close()


def test_organisation_settings(browser: Browser, tmp_path: Path) -> None:
    page, log = browser.open("admin", "/admin/organisation")
    try:
        check_page(page, "admin-organisation")
        shown = page.locator("[data-deployment-settings]").inner_text()
        assert "1 to 7" in shown and "nearest 5" in shown
        current = page.locator("[data-cm-area-drawer]").get_attribute("data-current")
        assert current and json.loads(current)["type"] == "MultiPolygon"

        page.fill("#name", "")
        page.fill("#area", '{"type": "LineString", "coordinates": [[0, 51], [1, 51]]}')
        _submit(page, "data-organisation-form")
        summary = page.locator(SUMMARY).inner_text()
        assert "Enter the organisation's name" in summary
        assert "The area must be a polygon" in summary
        check_page(page, "admin-organisation-errors")

        page.fill("#name", ORGANISATION + " (test)")
        page.fill("#area", "")
        upload = tmp_path / "service-area.geojson"
        upload.write_text(json.dumps({"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {}, "geometry": json.loads(current)}]}))
        page.set_input_files("#area_file", str(upload))
        _submit(page, "data-organisation-form")
        assert page.locator(BANNER).inner_text().endswith("Organisation settings saved")
        assert page.locator("[data-organisation]").inner_text() == ORGANISATION + " (test)"
        page.fill("#name", ORGANISATION)
        _submit(page, "data-organisation-form")
        assert page.locator("[data-organisation]").inner_text() == ORGANISATION
        _clean(log, "organisation settings")
    finally:
        page.close()


def test_street_network_upload(browser: Browser, database: Database, tmp_path: Path) -> None:
    page, log = browser.open("admin", "/admin/streets")
    bad = tmp_path / "points.geojson"
    bad.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [-0.41, 51.88]}}]}))
    streets = tmp_path / "streets.geojson"
    streets.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "High Street"},
         "geometry": {"type": "LineString", "coordinates": [[-0.415, 51.879], [-0.410, 51.879]]}},
        {"type": "Feature", "properties": {"name": "Mill Lane"},
         "geometry": {"type": "LineString", "coordinates": [[-0.410, 51.879], [-0.410, 51.882]]}},
        {"type": "Feature", "properties": {"name": "A bench"},
         "geometry": {"type": "Point", "coordinates": [-0.41, 51.88]}}]}))
    before = count_rows(database, "street_edges")
    try:
        check_page(page, "admin-streets")
        _submit(page, "data-streets-form")
        assert "Choose a street network file" in page.locator(SUMMARY).inner_text()
        page.set_input_files("#streets", str(bad))
        _submit(page, "data-streets-form")
        assert "no usable street lines" in page.locator(SUMMARY).inner_text()
        assert count_rows(database, "street_edges") == before
        page.set_input_files("#streets", str(streets))
        _submit(page, "data-streets-form")
        result = page.locator("[data-streets-result]").inner_text()
        assert "2 street segments from streets.geojson" in result and "Feature 3: Point is not a line" in result
        assert "The network has 2 street segments" in page.locator("[data-streets-now]").inner_text()
        check_page(page, "admin-streets-loaded")
        _clean(log, "street network")
    finally:
        page.close()
        # The upload replaced the demo town's streets, which later tests walk along and draw: put them back.
        from shapely.geometry import LineString

        from app.db.street_network import StreetLine, load_street_edges
        from geo.demo import demo_streets

        with database.owner_session() as session:
            org = session.execute(text("SELECT organisation_id FROM street_edges WHERE name = 'High Street' "
                                       "LIMIT 1")).scalar_one()
            load_street_edges(session, org, [StreetLine(LineString(coords), name) for name, coords in demo_streets()])
