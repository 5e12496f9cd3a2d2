"""psql's catalog backslash commands through lakerouter's PostgreSQL front-end, beyond \\d and \\dt
(test_pgwire.py): \\dv, \\dn, \\l and name patterns. DuckDB answers them; lakerouter rewrites what
its pg_catalog lacks (src/sql/pg_compat.h, docs/pgwire.md "psql's backslash commands").
"""
from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from conftest import TEST_USERS, start_router, stop_router

PSQL = shutil.which("psql")
USER, PASSWORD = "tester", TEST_USERS["tester"][0]


@pytest.fixture(scope="module")
def router(lake_dir, tmp_path_factory):
    r = start_router(lake_dir, tmp_path_factory.mktemp("pgwire_catalog"))
    try:
        yield r
    finally:
        stop_router(r)


def psql_rows(r, command: str) -> list[list[str]]:
    """`command` run by psql (unaligned, tuples only), as rows of fields; psql must succeed."""
    assert PSQL, "psql not on PATH"
    env = dict(os.environ, PGPASSWORD=PASSWORD, PGSSLMODE="disable", PGCONNECT_TIMEOUT="10")
    p = subprocess.run([PSQL, "-h", "127.0.0.1", "-p", str(r.pg_port), "-U", USER, "-d", "lake", "-X", "-A", "-t",
                        "-v", "ON_ERROR_STOP=1", "-c", command], capture_output=True, text=True, env=env, timeout=120)
    assert p.returncode == 0, f"psql {command} failed ({p.returncode}):\n{p.stdout}\n{p.stderr}"
    assert "ERROR" not in p.stderr, p.stderr
    return [line.split("|") for line in p.stdout.splitlines() if line]


def test_list_schemas(router):
    schemas = {row[0]: row[1] for row in psql_rows(router, "\\dn")}
    for schema in ("tpch", "tpch_parquet", "tpch_iceberg", "tpch_events"):
        assert schemas.get(schema) == "lakerouter", schemas


def test_list_databases(router):
    rows = psql_rows(router, "\\l")
    assert rows, rows
    # Name | Owner | Encoding | Collate | Ctype | ICU Locale | Locale Provider | Access privileges
    assert all(row[1:5] == ["lakerouter", "UTF8", "C", "C"] and row[6] == "libc" for row in rows), rows


def test_list_views_leaves_out_lake_tables(router):
    # Lake tables are tables to clients, though DuckDB holds them as views.
    rows = psql_rows(router, "\\dv *.*")
    assert not any(row[0].startswith("tpch") for row in rows), rows


def test_table_patterns(router):
    rows = psql_rows(router, "\\dt tpch_parquet.*")
    assert sorted(row[1] for row in rows) == ["customer", "nation"], rows
    assert all(row[0] == "tpch_parquet" and row[2] == "table" for row in rows), rows
    rows = psql_rows(router, "\\dt tpch.n*")
    assert [row[:3] for row in rows] == [["tpch", "nation", "table"]], rows
