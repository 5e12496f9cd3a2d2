"""The benchmark's workloads (bench/workloads/, bench/lakebench/workload.py).

Without servers: each workload loads with its documented proportions, renders the same statements
every time (the SHA-256 at SF 0.01 is pinned here, so a change must come with a new version and a new
pin), is lint-clean at SF 0.01, 1 and 10, and every TPC-H template rendered with the spec's
validation parameters gives the answers of DuckDB's own tpch_queries() text.

With the test servers (scripts/services.sh; skipped without them), through a real lakerouter
configured as the benchmark configures it: the engines /v1/route finds capable are each
statement's `expect`, and one statement of every template runs on each engine of its `expect`
(pinned with the X-Lakerouter-Engine header) with the same rows everywhere. Writes run on
PostgreSQL and are cleaned up.
"""
from __future__ import annotations

import hashlib
import os
import re
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from conftest import duckdb_connect, start_router, stop_router

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from lakebench import workload as wl  # noqa: E402  (bench/ is not a package path)
from lakebench.compare import compare_rows  # noqa: E402
from lakebench.routerconf import ROUTING  # noqa: E402

PG_DSN = os.environ.get("LAKEROUTER_PG_DSN")
TRINO_URL = os.environ.get("LAKEROUTER_TRINO_URL")
needs_services = pytest.mark.skipif(not (PG_DSN and TRINO_URL),
                                    reason="start the test servers: eval \"$(scripts/services.sh start)\"")

SF = 0.01
NAMES = ("dashboard", "analyst", "mixed")
# SHA-256 of each workload rendered at SF 0.01. A change to a workload file (or to rendering) changes
# it: bump the file's version, then pin the new digest (workload.py render --workload NAME --sf 0.01).
PINNED_DIGESTS = {
    "dashboard": "f54a77fb879919c8d53bc71c7a2d29b2f2d0604522ce6a97a6d70b034be37479",  # version 1
    "analyst": "90c162865a29ba6a019b357ffcb4ed27171e8090ac2f5011a1d69cbeefb78e00",    # version 1
    "mixed": "91c4f9e72e8b29d1e6fb0f852f0c2735610512f5f744fbfd82de99d11cd01979",      # version 1
}
# The proportions bench/workloads/README.md documents.
CATEGORY_COUNTS = {
    "dashboard": {"lake": 156, "postgres": 60, "lookup": 24},
    "analyst": {"tpch": 66, "adhoc": 144},
    "mixed": {"dashboard": 135, "lookup": 45, "tpch": 24, "adhoc": 30, "write": 15, "duckdb-only": 21,
              "federated": 15, "governed": 15},
}


@pytest.fixture(scope="module")
def workloads() -> dict[str, wl.Workload]:
    return {n: wl.load_workload(n) for n in NAMES}


# --- files and rendering -----------------------------------------------------------------------------

def test_workloads_load_with_the_documented_proportions(workloads):
    assert sorted(wl.available_workloads()) == sorted(NAMES)
    for name, w in workloads.items():
        assert w.name == name and w.version >= 1 and w.statements >= 200
        stmts = wl.render(w, SF)
        assert len(stmts) == w.statements
        assert [s.idx for s in stmts] == list(range(w.statements))
        assert wl.category_counts(stmts) == CATEGORY_COUNTS[name], name
        # Every template is rendered at least once.
        assert {s.template for s in stmts} == {t.id for t in w.templates}, name


def test_rendering_is_deterministic_and_pinned(workloads):
    got = {}
    for name in NAMES:
        first = wl.render(workloads[name], SF)
        again = wl.render(wl.load_workload(wl.WORKLOADS_DIR / f"{name}.toml"), SF)
        assert first == again
        got[name] = wl.digest(first)
        assert got[name] == wl.digest(again)
    assert got == PINNED_DIGESTS, ("the rendered workloads changed: bump the changed files' version and pin the "
                                   f"new digests: {got}")


def test_the_scale_factor_moves_size_dependent_parameters(workloads):
    small, large = wl.render(workloads["dashboard"], 0.01), wl.render(workloads["dashboard"], 1)
    assert wl.digest(small) != wl.digest(large)
    changed = {a.template for a, b in zip(small, large) if a.sql != b.sql}
    assert changed == {"dash.lineitem_order_lookup"}, changed
    q11 = next(s.sql for s in wl.render(workloads["analyst"], 0.01) if s.template == "tpch.q11")
    assert "* 0.01\n" in q11  # FRACTION = 0.0001 / SF


@pytest.mark.parametrize("sf", [0.01, 1, 10])
def test_statements_are_lint_clean(workloads, sf):
    problems = []
    for w in workloads.values():
        problems += wl.lint(wl.render(w, sf))
    assert problems == []


def test_templates_sharing_an_id_are_the_same_statement(workloads):
    assert wl.template_conflicts(list(workloads.values())) == []
    ids = [{t.id for t in w.templates} for w in workloads.values()]
    assert len(ids[0] & ids[2]) >= 10 and len(ids[1] & ids[2]) >= 15  # mixed reuses the other two


def test_repeated_statements_of_a_template_differ(workloads):
    by_template: dict[str, list[str]] = {}
    for s in wl.render(workloads["analyst"], SF):
        by_template.setdefault(s.template, []).append(s.sql)
    for tid, sqls in by_template.items():
        assert len(set(sqls)) == len(sqls), f"{tid}: the same parameters drawn twice"


def test_dates_are_literals_computed_when_rendering(workloads):
    sql = next(s.sql for s in wl.render(workloads["analyst"], SF) if s.template == "tpch.q04")
    start, end = re.findall(r"DATE '(\d{4}-\d{2}-\d{2})'", sql)
    y, m = int(start[:4]), int(start[5:7])
    assert start.endswith("-01") and end == f"{y + (m + 2) // 12}-{(m + 2) % 12 + 1:02d}-01"


def test_cleanup_deletes_every_id_the_writes_use(workloads):
    mixed = workloads["mixed"]
    assert wl.cleanup_sql([mixed]) == ["DELETE FROM public.orders WHERE id >= 10000000 AND id < 10000300"]
    assert wl.cleanup_sql([workloads["dashboard"], workloads["analyst"]]) == []
    ids = [int(s.sql.split("VALUES (", 1)[1].split(",", 1)[0]) for s in wl.render(mixed, SF)
           if s.template == "write.insert_order"]
    assert ids and all(10_000_000 <= i < 10_000_300 for i in ids) and len(set(ids)) == len(ids)


def _stmt(sql: str, **kw) -> wl.Statement:
    base = dict(workload="t", idx=0, template="t.x", category="c", sql=sql, kind="read", ordered=True,
                expect=("duckdb", "trino"), reads_written=False)
    return wl.Statement(**{**base, **kw})


@pytest.mark.parametrize("stmt, expected", [
    (_stmt("SELECT a FROM t LIMIT 5", ordered=False), "LIMIT without ORDER BY"),
    (_stmt("SELECT a FROM t ORDER BY a LIMIT 5000"), "LIMIT 5000"),
    (_stmt("SELECT a::INT FROM t ORDER BY 1"), "'::' cast"),
    (_stmt("SELECT a FROM t WHERE d > DATE '1995-01-01' - INTERVAL 3 DAY ORDER BY a"), "INTERVAL"),
    (_stmt("SELECT a FROM t ORDER BY a DESC", expect=("postgres", "trino")), "NULLS LAST"),
    (_stmt("SELECT a FROM t", ordered=True), "no ORDER BY"),
    (_stmt("SELECT a FROM t ORDER BY a", ordered=False), "ordered = false"),
    (_stmt("SELECT a FROM t WHERE b = {{x}} ORDER BY a"), "unresolved placeholder"),
    (_stmt("SELECT a FROM t ORDER BY a", kind="write"), "kind is 'write'"),
    (_stmt("INSERT INTO public.orders (id) VALUES (5)", kind="write", ordered=False, expect=("postgres",)),
     "value >= 10000000"),
    (_stmt("DELETE FROM public.orders WHERE user_id = 3", kind="write", ordered=False, expect=("postgres",)),
     "keep to the written rows"),
    (_stmt("UPDATE public.users SET name = 'x' WHERE id >= 10000000", kind="write", ordered=False,
           expect=("postgres",)), "public.orders only"),
    (_stmt("INSERT INTO public.orders (id) VALUES (10000001)", kind="write", ordered=False), "PostgreSQL only"),
    (_stmt("SELECT FROM WHERE ORDER BY 1"), "DuckDB cannot parse"),
])
def test_lint_reports_each_kind_of_problem(stmt, expected):
    problems = wl.lint([stmt])
    assert any(expected in p for p in problems), problems


def test_lint_wants_reads_of_written_rows_marked():
    write = _stmt("INSERT INTO public.orders (id) VALUES (10000001)", kind="write", ordered=False, expect=("postgres",))
    read = _stmt("SELECT count(*) FROM public.orders", idx=1, ordered=False, expect=("postgres", "trino"))
    bounded = _stmt("SELECT count(*) FROM public.orders WHERE id BETWEEN 1 AND 500", idx=2, ordered=False,
                    expect=("postgres", "trino"))
    problems = wl.lint([write, read, bounded])
    assert len(problems) == 1 and "t#1" in problems[0] and "reads_written" in problems[0], problems
    assert wl.lint([write, _stmt(read.sql, idx=1, ordered=False, expect=read.expect, reads_written=True)]) == []


HEAD = "format = 1\nworkload = 'x'\nversion = 1\nstatements = 3\nseed = 1\n"
GOOD_TEMPLATE = """
[[template]]
id = "x.one"
weight = 1
category = "c"
kind = "read"
ordered = true
expect = ["duckdb"]
sql = "SELECT {{n}} AS n ORDER BY 1"
params = { n = {int = [1, 3]} }
"""


@pytest.mark.parametrize("text, key, message", [
    ("format = 2\nworkload = 'x'\nversion = 1\nstatements = 3\nseed = 1\n" + GOOD_TEMPLATE, "format", "must be 1"),
    ("format = 1\nworkload = 'x'\nversion = 0\nstatements = 3\nseed = 1\n" + GOOD_TEMPLATE, "version",
     "positive integer"),
    ("format = 1\nworkload = 'x'\nversion = 1\nstatments = 3\nseed = 1\n" + GOOD_TEMPLATE, "statments",
     "did you mean 'statements'"),
    (HEAD + GOOD_TEMPLATE.replace("{{n}}", "{{m}}"),
     "template.x.one.sql", "names no parameter"),
    (HEAD + GOOD_TEMPLATE.replace('"duckdb"', '"duck"'),
     "template.x.one.expect", "distinct engines"),
    (HEAD
     + GOOD_TEMPLATE.replace("{int = [1, 3]}", '{date = {from = 1995-01-01, to = 1994-01-01, step = "1d"}}'),
     "template.x.one.params.n", "is before"),
    (HEAD
     + GOOD_TEMPLATE.replace("{int = [1, 3]}", '{expr = "__import__(1)"}'),
     "template.x.one.params.n", "only int, round, min, max may be called"),
    (HEAD
     + GOOD_TEMPLATE.replace("{int = [1, 3]}", '{expr = "rows * 2"}'),
     "template.x.one.params.n", "unknown name 'rows'"),
    (HEAD + GOOD_TEMPLATE.replace("{{n}}", "{{n + 3m}}"),
     "template.x.one.sql", "takes no unit"),
    (HEAD + GOOD_TEMPLATE + GOOD_TEMPLATE,
     "template.x.one", "id used twice"),
    (HEAD
     + GOOD_TEMPLATE.replace("sql = ", 'sql_file = "missing.sql"\nsql = '),
     "template.x.one.sql", "exactly one of"),
    (HEAD + GOOD_TEMPLATE.replace('sql = "SELECT {{n}} AS n ORDER BY 1"', 'sql_file = "missing.sql"'),
     "template.x.one.sql_file", "cannot read"),
    (HEAD
     + GOOD_TEMPLATE.replace("{int = [1, 3]}", '{seq = 5, table = "public.orders", column = "id"}'),
     "template.x.one.params.n", "at least 10000000"),
    ("format = 1\nworkload = 'x'\nversion = [\n", "", "not valid TOML"),
])
def test_bad_workload_files_say_which_file_and_key(tmp_path, text, key, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(wl.WorkloadError) as e:
        wl.load_workload(path)
    assert f"{path}:{key}" in str(e.value) and message in str(e.value), str(e.value)


def test_unknown_workload_names_the_known_ones():
    with pytest.raises(wl.WorkloadError, match="did you mean 'mixed'.*analyst, dashboard, mixed"):
        wl.load_workload("mixd")


def test_command_line_render_writes_what_digest_hashes(tmp_path, workloads):
    out = tmp_path / "mixed.jsonl"
    assert wl.main(["render", "--workload", "mixed", "--sf", "0.01", "--out", str(out)]) == 0
    assert hashlib.sha256(out.read_bytes()).hexdigest() == wl.digest(wl.render(workloads["mixed"], SF))
    assert wl.main(["lint"]) == 0


# --- TPC-H: the spec's validation parameters give DuckDB's queries ------------------------------------

TPCH_TABLES = ("lineitem", "orders", "customer", "part", "partsupp", "supplier", "nation", "region")


@pytest.fixture(scope="module")
def tpch_db():
    """dbgen at SF 0.01, with the tables also under the schema tpch (the lake's names)."""
    con = duckdb_connect("tpch")
    con.execute(f"CALL dbgen(sf={SF})")
    con.execute("CREATE SCHEMA tpch")
    for t in TPCH_TABLES:
        con.execute(f"CREATE VIEW tpch.{t} AS SELECT * FROM main.{t}")
    queries = dict(con.execute("SELECT query_nr, query FROM tpch_queries()").fetchall())
    yield con, queries
    con.close()


@pytest.mark.parametrize("nr", range(1, 23), ids=lambda n: f"q{n:02d}")
def test_tpch_template_with_validation_parameters_answers_like_duckdb(workloads, tpch_db, nr):
    con, queries = tpch_db
    t = workloads["analyst"].template(f"tpch.q{nr:02d}")
    assert {name for name, _ in t.validation} == {p.name for p in t.params if p.kind != "expr"}
    # The validation parameters are defined at SF 1 (Q11's FRACTION is 0.0001 / SF).
    sql = wl.render_template(t, sf=1, fixed=dict(t.validation))
    want = con.execute(queries[nr]).fetchall()
    got = con.execute(sql).fetchall()
    assert len(want) > 0
    diff = compare_rows(want, got, ordered=t.ordered, rel_tol=0)
    assert diff is None, f"Q{nr}: {diff.message}\n{sql}"


# --- through lakerouter, on every engine each statement expects ----------------------------------------

BENCH_ENGINES = {
    "postgres": {"type": "postgres", "connection": {"dsn": "${LAKEROUTER_PG_DSN}", "pool_size": 4},
                 "capabilities": {"owns_tables": ["public.*"]}},
    "trino": {"type": "trino", "connection": {"url": "${LAKEROUTER_TRINO_URL}", "catalog": "delta"}},
}
# What the benchmark's router declares about tables: PostgreSQL's tables, lineitem's key, and crm.*
# governed by policies only Trino holds.
BENCH_ROUTING = ROUTING


@pytest.fixture(scope="module")
def bench_router(lake_dir, tmp_path_factory):
    if not (PG_DSN and TRINO_URL):
        pytest.skip("test servers not started (LAKEROUTER_PG_DSN / LAKEROUTER_TRINO_URL unset)")
    r = start_router(lake_dir, tmp_path_factory.mktemp("workloads"),
                     {"engines": BENCH_ENGINES, "routing": BENCH_ROUTING}, query_timeout_ms=120_000)
    try:
        yield r
    finally:
        stop_router(r)


def _first_instances() -> list[wl.Statement]:
    """One rendered statement of every template (from the first workload that has it)."""
    seen: dict[str, wl.Statement] = {}
    try:
        for name in NAMES:
            for s in wl.render(wl.load_workload(name), SF):
                seen.setdefault(s.template, s)
    except wl.WorkloadError:
        return []  # test_workloads_load_with_the_documented_proportions reports it
    return list(seen.values())


def _validation_instances() -> list[wl.Statement]:
    """The TPC-H templates with the spec's validation parameters too: at SF 0.01 some drawn instances
    are empty (Q18's quantities over 312 match no order), the validation ones are not."""
    try:
        analyst = wl.load_workload("analyst")
    except wl.WorkloadError:
        return []
    return [wl.Statement("analyst", -1, t.id, t.category, wl.render_template(t, sf=1, fixed=dict(t.validation)),
                         t.kind, t.ordered, t.expect, t.reads_written)
            for t in analyst.templates if t.validation]


INSTANCES = _first_instances()
READS = [s for s in INSTANCES if s.kind == "read"] + _validation_instances()


def _run(router, stmt: wl.Statement, engine: str) -> dict:
    r = router.query(stmt.sql, headers={"X-Lakerouter-Engine": engine}, timeout=180)
    assert r.status_code == 200, f"{stmt.template} on {engine}: {r.status_code} {r.text[:800]}\n{stmt.sql}"
    doc = r.json()
    assert "error" not in doc, f"{stmt.template} on {engine}: {doc['error']}"
    assert doc["engine"] == engine, f"{stmt.template}: pinned to {engine}, ran on {doc['engine']}: {doc['routing']}"
    assert doc["routing"]["reasons"][0]["code"] == "PINNED_BY_HEADER", doc["routing"]
    return doc


@needs_services
def test_the_capable_engines_are_each_statements_expect(bench_router, workloads):
    def route(s: wl.Statement):
        r = bench_router.post("/v1/route", json={"sql": s.sql}, timeout=30)
        assert r.status_code == 200, f"{s.workload}#{s.idx} ({s.template}): {r.status_code} {r.text[:500]}"
        capable = {c["engine"] for c in r.json()["decision"]["candidates"] if c["capable"]}
        if capable == set(s.expect):
            return None
        return f"{s.workload}#{s.idx} ({s.template}): capable {sorted(capable)}, expect {sorted(s.expect)}"
    stmts = [s for w in workloads.values() for s in wl.render(w, SF)]
    with ThreadPoolExecutor(4) as pool:
        wrong = [x for x in pool.map(route, stmts) if x]
    assert wrong == []


@needs_services
@pytest.mark.parametrize("stmt", READS, ids=[s.template + (".validation" if s.idx < 0 else "") for s in READS])
def test_template_gives_the_same_rows_on_every_expected_engine(bench_router, stmt):
    results = {}
    # Engines at once: the statement's runs are independent reads.
    with ThreadPoolExecutor(len(stmt.expect)) as pool:
        for engine, doc in zip(stmt.expect, pool.map(lambda e: _run(bench_router, stmt, e), stmt.expect)):
            results[engine] = doc
    reference_engine = stmt.expect[0]  # duckdb, else postgres, else trino
    reference = results[reference_engine]
    assert reference["row_count"] <= wl.MAX_ROWS
    if stmt.idx < 0:
        assert reference["row_count"] > 0, f"{stmt.template}: the validation parameters should find rows"
    for engine, doc in results.items():
        assert len(doc["columns"]) == len(reference["columns"]), (engine, doc["columns"], reference["columns"])
        diff = compare_rows(reference["rows"], doc["rows"], ordered=stmt.ordered)
        assert diff is None, f"{stmt.template}: {engine} differs from {reference_engine}: {diff.message}\n{stmt.sql}"


@needs_services
def test_writes_run_on_postgres_and_are_cleaned_up(bench_router, workloads):
    mixed = workloads["mixed"]
    cleanup = wl.cleanup_sql([mixed])

    def pg(sql: str) -> dict:
        return bench_router.query_ok(sql, headers={"X-Lakerouter-Engine": "postgres"})

    def written() -> list:
        return pg("SELECT id, status FROM public.orders WHERE id >= 10000000 ORDER BY id")["rows"]

    for sql in cleanup:
        pg(sql)
    assert written() == []
    writes = {s.template: s for s in reversed(wl.render(mixed, SF)) if s.kind == "write"}
    assert set(writes) == {"write.insert_order", "write.update_status", "write.delete_order"}
    try:
        insert = writes["write.insert_order"]
        # A pin to another engine is not honoured: PostgreSQL owns public.orders.
        doc = bench_router.query_ok(insert.sql, headers={"X-Lakerouter-Engine": "trino"})
        assert doc["engine"] == "postgres"
        assert doc["routing"]["reasons"][0]["code"] == "PIN_NOT_CAPABLE", doc["routing"]
        new_id = int(insert.sql.split("VALUES (", 1)[1].split(",", 1)[0])
        assert written() == [[new_id, "pending"]]

        update = writes["write.update_status"]
        assert _run(bench_router, update, "postgres")["engine"] == "postgres"
        status = update.sql.split("SET status = '", 1)[1].split("'", 1)[0]
        assert written() == [[new_id, status]]

        _run(bench_router, writes["write.delete_order"], "postgres")
        assert written() == ([] if status == "cancelled" else [[new_id, status]])
    finally:
        for sql in cleanup:
            pg(sql)
    assert written() == []
