"""Asynchronous queries (docs/api.md): POST /v1/query with "async": true or Prefer: respond-async,
GET /v1/queries/{id} (status), GET /v1/queries/{id}/results (pages in several formats, whole
results in Arrow/Parquet), DELETE (cancel / drop), expiry, unknown ids, the result cap."""

from __future__ import annotations

import io
import json
import time

import pyarrow.ipc as ipc
import pyarrow.parquet as pq
import pytest
import requests

from conftest import start_router, stop_router

WAIT_S = 120


def submit(router, sql, *, prefer=False, **extra):
    body = {"sql": sql, **extra}
    if not prefer:
        body["async"] = True
    headers = {"Content-Type": "application/json"}
    if prefer:
        headers["Prefer"] = "respond-async"
    r = router.post("/v1/query", data=json.dumps(body), headers=headers)
    assert r.status_code == 202, r.text
    doc = r.json()
    assert doc["status_uri"] == f"/v1/queries/{doc['query_id']}"
    assert doc["results_uri"] == f"/v1/queries/{doc['query_id']}/results"
    assert r.headers["Location"] == doc["status_uri"]
    return doc["query_id"]


def wait_done(router, qid):
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        st = router.get(f"/v1/queries/{qid}").json()
        if st["status"] not in ("queued", "running"):
            return st
        time.sleep(0.05)
    pytest.fail(f"async query {qid} did not end within {WAIT_S} s")


def test_submit_poll_and_page(router):
    qid = submit(router, "SELECT range AS n, 'v' || range AS s FROM range(25000)")
    st = wait_done(router, qid)
    assert st["status"] == "finished" and st["row_count"] == 25000 and st["engine"] == "duckdb"
    assert st["page_count"] == 3 and st["columns"][0] == {"name": "n", "type": "BIGINT"}

    seen = []
    uri = f"/v1/queries/{qid}/results"
    while uri:
        page = router.get(uri).json()
        seen += [row[0] for row in page["rows"]]
        uri = page["next_uri"]
    assert seen == list(range(25000))

    r = router.get(f"/v1/queries/{qid}/results?page=1&page_size=3&format=csv")
    assert r.text == "n,s\n3,v3\n4,v4\n5,v5\n"
    assert r.headers["X-Lakerouter-Page-Count"] == str(25000 // 3 + 1)
    assert 'rel="next"' in r.headers["Link"]
    r = router.get(f"/v1/queries/{qid}/results?page=2&page_size=2", headers={"Accept": "application/x-ndjson"})
    assert [json.loads(x) for x in r.text.splitlines()] == [{"n": 4, "s": "v4"}, {"n": 5, "s": "v5"}]
    # Arrow and Parquet: the whole result.
    r = router.get(f"/v1/queries/{qid}/results", headers={"Accept": "application/vnd.apache.arrow.stream"})
    assert ipc.open_stream(r.content).read_all().num_rows == 25000
    t = pq.read_table(io.BytesIO(router.get(f"/v1/queries/{qid}/results?format=parquet").content))
    assert t.column("n").to_pylist() == list(range(25000))

    r = router.request("DELETE", f"/v1/queries/{qid}")
    assert r.status_code == 200 and r.json()["status"] == "deleted"
    assert router.get(f"/v1/queries/{qid}").status_code == 404


def test_prefer_header_and_failure(router):
    qid = submit(router, "SELECT * FROM no_such_table", prefer=True)
    st = wait_done(router, qid)
    assert st["status"] == "failed" and st["error"]["code"] == "UNKNOWN_TABLE"
    r = router.get(f"/v1/queries/{qid}/results")
    assert r.status_code == 404 and r.json()["error"]["code"] == "UNKNOWN_TABLE"


def test_cancel_a_long_query(router):
    qid = submit(router, "SELECT count(*) FROM range(10000000000)", timeout_ms=600000)
    time.sleep(0.3)
    r = router.request("DELETE", f"/v1/queries/{qid}")
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    st = wait_done(router, qid)
    assert st["status"] == "cancelled" and st["error"]["code"] == "QUERY_CANCELLED"
    router.assert_healthy()


def test_unknown_id_is_404(router):
    for method, path in (("GET", "/v1/queries/nope"), ("GET", "/v1/queries/nope/results"),
                         ("DELETE", "/v1/queries/nope")):
        r = router.request(method, path)
        assert r.status_code == 404 and r.json()["error"]["code"] == "NOT_FOUND", (method, path, r.text)


@pytest.fixture(scope="module")
def small_router(lake_dir, tmp_path_factory):
    work = tmp_path_factory.mktemp("async-small")
    r = start_router(lake_dir, work, results={"async_ttl_ms": 300, "async_max_queries": 3,
                                               "async_max_result_bytes": 100000,
                                               "async_spill_dir": str(work / "spill"), "page_rows": 100})
    try:
        yield r
    finally:
        stop_router(r)


def test_expiry_cap_and_limit(small_router):
    r = small_router
    qid = submit(r, "SELECT 1 AS x")
    assert wait_done(r, qid)["status"] == "finished"
    deadline = time.monotonic() + WAIT_S
    while r.get(f"/v1/queries/{qid}").status_code != 404:  # expires 300 ms after it ended
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert r.get(f"/v1/queries/{qid}/results").json()["error"]["code"] == "NOT_FOUND"

    big = submit(r, "SELECT range, repeat('x', 100) FROM range(100000)")
    st = wait_done(r, big)
    assert st["status"] == "failed" and st["error"]["code"] == "RESULT_TOO_LARGE"
    assert "async_max_result_bytes" in st["error"]["message"]

    ids = [submit(r, "SELECT count(*) FROM range(10000000000)", timeout_ms=600000) for _ in range(2)]
    body = json.dumps({"sql": "SELECT 1", "async": True})
    over = r.post("/v1/query", data=body, headers={"Content-Type": "application/json"})
    assert over.status_code == 503 and over.json()["error"]["code"] == "OVERLOADED"
    for q in ids:
        assert r.request("DELETE", f"/v1/queries/{q}").status_code == 200
    # A synchronous request is not starved by the async workers.
    r.assert_healthy()
