// The Trino engine over Trino's client REST protocol (see trino_engine.h).
//
// JSON: result pages are parsed with RapidJSON's DOM in situ (strings point into the response
// buffer, no copies) because pages are large and this is the hot path of big results; nested
// values are re-serialized with RapidJSON's Writer. HTTP: libcurl, one easy handle per running
// statement, taken from a small pool so that keep-alive connections are reused across statements.
#include "engines/trino/trino_engine.h"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <mutex>
#include <random>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/value_parse.h"
#include "engines/http/curl_client.h"
#include "engines/trino/trino_internal.h"

namespace lakerouter {

using namespace trino_internal;  // value text forms: trino_values.cpp

// ================================================================================================
// HTTP through libcurl.
// ================================================================================================
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

using curl::HttpCall;
using curl::HttpReply;
using curl::perform;
using curl::snippet;

}  // namespace

struct TrinoEngine::Shared {
  Shared(const TrinoEngineOptions& opts, std::string base)
      : options(opts),
        base_url(std::move(base)),
        statement_url(base_url + "/v1/statement"),
        info_url(base_url + "/v1/info"),
        canceller("trino", opts.connect_timeout) {}

  const TrinoEngineOptions options;
  const std::string base_url;  // no trailing '/'
  const std::string statement_url;
  const std::string info_url;
  curl::HandlePool handles;
  curl::BackgroundSender canceller;  // the DELETEs that stop queries
};

namespace {

using Shared = TrinoEngine::Shared;

// A pooled handle, returned on destruction.
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
// Types and values.
// ================================================================================================

// A column's type as Trino's typeSignature spells it, with what conversion needs.
struct TrinoType {
  std::string raw;                        // "decimal", "timestamp with time zone", "row", ...
  std::vector<int64_t> numbers;           // LONG arguments: precision and scale, lengths
  std::vector<TrinoType> children;        // element, key and value, or row field types
  std::vector<std::string> field_names;   // row fields ("" when unnamed)
  TypeId id = TypeId::kOther;
};

TypeId type_id(std::string_view raw) {
  static const std::map<std::string_view, TypeId, std::less<>> kIds = {
      {"boolean", TypeId::kBoolean},
      {"tinyint", TypeId::kTinyInt},
      {"smallint", TypeId::kSmallInt},
      {"integer", TypeId::kInteger},
      {"bigint", TypeId::kBigInt},
      {"real", TypeId::kFloat},
      {"double", TypeId::kDouble},
      {"decimal", TypeId::kDecimal},
      {"varchar", TypeId::kVarchar},
      {"char", TypeId::kVarchar},
      {"varbinary", TypeId::kBlob},
      {"date", TypeId::kDate},
      {"time", TypeId::kTime},
      {"timestamp", TypeId::kTimestamp},
      {"timestamp with time zone", TypeId::kTimestampTz},
      {"interval day to second", TypeId::kInterval},
      {"interval year to month", TypeId::kInterval},
      {"uuid", TypeId::kUuid},
      {"json", TypeId::kJson},
      {"array", TypeId::kJson},
      {"map", TypeId::kJson},
      {"row", TypeId::kJson},
      {"unknown", TypeId::kNull},  // the type of a bare NULL
  };
  auto it = kIds.find(raw);
  return it == kIds.end() ? TypeId::kOther : it->second;  // time with time zone, ipaddress, geometry...
}

std::string_view string_of(const rapidjson::Value& v) { return {v.GetString(), v.GetStringLength()}; }

const rapidjson::Value* member(const rapidjson::Value& object, const char* name) {
  if (!object.IsObject()) return nullptr;
  auto it = object.FindMember(name);
  return it == object.MemberEnd() || it->value.IsNull() ? nullptr : &it->value;
}

TrinoType parse_signature(const rapidjson::Value& sig) {
  TrinoType t;
  if (const auto* raw = member(sig, "rawType"); raw && raw->IsString()) t.raw = string_of(*raw);
  t.id = type_id(t.raw);
  const auto* args = member(sig, "arguments");
  if (!args || !args->IsArray()) return t;
  for (const auto& arg : args->GetArray()) {
    const auto* kind = member(arg, "kind");
    const auto* value = member(arg, "value");
    if (!kind || !kind->IsString() || !value) continue;
    const std::string_view k = string_of(*kind);
    if (k == "LONG" && value->IsInt64()) {
      t.numbers.push_back(value->GetInt64());
    } else if (k == "TYPE") {
      t.children.push_back(parse_signature(*value));
    } else if (k == "NAMED_TYPE") {
      const auto* field = member(*value, "fieldName");
      const auto* name = field ? member(*field, "name") : nullptr;
      t.field_names.emplace_back(name && name->IsString() ? string_of(*name) : std::string_view());
      const auto* child = member(*value, "typeSignature");
      t.children.push_back(child ? parse_signature(*child) : TrinoType{});
    }
  }
  return t;
}

ColumnType to_column_type(const TrinoType& t, std::string sql_name) {
  ColumnType out;
  out.id = t.id;
  out.sql_name = std::move(sql_name);
  if (t.id == TypeId::kDecimal && t.numbers.size() == 2) {
    out.precision = static_cast<uint8_t>(t.numbers[0]);
    out.scale = static_cast<uint8_t>(t.numbers[1]);
  }
  return out;
}

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

// A map key arrives as text (JSON object keys are strings); integer and boolean keys go back to
// their JSON types.
void write_map_key(JsonWriter& w, const TrinoType& type, std::string_view key) {
  switch (type.id) {
    case TypeId::kTinyInt:
    case TypeId::kSmallInt:
    case TypeId::kInteger:
    case TypeId::kBigInt: {
      int64_t v = 0;
      auto [end, ec] = std::from_chars(key.data(), key.data() + key.size(), v);
      if (ec == std::errc() && end == key.data() + key.size()) return static_cast<void>(w.Int64(v));
      break;
    }
    case TypeId::kBoolean:
      if (key == "true" || key == "false") return static_cast<void>(w.Bool(key == "true"));
      break;
    default: break;
  }
  w.String(key.data(), static_cast<rapidjson::SizeType>(key.size()));
}

// Nested values as JSON, shaped like DuckDB's (engines/duckdb/duckdb_convert.cpp): arrays as
// arrays, rows with named fields as objects (unnamed: arrays), maps as [{"key":..,"value":..}].
// Scalars inside keep Trino's JSON form (decimals and timestamps as strings).
void write_nested(JsonWriter& w, const TrinoType& type, const rapidjson::Value& v) {
  if (type.raw == "array" && v.IsArray() && type.children.size() == 1) {
    w.StartArray();
    for (const auto& e : v.GetArray()) write_nested(w, type.children[0], e);
    w.EndArray();
  } else if (type.raw == "map" && v.IsObject() && type.children.size() == 2) {
    w.StartArray();
    for (const auto& m : v.GetObject()) {
      w.StartObject();
      w.Key("key");
      write_map_key(w, type.children[0], string_of(m.name));
      w.Key("value");
      write_nested(w, type.children[1], m.value);
      w.EndObject();
    }
    w.EndArray();
  } else if (type.raw == "row" && v.IsArray() && v.Size() == type.children.size()) {
    const bool named = !type.field_names.empty() &&
                       std::none_of(type.field_names.begin(), type.field_names.end(), [](const auto& n) { return n.empty(); });
    named ? w.StartObject() : w.StartArray();
    for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
      if (named) w.Key(type.field_names[i].c_str(), static_cast<rapidjson::SizeType>(type.field_names[i].size()));
      write_nested(w, type.children[i], v[i]);
    }
    named ? w.EndObject() : w.EndArray();
  } else {
    v.Accept(w);
  }
}

// Trino writes NaN and the infinities as strings.
std::optional<double> special_double(std::string_view s) {
  if (s == "NaN") return std::numeric_limits<double>::quiet_NaN();
  if (s == "Infinity") return std::numeric_limits<double>::infinity();
  if (s == "-Infinity") return -std::numeric_limits<double>::infinity();
  return std::nullopt;
}

// Base64 (varbinary) -> bytes, with OpenSSL's decoder.
std::optional<std::string> decode_base64(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out(text.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  size_t padding = 0;  // EVP_DecodeBlock counts the bytes of '=' padding as zeros
  for (size_t i = text.size(); i > 0 && padding < 2 && text[i - 1] == '='; --i) ++padding;
  out.resize(static_cast<size_t>(n) - padding);
  return out;
}

// Appends one value of a column; false when the value has a shape the type does not allow.
class CellWriter {
 public:
  Result<bool> append(ColumnData& col, const TrinoType& type, const rapidjson::Value& v) {
    if (v.IsNull()) return append_null(col);
    switch (type.id) {
      case TypeId::kNull: return append_null(col);
      case TypeId::kBoolean:
        if (!v.IsBool()) return false;
        col.append_int64(v.GetBool() ? 1 : 0);
        return true;
      case TypeId::kTinyInt:
      case TypeId::kSmallInt:
      case TypeId::kInteger:
      case TypeId::kBigInt:
        if (!v.IsInt64()) return false;
        col.append_int64(v.GetInt64());
        return true;
      case TypeId::kFloat:
      case TypeId::kDouble: return append_double(col, type.id == TypeId::kFloat, v);
      case TypeId::kDecimal: {
        auto d = v.IsString() ? parse_decimal(string_of(v), type.numbers.size() == 2 ? static_cast<int>(type.numbers[1]) : 0)
                              : std::nullopt;
        if (!d) return false;
        col.append_int128(*d);
        return true;
      }
      case TypeId::kBlob: {
        auto bytes = v.IsString() ? decode_base64(string_of(v)) : std::nullopt;
        if (!bytes) return false;
        col.append_string(*bytes);
        return true;
      }
      case TypeId::kDate: return append_parsed(col, v, parse_date);
      case TypeId::kTime: return append_parsed(col, v, parse_time);
      case TypeId::kTimestamp: return append_parsed(col, v, parse_timestamp);
      case TypeId::kTimestampTz: {
        if (!v.IsString()) return false;
        auto micros = parse_timestamp_tz(string_of(v));
        if (!micros.ok()) return micros.error();
        col.append_int64(*micros);
        return true;
      }
      case TypeId::kJson:
        if (type.raw == "json" && v.IsString()) {  // a json value: its text is the JSON
          col.append_string(string_of(v));
          return true;
        }
        return append_json(col, type, v);
      default:  // varchar, char, uuid, intervals, and types lakerouter has no name for
        if (!v.IsString()) return append_json(col, type, v);
        col.append_string(string_of(v));
        return true;
    }
  }

 private:
  static bool append_null(ColumnData& col) {
    col.append_null();
    return true;
  }

  static bool append_double(ColumnData& col, bool is_real, const rapidjson::Value& v) {
    double d = 0;
    if (v.IsNumber()) {
      d = v.GetDouble();
      // Trino prints a real as the shortest text of the float: read it back as that float, which
      // is the value DuckDB hands out for the same REAL.
      if (is_real) d = static_cast<double>(static_cast<float>(d));
    } else if (auto special = v.IsString() ? special_double(string_of(v)) : std::nullopt) {
      d = *special;
    } else {
      return false;
    }
    col.append_double(d);
    return true;
  }

  template <typename Parse>
  static bool append_parsed(ColumnData& col, const rapidjson::Value& v, Parse parse) {
    auto parsed = v.IsString() ? parse(string_of(v)) : std::nullopt;
    if (!parsed) return false;
    col.append_int64(*parsed);
    return true;
  }

  bool append_json(ColumnData& col, const TrinoType& type, const rapidjson::Value& v) {
    buffer_.Clear();
    JsonWriter w(buffer_);
    write_nested(w, type, v);
    col.append_string(std::string_view(buffer_.GetString(), buffer_.GetSize()));
    return true;
  }

  rapidjson::StringBuffer buffer_;  // reused across values
};

// ================================================================================================
// Errors.
// ================================================================================================

ErrorCode code_of_trino_error(std::string_view name) {
  static const std::map<std::string_view, ErrorCode, std::less<>> kCodes = {
      {"SYNTAX_ERROR", ErrorCode::kSyntaxError},
      {"TABLE_NOT_FOUND", ErrorCode::kUnknownTable},
      {"MISSING_TABLE", ErrorCode::kUnknownTable},
      {"SCHEMA_NOT_FOUND", ErrorCode::kUnknownTable},  // a table reference in a missing schema
      {"CATALOG_NOT_FOUND", ErrorCode::kUnknownTable},
      {"MISSING_SCHEMA_NAME", ErrorCode::kUnknownTable},
      {"MISSING_CATALOG_NAME", ErrorCode::kUnknownTable},
      {"FUNCTION_NOT_FOUND", ErrorCode::kUnknownObject},
      {"TYPE_NOT_FOUND", ErrorCode::kUnknownObject},
      {"PROCEDURE_NOT_FOUND", ErrorCode::kUnknownObject},
      {"ROLE_NOT_FOUND", ErrorCode::kUnknownObject},
      {"NOT_FOUND", ErrorCode::kUnknownObject},
      {"COLUMN_NOT_FOUND", ErrorCode::kBindError},  // what DuckDB's binder reports for the same
      {"AMBIGUOUS_NAME", ErrorCode::kBindError},
      {"INVALID_COLUMN_REFERENCE", ErrorCode::kBindError},
      {"MISSING_COLUMN_NAME", ErrorCode::kBindError},
      {"DUPLICATE_COLUMN_NAME", ErrorCode::kBindError},
      {"MISMATCHED_COLUMN_ALIASES", ErrorCode::kBindError},
      {"EXPRESSION_NOT_AGGREGATE", ErrorCode::kBindError},
      {"MISSING_GROUP_BY", ErrorCode::kBindError},
      {"NESTED_AGGREGATION", ErrorCode::kBindError},
      {"NESTED_WINDOW", ErrorCode::kBindError},
      {"INVALID_PARAMETER_USAGE", ErrorCode::kInvalidParameter},
      {"TYPE_MISMATCH", ErrorCode::kTypeMismatch},
      {"OPERATOR_NOT_FOUND", ErrorCode::kTypeMismatch},
      {"INVALID_CAST_ARGUMENT", ErrorCode::kConversionError},
      {"INVALID_LITERAL", ErrorCode::kConversionError},
      {"JSON_INPUT_CONVERSION_ERROR", ErrorCode::kConversionError},
      {"DIVISION_BY_ZERO", ErrorCode::kDivisionByZero},
      {"NUMERIC_VALUE_OUT_OF_RANGE", ErrorCode::kOutOfRange},
      {"INVALID_FUNCTION_ARGUMENT", ErrorCode::kInvalidInput},
      {"CONSTRAINT_VIOLATION", ErrorCode::kConstraintViolation},
      {"NOT_SUPPORTED", ErrorCode::kNotSupported},
      {"UNSUPPORTED_SUBQUERY", ErrorCode::kNotSupported},
      {"PERMISSION_DENIED", ErrorCode::kPermissionDenied},
      {"USER_CANCELED", ErrorCode::kQueryCancelled},
      {"ADMINISTRATIVELY_KILLED", ErrorCode::kQueryCancelled},
      {"ABANDONED_QUERY", ErrorCode::kQueryCancelled},
      {"EXCEEDED_TIME_LIMIT", ErrorCode::kQueryTimeout},
      {"EXCEEDED_GLOBAL_MEMORY_LIMIT", ErrorCode::kOutOfMemory},
      {"EXCEEDED_LOCAL_MEMORY_LIMIT", ErrorCode::kOutOfMemory},
      {"CLUSTER_OUT_OF_MEMORY", ErrorCode::kOutOfMemory},
      {"EXCEEDED_FUNCTION_MEMORY_LIMIT", ErrorCode::kOutOfMemory},
      {"QUERY_QUEUE_FULL", ErrorCode::kOverloaded},
      {"ADMINISTRATIVELY_PREEMPTED", ErrorCode::kOverloaded},
      {"GENERIC_INSUFFICIENT_RESOURCES", ErrorCode::kOverloaded},
      {"SERVER_STARTING_UP", ErrorCode::kEngineUnavailable},
      {"SERVER_SHUTTING_DOWN", ErrorCode::kEngineUnavailable},
      {"NO_NODES_AVAILABLE", ErrorCode::kEngineUnavailable},
      {"CATALOG_UNAVAILABLE", ErrorCode::kEngineUnavailable},
  };
  // Trino's other resource limits (CPU, scan, spill, write) are the query's, not the cluster's:
  // they stay generic engine errors, with Trino's name in the message.
  auto it = kCodes.find(name);
  return it == kCodes.end() ? ErrorCode::kEngineError : it->second;
}

std::string string_member(const rapidjson::Value& object, const char* name) {
  const auto* v = member(object, name);
  return v && v->IsString() ? std::string(string_of(*v)) : std::string();
}

int64_t int_member(const rapidjson::Value& object, const char* name) {
  const auto* v = member(object, name);
  return v && v->IsInt64() ? v->GetInt64() : 0;
}

// ================================================================================================
// The stream.
// ================================================================================================

// One response of the protocol (a QueryResults document), parsed in situ: the document's strings
// point into `body`, so the two live and die together.
struct Page {
  std::string body;
  rapidjson::Document doc;
};

Error stopped(bool timed_out) {
  return timed_out ? Error(ErrorCode::kQueryTimeout, "the query ran past its time limit and was stopped")
                   : Error(ErrorCode::kQueryCancelled, "the query was cancelled");
}

class TrinoStream final : public ResultStream {
 public:
  TrinoStream(const std::shared_ptr<Shared>& shared, std::string sql, bool wrapped, std::string user)
      : shared_(shared), handle_(shared), sql_(std::move(sql)), wrapped_(wrapped), user_(std::move(user)) {}

  ~TrinoStream() override { stop_on_server(); }  // an unfinished query must not run on unread

  TrinoStream(const TrinoStream&) = delete;
  TrinoStream& operator=(const TrinoStream&) = delete;

  // Submits the statement and follows nextUri until Trino knows the columns, has rows, failed or
  // finished; after `deadline` the stream is returned anyway and next() goes on from there.
  Status start(std::string_view body, const curl_slist* headers, Clock::time_point deadline) {
    if (!handle_.get()) return Error(ErrorCode::kInternal, "libcurl could not create a handle");
    HttpCall call{"POST", &shared_->statement_url, headers, body, options().connect_timeout, options().request_timeout,
                  &cancelled_};
    auto reply = exchange(call, /*idempotent=*/false);
    if (!reply.ok()) return reply.error();
    LR_TRY(adopt(std::move(*reply)));
    while (!columns_known_ && !pending_ && has_next() && Clock::now() < deadline) LR_TRY(advance());
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

  std::optional<int64_t> rows_changed() const override { return rows_changed_; }

 private:
  const TrinoEngineOptions& options() const { return shared_->options; }

  bool has_next() const {
    std::lock_guard lock(mu_);
    return !next_uri_.empty();
  }

  Result<bool> fetch(ResultBatch& batch) {
    while (!pending_ && has_next()) LR_TRY(advance());
    if (!batch_ready_) {
      batch.reset(schema_);
      batch_ready_ = true;
    }
    if (!pending_) return false;
    auto page = std::move(pending_);
    LR_TRY(append_rows(*page, batch));
    return true;
  }

  // GETs the next page.
  Status advance() {
    std::string uri;
    {
      std::lock_guard lock(mu_);
      uri = next_uri_;
    }
    HttpCall call{"GET", &uri, nullptr, {}, options().connect_timeout, options().request_timeout, &cancelled_};
    auto reply = exchange(call, /*idempotent=*/true);
    if (!reply.ok()) return reply.error();
    return adopt(std::move(*reply));
  }

  // One HTTP exchange with the protocol's retries: 502/503/504 (and 429) after a short backoff,
  // and for GETs (idempotent: the token names the page) a dropped connection twice.
  Result<std::string> exchange(const HttpCall& call, bool idempotent) {
    const auto give_up = Clock::now() + options().request_timeout;
    milliseconds backoff(50);
    int transport_failures = 0;
    while (true) {
      if (cancelled_) return stopped(timed_out_);
      HttpReply reply = perform(handle_.get(), call);
      if (cancelled_ || reply.code == CURLE_ABORTED_BY_CALLBACK) return stopped(timed_out_);
      const bool retry =
          reply.code != CURLE_OK ? idempotent && ++transport_failures <= 2
                                 : reply.status == 429 || reply.status == 502 || reply.status == 503 || reply.status == 504;
      if (reply.code == CURLE_OK && reply.status == 200) return std::move(reply.body);
      if (!retry || Clock::now() + backoff >= give_up) return http_error(reply, idempotent);
      pause(backoff);
      backoff = std::min(backoff * 2, milliseconds(1000));
    }
  }

  // Sleeps 1x-2x `backoff` (jitter spreads retries of many clients), waking early on cancel().
  void pause(milliseconds backoff) const {
    thread_local std::minstd_rand rng(std::random_device{}());
    const auto until = Clock::now() + backoff + milliseconds(std::uniform_int_distribution<int64_t>(0, backoff.count())(rng));
    while (!cancelled_ && Clock::now() < until) std::this_thread::sleep_for(milliseconds(10));
  }

  Error http_error(const HttpReply& reply, bool mid_query) const {
    const std::string& url = shared_->base_url;
    if (reply.code != CURLE_OK) {
      return Error(ErrorCode::kEngineUnavailable,
                   mid_query ? fmt::format("lost Trino at {} during query {}: {}", url, query_id_, reply.error)
                             : fmt::format("cannot reach Trino at {}: {}", url, reply.error));
    }
    switch (reply.status) {
      case 429:
        return Error(ErrorCode::kOverloaded, fmt::format("Trino at {} is overloaded (HTTP 429); retry later", url));
      case 502:
      case 503:
      case 504:
        return Error(ErrorCode::kEngineUnavailable,
                     fmt::format("Trino at {} kept answering HTTP {} for {} ms", url, reply.status,
                                 options().request_timeout.count()));
      case 401:
      case 403:
        return Error(ErrorCode::kPermissionDenied, fmt::format("Trino at {} refused user '{}' (HTTP {}): {}", url,
                                                               user_, reply.status, snippet(reply.body)));
      case 404:
      case 410:
        if (mid_query) {
          return Error(ErrorCode::kEngineUnavailable,
                       fmt::format("Trino at {} no longer knows query {} (HTTP {}); did it restart?", url, query_id_,
                                   reply.status));
        }
        break;
      default: break;
    }
    return Error(ErrorCode::kEngineError,
                 fmt::format("Trino at {} answered HTTP {}: {}", url, reply.status, snippet(reply.body)));
  }

  // Takes in one QueryResults document: its error, columns, next page and rows.
  Status adopt(std::string body) {
    auto page = std::make_unique<Page>();
    page->body = std::move(body);
    page->doc.ParseInsitu<rapidjson::kParseFullPrecisionFlag>(page->body.data());
    if (page->doc.HasParseError() || !page->doc.IsObject()) {
      clear_next();
      return Error(ErrorCode::kEngineError, fmt::format("Trino at {} sent a response that is not a query result: {}",
                                                        shared_->base_url, snippet(page->body)));
    }
    const auto& doc = page->doc;
    if (query_id_.empty()) query_id_ = string_member(doc, "id");
    if (const auto* error = member(doc, "error")) {
      clear_next();
      return to_error(*error);
    }
    if (const auto* columns = member(doc, "columns"); columns && !columns_known_) LR_TRY(set_schema(*columns));
    if (const auto* count = member(doc, "updateCount"); count && count->IsInt64()) rows_changed_ = count->GetInt64();
    {
      std::lock_guard lock(mu_);
      const auto* next = member(doc, "nextUri");
      next_uri_ = next && next->IsString() ? std::string(string_of(*next)) : std::string();
    }
    if (const auto* data = member(doc, "data"); data && data->IsArray() && !data->Empty()) {
      if (!columns_known_) return Error(ErrorCode::kEngineError, "Trino sent rows before their columns");
      pending_ = std::move(page);
    }
    return Status::Ok();
  }

  void clear_next() {
    std::lock_guard lock(mu_);
    next_uri_.clear();
  }

  Status set_schema(const rapidjson::Value& columns) {
    if (!columns.IsArray()) return Error(ErrorCode::kEngineError, "Trino sent a 'columns' field that is no list");
    for (const auto& c : columns.GetArray()) {
      const auto* sig = member(c, "typeSignature");
      TrinoType type = sig ? parse_signature(*sig) : TrinoType{};
      schema_.push_back(ColumnInfo{string_member(c, "name"), to_column_type(type, string_member(c, "type"))});
      types_.push_back(std::move(type));
    }
    columns_known_ = true;
    return Status::Ok();
  }

  Status append_rows(const Page& page, ResultBatch& batch) {
    const auto* data = member(page.doc, "data");  // adopt() kept the page for its rows
    if (!data || !data->IsArray()) return Status::Ok();
    const auto& rows = *data;
    for (size_t c = 0; c < batch.column_count(); ++c) batch.column(c).reserve(batch.column(c).size() + rows.Size());
    for (const auto& row : rows.GetArray()) {
      if (!row.IsArray() || row.Size() != types_.size()) {
        return Error(ErrorCode::kEngineError, fmt::format("Trino sent a row of {} values for {} columns",
                                                          row.IsArray() ? row.Size() : 0, types_.size()));
      }
      for (rapidjson::SizeType c = 0; c < row.Size(); ++c) {
        auto fits = cells_.append(batch.column(c), types_[c], row[c]);
        if (!fits.ok()) return fits.error();
        if (!*fits) {
          rapidjson::StringBuffer text;
          rapidjson::Writer<rapidjson::StringBuffer> w(text);
          row[c].Accept(w);
          return Error(ErrorCode::kEngineError, fmt::format("Trino sent {} for column '{}' of type {}",
                                                            snippet(text.GetString()), schema_[c].name,
                                                            schema_[c].type.sql_name));
        }
      }
    }
    return Status::Ok();
  }

  Error to_error(const rapidjson::Value& error) const {
    const std::string name = string_member(error, "errorName");
    ErrorCode code = code_of_trino_error(name);
    std::string message = strip_location(string_member(error, "message"));
    if (code == ErrorCode::kQueryCancelled && (cancelled_ || timed_out_)) return stopped(timed_out_);
    if (code == ErrorCode::kEngineError && !name.empty()) message += fmt::format(" (Trino {})", name);
    std::optional<uint32_t> position;
    if (const auto* location = member(error, "errorLocation")) {
      const int64_t line = int_member(*location, "lineNumber");
      const int64_t column = int_member(*location, "columnNumber");
      position = wrapped_ ? wrapped_location_to_offset(sql_, code == ErrorCode::kSyntaxError, line, column)
                          : location_to_offset(sql_, line, column);
    }
    return Error(code, std::move(message), position);
  }

  // Asks Trino to stop the query (once), through the engine's canceller thread.
  void stop_on_server() {
    std::string uri;
    {
      std::lock_guard lock(mu_);
      if (next_uri_.empty() || delete_sent_) return;
      delete_sent_ = true;
      uri = next_uri_;
    }
    shared_->canceller.send({"DELETE", std::move(uri), {"X-Trino-User: " + user_}, ""});
  }

  // Declaration order matters: the handle goes back before the shared state can go.
  std::shared_ptr<Shared> shared_;
  PooledHandle handle_;
  const std::string sql_;  // the caller's text, for error positions
  const bool wrapped_;     // sent as EXECUTE IMMEDIATE (parameters)
  const std::string user_;
  std::string query_id_;

  ResultSchema schema_;
  std::vector<TrinoType> types_;
  bool columns_known_ = false;
  bool batch_ready_ = false;
  std::unique_ptr<Page> pending_;  // a page whose rows next() has not handed out yet
  CellWriter cells_;
  std::optional<Error> failure_;
  std::optional<int64_t> rows_changed_;

  mutable std::mutex mu_;
  std::string next_uri_;       // guarded by mu_; empty once the query ended
  bool delete_sent_ = false;   // guarded by mu_
  std::atomic<bool> cancelled_{false};
  std::atomic<bool> timed_out_{false};
};

// ================================================================================================
// Requests.
// ================================================================================================

Status add_header(curl::List& list, std::string_view name, std::string_view value) {
  if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos) {
    return Error(ErrorCode::kInvalidRequest, fmt::format("the value for {} holds a line break or NUL", name));
  }
  const std::string line = fmt::format("{}: {}", name, value);
  curl_slist* head = curl_slist_append(list.get(), line.c_str());
  if (!head) return Error(ErrorCode::kInternal, "out of memory building Trino request headers");
  if (!list) list.reset(head);
  return Status::Ok();
}

bool is_property_name(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.';
  });
}

// X-Trino-Session values are URL-encoded (Trino decodes them), so commas and '=' survive.
std::string url_encode(std::string_view value) {
  curl::String encoded(curl_easy_escape(nullptr, value.data(), static_cast<int>(value.size())));
  return encoded ? std::string(encoded.get()) : std::string();
}

Status add_session_properties(curl::List& list, const Session& session) {
  bool has_run_time = false;
  for (const auto& [key, value] : session.settings) {
    if (!key.starts_with("trino.")) continue;  // lakerouter's own settings stay here
    const std::string_view name = std::string_view(key).substr(6);
    if (!is_property_name(name)) {
      return Error(ErrorCode::kInvalidRequest,
                   fmt::format("'{}' is no Trino session property name (letters, digits, '_' and '.')", name));
    }
    has_run_time = has_run_time || name == "query_max_run_time";
    LR_TRY(add_header(list, "X-Trino-Session", fmt::format("{}={}", name, url_encode(value))));
  }
  // The pipeline stops the query at the deadline; this is Trino's own backstop, should lakerouter
  // lose the connection first. Run time (not execution time): the deadline counts queueing too.
  if (session.timeout && !has_run_time) {
    LR_TRY(add_header(list, "X-Trino-Session",
                      fmt::format("query_max_run_time={}ms", std::max<int64_t>(session.timeout->count(), 1))));
  }
  return Status::Ok();
}

Result<curl::List> request_headers(const TrinoEngineOptions& options, const Session& session, const std::string& user) {
  curl::List list;
  LR_TRY(add_header(list, "X-Trino-User", user));
  LR_TRY(add_header(list, "X-Trino-Source", options.source));
  // Timestamps at their declared precision (without it Trino rounds them to milliseconds).
  LR_TRY(add_header(list, "X-Trino-Client-Capabilities", "PARAMETRIC_DATETIME"));
  if (!options.catalog.empty()) LR_TRY(add_header(list, "X-Trino-Catalog", options.catalog));
  if (!options.schema.empty()) LR_TRY(add_header(list, "X-Trino-Schema", options.schema));
  if (!options.time_zone.empty()) LR_TRY(add_header(list, "X-Trino-Time-Zone", options.time_zone));
  if (!session.client_tags.empty()) {
    std::string tags;
    for (const auto& tag : session.client_tags) {
      if (tag.find(',') != std::string::npos) {
        return Error(ErrorCode::kInvalidRequest, fmt::format("client tag '{}' holds a comma, which Trino cannot take", tag));
      }
      tags += (tags.empty() ? "" : ",") + tag;
    }
    LR_TRY(add_header(list, "X-Trino-Client-Tags", tags));
  }
  LR_TRY(add_session_properties(list, session));
  return list;
}

// The coordinator's base URL, checked by libcurl's URL parser: http(s), a host, no query.
Result<std::string> normalize_url(const std::string& engine, const std::string& url) {
  // A URL with '@' may carry a password: it is not echoed.
  const std::string shown = url.find('@') == std::string::npos ? fmt::format(" '{}'", url) : std::string();
  auto config_error = [&](std::string_view why) {
    return Error(ErrorCode::kConfigError,
                 fmt::format("engines.{}.url{} is not usable: {} (expected e.g. http://127.0.0.1:8080)", engine, shown,
                             why));
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
    return config_error("the scheme must be http or https");
  }
  const auto host = part(CURLUPART_HOST);
  if (!host || *host.get() == '\0') return config_error("it names no host");
  if (part(CURLUPART_USER)) return config_error("credentials do not belong in the URL");
  if (part(CURLUPART_QUERY) || part(CURLUPART_FRAGMENT)) return config_error("it must not have a query or fragment");
  std::string base = url;
  while (base.ends_with('/')) base.pop_back();
  return base;
}

}  // namespace

// ================================================================================================
// The engine.
// ================================================================================================

TrinoEngine::TrinoEngine(PrivateTag /*tag*/, std::shared_ptr<Shared> shared) : shared_(std::move(shared)) {}
TrinoEngine::~TrinoEngine() = default;

Result<std::unique_ptr<TrinoEngine>> TrinoEngine::open(const TrinoEngineOptions& options) {
  curl::global_init_once();
  auto base = normalize_url(options.name, options.url);
  if (!base.ok()) return base.error();
  if (options.connect_timeout.count() <= 0 || options.request_timeout.count() <= 0) {
    return Error(ErrorCode::kConfigError,
                 fmt::format("engines.{}: connect_timeout and request_timeout must be positive", options.name));
  }
  if (options.user.empty()) return Error(ErrorCode::kConfigError, fmt::format("engines.{}.user must not be empty", options.name));
  return std::make_unique<TrinoEngine>(PrivateTag{}, std::make_shared<Shared>(options, std::move(*base)));
}

std::string_view TrinoEngine::name() const { return shared_->options.name; }

std::string TrinoEngine::catalog_for(std::string_view format) const {
  const auto& catalogs = shared_->options.catalogs;
  const auto it = catalogs.find(std::string(format));
  return it == catalogs.end() ? std::string() : it->second;
}

Result<std::unique_ptr<ResultStream>> TrinoEngine::execute(const Statement& statement, const Session& session) {
  const auto& options = shared_->options;
  const std::string user = session.user.empty() || session.user == "anonymous" ? options.user : session.user;
  auto headers = request_headers(options, session, user);
  if (!headers.ok()) return headers.error();
  const bool wrapped = !statement.params.empty();
  const std::string body = wrapped ? wrap_with_parameters(statement.sql, statement.params) : statement.sql;

  auto stream = std::make_unique<TrinoStream>(shared_, statement.sql, wrapped, user);
  auto wait = options.request_timeout;
  if (session.timeout) wait = std::min(wait, *session.timeout);
  LR_TRY(stream->start(body, headers->get(), Clock::now() + wait));
  return std::unique_ptr<ResultStream>(std::move(stream));
}

EngineHealth TrinoEngine::health() {
  const auto& options = shared_->options;
  PooledHandle handle(shared_);
  if (!handle.get()) return EngineHealth{false, "libcurl could not create a handle"};
  HttpCall call{"GET", &shared_->info_url, nullptr, {}, options.connect_timeout,
                std::min(options.request_timeout, milliseconds(5000)), nullptr};
  HttpReply reply = perform(handle.get(), call);
  if (reply.code != CURLE_OK) {
    return EngineHealth{false, fmt::format("cannot reach Trino at {}: {}", shared_->base_url, reply.error)};
  }
  if (reply.status != 200) {
    return EngineHealth{false, fmt::format("Trino at {} answered HTTP {} for /v1/info", shared_->base_url, reply.status)};
  }
  rapidjson::Document info;
  info.Parse(reply.body.c_str(), reply.body.size());
  const auto* starting = info.HasParseError() ? nullptr : member(info, "starting");
  if (!starting || !starting->IsBool()) {
    return EngineHealth{false, fmt::format("Trino at {} sent no server info: {}", shared_->base_url, snippet(reply.body))};
  }
  const auto* version = member(info, "nodeVersion");
  const std::string v = version ? string_member(*version, "version") : std::string();
  if (starting->GetBool()) return EngineHealth{false, fmt::format("Trino {} at {} is starting", v, shared_->base_url)};
  return EngineHealth{true, fmt::format("Trino {} at {}", v, shared_->base_url)};
}

}  // namespace lakerouter
