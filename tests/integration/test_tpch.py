"""The 22 TPC-H queries through POST /v1/query, checked against an in-memory DuckDB.

The query texts come from DuckDB's tpch extension (``tpch_queries()``). For the router, every
table reference is qualified with the ``tpch`` schema (the lake's Delta tables); the reference
runs the unqualified text over ``CALL dbgen(sf=0.01)``, the same data the demo lake holds.
Rows are compared in order (every query with several result rows has an ORDER BY); a query
without ORDER BY is compared as sorted rows. Decimals arrive as exact strings and are compared
as Decimal, doubles as floats, both with a relative tolerance of 1e-6 (parallel aggregation may
sum in another order); dates as ISO strings.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from decimal import Decimal

import pytest

from conftest import duckdb_connect

duckdb = pytest.importorskip("duckdb")

TPCH_TABLES = ("lineitem", "orders", "customer", "part", "partsupp", "supplier", "nation", "region")
SCHEMA = "tpch"
REL_TOL = 1e-6

# --- qualifying table names ----------------------------------------------------------------------

_TOKEN = re.compile(r"""
      (?P<str>'(?:[^']|'')*')          # string literal
    | (?P<qid>"(?:[^"]|"")*")          # quoted identifier
    | (?P<lc>--[^\n]*)                 # line comment
    | (?P<bc>/\*.*?\*/)                # block comment
    | (?P<word>[A-Za-z_][A-Za-z0-9_$]*)
    | (?P<ws>\s+)
    | (?P<other>.)
""", re.VERBOSE | re.DOTALL)

# Keywords that end a FROM list at the current parenthesis depth.
_FROM_ENDERS = {"WHERE", "GROUP", "ORDER", "HAVING", "LIMIT", "OFFSET", "UNION", "EXCEPT", "INTERSECT",
                "SELECT", "WINDOW", "QUALIFY", "ON", "USING"}


def qualify(sql: str, schema: str = SCHEMA, tables: tuple[str, ...] = TPCH_TABLES) -> tuple[str, int]:
    """Prefix `schema.` to every table reference of `tables` in `sql`.

    Only words in table position are touched: right after FROM, JOIN, or a comma of a FROM list,
    outside string literals, quoted identifiers and comments, not already qualified and not a
    function call. Column names (l_orderkey) and aliases (``n_name AS nation`` in Q9) stay as
    they are. Returns the new text and the number of references qualified.
    """
    tokens = [(m.lastgroup, m.group()) for m in _TOKEN.finditer(sql)]
    assert "".join(t for _, t in tokens) == sql
    out: list[str] = []
    in_from = [False]          # one flag per parenthesis depth
    prev = ""                  # previous significant token (words upper-cased)
    replaced = 0

    def next_significant(i: int) -> str:
        for kind, text in tokens[i + 1:]:
            if kind not in ("ws", "lc", "bc"):
                return text
        return ""

    for i, (kind, text) in enumerate(tokens):
        if kind in ("ws", "lc", "bc"):
            out.append(text)
            continue
        if kind == "word":
            upper = text.upper()
            if upper == "FROM":
                in_from[-1] = True
            elif upper in _FROM_ENDERS:
                in_from[-1] = False
            elif (text.lower() in tables and in_from[-1] and prev in ("FROM", "JOIN", ",")
                  and next_significant(i) not in ("(", ".")):
                out.append(f"{schema}.{text}")
                replaced += 1
                prev = upper
                continue
            prev = upper
        else:
            if text == "(":
                in_from.append(False)
            elif text == ")" and len(in_from) > 1:
                in_from.pop()
            prev = text
        out.append(text)
    return "".join(out), replaced


def test_qualify_touches_only_table_references():
    sql = ("SELECT nation, l_orderkey, 'from lineitem' AS s FROM (SELECT n_name AS nation FROM nation, "
           "region r WHERE n_regionkey = r_regionkey) AS x, lineitem l1 JOIN orders ON o_orderkey = l1.l_orderkey "
           "WHERE extract(year FROM o_orderdate) > 1 AND EXISTS (SELECT * FROM part p) ORDER BY nation")
    got, n = qualify(sql)
    assert n == 5
    assert got == sql.replace("FROM nation,", "FROM tpch.nation,").replace("region r", "tpch.region r") \
        .replace("x, lineitem l1", "x, tpch.lineitem l1").replace("JOIN orders", "JOIN tpch.orders") \
        .replace("FROM part p", "FROM tpch.part p")


# --- reference data and queries ------------------------------------------------------------------

def _queries() -> dict[int, str]:
    con = duckdb_connect("tpch")
    try:
        return {int(n): q for n, q in con.execute("SELECT query_nr, query FROM tpch_queries() ORDER BY 1").fetchall()}
    finally:
        con.close()


try:
    QUERIES = _queries()
except Exception as e:  # the extension directory is missing: every test reports why
    QUERIES = {}
    _QUERY_LOAD_ERROR = repr(e)


@pytest.fixture(scope="module")
def queries() -> dict[int, str]:
    if not QUERIES:
        pytest.skip(f"cannot load DuckDB's tpch extension: {_QUERY_LOAD_ERROR}")
    assert sorted(QUERIES) == list(range(1, 23))
    return QUERIES


# --- comparison ----------------------------------------------------------------------------------

def _close(a: float, b: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b or abs(a - b) <= REL_TOL * max(abs(a), abs(b))


def _json_float(v) -> float:
    if isinstance(v, str):  # non-finite doubles travel as strings
        assert v in ("NaN", "Infinity", "-Infinity"), v
        return float(v.replace("Infinity", "inf"))
    assert isinstance(v, (int, float)) and not isinstance(v, bool), v
    return float(v)


def value_matches(got, want) -> bool:
    """`got` from the router's JSON, `want` from python duckdb."""
    if want is None:
        return got is None
    if isinstance(want, bool):
        return got is want
    if isinstance(want, int):
        return isinstance(got, int) and not isinstance(got, bool) and got == want
    if isinstance(want, Decimal):  # exact digits as a JSON string
        if not isinstance(got, str):
            return False
        return _close(float(Decimal(got)), float(want))
    if isinstance(want, float):
        return _close(_json_float(got), want)
    if isinstance(want, dt.datetime):
        return isinstance(got, str) and dt.datetime.fromisoformat(got) == want
    if isinstance(want, dt.date):
        return got == want.isoformat()
    if isinstance(want, str):
        return got == want
    raise AssertionError(f"unexpected reference type {type(want).__name__}: {want!r}")


def _sort_key(row):
    return tuple((v is None, str(v)) for v in row)


def _normalized_reference(row):
    """Reference values in the router's JSON form, for sorting unordered results."""
    out = []
    for v in row:
        if isinstance(v, (dt.date, dt.datetime)):
            out.append(v.isoformat())
        elif isinstance(v, Decimal):
            out.append(str(v))
        else:
            out.append(v)
    return out


# --- the tests -----------------------------------------------------------------------------------

@pytest.mark.parametrize("nr", range(1, 23), ids=lambda n: f"q{n:02d}")
def test_tpch_query(router, reference, queries, nr):
    raw = queries[nr]
    sql, replaced = qualify(raw)
    assert replaced > 0, f"Q{nr}: no table reference found to qualify"
    tables = duckdb.get_table_names(sql, qualified=True)
    unqualified = sorted(t for t in tables if not t.startswith(f"{SCHEMA}."))
    assert not unqualified, f"Q{nr}: tables left unqualified: {unqualified}"

    ref = reference.execute(raw)
    want_cols = [d[0] for d in ref.description]
    want_types = [str(d[1]) for d in ref.description]
    want_rows = ref.fetchall()

    r = router.query(sql, timeout=120)
    assert r.status_code == 200, f"Q{nr}: {r.status_code} {r.text[:1000]}"
    assert r.headers["Content-Type"].startswith("application/json")
    doc = r.json()
    assert doc["engine"] == "duckdb"
    assert isinstance(doc["query_id"], str) and doc["query_id"]
    assert isinstance(doc["elapsed_ms"], (int, float)) and doc["elapsed_ms"] >= 0
    assert "error" not in doc, doc.get("error")
    assert [c["name"] for c in doc["columns"]] == want_cols
    assert [c["type"] for c in doc["columns"]] == want_types
    rows = doc["rows"]
    assert doc["row_count"] == len(rows)
    assert len(rows) == len(want_rows), f"Q{nr}: {len(rows)} rows, expected {len(want_rows)}"
    assert len(want_rows) > 0, f"Q{nr}: the reference is empty, the comparison would prove nothing"

    # Decimals carry exactly the declared scale: "123.40", never 123.4 or "123.4".
    for c, t in enumerate(want_types):
        m = re.fullmatch(r"DECIMAL\((\d+),(\d+)\)", t)
        if m:
            scale = int(m.group(2))
            pattern = re.compile(r"-?\d+" + (rf"\.\d{{{scale}}}" if scale else ""))
            bad = [row[c] for row in rows if row[c] is not None and not (isinstance(row[c], str) and pattern.fullmatch(row[c]))]
            assert not bad, f"Q{nr} column {want_cols[c]} ({t}): values not in exact decimal form: {bad[:5]}"

    if "ORDER BY" not in raw.upper():
        rows = sorted(rows, key=_sort_key)
        want_rows = sorted(want_rows, key=lambda row: _sort_key(_normalized_reference(row)))
    for i, (got, want) in enumerate(zip(rows, want_rows)):
        assert len(got) == len(want_cols), f"Q{nr} row {i}: {got}"
        bad = [(want_cols[c], g, w) for c, (g, w) in enumerate(zip(got, want)) if not value_matches(g, w)]
        assert not bad, f"Q{nr} row {i}: (column, router, reference) differ: {bad}\nrouter row: {got}\n" \
                        f"reference row: {want}"
