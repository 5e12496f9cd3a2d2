"""The workload benchmark's report: REPORT.md, summary.json and PNG charts, from a run's folder.

    .venv/bin/python bench/workload_bench.py --report-only results/<date>-sf1

Reads run.json, records.jsonl.gz, decisions.jsonl.gz, comparisons.jsonl.gz and prices.toml (the
runner's output, see runner.py) and writes, next to them: REPORT.md, summary.json,
cost_by_mode.png, latency_cdf_<workload>.png, misroutes_by_template.png, estimate_error.png,
engine_mix.png.
"""
from __future__ import annotations

import json
import math
import statistics
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from .costs import Prices, load_prices, mode_billed_cost
from .runner import MODES, read_jsonl_gz

# The issue's acceptance targets, for every workload (the committed one is mixed at SF 1).
TARGETS = (("cost", "cost_ratio", 0.5, "routed/all-Trino statement cost"),
           ("p95 latency", "p95_ratio", 1.2, "routed/all-Trino p95 client latency"),
           ("regret", "regret_measured", 1.10, "routed/oracle statement cost"))
HEADLINE_FIRST = "mixed"
MODE_LABELS = {"all-trino": "(a) all-Trino", "all-duckdb": "(b) all-DuckDB where capable", "routed": "(c) routed",
               "oracle": "(d) oracle", "routed-static": "routed-static (decisions before calibration)"}
MODE_COLOURS = {"all-trino": "#d62728", "all-duckdb": "#1f77b4", "routed": "#2ca02c", "oracle": "#7f7f7f",
                "routed-static": "#9467bd"}
ENGINE_COLOURS = {"duckdb": "#1f77b4", "postgres": "#ff7f0e", "trino": "#d62728", "databricks": "#8c564b",
                  "none": "#cccccc"}
WORST_MISROUTES = 10
WARM_STATEMENTS = 20   # the estimate error "after" each engine's first statements
DPI = 150


# --- loading -----------------------------------------------------------------------------------------------

def load_run(out: Path) -> dict:
    need = ["run.json", "records.jsonl.gz", "decisions.jsonl.gz", "comparisons.jsonl.gz", "prices.toml"]
    missing = [n for n in need if not (out / n).is_file()]
    if missing:
        raise FileNotFoundError(f"{out} is not a finished benchmark run: missing {', '.join(missing)}")
    return {"facts": json.loads((out / "run.json").read_text()), "records": read_jsonl_gz(out / "records.jsonl.gz"),
            "decisions": read_jsonl_gz(out / "decisions.jsonl.gz"),
            "comparisons": read_jsonl_gz(out / "comparisons.jsonl.gz"), "prices": load_prices(out / "prices.toml")}


# --- statistics -------------------------------------------------------------------------------------------

def _candidates(view: dict | None) -> dict:
    """The candidates of a /v1/route answer kept in decisions.jsonl (static or calibrated), by engine."""
    return (view or {}).get("candidates") or {}


def percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    v = sorted(values)
    k = (len(v) - 1) * p / 100
    lo, hi = math.floor(k), math.ceil(k)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0:
        return None
    return a / b


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


# --- the summary -----------------------------------------------------------------------------------------

def workload_order(names: list[str]) -> list[str]:
    return sorted(names, key=lambda n: (n != HEADLINE_FIRST, names.index(n)))


def summarise(run: dict) -> dict:
    facts, records, prices = run["facts"], run["records"], run["prices"]
    decisions = {(d["workload"], d["idx"]): d for d in run["decisions"]}
    names = workload_order([w["name"] for w in facts["workloads"]])
    sweep: dict[tuple[str, int, str], dict] = {}
    for r in records:
        if r["mode"] == "sweep":
            sweep.setdefault((r["workload"], r["idx"], r["engine"] or r["pinned"]), r)
    out = {"workloads": {}, "sf": facts["sf"], "concurrency": facts["concurrency"],
           "latency_target_ms": facts["latency_target_ms"]}
    for name in names:
        recs = [r for r in records if r["workload"] == name]
        out["workloads"][name] = summarise_workload(name, recs, sweep, decisions, prices, run["comparisons"])
    out["estimate_error"] = estimate_errors(records, decisions)
    return out


def mode_stats(recs: list[dict], prices: Prices) -> dict:
    lat = [r["client_ms"] for r in recs]
    cost = sum(r["cost_usd"] or 0.0 for r in recs)
    same_hw = sum(r["same_hw_usd"] or 0.0 for r in recs)
    billed = mode_billed_cost(prices, [(r["engine"], r["start"], r["end"]) for r in recs
                                       if r["engine"] in prices.engines])
    mix = Counter(r["engine"] or "none" for r in recs)
    return {
        "statements": len(recs), "failed": sum(not r["ok"] for r in recs),
        "cost_usd": cost, "same_hw_usd": same_hw,
        "billed_usd": sum(b.usd for b in billed.values()),
        "billed": {e: {"model": b.model, "billed_s": b.billed_s, "usd": b.usd, "periods": b.periods,
                       "busy_s": b.busy_s} for e, b in billed.items()},
        "engine_s": sum(r["engine_s"] for r in recs),
        "p50_ms": percentile(lat, 50), "p95_ms": percentile(lat, 95), "p99_ms": percentile(lat, 99),
        "mean_ms": sum(lat) / len(lat) if lat else None, "client_s": sum(lat) / 1000,
        "engine_mix": dict(mix), "timeline": recs[0].get("timeline", "measured"),
    }


def summarise_workload(name: str, recs: list[dict], sweep: dict, decisions: dict, prices: Prices,
                       comparisons: list[dict]) -> dict:
    by_mode = {m: [r for r in recs if r["mode"] == m] for m in MODES}
    modes = {m: mode_stats(rs, prices) for m, rs in by_mode.items() if rs}
    res: dict[str, Any] = {"modes": modes}
    trino, routed, oracle = modes.get("all-trino"), modes.get("routed"), modes.get("oracle")
    if trino and routed:
        res["cost_ratio"] = ratio(routed["cost_usd"], trino["cost_usd"])
        res["billed_ratio"] = ratio(routed["billed_usd"], trino["billed_usd"])
        res["same_hw_ratio"] = ratio(routed["same_hw_usd"], trino["same_hw_usd"])
        res["p50_ratio"] = ratio(routed["p50_ms"], trino["p50_ms"])
        res["p95_ratio"] = ratio(routed["p95_ms"], trino["p95_ms"])
    oracle_of = {r["idx"]: r for r in by_mode["oracle"]}
    routed_of = {r["idx"]: r for r in by_mode["routed"]}
    if routed and oracle:
        res["regret_measured"] = ratio(routed["cost_usd"], oracle["cost_usd"])
        # Decision-only regret: the routed choices priced from the same isolated sweep runs as the oracle.
        decision_cost = 0.0
        for idx, r in routed_of.items():
            run = sweep.get((name, idx, r["engine"]))
            decision_cost += (run or r)["cost_usd"] or 0.0
        res["regret_decision"] = ratio(decision_cost, oracle["cost_usd"])
        both = [i for i in routed_of if i in oracle_of]
        same = sum(routed_of[i]["engine"] == oracle_of[i]["engine"] for i in both)
        res["share_oracle_engine"] = same / len(both) if both else None
        res["misroutes"] = misroutes(name, routed_of, oracle_of, sweep, decisions)
    if "routed-static" in modes and oracle:
        res["regret_static"] = ratio(modes["routed-static"]["cost_usd"], oracle["cost_usd"])
    res["targets"] = [target_line(label, res.get(key), limit, what) for label, key, limit, what in TARGETS]
    res["pins_not_honoured"] = pins_not_honoured(name, by_mode, decisions)
    res["correctness"] = correctness([c for c in comparisons if c["workload"] == name])
    res["p95_statements"] = p95_statements(by_mode.get("routed", []))
    return res


def target_line(label: str, value: float | None, limit: float, what: str) -> dict:
    if value is None:
        return {"target": label, "value": None, "limit": limit, "met": None, "text": f"{label}: not measured"}
    met = value <= limit
    margin = limit - value
    verdict = f"met (margin {margin:.2f}×)" if met else f"missed by {-margin:.2f}× ({value / limit:.2f} times the target)"
    return {"target": label, "value": value, "limit": limit, "met": met, "what": what,
            "text": f"{label} {fmt_x(value)}, target ≤ {limit:g}×, {verdict}"}


def misroutes(name: str, routed_of: dict, oracle_of: dict, sweep: dict, decisions: dict) -> list[dict]:
    out = []
    for idx, r in routed_of.items():
        o = oracle_of.get(idx)
        if o is None or r["engine"] == o["engine"]:
            continue
        run = sweep.get((name, idx, r["engine"])) or r
        d = decisions.get((name, idx)) or {}
        cands = _candidates(d.get("calibrated") or d.get("static"))
        out.append({
            "idx": idx, "template": r["template"], "sql": (d.get("sql") or "")[:160],
            "routed": r["engine"], "oracle": o["engine"],
            "delta_cost_usd": (run["cost_usd"] or 0.0) - (o["cost_usd"] or 0.0),
            "delta_ms": run["client_ms"] - o["client_ms"],
            "routed_ms": run["client_ms"], "oracle_ms": o["client_ms"],
            "stage": r.get("stage"), "reasons": r.get("reasons") or [],
            "candidates": {e: {"capable": c.get("capable"), "est_latency_ms": c.get("est_latency_ms"),
                               "est_cost_usd": c.get("est_cost_usd")} for e, c in cands.items()},
        })
    out.sort(key=lambda m: (-m["delta_cost_usd"], -m["delta_ms"]))
    return out


def pins_not_honoured(name: str, by_mode: dict, decisions: dict) -> dict:
    """Per pinned mode: why statements ran elsewhere than the pinned engine (the pin's why_not codes)."""
    out: dict[str, dict[str, int]] = {}
    for mode, engine in (("all-trino", "trino"), ("all-duckdb", "duckdb")):
        codes: Counter = Counter()
        for r in by_mode.get(mode, []):
            if r["engine"] == engine:
                continue
            d = decisions.get((name, r["idx"])) or {}
            cand = _candidates(d.get("static")).get(engine) or {}
            why = [w.get("code") for w in cand.get("why_not") or []] or ["UNKNOWN"]
            codes[f"{why[0]} → {r['engine']}"] += 1
        if codes:
            out[mode] = dict(codes.most_common())
    return out


def correctness(comps: list[dict]) -> dict:
    status = Counter(c["status"] for c in comps)
    bad = [c for c in comps if c["status"] in ("unexplained", "failed")]
    return {"compared": len(comps), "matched": status["matched"], "known": status["known"],
            "unexplained": status["unexplained"], "failed": status["failed"],
            "known_examples": [c for c in comps if c["status"] == "known"][:5], "examples": bad[:8]}


def p95_statements(routed: list[dict], n: int = 5) -> list[dict]:
    """The slowest routed statements: what the p95 is made of."""
    worst = sorted(routed, key=lambda r: -r["client_ms"])[:n]
    return [{"idx": r["idx"], "template": r["template"], "engine": r["engine"], "client_ms": r["client_ms"],
             "stage": r.get("stage")} for r in worst]


def estimate_errors(records: list[dict], decisions: dict) -> dict:
    """Median |est − actual| / actual, static against calibrated, per engine and size class.

    Each calibrated estimate is the one the router gave for that very statement before it ran
    (prequential: no train/test split). Where the router's responses carry no estimate, the
    calibrated column falls back to the /v1/route decisions taken after the sweep (not prequential),
    and the static one to those taken before it."""
    rows = []
    seen: Counter = Counter()
    sources = Counter()
    for r in records:
        if r["mode"] not in ("sweep", "routed") or not r["ok"] or r["source"] != "run" or not r["engine"]:
            continue
        actual = r["engine_ms"] if r["engine_ms"] is not None else r["elapsed_ms"]
        if actual is None:
            continue
        d = decisions.get((r["workload"], r["idx"])) or {}
        static_c = _candidates(d.get("static")).get(r["engine"]) or {}
        calib_c = _candidates(d.get("calibrated")).get(r["engine"]) or {}
        static = r.get("est_latency_ms_static")
        if static is None:
            static = static_c.get("est_latency_ms_static", static_c.get("est_latency_ms"))
        calibrated = r.get("est_latency_ms")
        if calibrated is not None:
            sources["response"] += 1
        else:
            calibrated = calib_c.get("est_latency_ms")
            sources["route-after-sweep"] += 1
        if static is None or calibrated is None:
            continue
        a = max(actual, 1e-3)
        if r["mode"] == "sweep":
            seen[r["engine"]] += 1
        rows.append({"mode": r["mode"], "engine": r["engine"], "size_class": r.get("size_class") or "unknown",
                     "static": abs(static - a) / a, "calibrated": abs(calibrated - a) / a,
                     "warm": r["mode"] == "routed" or seen[r["engine"]] > WARM_STATEMENTS})

    def med(sel: list[dict]) -> dict:
        return {"n": len(sel), "static": median([x["static"] for x in sel]),
                "calibrated": median([x["calibrated"] for x in sel])}

    groups: dict[str, list[dict]] = defaultdict(list)
    for x in rows:
        if x["mode"] == "sweep":
            groups[f"{x['engine']} / {x['size_class']}"].append(x)
    return {
        "calibrated_from": dict(sources),
        "overall": med([x for x in rows if x["mode"] == "sweep"]),
        "after_first": med([x for x in rows if x["mode"] == "sweep" and x["warm"]]),
        "routed": med([x for x in rows if x["mode"] == "routed"]),
        "by_engine": {e: med([x for x in rows if x["mode"] == "sweep" and x["engine"] == e])
                      for e in sorted({x["engine"] for x in rows})},
        "by_engine_class": {k: med(v) for k, v in sorted(groups.items())},
    }


# --- formatting ---------------------------------------------------------------------------------------

def fmt_x(v: float | None) -> str:
    if v is None:
        return "n/a"
    return f"{v:.3g}×" if v < 0.1 else f"{v:.2f}×"


def fmt_usd(v: float | None) -> str:
    if v is None:
        return "n/a"
    if v == 0:
        return "$0"
    return f"${v:.4f}" if v >= 0.01 else f"${v:.3g}"


def fmt_ms(v: float | None) -> str:
    if v is None:
        return "n/a"
    return f"{v:,.0f} ms" if v >= 100 else f"{v:.1f} ms"


def fmt_pct(v: float | None) -> str:
    return "n/a" if v is None else f"{100 * v:.0f} %"


def md_escape(s: str) -> str:
    return s.replace("|", "\\|").replace("\n", " ")


# --- charts ----------------------------------------------------------------------------------------------

def _plt():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def chart_cost_by_mode(summary: dict, path: Path) -> None:
    plt = _plt()
    names = list(summary["workloads"])
    modes = [m for m in MODES if any(m in summary["workloads"][n]["modes"] for n in names)]
    fig, ax = plt.subplots(figsize=(max(7, 2.4 * len(names) + 3), 5.5))
    width = 0.8 / max(1, len(modes))
    top = 0.0
    for k, m in enumerate(modes):
        xs = [i + (k - (len(modes) - 1) / 2) * width for i in range(len(names))]
        ys = [summary["workloads"][n]["modes"].get(m, {}).get("cost_usd", 0.0) for n in names]
        top = max(top, *ys)
        bars = ax.bar(xs, ys, width, label=MODE_LABELS[m], color=MODE_COLOURS[m])
        for b, y in zip(bars, ys):
            if y > 0:
                ax.annotate(fmt_usd(y), (b.get_x() + b.get_width() / 2, y), ha="center", va="bottom", fontsize=6,
                            rotation=90, xytext=(0, 2), textcoords="offset points")
    ax.set_xticks(range(len(names)), names)
    ax.set_xlabel("workload")
    if top > 0:
        ax.set_yscale("log")
        ax.set_ylim(top=top * 3)  # room for the value labels
        ax.set_ylabel("statement cost (USD, log scale)")
    else:
        ax.set_ylabel("statement cost (USD)")
    ax.set_title(f"Cost by mode, SF {summary['sf']:g}: Σ max(engine s, minimum) × list price", fontsize=10)
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=3, frameon=False)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)


def chart_latency_cdf(name: str, records: list[dict], summary: dict, path: Path) -> None:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for m in MODES:
        lat = sorted(r["client_ms"] for r in records if r["workload"] == name and r["mode"] == m)
        if not lat:
            continue
        ys = [(i + 1) / len(lat) for i in range(len(lat))]
        ax.step([max(x, 0.01) for x in lat], ys, where="post", label=MODE_LABELS[m], color=MODE_COLOURS[m],
                linestyle="--" if m in ("oracle", "routed-static") else "-")
    ax.set_xscale("log")
    ax.axvline(summary["latency_target_ms"], color="black", linewidth=0.8, linestyle=":")
    ax.annotate(f"latency target {summary['latency_target_ms']} ms", (summary["latency_target_ms"], 0.98),
                fontsize=7, rotation=90, ha="right", va="top")
    ax.set_xlabel("client latency per statement (ms, log scale)")
    ax.set_ylabel("fraction of statements")
    ax.set_ylim(0, 1.02)
    ax.set_title(f"Latency CDF: {name} (SF {summary['sf']:g}, concurrency {summary['concurrency']})")
    ax.legend(fontsize=7, loc="lower right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)


def chart_misroutes(summary: dict, path: Path, top: int = 20) -> None:
    plt = _plt()
    per: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
    for w in summary["workloads"].values():
        for m in w.get("misroutes", []):
            per[m["template"]][0] += 1
            per[m["template"]][1] += max(m["delta_cost_usd"], 0.0)
    items = sorted(per.items(), key=lambda kv: (-kv[1][1], -kv[1][0]))[:top]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, max(3, 0.3 * len(items) + 1.5)), sharey=True)
    if items:
        labels = [t for t, _ in items][::-1]
        a1.barh(labels, [v[0] for _, v in items][::-1], color="#ff7f0e")
        a2.barh(labels, [v[1] for _, v in items][::-1], color="#d62728")
    else:
        for a in (a1, a2):
            a.text(0.5, 0.5, "no misroutes", ha="center", va="center", transform=a.transAxes)
            a.set_yticks([])
    a1.set_xlabel("misrouted statements (count)")
    a2.set_xlabel("extra cost over the oracle (USD)")
    a1.set_ylabel("template")
    a1.set_title("Misroutes by template (routed engine ≠ oracle's)", fontsize=9, loc="left")
    for a in (a1, a2):
        a.grid(axis="x", alpha=0.3)
        a.tick_params(axis="y", labelsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)


def chart_estimate_error(summary: dict, path: Path) -> None:
    plt = _plt()
    err = summary["estimate_error"]["by_engine_class"]
    keys = [k for k, v in err.items() if v["n"]]
    fig, ax = plt.subplots(figsize=(max(7, 1.1 * len(keys) + 2), 4.8))
    if keys:
        xs = range(len(keys))
        static = [100 * err[k]["static"] for k in keys]
        calib = [100 * err[k]["calibrated"] for k in keys]
        ax.bar([x - 0.2 for x in xs], static, 0.4, label="static (configured figures)", color="#7f7f7f")
        ax.bar([x + 0.2 for x in xs], calib, 0.4, label="calibrated (learnt from observed runs)", color="#2ca02c")
        ax.set_xticks(list(xs), [f"{k}\n(n={err[k]['n']})" for k in keys], fontsize=7)
        values = [v for v in static + calib if v > 0]
        if values and max(values) / min(values) > 50:  # errors spanning orders of magnitude
            ax.set_yscale("log")
            ax.set_ylabel("median |estimate − actual| / actual (%, log scale)")
        else:
            ax.set_ylabel("median |estimate − actual| / actual (%)")
        ax.legend(fontsize=7)
    else:
        ax.text(0.5, 0.5, "no estimates recorded", ha="center", va="center", transform=ax.transAxes)
        ax.set_ylabel("median |estimate − actual| / actual (%)")
    ax.set_xlabel("engine / size class (estimated bytes scanned)")
    ax.set_title("Latency estimate error of the sweep's runs, before and after calibration", fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)


def chart_engine_mix(summary: dict, path: Path) -> None:
    plt = _plt()
    names = list(summary["workloads"])
    fig, axes = plt.subplots(1, len(names), figsize=(4 * len(names) + 1, 4.5), squeeze=False, sharey=True)
    engines = sorted({e for w in summary["workloads"].values() for m in w["modes"].values() for e in m["engine_mix"]})
    for ax, n in zip(axes[0], names):
        modes = [m for m in MODES if m in summary["workloads"][n]["modes"]]
        bottom = [0.0] * len(modes)
        for e in engines:
            share = []
            for m in modes:
                mix = summary["workloads"][n]["modes"][m]["engine_mix"]
                share.append(100 * mix.get(e, 0) / max(1, sum(mix.values())))
            ax.bar(range(len(modes)), share, bottom=bottom, label=e, color=ENGINE_COLOURS.get(e, None))
            bottom = [b + s for b, s in zip(bottom, share)]
        ax.set_xticks(range(len(modes)), modes, rotation=30, ha="right", fontsize=7)
        ax.set_title(n)
        ax.set_xlabel("mode")
    axes[0][0].set_ylabel("share of statements (%)")
    axes[0][-1].legend(title="engine", fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.suptitle("Engine mix per mode")
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)


# --- REPORT.md -------------------------------------------------------------------------------------------

def estimate_sources(sources: dict) -> str:
    """Says where the calibrated estimates came from, in words."""
    parts = []
    if sources.get("response"):
        parts.append(f"{sources['response']:,} from the routing summary returned with each result (made just "
                     "before the statement ran: prequential)")
    if sources.get("route-after-sweep"):
        parts.append(f"{sources['route-after-sweep']:,} from /v1/route after the sweep, because the router returned "
                     "no estimate with those results (not prequential)")
    return "Calibrated estimates: " + ("; ".join(parts) if parts else "none") + "."


def render_markdown(run: dict, summary: dict, charts: list[str]) -> str:
    facts, prices = run["facts"], run["prices"]
    L: list[str] = []
    L.append(f"# Workload benchmark: cost and latency through lakerouter (SF {facts['sf']:g})")
    L.append("")
    L.append(f"Run {facts['started']} on {facts['machine']['host']} ({facts['machine']['cores']} cores), git "
             f"`{facts['git']['sha'][:12]}`{' (uncommitted changes)' if facts['git'].get('dirty') else ''}, "
             f"concurrency {facts['concurrency']}, latency target {facts['latency_target_ms']} ms"
             f"{', first ' + str(facts['limit']) + ' statements per workload' if facts.get('limit') else ''}. "
             f"How to run it and what is measured: bench/WORKLOAD.md in the repository.")
    L.append("")
    L.append("## Headline")
    L.append("")
    for name, w in summary["workloads"].items():
        L.append(f"**{name}**{' (the acceptance workload)' if name == HEADLINE_FIRST else ''}:")
        L.append("")
        L.append(f"- cost routed/all-Trino: **{fmt_x(w.get('cost_ratio'))}** (statement view); billed with idle "
                 f"tails {fmt_x(w.get('billed_ratio'))}; same hardware {fmt_x(w.get('same_hw_ratio'))}")
        L.append(f"- latency routed/all-Trino: p50 **{fmt_x(w.get('p50_ratio'))}**, p95 **{fmt_x(w.get('p95_ratio'))}**")
        L.append(f"- regret routed/oracle: **{fmt_x(w.get('regret_measured'))}** measured, "
                 f"{fmt_x(w.get('regret_decision'))} decision-only (routed choices priced from the isolated sweep "
                 f"runs); before calibration {fmt_x(w.get('regret_static'))}")
        L.append(f"- routed to the oracle's engine: **{fmt_pct(w.get('share_oracle_engine'))}** of statements")
        for t in w["targets"]:
            mark = {True: "✅", False: "❌", None: "–"}[t["met"]]
            L.append(f"- {mark} {t['text']}")
        c = w["correctness"]
        L.append(f"- results: {c['compared']} compared, {c['matched']} matched, {c['known']} known differences, "
                 f"{c['unexplained'] + c['failed']} unexplained")
        L.append("")
    L.append("## How cost is counted")
    L.append("")
    L.append("- **Statement cost** (the headline): Σ max(engine seconds, the engine's statement minimum) × its "
             "hourly rate. Engine seconds are the router's `timing.engine_ms` (engine start to last row, without "
             "the admission wait) where the router reports it, else `elapsed_ms` (request parsed to last row). "
             f"Used here: {dict(Counter(r['engine_s_from'] for r in run['records'] if r['source'] == 'run'))}.")
    L.append("- **Billed cost**: cluster and warehouse engines (Trino, Databricks) are billed per busy period: the "
             "statements' intervals merged, split where the engine idles longer than its idle tail, each period "
             "charged for its length plus the tail, at least the minimum, rounded up to the increment. Host "
             "engines (the router's VM with the embedded DuckDB, the application's PostgreSQL) are charged for the "
             "mode's wall time when the mode ran anything on them, so routed pays the router host and all-Trino "
             "pays only the hosts its dropped pins used. Modes taken from the sweep have no timeline of their own: "
             "their statements are laid end to end (a closed-loop replay at concurrency 1). A closed-loop replay "
             "compresses time (no think time between statements), which makes idle tails and minimums look "
             "smaller than in production.")
    L.append("- **Same hardware**: every engine at the router VM's rate. The local one-node Trino is priced as the "
             "five-node cluster of the price list, so the list-price views overstate what Trino costs here; this "
             "line bounds that effect.")
    L.append("")
    L.append("| engine | $/h | model | minimum per period | statement minimum | idle tail | source |")
    L.append("| --- | --- | --- | --- | --- | --- | --- |")
    for e in prices.engines.values():
        L.append(f"| {e.name} | {e.usd_per_hour:.2f} | {e.model} | {e.minimum_s:g} s | {e.statement_minimum_s:g} s "
                 f"| {e.idle_tail_s:g} s | {md_escape(e.source)} |")
    L.append("")
    L.append("## Modes")
    L.append("")
    for name, w in summary["workloads"].items():
        L.append(f"### {name}")
        L.append("")
        L.append("| mode | statements | failed | statement cost | billed | same hardware | p50 | p95 | p99 | engines |")
        L.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
        for m, s in w["modes"].items():
            mix = ", ".join(f"{e} {n}" for e, n in sorted(s["engine_mix"].items(), key=lambda kv: -kv[1]))
            L.append(f"| {MODE_LABELS[m]} | {s['statements']} | {s['failed']} | {fmt_usd(s['cost_usd'])} | "
                     f"{fmt_usd(s['billed_usd'])} | {fmt_usd(s['same_hw_usd'])} | {fmt_ms(s['p50_ms'])} | "
                     f"{fmt_ms(s['p95_ms'])} | {fmt_ms(s['p99_ms'])} | {mix} |")
        L.append("")
        if w["pins_not_honoured"]:
            L.append("Pins not honoured (the statement ran where the pin's engine could not run it):")
            L.append("")
            for mode, codes in w["pins_not_honoured"].items():
                L.append(f"- {MODE_LABELS[mode]}: " + ", ".join(f"{k}: {v}" for k, v in codes.items()))
            L.append("")
        if w["p95_statements"]:
            L.append("Slowest routed statements (what the p95 is made of): " + "; ".join(
                f"#{p['idx']} {p['template']} on {p['engine']} {fmt_ms(p['client_ms'])}" for p in w["p95_statements"]))
            L.append("")
    L.append("## Worst misroutes")
    L.append("")
    L.append("A misroute is a statement the routed replay ran on another engine than the oracle's. Δ are the "
             "routed engine's isolated sweep run minus the oracle's; the reasons are the routed request's decision, "
             "the candidates' estimates are from /v1/route after the sweep (calibrated).")
    L.append("")
    for name, w in summary["workloads"].items():
        ms = w.get("misroutes", [])
        L.append(f"### {name}: {len(ms)} misroute{'' if len(ms) == 1 else 's'}")
        L.append("")
        if not ms:
            continue
        L.append("| # | template | routed → oracle | Δcost | Δlatency | decision | candidates (est.) | SQL |")
        L.append("| --- | --- | --- | ---: | ---: | --- | --- | --- |")
        for m in ms[:WORST_MISROUTES]:
            reasons = "; ".join(f"{r.get('code')}: {r.get('message', '')}" for r in m["reasons"][-2:])
            cands = ", ".join(f"{e} {fmt_ms(c['est_latency_ms'])}/{fmt_usd(c['est_cost_usd'])}"
                              for e, c in m["candidates"].items() if c.get("capable"))
            L.append(f"| {m['idx']} | {m['template']} | {m['routed']} → {m['oracle']} | {fmt_usd(m['delta_cost_usd'])} "
                     f"| {m['delta_ms']:+,.0f} ms | {md_escape(reasons)[:400]} | {cands} | `{md_escape(m['sql'])[:120]}` |")
        L.append("")
    L.append("## Correctness")
    L.append("")
    L.append("Every run is compared with the reference engine's result (DuckDB if capable, else PostgreSQL, else "
             "Trino): in the sweep, and for the replays (statements that read rows the workload writes only in "
             "the sweep). Rules: bench/lakebench/compare.py.")
    L.append("")
    L.append("| workload | compared | matched | known | unexplained | failed |")
    L.append("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, w in summary["workloads"].items():
        c = w["correctness"]
        L.append(f"| {name} | {c['compared']} | {c['matched']} | {c['known']} | {c['unexplained']} | {c['failed']} |")
    L.append("")
    for name, w in summary["workloads"].items():
        for c in w["correctness"]["known_examples"]:
            L.append(f"- known, {name}#{c['idx']} {c['template']} on {c['engine']}: {md_escape(c['detail'])[:200]} "
                     f"— {md_escape(c.get('reason', ''))}")
        for c in w["correctness"]["examples"]:
            L.append(f"- **{c['status']}**, {name}#{c['idx']} {c['template']} ({c['mode']}) on {c['engine']} vs "
                     f"{c['reference_engine']}: {md_escape(c['detail'])[:300]}")
    L.append("")
    e = summary["estimate_error"]
    L.append("## Estimate error")
    L.append("")
    L.append("Median |estimated − actual| / actual of the router's latency estimates, actual = engine time. "
             "Static: the configured figures; calibrated: the estimate the router made for that statement just "
             "before running it (no train/test split needed). "
             + estimate_sources(e["calibrated_from"] or {}))
    L.append("")
    L.append("| runs | n | static | calibrated |")
    L.append("| --- | ---: | ---: | ---: |")

    def row(label: str, v: dict) -> None:
        L.append(f"| {label} | {v['n']} | {fmt_pct(v['static'])} | {fmt_pct(v['calibrated'])} |")
    row("sweep, all", e["overall"])
    row(f"sweep, after each engine's first {WARM_STATEMENTS}", e["after_first"])
    row("routed replay, chosen engine", e["routed"])
    for k, v in e["by_engine_class"].items():
        row(k, v)
    L.append("")
    L.append("## Charts")
    L.append("")
    for c in charts:
        L.append(f"![{c}]({c})")
        L.append("")
    L.append("## Run facts")
    L.append("")
    L.append(f"- git {facts['git']['sha']}{' + uncommitted changes' if facts['git'].get('dirty') else ''}; "
             f"router {facts['router_binary']}")
    L.append(f"- SF {facts['sf']:g}, lake {facts['lake']}, Trino heap {facts['trino_heap']}, timeout "
             f"{facts['timeout_s']:g} s, concurrency {facts['concurrency']}, all-Trino/all-DuckDB "
             f"{'replayed for real' if facts['replayed_ab'] else 'taken from the sweep'}")
    mach = facts["machine"]
    L.append(f"- machine: {mach['cores']} cores ({mach['cpu']}), {mach['memory_gb']} GB, Linux {mach['kernel']}, "
             f"Python {mach['python']}")
    for w in facts["workloads"]:
        L.append(f"- workload {w['name']} version {w['version']} (seed {w['seed']}): {w['statements']} statements, "
                 f"digest `{w['digest']}`")
    L.append(f"- total {facts['total_s'] / 60:.1f} min (runner {facts['runner_s'] / 60:.1f} min); phases: " +
             ", ".join(f"{p['phase']} {p['seconds']:.0f} s (load {p['load_before']:.2f}→{p['load_after']:.2f})"
                       for p in facts["phases"]))
    pr = facts.get("projection")
    if pr:
        L.append(f"- projection after warm-up: {pr['projected_total_s'] / 60:.1f} min of the "
                 f"{pr['budget_s'] / 60:.0f} min budget")
    a = facts.get("audit") or {}
    if a.get("available"):
        L.append(f"- audit log: {a['found']} of {a['requests']} measured requests found, {a['engine_mismatch']} "
                 f"on another engine, {a['outcome_mismatch']} with another outcome")
    else:
        L.append(f"- audit log: not reconciled ({a.get('detail', 'unavailable')})")
    cal = facts.get("calibration") or {}
    L.append(f"- calibration state: {'GET /v1/calibration answered' if cal.get('available') else 'not available (' + str(cal.get('detail')) + ')'}")
    if facts.get("warnings"):
        L.append("")
        L.append("### Warnings")
        L.append("")
        for wn in facts["warnings"][:40]:
            L.append(f"- {md_escape(wn)}")
        if len(facts["warnings"]) > 40:
            L.append(f"- … and {len(facts['warnings']) - 40} more (run.json)")
    L.append("")
    return "\n".join(L)


def build_report(out: Path) -> dict:
    out = Path(out)
    run = load_run(out)
    summary = summarise(run)
    charts = ["cost_by_mode.png"]
    chart_cost_by_mode(summary, out / "cost_by_mode.png")
    for name in summary["workloads"]:
        fname = f"latency_cdf_{name}.png"
        chart_latency_cdf(name, run["records"], summary, out / fname)
        charts.append(fname)
    chart_misroutes(summary, out / "misroutes_by_template.png")
    chart_estimate_error(summary, out / "estimate_error.png")
    chart_engine_mix(summary, out / "engine_mix.png")
    charts += ["misroutes_by_template.png", "estimate_error.png", "engine_mix.png"]
    (out / "REPORT.md").write_text(render_markdown(run, summary, charts))
    summary["facts"] = {k: run["facts"][k] for k in ("started", "git", "sf", "concurrency", "workloads", "total_s")}
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
    return summary
