// The rows EXPLAIN ROUTE answers with: the routing decision as a table a person reads in psql or
// a BI tool, one row per item — the decision, each reason in order, each candidate engine
// (capable or why not, estimated latency and cost), and each table's scan estimate.
// Columns: item, engine, code, detail, est_latency_ms, est_cost_usd. See docs/routing.md.
// Thread-safety: a pure function.
#pragma once

#include <memory>

#include "core/result_stream.h"
#include "routing/decision.h"

namespace lakerouter {

std::unique_ptr<ResultStream> explain_route_rows(const routing::Decision& decision);

}  // namespace lakerouter
