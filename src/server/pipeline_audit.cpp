// Pipeline::audit(): the audit record of one run() (telemetry/audit.h, docs/governance.md).
#include <algorithm>

#include <fmt/format.h>

#include "routing/table_facts.h"
#include "server/pipeline.h"
#include "sql/explain_route.h"
#include "telemetry/audit.h"

namespace lakerouter {

namespace {

// "duckdb (cost): <the deciding reason>": the engine, the stage that chose it, the rule, and the
// last reason (the stage that decided says why last); failovers first.
std::string decision_summary(const routing::Decision& decision) {
  if (!decision.ok()) return "no engine";
  std::string out = fmt::format("{} ({}{})", decision.engine, routing::decision_stage_name(decision.stage),
                                decision.rule.empty() ? "" : " " + decision.rule);
  for (const auto& reason : decision.reasons) {
    if (reason.code == routing::ReasonCode::kFailedOver || reason.code == routing::ReasonCode::kEngineBusy) {
      out += fmt::format("; {}: {}", routing::reason_code_name(reason.code), reason.message);
    }
  }
  if (!decision.reasons.empty()) {
    const auto& last = decision.reasons.back();
    out += fmt::format(": {}: {}", routing::reason_code_name(last.code), last.message);
  }
  return out;
}

}  // namespace

void Pipeline::audit(const Statement& statement, const Session& session, std::chrono::system_clock::time_point arrived,
                     std::chrono::steady_clock::time_point started, RunFacts& facts, const std::string& query_id,
                     const CancelToken* cancel, Result<RunningQuery>& query) const {
  const auto explain_at = sql::explain_route_target(statement.sql);
  if (facts.fingerprint.empty() && facts.tables.empty()) {
    // Refused before routing finished (syntax, privileges, lockdown): the analysis, cached by the
    // attempt, still names the statement's tables when the text parses.
    const std::string_view text = std::string_view(statement.sql).substr(explain_at.value_or(0));
    if (auto profile = profiles_.analyze(text); profile.ok()) {
      facts.fingerprint = profile->fingerprint;
      facts.kind = profile->kind;
      facts.tables = routing::resolve_tables(*profile, *catalog_.current(), router_.policy().tables);
    }
  }
  telemetry::AuditRecord record;
  record.ts = telemetry::utc_timestamp(arrived);
  record.query_id = query_id;
  record.user = session.user;
  record.groups = session.groups;
  record.source_address = session.source_address;
  record.frontend = session.frontend;
  record.fingerprint = facts.fingerprint;
  if (explain_at) facts.kind = sql::StatementKind::kExplain;
  if (query.ok()) facts.kind = query->kind;
  record.kind = facts.kind ? std::string(sql::statement_kind_name(*facts.kind)) : "";
  telemetry::PoliciesApplied policies;
  for (const auto& t : facts.tables) {
    record.tables.push_back(t.name);
    telemetry::TablePolicy applied{.table = t.name, .governed = t.governed};
    const auto match = std::find_if(facts.governed.begin(), facts.governed.end(), [&](const auto& g) {
      return g.schema + "." + g.table == t.name;
    });
    if (match != facts.governed.end()) {
      const governance::TableAccess& access = match->access;
      if (access.rule > 0) applied.rule = access.rule;
      applied.filter = access.filter.has_value();
      for (const auto& mask : access.masks) applied.masks.push_back(mask.column);
      applied.hidden = access.denied_columns;
    }
    policies.tables.push_back(std::move(applied));
  }
  if (!query.ok()) {
    const Error& error = query.error();
    record.engine = facts.engine;
    record.outcome = telemetry::outcome_of(error, !facts.engine.empty());
    record.error_code = std::string(error_code_name(error.code));
    record.error_message = telemetry::redact_literals(error.message, statement.sql, statement.params);
    if (error.code == ErrorCode::kPermissionDenied) policies.denied = record.error_message;
    record.policies = policies.to_json();
    record.elapsed_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
    options_.audit->record(std::move(record));
    return;
  }
  record.engine = query->engine;
  record.decision = telemetry::redact_literals(decision_summary(query->decision), statement.sql, statement.params);
  record.policies = policies.to_json();
  query->stream = std::make_unique<telemetry::AuditedStream>(std::move(query->stream), *options_.audit,
                                                             std::move(record), started, statement, cancel);
}

}  // namespace lakerouter
