"""The Citus tests run under ``make test-citus`` (CONTEXTMAP_EXPECT_CITUS=1), against a coordinator and two
workers; on the single-node default they are not collected (nothing there to check)."""

from __future__ import annotations

import os

collect_ignore_glob = [] if os.environ.get("CONTEXTMAP_EXPECT_CITUS") else ["test_*.py"]
