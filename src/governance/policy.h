// Policy: who may read and write which tables, with row filters and column masks, in Trino's
// file-based access-control format (rules.json). One file serves lakerouter and a Trino cluster
// alike, so that both enforce the same rules (docs/governance.md).
//
// What is read, and how it is matched (as Trino does):
// - `catalogs`: {user, group, role, catalog, allow: "all" | "read-only" | "none" (or true/false)}.
// - `schemas`:  {user, group, role, catalog, schema, owner: bool}.
// - `tables`:   {user, group, role, catalog, schema, table, privileges: [SELECT, INSERT, DELETE,
//                UPDATE, OWNERSHIP, GRANT_SELECT], columns: [{name, allow, mask, mask_environment:
//                {user}}], filter, filter_environment: {user}}.
// - `user`, `group`, `role`, `catalog`, `schema` and `table` are regular expressions that must
//   match the whole name (default: anything). A rule matches a user when `user` matches the
//   name, `group` matches one of the user's groups (or is not given), and `role` is not given:
//   lakerouter has no roles, so a rule that names one never matches.
// - In each section the first matching rule decides. A section that is present denies what no
//   rule matches; a section that is absent allows everything it would govern.
// - Trino's other sections (queries, impersonation, functions, procedures, session properties,
//   system_information, authorization, principals) are accepted and left to Trino. Any other
//   key is an error: a misspelt key must not silently widen access.
//
// Thread-safety: immutable after parse(); safe to read from any thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <regex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace lakerouter::governance {

enum class Privilege : uint8_t { kSelect, kInsert, kDelete, kUpdate, kOwnership, kGrantSelect };
std::string_view privilege_name(Privilege p);

enum class CatalogAccess : uint8_t { kAll, kReadOnly, kNone };

// Who asks: the session's user and groups.
struct Subject {
  std::string_view user;
  std::span<const std::string> groups;
};

// A table as the policy names it: the Trino catalog that holds it, its schema and name.
struct TableName {
  std::string catalog;
  std::string schema;
  std::string table;
};

struct ColumnMask {
  std::string column;
  std::string expression;               // SQL, evaluated instead of the column's value
  std::optional<std::string> run_as;    // mask_environment.user
};

// What the first matching table rule grants (or that none matched).
struct TableAccess {
  bool matched = false;   // false: no rule matched, and the table is denied
  int rule = 0;           // 1-based index of the rule in `tables`, for explanations; 0: none (no section)
  uint8_t privileges = 0; // bit per Privilege
  std::vector<std::string> denied_columns;
  std::vector<ColumnMask> masks;
  std::optional<std::string> filter;    // SQL boolean expression rows must satisfy
  std::optional<std::string> filter_run_as;

  bool has(Privilege p) const { return (privileges >> static_cast<int>(p)) & 1U; }
  // SELECT or GRANT_SELECT, as in Trino.
  bool can_select() const { return has(Privilege::kSelect) || has(Privilege::kGrantSelect); }
  bool governed() const { return filter || !masks.empty() || !denied_columns.empty(); }
};

class Policy {
 public:
  // Parses and checks a rules.json text. Errors name the place: "tables[2].columns[0].allow:
  // expected true or false", or the line and column of a JSON syntax error. `source` (a file
  // name) starts each message.
  static Result<Policy> parse(std::string_view json, std::string_view source = "rules.json");
  static Result<Policy> load(const std::filesystem::path& file);

  // A policy that allows everything (no sections): lakerouter without a rules file.
  Policy() = default;

  CatalogAccess catalog_access(const Subject& who, std::string_view catalog) const;
  // True when a schema rule makes `who` the schema's owner (DDL in it).
  bool schema_owner(const Subject& who, std::string_view catalog, std::string_view schema) const;
  // The first matching table rule, with the catalog's access applied: a read-only catalog keeps
  // only SELECT and GRANT_SELECT, a denied one nothing.
  TableAccess table_access(const Subject& who, const TableName& table) const;

  bool governs_tables() const { return has_tables_; }

 private:
  struct Pattern {
    std::string text;  // as written, for messages
    std::shared_ptr<const std::regex> re;  // null: matches anything
    bool matches(std::string_view s) const;
  };
  struct Who {
    Pattern user;
    Pattern group;
    bool names_role = false;
    bool matches(const Subject& s) const;
  };
  struct CatalogRule {
    Who who;
    Pattern catalog;
    CatalogAccess allow = CatalogAccess::kAll;
  };
  struct SchemaRule {
    Who who;
    Pattern catalog;
    Pattern schema;
    bool owner = false;
  };
  struct ColumnRule {
    std::string name;
    bool allow = true;
    std::optional<std::string> mask;
    std::optional<std::string> mask_run_as;
  };
  struct TableRule {
    Who who;
    Pattern catalog;
    Pattern schema;
    Pattern table;
    uint8_t privileges = 0;
    std::vector<ColumnRule> columns;
    std::optional<std::string> filter;
    std::optional<std::string> filter_run_as;
  };
  class Reader;

  bool has_catalogs_ = false;
  bool has_schemas_ = false;
  bool has_tables_ = false;
  std::vector<CatalogRule> catalogs_;
  std::vector<SchemaRule> schemas_;
  std::vector<TableRule> tables_;
};

}  // namespace lakerouter::governance
