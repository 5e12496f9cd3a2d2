// The REST API (docs/api.md): POST /v1/query (results as JSON, NDJSON, CSV, Arrow IPC or
// Parquet, streamed; or asynchronous), GET/DELETE /v1/queries/{id}, GET /v1/queries/{id}/results,
// POST /v1/route, GET /v1/tables, POST /v1/catalog/refresh, GET /v1/audit, GET/DELETE
// /v1/calibration, GET /health, GET /ready.
// Thread-safety: handle() is thread-safe; the pipeline and catalog outlive the handlers.
#pragma once

#include <memory>

#include "catalog/live_catalog.h"
#include "frontends/formats/result_encoder.h"
#include "frontends/http/async_queries.h"
#include "frontends/http/exchange.h"
#include "frontends/http/result_options.h"
#include "server/pipeline.h"
#include "telemetry/history_store.h"

namespace lakerouter::http {

// GET /v1/audit (the audit log) and GET/DELETE /v1/calibration: for members of the admin group only.
struct AuditApi {
  const telemetry::HistoryStore* store = nullptr;  // null: the audit log is off (history.audit)
  std::string admin_group = "admin";               // governance.admin_group
};

class Endpoints {
 public:
  Endpoints(Pipeline& pipeline, LiveCatalog& catalog, const ResultOptions& results = {}, AuditApi audit = {});

  void handle(Exchange& exchange);

 private:
  struct QueryRequest;

  std::optional<Statement> read_statement(Exchange& exchange, Session& session, QueryRequest* request = nullptr);
  void query(Exchange& exchange);
  void submit_async(Exchange& exchange, const Statement& statement, const Session& session);
  void query_status(Exchange& exchange, const std::string& id);
  void query_results(Exchange& exchange, const std::string& id);
  void delete_query(Exchange& exchange, const std::string& id);
  void route(Exchange& exchange);
  void tables(Exchange& exchange);
  void refresh_catalog(Exchange& exchange);
  void audit(Exchange& exchange);
  void calibration(Exchange& exchange);
  void reset_calibration(Exchange& exchange);
  // Answers 403 and returns false unless the caller is in the admin group; `what` completes
  // "user 'x' may not ...".
  bool admin_only(Exchange& exchange, std::string_view what);
  void health(Exchange& exchange);
  void ready(Exchange& exchange);

  Pipeline& pipeline_;
  LiveCatalog& catalog_;
  ResultOptions results_;
  AuditApi audit_api_;
  std::unique_ptr<AsyncQueries> async_;  // its workers run the pipeline: destroyed first
};

}  // namespace lakerouter::http
