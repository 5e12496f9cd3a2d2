"""HTTP result formats (docs/api.md): JSON, NDJSON, CSV, Arrow IPC and Parquet from POST /v1/query,
negotiated by Accept or the "format" field, streamed, with the per-format mid-stream error
behaviour. Arrow and Parquet are read back with pyarrow and compared with the JSON answer."""

from __future__ import annotations

import csv
import io
import json
import subprocess

import pyarrow.ipc as ipc
import pyarrow.parquet as pq
import pytest
import requests

ARROW = "application/vnd.apache.arrow.stream"
PARQUET = "application/vnd.apache.parquet"

TYPED_SQL = """
SELECT o_orderkey, o_totalprice, o_orderdate, o_comment,
       CAST(o_orderdate AS TIMESTAMP) + INTERVAL 90 MINUTE AS ts,
       CASE WHEN o_orderkey % 3 = 0 THEN NULL ELSE o_orderpriority END AS maybe,
       'ünïcødé ✓, "quoted"' AS uni, o_orderkey % 2 = 0 AS even, o_totalprice::DOUBLE AS dbl
FROM tpch.orders ORDER BY o_orderkey LIMIT 50
"""


def post(router, sql, *, accept=None, fmt=None, stream=False, timeout=120, **extra):
    body = {"sql": sql, **extra}
    if fmt:
        body["format"] = fmt
    headers = {"Content-Type": "application/json"}
    if accept:
        headers["Accept"] = accept
    with requests.Session() as s:
        s.trust_env = False
        return s.post(router.url("/v1/query"), data=json.dumps(body), headers=headers, timeout=timeout, stream=stream)


def json_rows(router, sql):
    doc = router.query_ok(sql)
    return [c["name"] for c in doc["columns"]], doc["rows"]


def norm(v):
    """A value from pyarrow in the JSON encoding's text form, to compare."""
    import datetime
    import decimal
    if v is None or isinstance(v, (bool, int, str)):
        return v
    if isinstance(v, float):
        return v
    if isinstance(v, decimal.Decimal):
        return str(v)
    if isinstance(v, datetime.datetime):
        return v.isoformat()
    if isinstance(v, datetime.date):
        return v.isoformat()
    return str(v)


def test_every_format_agrees_with_json(router):
    names, rows = json_rows(router, TYPED_SQL)
    assert len(rows) == 50

    r = post(router, TYPED_SQL, accept="application/x-ndjson")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/x-ndjson")
    assert r.headers["X-Lakerouter-Engine"] == "duckdb" and r.headers["X-Lakerouter-Query-Id"]
    lines = [json.loads(line) for line in r.text.splitlines()]
    assert [[obj[n] for n in names] for obj in lines] == rows

    r = post(router, TYPED_SQL, accept="text/csv")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")
    reader = list(csv.reader(io.StringIO(r.content.decode("utf-8"), newline="")))
    assert reader[0] == names
    assert len(reader) == 51
    first = reader[1]
    assert first[names.index("o_totalprice")] == rows[0][1]
    assert first[names.index("uni")] == 'ünïcødé ✓, "quoted"'
    # NULL is an empty unquoted field; the raw text shows it.
    null_row = next(i for i, row in enumerate(rows) if row[names.index("maybe")] is None)
    assert ",," in r.content.decode().split("\n")[null_row + 1]

    for accept in (ARROW, PARQUET, "application/x-parquet"):
        r = post(router, TYPED_SQL, accept=accept)
        assert r.status_code == 200, r.text
        if accept == ARROW:
            table = ipc.open_stream(r.content).read_all()
        else:
            table = pq.read_table(io.BytesIO(r.content))
        assert table.column_names == names
        assert str(table.schema.field("o_totalprice").type) == "decimal128(15, 2)"
        assert str(table.schema.field("o_orderdate").type) == "date32[day]"
        assert str(table.schema.field("ts").type) == "timestamp[us]"
        got = [[norm(v) for v in row.values()] for row in table.to_pylist()]
        for g, want in zip(got, rows):
            assert g[0:3] == want[0:3]
            assert g[3] == want[3] and g[5:8] == want[5:8]
            assert g[4] == want[4]  # ISO timestamp text matches
            assert g[8] == pytest.approx(want[8])


def test_format_field_and_curl(router):
    r = post(router, "SELECT 1 AS a, 'x' AS b", fmt="csv")
    assert r.status_code == 200 and r.text == "a,b\n1,x\n"
    out = subprocess.run(
        ["curl", "-sS", "--noproxy", "*", "-H", "Content-Type: application/json", "-H", "Accept: text/csv",
         "-d", json.dumps({"sql": "SELECT 42 AS answer, NULL AS n, '' AS e"}), router.url("/v1/query")],
        capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout == 'answer,n,e\n42,,""\n'
    out = subprocess.run(
        ["curl", "-sS", "--noproxy", "*", "-H", "Content-Type: application/json", "-H", f"Accept: {ARROW}",
         "-d", json.dumps({"sql": "SELECT range AS n FROM range(10)"}), router.url("/v1/query")],
        capture_output=True, timeout=60)
    assert out.returncode == 0
    assert ipc.open_stream(out.stdout).read_all().column("n").to_pylist() == list(range(10))


def test_unacceptable_accept_is_406(router):
    r = post(router, "SELECT 1", accept="image/png")
    assert r.status_code == 406
    assert r.json()["error"]["code"] == "UNSUPPORTED_MEDIA_TYPE"
    assert "text/csv" in r.json()["error"]["message"]
    r = post(router, "SELECT 1", fmt="xml")
    assert r.status_code == 400 and r.json()["error"]["code"] == "INVALID_REQUEST"
    # q-values: the preferred acceptable type wins; an error before the first byte is JSON.
    r = post(router, "SELECT 1 AS x", accept="application/json;q=0.5, text/csv")
    assert r.text == "x\n1\n"
    r = post(router, "SELECT * FROM nope", accept="text/csv")
    assert r.status_code == 404 and r.json()["error"]["code"] == "UNKNOWN_TABLE"


@pytest.mark.parametrize("fmt", ["json", "ndjson", "csv", "arrow", "parquet"])
def test_multi_batch_result_streams_in_every_format(router, fmt):
    n = 3_000_000
    r = post(router, f"SELECT range AS n, range::VARCHAR AS s FROM range({n})", fmt=fmt, stream=True, timeout=300)
    assert r.status_code == 200
    assert r.headers.get("Transfer-Encoding") == "chunked"
    if fmt == "csv":
        count = sum(1 for _ in r.iter_lines(chunk_size=1 << 16)) - 1
    elif fmt == "ndjson":
        count = 0
        last = None
        for line in r.iter_lines(chunk_size=1 << 16):
            count += 1
            last = line
        assert json.loads(last) == {"n": n - 1, "s": str(n - 1)}
    else:
        data = r.raw.read(decode_content=True)
        if fmt == "json":
            doc = json.loads(data)
            count = doc["row_count"]
            assert len(doc["rows"]) == n
        elif fmt == "arrow":
            reader = ipc.open_stream(data)
            batches = list(reader)
            assert len(batches) > 1
            count = sum(b.num_rows for b in batches)
        else:
            f = pq.ParquetFile(io.BytesIO(data))
            assert f.num_row_groups > 1
            count = f.metadata.num_rows
    assert count == n


def test_mid_stream_error_per_format(router):
    # The first rows go out before the engine fails: the status is 200 already.
    sql = "SELECT CASE WHEN range < 1000000 THEN range ELSE error('boom') END AS x FROM range(2000000)"
    r = post(router, sql, fmt="ndjson")
    assert r.status_code == 200
    last = json.loads(r.text.splitlines()[-1])
    assert "error" in last and last["row_count"] > 0 and last["error"]["code"]
    r = post(router, sql, fmt="json")
    doc = r.json()
    assert "error" in doc and "elapsed_ms" not in doc
    for fmt in ("csv", "arrow", "parquet"):
        with pytest.raises(requests.exceptions.ChunkedEncodingError):
            post(router, sql, fmt=fmt).content
        out = subprocess.run(
            ["curl", "-sS", "--noproxy", "*", "-o", "/dev/null", "-H", "Content-Type: application/json",
             "-d", json.dumps({"sql": sql, "format": fmt}), router.url("/v1/query")],
            capture_output=True, text=True, timeout=60)
        assert out.returncode == 18, (fmt, out.returncode, out.stderr)  # CURLE_PARTIAL_FILE
    router.assert_healthy()
