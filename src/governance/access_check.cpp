#include "governance/access_check.h"

#include <fmt/format.h>

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
                    std::vector<routing::TableFacts>& tables, const std::map<std::string, std::string>& catalogs) {
  const Subject who{session.user, session.groups};
  for (size_t i = 0; i < tables.size() && i < profile.tables.size(); ++i) {
    const sql::TableAccess& use = profile.tables[i];
    routing::TableFacts& facts = tables[i];
    const TableAccess access = policy.table_access(who, policy_name(facts, catalogs));
    if (use.read && !access.can_select()) {
      return Error(ErrorCode::kPermissionDenied,
                   fmt::format("user '{}' may not read {} ({})", session.user, facts.name, describe(access)));
    }
    if (use.written) {
      std::vector<Privilege> needed;
      if (profile.kind == StatementKind::kMerge) {
        needed = {Privilege::kInsert, Privilege::kUpdate, Privilege::kDelete};
      } else if (auto p = write_privilege(profile.kind)) {
        needed = {*p};
      } else {
        needed = {Privilege::kInsert};
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
    if (access.governed()) facts.governed = true;
  }
  return Status::Ok();
}

}  // namespace lakerouter::governance
