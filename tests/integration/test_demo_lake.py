"""Integration tests for scripts/gen_demo_lake.py (the demo-lake generator).

The tests generate one SF 0.01 lake per session, then read every table back
with DuckDB's delta, iceberg and parquet readers. They compare the rows,
counts and types with a fresh in-memory ``dbgen``, and check that the
generator is idempotent.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

duckdb = pytest.importorskip("duckdb")

from conftest import duckdb_connect, extension_dir  # noqa: E402  (after the importorskip)

ROOT = Path(__file__).resolve().parents[2]
GEN = ROOT / "scripts" / "gen_demo_lake.py"
SF = 0.01
MARKER = "_lakerouter_lake.json"

TPCH_TABLES = ["lineitem", "orders", "customer", "part", "partsupp", "supplier", "nation", "region"]
# TPC-H cardinalities at SF 0.01 (nation/region are fixed-size).
SF001_ROWS = {"lineitem": 60175, "orders": 15000, "customer": 1500, "part": 2000,
              "partsupp": 8000, "supplier": 100, "nation": 25, "region": 5}
EXPECTED_TABLES = {
    **{f"tpch.{t}": ("delta", f"tpch/{t}", t) for t in TPCH_TABLES},
    "tpch_events.orders_by_year": ("delta", "tpch_events/orders_by_year", "orders"),
    "tpch_parquet.customer": ("parquet", "tpch_parquet/customer", "customer"),
    "tpch_parquet.nation": ("parquet", "tpch_parquet/nation", "nation"),
    "tpch_iceberg.orders": ("iceberg", "tpch_iceberg/orders", "orders"),
    "tpch_iceberg.nation": ("iceberg", "tpch_iceberg/nation", "nation"),
    "crm.customers": ("delta", "crm/customers", "crm_customers"),
}
# crm.customers (the governance demos' table): customers with nation and region names and an e-mail.
CRM_CUSTOMERS = """
SELECT c_custkey AS customer_id, c_name AS name,
       'c' || substr(c_name, 10) || '@' || replace(lower(n_name), ' ', '-') || '.example.com' AS email,
       c_phone AS phone, n_name AS nation, r_name AS region, c_mktsegment AS segment, c_acctbal AS balance,
       DATE '2020-01-01' + CAST(c_custkey * 37 % 1461 AS INTEGER) AS signup_date
FROM customer JOIN nation ON n_nationkey = c_nationkey JOIN region ON r_regionkey = n_regionkey
"""


def run_gen(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(GEN), *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=300)


def scan_sql(lake: Path, fmt: str, rel: str) -> str:
    path = lake / rel
    if fmt == "delta":
        return f"delta_scan('{path}')"
    if fmt == "parquet":
        return f"read_parquet('{path}/*.parquet')"
    if fmt == "iceberg":
        return f"iceberg_scan('{path}')"  # folder form: relies on metadata/version-hint.text
    raise AssertionError(fmt)


@pytest.fixture(scope="session")
def lake(tmp_path_factory) -> Path:
    if not os.path.isdir(extension_dir()):
        pytest.skip(f"DuckDB extension directory {extension_dir()} missing; run scripts/bootstrap.sh")
    out = tmp_path_factory.mktemp("demo_lake") / "lake"
    proc = run_gen("--sf", str(SF), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    return out


@pytest.fixture(scope="session")
def marker(lake) -> dict:
    return json.loads((lake / MARKER).read_text())


@pytest.fixture(scope="session")
def con():
    c = duckdb_connect("tpch", "delta", "iceberg")
    c.execute(f"CALL dbgen(sf={SF})")  # reference data, in memory
    yield c
    c.close()


def test_marker_lists_all_tables(lake, marker):
    assert marker["generator"] == 2
    assert marker["sf"] == SF
    assert set(marker["tables"]) == set(EXPECTED_TABLES)
    for name, (fmt, rel, _) in EXPECTED_TABLES.items():
        entry = marker["tables"][name]
        assert entry["format"] == fmt, name
        assert entry["path"] == rel, name
        assert (lake / rel).is_dir(), name
    # nothing left behind next to the lake
    assert [p.name for p in lake.parent.iterdir()] == ["lake"]


@pytest.mark.parametrize("name", sorted(EXPECTED_TABLES))
def test_table_reads_back_identical_to_dbgen(lake, marker, con, name):
    fmt, rel, source = EXPECTED_TABLES[name]
    scan = scan_sql(lake, fmt, rel)
    ref = f"SELECT *, CAST(year(o_orderdate) AS INTEGER) AS o_year FROM {source}" \
        if name == "tpch_events.orders_by_year" else CRM_CUSTOMERS if name == "crm.customers" \
        else f"SELECT * FROM {source}"

    rows = con.execute(f"SELECT count(*) FROM {scan}").fetchone()[0]
    assert rows == marker["tables"][name]["rows"]
    assert rows == con.execute(f"SELECT count(*) FROM ({ref})").fetchone()[0] == \
        SF001_ROWS["customer" if name == "crm.customers" else source]

    # same column names and types as dbgen (DECIMAL(15,2), DATE, INTEGER/BIGINT, VARCHAR)
    got_types = [(r[0], r[1]) for r in con.execute(f"DESCRIBE SELECT * FROM {scan}").fetchall()]
    want_types = [(r[0], r[1]) for r in con.execute(f"DESCRIBE {ref}").fetchall()]
    assert got_types == want_types

    # same multiset of rows
    diff = con.execute(
        f"SELECT (SELECT count(*) FROM (SELECT * FROM {scan} EXCEPT ALL {ref})),"
        f"       (SELECT count(*) FROM ({ref} EXCEPT ALL SELECT * FROM {scan}))").fetchone()
    assert diff == (0, 0)


def test_delta_add_actions_have_stats(lake, marker):
    for name, entry in marker["tables"].items():
        if entry["format"] != "delta":
            continue
        adds = []
        for log in sorted((lake / entry["path"] / "_delta_log").glob("*.json")):
            for line in log.read_text().splitlines():
                action = json.loads(line)
                if "add" in action:
                    adds.append(action["add"])
        assert adds, name
        total = 0
        for add in adds:
            stats = json.loads(add["stats"])
            assert {"numRecords", "minValues", "maxValues"} <= stats.keys(), name
            assert stats["minValues"] and stats["maxValues"], name
            total += stats["numRecords"]
        assert total == entry["rows"], name


def test_partitioned_delta_table(lake, con):
    path = lake / "tpch_events" / "orders_by_year"
    cols = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM delta_scan('{path}')").fetchall()]
    assert "o_year" in cols
    years = con.execute(
        f"SELECT o_year, count(*) FILTER (WHERE o_year <> year(o_orderdate)) "
        f"FROM delta_scan('{path}') GROUP BY o_year ORDER BY o_year").fetchall()
    assert [y for y, _ in years] == list(range(1992, 1999))
    assert all(bad == 0 for _, bad in years)
    # partition filters work and the folders are Hive-style
    assert con.execute(f"SELECT count(*) FROM delta_scan('{path}') WHERE o_year = 1995").fetchone()[0] > 0
    assert sorted(p.name for p in path.glob("o_year=*")) == [f"o_year={y}" for y in range(1992, 1999)]
    actions = [json.loads(line) for line in
               (path / "_delta_log" / "00000000000000000000.json").read_text().splitlines()]
    metadata = next(a["metaData"] for a in actions if "metaData" in a)
    assert metadata["partitionColumns"] == ["o_year"]
    assert all(a["add"]["partitionValues"].keys() == {"o_year"} for a in actions if "add" in a)


def test_iceberg_both_scan_forms(lake, marker, con):
    for name in ("tpch_iceberg.orders", "tpch_iceberg.nation"):
        entry = marker["tables"][name]
        table = lake / entry["path"]
        hint = (table / "metadata" / "version-hint.text").read_text()
        assert hint == hint.strip() and (table / "metadata" / f"{hint}.metadata.json").is_file()
        assert (lake / entry["metadata"]).is_file()
        assert (table / "data").is_dir()
        by_folder = con.execute(f"SELECT count(*) FROM iceberg_scan('{table}')").fetchone()[0]
        by_file = con.execute(f"SELECT count(*) FROM iceberg_scan('{lake / entry['metadata']}')").fetchone()[0]
        assert by_folder == by_file == entry["rows"]


def test_parquet_folder_files(lake):
    for t in ("customer", "nation"):
        assert [p.name for p in sorted((lake / "tpch_parquet" / t).iterdir())] == ["part-00000.parquet"]


def test_second_run_is_noop(lake):
    before = (lake / MARKER).read_bytes()
    mtime = (lake / MARKER).stat().st_mtime_ns
    t0 = time.monotonic()
    proc = run_gen("--sf", str(SF), "--out", str(lake))
    elapsed = time.monotonic() - t0
    assert proc.returncode == 0, proc.stderr
    assert "up to date" in proc.stderr
    assert elapsed < 5, elapsed
    assert (lake / MARKER).read_bytes() == before
    assert (lake / MARKER).stat().st_mtime_ns == mtime


def test_missing_extension_dir_is_a_clear_error(tmp_path):
    out = tmp_path / "lake"
    proc = run_gen("--sf", str(SF), "--out", str(out), env={"DUCKDB_EXTENSIONS": str(tmp_path / "nope")})
    assert proc.returncode == 1
    assert "bootstrap.sh" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == []


def test_refuses_to_replace_a_non_lake_directory(tmp_path):
    out = tmp_path / "precious"
    out.mkdir()
    (out / "keep.txt").write_text("x")
    proc = run_gen("--sf", str(SF), "--out", str(out))
    assert proc.returncode == 1
    assert "refusing" in proc.stderr
    assert (out / "keep.txt").read_text() == "x"
