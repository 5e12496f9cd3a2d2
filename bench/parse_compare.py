#!/usr/bin/env python3
"""Analysis + routing decision speed, side by side in one run: lakerouter (C++, DuckDB's parser,
then the routing policy of examples/routing-seeds-i.yaml) against SQLGlot only parsing the same
statements (Python, dialect duckdb).

    .venv/bin/python bench/parse_compare.py [--build build] [--samples 2000] [--config FILE] [--lake DIR]

The C++ side loads the catalog of a demo lake (default: the SF 0.01 test lake, if generated), so
the decision includes the catalog's pruned scan estimates for the TPC-H tables.

Statements: the 22 TPC-H queries (text from DuckDB's tpch extension), point lookups and DML.
Prints p50/p99 per side and the ratio; targets (shared/ARCHITECTURE.md): p50 <= 50 us,
p99 <= 200 us, >= 20x faster than SQLGlot. Exits non-zero if a statement fails to analyze.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

POINT_LOOKUPS_AND_DML = [
    "SELECT * FROM tpch.orders WHERE o_orderkey = 4711",
    "SELECT c_name, c_acctbal FROM tpch.customer WHERE c_custkey = ?",
    "SELECT * FROM app.users WHERE id = 42 LIMIT 1",
    "SELECT o_orderstatus FROM tpch.orders WHERE o_orderkey IN (1, 2, 3)",
    "INSERT INTO app.orders (id, user_id, amount) VALUES (1001, 42, 19.99)",
    "UPDATE app.users SET email = 'x@example.com' WHERE id = 42",
    "DELETE FROM app.sessions WHERE expires_at < TIMESTAMP '2026-01-01 00:00:00'",
    "INSERT INTO app.order_totals SELECT user_id, sum(amount) FROM app.orders GROUP BY user_id",
]


def tpch_queries() -> list[str]:
    import duckdb
    ext = os.environ.get("DUCKDB_EXTENSIONS") or str(
        Path(os.environ.get("LAKEROUTER_CACHE") or Path.home() / ".cache/lakerouter")
        / f"duckdb-{duckdb.__version__}" / "extensions")
    con = duckdb.connect(config={"extension_directory": ext, "autoinstall_known_extensions": False})
    con.execute("LOAD tpch")
    return [q for (q,) in con.execute("SELECT query FROM tpch_queries() ORDER BY query_nr").fetchall()]


def sqlglot_percentiles(statements: list[str], samples: int) -> dict:
    import sqlglot
    for s in statements:  # warm-up, and proof that SQLGlot parses every statement
        sqlglot.parse_one(s, dialect="duckdb")
    micros = []
    for _ in range(samples):
        for s in statements:
            t0 = time.perf_counter()
            sqlglot.parse_one(s, dialect="duckdb")
            micros.append((time.perf_counter() - t0) * 1e6)
    micros.sort()
    return {"p50_us": micros[len(micros) // 2], "p99_us": micros[int(len(micros) * 0.99)],
            "mean_us": statistics.fmean(micros), "samples": len(micros)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=str(ROOT / "build"))
    ap.add_argument("--samples", type=int, default=2000, help="timed runs of each statement (C++ side)")
    ap.add_argument("--config", default=str(ROOT / "examples" / "routing-seeds-i.yaml"),
                    help="configuration whose routing policy decides")
    default_lake = Path(os.environ.get("LAKEROUTER_TEST_LAKE") or
                        Path(os.environ.get("LAKEROUTER_CACHE") or Path.home() / ".cache/lakerouter") / "lake/sf0.01")
    ap.add_argument("--lake", default=str(default_lake) if default_lake.is_dir() else "",
                    help="demo lake whose catalog statistics feed the estimates (default: the SF 0.01 test lake)")
    ap.add_argument("--sqlglot-samples", type=int, default=30, help="timed runs of each statement (SQLGlot)")
    args = ap.parse_args()

    statements = tpch_queries() + POINT_LOOKUPS_AND_DML
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
        f.write("\n;;\n".join(statements))
        path = f.name
    binary = Path(args.build) / "bench" / "analysis_bench"
    if not binary.exists():
        print(f"{binary} not found: build first (scripts/test.sh or cmake --build build)", file=sys.stderr)
        return 2
    cmd = [str(binary), f"--statements={path}", f"--config={args.config}", f"--samples={args.samples}",
           "--benchmark_min_time=0.05s"]
    if args.lake:
        cmd.append(f"--lake={args.lake}")
    out = subprocess.run(cmd, capture_output=True, text=True)
    os.unlink(path)
    if out.returncode != 0:
        print(out.stdout, out.stderr, file=sys.stderr)
        return out.returncode
    ours = json.loads(out.stdout.strip().splitlines()[-1])
    theirs = sqlglot_percentiles(statements, args.sqlglot_samples)

    print(f"statements: {len(statements)} (22 TPC-H queries, {len(POINT_LOOKUPS_AND_DML)} point lookups and DML)")
    print(f"{'':28}{'p50 (us)':>12}{'p99 (us)':>12}")
    print(f"routing policy: {Path(args.config).name}; catalog: {ours['catalog_tables']} tables"
          f" ({args.lake or 'none'})")
    print(f"{'lakerouter analyze+route':28}{ours['p50_us']:>12.1f}{ours['p99_us']:>12.1f}")
    print(f"{'SQLGlot parse_one (Python)':28}{theirs['p50_us']:>12.1f}{theirs['p99_us']:>12.1f}")
    ratio = theirs["p50_us"] / ours["p50_us"]
    print(f"ratio (SQLGlot / lakerouter, p50): {ratio:.1f}x   target >= 20x")
    print(f"targets: p50 <= 50 us {'met' if ours['p50_us'] <= 50 else 'MISSED'}, "
          f"p99 <= 200 us {'met' if ours['p99_us'] <= 200 else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
