"""The workload benchmark's runner: every statement on every capable engine, then the modes.

Phases, in order (bench/WORKLOAD.md explains what each measures):

1. **route** (static): POST /v1/route for every statement, unpinned and with each pin, before
   anything ran (calibration empty): the capable engines, the static decision, and which engine
   a pin to trino or duckdb really gets (a pin an engine cannot honour is dropped).
2. **warm-up** (not measured): the first statement of each template on each capable engine. Its
   times project the run's finish; the run stops with advice if that exceeds the budget.
3. **sweep** (concurrency 1): each statement pinned on each capable engine, the engine order
   rotating per statement so that no engine always meets a cold cache; writes run once, on their
   owner. The workloads' cleanup statements run before each pass, so every pass sees the same rows, and
   once more at the end.
   Results are compared with the reference engine's (DuckDB, else PostgreSQL, else Trino).
4. **route** (calibrated): /v1/route again, after the sweep taught the router's calibration.
5. **replays**: (c) routed, without pins, with --concurrency workers; (a) all-Trino and (b)
   all-DuckDB-where-capable are taken from the sweep at concurrency 1 (the same pinned requests),
   or replayed for real with --concurrency > 1 or --replay-modes.
6. **derived**: (d) the oracle per statement (among the sweep's runs that met the latency target, the
   cheapest by the report's cost; else the fastest; writes on their owner) and routed-static (the
   static decisions priced from the sweep).

Output (in --out): records.jsonl.gz (one record per statement and mode, and the sweep's runs),
decisions.jsonl.gz (the route phases), comparisons.jsonl.gz, run.json (facts), prices.toml (a copy).
"""
from __future__ import annotations

import concurrent.futures as cf
import gzip
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable

import requests

from . import compare
from .costs import DEFAULT_PRICES, Prices, load_prices
from .routerconf import ADMIN, DEFAULT_LATENCY_TARGET_MS, BenchRouter, ROOT, conftest

MODES = ("all-trino", "all-duckdb", "routed", "oracle", "routed-static")
PIN_CODES = ("PINNED_BY_HEADER", "PINNED_BY_HINT", "PINNED_BY_SESSION")
REFERENCE_ORDER = ("duckdb", "postgres", "trino")
# Size classes by estimated bytes scanned (the router's calibration uses the same bounds).
SIZE_CLASSES = ((1 << 20, "tiny"), (32 << 20, "small"), (512 << 20, "medium"))
REPORT_ALLOWANCE_S = 30.0          # the report, audit reconciliation, router stop
UNKNOWN_WARMUP_S = 0.05            # a template the warm-up did not time (writes)


class BudgetExceeded(RuntimeError):
    pass


@dataclass
class Options:
    sf: float
    workloads: list[str]
    out: Path
    lake: Path
    concurrency: int = 1
    budget_min: float = 28.0
    limit: int | None = None           # the first N statements of each workload
    warmup: bool = True
    replay_modes: bool = False         # replay all-trino and all-duckdb for real even at concurrency 1
    latency_target_ms: int = DEFAULT_LATENCY_TARGET_MS
    timeout_s: float = 120.0
    prices: Path = DEFAULT_PRICES
    binary: Path | None = None
    t0: float | None = None            # epoch seconds the whole run (bench.sh) started; counts toward the budget
    quiet: bool = False

    @property
    def real_ab(self) -> bool:
        """All-Trino and all-DuckDB are replayed for real, not taken from the sweep."""
        return self.concurrency > 1 or self.replay_modes


# --- size class ---------------------------------------------------------------------------------------

def size_class(bytes_: float | None) -> str:
    if bytes_ is None:
        return "unknown"
    for bound, name in SIZE_CLASSES:
        if bytes_ < bound:
            return name
    return "large"


# --- progress -----------------------------------------------------------------------------------------

def _fmt_s(s: float) -> str:
    s = max(0, int(round(s)))
    return f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{s}s"


def load_text() -> str:
    return "load " + " ".join(f"{x:.2f}" for x in os.getloadavg())


class Progress:
    """Progress lines on stderr: phase, n/N, elapsed, ETA; at most one every `every_s` seconds."""

    def __init__(self, t0: float, quiet: bool = False, every_s: float = 5.0):
        self.t0, self.quiet, self.every_s = t0, quiet, every_s
        self._last = 0.0
        self._lock = threading.Lock()

    def log(self, msg: str) -> None:
        if not self.quiet:
            print(f"[lakebench {time.strftime('%H:%M:%S')} +{_fmt_s(time.time() - self.t0)}] {msg}",
                  file=sys.stderr, flush=True)

    def step(self, phase: str, n: int, total: int, phase_start: float, force: bool = False) -> None:
        now = time.time()
        with self._lock:
            if not force and n < total and now - self._last < self.every_s:
                return
            self._last = now
        spent = now - phase_start
        eta = spent / n * (total - n) if n else float("nan")
        self.log(f"{phase}: {n}/{total}, {_fmt_s(spent)} in phase, ETA {_fmt_s(eta) if n else '?'}")


# --- the HTTP client -------------------------------------------------------------------------------------

@dataclass
class Outcome:
    ok: bool
    status: int
    engine: str | None
    query_id: str | None
    routing: dict
    columns: list[str]
    rows: list | None
    row_count: int
    elapsed_ms: float | None
    engine_ms: float | None
    queued_ms: float | None
    client_ms: float
    start: float
    end: float
    error_code: str | None = None
    error_message: str | None = None


class Client:
    """POST /v1/query and /v1/route over one keep-alive session per thread (worker)."""

    def __init__(self, base_url: str, timeout_s: float):
        self.base_url, self.timeout_s = base_url, timeout_s
        self._local = threading.local()

    def _session(self) -> requests.Session:
        s = getattr(self._local, "session", None)
        if s is None:
            s = requests.Session()
            s.trust_env = False
            self._local.session = s
        return s

    def route(self, sql: str, pin: str | None = None) -> dict:
        headers = {"X-Lakerouter-Engine": pin} if pin else {}
        try:
            r = self._session().post(self.base_url + "/v1/route", json={"sql": sql}, headers=headers, timeout=60)
            doc = r.json()
        except (requests.RequestException, ValueError) as e:
            return {"error": {"code": "CLIENT_ERROR", "message": f"{type(e).__name__}: {e}"}}
        if r.status_code != 200:
            err = doc.get("error", {})
            return {"error": {"code": err.get("code", f"HTTP_{r.status_code}"), "message": err.get("message", "")}}
        return doc

    def query(self, sql: str, pin: str | None = None) -> Outcome:
        headers = {"X-Lakerouter-Engine": pin} if pin else {}
        start = time.time()
        t = time.perf_counter()
        try:
            r = self._session().post(self.base_url + "/v1/query", json={"sql": sql}, headers=headers,
                                     timeout=self.timeout_s + 30)
            body = r.content
            client_ms = (time.perf_counter() - t) * 1000
            end = time.time()
            doc = json.loads(body)
        except (requests.RequestException, ValueError) as e:
            client_ms = (time.perf_counter() - t) * 1000
            return Outcome(False, 0, None, None, {}, [], None, 0, None, None, None, client_ms, start, time.time(),
                           "CLIENT_ERROR", f"{type(e).__name__}: {e}")
        timing = doc.get("timing") or {}
        err = doc.get("error")
        routing = doc.get("routing") or {}
        return Outcome(
            ok=r.status_code == 200 and not err, status=r.status_code,
            engine=doc.get("engine") or routing.get("engine"), query_id=doc.get("query_id"), routing=routing,
            columns=[c.get("name", "") for c in doc.get("columns") or []], rows=doc.get("rows"),
            row_count=int(doc.get("row_count") or 0), elapsed_ms=doc.get("elapsed_ms"),
            engine_ms=timing.get("engine_ms"), queued_ms=timing.get("queued_ms"),
            client_ms=client_ms, start=start, end=end,
            error_code=(err or {}).get("code"), error_message=((err or {}).get("message") or "")[:500] or None)


# --- route information ---------------------------------------------------------------------------------

@dataclass
class RouteInfo:
    engine: str | None
    stage: str | None
    reasons: list[dict]
    candidates: dict[str, dict]        # engine -> {capable, est_latency_ms, est_cost_usd, ...}
    scan_bytes: float | None
    error: dict | None = None

    @property
    def capable(self) -> list[str]:
        return [e for e, c in self.candidates.items() if c.get("capable")]

    @staticmethod
    def of(doc: dict) -> "RouteInfo":
        if "error" in doc:
            return RouteInfo(None, None, [], {}, None, doc["error"])
        d = doc.get("decision") or {}
        cands = {c["engine"]: {k: v for k, v in c.items() if k != "engine"} for c in d.get("candidates") or []}
        return RouteInfo(d.get("engine"), d.get("stage"), d.get("reasons") or [], cands,
                         (d.get("scan") or {}).get("bytes"))


def statement_key(s) -> tuple[str, int]:
    return (s.workload, s.idx)


# --- records -------------------------------------------------------------------------------------------

def engine_seconds(o: Outcome) -> tuple[float, str]:
    """The engine time a statement is billed for, and where it came from."""
    if o.engine_ms is not None:
        return o.engine_ms / 1000, "engine_ms"
    if o.elapsed_ms is not None:
        return o.elapsed_ms / 1000, "elapsed_ms"
    return o.client_ms / 1000, "client_ms"


def result_digest(columns: list[str], rows: list | None) -> str | None:
    if rows is None:
        return None
    h = hashlib.sha256(json.dumps([columns, rows], separators=(",", ":"), default=str).encode())
    return h.hexdigest()[:16]


def price_record(rec: dict, prices: Prices) -> None:
    """The record's statement cost (when its engine has a price) and same-hardware cost."""
    if rec["engine"] in prices.engines:
        rec["cost_usd"] = prices.statement_cost(rec["engine"], rec["engine_s"])
    rec["same_hw_usd"] = prices.same_hardware_cost(rec["engine_s"])


def make_record(mode: str, stmt, o: Outcome, prices: Prices, *, pin: str | None, source: str = "run") -> dict:
    engine_s, engine_s_from = engine_seconds(o)
    codes = [r.get("code") for r in o.routing.get("reasons") or []]
    est = o.routing.get("estimate") or {}
    scan_bytes = (o.routing.get("scan") or {}).get("bytes")
    rec = {
        "mode": mode, "workload": stmt.workload, "idx": stmt.idx, "template": stmt.template,
        "category": stmt.category, "kind": stmt.kind, "engine": o.engine, "pinned": pin,
        # None: no pin, or a failed request whose answer has no decision to tell.
        "pin_honoured": (codes[0] in PIN_CODES and o.engine == pin) if pin and codes else None,
        "stage": o.routing.get("stage"), "rule": o.routing.get("rule"), "reason_codes": codes,
        "est_latency_ms": est.get("latency_ms"), "est_cost_usd": est.get("cost_usd"),
        "est_latency_ms_static": est.get("static_latency_ms"), "est_cost_usd_static": est.get("static_cost_usd"),
        "size_class": est.get("size_class") or size_class(scan_bytes), "scan_bytes": scan_bytes,
        "calibration_samples": est.get("calibration_samples"),
        "elapsed_ms": o.elapsed_ms, "engine_ms": o.engine_ms, "queued_ms": o.queued_ms, "client_ms": o.client_ms,
        "engine_s": engine_s, "engine_s_from": engine_s_from,
        "cost_usd": None, "same_hw_usd": None,  # price_record() below
        "start": o.start, "end": o.end, "rows": o.row_count, "digest": result_digest(o.columns, o.rows),
        "ok": o.ok, "status": o.status, "error_code": o.error_code, "error_message": o.error_message,
        "query_id": o.query_id, "source": source,
    }
    price_record(rec, prices)
    if mode == "routed":  # the decision's sentences, for the misroute table
        rec["reasons"] = o.routing.get("reasons") or []
    return rec


def derived_record(mode: str, base: dict, *, source: str) -> dict:
    rec = dict(base)
    rec.update(mode=mode, source=source)
    rec.pop("reasons", None)
    return rec


def with_synthetic_timeline(records: list[dict]) -> None:
    """Derived modes never ran as such: lay their statements end to end, as a closed-loop replay at
    concurrency 1 would, so that the billed view (busy periods, idle tails) has a timeline."""
    t = 0.0
    for r in records:
        r["start"], r["end"] = t, t + r["client_ms"] / 1000
        t = r["end"]
        r["timeline"] = "synthetic"


# --- the run ---------------------------------------------------------------------------------------------

class Runner:
    def __init__(self, opts: Options, workload_module=None):
        if workload_module is None:
            from . import workload as workload_module  # the workloads engineer's module
        self.wl = workload_module
        self.opts = opts
        self.prices = load_prices(opts.prices)
        self.t0 = opts.t0 or time.time()
        self.started = time.time()
        self.progress = Progress(self.t0, opts.quiet)
        self.phases: list[dict] = []
        self.warnings: list[str] = []
        self.records: list[dict] = []
        self.comparisons: list[dict] = []
        self.static: dict[tuple[str, int], RouteInfo] = {}
        self.calibrated: dict[tuple[str, int], RouteInfo] = {}
        self.pinned_route: dict[tuple[str, int, str], str | None] = {}
        self.reference: dict[tuple[str, int], tuple[str, list[str], list]] = {}
        self.sweep: dict[tuple[str, int, str], dict] = {}
        self.warm_s: dict[tuple[str, str, str], float] = {}
        self.known = compare.load_known_differences(self._known_path())
        self.client: Client | None = None
        self.projection: dict | None = None  # set by _guard() after the warm-up

    def _known_path(self) -> Path:
        return Path(self.wl.WORKLOADS_DIR) / "known_differences.toml"

    # -- phases --
    def _phase(self, name: str, fn: Callable[[], Any]) -> Any:
        start, load_before = time.time(), os.getloadavg()[0]
        self.progress.log(f"{name}: start ({load_text()})")
        try:
            return fn()
        finally:
            end = time.time()
            self.phases.append({"phase": name, "start": start, "seconds": end - start,
                                "load_before": load_before, "load_after": os.getloadavg()[0]})
            self.progress.log(f"{name}: done in {_fmt_s(end - start)} ({load_text()})")

    def run(self) -> dict:
        o = self.opts
        if o.concurrency < 1:
            raise ValueError("--concurrency must be at least 1")
        o.out.mkdir(parents=True, exist_ok=True)
        self.workloads = [self.wl.load_workload(n) for n in o.workloads]
        self.statements: dict[str, list] = {}
        for w in self.workloads:
            stmts = list(self.wl.render(w, o.sf))
            if o.limit is not None:
                stmts = stmts[:o.limit]
            self.statements[w.name] = stmts
        total = sum(len(s) for s in self.statements.values())
        self.progress.log(f"{total} statements from {', '.join(o.workloads)} at SF {o.sf:g}, "
                          f"concurrency {o.concurrency}, budget {o.budget_min:g} min")
        with BenchRouter(o.lake, self.prices, timeout_s=o.timeout_s, binary=o.binary,
                         latency_target_ms=o.latency_target_ms) as router:
            self.router = router
            self.client = Client(router.base_url, o.timeout_s)
            # Only the load before the first phase says something about other jobs: after it, the
            # benchmark's own engines (Trino's many JVM threads above all) make the load average.
            if (load := os.getloadavg()[0]) > 0.5:
                self.warnings.append(f"load average {load:.2f} > 0.5 before the run: another job shares the cores")
            try:
                self._phase("route-static", lambda: self._route_pass(self.static, with_pins=True))
                if o.warmup:
                    self._phase("warm-up", self._warmup)
                self._guard()
                self._phase("sweep", self._sweep)
                self._phase("route-calibrated", lambda: self._route_pass(self.calibrated, with_pins=False))
                if o.real_ab:
                    self._phase("all-trino", lambda: self._replay("all-trino", "trino"))
                    self._phase("all-duckdb", lambda: self._replay("all-duckdb", "duckdb"))
                self._phase("routed", lambda: self._replay("routed", None))
            finally:
                # The last pass's writes would stay in the shared PostgreSQL (whose tests count
                # its seeded rows): leave it as the benchmark found it, also after a failure.
                try:
                    self._cleanup(self.workloads)
                except Exception as e:  # noqa: BLE001 - reported, never masks the run's own error
                    self.warnings.append(f"the final cleanup failed, public.orders may keep workload rows: {e}")
                    self.progress.log(self.warnings[-1])
            audit = self._reconcile_audit()  # before deriving: it fills in what responses lacked
            self._derive()
            calibration = self._calibration_state()
        facts = self._facts(audit, calibration)
        self._write(facts)
        return facts

    # -- route passes --
    def _route_pass(self, into: dict, *, with_pins: bool) -> None:
        stmts = [s for ss in self.statements.values() for s in ss]
        start = time.time()
        for n, s in enumerate(stmts, 1):
            info = RouteInfo.of(self.client.route(s.sql))
            into[statement_key(s)] = info
            if info.error:
                self.warnings.append(f"{s.workload}#{s.idx} ({s.template}): /v1/route failed: "
                                     f"{info.error.get('code')}: {info.error.get('message', '')[:200]}")
            if with_pins:
                for pin in ("trino", "duckdb"):
                    self.pinned_route[(s.workload, s.idx, pin)] = RouteInfo.of(self.client.route(s.sql, pin)).engine
                expect = set(s.expect or ())
                if expect and not info.error and set(info.capable) != expect:
                    self.warnings.append(f"{s.template}: capable engines {sorted(info.capable)} differ from the "
                                         f"workload's expect {sorted(expect)}")
            self.progress.step("route", n, len(stmts), start)

    # -- warm-up and the time guard --
    def _warmup(self) -> None:
        todo = []
        for w in self.workloads:
            seen = set()
            for s in self.statements[w.name]:
                if s.template in seen or s.kind == "write":
                    continue
                seen.add(s.template)
                for e in self.static[statement_key(s)].capable:
                    todo.append((s, e))
        start = time.time()
        for n, (s, e) in enumerate(todo, 1):
            out = self.client.query(s.sql, pin=e)
            self.warm_s[(s.workload, s.template, e)] = out.client_ms / 1000
            if not out.ok:
                self.warnings.append(f"warm-up: {s.template} on {e} failed: {out.error_code}: {out.error_message}")
            self.progress.step("warm-up", n, len(todo), start)

    def _guess_s(self, s, engine: str | None) -> float:
        if engine is None:
            return UNKNOWN_WARMUP_S
        return self.warm_s.get((s.workload, s.template, engine), UNKNOWN_WARMUP_S)

    def projected_remaining_s(self) -> float:
        """From the warm-up's times: the sweep, the replays and the report."""
        o, rest = self.opts, 0.0
        for ss in self.statements.values():
            for s in ss:
                info = self.static[statement_key(s)]
                engines = [info.engine] if s.kind == "write" else info.capable
                rest += sum(self._guess_s(s, e) for e in engines)             # sweep
                rest += self._guess_s(s, info.engine) / o.concurrency          # routed (static choice)
                rest += 0.01                                                  # the calibrated route call
                if o.real_ab:
                    for pin in ("trino", "duckdb"):
                        rest += self._guess_s(s, self.pinned_route.get((s.workload, s.idx, pin))) / o.concurrency
        return rest + REPORT_ALLOWANCE_S

    def _guard(self) -> None:
        spent = time.time() - self.t0
        projected = spent + self.projected_remaining_s()
        budget = self.opts.budget_min * 60
        self.projection = {"spent_s": spent, "projected_total_s": projected, "budget_s": budget,
                           "from_warmup": bool(self.warm_s)}
        self.progress.log(f"projected finish: {projected / 60:.1f} min of the {self.opts.budget_min:g} min budget "
                          f"({spent / 60:.1f} min spent)")
        if projected > budget:
            raise BudgetExceeded(
                f"the run is projected to take {projected / 60:.1f} min, over the {self.opts.budget_min:g} min budget "
                f"(from the warm-up's times). Run fewer workloads (--workloads mixed), fewer statements (--limit N), "
                f"or raise --budget-min; a busy machine (load average {os.getloadavg()[0]:.2f}) also slows it down.")

    # -- cleanup before each pass, and at the end --
    def _cleanup(self, workloads: Iterable) -> None:
        for sql in self.wl.cleanup_sql(list(workloads)):
            out = self.client.query(sql, pin="postgres")
            if not out.ok:
                raise RuntimeError(f"cleanup statement failed ({out.error_code}: {out.error_message}): {sql}")

    # -- the sweep --
    def _sweep(self) -> None:
        total = sum(len(ss) for ss in self.statements.values())
        start, n = time.time(), 0
        for w in self.workloads:
            self._cleanup([w])
            for s in self.statements[w.name]:
                info = self.static[statement_key(s)]
                if s.kind == "write":
                    engines = [info.engine] if info.engine else []
                else:
                    capable = info.capable
                    k = s.idx % len(capable) if capable else 0
                    engines = capable[k:] + capable[:k]
                if not engines:
                    self.warnings.append(f"{s.workload}#{s.idx} ({s.template}): no capable engine; not run")
                runs: dict[str, Outcome] = {}
                for e in engines:
                    out = self.client.query(s.sql, pin=e)
                    runs[e] = out
                    rec = make_record("sweep", s, out, self.prices, pin=e)
                    self.records.append(rec)
                    # A pin that was dropped ran elsewhere: index the run by the engine it ran on.
                    self.sweep.setdefault((s.workload, s.idx, out.engine or e), rec)
                if s.kind != "write":
                    self._compare_sweep(s, runs)
                n += 1
                self.progress.step(f"sweep {w.name}", n, total, start)

    def _compare_sweep(self, s, runs: dict[str, Outcome]) -> None:
        ref_engine = next((e for e in REFERENCE_ORDER if e in runs and runs[e].ok), None)
        if ref_engine is None:
            for e, out in runs.items():
                self._add_comparison(s, "sweep", e, None, "failed", f"{out.error_code}: {out.error_message}")
            return
        ref = runs[ref_engine]
        self.reference[statement_key(s)] = (ref_engine, ref.columns, ref.rows or [])
        for e, out in runs.items():
            if e != ref_engine:
                self._compare(s, "sweep", e, out)

    def _compare(self, s, mode: str, engine: str, out: Outcome) -> None:
        ref = self.reference.get(statement_key(s))
        if ref is None:
            return
        ref_engine, columns, ref_rows = ref
        if not out.ok:
            self._add_comparison(s, mode, engine, ref_engine, "failed", f"{out.error_code}: {out.error_message}")
            return
        diff = compare.compare_rows(ref_rows, out.rows or [], ordered=s.ordered)
        if diff is None:
            self._add_comparison(s, mode, out.engine or engine, ref_engine, "matched", "")
            return
        known = compare.find_known(self.known, s.template, [engine, ref_engine], diff, columns)
        self._add_comparison(s, mode, out.engine or engine, ref_engine, "known" if known else "unexplained",
                             diff.message, reason=known.reason if known else None,
                             reference_value=diff.reference, value=diff.got)

    def _add_comparison(self, s, mode: str, engine: str, ref_engine: str | None, status: str, detail: str,
                        **extra) -> None:
        self.comparisons.append({"workload": s.workload, "idx": s.idx, "template": s.template, "mode": mode,
                                 "engine": engine, "reference_engine": ref_engine, "status": status,
                                 "detail": detail, **{k: v for k, v in extra.items() if v is not None}})

    # -- real replays --
    def _replay(self, mode: str, pin: str | None) -> None:
        o = self.opts
        total = sum(len(ss) for ss in self.statements.values())
        start, done = time.time(), [0]
        lock = threading.Lock()
        for w in self.workloads:
            self._cleanup([w])
            stmts = self.statements[w.name]

            def one(s):
                out = self.client.query(s.sql, pin=pin)
                with lock:
                    done[0] += 1
                    self.progress.step(f"{mode} {w.name}", done[0], total, start)
                return s, out

            if o.concurrency == 1:
                results = [one(s) for s in stmts]
            else:
                with cf.ThreadPoolExecutor(max_workers=o.concurrency, thread_name_prefix=mode) as pool:
                    results = list(pool.map(one, stmts))
            for s, out in results:
                self.records.append(make_record(mode, s, out, self.prices, pin=pin))
                if s.kind != "write" and not s.reads_written:  # reads of written rows: compared in the sweep only
                    self._compare(s, mode, out.engine or "", out)

    # -- derived modes --
    def _derive(self) -> None:
        target = self.opts.latency_target_ms
        by_mode: dict[str, list[dict]] = {m: [] for m in MODES}
        sweep_by_statement: dict[tuple[str, int], list[dict]] = {}
        for (w, i, _), rec in self.sweep.items():
            sweep_by_statement.setdefault((w, i), []).append(rec)
        for ss in self.statements.values():
            for s in ss:
                key = statement_key(s)
                runs = sweep_by_statement.get(key, [])
                if not self.opts.real_ab:
                    for mode, pin in (("all-trino", "trino"), ("all-duckdb", "duckdb")):
                        engine = self.pinned_route.get((s.workload, s.idx, pin))
                        rec = self.sweep.get((s.workload, s.idx, engine)) if engine else None
                        if rec is None:
                            self.warnings.append(f"{mode}: no sweep run of {s.workload}#{s.idx} on {engine}")
                            continue
                        by_mode[mode].append(derived_record(mode, rec, source="sweep"))
                oracle = self.oracle_choice(runs, target)
                if oracle is not None:
                    by_mode["oracle"].append(derived_record("oracle", oracle, source="sweep"))
                static_engine = self.static[key].engine
                rec = self.sweep.get((s.workload, s.idx, static_engine)) if static_engine else None
                if rec is not None:
                    by_mode["routed-static"].append(derived_record("routed-static", rec, source="sweep"))
        for mode, recs in by_mode.items():
            if recs:
                with_synthetic_timeline(recs)
                self.records.extend(recs)

    @staticmethod
    def oracle_choice(runs: list[dict], target_ms: float) -> dict | None:
        """Among a statement's sweep runs that succeeded: the cheapest of those within the latency
        target (ties: the faster), else the fastest. A write has one run, on its owner."""
        ok = [r for r in runs if r["ok"] and r["cost_usd"] is not None]
        if not ok:
            return None
        within = [r for r in ok if r["client_ms"] <= target_ms]
        if within:
            return min(within, key=lambda r: (r["cost_usd"], r["client_ms"]))
        return min(ok, key=lambda r: r["client_ms"])

    # -- audit and calibration --
    def _reconcile_audit(self) -> dict:
        """Every measured request is in the router's audit log, on the engine the response named."""
        wanted = {r["query_id"]: r for r in self.records if r.get("query_id") and r["source"] == "run"}
        found: dict[str, dict] = {}
        before: int | None = None
        try:
            while True:
                url = "/v1/audit?limit=10000" + (f"&before_id={before}" if before else "")
                resp = self.router.get(url, auth=ADMIN, timeout=60)
                if resp.status_code != 200:
                    return {"available": False, "detail": f"HTTP {resp.status_code}: {resp.text[:200]}"}
                doc = resp.json()
                for a in doc.get("records", []):
                    if a.get("query_id") in wanted:
                        found[a["query_id"]] = a
                before = doc.get("next_before_id")
                if not before:
                    break
        except requests.RequestException as e:
            return {"available": False, "detail": str(e)}
        for q, a in found.items():  # a failed request's answer names no engine; the audit does
            if wanted[q]["engine"] is None and a.get("engine"):
                wanted[q]["engine"] = a["engine"]
                price_record(wanted[q], self.prices)
        engine_mismatch = [q for q, a in found.items() if a.get("engine") and a["engine"] != wanted[q]["engine"]]
        outcome_mismatch = [q for q, a in found.items() if (a.get("outcome") == "ok") != wanted[q]["ok"]]
        filled = 0
        for q, a in found.items():  # the audit's engine time where the response had none
            rec = wanted[q]
            if rec["engine_ms"] is None and a.get("engine_ms") is not None:
                rec["engine_ms"] = a["engine_ms"]
                rec["engine_s"], rec["engine_s_from"] = a["engine_ms"] / 1000, "audit.engine_ms"
                price_record(rec, self.prices)
                filled += 1
        return {"available": True, "requests": len(wanted), "found": len(found),
                "missing": len(wanted) - len(found), "engine_mismatch": len(engine_mismatch),
                "outcome_mismatch": len(outcome_mismatch), "engine_ms_from_audit": filled,
                "examples": (engine_mismatch + outcome_mismatch)[:5]}

    def _calibration_state(self) -> Any:
        try:
            resp = self.router.get("/v1/calibration", auth=ADMIN, timeout=30)
        except requests.RequestException as e:
            return {"available": False, "detail": str(e)}
        if resp.status_code != 200:
            return {"available": False, "detail": f"HTTP {resp.status_code}"}
        try:
            return {"available": True, "state": resp.json()}
        except ValueError:
            return {"available": False, "detail": "not JSON"}

    # -- output --
    def _facts(self, audit: dict, calibration: Any) -> dict:
        o = self.opts
        return {
            "format": 1,
            "started": datetime.fromtimestamp(self.started, timezone.utc).isoformat(timespec="seconds"),
            "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "total_s": time.time() - self.t0, "runner_s": time.time() - self.started,
            "git": git_facts(), "machine": machine_facts(),
            "sf": o.sf, "lake": str(o.lake), "concurrency": o.concurrency, "limit": o.limit,
            "latency_target_ms": o.latency_target_ms, "timeout_s": o.timeout_s, "budget_min": o.budget_min,
            "replayed_ab": o.real_ab,
            "trino_heap": os.environ.get("LAKEROUTER_TRINO_HEAP", "2G (services.sh default)"),
            "router_binary": str(o.binary or os.environ.get("LAKEROUTER_BIN") or conftest.DEFAULT_BIN),
            "workloads": [{"name": w.name, "version": w.version, "seed": w.seed, "statements": len(self.statements[w.name]),
                           "statements_defined": w.statements, "digest": self.wl.digest(self.statements[w.name]),
                           "path": str(w.path)} for w in self.workloads],
            "phases": self.phases, "projection": self.projection,
            "warnings": self.warnings, "audit": audit, "calibration": calibration,
            "known_differences": str(self._known_path()) if self.known else None,
        }

    def _write(self, facts: dict) -> None:
        out = self.opts.out
        write_jsonl_gz(out / "records.jsonl.gz", self.records)
        write_jsonl_gz(out / "comparisons.jsonl.gz", self.comparisons)
        decisions = []
        for ss in self.statements.values():
            for s in ss:
                key = statement_key(s)
                decisions.append({
                    "workload": s.workload, "idx": s.idx, "template": s.template, "category": s.category,
                    "kind": s.kind, "ordered": s.ordered, "reads_written": s.reads_written, "sql": s.sql,
                    "static": asdict(self.static[key]) if key in self.static else None,
                    "calibrated": asdict(self.calibrated[key]) if key in self.calibrated else None,
                    "pinned_trino": self.pinned_route.get((s.workload, s.idx, "trino")),
                    "pinned_duckdb": self.pinned_route.get((s.workload, s.idx, "duckdb")),
                })
        write_jsonl_gz(out / "decisions.jsonl.gz", decisions)
        shutil.copyfile(self.prices.path, out / "prices.toml")
        (out / "run.json").write_text(json.dumps(facts, indent=2, default=str) + "\n")


# --- helpers ---------------------------------------------------------------------------------------------

def write_jsonl_gz(path: Path, rows: Iterable[dict]) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    # mtime=0: the same records give the same bytes.
    with open(tmp, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as f:
        for r in rows:
            f.write((json.dumps(r, separators=(",", ":"), default=str) + "\n").encode())
    tmp.replace(path)


def read_jsonl_gz(path: Path) -> list[dict]:
    with gzip.open(path, "rt") as f:
        return [json.loads(line) for line in f if line.strip()]


def git_facts() -> dict:
    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True,
                                  timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""
    return {"sha": git("rev-parse", "HEAD") or "unknown", "dirty": bool(git("status", "--porcelain", "--untracked-files=no"))}


def machine_facts() -> dict:
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "?")
    except OSError:
        pass
    mem_gb = None
    try:
        with open("/proc/meminfo") as f:
            kb = next(int(line.split()[1]) for line in f if line.startswith("MemTotal"))
            mem_gb = round(kb / 1024 / 1024, 1)
    except (OSError, StopIteration, ValueError):
        pass
    return {"host": platform.node(), "cores": os.cpu_count(), "cpu": cpu, "memory_gb": mem_gb,
            "kernel": platform.release(), "python": platform.python_version(), "load_at_end": os.getloadavg()}
