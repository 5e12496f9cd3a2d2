#!/usr/bin/env bash
# Installs everything lakerouter needs on a fresh machine, pinned and idempotently.
#
#   scripts/bootstrap.sh            # Debian packages, DuckDB (library, headers, extensions), Python venv
#
# Downloads are cached under $LAKEROUTER_CACHE (default ~/.cache/lakerouter), never in the repo,
# and verified against the SHA-256 sums in scripts/deps.lock. A second run does nothing but checks.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/common.sh
source "$ROOT/scripts/common.sh"

# --- 1. Debian packages ---------------------------------------------------------------------------
# Versions are those of the machine's Debian release (bookworm); see README "Dependencies".
APT_PACKAGES=(
  build-essential cmake ninja-build pkg-config git curl ca-certificates unzip
  libboost1.81-dev        # Boost.Asio + Boost.Beast: HTTP front-end
  libcurl4-openssl-dev    # HTTP client (remote engines)
  libpq-dev               # PostgreSQL client
  libsqlite3-dev          # history store (audit log)
  tzdata                  # time zone database: Trino's named zones converted to UTC
  nlohmann-json3-dev      # JSON documents (requests, config-derived JSON, Delta/Iceberg metadata)
  rapidjson-dev           # streaming JSON writer for result encoding
  libyaml-cpp-dev         # configuration files
  libspdlog-dev libfmt-dev  # logging
  libcli11-dev            # command line
  libssl-dev              # TLS, SCRAM, hashing
  libjwt-dev              # JWT bearer tokens (auth.jwt); at least LIBJWT_MIN below
  libgtest-dev libgmock-dev  # unit tests
  libbenchmark-dev        # micro-benchmarks
  clang-tidy              # static analysis in CI
  ccache                  # compiler cache under ~/.cache/lakerouter/ccache: rebuilds of a fresh clone are quick
  python3-venv
)

apt_missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || apt_missing+=("$pkg")
done
# libjwt 1.10.2 before Debian's security update compares HMAC signatures with strcmp
# (CVE-2024-25189): an older installed package is upgraded like a missing one.
LIBJWT_MIN="1.10.2-1+deb12u1"
for pkg in libjwt-dev libjwt0; do
  have=$(dpkg-query -W -f='${Version}' "$pkg" 2>/dev/null || true)
  if [ -n "$have" ] && dpkg --compare-versions "$have" lt "$LIBJWT_MIN"; then
    log "$pkg $have predates the CVE-2024-25189 fix ($LIBJWT_MIN): upgrading"
    apt_missing+=("$pkg")
  fi
done
if ((${#apt_missing[@]})); then
  log "installing Debian packages: ${apt_missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${apt_missing[@]}" >/dev/null
else
  log "Debian packages: all ${#APT_PACKAGES[@]} present"
fi
have=$(dpkg-query -W -f='${Version}' libjwt0 2>/dev/null || true)
if [ -z "$have" ] || dpkg --compare-versions "$have" lt "$LIBJWT_MIN"; then
  die "libjwt0 ${have:-missing} is older than $LIBJWT_MIN (CVE-2024-25189); enable Debian's bookworm updates and rerun"
fi

# --- 2. DuckDB: library, headers and extensions of one pinned version ------------------------------
mkdir -p "$DOWNLOADS"

# lock_field KIND NAME -> prints "version sha256"
lock_field() { awk -v k="$1" -v n="$2" '$1==k && $2==n {print $3, $4}' "$ROOT/scripts/deps.lock"; }

verify() {  # verify FILE SHA256
  echo "$2  $1" | sha256sum --check --status
}

fetch_npm() {  # fetch_npm PACKAGE -> prints the cached tarball path
  local pkg=$1 version sha file
  read -r version sha < <(lock_field npm "$pkg")
  file="$DOWNLOADS/$(echo "${pkg#@}" | tr '/' '-')-$version.tgz"
  if ! [ -f "$file" ] || ! verify "$file" "$sha"; then
    log "downloading npm $pkg@$version"
    (cd "$DOWNLOADS" && npm pack --silent "$pkg@$version" >/dev/null)
  fi
  verify "$file" "$sha" || die "checksum mismatch for $file (expected $sha)"
  echo "$file"
}

fetch_pypi() {  # fetch_pypi KIND NAME -> prints the cached file path (KIND: sdist or wheel)
  local kind=$1 name=$2 version sha pattern file
  read -r version sha < <(lock_field "$kind" "$name")
  pattern="$(echo "$name" | tr '-' '_')-$version"
  file=$(ls "$DOWNLOADS/$pattern"*.{tar.gz,whl} 2>/dev/null | head -n1 || true)
  if [ -z "$file" ] || ! verify "$file" "$sha"; then
    log "downloading PyPI $name==$version ($kind)"
    if [ "$kind" = sdist ]; then
      python3 -m pip download -q --no-deps --no-binary "$name" "$name==$version" -d "$DOWNLOADS"
    else
      python3 -m pip download -q --no-deps --only-binary :all: "$name==$version" -d "$DOWNLOADS"
    fi
    file=$(ls "$DOWNLOADS/$pattern"*.{tar.gz,whl} 2>/dev/null | head -n1)
  fi
  verify "$file" "$sha" || die "checksum mismatch for $file (expected $sha)"
  echo "$file"
}

if ! [ -f "$DUCKDB_HOME/.complete" ]; then
  log "installing DuckDB $DUCKDB_VERSION into $DUCKDB_HOME"
  rm -rf "$DUCKDB_HOME" && mkdir -p "$DUCKDB_HOME/lib" "$DUCKDB_HOME/include" "$DUCKDB_EXTENSIONS/v$DUCKDB_VERSION/linux_amd64"
  tmp=$(mktemp -d)
  tar -xzf "$(fetch_npm @duckdb/node-bindings-linux-x64)" -C "$tmp" package/libduckdb.so
  mv "$tmp/package/libduckdb.so" "$DUCKDB_HOME/lib/"
  tar -xzf "$(fetch_pypi sdist duckdb)" -C "$tmp" "duckdb-$DUCKDB_VERSION/external/duckdb/src/include"
  cp -r "$tmp/duckdb-$DUCKDB_VERSION/external/duckdb/src/include/." "$DUCKDB_HOME/include/"
  for ext in avro delta ducklake httpfs iceberg postgres tpch; do
    unzip -q -o -j "$(fetch_pypi wheel "duckdb-extension-$ext")" "*/extensions/v$DUCKDB_VERSION/*.duckdb_extension" \
      -d "$DUCKDB_EXTENSIONS/v$DUCKDB_VERSION/linux_amd64"
  done
  # DuckDB looks the postgres extension up under its canonical file name.
  mv "$DUCKDB_EXTENSIONS/v$DUCKDB_VERSION/linux_amd64/postgres.duckdb_extension" \
     "$DUCKDB_EXTENSIONS/v$DUCKDB_VERSION/linux_amd64/postgres_scanner.duckdb_extension"
  rm -rf "$tmp"
  touch "$DUCKDB_HOME/.complete"
else
  log "DuckDB $DUCKDB_VERSION: present in $DUCKDB_HOME"
fi

# --- 3. Apache Arrow C++ (from the pyarrow wheel) ---------------------------------------------------
# Libraries and headers only; lakerouter links libarrow and libparquet from $ARROW_HOME/lib.
if ! [ -f "$ARROW_HOME/.complete" ]; then
  log "installing Arrow C++ $ARROW_VERSION into $ARROW_HOME"
  rm -rf "$ARROW_HOME" && mkdir -p "$ARROW_HOME/lib" "$ARROW_HOME/include"
  tmp=$(mktemp -d)
  unzip -q "$(fetch_pypi wheel pyarrow)" 'pyarrow/include/*' 'pyarrow/libarrow.so.*' 'pyarrow/libparquet.so.*' -d "$tmp"
  cp -r "$tmp/pyarrow/include/." "$ARROW_HOME/include/"
  for lib in "$tmp"/pyarrow/lib{arrow,parquet}.so.*; do
    base=$(basename "$lib")
    mv "$lib" "$ARROW_HOME/lib/"
    ln -sfn "$base" "$ARROW_HOME/lib/${base%%.so.*}.so"  # the unversioned name the linker looks for
  done
  rm -rf "$tmp"
  touch "$ARROW_HOME/.complete"
else
  log "Arrow C++ $ARROW_VERSION: present in $ARROW_HOME"
fi

# --- 4. Client drivers from Maven Central (pgjdbc, Trino JDBC, trino CLI) ---------------------------
fetch_maven() {  # fetch_maven GROUP:ARTIFACT[:CLASSIFIER] -> prints the cached jar path
  local coord=$1 version sha group artifact classifier file url
  read -r version sha < <(lock_field maven "$coord")
  IFS=: read -r group artifact classifier <<<"$coord"
  file="$JARS/$artifact-$version${classifier:+-$classifier}.jar"
  if ! [ -f "$file" ] || ! verify "$file" "$sha"; then
    url="https://repo1.maven.org/maven2/${group//.//}/$artifact/$version/$(basename "$file")"
    log "downloading Maven Central $coord:$version"
    curl -fsSL --retry 3 -o "$file.part" "$url" && mv "$file.part" "$file"
  fi
  verify "$file" "$sha" || die "checksum mismatch for $file (expected $sha)"
  echo "$file"
}
mkdir -p "$JARS"
for coord in org.postgresql:postgresql io.trino:trino-jdbc io.trino:trino-cli:executable; do
  fetch_maven "$coord" >/dev/null
done
log "client jars: present in $JARS"

# --- 5. Python virtual environment for tests and tools ---------------------------------------------
req_hash=$( (python3 --version; cat "$ROOT/tests/requirements.txt") | sha256sum | cut -c1-16)
VENV="$LAKEROUTER_CACHE/venv-$req_hash"
if ! [ -f "$VENV/.complete" ]; then
  log "creating Python environment $VENV"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip
  "$VENV/bin/pip" install -q -r "$ROOT/tests/requirements.txt"
  touch "$VENV/.complete"
else
  log "Python environment: present in $VENV"
fi
ln -sfn "$VENV" "$ROOT/.venv"

log "bootstrap complete"
