// The REST API (docs/api.md): POST /v1/query, POST /v1/route, GET /v1/tables,
// POST /v1/catalog/refresh, GET /health, GET /ready.
// Thread-safety: handle() is thread-safe; the pipeline and catalog outlive the handlers.
#pragma once

#include "catalog/live_catalog.h"
#include "frontends/http/exchange.h"
#include "server/pipeline.h"

namespace lakerouter::http {

class Endpoints {
 public:
  Endpoints(Pipeline& pipeline, LiveCatalog& catalog) : pipeline_(pipeline), catalog_(catalog) {}

  void handle(Exchange& exchange);

 private:
  std::optional<Statement> read_statement(Exchange& exchange, Session& session);
  void query(Exchange& exchange);
  void route(Exchange& exchange);
  void tables(Exchange& exchange);
  void refresh_catalog(Exchange& exchange);
  void health(Exchange& exchange);
  void ready(Exchange& exchange);

  Pipeline& pipeline_;
  LiveCatalog& catalog_;
};

}  // namespace lakerouter::http
