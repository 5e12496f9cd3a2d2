#include "governance/access_check.h"

#include <fmt/format.h>

#include "governance/lockdown.h"

namespace lakerouter::governance {

namespace {

using sql::StatementKind;

// The privilege a written table needs for this kind of statement.
std::optional<Privilege> write_privilege(StatementKind kind) {
  switch (kind) {
    case StatementKind::kInsert:
    case StatementKind::kCopy: return Privilege::kInsert;
    case StatementKind::kUpdate: return Privilege::kUpdate;
    case StatementKind::kDelete: return Privilege::kDelete;
    case StatementKind::kMerge: return Privilege::kUpdate;  // and INSERT, DELETE: checked below
    case StatementKind::kCreate:
    case StatementKind::kDrop:
    case StatementKind::kAlter: return Privilege::kOwnership;
    default: return std::nullopt;
  }
}

std::string describe(const TableAccess& access) {
  if (!access.matched) return "no rule of the policy grants access to it";
  if (access.rule == 0) return "the catalog rules allow reading only";
  return fmt::format("table rule {} of the policy applies", access.rule);
}

}  // namespace

TableName policy_name(const routing::TableFacts& table, const std::map<std::string, std::string>& catalogs) {
  TableName name;
  if (auto it = catalogs.find(table.format); it != catalogs.end()) name.catalog = it->second;
  const auto dot = table.name.rfind('.');
  if (dot == std::string::npos) {
    name.table = table.name;
  } else {
    name.schema = table.name.substr(0, dot);
    name.table = table.name.substr(dot + 1);
  }
  return name;
}

Status check_access(const Policy& policy, const Session& session, const sql::QueryProfile& profile,
                    std::vector<routing::TableFacts>& tables, const std::map<std::string, std::string>& catalogs,
                    std::vector<GovernedTable>* governed) {
  // What the checks below do not model is refused outright while a policy is in force: it could
  // reach tables (or files, or settings) without naming a table the policy can be asked about.
  switch (profile.kind) {
    case StatementKind::kAttach:
    case StatementKind::kLoad:
    case StatementKind::kPragma:
    case StatementKind::kCall:
    case StatementKind::kSet:
    case StatementKind::kCopy:
    case StatementKind::kOther:
      return Error(ErrorCode::kPermissionDenied,
                   fmt::format("{} statements are not allowed while an access policy is in force",
                               sql::statement_kind_name(profile.kind)));
    default: break;
  }
  for (const auto& fn : profile.table_functions) {
    if (!is_value_table_function(fn)) {
      return Error(ErrorCode::kPermissionDenied,
                   fmt::format("the table function {}() is not allowed while an access policy is in force: it can "
                               "read data the policy cannot see; name the table instead",
                               fn));
    }
  }
  const bool changes_objects = profile.kind == StatementKind::kCreate || profile.kind == StatementKind::kDrop ||
                               profile.kind == StatementKind::kAlter;
  bool names_a_written_table = false;
  const Subject who{session.user, session.groups};
  for (size_t i = 0; i < tables.size() && i < profile.tables.size(); ++i) {
    const sql::TableAccess& use = profile.tables[i];
    routing::TableFacts& facts = tables[i];
    if (!facts.known && !(use.written && profile.kind == StatementKind::kCreate)) {
      return Error(ErrorCode::kPermissionDenied,
                   fmt::format("'{}' is not a table lakerouter knows (or the name is ambiguous): while an access "
                               "policy is in force only known tables can be used; write schema.table",
                               facts.name));
    }
    const TableAccess access = policy.table_access(who, policy_name(facts, catalogs));
    if (use.read && !access.can_select()) {
      return Error(ErrorCode::kPermissionDenied,
                   fmt::format("user '{}' may not read {} ({})", session.user, facts.name, describe(access)));
    }
    if (use.written) {
      names_a_written_table = true;
      std::vector<Privilege> needed;
      if (profile.kind == StatementKind::kMerge) {
        needed = {Privilege::kInsert, Privilege::kUpdate, Privilege::kDelete};
      } else if (profile.kind == StatementKind::kInsert && profile.upsert) {
        needed = {Privilege::kInsert, Privilege::kUpdate};
      } else if (auto p = write_privilege(profile.kind)) {
        needed = {*p};
      } else {  // e.g. EXPLAIN ANALYZE of a write: never a weaker privilege than the write needs
        needed = {Privilege::kInsert, Privilege::kUpdate, Privilege::kDelete, Privilege::kOwnership};
      }
      for (Privilege p : needed) {
        if (!access.has(p)) {
          return Error(ErrorCode::kPermissionDenied,
                       fmt::format("user '{}' may not {} {}: the policy does not grant {} ({})", session.user,
                                   p == Privilege::kOwnership ? "change" : "write to", facts.name, privilege_name(p),
                                   describe(access)));
        }
      }
    }
    if (access.governed()) {
      if (profile.kind == StatementKind::kExplain) {
        return Error(ErrorCode::kPermissionDenied,
                     fmt::format("EXPLAIN is not allowed for {}: it has row filters or masks for user '{}', and plans "
                                 "and their row counts show what they hide (EXPLAIN ROUTE shows the routing)",
                                 facts.name, session.user));
      }
      // Governed by a routing.tables hint already: the warehouse has policies of its own, which a
      // rewrite of lakerouter's would not apply.
      if (!facts.governed) facts.governed_by_policy = true;
      facts.governed = true;
      if (governed) {
        const TableName name = policy_name(facts, {});
        governed->push_back(GovernedTable{name.schema, name.table, access});
      }
    }
  }
  if (changes_objects && !names_a_written_table) {
    return Error(ErrorCode::kPermissionDenied,
                 fmt::format("lakerouter cannot tell which table this {} statement changes, so it is not allowed "
                             "while an access policy is in force",
                             sql::statement_kind_name(profile.kind)));
  }
  return Status::Ok();
}

}  // namespace lakerouter::governance
