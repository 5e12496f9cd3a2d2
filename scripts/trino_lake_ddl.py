#!/usr/bin/env python3
"""Prints the Trino statements that register a demo lake's plain Parquet tables in Trino's hive
catalog, one statement a line, for scripts/services.sh (Trino registers Delta and Iceberg tables
from their own metadata, but a Parquet folder carries no table definition: the columns come from
the files' schema, read here with DuckDB, and hive-style key=value folders become partitions).

    .venv/bin/python scripts/trino_lake_ddl.py LAKE_DIR [--catalog hive]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import duckdb

# DuckDB type -> Trino hive type; anything else is left out of the table with a warning.
SIMPLE = {
    "BOOLEAN": "boolean", "TINYINT": "tinyint", "SMALLINT": "smallint", "INTEGER": "integer",
    "BIGINT": "bigint", "FLOAT": "real", "DOUBLE": "double", "VARCHAR": "varchar", "DATE": "date",
    "TIMESTAMP": "timestamp(6)", "BLOB": "varbinary",
}


def trino_type(duck: str) -> str | None:
    if duck.startswith("DECIMAL"):
        return duck.lower()
    return SIMPLE.get(duck)


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def parquet_tables(lake: Path):
    for table in sorted(p for p in lake.glob("*/*") if p.is_dir()):
        if (table / "_delta_log").is_dir() or (table / "metadata").is_dir():
            continue
        if next(table.rglob("*.parquet"), None) is not None:
            yield table.parent.name, table


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("lake", type=Path)
    ap.add_argument("--catalog", default="hive")
    args = ap.parse_args()
    lake = args.lake.resolve()
    con = duckdb.connect()
    schemas: set[str] = set()
    for schema, table in parquet_tables(lake):
        partitions = sorted({part.split("=", 1)[0] for f in table.rglob("*.parquet")
                             for part in f.relative_to(table).parts[:-1] if "=" in part})
        glob = str(table / "**" / "*.parquet").replace("'", "''")
        columns = con.execute(f"DESCRIBE SELECT * FROM read_parquet('{glob}', hive_partitioning = true)").fetchall()
        defs, keys = [], []
        for name, duck_type, *_ in columns:
            t = trino_type(duck_type)
            if t is None:
                print(f"trino_lake_ddl: {schema}.{table.name}: column {name} of type {duck_type} left out",
                      file=sys.stderr)
                continue
            if name in partitions:
                keys.append(f"{ident(name)} {t}")
            else:
                defs.append(f"{ident(name)} {t}")
        defs += keys  # Hive wants the partition columns last
        if schema not in schemas:
            schemas.add(schema)
            print(f"CREATE SCHEMA IF NOT EXISTS {args.catalog}.{ident(schema)}")
        props = [f"external_location = 'local://{table}'", "format = 'PARQUET'"]
        if partitions:
            props.append("partitioned_by = ARRAY[" + ", ".join(f"'{p}'" for p in partitions) + "]")
        print(f"CREATE TABLE {args.catalog}.{ident(schema)}.{ident(table.name)} ({', '.join(defs)}) "
              f"WITH ({', '.join(props)})")
        if partitions:
            print(f"CALL {args.catalog}.system.sync_partition_metadata('{schema}', '{table.name}', 'FULL')")
    return 0


if __name__ == "__main__":
    sys.exit(main())
