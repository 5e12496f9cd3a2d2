#include "routing/engine_profile.h"

#include <algorithm>
#include <array>

#include "core/ascii.h"

namespace lakerouter::routing {

using sql::StatementKind;

std::string_view engine_type_name(EngineType type) {
  switch (type) {
    case EngineType::kDuckDB: return "duckdb";
    case EngineType::kPostgres: return "postgres";
    case EngineType::kTrino: return "trino";
    case EngineType::kDatabricks: return "databricks";
  }
  return "duckdb";
}

std::optional<EngineType> parse_engine_type(std::string_view name) {
  for (auto type : {EngineType::kDuckDB, EngineType::kPostgres, EngineType::kTrino, EngineType::kDatabricks}) {
    if (engine_type_name(type) == name) return type;
  }
  return std::nullopt;
}

KindSet KindSet::all() {
  KindSet s;
  for (unsigned k = 0; k <= static_cast<unsigned>(StatementKind::kOther); ++k) s.add(static_cast<StatementKind>(k));
  return s;
}
KindSet KindSet::reads() { return {StatementKind::kSelect, StatementKind::kExplain}; }
KindSet KindSet::writes() {
  return {StatementKind::kInsert, StatementKind::kUpdate, StatementKind::kDelete, StatementKind::kMerge,
          StatementKind::kCopy};
}
KindSet KindSet::ddl() { return {StatementKind::kCreate, StatementKind::kDrop, StatementKind::kAlter}; }
KindSet KindSet::session() { return {StatementKind::kSet, StatementKind::kTransaction}; }
KindSet KindSet::admin() {
  return {StatementKind::kPragma, StatementKind::kCall, StatementKind::kAttach, StatementKind::kLoad,
          StatementKind::kOther};
}

namespace {

struct KindGroup {
  std::string_view name;
  KindSet (*kinds)();
};
constexpr std::array<KindGroup, 6> kGroups = {{
    {"reads", &KindSet::reads},
    {"writes", &KindSet::writes},
    {"ddl", &KindSet::ddl},
    {"session", &KindSet::session},
    {"admin", &KindSet::admin},
    {"all", &KindSet::all},
}};

}  // namespace

std::string KindSet::to_string() const {
  std::string out;
  for (unsigned k = 0; k <= static_cast<unsigned>(StatementKind::kOther); ++k) {
    if (!contains(static_cast<StatementKind>(k))) continue;
    if (!out.empty()) out += ", ";
    out += ascii_lower(sql::statement_kind_name(static_cast<StatementKind>(k)));
  }
  return out;
}

bool is_write_kind(StatementKind kind) { return (KindSet::writes() | KindSet::ddl()).contains(kind); }

std::optional<KindSet> parse_kinds(std::string_view name) {
  const std::string n = ascii_lower(name);
  for (const auto& g : kGroups) {
    if (g.name == n) return g.kinds();
  }
  for (unsigned k = 0; k <= static_cast<unsigned>(StatementKind::kOther); ++k) {
    const auto kind = static_cast<StatementKind>(k);
    if (ascii_lower(sql::statement_kind_name(kind)) == n) return KindSet{kind};
  }
  return std::nullopt;
}

std::vector<std::string_view> kind_names() {
  static const std::vector<std::string> kLowerKinds = [] {
    std::vector<std::string> names;
    for (unsigned k = 0; k <= static_cast<unsigned>(StatementKind::kOther); ++k) {
      names.push_back(ascii_lower(sql::statement_kind_name(static_cast<StatementKind>(k))));
    }
    return names;
  }();
  std::vector<std::string_view> names(kLowerKinds.begin(), kLowerKinds.end());
  for (const auto& g : kGroups) names.push_back(g.name);
  return names;
}

bool Capabilities::reads_format(std::string_view format) const {
  return std::find(formats.begin(), formats.end(), format) != formats.end();
}

bool Capabilities::cannot_read_feature(std::string_view feature) const {
  return std::find(unsupported_features.begin(), unsupported_features.end(), feature) != unsupported_features.end();
}

EngineProfile default_engine_profile(std::string name, EngineType type) {
  EngineProfile e;
  e.name = std::move(name);
  e.type = type;
  Capabilities& c = e.capabilities;
  Pricing& p = e.pricing;
  switch (type) {
    case EngineType::kDuckDB:
      // Embedded: runs everything today's pipeline runs, so routing never refuses what worked.
      c.kinds = KindSet::all();
      c.formats = {"delta", "iceberg", "parquet"};
      // lakerouter rewrites each governed table reference of a query into a subquery that applies
      // the row filter and masks (governance/duckdb_enforcement.h).
      c.enforces_governance = true;
      p.cost_per_hour = 0.10;        // its share of the host: ~2 vCPU of a general-purpose VM
      p.startup_ms = 1;
      p.scan_bytes_per_second = 1e9;
      break;
    case EngineType::kPostgres:
      c.kinds = KindSet::reads() | KindSet::writes() | KindSet::ddl() | KindSet::session();
      c.formats = {"postgres"};
      c.max_scan_bytes = 1e9;  // an OLTP database: keep large scans off it
      c.enforces_governance = false;
      p.cost_per_hour = 0.17;  // a 2 vCPU / 8 GiB managed instance
      p.startup_ms = 1;
      p.scan_bytes_per_second = 2e8;  // one backend's sequential scan
      break;
    case EngineType::kTrino:
      c.kinds = KindSet::reads() | KindSet::writes() | KindSet::ddl() | KindSet::session();
      c.formats = {"delta", "iceberg", "parquet", "postgres"};
      c.enforces_governance = true;  // file-based access control with the same rules.json
      p.cost_per_hour = 2.00;        // a cluster of ~4 workers of 8 vCPU
      p.startup_ms = 150;            // coordinator planning and scheduling
      p.scan_bytes_per_second = 2e9;
      break;
    case EngineType::kDatabricks:
      c.kinds = KindSet::reads() | KindSet::writes() | KindSet::ddl() | KindSet::session();
      c.formats = {"delta", "iceberg", "parquet"};
      c.enforces_governance = true;  // Unity Catalog row filters and column masks
      p.cost_per_hour = 8.40;        // SQL warehouse, Small: 12 DBU/h x $0.70 per DBU
      p.startup_ms = 300;            // statement API round trip and planning on a running warehouse
      p.scan_bytes_per_second = 4e9;
      break;
  }
  return e;
}

}  // namespace lakerouter::routing
