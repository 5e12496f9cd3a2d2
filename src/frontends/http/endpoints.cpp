#include "frontends/http/endpoints.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <functional>
#include <numeric>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "core/utf8.h"
#include "frontends/formats/result_encoder.h"
#include "frontends/http/json_result_writer.h"

namespace lakerouter::http {
namespace beast_http = boost::beast::http;
using nlohmann::json;
using formats::ResultFormat;

// What a /v1/query body asks for besides the statement.
struct Endpoints::QueryRequest {
  std::optional<ResultFormat> format;  // "format": overrides Accept
  bool async = false;                  // "async": true
};

namespace {

// Stream out whenever this much is encoded. Each write is a round trip from the worker to the
// connection's I/O strand and back (HttpExchange::write): larger chunks mean fewer thread
// wake-ups, which showed in large-result throughput at 64 KiB.
constexpr size_t kFlushBytes = size_t{256} * 1024;
constexpr std::string_view kEngineHeader = "X-Lakerouter-Engine";  // pins an engine (routing stage 1)

bool is_json_content_type(std::string_view value) {
  if (value.empty()) return true;  // tolerated: many clients send no type for JSON bodies
  auto semi = value.find(';');
  auto media = value.substr(0, semi);
  while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
  std::string lower(media);
  for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return lower == "application/json";
}

// Turns the request body into a Statement and the session's per-request settings.
template <typename QueryRequest>
Result<Statement> parse_query_request(const Request& req, Session& session, QueryRequest* request) {
  const std::string& body = req.body();
  if (auto bad = find_invalid_utf8(body)) {
    return Error(ErrorCode::kInvalidUtf8, fmt::format("the request body is not valid UTF-8 (byte {})", *bad));
  }
  // JSON never holds a raw NUL, and the parser would stop reading at one: refuse it outright.
  if (auto nul = body.find('\0'); nul != std::string::npos) {
    return Error(ErrorCode::kInvalidJson, fmt::format("the request body holds a NUL byte (byte {})", nul));
  }
  json doc;
  try {
    doc = json::parse(body);
  } catch (const json::parse_error& e) {
    return Error(ErrorCode::kInvalidJson,
                 fmt::format("the request body is not valid JSON (byte {}); send {{\"sql\": \"...\"}}", e.byte));
  } catch (const json::exception& e) {  // e.g. a number too large for a double
    return Error(ErrorCode::kInvalidJson, fmt::format("the request body is not usable JSON: {}", e.what()));
  }
  if (!doc.is_object()) return Error(ErrorCode::kInvalidRequest, "the request body must be a JSON object {\"sql\": \"...\"}");
  for (const auto& [key, value] : doc.items()) {
    if (key != "sql" && key != "params" && key != "timeout_ms" && key != "format" && key != "async") {
      return Error(ErrorCode::kInvalidRequest,
                   fmt::format("unknown field '{}' in the request; allowed fields: sql, params, timeout_ms, format, async",
                               key));
    }
  }
  auto sql = doc.find("sql");
  if (sql == doc.end()) return Error(ErrorCode::kInvalidRequest, "the request has no \"sql\" field");
  if (!sql->is_string()) return Error(ErrorCode::kInvalidRequest, "\"sql\" must be a string holding one SQL statement");
  Statement statement;
  statement.sql = sql->get<std::string>();
  if (statement.sql.find_first_not_of(" \t\r\n") == std::string::npos) {
    return Error(ErrorCode::kEmptySql, "\"sql\" is empty; send one SQL statement");
  }
  if (auto params = doc.find("params"); params != doc.end() && !params->is_null()) {
    if (!params->is_array()) return Error(ErrorCode::kInvalidRequest, "\"params\" must be an array of values");
    for (size_t i = 0; i < params->size(); ++i) {
      const json& p = (*params)[i];
      if (p.is_null()) {
        statement.params.emplace_back(std::monostate{});
      } else if (p.is_boolean()) {
        statement.params.emplace_back(p.get<bool>());
      } else if (p.is_number_integer()) {
        if (p.is_number_unsigned() && p.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
          return Error(ErrorCode::kInvalidParameter, fmt::format("parameter {} is out of the 64-bit integer range", i + 1));
        }
        statement.params.emplace_back(p.get<int64_t>());
      } else if (p.is_number_float()) {
        statement.params.emplace_back(p.get<double>());
      } else if (p.is_string()) {
        statement.params.emplace_back(p.get<std::string>());
      } else {
        return Error(ErrorCode::kInvalidParameter,
                     fmt::format("parameter {} must be a string, number, boolean or null", i + 1));
      }
    }
  }
  if (auto timeout = doc.find("timeout_ms"); timeout != doc.end()) {
    if (!timeout->is_number_integer() || timeout->get<int64_t>() <= 0) {
      return Error(ErrorCode::kInvalidRequest, "\"timeout_ms\" must be a positive whole number of milliseconds");
    }
    session.timeout = std::chrono::milliseconds(timeout->get<int64_t>());
  }
  if (auto format = doc.find("format"); format != doc.end() && !format->is_null()) {
    const auto name = format->is_string() ? format->get<std::string>() : std::string();
    auto parsed = formats::format_from_name(name);
    if (!parsed) {
      return Error(ErrorCode::kInvalidRequest, "\"format\" must be one of json, ndjson, csv, arrow, parquet");
    }
    if (request) request->format = parsed;
  }
  if (auto async = doc.find("async"); async != doc.end() && !async->is_null()) {
    if (!async->is_boolean()) return Error(ErrorCode::kInvalidRequest, "\"async\" must be true or false");
    if (request) request->async = async->get<bool>();
  }
  return statement;
}

}  // namespace

void Endpoints::handle(Exchange& exchange) {
  const auto& req = exchange.request();
  const std::string_view target(req.target().data(), req.target().size());
  const std::string_view path = target.substr(0, target.find('?'));
  const auto method = req.method();

  struct Route {
    std::string_view path;
    beast_http::verb method;
    void (Endpoints::*handler)(Exchange&);
  };
  static constexpr Route kRoutes[] = {
      {"/v1/query", beast_http::verb::post, &Endpoints::query},
      {"/v1/route", beast_http::verb::post, &Endpoints::route},
      {"/v1/tables", beast_http::verb::get, &Endpoints::tables},
      {"/v1/catalog/refresh", beast_http::verb::post, &Endpoints::refresh_catalog},
      {"/v1/audit", beast_http::verb::get, &Endpoints::audit},
      {"/v1/calibration", beast_http::verb::get, &Endpoints::calibration},
      {"/v1/calibration", beast_http::verb::delete_, &Endpoints::reset_calibration},
      {"/health", beast_http::verb::get, &Endpoints::health},
      {"/ready", beast_http::verb::get, &Endpoints::ready},
  };
  if (constexpr std::string_view kQueries = "/v1/queries/"; path.starts_with(kQueries)) {
    std::string_view rest = path.substr(kQueries.size());
    const bool results = rest.ends_with("/results");
    if (results) rest.remove_suffix(std::string_view("/results").size());
    const std::string id(rest);
    if (!id.empty() && id.find('/') == std::string::npos) {
      const bool get = method == beast_http::verb::get || method == beast_http::verb::head;
      if (results && get) return query_results(exchange, id);
      if (!results && get) return query_status(exchange, id);
      if (!results && method == beast_http::verb::delete_) return delete_query(exchange, id);
      exchange.add_header("Allow", results ? "GET, HEAD" : "GET, HEAD, DELETE");
      respond_error(exchange, Error(ErrorCode::kMethodNotAllowed,
                                    fmt::format("{} does not accept {}", path, std::string_view(req.method_string()))));
      return;
    }
  }
  std::string allowed;
  for (const auto& route : kRoutes) {
    if (route.path != path) continue;
    if (route.method == method || (method == beast_http::verb::head && route.method == beast_http::verb::get)) {
      (this->*route.handler)(exchange);
      return;
    }
    if (!allowed.empty()) allowed += ", ";
    allowed += route.method == beast_http::verb::get ? "GET, HEAD" : std::string(beast_http::to_string(route.method));
  }
  if (!allowed.empty()) {
    exchange.add_header("Allow", allowed);
    respond_error(exchange, Error(ErrorCode::kMethodNotAllowed,
                                  fmt::format("{} does not accept {}", path, std::string_view(req.method_string()))));
  } else {
    respond_error(exchange, Error(ErrorCode::kNotFound,
                                  fmt::format("no endpoint at {}; see docs/api.md", path)));
  }
}

// The statement and session of a /v1/query or /v1/route request, or the error already answered.
std::optional<Statement> Endpoints::read_statement(Exchange& exchange, Session& session, QueryRequest* request) {
  const auto& req = exchange.request();
  const auto content_type = req[beast_http::field::content_type];
  if (!is_json_content_type(std::string_view(content_type.data(), content_type.size()))) {
    respond_error(exchange, Error(ErrorCode::kUnsupportedMediaType,
                                  fmt::format("Content-Type '{}' is not supported; send application/json",
                                              std::string_view(content_type.data(), content_type.size()))));
    return std::nullopt;
  }
  session.frontend = "http";
  session.source_address = exchange.peer();
  session.user = exchange.identity().user;  // authenticated before any endpoint runs (http_auth.h)
  session.groups = exchange.identity().groups;
  const auto engine = req[kEngineHeader];
  session.engine_request = std::string(engine.data(), engine.size());
  auto statement = parse_query_request(req, session, request);
  if (!statement.ok()) {
    respond_error(exchange, statement.error());
    return std::nullopt;
  }
  return std::move(*statement);
}

void Endpoints::route(Exchange& exchange) {
  Session session;
  auto statement = read_statement(exchange, session);
  if (!statement) return;
  auto routed = pipeline_.route(*statement, session);
  if (!routed.ok()) {
    respond_error(exchange, routed.error());
    return;
  }
  const auto& p = routed->profile;
  json tables = json::array();
  for (const auto& t : p.tables) tables.push_back({{"name", t.name}, {"read", t.read}, {"written", t.written}});
  json out = {
      {"decision", routed->decision.to_json()},
      {"profile",
       {{"kind", sql::statement_kind_name(p.kind)}, {"tables", tables}, {"joins", p.join_count},
        {"aggregates", p.aggregate_count}, {"windows", p.window_count}, {"subqueries", p.subquery_count},
        {"complexity", p.complexity}, {"fingerprint", p.fingerprint},
        {"engine_hint", p.engine_hint ? json(*p.engine_hint) : json(nullptr)}}},
  };
  exchange.respond(200, "application/json", out.dump());
}

namespace {

constexpr int64_t kMaxPageRows = 1000000;     // a page_size beyond this is refused
constexpr int64_t kSpillReadRows = 8192;      // rows read from a stored result at a time

std::string_view header_value(const Request& req, std::string_view name) {
  const auto v = req[boost::beast::string_view(name.data(), name.size())];
  return {v.data(), v.size()};
}

// The format an Accept header asks for, or the 406 answer already sent.
std::optional<ResultFormat> accepted_format(Exchange& exchange, std::optional<ResultFormat> explicit_format) {
  if (explicit_format) return explicit_format;
  const auto accept = header_value(exchange.request(), "Accept");
  if (auto format = formats::negotiate(accept)) return format;
  exchange.respond(406, "application/json",
                   error_json(Error(ErrorCode::kUnsupportedMediaType,
                                    fmt::format("cannot answer in any type of 'Accept: {}'; available: {} (or the "
                                                "request field \"format\": json|ndjson|csv|arrow|parquet)",
                                                accept, formats::supported_media_types()))));
  return std::nullopt;
}

// Headers are ASCII: the routing summary goes out with every non-ASCII character escaped.
std::string routing_summary(const routing::Decision& decision) {
  return decision.summary_json().dump(-1, ' ', /*ensure_ascii=*/true);  // POST /v1/route has the candidates
}

double rounded_ms(double ms) { return std::round(ms * 1000) / 1000; }

// {"queued_ms", "engine_ms"}: engine_ms is null until the result was read to its end.
json timing_json(std::optional<double> queued_ms, std::optional<double> engine_ms) {
  return {{"queued_ms", queued_ms ? json(rounded_ms(*queued_ms)) : json(nullptr)},
          {"engine_ms", engine_ms ? json(rounded_ms(*engine_ms)) : json(nullptr)}};
}

// The JSON result's trailer member "timing"; empty when no engine ran the statement (queued_ms is
// set once one started).
std::string timing_member(std::optional<double> queued_ms, std::optional<double> engine_ms) {
  if (!queued_ms) return {};
  return "\"timing\":" + timing_json(queued_ms, engine_ms).dump();
}

void add_result_headers(Exchange& exchange, const formats::ResultMetadata& metadata) {
  exchange.add_header("X-Lakerouter-Query-Id", metadata.query_id);
  if (!metadata.engine.empty()) exchange.add_header("X-Lakerouter-Engine", metadata.engine);
  if (!metadata.routing_json.empty()) exchange.add_header("X-Lakerouter-Routing", metadata.routing_json);
}

// Streams an encoder's output from `next` (which fills a batch and says whether it holds rows)
// after `first` was produced. Errors before the first byte get their status; after it, the
// format's own behaviour (finish_with_error). Returns false when the client went away.
// `trailer` gives JSON members known only at the end (the JSON document's trailer; other formats
// do not carry it).
template <typename Next, typename Cancel>
void stream_result(Exchange& exchange, ResultFormat format, const ResultSchema& schema,
                   const formats::ResultMetadata& metadata, ResultBatch& batch, bool has_rows, Next next,
                   Cancel cancel, const std::function<double()>& elapsed_ms,
                   const std::function<std::string()>& trailer = {}) {
  auto encoder = formats::make_encoder(format);
  if (auto st = encoder->begin(schema, metadata); !st.ok()) {
    cancel();
    respond_error(exchange, st.error(), metadata.query_id);
    return;
  }
  add_result_headers(exchange, metadata);
  if (!exchange.begin_stream(200, formats::content_type(format))) return cancel();
  int64_t row_count = 0;
  std::optional<Error> failed;
  while (has_rows) {
    row_count += static_cast<int64_t>(batch.row_count());
    if (auto st = encoder->add_batch(batch); !st.ok()) {
      cancel();
      failed = st.error();
      break;
    }
    if (encoder->pending_bytes() >= kFlushBytes && !exchange.write(encoder->take())) return cancel();  // client gone
    batch.clear();
    auto more = next(batch);
    if (!more.ok()) {
      failed = std::move(more).error();
      break;
    }
    has_rows = *more;
  }
  if (!failed) {
    if (auto* document = dynamic_cast<JsonResultWriter*>(encoder.get()); document && trailer) {
      document->add_trailer(trailer());
    }
    if (auto st = encoder->finish(row_count, elapsed_ms()); !st.ok()) failed = st.error();
  }
  if (failed) {
    if (encoder->finish_with_error(row_count, *failed)) {
      // Headers are gone already: the error travels in the body (see docs/api.md).
      if (exchange.write(encoder->take())) exchange.end_stream();
      return;
    }
    // CSV, Arrow and Parquet cannot say it: the transfer ends without its last chunk, so clients
    // see a truncated body (the transport closes the connection).
    exchange.write(encoder->take());
    spdlog::warn("query {} failed after {} rows: {}: {}; the {} response was cut short", metadata.query_id, row_count,
                 error_code_name(failed->code), failed->message, formats::format_name(format));
    return;
  }
  if (exchange.write(encoder->take())) exchange.end_stream();
}

// ?name=value&... of the request target, for the few plain-valued parameters we take.
std::optional<std::string_view> query_param(std::string_view target, std::string_view name) {
  const auto q = target.find('?');
  if (q == std::string_view::npos) return std::nullopt;
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    const auto pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
    const auto eq = pair.find('=');
    if (pair.substr(0, eq) == name) return eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
  }
  return std::nullopt;
}

Result<std::optional<int64_t>> int_param(std::string_view target, std::string_view name, int64_t min, int64_t max) {
  auto text = query_param(target, name);
  if (!text) return std::optional<int64_t>();
  int64_t v = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
  if (ec != std::errc{} || end != text->data() + text->size() || v < min || v > max) {
    return Error(ErrorCode::kInvalidRequest, fmt::format("'{}' must be a whole number from {} to {}", name, min, max));
  }
  return std::optional<int64_t>(v);
}

json async_info_json(const AsyncQueryInfo& info, int64_t page_rows) {
  const std::string base = "/v1/queries/" + info.query_id;
  json out = {{"query_id", info.query_id},
              {"status", async_state_name(info.state)},
              {"status_uri", base},
              {"results_uri", base + "/results"},
              {"row_count", info.row_count},
              {"elapsed_ms", rounded_ms(info.elapsed_ms)}};
  if (!info.engine.empty()) out["engine"] = info.engine;
  if (info.queued_ms) out["timing"] = timing_json(info.queued_ms, info.engine_ms);
  if (!info.routing_json.empty()) out["routing"] = json::parse(info.routing_json);
  if (!info.schema.empty()) {
    json columns = json::array();
    for (const auto& c : info.schema) columns.push_back({{"name", c.name}, {"type", c.type.sql_name}});
    out["columns"] = std::move(columns);
  }
  if (info.state == AsyncState::kFinished) {
    out["page_rows"] = page_rows;
    out["page_count"] = (info.row_count + page_rows - 1) / page_rows;
  }
  if (info.error) {
    json error = {{"code", error_code_name(info.error->code)}, {"message", info.error->message}};
    if (info.error->position) error["position"] = *info.error->position;
    out["error"] = std::move(error);
  }
  return out;
}

}  // namespace

Endpoints::Endpoints(Pipeline& pipeline, LiveCatalog& catalog, const ResultOptions& results, AuditApi audit)
    : pipeline_(pipeline), catalog_(catalog), results_(results), audit_api_(std::move(audit)),
      async_(std::make_unique<AsyncQueries>(results)) {}

void Endpoints::query(Exchange& exchange) {
  Session session;
  QueryRequest request;
  auto statement = read_statement(exchange, session, &request);
  if (!statement) return;
  const auto prefer = header_value(exchange.request(), "Prefer");
  if (request.async || prefer.find("respond-async") != std::string_view::npos) {
    return submit_async(exchange, *statement, session);
  }
  const auto format = accepted_format(exchange, request.format);
  if (!format) return;

  const std::string query_id = pipeline_.new_query_id();
  auto query = pipeline_.run(*statement, session, query_id, &exchange.cancel_token());
  if (!query.ok()) {
    if (exchange.cancel_token().cancelled()) {
      spdlog::info("query {} cancelled: the client disconnected", query_id);
      return;
    }
    spdlog::debug("query {} failed: {}: {}", query_id, error_code_name(query.error().code), query.error().message);
    respond_error(exchange, query.error(), query_id);
    return;
  }
  ResultStream& stream = *query->stream;
  ResultBatch batch;

  // Pull the first batch before answering, so that most execution errors still get their status.
  auto more = stream.next(batch);
  if (!more.ok()) {
    if (exchange.cancel_token().cancelled()) {
      spdlog::info("query {} cancelled: the client disconnected", query_id);
      return;
    }
    respond_error(exchange, more.error(), query->query_id);
    return;
  }
  formats::ResultMetadata metadata{query->query_id, query->engine, routing_summary(query->decision), {}};
  stream_result(
      exchange, *format, stream.schema(), metadata, batch, *more, [&](ResultBatch& b) { return stream.next(b); },
      [&] { stream.cancel(false); }, [&] { return query->elapsed_ms(); },
      [&] {
        const auto& timing = query->timing;
        return timing ? timing_member(timing->queued_ms.load(), timing->engine_done_ms()) : std::string();
      });
  spdlog::debug("query {} on {} as {} in {:.1f} ms", query->query_id, query->engine, formats::format_name(*format),
                query->elapsed_ms());
}

void Endpoints::submit_async(Exchange& exchange, const Statement& statement, const Session& session) {
  const std::string query_id = pipeline_.new_query_id();
  auto submitted = async_->submit(query_id, [this, statement, session](const std::string& id, CancelToken& cancel) {
    return pipeline_.run(statement, session, id, &cancel);
  }, session.user);
  if (!submitted.ok()) {
    respond_error(exchange, submitted.error(), query_id);
    return;
  }
  const std::string base = "/v1/queries/" + query_id;
  exchange.add_header("Location", base);
  json out = {{"query_id", query_id}, {"status", "queued"}, {"status_uri", base}, {"results_uri", base + "/results"}};
  exchange.respond(202, "application/json", out.dump());
}

void Endpoints::query_status(Exchange& exchange, const std::string& id) {
  auto info = async_->info(id);
  if (!info || info->owner != exchange.identity().user) {  // another user's query is as unknown as none
    respond_error(exchange, Error(ErrorCode::kNotFound,
                                  fmt::format("no asynchronous query '{}': the id is unknown, or the query expired "
                                              "(server.results.async_ttl_ms) or was deleted",
                                              id)));
    return;
  }
  exchange.respond(200, "application/json", async_info_json(*info, static_cast<int64_t>(results_.page_rows)).dump());
}

void Endpoints::delete_query(Exchange& exchange, const std::string& id) {
  const auto owned = async_->info(id);
  auto was = owned && owned->owner == exchange.identity().user ? async_->cancel_or_drop(id) : std::nullopt;
  if (!was) {
    respond_error(exchange, Error(ErrorCode::kNotFound,
                                  fmt::format("no asynchronous query '{}': the id is unknown, or the query expired "
                                              "or was deleted already",
                                              id)));
    return;
  }
  const bool cancelled = *was == AsyncState::kQueued || *was == AsyncState::kRunning;
  json out = {{"query_id", id}, {"status", cancelled ? "cancelled" : "deleted"}, {"was", async_state_name(*was)}};
  exchange.respond(200, "application/json", out.dump());
}

void Endpoints::query_results(Exchange& exchange, const std::string& id) {
  const auto& req = exchange.request();
  const std::string_view target(req.target().data(), req.target().size());
  std::optional<ResultFormat> explicit_format;
  if (auto name = query_param(target, "format")) {
    explicit_format = formats::format_from_name(*name);
    if (!explicit_format) {
      respond_error(exchange, Error(ErrorCode::kInvalidRequest, "'format' must be one of json, ndjson, csv, arrow, parquet"));
      return;
    }
  }
  auto page = int_param(target, "page", 0, INT64_MAX / kMaxPageRows);
  auto page_size = int_param(target, "page_size", 1, kMaxPageRows);
  if (!page.ok() || !page_size.ok()) {
    respond_error(exchange, !page.ok() ? page.error() : page_size.error());
    return;
  }
  const auto format = accepted_format(exchange, explicit_format);
  if (!format) return;

  if (const auto owned = async_->info(id); owned && owned->owner != exchange.identity().user) {
    respond_error(exchange, Error(ErrorCode::kNotFound, fmt::format("no asynchronous query '{}': the id is unknown, "
                                                                    "or the query expired or was deleted",
                                                                    id)));
    return;
  }
  AsyncQueryInfo info;
  auto spill = async_->result(id, info);
  if (!spill.ok()) {
    respond_error(exchange, spill.error(), info.query_id);
    return;
  }
  if (!*spill) {  // not finished yet: the status, and when to look again
    exchange.add_header("Retry-After", "1");
    exchange.respond(202, "application/json", async_info_json(info, static_cast<int64_t>(results_.page_rows)).dump());
    return;
  }
  const formats::ResultSpill& result = **spill;
  const int64_t rows_per_page = page_size->value_or(static_cast<int64_t>(results_.page_rows));
  const int64_t total = result.rows();
  const int64_t page_count = (total + rows_per_page - 1) / rows_per_page;
  // JSON is always a page (the document says which); the other formats give the whole result
  // unless a page is asked for.
  const bool paged = page->has_value() || *format == ResultFormat::kJson;
  const int64_t page_no = page->value_or(0);
  int64_t first = 0;
  int64_t end = total;
  formats::ResultMetadata metadata{info.query_id, info.engine, info.routing_json, {}};
  exchange.add_header("X-Lakerouter-Total-Rows", std::to_string(total));
  if (paged) {
    first = std::min(total, page_no * rows_per_page);
    end = std::min(total, first + rows_per_page);
    const std::string base = fmt::format("/v1/queries/{}/results", info.query_id);
    const bool has_next = page_no + 1 < page_count;
    const std::string next_uri =
        has_next ? fmt::format("{}?page={}&page_size={}&format={}", base, page_no + 1, rows_per_page,
                               formats::format_name(*format))
                 : std::string();
    exchange.add_header("X-Lakerouter-Page", std::to_string(page_no));
    exchange.add_header("X-Lakerouter-Page-Count", std::to_string(page_count));
    if (has_next) exchange.add_header("Link", fmt::format("<{}>; rel=\"next\"", next_uri));
    metadata.extra_json = fmt::format(R"("page":{},"page_size":{},"page_count":{},"total_rows":{},"next_uri":{})",
                                      page_no, rows_per_page, page_count, total,
                                      has_next ? json(next_uri).dump() : "null");
  }
  int64_t at = first;
  auto read_next = [&](ResultBatch& b) -> Result<bool> {
    const int64_t n = std::min(kSpillReadRows, end - at);
    if (n <= 0) return false;
    LR_TRY(result.read(at, n, b));
    at += n;
    return true;
  };
  ResultBatch batch;
  auto has_rows = read_next(batch);
  if (!has_rows.ok()) {
    respond_error(exchange, has_rows.error(), info.query_id);
    return;
  }
  stream_result(exchange, *format, result.schema(), metadata, batch, *has_rows, read_next, [] {},
                [&] { return info.elapsed_ms; }, [&] { return timing_member(info.queued_ms, info.engine_ms); });
}

namespace {

json optional_json(const std::optional<int64_t>& v) { return v ? json(*v) : json(nullptr); }

// A table's statistics for GET /v1/tables: totals, format, partitions, column bounds.
json table_json(const TableInfo& t) {
  const TableStats& st = *t.stats;
  json columns = json::array();
  for (size_t i = 0; i < st.columns.size(); ++i) {
    json c = {{"name", st.columns[i].name}, {"type", st.columns[i].type}};
    for (const auto& b : st.column_bounds) {
      if (b.column != i) continue;
      if (b.min) c["min"] = b.min->text;
      if (b.max) c["max"] = b.max->text;
      if (b.null_count) c["null_count"] = *b.null_count;
    }
    columns.push_back(std::move(c));
  }
  json partition_columns = json::array();
  for (const auto& p : st.partition_columns) {
    partition_columns.push_back({{"name", p.name}, {"transform", p.transform}});
  }
  json partitions = json::array();
  for (const auto& p : st.partitions) {
    json values = json::array();
    for (const auto& v : p.values) values.push_back(v ? json(*v) : json(nullptr));
    partitions.push_back({{"values", values}, {"files", p.files}, {"bytes", p.bytes}, {"rows", optional_json(p.rows)}});
  }
  return {
      {"name", t.qualified_name()},
      {"schema", t.schema},
      {"table", t.name},
      {"format", table_format_name(t.format)},
      {"format_version", st.format_version},
      {"features", st.features},
      {"location", t.location},
      {"rows", optional_json(st.rows)},
      {"bytes", st.bytes},
      {"files", st.files},
      {"snapshot", st.snapshot},
      {"key_columns", t.key_columns},
      {"columns", std::move(columns)},
      {"partition_columns", std::move(partition_columns)},
      {"partitions", std::move(partitions)},
      {"notes", st.notes},
  };
}

}  // namespace

void Endpoints::tables(Exchange& exchange) {
  const auto catalog = catalog_.current();
  json out = {{"tables", json::array()}};
  for (const auto& t : catalog->tables()) out["tables"].push_back(table_json(t));
  exchange.respond(200, "application/json", out.dump());
}

void Endpoints::refresh_catalog(Exchange& exchange) {
  const RefreshReport report = catalog_.refresh();
  json out = {{"tables", report.tables}, {"changed", report.changed}, {"errors", report.errors}};
  exchange.respond(200, "application/json", out.dump());
}

namespace {

// A query parameter's value with %XX escapes decoded ('+' stays '+': time offsets use it).
std::optional<std::string> decoded_param(std::string_view target, std::string_view name) {
  auto raw = query_param(target, name);
  if (!raw) return std::nullopt;
  std::string out;
  for (size_t i = 0; i < raw->size(); ++i) {
    const char c = (*raw)[i];
    unsigned byte = 0;
    if (c == '%' && i + 2 < raw->size() &&
        std::from_chars(raw->data() + i + 1, raw->data() + i + 3, byte, 16).ptr == raw->data() + i + 3) {
      out += static_cast<char>(byte);
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

json audit_record_json(const telemetry::AuditRecord& r) {
  json policies = json::parse(r.policies, nullptr, /*allow_exceptions=*/false);
  if (policies.is_discarded()) policies = json::object();
  return {{"id", r.id},
          {"ts", r.ts},
          {"query_id", r.query_id},
          {"user", r.user},
          {"groups", r.groups},
          {"source_address", r.source_address},
          {"frontend", r.frontend},
          {"fingerprint", r.fingerprint},
          {"kind", r.kind},
          {"tables", r.tables},
          {"engine", r.engine},
          {"decision", r.decision},
          {"policies", std::move(policies)},
          {"rows", r.rows},
          {"rows_changed", r.rows_changed ? json(*r.rows_changed) : json(nullptr)},
          {"outcome", telemetry::audit_outcome_name(r.outcome)},
          {"error_code", r.error_code},
          {"error_message", r.error_message},
          {"elapsed_ms", rounded_ms(r.elapsed_ms)}};
}

}  // namespace

bool Endpoints::admin_only(Exchange& exchange, std::string_view what) {
  // The identity is authenticated before any endpoint runs (http_auth.h).
  const auto& identity = exchange.identity();
  const auto& group = audit_api_.admin_group;
  if (std::find(identity.groups.begin(), identity.groups.end(), group) != identity.groups.end()) return true;
  respond_error(exchange, Error(ErrorCode::kPermissionDenied,
                                fmt::format("user '{}' may not {}: it is for members of the group '{}' "
                                            "(governance.admin_group)",
                                            identity.user, what, group)));
  return false;
}

// GET /v1/audit?user=&since=&until=&outcome=&limit=: newest first. Who asks is the request's
// identity (user and groups, as the front-end's authentication sets them); only members of the
// admin group may read it.
void Endpoints::audit(Exchange& exchange) {
  if (!admin_only(exchange, "read the audit log")) return;
  if (!audit_api_.store) {
    respond_error(exchange, Error(ErrorCode::kNotFound, "the audit log is off (history.audit: false)"));
    return;
  }
  const auto& req = exchange.request();
  const std::string_view target(req.target().data(), req.target().size());
  if (const auto q = target.find('?'); q != std::string_view::npos) {
    std::string_view rest = target.substr(q + 1);
    while (!rest.empty()) {
      const auto amp = rest.find('&');
      const auto name = rest.substr(0, std::min(amp, rest.find('=')));
      rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
      if (name.empty() || name == "user" || name == "since" || name == "until" || name == "outcome" || name == "limit" ||
          name == "before_id") {
        continue;
      }
      respond_error(exchange, Error(ErrorCode::kInvalidRequest,
                                    fmt::format("unknown parameter '{}'; GET /v1/audit takes user, since, until, "
                                                "outcome, limit and before_id",
                                                name)));
      return;
    }
  }
  telemetry::AuditQuery query;
  query.user = decoded_param(target, "user");
  for (auto [name, out] : {std::pair{"since", &query.since}, std::pair{"until", &query.until}}) {
    if (auto text = decoded_param(target, name)) {
      auto ts = telemetry::parse_utc_timestamp(*text);
      if (!ts.ok()) {
        respond_error(exchange, Error(ErrorCode::kInvalidRequest, fmt::format("'{}': {}", name, ts.error().message)));
        return;
      }
      *out = std::move(*ts);
    }
  }
  query.outcome = decoded_param(target, "outcome");
  if (query.outcome && !telemetry::parse_audit_outcome(*query.outcome) && !error_code_from_name(*query.outcome)) {
    respond_error(exchange, Error(ErrorCode::kInvalidRequest,
                                  fmt::format("'outcome': '{}' is neither an outcome (ok, refused, failed, cancelled, "
                                              "incomplete) nor an error code such as PERMISSION_DENIED",
                                              query.outcome->substr(0, 64))));
    return;
  }
  auto limit = int_param(target, "limit", 1, 10000);
  auto before_id = int_param(target, "before_id", 1, INT64_MAX);
  if (!limit.ok() || !before_id.ok()) {
    respond_error(exchange, !limit.ok() ? limit.error() : before_id.error());
    return;
  }
  query.limit = static_cast<int>(limit->value_or(100));
  query.before_id = *before_id;
  auto records = audit_api_.store->audit(query);
  if (!records.ok()) {
    respond_error(exchange, records.error());
    return;
  }
  const auto stats = audit_api_.store->stats();
  json out = {{"records", json::array()},
              {"count", records->size()},
              {"limit", query.limit},
              {"dropped", stats.dropped},
              {"write_errors", stats.write_errors}};
  for (const auto& r : *records) out["records"].push_back(audit_record_json(r));
  // The next page: the records written before the last one here.
  out["next_before_id"] = records->size() == static_cast<size_t>(query.limit) ? json(records->back().id) : json();
  // Stored names came from clients (pgwire user names under trust): never fail on their bytes.
  exchange.respond(200, "application/json", out.dump(-1, ' ', false, json::error_handler_t::replace));
}

namespace {

json optional_number(double value, bool present) { return present ? json(value) : json(nullptr); }

// GET /v1/calibration: the options, then per engine its configured figures and, per size class,
// what was learnt (docs/api.md).
json calibration_json(const routing::Calibrator* calibrator, const routing::CalibrationOptions& configured) {
  const routing::CalibrationOptions& options = calibrator ? calibrator->options() : configured;
  json classes = json::array();
  for (const auto& c : options.size_classes) {
    classes.push_back({{"name", c.name}, {"below_bytes", c.below_bytes ? json(*c.below_bytes) : json(nullptr)}});
  }
  json out = {{"enabled", calibrator != nullptr},
              {"alpha", options.alpha},
              {"min_samples", options.min_samples},
              {"size_classes", std::move(classes)},
              {"engines", json::array()}};
  if (!calibrator) return out;
  const auto snapshot = calibrator->snapshot();
  for (size_t e = 0; e < snapshot->engines().size(); ++e) {
    const routing::Pricing& pricing = calibrator->engines()[e].pricing;
    json per_class = json::array();
    const auto& figures = snapshot->figures(e);
    for (size_t c = 0; c < figures.size(); ++c) {
      const routing::CalibratedFigures& f = figures[c];
      per_class.push_back({{"size_class", snapshot->size_classes()[c].name},
                           {"samples", f.samples},
                           {"applied", f.applied},
                           {"fitted_throughput", f.fitted_throughput},
                           {"startup_ms", optional_number(f.startup_ms, f.samples > 0)},
                           {"bytes_per_second", optional_number(f.bytes_per_second, f.samples > 0)}});
    }
    out["engines"].push_back({{"engine", snapshot->engines()[e]},
                              {"configured",
                               {{"startup_ms", pricing.startup_ms}, {"bytes_per_second", pricing.scan_bytes_per_second}}},
                              {"samples", std::accumulate(figures.begin(), figures.end(), int64_t{0},
                                                          [](int64_t n, const auto& f) { return n + f.samples; })},
                              {"classes", std::move(per_class)}});
  }
  return out;
}

}  // namespace

void Endpoints::calibration(Exchange& exchange) {
  if (!admin_only(exchange, "read the routing calibration")) return;
  exchange.respond(200, "application/json",
                   calibration_json(pipeline_.calibrator(), pipeline_.router().policy().calibration).dump());
}

// DELETE /v1/calibration: forget what was learnt; routing goes back to the configured figures.
void Endpoints::reset_calibration(Exchange& exchange) {
  if (!admin_only(exchange, "reset the routing calibration")) return;
  routing::Calibrator* calibrator = pipeline_.calibrator();
  if (!calibrator) {
    respond_error(exchange, Error(ErrorCode::kNotFound, "calibration is off (routing.calibration.enabled: false)"));
    return;
  }
  const int64_t dropped = calibrator->reset();
  spdlog::info("routing calibration reset by {}: {} runs forgotten", exchange.identity().user, dropped);
  exchange.respond(200, "application/json", json({{"status", "reset"}, {"samples_dropped", dropped}}).dump());
}

void Endpoints::health(Exchange& exchange) { exchange.respond(200, "application/json", R"({"status":"ok"})"); }

void Endpoints::ready(Exchange& exchange) {
  json engines = json::object();
  bool all_ready = true;
  const auto breakers = pipeline_.monitor().status();
  for (const auto& engine : pipeline_.engines()) {
    auto h = engine->health();
    all_ready = all_ready && h.ready;
    json e = {{"ready", h.ready}, {"detail", h.detail}};
    for (const auto& b : breakers) {
      if (b.engine != engine->name()) continue;
      e["circuit"] = breaker_state_name(b.state);
      if (!b.last_error.empty()) e["last_error"] = b.last_error;
    }
    if (const AdmissionGate* gate = pipeline_.admission(engine->name())) {
      const auto stats = gate->stats();
      e["admission"] = {{"running", stats.running},
                        {"queued", stats.queued},
                        {"max_concurrent", gate->limits().max_concurrent},
                        {"max_queued", gate->limits().max_queued},
                        {"admitted", stats.admitted},
                        {"refused", stats.refused}};
    }
    engines[std::string(engine->name())] = std::move(e);
  }
  json out = {{"status", all_ready ? "ready" : "not_ready"}, {"engines", engines}};
  exchange.respond(all_ready ? 200 : 503, "application/json", out.dump());
}

}  // namespace lakerouter::http
