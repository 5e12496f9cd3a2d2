#!/usr/bin/env python3
"""Workloads of the benchmark: versioned TOML templates rendered into the same statements every run.

A workload file (bench/workloads/<name>.toml, format 1; bench/workloads/README.md describes it) holds
templates: SQL with {{param}} placeholders, a weight, and what the benchmark needs to know about the
statement (read or write, whether its rows are ordered, which engines can run it, whether it reads
rows the workload writes). render() turns a workload into statements at a scale factor:

- the number of statements of each template is its share of the weights (largest remainder), and
  their order is a shuffle seeded by "<seed>:order";
- each parameter is drawn for the template's k-th statement: finite domains (choice, date, decimal,
  small int ranges) are shuffled once, seeded by "<seed>:<template>:<param>", and statement k takes
  element k (so repeated statements of a template differ until the domain is used up); large int
  ranges draw from random.Random("<seed>:<template>:<param>:<k>");
- dates are computed in Python and written as 'YYYY-MM-DD' inside DATE literals, so no statement
  needs INTERVAL syntax or casts that differ between DuckDB, PostgreSQL and Trino.

The output depends only on the file and the scale factor: digest() pins it.

Command line (for people; the runner imports the functions):
    workload.py render --workload mixed --sf 1 [--out rendered.jsonl]
    workload.py lint [--workload NAME ...] [--sf 0.01]
    workload.py summary [--workload NAME ...] [--sf 0.01]
"""
from __future__ import annotations

import argparse
import ast
import datetime as dt
import difflib
import hashlib
import json
import random
import re
import sys
import tomllib
from collections import Counter
from dataclasses import asdict, dataclass
from decimal import Decimal, InvalidOperation, ROUND_FLOOR
from pathlib import Path
from typing import Any, Iterable, Sequence

WORKLOADS_DIR = Path(__file__).resolve().parents[1] / "workloads"

FORMAT = 1
ENGINES = ("duckdb", "postgres", "trino", "databricks")
KINDS = ("read", "write")
MAX_ROWS = 1000                 # results stay small: the benchmark measures engines, not JSON transfer
WRITE_ID_FLOOR = 10_000_000     # ids the workloads write start here, far above the seeded rows
SHUFFLE_LIMIT = 10_000          # int ranges up to this size are shuffled; larger ones are drawn

_TOP_KEYS = ("format", "workload", "version", "statements", "seed", "description", "template")
_TEMPLATE_KEYS = ("id", "weight", "category", "kind", "ordered", "expect", "reads_written", "sql", "sql_file",
                  "params", "validation", "note")
_PARAM_KINDS = ("int", "choice", "date", "decimal", "expr", "seq")
_PARAM_OPTIONS = {"int": (), "choice": (), "date": (), "decimal": ("step",), "expr": (),
                  "seq": ("table", "column")}
_ID = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$")
_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
# {{name}}, {{name.1}} (an element of a list value), {{name + 3m}} / {{year - 1}} / {{discount + 0.01}}
_PLACEHOLDER = re.compile(r"\{\{\s*(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:\.(?P<index>\d+))?"
                          r"\s*(?:(?P<sign>[+-])\s*(?P<amount>\d+(?:\.\d+)?)\s*(?P<unit>[dwmy])?)?\s*\}\}")
_STEP = re.compile(r"^(\d+)\s*([dwmy])$")
_DATE_UNITS = {"d": "days", "w": "weeks", "m": "months", "y": "years"}


class WorkloadError(ValueError):
    """A workload file that cannot be used; the message names the file and the key."""


class _Errors:
    """The problems found in one file, each as `file:key: message`."""

    def __init__(self, path: Path):
        self.path, self.lines = path, []

    def __call__(self, key: str, message: str) -> None:
        self.lines.append(f"{self.path}:{key}: {message}")

    def __len__(self) -> int:
        return len(self.lines)


# --- the model -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Param:
    name: str
    kind: str               # int | choice | date | decimal | expr | seq
    spec: tuple             # normalised, per kind (see _parse_param)


@dataclass(frozen=True)
class Template:
    id: str
    weight: int
    category: str
    kind: str               # "read" | "write"
    ordered: bool
    expect: tuple[str, ...]
    reads_written: bool
    sql: str
    params: tuple[Param, ...]
    validation: tuple[tuple[str, Any], ...] = ()   # fixed values (the TPC-H spec's validation parameters)
    sql_file: str | None = None


@dataclass(frozen=True)
class Statement:
    workload: str
    idx: int
    template: str
    category: str
    sql: str
    kind: str                 # "read" | "write"
    ordered: bool
    expect: tuple[str, ...]   # engines that can run it, e.g. ("duckdb", "trino")
    reads_written: bool


@dataclass(frozen=True)
class Workload:
    name: str
    version: int
    seed: int
    statements: int
    path: Path
    templates: tuple[Template, ...]

    def template(self, template_id: str) -> Template:
        for t in self.templates:
            if t.id == template_id:
                return t
        raise KeyError(f"{self.path.name}: no template {template_id!r}")


# --- loading ---------------------------------------------------------------------------------------------

def available_workloads() -> list[str]:
    return sorted(p.stem for p in WORKLOADS_DIR.glob("*.toml") if p.stem != "known_differences")


def workload_path(name_or_path: str | Path) -> Path:
    text = str(name_or_path)
    if isinstance(name_or_path, Path) or text.endswith(".toml") or "/" in text:
        path = Path(name_or_path)
        if not path.is_file():
            raise WorkloadError(f"{path}: no such workload file")
        return path
    path = WORKLOADS_DIR / f"{text}.toml"
    if not path.is_file():
        names = available_workloads()
        close = difflib.get_close_matches(text, names, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise WorkloadError(f"unknown workload {text!r}{hint}; workloads in {WORKLOADS_DIR}: {', '.join(names)}")
    return path


def load_workload(name_or_path: str | Path) -> Workload:
    """Reads and checks a workload file. Every problem found is reported, one per line, as
    `file:key: message`."""
    path = workload_path(name_or_path)
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise WorkloadError(f"{path}: not valid TOML: {e}") from None
    err = _Errors(path)
    _unknown_keys(doc, _TOP_KEYS, "", err)
    if doc.get("format") != FORMAT:
        err("format", f"must be {FORMAT} (got {doc.get('format')!r})")
    name = doc.get("workload")
    if not (isinstance(name, str) and _NAME.match(name)):
        err("workload", f"needs a name of lower-case letters, digits and _ (got {name!r})")
    version = _positive_int(doc, "version", err)
    count = _positive_int(doc, "statements", err)
    seed = doc.get("seed")
    if not _is_int(seed):
        err("seed", f"needs an integer (got {seed!r})")
    raw_templates = doc.get("template")
    templates: list[Template] = []
    if not (isinstance(raw_templates, list) and raw_templates and all(isinstance(t, dict) for t in raw_templates)):
        err("template", "needs at least one [[template]] table")
    else:
        seen: dict[str, int] = {}
        for n, raw in enumerate(raw_templates):
            t = _parse_template(raw, n, path, err)
            if t is None:
                continue
            if t.id in seen:
                err(f"template.{t.id}", f"id used twice (templates #{seen[t.id] + 1} and #{n + 1})")
            seen[t.id] = n
            templates.append(t)
    if err.lines:
        raise WorkloadError("\n".join(err.lines))
    return Workload(name, version, seed, count, path, tuple(templates))


def _unknown_keys(table: dict, allowed: Sequence[str], prefix: str, err) -> None:
    for key in table:
        if key not in allowed:
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else f" (allowed: {', '.join(allowed)})"
            err(f"{prefix}{key}", f"unknown key{hint}")


def _is_int(v: Any) -> bool:
    """An integer, not a bool (TOML's true is no count)."""
    return isinstance(v, int) and not isinstance(v, bool)


def _positive_int(table: dict, key: str, err, prefix: str = "") -> int:
    value = table.get(key)
    if not (_is_int(value) and value > 0):
        err(f"{prefix}{key}", f"needs a positive integer (got {value!r})")
        return 0
    return value


def _parse_template(raw: dict, n: int, path: Path, err: _Errors) -> Template | None:
    tid = raw.get("id")
    if not (isinstance(tid, str) and _ID.match(tid)):
        err(f"template[{n}].id", f"needs an id like 'dash.orders_by_month' (got {tid!r})")
        return None
    key = f"template.{tid}."
    before = len(err)
    _unknown_keys(raw, _TEMPLATE_KEYS, key, err)
    weight = _positive_int(raw, "weight", err, key)
    category = raw.get("category")
    if not (isinstance(category, str) and category):
        err(key + "category", "needs a name (e.g. 'dashboard')")
    kind = raw.get("kind")
    if kind not in KINDS:
        err(key + "kind", f"must be one of {', '.join(KINDS)} (got {kind!r})")
    flags = {}
    for flag, default in (("ordered", None), ("reads_written", False)):
        value = raw.get(flag, default)
        if not isinstance(value, bool):
            err(key + flag, f"needs true or false (got {value!r})")
        flags[flag] = bool(value)
    expect = raw.get("expect")
    if not (isinstance(expect, list) and expect and all(e in ENGINES for e in expect)
            and len(set(expect)) == len(expect)):
        err(key + "expect", f"needs a list of distinct engines from {', '.join(ENGINES)} (got {expect!r})")
        expect = []
    sql_file = raw.get("sql_file")
    sql = raw.get("sql")
    if (sql is None) == (sql_file is None):
        err(key + "sql", "give exactly one of 'sql' and 'sql_file'")
        sql = ""
    elif sql_file is not None:
        file = path.parent / str(sql_file)
        try:
            sql = _strip_header_comments(file.read_text(encoding="utf-8"))
        except OSError as e:
            err(key + "sql_file", f"cannot read {file}: {e.strerror}")
            sql = ""
    elif not isinstance(sql, str):
        err(key + "sql", "needs a string")
        sql = ""
    sql = sql.strip()
    if sql.endswith(";"):
        err(key + "sql", "ends with ';': a statement is one statement, without a terminator")
    raw_params = raw.get("params", {})
    params: list[Param] = []
    if not isinstance(raw_params, dict):
        err(key + "params", "needs a table of name = {kind = ...}")
        raw_params = {}
    broken: set[str] = set()  # reported already: their placeholders are not reported again
    for pname, pspec in raw_params.items():
        p = _parse_param(pname, pspec, key + f"params.{pname}", [q.name for q in params], err)
        if p is not None:
            params.append(p)
        else:
            broken.add(pname)
    by_name = {p.name: p for p in params}
    used = set()
    for m in _PLACEHOLDER.finditer(sql):
        used.add(m.group("name"))
        if m.group("name") not in broken:
            _check_placeholder(m, by_name, key + "sql", err)
    leftover = _PLACEHOLDER.sub("", sql)
    if "{{" in leftover or "}}" in leftover:
        bad = re.search(r"\{\{[^}]*\}?\}?", leftover)
        err(key + "sql", f"malformed placeholder {bad.group() if bad else '{{'!r}: write {{{{name}}}}, "
                         f"{{{{name.0}}}}, {{{{name + 3m}}}} or {{{{name - 1}}}}")
    referenced = {n for p in params for n in _expr_names(p)}
    for p in params:
        if p.name not in used and p.name not in referenced:
            err(key + f"params.{p.name}", "declared but not used in the SQL or by another parameter")
    raw_validation = raw.get("validation", {})
    validation: list[tuple[str, Any]] = []
    if not isinstance(raw_validation, dict):
        err(key + "validation", "needs a table of name = value")
    else:
        for vname, value in raw_validation.items():
            if vname not in by_name:
                err(key + f"validation.{vname}", f"no parameter {vname!r}")
                continue
            try:
                validation.append((vname, _coerce_fixed(by_name[vname], value)))
            except ValueError as e:
                err(key + f"validation.{vname}", str(e))
    if len(err) > before:
        return None
    return Template(tid, weight, category, kind, flags["ordered"], tuple(expect), flags["reads_written"], sql,
                    tuple(params), tuple(validation), str(sql_file) if sql_file is not None else None)


def _strip_header_comments(text: str) -> str:
    """A SQL file may start with `--` lines that document it; they are not sent to engines."""
    lines = text.splitlines()
    while lines and (not lines[0].strip() or lines[0].lstrip().startswith("--")):
        lines.pop(0)
    return "\n".join(lines)


def _check_placeholder(m: re.Match, params: dict[str, Param], key: str, err) -> None:
    name, index, unit, amount = m.group("name"), m.group("index"), m.group("unit"), m.group("amount")
    p = params.get(name)
    if p is None:
        err(key, f"placeholder {m.group()} names no parameter (declared: {', '.join(params) or 'none'})")
        return
    if index is not None and p.kind != "choice":
        err(key, f"placeholder {m.group()}: only a choice of lists can be indexed")
    if amount is None:
        return
    if p.kind == "date":
        if unit is None:
            err(key, f"placeholder {m.group()}: a date offset needs a unit (d, w, m or y)")
        elif "." in amount:
            err(key, f"placeholder {m.group()}: a date offset is a whole number")
    elif p.kind in ("int", "decimal", "expr", "seq"):
        if unit is not None:
            err(key, f"placeholder {m.group()}: a {p.kind} offset takes no unit")
        elif p.kind in ("int", "seq") and "." in amount:
            err(key, f"placeholder {m.group()}: an {p.kind} offset is a whole number")
    else:
        err(key, f"placeholder {m.group()}: a {p.kind} value takes no offset")


def _parse_param(name: str, spec: Any, key: str, earlier: list[str], err) -> Param | None:
    if not _NAME.match(name):
        err(key, "parameter names are lower-case letters, digits and _")
        return None
    if not isinstance(spec, dict):
        err(key, f"needs {{kind = ...}} with kind one of {', '.join(_PARAM_KINDS)}")
        return None
    kinds = [k for k in spec if k in _PARAM_KINDS]
    if len(kinds) != 1:
        err(key, f"needs exactly one of {', '.join(_PARAM_KINDS)} (got {', '.join(spec) or 'nothing'})")
        return None
    kind = kinds[0]
    _unknown_keys({k: v for k, v in spec.items() if k != kind}, _PARAM_OPTIONS[kind], key + ".", err)
    value = spec[kind]
    try:
        if kind == "int":
            if not (isinstance(value, list) and len(value) == 2):
                raise ValueError("int needs [low, high] (inclusive; numbers or expressions of sf)")
            bounds = tuple(_bound(v, earlier) for v in value)
            return Param(name, kind, bounds)
        if kind == "choice":
            if not (isinstance(value, list) and value):
                raise ValueError("choice needs a non-empty list of values")
            return Param(name, kind, tuple(_choice_value(v) for v in value))
        if kind == "date":
            if not isinstance(value, dict) or set(value) != {"from", "to", "step"}:
                raise ValueError('date needs {from = 1995-01-01, to = 1995-12-31, step = "1d"} (step in d, w, m or y)')
            start, end = _date(value["from"]), _date(value["to"])
            if end < start:
                raise ValueError(f"date: 'to' ({end}) is before 'from' ({start})")
            m = _STEP.match(str(value["step"]))
            if not m or int(m.group(1)) == 0:
                raise ValueError(f"date: step {value['step']!r} is not like \"1d\", \"7d\", \"1m\" or \"1y\"")
            return Param(name, kind, (start, end, int(m.group(1)), m.group(2)))
        if kind == "decimal":
            if not (isinstance(value, list) and len(value) == 2):
                raise ValueError('decimal needs [low, high] (inclusive), e.g. ["0.02", "0.09"], '
                                 'and a step (default 0.01)')
            low, high, step = _dec(value[0]), _dec(value[1]), _dec(spec.get("step", "0.01"))
            if high < low or step <= 0:
                raise ValueError(f"decimal: needs low <= high and a positive step (got {low}, {high}, {step})")
            return Param(name, kind, (low, high, step))
        if kind == "expr":
            if not isinstance(value, str):
                raise ValueError('expr needs a string, e.g. "0.0001 / sf"')
            _check_expr(value, earlier)
            return Param(name, kind, (value,))
        if kind == "seq":
            if not (_is_int(value) and value >= WRITE_ID_FLOOR):
                raise ValueError(f"seq needs the first id, at least {WRITE_ID_FLOOR} (got {value!r})")
            table, column = spec.get("table"), spec.get("column")
            if not (isinstance(table, str) and "." in table and isinstance(column, str) and column):
                raise ValueError('seq needs table = "schema.table" and column = "id": the cleanup deletes that range')
            return Param(name, kind, (value, table, column))
    except ValueError as e:
        err(key, str(e))
    return None


def _bound(v: Any, earlier: list[str]) -> int | str:
    if _is_int(v):
        return v
    if isinstance(v, str):
        _check_expr(v, earlier)
        return v
    raise ValueError(f"int bound {v!r} is neither an integer nor an expression")


def _choice_value(v: Any) -> Any:
    if isinstance(v, (list, tuple)):
        if not v or any(isinstance(x, (list, tuple)) for x in v):
            raise ValueError(f"choice: a list value must be a non-empty flat list (got {v!r})")
        return tuple(_choice_value(x) for x in v)
    if isinstance(v, bool) or not isinstance(v, (str, int, float)):
        raise ValueError(f"choice: values are strings, integers, decimals or lists of them (got {v!r})")
    if isinstance(v, str) and ("'" in v or "{{" in v):
        raise ValueError(f"choice: value {v!r} holds a quote or a placeholder")
    if isinstance(v, float):
        return Decimal(str(v))
    return v


def _date(v: Any) -> dt.date:
    if isinstance(v, dt.datetime):
        raise ValueError(f"{v!r} is a timestamp; give a date")
    if isinstance(v, dt.date):
        return v
    try:
        return dt.date.fromisoformat(str(v))
    except ValueError:
        raise ValueError(f"{v!r} is not a date (YYYY-MM-DD)") from None


def _dec(v: Any) -> Decimal:
    if isinstance(v, bool):
        raise ValueError(f"{v!r} is not a number")
    try:
        return Decimal(str(v))
    except InvalidOperation:
        raise ValueError(f"{v!r} is not a number") from None


def _coerce_fixed(p: Param, value: Any) -> Any:
    """A validation value in the form a drawn value of the parameter has."""
    if p.kind == "date":
        return _date(value)
    if p.kind in ("decimal", "expr"):
        return _dec(value)
    if p.kind in ("int", "seq"):
        if not _is_int(value):
            raise ValueError(f"{value!r} is not an integer")
        return value
    return _choice_value(value)


# --- expressions of sf and earlier parameters -------------------------------------------------------------

_EXPR_FUNCS = {"int": lambda x: int(Decimal(x).to_integral_value(ROUND_FLOOR)),
               "round": lambda x, n=0: Decimal(x).quantize(Decimal(1).scaleb(-int(n))),
               "min": min, "max": max}
_EXPR_OPS = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
             ast.Div: lambda a, b: Decimal(a) / Decimal(b), ast.FloorDiv: lambda a, b: a // b,
             ast.Mod: lambda a, b: a % b}


def _check_expr(text: str, names: Iterable[str]) -> None:
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError:
        raise ValueError(f"expression {text!r} does not parse") from None
    allowed = {"sf", *names}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id not in allowed and node.id not in _EXPR_FUNCS:
            raise ValueError(f"expression {text!r}: unknown name {node.id!r} (use sf, functions "
                             f"{', '.join(_EXPR_FUNCS)}, or parameters declared before it)")
        if isinstance(node, ast.Call) and not (isinstance(node.func, ast.Name) and node.func.id in _EXPR_FUNCS):
            raise ValueError(f"expression {text!r}: only {', '.join(_EXPR_FUNCS)} may be called")
        if not isinstance(node, (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Constant, ast.Name, ast.Call, ast.Load,
                                 ast.USub, ast.UAdd, *_EXPR_OPS)):
            raise ValueError(f"expression {text!r}: {type(node).__name__} is not allowed")
        if isinstance(node, ast.Constant) and (isinstance(node.value, bool)
                                               or not isinstance(node.value, (int, float))):
            raise ValueError(f"expression {text!r}: only numbers are allowed as constants")


def _expr_names(p: Param) -> set[str]:
    texts = [p.spec[0]] if p.kind == "expr" else [b for b in p.spec if isinstance(b, str)] if p.kind == "int" else []
    return {n.id for t in texts for n in ast.walk(ast.parse(t, mode="eval")) if isinstance(n, ast.Name)}


def _eval(text: str, env: dict[str, Any]) -> Decimal | int:
    def ev(node: ast.AST):
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant):
            return node.value if isinstance(node.value, int) else Decimal(str(node.value))
        if isinstance(node, ast.Name):
            v = env[node.id]
            if not isinstance(v, (int, Decimal)):
                raise WorkloadError(f"expression {text!r}: {node.id} is not a number ({v!r})")
            return v
        if isinstance(node, ast.UnaryOp):
            v = ev(node.operand)
            return -v if isinstance(node.op, ast.USub) else v
        if isinstance(node, ast.BinOp):
            a, b = ev(node.left), ev(node.right)
            if isinstance(a, Decimal) or isinstance(b, Decimal):
                a, b = Decimal(a), Decimal(b)
            return _EXPR_OPS[type(node.op)](a, b)
        if isinstance(node, ast.Call):
            return _EXPR_FUNCS[node.func.id](*[ev(a) for a in node.args])
        raise WorkloadError(f"expression {text!r}: cannot evaluate {type(node).__name__}")
    return ev(ast.parse(text, mode="eval"))


# --- rendering -------------------------------------------------------------------------------------------

def allocate(workload: Workload) -> list[Template]:
    """The templates of statements 0..n-1: each template's share of the weights (largest remainder,
    ties to the earlier template), in an order shuffled by "<seed>:order"."""
    total = sum(t.weight for t in workload.templates)
    n = workload.statements
    exact = [(t, n * t.weight / total) for t in workload.templates]
    counts = {t.id: int(x) for t, x in exact}
    rest = n - sum(counts.values())
    by_remainder = sorted(range(len(exact)), key=lambda i: (-(exact[i][1] - int(exact[i][1])), i))
    for i in by_remainder[:rest]:
        counts[exact[i][0].id] += 1
    slots = [t for t in workload.templates for _ in range(counts[t.id])]
    random.Random(f"{workload.seed}:order").shuffle(slots)
    return slots


def _add_months(d: dt.date, months: int) -> dt.date:
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    last = (dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(year, month, min(d.day, last))


def _shift_date(d: dt.date, amount: int, unit: str) -> dt.date:
    if unit == "d":
        return d + dt.timedelta(days=amount)
    if unit == "w":
        return d + dt.timedelta(weeks=amount)
    return _add_months(d, amount * (12 if unit == "y" else 1))


def _domain(p: Param, env: dict[str, Any]) -> list[Any] | tuple:
    """The values a parameter can take: a list, or for a range too large to list, (low, high) of an
    int or (low, step, count) of a decimal."""
    if p.kind == "choice":
        return list(p.spec)
    if p.kind == "date":
        start, end, n, unit = p.spec
        out, i = [], 0
        while (d := _shift_date(start, i * n, unit)) <= end:
            out.append(d)
            i += 1
        return out
    if p.kind == "decimal":
        low, high, step = p.spec
        count = int((high - low) / step) + 1
        return [low + i * step for i in range(count)] if count <= SHUFFLE_LIMIT else (low, step, count)
    if p.kind == "int":
        low, high = (b if isinstance(b, int) else _EXPR_FUNCS["int"](_eval(b, env))
                     for b in p.spec)
        if high < low:
            raise WorkloadError(f"parameter {p.name}: empty range [{low}, {high}] at sf {env['sf']}")
        return list(range(low, high + 1)) if high - low < SHUFFLE_LIMIT else (low, high)
    raise AssertionError(p.kind)


def draw_params(template: Template, *, seed: int, k: int, idx: int, sf: float,
                fixed: dict[str, Any] | None = None) -> dict[str, Any]:
    """The parameter values of the template's k-th statement (statement idx of the workload).
    `fixed` values replace drawn ones (expressions are still computed, from them)."""
    env: dict[str, Any] = {"sf": Decimal(str(sf))}
    fixed = fixed or {}
    for p in template.params:
        if p.name in fixed:
            try:
                value = _coerce_fixed(p, fixed[p.name])
            except ValueError as e:
                raise WorkloadError(f"{template.id}: fixed value of {p.name}: {e}") from None
        elif p.kind == "expr":
            value = _eval(p.spec[0], env)
        elif p.kind == "seq":
            value = p.spec[0] + idx
        else:
            domain = _domain(p, env)
            if isinstance(domain, tuple):  # too large to shuffle: an independent draw per statement
                rng = random.Random(f"{seed}:{template.id}:{p.name}:{k}")
                if p.kind == "decimal":
                    low, step, count = domain
                    value = low + step * rng.randrange(count)
                else:
                    value = rng.randint(*domain)
            else:
                order = list(range(len(domain)))
                random.Random(f"{seed}:{template.id}:{p.name}").shuffle(order)
                value = domain[order[k % len(order)]]
        env[p.name] = value
    env.pop("sf")
    return env


def sql_text(value: Any, quote_strings: bool = False) -> str:
    """A parameter value as SQL text: dates as YYYY-MM-DD (the template writes DATE '...'), decimals
    without exponent, strings as they are (the template quotes them), lists as SQL lists (strings quoted)."""
    if isinstance(value, tuple):
        return ", ".join(sql_text(v, quote_strings=True) for v in value)
    if isinstance(value, str):
        return f"'{value}'" if quote_strings else value
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f")
        return "0" if text in ("-0", "0") else text
    if isinstance(value, (dt.date, int)):
        return value.isoformat() if isinstance(value, dt.date) else str(value)
    raise WorkloadError(f"cannot write {value!r} into SQL")


def substitute(template: Template, values: dict[str, Any]) -> str:
    def one(m: re.Match) -> str:
        value = values[m.group("name")]
        if m.group("index") is not None:
            if not isinstance(value, tuple) or int(m.group("index")) >= len(value):
                raise WorkloadError(f"{template.id}: {m.group()} indexes past {value!r}")
            value = value[int(m.group("index"))]
        if m.group("amount") is not None:
            sign = -1 if m.group("sign") == "-" else 1
            if isinstance(value, dt.date):
                value = _shift_date(value, sign * int(m.group("amount")), m.group("unit"))
            elif isinstance(value, int):
                value = value + sign * int(m.group("amount"))
            else:
                value = Decimal(value) + sign * Decimal(m.group("amount"))
        return sql_text(value)
    return _PLACEHOLDER.sub(one, template.sql)


def render_template(template: Template, *, sf: float, seed: int = 0, k: int = 0, idx: int = 0,
                    fixed: dict[str, Any] | None = None) -> str:
    return substitute(template, draw_params(template, seed=seed, k=k, idx=idx, sf=sf, fixed=fixed))


def render(workload: Workload, sf: float) -> list[Statement]:
    """The workload's statements at scale factor sf: the same list on every run."""
    if not (isinstance(sf, (int, float)) and sf > 0):
        raise WorkloadError(f"scale factor must be a positive number (got {sf!r})")
    seen: Counter[str] = Counter()
    out: list[Statement] = []
    for idx, t in enumerate(allocate(workload)):
        k = seen[t.id]
        seen[t.id] += 1
        sql = render_template(t, sf=sf, seed=workload.seed, k=k, idx=idx)
        out.append(Statement(workload.name, idx, t.id, t.category, sql, t.kind, t.ordered, t.expect, t.reads_written))
    return out


def to_jsonl(statements: Iterable[Statement]) -> str:
    return "".join(json.dumps(asdict(s), ensure_ascii=False) + "\n" for s in statements)


def digest(statements: list[Statement]) -> str:
    """SHA-256 of the statements as JSON lines: equal to `sha256sum` of `workload.py render --out`."""
    return hashlib.sha256(to_jsonl(statements).encode("utf-8")).hexdigest()


def cleanup_sql(workloads: list[Workload]) -> list[str]:
    """Statements (for PostgreSQL) that delete every row the workloads' writes may create: the id
    range of each seq parameter (first id + statement index). Updates and deletes of the workloads
    touch only rows in those ranges (lint() checks it), so after these each pass starts equal."""
    ranges: dict[tuple[str, str], list[tuple[int, int]]] = {}
    for w in workloads:
        for t in w.templates:
            for p in t.params:
                if p.kind == "seq":
                    start, table, column = p.spec
                    ranges.setdefault((table, column), []).append((start, start + w.statements))
    out = []
    for (table, column), spans in sorted(ranges.items()):
        spans.sort()
        merged = [list(spans[0])]
        for lo, hi in spans[1:]:
            if lo <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], hi)
            else:
                merged.append([lo, hi])
        out += [f"DELETE FROM {table} WHERE {column} >= {lo} AND {column} < {hi}" for lo, hi in merged]
    return out


def category_counts(statements: Iterable[Statement]) -> dict[str, int]:
    return dict(sorted(Counter(s.category for s in statements).items(), key=lambda kv: (-kv[1], kv[0])))


# --- lint ------------------------------------------------------------------------------------------------

_TOKEN = re.compile(r"""
      (?P<str>'(?:[^']|'')*')
    | (?P<qid>"(?:[^"]|"")*")
    | (?P<comment>--[^\n]*|/\*.*?\*/)
    | (?P<num>\d+(?:\.\d+)?)
    | (?P<word>[A-Za-z_][A-Za-z0-9_$]*)
    | (?P<cast>::)
    | (?P<op>[<>!=]=|<>|\S)
    | (?P<ws>\s+)
""", re.VERBOSE | re.DOTALL)
_CLAUSE_END = {"LIMIT", "OFFSET", "FETCH", "UNION", "EXCEPT", "INTERSECT", "WINDOW", "QUALIFY", "FROM", "WHERE",
               "GROUP", "HAVING", "SELECT", "ROWS", "RANGE", "GROUPS"}


def _tokens(sql: str) -> list[tuple[str, str]]:
    return [(m.lastgroup, m.group()) for m in _TOKEN.finditer(sql) if m.lastgroup not in ("ws", "comment")]


def _id_bounds(toks: list[tuple[str, str]]) -> list[tuple[str, int, int | None]]:
    """Comparisons of a column named id with literals: (operator, n, upper bound of BETWEEN)."""
    out = []
    for i, (kind, text) in enumerate(toks):
        if kind != "word" or text.lower() != "id":
            continue
        rest = toks[i + 1:i + 5]
        if len(rest) >= 2 and rest[0][1] in ("=", ">=", ">", "<=", "<") and rest[1][0] == "num":
            out.append((rest[0][1], int(Decimal(rest[1][1])), None))
        elif (len(rest) >= 4 and rest[0][1].upper() == "BETWEEN" and rest[1][0] == "num"
              and rest[2][1].upper() == "AND" and rest[3][0] == "num"):
            out.append(("between", int(Decimal(rest[1][1])), int(Decimal(rest[3][1]))))
    return out


def _reads_table(toks: list[tuple[str, str]], schema: str, table: str) -> bool:
    return any(toks[i][1].lower() == schema and toks[i + 1][1] == "." and toks[i + 2][1].lower() == table
               for i in range(len(toks) - 2))


def lint_statement(s: Statement, workload_writes: bool = False) -> list[str]:
    where = f"{s.workload}#{s.idx} ({s.template})"
    problems: list[str] = []
    if "{{" in s.sql or "}}" in s.sql:
        problems.append(f"{where}: unresolved placeholder")
    toks = _tokens(s.sql)
    if not toks:
        return [f"{where}: empty statement"]
    first = next((t for k, t in toks if k == "word"), "").upper()
    kind = "read" if first in ("SELECT", "WITH") else "write" if first in ("INSERT", "UPDATE", "DELETE") else None
    if kind is None:
        problems.append(f"{where}: starts with {first or toks[0][1]!r}; statements are SELECT/WITH, INSERT, "
                        f"UPDATE or DELETE")
    elif kind != s.kind:
        problems.append(f"{where}: kind is {s.kind!r} but the statement is a {kind}")
    if s.kind not in KINDS:
        problems.append(f"{where}: kind {s.kind!r} is not one of {KINDS}")
    if not s.expect or any(e not in ENGINES for e in s.expect):
        problems.append(f"{where}: expect {s.expect!r} names no engine or an unknown one")

    depth = 0
    frames = [{"order": False}]
    in_order: int | None = None       # depth of the ORDER BY list being read
    top_order = False
    for i, (k, text) in enumerate(toks):
        up = text.upper() if k == "word" else text
        if k == "cast":
            problems.append(f"{where}: '::' cast (Trino has none): write CAST(x AS type)")
        elif k == "word" and up == "INTERVAL":
            problems.append(f"{where}: INTERVAL syntax differs between engines: compute dates in the template's params")
        elif text == ";":
            problems.append(f"{where}: ';' in the statement: one statement, without a terminator")
        elif text == "(":
            depth += 1
            frames.append({"order": False})
        elif text == ")":
            if in_order == depth:
                in_order = None
            depth -= 1
            frames.pop()
            if depth < 0:
                problems.append(f"{where}: unbalanced parentheses")
                break
        elif k == "word" and up == "ORDER" and i + 1 < len(toks) and toks[i + 1][1].upper() == "BY":
            frames[depth]["order"] = True
            in_order = depth
            top_order = top_order or depth == 0
        elif k == "word" and up in _CLAUSE_END and in_order == depth:
            in_order = None
        if k == "word" and up == "LIMIT":
            nxt = toks[i + 1] if i + 1 < len(toks) else ("", "")
            if not frames[depth]["order"]:
                problems.append(f"{where}: LIMIT without ORDER BY returns arbitrary rows: order by a unique key")
            if nxt[0] != "num" or int(Decimal(nxt[1])) > MAX_ROWS:
                problems.append(f"{where}: LIMIT {nxt[1]} (at most {MAX_ROWS} rows per result)")
        if (k == "word" and up == "DESC" and in_order is not None and "postgres" in s.expect
                and not (i + 1 < len(toks) and toks[i + 1][1].upper() == "NULLS")):
            problems.append(f"{where}: DESC without NULLS LAST: PostgreSQL sorts NULLs first on DESC, "
                            f"DuckDB and Trino last")
    if depth > 0:
        problems.append(f"{where}: unbalanced parentheses")
    if s.ordered and not top_order:
        problems.append(f"{where}: ordered = true but the statement has no ORDER BY")
    if not s.ordered and top_order:
        problems.append(f"{where}: the statement has an ORDER BY but ordered = false")

    if s.kind == "write" and kind == "write":
        target = next((toks[i + 1:i + 4] for i, (k, t) in enumerate(toks)
                       if t.upper() in ("INTO", "UPDATE", "FROM")), [])
        if [t for _, t in target] != ["public", ".", "orders"]:
            problems.append(f"{where}: writes go to public.orders only (the table the cleanup resets)")
        if tuple(s.expect) != ("postgres",):
            problems.append(f"{where}: a write to public.orders runs on PostgreSQL only: expect = [\"postgres\"]")
        if first == "INSERT":
            cols = [t.lower() for k, t in toks[toks.index(target[-1]) + 1:] if k == "word"][:1] if target else []
            values = next((toks[i + 2] for i, (k, t) in enumerate(toks) if t.upper() == "VALUES"), ("", ""))
            if cols != ["id"] or values[0] != "num" or int(Decimal(values[1])) < WRITE_ID_FLOOR:
                problems.append(f"{where}: an INSERT lists id first and gives it a value >= {WRITE_ID_FLOOR} "
                                f"(a seq parameter)")
        elif not any(op in (">=", ">", "=") and n >= WRITE_ID_FLOOR for op, n, _ in _id_bounds(toks)):
            problems.append(f"{where}: an {first} must keep to the written rows: id >= {WRITE_ID_FLOOR} or "
                            f"id = <written id>")
    if workload_writes and s.kind == "read" and not s.reads_written and _reads_table(toks, "public", "orders"):
        bounded = any((op in ("=", "<", "<=") and n < WRITE_ID_FLOOR) or (op == "between" and hi < WRITE_ID_FLOOR)
                      for op, n, hi in _id_bounds(toks))
        if not bounded:
            problems.append(f"{where}: reads public.orders, which this workload writes, without an id bound below "
                            f"{WRITE_ID_FLOOR}: set reads_written = true")
    if not problems:
        problems += _parse_problems(s, where)
    return problems


def _parse_problems(s: Statement, where: str) -> list[str]:
    try:
        import duckdb
    except ImportError:  # parsing is checked where python-duckdb is installed (the tests' venv)
        return []
    try:
        parsed = duckdb.extract_statements(s.sql)
    except duckdb.Error as e:
        return [f"{where}: DuckDB cannot parse it: {str(e).splitlines()[0]}"]
    return [] if len(parsed) == 1 else [f"{where}: {len(parsed)} statements; one expected"]


def lint(statements: Sequence[Statement]) -> list[str]:
    """Problems found without running anything (empty: none)."""
    problems: list[str] = []
    writers = {s.workload for s in statements if s.kind == "write"}
    seen: set[tuple[str, int]] = set()
    for s in statements:
        if (s.workload, s.idx) in seen:
            problems.append(f"{s.workload}#{s.idx}: index used twice")
        seen.add((s.workload, s.idx))
        problems += lint_statement(s, s.workload in writers)
    return problems


def template_conflicts(workloads: Sequence[Workload]) -> list[str]:
    """Templates that share an id across workloads must be the same statement (SQL, params, kind,
    order, engines): a report compares them by id. Weight, category and reads_written may differ."""
    first: dict[str, tuple[Workload, Template]] = {}
    problems = []
    for w in workloads:
        for t in w.templates:
            if t.id not in first:
                first[t.id] = (w, t)
                continue
            w0, t0 = first[t.id]
            for attr in ("sql", "params", "kind", "ordered", "expect", "validation"):
                if getattr(t, attr) != getattr(t0, attr):
                    problems.append(f"template {t.id}: {attr} differs between {w0.path.name} and {w.path.name}; "
                                    f"give one of them another id")
    return problems


# --- command line ----------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Render and check the benchmark's workloads (bench/workloads/).")
    sub = ap.add_subparsers(dest="command", required=True)
    r = sub.add_parser("render", help="write a workload's statements as JSON lines, and print their SHA-256")
    r.add_argument("--workload", required=True, help="a name in bench/workloads/ or a TOML path")
    r.add_argument("--sf", type=float, required=True, help="scale factor of the lake (0.01, 1, 10)")
    r.add_argument("--out", type=Path, help="output file (default: standard output)")
    for name, what in (("lint", "check workloads for static problems"), ("summary", "statements per category")):
        p = sub.add_parser(name, help=what)
        p.add_argument("--workload", action="append", help="name or path (repeatable; default: all)")
        p.add_argument("--sf", type=float, default=0.01, help="scale factor to render at (default 0.01)")
    args = ap.parse_args(argv)
    try:
        if args.command == "render":
            w = load_workload(args.workload)
            stmts = render(w, args.sf)
            text = to_jsonl(stmts)
            if args.out:
                args.out.write_text(text, encoding="utf-8")
            else:
                sys.stdout.write(text)
            print(f"{w.name} version {w.version}: {len(stmts)} statements at sf {args.sf:g}, sha256 {digest(stmts)}",
                  file=sys.stderr)
            return 0
        workloads = [load_workload(n) for n in (args.workload or available_workloads())]
        if args.command == "summary":
            for w in workloads:
                counts = category_counts(render(w, args.sf))
                print(f"{w.name} (version {w.version}, {w.statements} statements, {len(w.templates)} templates): "
                      + ", ".join(f"{c} {n}" for c, n in counts.items()))
            return 0
        problems = template_conflicts(workloads)
        for w in workloads:
            problems += lint(render(w, args.sf))
        for p in problems:
            print(p)
        names = ", ".join(w.name for w in workloads)
        print(f"{len(problems)} problem(s) in {names} at sf {args.sf:g}", file=sys.stderr)
        return 1 if problems else 0
    except WorkloadError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
