#include "frontends/http/endpoints.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "core/utf8.h"
#include "frontends/http/json_result_writer.h"

namespace lakerouter::http {
namespace beast_http = boost::beast::http;
using nlohmann::json;

namespace {

constexpr size_t kFlushBytes = size_t{64} * 1024;  // stream out whenever this much JSON is pending
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
Result<Statement> parse_query_request(const Request& req, Session& session) {
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
    if (key != "sql" && key != "params" && key != "timeout_ms") {
      return Error(ErrorCode::kInvalidRequest,
                   fmt::format("unknown field '{}' in the request; allowed fields: sql, params, timeout_ms", key));
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
      {"/health", beast_http::verb::get, &Endpoints::health},
      {"/ready", beast_http::verb::get, &Endpoints::ready},
  };
  std::string allowed;
  for (const auto& route : kRoutes) {
    if (route.path != path) continue;
    if (route.method == method || (method == beast_http::verb::head && route.method == beast_http::verb::get)) {
      (this->*route.handler)(exchange);
      return;
    }
    allowed = route.method == beast_http::verb::get ? "GET, HEAD" : std::string(beast_http::to_string(route.method));
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
std::optional<Statement> Endpoints::read_statement(Exchange& exchange, Session& session) {
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
  const auto engine = req[kEngineHeader];
  session.engine_request = std::string(engine.data(), engine.size());
  auto statement = parse_query_request(req, session);
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

void Endpoints::query(Exchange& exchange) {
  Session session;
  auto statement = read_statement(exchange, session);
  if (!statement) return;

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
  JsonResultWriter writer;
  json routing = query->decision.to_json();
  routing.erase("candidates");  // the summary; POST /v1/route has the whole decision
  writer.begin(query->query_id, query->engine, routing.dump(), stream.schema());
  int64_t row_count = 0;
  if (!exchange.begin_stream(200, "application/json")) return stream.cancel(false);
  while (*more) {
    row_count += static_cast<int64_t>(batch.row_count());
    writer.add_batch(batch);
    if (writer.pending_bytes() >= kFlushBytes && !exchange.write(writer.take())) {
      stream.cancel(false);  // the client went away
      return;
    }
    batch.clear();
    more = stream.next(batch);
    if (!more.ok()) {
      // Headers are gone already: the error travels in the document (see docs/api.md).
      writer.finish_with_error(row_count, more.error());
      exchange.write(writer.take());
      exchange.end_stream();
      return;
    }
  }
  writer.finish(row_count, query->elapsed_ms());
  if (exchange.write(writer.take())) exchange.end_stream();
  spdlog::debug("query {} on {}: {} rows in {:.1f} ms", query->query_id, query->engine, row_count, query->elapsed_ms());
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
