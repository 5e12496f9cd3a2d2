// EngineProfile: what the router knows about an engine before sending it anything — what it can
// run (capabilities: the hard constraints of stage 2) and what it costs (pricing: the inputs of
// the cost model of stage 4). Declared in the configuration under `engines:`; every engine type
// has documented defaults (see docs/routing.md for the figures and where they come from).
// Thread-safety: plain value types.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sql/parser.h"

namespace lakerouter::routing {

enum class EngineType : uint8_t { kDuckDB, kPostgres, kTrino, kDatabricks };

std::string_view engine_type_name(EngineType type);  // "duckdb", "postgres", "trino", "databricks"
std::optional<EngineType> parse_engine_type(std::string_view name);

// A set of statement kinds as a bit mask: checked once per engine per statement, so it must be cheap.
class KindSet {
 public:
  constexpr KindSet() = default;
  constexpr KindSet(std::initializer_list<sql::StatementKind> kinds) {
    for (auto k : kinds) add(k);
  }
  static KindSet all();
  static KindSet reads();    // select, explain
  static KindSet writes();   // insert, update, delete, merge, copy
  static KindSet ddl();      // create, drop, alter
  static KindSet session();  // set, transaction
  static KindSet admin();    // pragma, call, attach, load, other

  constexpr void add(sql::StatementKind kind) { bits_ |= bit(kind); }
  constexpr bool contains(sql::StatementKind kind) const { return (bits_ & bit(kind)) != 0; }
  constexpr bool empty() const { return bits_ == 0; }
  constexpr KindSet operator|(KindSet other) const { return from_bits(bits_ | other.bits_); }
  constexpr KindSet operator&(KindSet other) const { return from_bits(bits_ & other.bits_); }
  constexpr bool operator==(const KindSet&) const = default;

  std::string to_string() const;  // "select, explain"

 private:
  static constexpr uint32_t bit(sql::StatementKind kind) { return uint32_t{1} << static_cast<unsigned>(kind); }
  static constexpr KindSet from_bits(uint32_t bits) {
    KindSet s;
    s.bits_ = bits;
    return s;
  }
  uint32_t bits_ = 0;
};

// Writes (and DDL) change tables, so they go to the engine that owns the table.
bool is_write_kind(sql::StatementKind kind);

// A kind name ("select", "insert", ... as sql::statement_kind_name in lower case) or a group
// ("reads", "writes", "ddl", "session", "admin", "all"); nullopt otherwise.
std::optional<KindSet> parse_kinds(std::string_view name);
// Every name parse_kinds accepts, for error messages.
std::vector<std::string_view> kind_names();

struct Capabilities {
  KindSet kinds;                                 // statement kinds it runs
  std::vector<std::string> formats;              // delta, iceberg, parquet, postgres: it reads (and writes)
  std::vector<std::string> unsupported_features; // table features it cannot read, e.g. deletionVectors
  std::optional<double> max_scan_bytes;          // refuses statements estimated to scan more
  bool enforces_governance = false;              // can apply a governed table's filters and masks
  std::vector<std::string> owns_tables;          // table name patterns (tpch.*) it owns: writes go here

  bool reads_format(std::string_view format) const;
  bool cannot_read_feature(std::string_view feature) const;
};

// Prices are in US dollars. The engine is billed for the seconds it works on a statement
// (start-up + scan), at least min_billed_seconds; waiting in its queue is not billed.
struct Pricing {
  double cost_per_hour = 0;           // the engine's price, or the share of a VM/cluster it uses
  double min_billed_seconds = 0;      // a minimum charge per statement, e.g. a per-query minimum
  double startup_ms = 0;              // fixed latency per statement: planning, scheduling, round trips
  double scan_bytes_per_second = 1e9; // throughput to start from, until calibrated by observed runs
  double queue_wait_ms = 0;           // typical wait before it starts (live values override it)
};

struct EngineProfile {
  std::string name;  // as named under `engines:`; what rules and pins refer to
  EngineType type = EngineType::kDuckDB;
  Capabilities capabilities;
  Pricing pricing;
  int line = 0;  // configuration line, for error messages
};

// An engine profile with the documented defaults of its type.
EngineProfile default_engine_profile(std::string name, EngineType type);

}  // namespace lakerouter::routing
