"""The workload benchmark (bench/workload_bench.py, bench/lakebench/): its cost model and result
comparison in isolation, and end to end at SF 0.01 through every mode to a report with charts.

The end-to-end runs need the test services (scripts/services.sh on the SF 0.01 lake) and the built
router. One runs the runner over a small stand-in workload defined here (every kind of statement
the real workloads have: lake aggregates, PostgreSQL lookups, a write and a read of the written rows,
DuckDB-only syntax, a governed table only Trino may read); the other runs the command line over the
first statements of the real workloads in bench/workloads/ when they exist.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import subprocess
import sys
import types
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

from lakebench import compare, costs  # noqa: E402
from lakebench.compare import Difference, compare_rows, values_match  # noqa: E402

SERVICES = bool(os.environ.get("LAKEROUTER_PG_DSN") and os.environ.get("LAKEROUTER_TRINO_URL"))
needs_services = pytest.mark.skipif(not SERVICES, reason="start the test servers: eval \"$(scripts/services.sh start)\"")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


# --- costs ---------------------------------------------------------------------------------------------

def test_default_prices_are_the_documented_ones():
    p = costs.load_prices()
    assert {e: p.engine(e).usd_per_hour for e in p.engines} == {
        "duckdb": 0.10, "postgres": 0.17, "trino": 2.00, "databricks": 8.40}  # docs/routing.md
    assert p.engine("trino").model == "cluster" and p.engine("trino").minimum_s == 60
    assert all(e.source for e in p.engines.values())
    assert p.router_pricing("trino") == {"cost_per_hour": 2.0, "min_billed_seconds": 0.0}
    assert p.statement_cost("trino", 1.8) == pytest.approx(2.0 * 1.8 / 3600)
    assert p.same_hardware_cost(3600) == pytest.approx(0.10)


def test_statement_minimum_applies_per_statement():
    e = costs.EnginePrice("w", usd_per_hour=3.6, model="warehouse", statement_minimum_s=10)
    assert e.statement_cost(2.0) == pytest.approx(10 * 0.001)
    assert e.statement_cost(30.0) == pytest.approx(30 * 0.001)


def test_busy_periods_merge_within_the_idle_tail():
    runs = [(0, 10), (5, 12), (100, 101), (400, 401), (102, 103)]
    # 12 -> 100 is 88 s idle, under the 300 s tail: one period; 103 -> 400 is 297 s: still one.
    assert costs.busy_periods(runs, 300) == [(0, 401)]
    assert costs.busy_periods(runs, 60) == [(0, 12), (100, 103), (400, 401)]
    assert costs.busy_periods([], 60) == []
    with pytest.raises(ValueError, match="ends before it starts"):
        costs.busy_periods([(5, 1)], 0)


def test_billed_periods_pay_tail_minimum_and_increment():
    trino = costs.EnginePrice("trino", usd_per_hour=3.6, model="cluster", increment_s=1, minimum_s=60, idle_tail_s=300)
    assert trino.period_billed_s(0.2) == 301      # 0.2 s + 300 s tail, rounded up to the second
    short = costs.EnginePrice("t", usd_per_hour=3.6, model="cluster", increment_s=10, minimum_s=60, idle_tail_s=5)
    assert short.period_billed_s(1) == 60         # the minimum
    assert short.period_billed_s(61) == 70        # 66 s rounded up to the 10 s increment
    b = costs.billed_cost(trino, [(0, 1), (2, 3), (1000, 1001)], wall_s=1001)
    assert b.periods == 2 and b.billed_s == 303 + 301 and b.usd == pytest.approx(604 * 0.001)
    assert costs.billed_cost(trino, [], wall_s=10).usd == 0


def test_hosts_are_billed_for_the_wall_time_when_used():
    p = costs.load_prices()
    bills = costs.mode_billed_cost(p, [("duckdb", 0, 1), ("trino", 1, 2), ("duckdb", 99, 100)])
    assert bills["duckdb"].billed_s == 100 and bills["duckdb"].model == "host"
    assert bills["trino"].billed_s == 301         # 1 s busy + the 300 s tail (above the 60 s minimum)
    assert "postgres" not in bills


def test_bad_prices_files_say_what_is_wrong(tmp_path):
    f = tmp_path / "p.toml"
    f.write_text('format = 1\n[engine.x]\nusd_per_hour = 1\nmodel = "cloud"\n')
    with pytest.raises(costs.PricesError, match="'model' must be one of host, cluster, warehouse"):
        costs.load_prices(f)
    f.write_text('format = 1\n[engine.x]\nusd_per_hour = -1\nmodel = "host"\n')
    with pytest.raises(costs.PricesError, match="'usd_per_hour' must be a number >= 0"):
        costs.load_prices(f)
    f.write_text('format = 1\n[engine.x]\nusd_per_hour = 1\nmodel = "host"\nidle_tail = 3\n')
    with pytest.raises(costs.PricesError, match=r"unknown keys \['idle_tail'\]"):
        costs.load_prices(f)
    with pytest.raises(costs.PricesError, match=r"no \[engine.presto\] price"):
        costs.load_prices(ROOT / "bench" / "prices.toml").engine("presto")


# --- compare -------------------------------------------------------------------------------------------

def test_decimals_match_within_half_a_unit_of_the_coarser_scale():
    assert values_match("141826.46", 141826.45533466668)       # Trino avg(decimal) keeps the scale
    assert not values_match("141826.47", 141826.45533466668)
    assert values_match("0.50", "0.5") and values_match("12", 12) and values_match(Decimal("2.10"), "2.1")
    assert values_match("25.6", "25.58")                       # one digit against two: half of 0.1
    assert not values_match("25.7", "25.58")
    assert values_match("1180591620717411303424", 1180591620717411303424)  # HUGEINT as digits
    assert not values_match(5, "5.4")


def test_floats_nan_and_nulls():
    assert values_match(0.1 + 0.2, 0.3)
    assert not values_match(1.0, 1.0 + 1e-6)
    assert values_match(1.0, 1.0 + 1e-6, rel_tol=1e-5)
    assert values_match("NaN", float("nan")) and values_match("-Infinity", float("-inf"))
    assert not values_match("Infinity", 1e308)
    assert values_match(None, None)
    assert not values_match(None, 0) and not values_match("", None)
    assert values_match(True, True) and not values_match(True, 1)


def test_dates_timestamps_and_text():
    assert values_match("1995-03-15", dt.date(1995, 3, 15))
    assert values_match("2024-01-02T11:00:00Z", "2024-01-02T11:00:00.000Z")
    assert values_match("2024-01-02T11:00:00.123Z", "2024-01-02T11:00:00.123456Z")   # ms against µs
    assert not values_match("2024-01-02T11:00:00Z", "2024-01-02T11:00:00.123Z")
    assert values_match("2024-01-02T13:00:00+02:00", "2024-01-02T11:00:00Z")
    assert values_match("2024-01-02 11:00:00 UTC", dt.datetime(2024, 1, 2, 11, tzinfo=dt.timezone.utc))
    assert values_match("1992-03-01T00:00:00", "1992-03-01")       # DuckDB's date_trunc is a TIMESTAMP
    assert not values_match("1992-03-01T00:00:01", "1992-03-01")
    assert not values_match("1992-03-01T00:00:00Z", "1992-03-01")
    assert values_match("US", "US  ")                                                # char(n) padding
    assert not values_match("US", "us")


def test_rows_ordered_and_unordered():
    ref = [[1, "a", "1.50"], [2, None, "2.00"], [3, "c", None]]
    shuffled = [[3, "c", None], [1, "a", 1.5], [2, None, "2.0"]]
    assert compare_rows(ref, shuffled, ordered=False) is None
    d = compare_rows(ref, shuffled, ordered=True)
    assert isinstance(d, Difference) and d.row == 0 and d.column == 0
    d = compare_rows(ref, ref[:2], ordered=False)
    assert d.row is None and "2 rows, reference has 3" in d.message
    d = compare_rows([[1, 2]], [[1]], ordered=True)
    assert "1 columns, reference has 2" in d.message
    d = compare_rows([[1, "2.00"]], [[1, "2.01"]], ordered=True)
    assert (d.row, d.column, d.reference, d.got) == (0, 1, "2.00", "2.01")
    assert compare_rows([], [], ordered=True) is None


def test_known_differences_need_a_reason(tmp_path):
    f = tmp_path / "known_differences.toml"
    f.write_text('[[difference]]\ntemplate = "mixed.pg_*"\nengines = ["trino"]\ncolumn = "created_at"\n'
                 'reason = "Trino reads timestamptz with millisecond precision"\n')
    known = compare.load_known_differences(f)
    diff = Difference(0, 1, "a", "b", "")
    assert compare.find_known(known, "mixed.pg_orders", ["trino", "postgres"], diff, ["id", "created_at"])
    assert not compare.find_known(known, "mixed.pg_orders", ["duckdb"], diff, ["id", "created_at"])
    assert not compare.find_known(known, "mixed.pg_orders", ["trino"], Difference(0, 0, 1, 2, ""), ["id", "x"])
    assert compare.load_known_differences(tmp_path / "absent.toml") == []
    f.write_text('[[difference]]\ntemplate = "x"\n')
    with pytest.raises(ValueError, match="needs 'template' and 'reason'"):
        compare.load_known_differences(f)


# --- runner and report pieces -------------------------------------------------------------------------

def test_oracle_takes_the_cheapest_within_target_else_the_fastest():
    from lakebench.runner import Runner
    r = lambda e, ms, usd, ok=True: {"engine": e, "client_ms": ms, "cost_usd": usd, "ok": ok}  # noqa: E731
    assert Runner.oracle_choice([r("trino", 300, 2e-4), r("duckdb", 40, 1e-6)], 1000)["engine"] == "duckdb"
    assert Runner.oracle_choice([r("trino", 900, 2e-4), r("duckdb", 1500, 1e-6)], 1000)["engine"] == "trino"
    assert Runner.oracle_choice([r("trino", 3000, 2e-4), r("duckdb", 1500, 1e-6)], 1000)["engine"] == "duckdb"
    assert Runner.oracle_choice([r("duckdb", 10, 1e-6, ok=False), r("trino", 300, 2e-4)], 1000)["engine"] == "trino"
    assert Runner.oracle_choice([], 1000) is None


def test_target_lines_state_value_target_and_margin():
    from lakebench.report import target_line
    assert target_line("cost", 0.04, 0.5, "")["text"] == "cost 0.04×, target ≤ 0.5×, met (margin 0.46×)"
    t = target_line("p95 latency", 1.5, 1.2, "")
    assert t["met"] is False and t["text"].startswith("p95 latency 1.50×, target ≤ 1.2×, missed by 0.30×")
    assert target_line("regret", None, 1.1, "")["text"] == "regret: not measured"


# --- end to end ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class StubStatement:
    workload: str
    idx: int
    template: str
    category: str
    sql: str
    kind: str
    ordered: bool
    expect: tuple
    reads_written: bool


@dataclass(frozen=True)
class StubWorkload:
    name: str
    version: int
    seed: int
    statements: int
    path: Path
    templates: tuple


STUB_WRITE_IDS = 10_000_000  # the workloads' write ids start here (bench/workloads/README)
STUB_TEMPLATES = [  # id, category, kind, ordered, expect, reads_written, sql
    ("stub.orders_by_priority", "dashboard", "read", True, ("duckdb", "trino"), False,
     "SELECT o_orderpriority, count(*) AS n, sum(o_totalprice) AS revenue, avg(o_totalprice) AS mean "
     "FROM tpch.orders WHERE o_orderdate >= DATE '{year}-01-01' GROUP BY 1 ORDER BY 1"),
    ("stub.pg_user", "lookup", "read", False, ("postgres", "trino"), False,
     "SELECT id, email, country, created_at, is_active FROM public.users WHERE id = {key}"),
    ("stub.write", "write", "write", False, ("postgres",), False,
     "INSERT INTO public.orders (id, user_id, status, amount, created_at) "
     "VALUES ({wid}, 7, 'pending', 12.50, TIMESTAMPTZ '2026-01-01 10:00:00+00')"),
    ("stub.read_written", "lookup", "read", False, ("postgres", "trino"), True,
     "SELECT count(*) AS n, sum(amount) AS amount FROM public.orders WHERE id >= 10000000"),
    ("stub.qualify", "duckdb-only", "read", True, ("duckdb",), False,
     "SELECT o_orderkey, o_totalprice FROM tpch.orders WHERE o_custkey = {key} "
     "QUALIFY row_number() OVER (ORDER BY o_totalprice DESC, o_orderkey) <= 3 ORDER BY o_totalprice DESC, o_orderkey"),
    ("stub.crm_segments", "governed", "read", False, ("trino",), False,
     "SELECT segment, count(*) AS n, sum(balance) AS balance FROM crm.customers GROUP BY 1"),
    ("stub.join", "adhoc", "read", True, ("duckdb", "trino"), False,
     "SELECT n_name, count(*) AS customers FROM tpch.customer JOIN tpch.nation ON c_nationkey = n_nationkey "
     "WHERE n_regionkey = {region} GROUP BY n_name ORDER BY n_name"),
]


def stub_workload_module(workloads_dir: Path) -> types.ModuleType:
    """The interface of bench/lakebench/workload.py, over STUB_TEMPLATES."""
    m = types.ModuleType("stub_workload")
    m.WORKLOADS_DIR = workloads_dir

    def load_workload(name):
        return StubWorkload(str(name), 1, 7, 2 * len(STUB_TEMPLATES), workloads_dir / f"{name}.toml",
                            tuple(t[0] for t in STUB_TEMPLATES))

    def render(w, sf):
        out = []
        for i in range(w.statements):
            tid, cat, kind, ordered, expect, rw, sql = STUB_TEMPLATES[i % len(STUB_TEMPLATES)]
            sql = sql.format(year=1993 + i % 5, key=1 + 7 * i, wid=STUB_WRITE_IDS + i, region=i % 5)
            out.append(StubStatement(w.name, i, tid, cat, sql, kind, ordered, expect, rw))
        return out

    m.load_workload, m.render = load_workload, render
    m.digest = lambda stmts: hashlib.sha256(json.dumps([asdict(s) for s in stmts]).encode()).hexdigest()
    m.cleanup_sql = lambda ws: [f"DELETE FROM public.orders WHERE id >= {STUB_WRITE_IDS}"]
    return m


def check_png(path: Path) -> None:
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC, f"{path.name} is not a PNG"
    assert len(data) > 10_000, f"{path.name} is only {len(data)} bytes"
    import matplotlib.image
    img = matplotlib.image.imread(path)
    assert img.shape[0] > 300 and img.shape[1] > 500, (path.name, img.shape)


def check_report(out: Path, workloads: list[str]) -> dict:
    text = (out / "REPORT.md").read_text()
    for section in ("## Headline", "## How cost is counted", "## Worst misroutes", "## Correctness",
                    "## Estimate error", "## Run facts"):
        assert section in text, section
    assert "target ≤ 0.5×" in text and "target ≤ 1.2×" in text and "target ≤ 1.1×" in text
    pngs = ["cost_by_mode.png", "misroutes_by_template.png", "estimate_error.png", "engine_mix.png"]
    pngs += [f"latency_cdf_{w}.png" for w in workloads]
    for name in pngs:
        check_png(out / name)
        assert f"]({name})" in text
    summary = json.loads((out / "summary.json").read_text())
    assert list(summary["workloads"]) == sorted(workloads, key=lambda n: n != "mixed")
    return summary


@needs_services
def test_end_to_end_over_a_stub_workload(lake_dir, tmp_path):
    from lakebench.report import build_report
    from lakebench.runner import Options, Runner, read_jsonl_gz
    out = tmp_path / "out"
    opts = Options(sf=0.01, workloads=["mixed", "dashboard"], out=out, lake=lake_dir, budget_min=10, quiet=True)
    facts = Runner(opts, workload_module=stub_workload_module(tmp_path / "workloads")).run()
    assert facts["audit"]["available"] and facts["audit"]["missing"] == 0, facts["audit"]
    assert facts["audit"]["engine_mismatch"] == 0, facts["audit"]

    records = read_jsonl_gz(out / "records.jsonl.gz")
    n = 2 * len(STUB_TEMPLATES)
    for mode in ("all-trino", "all-duckdb", "routed", "oracle", "routed-static"):
        for w in ("mixed", "dashboard"):
            got = [r for r in records if r["mode"] == mode and r["workload"] == w]
            assert len(got) == n, (mode, w, len(got))
    assert all(r["ok"] for r in records), [r for r in records if not r["ok"]][:3]
    routed = {r["template"]: r["engine"] for r in records if r["mode"] == "routed"}
    assert routed["stub.crm_segments"] == "trino"       # governed: only Trino
    assert routed["stub.qualify"] == "duckdb"           # DuckDB-only syntax
    assert routed["stub.write"] == "postgres"           # the owner
    all_trino = [r for r in records if r["mode"] == "all-trino"]
    assert {r["engine"] for r in all_trino if r["template"] == "stub.qualify"} == {"duckdb"}  # pin dropped
    sweep = [r for r in records if r["mode"] == "sweep"]
    assert len([r for r in sweep if r["template"] == "stub.write"]) == 4  # once per write, on its owner
    assert all(r["pin_honoured"] for r in sweep)

    comparisons = read_jsonl_gz(out / "comparisons.jsonl.gz")
    bad = [c for c in comparisons if c["status"] != "matched"]
    assert not bad, bad[:5]
    assert {c["mode"] for c in comparisons} == {"sweep", "routed"}
    assert not [c for c in comparisons if c["mode"] == "routed" and c["template"] == "stub.read_written"]

    summary = build_report(out)
    check_report(out, ["mixed", "dashboard"])
    mixed = summary["workloads"]["mixed"]
    assert mixed["cost_ratio"] is not None and mixed["p95_ratio"] is not None
    assert mixed["correctness"]["unexplained"] == 0 and mixed["correctness"]["compared"] > 0
    assert 0 <= mixed["share_oracle_engine"] <= 1


def real_workloads() -> list[str]:
    try:
        from lakebench import workload
    except ImportError:
        return []
    names = [w for w in ("mixed", "dashboard", "analyst") if (Path(workload.WORKLOADS_DIR) / f"{w}.toml").is_file()]
    return names


@needs_services
@pytest.mark.skipif(not real_workloads(), reason="bench/workloads/ and bench/lakebench/workload.py not there yet")
def test_command_line_over_the_real_workloads(lake_dir, tmp_path):
    names = real_workloads()
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "workload_bench.py"), "--sf", "0.01", "--lake", str(lake_dir),
         "--workloads", ",".join(names), "--limit", "8", "--out", str(out), "--budget-min", "5"],
        capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert proc.stdout.strip().endswith("REPORT.md")
    assert "projected finish" in proc.stderr and "sweep" in proc.stderr
    summary = check_report(out, names)
    for name in names:
        c = summary["workloads"][name]["correctness"]
        assert c["unexplained"] == 0 and c["failed"] == 0, c["examples"]
    from lakebench.runner import read_jsonl_gz
    modes = {r["mode"] for r in read_jsonl_gz(out / "records.jsonl.gz")}
    assert {"sweep", "all-trino", "all-duckdb", "routed", "oracle", "routed-static"} <= modes
