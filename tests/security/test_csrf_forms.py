"""HTML forms carry their CSRF token as a hidden field in the body, never in the action URL (a URL reaches
the browser history, Referer headers and access logs). The cookie gate reads the field without consuming the
body, for urlencoded forms and multipart uploads alike; JavaScript keeps the X-CSRF-Token header."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from app.db.demo_loader import DemoLogin
from app.db.session import Database
from app.dependencies import CSRF_HEADER, SESSION_COOKIE
from app.main import create_app
from app.middleware import _multipart_field
from app.security import csrf_token
from app.settings import Settings
from tests.conftest import count_rows, sign_in, unique
from tests.fixtures.policeuk import policeuk_csv_text

FORM = re.compile(r"<form\b[^>]*>", re.IGNORECASE)
HIDDEN = re.compile(r'<input type="hidden" name="csrf_token" value="([0-9a-f]{64})">')
PAGES = {
    "community_safety": ["/", "/places/new", "/incidents/new", "/imports", "/interventions/new", "/places"],
    "youth_worker": ["/safe-spaces/plan", "/safety-mapping/session", "/places/new"],
    "admin": ["/admin/users/new", "/admin/organisation", "/admin/streets"],
}


def _browser(app: Any, demo: list[DemoLogin], role: str) -> TestClient:
    login = next(d for d in demo if d.role == role)
    browser = TestClient(app)
    assert sign_in(browser, login.email, login.password, next="/").status_code == 303
    return browser


def _token(browser: TestClient, settings: Settings) -> str:
    return csrf_token(settings.secret_key, browser.cookies[SESSION_COOKIE])


def test_no_form_action_carries_the_token_and_each_post_form_has_the_hidden_field(
    app: Any, demo: list[DemoLogin], settings: Settings
) -> None:
    posting = 0
    for role, pages in PAGES.items():
        with _browser(app, demo, role) as browser:
            token = _token(browser, settings)
            for path in pages:
                page = browser.get(path)
                assert page.status_code == 200, (role, path)
                for match in FORM.finditer(page.text):
                    tag = match.group(0)
                    assert "csrf" not in tag, (role, path, tag)
                    if 'method="post"' in tag and 'action="/signin"' not in tag:
                        posting += 1
                        # The hidden field comes first in the form: the gate finds it before any upload.
                        first_input = re.search(r"<input\b[^>]*>", page.text[match.end():])
                        assert first_input and HIDDEN.fullmatch(first_input.group(0)), (role, path, tag)
                        assert HIDDEN.fullmatch(first_input.group(0)).group(1) == token  # type: ignore[union-attr]
    assert posting >= 15  # every page above has its form(s), and every page has Sign out


def test_a_form_post_without_the_hidden_field_is_refused_and_with_it_passes(
    app: Any, demo: list[DemoLogin], settings: Settings, database: Database
) -> None:
    with _browser(app, demo, "community_safety") as browser:
        token = _token(browser, settings)
        fields = {"name": unique("CSRF place "), "kind": "park", "lon": "-0.4101", "lat": "51.8802"}
        before = count_rows(database, "places")
        refused = browser.post("/places/new", data=fields, follow_redirects=False)
        assert refused.status_code == 403 and CSRF_HEADER in refused.text
        # The token in the URL is no longer honoured: it must not be put there.
        in_url = browser.post(f"/places/new?csrf_token={token}", data=fields, follow_redirects=False)
        assert in_url.status_code == 403
        wrong = browser.post("/places/new", data={**fields, "csrf_token": "0" * 64}, follow_redirects=False)
        assert wrong.status_code == 403
        assert count_rows(database, "places") == before
        # Any position in the body will do (the forms put it first).
        accepted = browser.post("/places/new", data={**fields, "csrf_token": token}, follow_redirects=False)
        assert accepted.status_code == 303, accepted.text[:2000]
        assert count_rows(database, "places") == before + 1
        # The route parsed the same body: the place has the posted name.
        assert fields["name"] in browser.get(accepted.headers["location"]).text
        # JavaScript: the header still works.
        header = browser.post("/places/new", data={**fields, "name": unique("CSRF header ")},
                              headers={CSRF_HEADER: token}, follow_redirects=False)
        assert header.status_code == 303
        # Sign out is a form too.
        assert browser.post("/signout", follow_redirects=False).status_code == 403
        assert browser.post("/signout", data={"csrf_token": token}, follow_redirects=False).status_code == 303


def test_an_upload_form_passes_with_the_hidden_field_and_is_refused_without(
    app: Any, demo: list[DemoLogin], settings: Settings, database: Database
) -> None:
    upload = policeuk_csv_text(20, seed=5).encode()
    with _browser(app, demo, "community_safety") as browser:
        token = _token(browser, settings)
        files = {"files": ("2026-02-street.csv", upload, "text/csv")}
        jobs = count_rows(database, "import_jobs")
        refused = browser.post("/imports/police-uk", files=files, follow_redirects=False)
        assert refused.status_code == 403 and count_rows(database, "import_jobs") == jobs
        started = browser.post("/imports/police-uk", data={"csrf_token": token}, files=files, follow_redirects=False)
        assert started.status_code == 303, started.text[:2000]
        assert started.headers["location"].startswith("/imports/")
        assert count_rows(database, "import_jobs") == jobs + 1


def test_the_body_limit_still_refuses_a_large_form_before_the_gate(
    settings: Settings, demo: list[DemoLogin], database: Database
) -> None:
    small = create_app(settings.model_copy(update={"max_body_bytes": 4096}))
    with _browser(small, demo, "community_safety") as browser:
        token = _token(browser, settings)
        before = count_rows(database, "places")
        big = browser.post("/places/new", data={"csrf_token": token, "name": "x" * 5000, "kind": "park"},
                           follow_redirects=False)
        assert big.status_code == 413 and big.json()["field"] == "body"
        assert count_rows(database, "places") == before


def test_multipart_field_reader_looks_at_part_headers_only() -> None:
    content_type = b"multipart/form-data; boundary=XyZ"
    body = (b'--XyZ\r\nContent-Disposition: form-data; name="target"\r\n\r\nplaces\r\n'
            b'--XyZ\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\nabc123\r\n'
            b'--XyZ\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\n1,2\r\n--XyZ--\r\n')
    assert _multipart_field(body, content_type, "csrf_token") == "abc123"
    assert _multipart_field(body, b"multipart/form-data", "csrf_token") is None  # no boundary
    # A file whose contents mention the field is not the field.
    only_file = (b'--XyZ\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\n'
                 b'name="csrf_token"\r\n\r\nforged\r\n--XyZ--\r\n')
    assert _multipart_field(only_file, content_type, "csrf_token") is None
