"""Fuzz the whole OpenAPI surface with schemathesis, authenticated: no 5xx, no response off-schema.

Bounded (``max_examples`` per operation) so it fits in CI. The cases run are counted and written to
``test-artifacts/fuzz-summary.json`` for the record.
"""

from __future__ import annotations

import json
import traceback
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from tests.conftest import Org, make_org

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CASES: Counter[str] = Counter()
STATUSES: Counter[str] = Counter()


@pytest.fixture(scope="session")
def fuzz_schema(app: Any) -> Any:
    # Revoking users' tokens would sign the fuzzer itself out half-way; everything else is fair game.
    return schemathesis.openapi.from_asgi("/openapi.json", app).exclude(path_regex=r"/revoke$")


@pytest.fixture(scope="session")
def fuzz_org(database: Any, settings: Any) -> Org:
    return make_org(database, settings, "fuzz")


MAX_EXAMPLES = 20


def test_no_server_errors_and_responses_match_the_schema(fuzz_schema: Any, fuzz_org: Org) -> None:
    # Driven through hypothesis directly: schemathesis' pytest plugin does not support pytest 9 yet.
    failures: list[str] = []
    for result in fuzz_schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @hypothesis_settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck),
                             derandomize=True, database=None)
        def fuzz(case: Any) -> None:
            response = case.call(headers=fuzz_org.headers("admin"))
            CASES[f"{case.method} {case.path}"] += 1
            STATUSES[str(response.status_code)] += 1
            case.validate_response(
                response, checks=[not_a_server_error, response_schema_conformance, content_type_conformance]
            )

        try:
            fuzz()
        except (Exception, BaseExceptionGroup) as exc:  # collect every operation's failure, report together
            detail = "".join(traceback.format_exception(exc))[-3000:]
            failures.append(f"{operation.method.upper()} {operation.path}: {detail}")
    assert not failures, "\n\n".join(failures)
    assert sum(CASES.values()) >= MAX_EXAMPLES  # the fuzzer really ran


def teardown_module() -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    summary = {"operations": len(CASES), "cases": sum(CASES.values()), "per_operation": dict(CASES),
               "statuses": dict(STATUSES)}
    (ARTIFACTS / "fuzz-summary.json").write_text(json.dumps(summary, indent=2, sort_keys=True))
