// The Databricks SQL engine over the Statement Execution API 2.0 (see databricks_engine.h).
//
// JSON: responses are parsed with RapidJSON's DOM in situ (strings point into the response
// buffer, no copies), as in the Trino engine, because chunks of rows are the hot path; request
// bodies are written with RapidJSON's Writer. HTTP: libcurl, one easy handle per running
// statement, taken from a small pool so that keep-alive (and TLS) connections are reused.
#include "engines/databricks/databricks_engine.h"

#include <curl/curl.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/ascii.h"
#include "core/value_parse.h"
#include "engines/databricks/databricks_internal.h"
#include "engines/http/curl_client.h"

namespace lakerouter {

using namespace databricks_internal;  // types, values, parameters, errors: databricks_values.cpp

// ================================================================================================
// HTTP through libcurl.
// ================================================================================================
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr std::string_view kStatementsPath = "/api/2.0/sql/statements";

using curl::HttpCall;
using curl::HttpReply;
using curl::perform;
using curl::snippet;

std::string_view string_of(const rapidjson::Value& v) { return {v.GetString(), v.GetStringLength()}; }

const rapidjson::Value* member(const rapidjson::Value& object, const char* name) {
  if (!object.IsObject()) return nullptr;
  auto it = object.FindMember(name);
  return it == object.MemberEnd() || it->value.IsNull() ? nullptr : &it->value;
}

std::string string_member(const rapidjson::Value& object, const char* name) {
  const auto* v = member(object, name);
  return v && v->IsString() ? std::string(string_of(*v)) : std::string();
}

std::optional<int64_t> int_member(const rapidjson::Value& object, const char* name) {
  const auto* v = member(object, name);
  if (v && v->IsInt64()) return v->GetInt64();
  if (v && v->IsString()) {  // int64 fields may come as JSON strings (proto3 JSON mapping)
    int64_t n = 0;
    const std::string_view s = string_of(*v);
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec == std::errc() && end == s.data() + s.size()) return n;
  }
  return std::nullopt;
}

// The error object of a non-200 answer ({"error_code": ..., "message": ...}), if it is one.
struct ServiceError {
  std::string error_code;
  std::string message;
};
ServiceError service_error(const std::string& body) {
  rapidjson::Document doc;
  doc.Parse(body.c_str(), body.size());
  if (doc.HasParseError() || !doc.IsObject()) return {"", snippet(body)};
  ServiceError e{string_member(doc, "error_code"), string_member(doc, "message")};
  if (const auto* numeric = member(doc, "error_code"); numeric && numeric->IsInt64()) {
    e.error_code = std::to_string(numeric->GetInt64());  // some endpoints send the HTTP status here
  }
  if (e.message.empty()) e.message = snippet(body);
  return e;
}

// Statement ids go into URL paths: only the characters ids are made of.
bool is_statement_id(std::string_view id) {
  return !id.empty() && id.size() <= 128 && std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
  });
}

// Authorization and content type, for every request.
std::vector<std::string> auth_header_lines(const std::string& token) {
  return {"Authorization: Bearer " + token, "Content-Type: application/json", "Accept: application/json"};
}

}  // namespace

// What the engine and its streams share. Immutable after construction, but for the handle pool
// and the canceller, which are thread-safe.
struct DatabricksEngine::Shared {
  Shared(const DatabricksEngineOptions& opts, std::string base, std::string secret, curl::List auth)
      : options(opts),
        base_url(std::move(base)),
        statements_url(base_url + std::string(kStatementsPath)),
        warehouse_url(base_url + "/api/2.0/sql/warehouses/" + opts.warehouse_id),
        token(std::move(secret)),
        headers(std::move(auth)),
        canceller("databricks", opts.connect_timeout) {}

  const DatabricksEngineOptions options;
  const std::string base_url;  // no trailing '/'
  const std::string statements_url;
  const std::string warehouse_url;
  const std::string token;  // never logged; redacted from server text
  const curl::List headers;   // Authorization and content type, for every request
  curl::HandlePool handles;
  curl::BackgroundSender canceller;  // the cancel requests
};

namespace {

using Shared = DatabricksEngine::Shared;

// A pooled handle, returned on destruction. Used by one thread at a time.
class PooledHandle {
 public:
  explicit PooledHandle(std::shared_ptr<Shared> shared) : shared_(std::move(shared)), handle_(shared_->handles.take()) {}
  ~PooledHandle() { shared_->handles.give(std::move(handle_)); }
  PooledHandle(const PooledHandle&) = delete;
  PooledHandle& operator=(const PooledHandle&) = delete;
  CURL* get() const { return handle_.get(); }

 private:
  std::shared_ptr<Shared> shared_;
  curl::Easy handle_;
};

// ================================================================================================
// Values.
// ================================================================================================

// {"a": 1, "b": 2} as [{"key":"a","value":1},{"key":"b","value":2}], or nullopt when the text is
// not a JSON object.
std::optional<std::string> map_entries_json(std::string_view text) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseFullPrecisionFlag>(text.data(), text.size());
  if (doc.HasParseError() || !doc.IsObject()) return std::nullopt;
  rapidjson::StringBuffer out;
  rapidjson::Writer<rapidjson::StringBuffer> w(out);
  w.StartArray();
  for (const auto& m : doc.GetObject()) {
    w.StartObject();
    w.Key("key");
    m.name.Accept(w);
    w.Key("value");
    m.value.Accept(w);
    w.EndObject();
  }
  w.EndArray();
  return std::string(out.GetString(), out.GetSize());
}

// Appends one JSON_ARRAY value (a string, or null) of a column; false when the text does not fit
// the column's type.
bool append_cell(ColumnData& col, const ColumnType& type, const rapidjson::Value& v) {
  if (v.IsNull() || type.id == TypeId::kNull) {
    col.append_null();
    return true;
  }
  if (!v.IsString()) return false;
  const std::string_view text = string_of(v);
  auto put_int64 = [&col](std::optional<int64_t> parsed) {
    if (parsed) col.append_int64(*parsed);
    return parsed.has_value();
  };
  switch (type.id) {
    case TypeId::kBoolean:
      if (text != "true" && text != "false") return false;
      col.append_int64(text == "true" ? 1 : 0);
      return true;
    case TypeId::kTinyInt:
    case TypeId::kSmallInt:
    case TypeId::kInteger:
    case TypeId::kBigInt: {
      int64_t n = 0;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
      if (ec != std::errc() || end != text.data() + text.size()) return false;
      col.append_int64(n);
      return true;
    }
    case TypeId::kFloat:
    case TypeId::kDouble: {
      auto d = parse_double(text);
      if (!d) return false;
      // A FLOAT is printed as the shortest text of the float: read it back as that float, the
      // value DuckDB hands out for the same REAL.
      col.append_double(type.id == TypeId::kFloat ? static_cast<double>(static_cast<float>(*d)) : *d);
      return true;
    }
    case TypeId::kDecimal: {
      auto d = parse_decimal(text, type.scale);
      if (!d) return false;
      col.append_int128(*d);
      return true;
    }
    case TypeId::kBlob: {
      auto bytes = decode_base64(text);
      if (!bytes) return false;
      col.append_string(*bytes);
      return true;
    }
    case TypeId::kJson: {
      // A MAP arrives as a JSON object; every engine hands maps on as [{"key": k, "value": v}].
      if (ascii_lower(std::string_view(type.sql_name).substr(0, 3)) == "map") {
        auto entries = map_entries_json(text);
        if (!entries) return false;
        col.append_string(*entries);
        return true;
      }
      // Encoders copy nested values into their output as they are: only well-formed JSON may pass.
      rapidjson::Reader reader;
      rapidjson::StringStream in(v.GetString());
      rapidjson::BaseReaderHandler<> ignore;
      if (reader.Parse<rapidjson::kParseFullPrecisionFlag | rapidjson::kParseStopWhenDoneFlag>(in, ignore).IsError() ||
          in.Tell() != text.size()) {
        return false;
      }
      col.append_string(text);
      return true;
    }
    case TypeId::kDate: return put_int64(parse_date(text));
    case TypeId::kTimestamp: return put_int64(parse_timestamp(text, /*zoned=*/false));
    case TypeId::kTimestampTz: return put_int64(parse_timestamp(text, /*zoned=*/true));
    default:  // strings, intervals, types without a core name
      col.append_string(text);
      return true;
  }
}

// ================================================================================================
// The stream.
// ================================================================================================

// One response (a StatementResponse or a chunk's ResultData), parsed in situ: the document's
// strings point into `body`, so the two live and die together.
struct Page {
  std::string body;
  rapidjson::Document doc;
  const rapidjson::Value* rows = nullptr;  // its data_array, when it has rows
};

Error stopped(bool timed_out) {
  return timed_out ? Error(ErrorCode::kQueryTimeout, "the query ran past its time limit and was stopped")
                   : Error(ErrorCode::kQueryCancelled, "the query was cancelled");
}

// One statement's result. Thread-safety: ResultStream's contract; next() and the state it
// walks belong to the consumer thread, cancel() touches only the atomics and what mu_ guards.
class DatabricksStream final : public ResultStream {
 public:
  DatabricksStream(const std::shared_ptr<Shared>& shared, std::string sql, std::optional<RewrittenStatement> rewritten)
      : shared_(shared),
        handle_(shared),
        sql_(std::move(sql)),
        rewritten_(std::move(rewritten)),
        poll_wait_(shared->options.poll_interval) {}

  ~DatabricksStream() override { stop_on_server(); }  // an unfinished statement must not run on unread

  DatabricksStream(const DatabricksStream&) = delete;
  DatabricksStream& operator=(const DatabricksStream&) = delete;

  // Submits the statement and polls until Databricks knows the result's columns, failed or
  // finished; after `deadline` the stream is returned anyway and next() goes on from there.
  Status start(std::string_view body, milliseconds wait_timeout, Clock::time_point deadline) {
    if (!handle_.get()) return Error(ErrorCode::kInternal, "libcurl could not create a handle");
    HttpCall call{"POST", &shared_->statements_url, shared_->headers.get(), body, options().connect_timeout,
                  options().request_timeout + wait_timeout, &cancelled_};
    auto reply = exchange(call, /*idempotent=*/false);
    if (!reply.ok()) return reply.error();
    LR_TRY(adopt_statement(std::move(*reply)));
    while (!columns_known_ && running_ && Clock::now() < deadline) LR_TRY(advance());
    return Status::Ok();
  }

  const ResultSchema& schema() const override { return schema_; }

  Result<bool> next(ResultBatch& batch) override {
    if (cancelled_) return stopped(timed_out_);
    if (failure_) return *failure_;
    auto more = fetch(batch);
    if (!more.ok()) {
      Error e = cancelled_ ? stopped(timed_out_) : std::move(more).error();
      failure_ = e;
      return e;
    }
    return more;
  }

  void cancel(bool timed_out) override {
    if (timed_out) timed_out_ = true;  // before cancelled_: next() reads them in the other order
    cancelled_ = true;
    stop_on_server();
  }

 private:
  const DatabricksEngineOptions& options() const { return shared_->options; }

  std::string statement_id() const {
    std::lock_guard lock(mu_);
    return statement_id_;
  }

  Result<bool> fetch(ResultBatch& batch) {
    while (!pending_ && (running_ || !next_link_.empty())) LR_TRY(advance());
    if (!batch_ready_) {
      batch.reset(schema_);
      batch_ready_ = true;
    }
    if (!pending_) return false;
    auto page = std::move(pending_);
    LR_TRY(append_rows(*page, batch));
    return true;
  }

  // Polls the statement while it runs (after a pause that grows up to max_poll_interval), else
  // GETs the next chunk of its result.
  Status advance() {
    if (running_) {
      pause(poll_wait_);
      poll_wait_ = std::min(poll_wait_ * 2, std::max(options().max_poll_interval, options().poll_interval));
      const std::string url = shared_->statements_url + "/" + statement_id();
      auto reply = get(url);
      if (!reply.ok()) return reply.error();
      return adopt_statement(std::move(*reply));
    }
    const std::string url = shared_->base_url + next_link_;
    auto reply = get(url);
    if (!reply.ok()) return reply.error();
    auto page = parse(std::move(*reply));
    if (!page.ok()) return page.error();
    return adopt_result(std::move(*page), nullptr);
  }

  Result<std::string> get(const std::string& url) {
    HttpCall call{"GET", &url, shared_->headers.get(), {}, options().connect_timeout, options().request_timeout,
                  &cancelled_};
    return exchange(call, /*idempotent=*/true);
  }

  // One HTTP exchange with retries: 429 and 502/503/504 (the request was not taken) after a
  // growing backoff, and for GETs (idempotent) a dropped connection twice.
  Result<std::string> exchange(const HttpCall& call, bool idempotent) {
    const auto give_up = Clock::now() + options().request_timeout;
    milliseconds backoff(100);
    int transport_failures = 0;
    while (true) {
      if (cancelled_) return stopped(timed_out_);
      HttpReply reply = perform(handle_.get(), call);
      if (cancelled_ || reply.code == CURLE_ABORTED_BY_CALLBACK) return stopped(timed_out_);
      if (reply.code == CURLE_OK && reply.status == 200) return std::move(reply.body);
      const bool retry =
          reply.code != CURLE_OK ? idempotent && ++transport_failures <= 2
                                 : reply.status == 429 || reply.status == 502 || reply.status == 503 || reply.status == 504;
      if (!retry || Clock::now() + backoff >= give_up) return http_error(reply);
      pause_jittered(backoff);
      backoff = std::min(backoff * 2, milliseconds(2000));
    }
  }

  // Sleeps `wait`, waking early on cancel().
  void pause(milliseconds wait) const {
    const auto until = Clock::now() + wait;
    while (!cancelled_ && Clock::now() < until) {
      std::this_thread::sleep_for(std::min(milliseconds(10), std::chrono::duration_cast<milliseconds>(until - Clock::now())));
    }
  }

  // Sleeps 1x-2x `backoff` (jitter spreads the retries of many clients), waking early on cancel().
  void pause_jittered(milliseconds backoff) const {
    thread_local std::minstd_rand rng(std::random_device{}());
    pause(backoff + milliseconds(std::uniform_int_distribution<int64_t>(0, backoff.count())(rng)));
  }

  Error http_error(const HttpReply& reply) const {
    const std::string& host = shared_->base_url;
    const std::string id = statement_id();
    if (reply.code != CURLE_OK) {
      return Error(ErrorCode::kEngineUnavailable,
                   id.empty() ? fmt::format("cannot reach Databricks at {}: {}", host, reply.error)
                              : fmt::format("lost Databricks at {} during statement {}: {}", host, id, reply.error));
    }
    const ServiceError e = service_error(reply.body);
    const std::string why = redact(e.error_code.empty() ? e.message : e.error_code + ": " + e.message, shared_->token);
    const auto& o = options();
    switch (reply.status) {
      case 401:
        return Error(ErrorCode::kPermissionDenied,
                     fmt::format("Databricks at {} did not accept the credentials (HTTP 401, {}); set the environment "
                                 "variable {} to a valid personal access token or OAuth access token",
                                 host, why, o.token_env));
      case 403:
        return Error(ErrorCode::kPermissionDenied,
                     fmt::format("Databricks at {} refused access (HTTP 403, {}); the token in the environment "
                                 "variable {} may be invalid or expired, or its user may lack CAN USE on SQL "
                                 "warehouse {}",
                                 host, why, o.token_env, o.warehouse_id));
      case 404:
        if (!id.empty()) {
          return Error(ErrorCode::kEngineUnavailable,
                       fmt::format("Databricks at {} no longer knows statement {} (HTTP 404, {})", host, id, why));
        }
        return Error(ErrorCode::kEngineUnavailable,
                     fmt::format("Databricks at {} answered HTTP 404 ({}); check engines.{}.connection: host and "
                                 "warehouse_id '{}'",
                                 host, why, o.name, o.warehouse_id));
      case 429:
        return Error(ErrorCode::kEngineUnavailable,
                     fmt::format("Databricks at {} kept rate-limiting requests (HTTP 429, {}) for {} ms; retry later",
                                 host, why, o.request_timeout.count()));
      case 502:
      case 503:
      case 504:
        return Error(ErrorCode::kEngineUnavailable,
                     fmt::format("Databricks at {} kept answering HTTP {} ({}) for {} ms; retry later", host,
                                 reply.status, why, o.request_timeout.count()));
      case 400:
        return Error(ErrorCode::kEngineError, fmt::format("Databricks at {} refused the request (HTTP 400, {})", host, why));
      default:
        return Error(ErrorCode::kEngineError, fmt::format("Databricks at {} answered HTTP {} ({})", host, reply.status, why));
    }
  }

  Result<std::unique_ptr<Page>> parse(std::string body) const {
    auto page = std::make_unique<Page>();
    page->body = std::move(body);
    page->doc.ParseInsitu<rapidjson::kParseFullPrecisionFlag>(page->body.data());
    if (page->doc.HasParseError() || !page->doc.IsObject()) {
      return Error(ErrorCode::kEngineError, fmt::format("Databricks at {} sent a response that is not JSON: {}",
                                                        shared_->base_url, redact(snippet(page->body), shared_->token)));
    }
    return page;
  }

  void set_open(bool open) {
    std::lock_guard lock(mu_);
    open_ = open;
  }

  // Takes in a StatementResponse: the id, the state and, once it SUCCEEDED, the manifest and the
  // first chunk.
  Status adopt_statement(std::string body) {
    auto parsed = parse(std::move(body));
    if (!parsed.ok()) return parsed.error();
    std::unique_ptr<Page> page = std::move(*parsed);
    const auto& doc = page->doc;
    if (statement_id().empty()) {
      const std::string id = string_member(doc, "statement_id");
      if (!is_statement_id(id)) {
        return Error(ErrorCode::kEngineError,
                     fmt::format("Databricks at {} sent no usable statement_id: {}", shared_->base_url,
                                 redact(snippet(page->body), shared_->token)));
      }
      std::lock_guard lock(mu_);
      statement_id_ = id;
      open_ = true;
    }
    const auto* status = member(doc, "status");
    const std::string state = status ? string_member(*status, "state") : std::string();
    running_ = state == "PENDING" || state == "RUNNING";
    if (running_) return Status::Ok();
    if (state == "SUCCEEDED") {
      if (!columns_known_) {
        const auto* manifest = member(doc, "manifest");
        if (!manifest) return Error(ErrorCode::kEngineError, "Databricks sent a SUCCEEDED statement without a manifest");
        LR_TRY(set_schema(*manifest));
      }
      const auto* result = member(doc, "result");
      if (!result) {  // no rows at all
        set_open(false);
        return Status::Ok();
      }
      return adopt_result(std::move(page), result);
    }
    set_open(false);
    const std::string id = statement_id();
    if (state == "FAILED") return to_error(status ? *status : doc);
    if (state == "CANCELED") {
      if (cancelled_) return stopped(timed_out_);
      return Error(ErrorCode::kQueryCancelled,
                   fmt::format("statement {} was canceled on Databricks (by another client, an administrator, or the "
                               "warehouse stopping)",
                               id));
    }
    if (state == "CLOSED") {
      return Error(ErrorCode::kEngineError,
                   fmt::format("statement {} was closed on Databricks before lakerouter read its result", id));
    }
    return Error(ErrorCode::kEngineError,
                 fmt::format("Databricks sent statement {} in state '{}', which lakerouter does not know", id, state));
  }

  // Takes in a chunk of the result (`result` inside the page, or the whole page for a chunk GET):
  // its rows and where the next chunk is.
  Status adopt_result(std::unique_ptr<Page> page, const rapidjson::Value* result) {
    if (!result) result = &page->doc;
    if (member(*result, "external_links")) {
      set_open(false);
      return Error(ErrorCode::kEngineError, "Databricks sent result links although lakerouter asks for INLINE rows");
    }
    const std::string link = string_member(*result, "next_chunk_internal_link");
    const auto index = int_member(*result, "next_chunk_index");
    if (!link.empty()) {
      // A path to join with the host; anything else would send the token elsewhere.
      if (!link.starts_with(std::string(kStatementsPath) + "/")) {
        set_open(false);
        return Error(ErrorCode::kEngineError, fmt::format("Databricks sent a next_chunk_internal_link outside {}: {}",
                                                          kStatementsPath, snippet(link)));
      }
      next_link_ = link;
    } else if (index) {
      next_link_ = fmt::format("{}/{}/result/chunks/{}", kStatementsPath, statement_id(), *index);
    } else {
      next_link_.clear();
      set_open(false);  // the last chunk: nothing left to cancel
    }
    if (const auto* rows = member(*result, "data_array"); rows && rows->IsArray() && !rows->Empty()) {
      if (!columns_known_) return Error(ErrorCode::kEngineError, "Databricks sent rows before their columns");
      page->rows = rows;
      pending_ = std::move(page);
    }
    return Status::Ok();
  }

  Status set_schema(const rapidjson::Value& manifest) {
    if (const std::string format = string_member(manifest, "format"); !format.empty() && format != "JSON_ARRAY") {
      return Error(ErrorCode::kEngineError,
                   fmt::format("Databricks sent the result as {} although lakerouter asks for JSON_ARRAY", format));
    }
    const auto* schema = member(manifest, "schema");
    const auto* columns = schema ? member(*schema, "columns") : nullptr;
    if (columns && !columns->IsArray()) {
      return Error(ErrorCode::kEngineError, "Databricks sent a manifest whose schema.columns is no list");
    }
    if (columns) {
      for (const auto& c : columns->GetArray()) {
        schema_.push_back(ColumnInfo{string_member(c, "name"),
                                     column_type(string_member(c, "type_name"), string_member(c, "type_text"),
                                                 int_member(c, "type_precision"), int_member(c, "type_scale"))});
      }
    }
    columns_known_ = true;
    return Status::Ok();
  }

  Status append_rows(const Page& page, ResultBatch& batch) {
    const auto& rows = *page.rows;  // adopt_result() kept the page for its rows
    for (size_t c = 0; c < batch.column_count(); ++c) batch.column(c).reserve(batch.column(c).size() + rows.Size());
    for (const auto& row : rows.GetArray()) {
      if (!row.IsArray() || row.Size() != schema_.size()) {
        return Error(ErrorCode::kEngineError, fmt::format("Databricks sent a row of {} values for {} columns",
                                                          row.IsArray() ? row.Size() : 0, schema_.size()));
      }
      for (rapidjson::SizeType c = 0; c < row.Size(); ++c) {
        if (!append_cell(batch.column(c), schema_[c].type, row[c])) {
          rapidjson::StringBuffer text;
          rapidjson::Writer<rapidjson::StringBuffer> w(text);
          row[c].Accept(w);
          return Error(ErrorCode::kEngineError, fmt::format("Databricks sent {} for column '{}' of type {}",
                                                            snippet(text.GetString()), schema_[c].name,
                                                            schema_[c].type.sql_name));
        }
      }
    }
    return Status::Ok();
  }

  // A FAILED statement's status.error as a core error, its position mapped into the caller's text.
  Error to_error(const rapidjson::Value& status) const {
    const auto* error = member(status, "error");
    const std::string error_code = error ? string_member(*error, "error_code") : std::string();
    std::string message = redact(error ? string_member(*error, "message") : std::string(), shared_->token);
    const ErrorCode code = code_of_statement_error(message, error_code, string_member(status, "sql_state"));
    if (code == ErrorCode::kQueryCancelled && cancelled_) return stopped(timed_out_);
    std::optional<uint32_t> position;
    if (auto location = find_location(message)) {
      position = location_to_offset(rewritten_ ? std::string_view(rewritten_->sql) : std::string_view(sql_), *location);
      if (position && rewritten_) position = rewritten_->to_original(*position);
    }
    if (message.empty()) message = "the statement failed on Databricks without a message";
    if (code == ErrorCode::kEngineError && !error_code.empty()) message += fmt::format(" (Databricks {})", error_code);
    return Error(code, std::move(message), position);
  }

  // Asks Databricks to stop the statement (once), through the engine's canceller thread.
  void stop_on_server() {
    std::string id;
    {
      std::lock_guard lock(mu_);
      if (statement_id_.empty() || !open_ || cancel_sent_) return;
      cancel_sent_ = true;
      id = statement_id_;
    }
    shared_->canceller.send({"POST", shared_->statements_url + "/" + id + "/cancel", auth_header_lines(shared_->token), "{}"});
  }

  // Declaration order matters: the handle goes back before the shared state can go.
  std::shared_ptr<Shared> shared_;
  PooledHandle handle_;
  const std::string sql_;                              // the caller's text, for error positions
  const std::optional<RewrittenStatement> rewritten_;  // the text sent, when it had parameters

  ResultSchema schema_;
  bool columns_known_ = false;
  bool running_ = false;          // PENDING or RUNNING at the last answer
  std::string next_link_;         // the next chunk's path; empty after the last
  milliseconds poll_wait_;
  bool batch_ready_ = false;
  std::unique_ptr<Page> pending_;  // a chunk whose rows next() has not handed out yet
  std::optional<Error> failure_;

  mutable std::mutex mu_;
  std::string statement_id_;  // guarded by mu_; set once
  bool open_ = false;         // guarded by mu_; the statement runs or has unread chunks
  bool cancel_sent_ = false;  // guarded by mu_
  std::atomic<bool> cancelled_{false};
  std::atomic<bool> timed_out_{false};
};

// ================================================================================================
// Requests and options.
// ================================================================================================

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

void write_string(JsonWriter& w, std::string_view s) { w.String(s.data(), static_cast<rapidjson::SizeType>(s.size())); }

std::string request_body(const DatabricksEngineOptions& o, std::string_view sql, const std::vector<ParamValue>& params,
                         int64_t wait_seconds) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  w.Key("statement");
  write_string(w, sql);
  w.Key("warehouse_id");
  write_string(w, o.warehouse_id);
  if (!o.catalog.empty()) {
    w.Key("catalog");
    write_string(w, o.catalog);
  }
  if (!o.schema.empty()) {
    w.Key("schema");
    write_string(w, o.schema);
  }
  w.Key("disposition");
  w.String("INLINE");
  w.Key("format");
  w.String("JSON_ARRAY");
  w.Key("wait_timeout");
  write_string(w, fmt::format("{}s", wait_seconds));
  w.Key("on_wait_timeout");
  w.String("CONTINUE");
  if (!params.empty()) {
    w.Key("parameters");
    w.StartArray();
    for (size_t i = 0; i < params.size(); ++i) {
      const ParameterText p = parameter_text(params[i]);
      w.StartObject();
      w.Key("name");
      write_string(w, fmt::format("p{}", i + 1));
      if (!p.type.empty()) {
        w.Key("type");
        write_string(w, p.type);
      }
      if (p.value) {
        w.Key("value");
        write_string(w, *p.value);
      }
      w.EndObject();
    }
    w.EndArray();
  }
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

// The workspace's base URL, checked by libcurl's URL parser: http(s) (https when none is given),
// a host, no credentials, query or fragment.
Result<std::string> normalize_host(const std::string& engine, const std::string& host) {
  std::string url = host.find("://") == std::string::npos && !host.empty() ? "https://" + host : host;
  // A URL with '@' may carry a password: it is not echoed.
  const std::string shown = url.find('@') == std::string::npos ? fmt::format(" '{}'", host) : std::string();
  auto config_error = [&](std::string_view why) {
    return Error(ErrorCode::kConfigError,
                 fmt::format("engines.{}.connection.host{} is not usable: {} (expected the workspace URL, e.g. "
                             "https://adb-1234567890123456.7.azuredatabricks.net)",
                             engine, shown, why));
  };
  if (url.empty()) return config_error("it is empty");
  curl::Url parsed(curl_url());
  if (!parsed) return Error(ErrorCode::kInternal, "out of memory parsing a URL");
  if (CURLUcode rc = curl_url_set(parsed.get(), CURLUPART_URL, url.c_str(), 0); rc != CURLUE_OK) {
    return config_error(curl_url_strerror(rc));
  }
  auto part = [&](CURLUPart which) {
    char* value = nullptr;
    curl_url_get(parsed.get(), which, &value, 0);
    return curl::String(value);
  };
  const auto scheme = part(CURLUPART_SCHEME);
  if (!scheme || (std::string_view(scheme.get()) != "http" && std::string_view(scheme.get()) != "https")) {
    return config_error("the scheme must be https (or http for a test server)");
  }
  const auto host_part = part(CURLUPART_HOST);
  if (!host_part || *host_part.get() == '\0') return config_error("it names no host");
  if (part(CURLUPART_USER)) return config_error("credentials do not belong in the URL (the token comes from token_env)");
  if (part(CURLUPART_QUERY) || part(CURLUPART_FRAGMENT)) return config_error("it must not have a query or fragment");
  while (url.ends_with('/')) url.pop_back();
  return url;
}

bool is_env_name(std::string_view name) {
  return !name.empty() && !std::isdigit(static_cast<unsigned char>(name.front())) &&
         std::all_of(name.begin(), name.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

// The POST's wait_timeout in seconds: the configured one, kept a second below the session's
// deadline so that the statement id comes back (and the statement can be cancelled) in time. The
// API takes 0 (asynchronous) or 5 to 50 seconds.
int64_t wait_seconds(const DatabricksEngineOptions& o, const Session& session) {
  int64_t seconds = o.wait_timeout.count() / 1000;
  if (session.timeout) seconds = std::min<int64_t>(seconds, (session.timeout->count() - 1000) / 1000);
  return seconds < 5 ? 0 : std::min<int64_t>(seconds, 50);
}

}  // namespace

// ================================================================================================
// The engine.
// ================================================================================================

DatabricksEngine::DatabricksEngine(PrivateTag /*tag*/, std::shared_ptr<Shared> shared) : shared_(std::move(shared)) {}
DatabricksEngine::~DatabricksEngine() = default;

Result<std::unique_ptr<DatabricksEngine>> DatabricksEngine::open(const DatabricksEngineOptions& options) {
  curl::global_init_once();
  const std::string& name = options.name;
  auto base = normalize_host(name, options.host);
  if (!base.ok()) return base.error();
  if (!is_statement_id(options.warehouse_id)) {
    return Error(ErrorCode::kConfigError,
                 fmt::format("engines.{}.connection.warehouse_id '{}' is not a SQL warehouse id (letters, digits, - "
                             "and _; see the warehouse's Connection details)",
                             name, options.warehouse_id));
  }
  if (options.connect_timeout.count() <= 0 || options.request_timeout.count() <= 0 ||
      options.poll_interval.count() <= 0 || options.max_poll_interval.count() <= 0) {
    return Error(ErrorCode::kConfigError,
                 fmt::format("engines.{}: connect, request and poll timeouts must be positive", name));
  }
  const int64_t wait_ms = options.wait_timeout.count();
  if (wait_ms != 0 && (wait_ms < 5000 || wait_ms > 50000)) {
    return Error(ErrorCode::kConfigError,
                 fmt::format("engines.{}.connection.wait_timeout_ms is {}; Databricks takes 0 (poll at once) or "
                             "5000 to 50000",
                             name, wait_ms));
  }
  if (!is_env_name(options.token_env)) {
    return Error(ErrorCode::kConfigError,
                 fmt::format("engines.{}.connection.token_env '{}' is not an environment variable name; it names "
                             "the variable that holds the token (default DATABRICKS_TOKEN), not the token",
                             name, options.token_env));
  }
  const char* token = std::getenv(options.token_env.c_str());  // NOLINT(concurrency-mt-unsafe): read at start-up
  if (!token || *token == '\0') {
    return Error(ErrorCode::kConfigError,
                 fmt::format("engines.{}: the environment variable {} is not set; export it with a Databricks personal "
                             "access token or OAuth access token (or name another variable in "
                             "engines.{}.connection.token_env)",
                             name, options.token_env, name));
  }
  const std::string secret(token);
  if (secret.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
    return Error(ErrorCode::kConfigError,
                 fmt::format("engines.{}: the token in {} holds a line break", name, options.token_env));
  }
  curl::List headers = curl::header_list(auth_header_lines(secret));
  if (!headers) return Error(ErrorCode::kInternal, "out of memory building Databricks request headers");
  return std::make_unique<DatabricksEngine>(
      PrivateTag{}, std::make_shared<Shared>(options, std::move(*base), secret, std::move(headers)));
}

std::string_view DatabricksEngine::name() const { return shared_->options.name; }

Result<std::unique_ptr<ResultStream>> DatabricksEngine::execute(const Statement& statement, const Session& session) {
  const auto& options = shared_->options;
  std::optional<RewrittenStatement> rewritten;
  if (!statement.params.empty()) {
    auto r = rewrite_parameters(statement.sql, statement.params.size());
    if (!r.ok()) return r.error();
    rewritten = std::move(*r);
  }
  const int64_t wait = wait_seconds(options, session);
  const std::string body =
      request_body(options, rewritten ? std::string_view(rewritten->sql) : std::string_view(statement.sql),
                   statement.params, wait);
  auto stream = std::make_unique<DatabricksStream>(shared_, statement.sql, std::move(rewritten));
  auto patience = options.request_timeout;
  if (session.timeout) patience = std::min(patience, *session.timeout);
  LR_TRY(stream->start(body, std::chrono::seconds(wait), Clock::now() + patience));
  return std::unique_ptr<ResultStream>(std::move(stream));
}

EngineHealth DatabricksEngine::health() {
  const auto& options = shared_->options;
  const std::string& host = shared_->base_url;
  PooledHandle handle(shared_);
  if (!handle.get()) return EngineHealth{false, "libcurl could not create a handle"};
  HttpCall call{"GET", &shared_->warehouse_url, shared_->headers.get(), {}, options.connect_timeout,
                std::min(options.request_timeout, milliseconds(5000)), nullptr};
  HttpReply reply = perform(handle.get(), call);
  if (reply.code != CURLE_OK) return EngineHealth{false, fmt::format("cannot reach Databricks at {}: {}", host, reply.error)};
  if (reply.status == 401 || reply.status == 403) {
    return EngineHealth{false, fmt::format("Databricks at {} refused the token in {} (HTTP {})", host,
                                           options.token_env, reply.status)};
  }
  if (reply.status == 404) {
    return EngineHealth{false, fmt::format("Databricks at {} has no SQL warehouse '{}' (HTTP 404)", host,
                                           options.warehouse_id)};
  }
  if (reply.status != 200) {
    return EngineHealth{false, fmt::format("Databricks at {} answered HTTP {} for SQL warehouse {}", host, reply.status,
                                           options.warehouse_id)};
  }
  rapidjson::Document info;
  info.Parse(reply.body.c_str(), reply.body.size());
  const std::string state = info.HasParseError() ? std::string() : string_member(info, "state");
  if (state.empty()) {
    return EngineHealth{false, fmt::format("Databricks at {} sent no warehouse state: {}", host,
                                           redact(snippet(reply.body), shared_->token))};
  }
  const std::string warehouse = fmt::format("SQL warehouse '{}' ({}) at {}", string_member(info, "name"),
                                            options.warehouse_id, host);
  return EngineHealth{state == "RUNNING", fmt::format("Databricks {} is {}", warehouse, state)};
}

}  // namespace lakerouter
