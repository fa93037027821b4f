"""The governance pages: the accessibility statement from the last browser-test run, security.txt (RFC 9116),
and the documents in docs/ rendered in the page shell; the DPIA's links to the tests that prove it."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from app.db.bootstrap import PROJECT_ROOT
from app.governance import accessibility, documents
from app.main import create_app
from app.policy import PUBLIC, gates_of

DOCS = PROJECT_ROOT / "docs"
GOVERNANCE_PATHS = ("/accessibility", "/security.txt", "/.well-known/security.txt",
                    *(f"/about/{slug}" for slug in documents.DOCUMENTS))


def test_governance_pages_are_public_and_need_no_sign_in(app: Any, client: TestClient) -> None:
    from app.main import api_routes

    routes = {route.path: route for route in api_routes(app)}
    for path in GOVERNANCE_PATHS:
        assert gates_of(routes[path].dependant) == [PUBLIC], path
        response = client.get(path)  # no cookie, no token
        assert response.status_code == 200, (path, response.status_code)


def test_the_accessibility_statement_shows_the_last_runs_axe_results(client: TestClient) -> None:
    results = json.loads(accessibility.RESULTS_FILE.read_text())
    response = client.get("/accessibility")
    assert response.headers["content-type"].startswith("text/html")
    assert "content-security-policy" in response.headers
    html = response.text
    # In the page shell (lang, the service's header), in the GOV.UK model statement's structure.
    assert '<html lang="en-GB">' in html and 'class="brand"' in html
    headings = re.findall(r"<h[23]>([^<]+)</h[23]>", html)
    for heading in ("How accessible this website is", "Feedback and contact information", "Enforcement procedure",
                    "Technical information about this website's accessibility", "Compliance status",
                    "Non-accessible content", "Non-compliance with the accessibility regulations",
                    "Disproportionate burden", "Preparation of this accessibility statement"):
        assert heading in headings, heading
    assert f'datetime="{results["checked_at"]}"' in html
    for page in results["pages"]:
        row = re.search(rf'<tr data-page="{re.escape(page["page"])}">(.*?)</tr>', html, re.DOTALL)
        assert row is not None, page["page"]
        for violation in page["violations"]:
            assert f"<code>{violation['id']}</code>" in row.group(1)
        if not page["violations"]:
            assert "none" in row.group(1)
    failing = {v["id"] for page in results["pages"] for v in page["violations"]}
    status = re.search(r"<p data-compliance-status>(.*?)</p>", html, re.DOTALL)
    assert status is not None
    assert ("partially compliant" if failing or accessibility.KNOWN_ISSUES else "fully compliant") in status.group(1)


def test_every_failure_in_the_statement_has_a_fix_date(client: TestClient) -> None:
    results = accessibility.load_results()
    assert results is not None, "docs/accessibility-results.json is missing: run the browser tests"
    found = accessibility.failures(results)
    assert not [f.key for f in found if f.fix_by is None], "list each axe failure in KNOWN_ISSUES with a fix date"
    html = client.get("/accessibility").text
    for failure in found:
        assert f'data-failure="{failure.key}"' in html
        assert failure.fix_by is not None and failure.fix_by.strftime("%-d %B %Y") in html


def test_axe_results_become_the_statements_results_file(tmp_path: Path, monkeypatch: Any) -> None:
    from app.cli import cli

    axe_dir = tmp_path / "axe"
    axe_dir.mkdir()
    for name, url, violations in (
        ("sign-in", "http://127.0.0.1:40001/signin", []),
        ("map-hotspots", "http://127.0.0.1:40001/maps/hotspots?cell=250",
         [{"id": "color-contrast", "impact": "serious", "help": "Elements must meet contrast", "nodes": 3}]),
    ):
        record = {"page": name, "url": url, "checked_at": "2026-11-30T10:00:00+00:00", "violations": violations}
        (axe_dir / f"{name}.json").write_text(json.dumps(record))
    target = tmp_path / "accessibility-results.json"
    result = CliRunner().invoke(cli, ["docs", "accessibility", "--results", str(axe_dir), "--output", str(target)])
    assert result.exit_code == 0, result.output
    assert "no fix date" in result.output and "color-contrast" in result.output
    document = json.loads(target.read_text())
    assert [p["page"] for p in document["pages"]] == ["map-hotspots", "sign-in"]
    assert [p["path"] for p in document["pages"]] == ["/maps/hotspots?cell=250", "/signin"]  # no host or port
    assert document["pages"][0]["violations"][0]["nodes"] == 3
    undated = [f for f in accessibility.failures(document) if f.fix_by is None]
    assert [(f.key, f.pages) for f in undated] == [("color-contrast", ["map-hotspots"])]

    empty = CliRunner().invoke(cli, ["docs", "accessibility", "--results", str(tmp_path / "none"),
                                     "--output", str(target)])
    assert empty.exit_code == 2 and "run the browser tests" in empty.output


@pytest.mark.parametrize("path", ["/.well-known/security.txt", "/security.txt"])
def test_security_txt_follows_rfc_9116(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    fields: dict[str, list[str]] = {}
    for line in response.text.splitlines():
        name, _, value = line.partition(": ")
        fields.setdefault(name, []).append(value)
    assert set(fields) == {"Contact", "Expires", "Preferred-Languages", "Canonical", "Policy"}
    assert len(fields["Expires"]) == 1
    expires = datetime.strptime(fields["Expires"][0], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    now = datetime.now(UTC)
    assert now < expires < now + timedelta(days=365)  # RFC 9116 2.5.5: less than a year ahead
    assert fields["Canonical"] == ["http://testserver/.well-known/security.txt", "http://testserver/security.txt"]
    assert fields["Policy"] == ["http://testserver/about/security"]
    # No contact configured: the policy page's reporting section, which exists.
    assert fields["Contact"] == ["http://testserver/about/security#reporting-a-vulnerability"]
    assert 'id="reporting-a-vulnerability"' in client.get("/about/security").text


def test_security_txt_names_the_configured_contact(settings: Any) -> None:
    configured = settings.model_copy(update={"security_contact": "mailto:security@wellgate.example"})
    with TestClient(create_app(configured)) as other:
        assert "Contact: mailto:security@wellgate.example\n" in other.get("/.well-known/security.txt").text


@pytest.mark.parametrize("slug", sorted(documents.DOCUMENTS))
def test_each_document_renders_in_the_page_shell(client: TestClient, slug: str) -> None:
    document = documents.DOCUMENTS[slug]
    response = client.get(f"/about/{slug}")
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert '<html lang="en-GB">' in html and f"<title>{document.title} · contextmap</title>" in html
    first_heading = document.path.read_text().split("\n", 1)[0].removeprefix("# ")
    assert re.search(rf"<h1 id=\"[a-z0-9-]+\">{re.escape(first_heading)}</h1>", html)
    assert "<table>" in html  # Markdown tables render as tables
    # Links between documents go to their pages; links to repository files are left as text.
    assert not re.search(r'href="[^"]*\.md["#]', html)
    assert 'href="../tests/' not in html and "<!--" not in html


def test_document_html_is_escaped_and_links_rewritten(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setattr(documents, "DOCS_DIR", tmp_path)
    (tmp_path / "note.md").write_text(
        "# Note\n\n<script>alert(1)</script>\n\nSee [the DPIA](dpia.md#4-risks), "
        "[a test](../tests/api/test_places.py) and [ICO](https://ico.org.uk/).\n")
    html = documents.render(documents.Document("note", "Note", "note.md"))
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert '<a href="/about/dpia#4-risks">the DPIA</a>' in html
    assert "a test" in html and "test_places.py" not in html
    assert '<a href="https://ico.org.uk/">ICO</a>' in html


def test_the_dpia_links_only_to_tests_that_exist() -> None:
    """Every measure in the DPIA links the test that proves it: the files and test names must exist."""
    linked = 0
    for name in ("dpia.md", "security.md"):
        text = (DOCS / name).read_text()
        for label, target in re.findall(r"\[`?([^\]`]+)`?\]\((\.\./tests/[^)]+)\)", text):
            path = (DOCS / target).resolve()
            assert path.is_file(), f"{name}: {target} does not exist"
            if "::" in label:
                test_name = label.split("::", 1)[1]
                assert re.search(rf"^def {re.escape(test_name)}\(", path.read_text(), re.MULTILINE), (
                    f"{name}: {label} is not a test in {target}")
            linked += 1
        for target in re.findall(r"`(tests/[\w/]+\.py)`", text):
            if "disclosure_attack" not in target:  # arrives with the disclosure work of issue 10
                assert (PROJECT_ROOT / target).is_file(), f"{name}: {target} does not exist"
    assert linked >= 10


def test_the_dpia_cites_the_law_and_marks_the_deployers_blanks() -> None:
    text = (DOCS / "dpia.md").read_text()
    for citation in ("Art. 30", "Art. 35", "Schedule 1, Part 2, paragraph 18"):
        assert citation in text
    # The questions only the deploying organisation can answer, numbered and marked.
    questions = re.findall(r"\*\*✎ To complete \((D\d+)\):\*\*", text)
    assert questions == [f"D{n}" for n in range(1, len(questions) + 1)] and len(questions) >= 10
    # The measures the issue names, each with the test that proves it.
    for measure in ("Isolation", "Disclosure control on a fixed geography", "Audit", "Retention",
                    "No child identities"):
        row = next(line for line in text.splitlines() if f"**{measure}**" in line)
        assert "../tests/" in row, measure


def test_the_sharing_agreement_gives_every_partner_and_role() -> None:
    text = (DOCS / "information-sharing-agreement.md").read_text()
    for partner in ("Police", "Council", "Schools and colleges", "Youth service", "Place managers"):
        assert f"| {partner}" in text, partner
    from geo.vocabulary import ROLES

    for role in ROLES:
        assert f"| `{role}` |" in text, role
