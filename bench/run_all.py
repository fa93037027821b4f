"""Run every benchmark in turn (``make bench``); each prints its own figures.

Benchmarks seed their own databases (1,000,000 incidents; 100,000 places) and take several minutes each.
The OGC comparison needs tipg in a separate environment (see bench/bench_ogc.py); it is skipped with a
message when that environment is missing.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCHMARKS = ("bench_analysis", "bench_aggregates", "bench_nearest", "bench_routing", "bench_maps", "bench_import",
              "bench_ogc", "bench_opening_hours")


def main() -> int:
    root = Path(__file__).resolve().parents[1]
    failed = []
    for name in BENCHMARKS:
        print(f"\n=== {name} ===", flush=True)
        result = subprocess.run([sys.executable, "-m", f"bench.{name}"], cwd=root, check=False)
        if result.returncode != 0:
            failed.append(name)
    if failed:
        print(f"\nbenchmarks that failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
