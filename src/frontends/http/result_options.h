// Options of HTTP query results (configuration `server.results`): asynchronous queries and
// result paging.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

namespace lakerouter::http {

struct ResultOptions {
  // Asynchronous queries (POST /v1/query with "async": true): results are kept this long after
  // the query finishes (or after their last fetch), then dropped.
  std::chrono::milliseconds async_ttl{600000};
  size_t async_max_queries = 100;                  // kept at once; more are refused with OVERLOADED
  size_t async_max_result_bytes = size_t{1} << 30; // one query's stored result; beyond: RESULT_TOO_LARGE
  std::string async_spill_dir;                     // where stored results go; empty: a temp folder
  size_t page_rows = 10000;                        // rows per page by default
};

}  // namespace lakerouter::http
