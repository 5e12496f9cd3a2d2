#!/usr/bin/env python3
"""The workload benchmark: cost and latency of routed statements against all-on-Trino, all-on-DuckDB
and an oracle (bench/WORKLOAD.md). One command for the whole thing, services included:
scripts/bench.sh. This script expects the test services to run on the lake of the chosen SF.

    .venv/bin/python bench/workload_bench.py --sf 1 --workloads mixed,dashboard,analyst \\
        --concurrency 1 --out results/$(date +%F)-sf1 --budget-min 28
    .venv/bin/python bench/workload_bench.py --report-only results/2026-11-25-sf1

Builds nothing: the router is $LAKEROUTER_BIN (default build/src/lakerouter) or --bin. The lake is
--lake, default ~/.cache/lakerouter/lake/sf<SF>. Progress goes to stderr; the report to --out.
"""
from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from lakebench import report  # noqa: E402
from lakebench.costs import DEFAULT_PRICES, PricesError  # noqa: E402
from lakebench.routerconf import RouterError  # noqa: E402
from lakebench.runner import BudgetExceeded, Options, Runner  # noqa: E402

DEFAULT_WORKLOADS = "mixed,dashboard,analyst"


def lake_for(sf: float) -> Path:
    sys.path.insert(0, str(ROOT / "tests" / "integration"))
    import conftest
    return conftest.cache_dir() / "lake" / f"sf{sf:g}"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sf", type=float, default=1.0, help="TPC-H scale factor of the lake (default 1)")
    p.add_argument("--workloads", default=DEFAULT_WORKLOADS,
                   help=f"comma-separated workload names or TOML paths (default {DEFAULT_WORKLOADS})")
    p.add_argument("--concurrency", type=int, default=1,
                   help="workers of the replays; above 1 also replays all-Trino and all-DuckDB for real (default 1)")
    p.add_argument("--out", type=Path, help="results folder (default results/<today>-sf<SF>)")
    p.add_argument("--budget-min", type=float, default=28.0,
                   help="abort after the warm-up if the run is projected to take longer (default 28)")
    p.add_argument("--limit", type=int, help="only the first N statements of each workload (a quick run)")
    p.add_argument("--no-warmup", action="store_true", help="skip the unmeasured warm-up (and the projection)")
    p.add_argument("--replay-modes", action="store_true",
                   help="replay all-Trino and all-DuckDB for real even at concurrency 1")
    p.add_argument("--latency-target-ms", type=int, default=1000, help="the router's and the oracle's target (1000)")
    p.add_argument("--timeout-s", type=float, help="per-statement time limit (default 120 s, 900 s from SF 10)")
    p.add_argument("--prices", type=Path, default=DEFAULT_PRICES, help="engine prices (bench/prices.toml)")
    p.add_argument("--lake", type=Path, help="the demo lake (default ~/.cache/lakerouter/lake/sf<SF>)")
    p.add_argument("--bin", type=Path, help="the lakerouter binary (default $LAKEROUTER_BIN or build/src/lakerouter)")
    p.add_argument("--t0", type=float, help="epoch seconds the whole run started (scripts/bench.sh): counts toward the budget")
    p.add_argument("--report-only", type=Path, metavar="DIR", help="rewrite the report of a finished run")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    a = p.parse_args(argv)
    if a.report_only is None:
        if a.sf <= 0:
            p.error("--sf must be positive")
        if a.concurrency < 1:
            p.error("--concurrency must be at least 1")
        if a.limit is not None and a.limit < 1:
            p.error("--limit must be at least 1")
        if a.budget_min <= 0:
            p.error("--budget-min must be positive")
    return a


def main(argv: list[str] | None = None) -> int:
    a = parse_args(argv)
    if a.report_only:
        try:
            report.build_report(a.report_only)
        except FileNotFoundError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        print(a.report_only / "REPORT.md")
        return 0
    workloads = [w.strip() for w in a.workloads.split(",") if w.strip()]
    if not workloads:
        print("error: --workloads names no workload", file=sys.stderr)
        return 2
    lake = (a.lake or lake_for(a.sf)).expanduser().resolve()
    if not (lake / "_lakerouter_lake.json").is_file():
        print(f"error: no demo lake at {lake}: generate it with "
              f".venv/bin/python scripts/gen_demo_lake.py --sf {a.sf:g} --out {lake}", file=sys.stderr)
        return 2
    out = a.out or ROOT / "results" / f"{date.today().isoformat()}-sf{a.sf:g}"
    opts = Options(sf=a.sf, workloads=workloads, out=out.resolve(), lake=lake, concurrency=a.concurrency,
                   budget_min=a.budget_min, limit=a.limit, warmup=not a.no_warmup, replay_modes=a.replay_modes,
                   latency_target_ms=a.latency_target_ms,
                   timeout_s=a.timeout_s or (900.0 if a.sf >= 10 else 120.0), prices=a.prices,
                   binary=a.bin, t0=a.t0 or time.time(), quiet=a.quiet)
    try:
        Runner(opts).run()
    except BudgetExceeded as e:
        print(f"error: {e}", file=sys.stderr)
        return 3
    except (RouterError, PricesError, ValueError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    summary = report.build_report(opts.out)
    print(opts.out / "REPORT.md")
    for name, w in summary["workloads"].items():
        for t in w["targets"]:
            print(f"{name}: {t['text']}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
