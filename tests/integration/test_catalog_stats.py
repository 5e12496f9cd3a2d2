"""Catalog statistics over HTTP: GET /v1/tables shows what each table's metadata says (partitions,
column bounds, format features), scan estimates prune with the statement's predicates, EXPLAIN
ROUTE answers with the decision as rows, and a new Delta commit is picked up by a refresh."""
from __future__ import annotations

import shutil

import pytest

from conftest import duckdb_connect, start_router, stop_router


def tables_by_name(router):
    r = router.get("/v1/tables")
    assert r.status_code == 200, r.text
    return {t["name"]: t for t in r.json()["tables"]}


def test_tables_show_partitions_bounds_and_formats(router, lake_dir):
    tables = tables_by_name(router)
    events = tables["tpch_events.orders_by_year"]
    assert events["format"] == "delta" and events["format_version"] == "reader 1, writer 2"
    assert [p["name"] for p in events["partition_columns"]] == ["o_year"]
    assert len(events["partitions"]) == 7
    assert sum(p["rows"] for p in events["partitions"]) == events["rows"]
    assert sum(p["bytes"] for p in events["partitions"]) == events["bytes"]
    orderdate = next(c for c in events["columns"] if c["name"] == "o_orderdate")
    # The bounds agree with the data itself.
    con = duckdb_connect("delta")
    lo, hi = con.execute(
        f"SELECT min(o_orderdate)::VARCHAR, max(o_orderdate)::VARCHAR FROM delta_scan('{lake_dir}/tpch_events/orders_by_year')"
    ).fetchone()
    assert (orderdate["min"], orderdate["max"]) == (lo, hi)

    iceberg = tables["tpch_iceberg.orders"]
    assert iceberg["format_version"] == "2" and iceberg["notes"] == []
    key = next(c for c in iceberg["columns"] if c["name"] == "o_orderkey")
    assert int(key["min"]) >= 1 and key["null_count"] == 0

    parquet = tables["tpch_parquet.customer"]
    assert parquet["rows"] == con.execute(
        f"SELECT count(*) FROM read_parquet('{lake_dir}/tpch_parquet/customer/*.parquet')").fetchone()[0]


@pytest.mark.parametrize("where, files", [
    ("o_year = 1995", 1),
    ("o_year IN (1992, 1998)", 2),
    ("o_year BETWEEN 1993 AND 1995", 3),
    ("o_year > 2000", 0),
    ("o_orderdate < DATE '1993-01-01'", 1),  # min/max of each year's file
    ("o_comment LIKE '%x%'", 7),             # no prefix: nothing to prune with
])
def test_scan_estimates_prune_partitions_and_files(router, where, files):
    r = router.post("/v1/route", json={"sql": f"SELECT count(*) FROM tpch_events.orders_by_year WHERE {where}"})
    assert r.status_code == 200, r.text
    scan = r.json()["decision"]["scan"]
    (table,) = scan["tables"]
    assert (table["files"], table["files_total"]) == (files, 7), table
    assert scan["bytes"] == table["bytes"]


def test_explain_route_returns_the_decision_as_rows(router):
    r = router.query("EXPLAIN ROUTE SELECT count(*) FROM tpch_events.orders_by_year WHERE o_year = 1995")
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["engine"] == "lakerouter"
    assert [c["name"] for c in doc["columns"]] == ["item", "engine", "code", "detail", "est_latency_ms", "est_cost_usd"]
    items = [row[0] for row in doc["rows"]]
    assert items[0] == "decision" and doc["rows"][0][1] == "duckdb"
    assert "candidate" in items and "reason" in items
    scans = [row[3] for row in doc["rows"] if row[0] == "scan"]
    assert any("1 of 7 files after pruning on o_year" in s for s in scans), scans

    # Routing does not need the catalog to know a table (engines resolve names); it says so.
    unknown = router.query("EXPLAIN ROUTE SELECT * FROM tpch.nope")
    assert unknown.status_code == 200, unknown.text
    assert ["scan", None, "TABLE", "tpch.nope: size unknown", None, None] in unknown.json()["rows"]

    bad = router.query("EXPLAIN ROUTE SELEC 1")
    assert bad.status_code == 400, bad.text
    assert bad.json()["error"]["code"] == "SYNTAX_ERROR" and bad.json()["error"]["position"] == 14


def test_a_new_delta_commit_is_picked_up_by_refresh(lake_dir, tmp_path):
    # A private copy of one table, so the shared test lake stays as it is.
    lake = tmp_path / "lake"
    shutil.copytree(lake_dir / "tpch_events" / "orders_by_year", lake / "shop" / "orders")
    r = start_router(lake, tmp_path / "work")
    try:
        before = tables_by_name(r)["shop.orders"]
        con = duckdb_connect("delta")
        # Append one year's rows as a new commit with the deltalake writer the lake generator uses.
        from deltalake import write_deltalake
        data = con.execute(
            f"SELECT * FROM delta_scan('{lake}/shop/orders') WHERE o_year = 1992").to_arrow_table()
        write_deltalake(str(lake / "shop" / "orders"), data, mode="append")
        refresh = r.post("/v1/catalog/refresh")
        assert refresh.status_code == 200, refresh.text
        assert refresh.json() == {"tables": 1, "changed": 1, "errors": []}
        after = tables_by_name(r)["shop.orders"]
        assert int(after["snapshot"]) == int(before["snapshot"]) + 1
        assert after["rows"] == before["rows"] + data.num_rows
        assert after["files"] == before["files"] + 1
        # Queries see the new snapshot, and so do their estimates.
        q = r.query("SELECT count(*) FROM shop.orders")
        assert q.json()["rows"] == [[after["rows"]]]
        assert q.json()["routing"]["scan"]["rows"] == after["rows"]
        again = r.post("/v1/catalog/refresh").json()
        assert again["changed"] == 0
    finally:
        stop_router(r)
