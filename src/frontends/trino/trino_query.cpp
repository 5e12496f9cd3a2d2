#include "frontends/trino/trino_query.h"

#include <fmt/format.h>

#include "frontends/trino/trino_encoding.h"
#include "sql/parser.h"

namespace lakerouter::trino_protocol {

namespace {

void write_string(JsonWriter& w, std::string_view s) { w.String(s.data(), static_cast<rapidjson::SizeType>(s.size())); }

int64_t millis(TrinoQuery::Clock::duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

// The updateType Trino reports for a statement that changes something; empty for reads.
std::string_view update_type_of(sql::StatementKind kind) {
  switch (kind) {
    case sql::StatementKind::kSelect:
    case sql::StatementKind::kExplain:
    case sql::StatementKind::kPragma:
    case sql::StatementKind::kCall:
    case sql::StatementKind::kOther: return {};
    default: return sql::statement_kind_name(kind);
  }
}

}  // namespace

void write_stats(JsonWriter& w, std::string_view state, int64_t elapsed_ms, int64_t queued_ms, int64_t rows,
                 int64_t bytes) {
  w.Key("stats");
  w.StartObject();
  w.Key("state");
  write_string(w, state);
  w.Key("queued");
  w.Bool(state == "QUEUED");
  w.Key("scheduled");
  w.Bool(state != "QUEUED");
  w.Key("nodes");
  w.Int(1);
  // lakerouter does not see an engine's splits: no progress percentage.
  for (const char* key : {"totalSplits", "queuedSplits", "runningSplits", "completedSplits"}) {
    w.Key(key);
    w.Int(0);
  }
  w.Key("cpuTimeMillis");
  w.Int64(0);
  w.Key("wallTimeMillis");
  w.Int64(elapsed_ms);
  w.Key("queuedTimeMillis");
  w.Int64(queued_ms);
  w.Key("elapsedTimeMillis");
  w.Int64(elapsed_ms);
  w.Key("processedRows");
  w.Int64(rows);
  w.Key("processedBytes");
  w.Int64(bytes);
  for (const char* key : {"physicalInputBytes", "physicalWrittenBytes", "peakMemoryBytes", "spilledBytes"}) {
    w.Key(key);
    w.Int64(0);
  }
  w.EndObject();
}

std::string finished_response(std::string_view id, const std::string& base_uri, std::string_view update_type,
                              const Error* error, std::string_view sql, bool result_column) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  w.Key("id");
  write_string(w, id);
  w.Key("infoUri");
  write_string(w, fmt::format("{}/ui/query.html?{}", base_uri, id));
  if (result_column && !error) {
    w.Key("columns");
    w.StartArray();
    w.StartObject();
    w.Key("name");
    write_string(w, "result");
    w.Key("type");
    write_string(w, "boolean");
    w.Key("typeSignature");
    ColumnType boolean;
    boolean.id = TypeId::kBoolean;
    write_type_signature(w, boolean);
    w.EndObject();
    w.EndArray();
    w.Key("data");
    w.RawValue("[[true]]", 8, rapidjson::kArrayType);
  }
  write_stats(w, error ? "FAILED" : "FINISHED", 0, 0, result_column && !error ? 1 : 0, 0);
  if (error) {
    w.Key("error");
    write_error(w, *error, sql);
  }
  if (!update_type.empty()) {
    w.Key("updateType");
    write_string(w, update_type);
  }
  w.Key("warnings");
  w.StartArray();
  w.EndArray();
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

std::string error_document(const Error& error) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  w.Key("error");
  write_error(w, error, {});
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

TrinoQuery::TrinoQuery(std::string id, std::string slug, std::string sql, PageOptions options, Starter starter)
    : id_(std::move(id)), slug_(std::move(slug)), sql_(std::move(sql)), options_(options), starter_(std::move(starter)),
      start_thread_([this] { start(); }) {}

TrinoQuery::~TrinoQuery() {
  cancel_token_.cancel();
  if (start_thread_.joinable()) start_thread_.join();
  // The stream (if any) goes with start_result_: it detaches from cancel_token_ first.
}

void TrinoQuery::start() {
  auto result = starter_(cancel_token_);
  std::lock_guard lock(mu_);
  start_result_.emplace(std::move(result));
  start_done_ = true;
  start_finished_ = Clock::now();
  started_cv_.notify_all();
}

void TrinoQuery::cancel() {
  {
    std::lock_guard lock(mu_);
    cancelled_ = true;
  }
  cancel_token_.cancel();
}

bool TrinoQuery::done() const {
  std::lock_guard lock(mu_);
  return done_;
}

TrinoQuery::Clock::time_point TrinoQuery::last_access() const {
  std::lock_guard lock(mu_);
  return last_access_;
}

std::string TrinoQuery::next_uri(const std::string& base_uri, uint64_t token) const {
  return fmt::format("{}/v1/statement/executing/{}/{}/{}", base_uri, id_, slug_, token);
}

std::string TrinoQuery::first_response(const std::string& base_uri) {
  std::lock_guard page_lock(page_mu_);
  return render(0, base_uri, State::kQueued, nullptr);
}

PageResponse TrinoQuery::page(uint64_t token, const std::string& base_uri) {
  std::lock_guard page_lock(page_mu_);
  {
    std::lock_guard lock(mu_);
    last_access_ = Clock::now();
  }
  if (served_token_ && token == *served_token_) return {200, served_page_};  // a client's retry
  const uint64_t expected = served_token_ ? *served_token_ + 1 : 0;
  if (token != expected) {
    const bool gone = token < expected;
    const std::string body = error_document(Error(
        ErrorCode::kNotFound,
        gone ? fmt::format("page {} of query {} is gone: the client has read up to page {}", token, id_, expected)
             : fmt::format("query {} has no page {} yet: the next page is {}", id_, token, expected)));
    return {gone ? 410U : 404U, body};
  }
  served_page_ = produce_page(token, base_uri);
  served_token_ = token;
  {
    std::lock_guard lock(mu_);
    last_access_ = Clock::now();
  }
  return {200, served_page_};
}

std::string TrinoQuery::produce_page(uint64_t token, const std::string& base_uri) {
  bool started = false;
  bool cancelled = false;
  bool done = false;
  {
    std::unique_lock lock(mu_);
    started_cv_.wait_for(lock, options_.max_wait, [this] { return start_done_ || cancelled_; });
    started = start_done_;
    cancelled = cancelled_;
    done = done_;
  }
  if (done) return render(token + 1, base_uri, error_ ? State::kFailed : State::kFinished, nullptr);
  if (cancelled && !eof_ && !error_) error_ = Error(ErrorCode::kQueryCancelled, "the query was cancelled by the client");
  if (!started && !error_) return render(token + 1, base_uri, State::kQueued, nullptr);
  if (started && !error_ && !start_result_->ok()) error_ = start_result_->error();

  std::string data;
  if (!error_) pull_rows(data);
  const bool last = eof_ || error_.has_value();
  if (last) {
    std::lock_guard lock(mu_);
    done_ = true;
  }
  // A failed page carries no rows: clients drop them anyway once they see the error.
  std::string page = render(token + 1, base_uri, error_ ? State::kFailed : (last ? State::kFinished : State::kRunning),
                            data.empty() || error_ ? nullptr : &data);
  // Results stay readable while rendering (rows_changed); the engine's resources go right after.
  if (last && started && start_result_->ok()) (*start_result_)->stream.reset();
  return page;
}

void TrinoQuery::pull_rows(std::string& data) {
  ResultStream& stream = *(*start_result_)->stream;
  const ResultSchema& schema = stream.schema();
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  // Rows are written as a sequence of arrays; the caller wraps them in "data":[...].
  w.StartArray();
  int64_t rows = 0;
  while (buffer.GetSize() < options_.target_page_bytes) {
    if (batch_row_ >= batch_.row_count()) {
      batch_.clear();
      batch_row_ = 0;
      auto more = stream.next(batch_);
      if (!more.ok()) {
        error_ = more.error();
        break;
      }
      if (!*more) {
        eof_ = true;
        break;
      }
      continue;
    }
    w.StartArray();
    for (size_t c = 0; c < batch_.column_count(); ++c) {
      write_value(w, batch_.column(c), schema[c].type, batch_row_, scratch_);
    }
    w.EndArray();
    ++batch_row_;
    ++rows;
  }
  w.EndArray();
  if (rows > 0) data.assign(buffer.GetString(), buffer.GetSize());
  rows_sent_ += rows;
  bytes_sent_ += static_cast<int64_t>(data.size());
}

std::string TrinoQuery::render(uint64_t next_token, const std::string& base_uri, State state, const std::string* data) const {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  const auto now = Clock::now();
  w.StartObject();
  w.Key("id");
  write_string(w, id_);
  w.Key("infoUri");
  write_string(w, fmt::format("{}/ui/query.html?{}", base_uri, id_));
  if (state == State::kQueued || state == State::kRunning) {
    w.Key("nextUri");
    write_string(w, next_uri(base_uri, next_token));
  }

  // Columns and the update type are known once the statement has started; start_result_ is
  // final then (the start thread is done with it).
  const RunningQuery* running = nullptr;
  Clock::time_point queued_until = now;
  {
    std::lock_guard lock(mu_);
    if (start_done_) {
      queued_until = start_finished_;
      if (start_result_->ok()) running = &start_result_->value();
    }
  }
  if (running && running->stream) {
    w.Key("columns");
    w.StartArray();
    for (const auto& col : running->stream->schema()) {
      w.StartObject();
      w.Key("name");
      write_string(w, col.name);
      w.Key("type");
      write_string(w, trino_type_name(col.type));
      w.Key("typeSignature");
      write_type_signature(w, col.type);
      w.EndObject();
    }
    w.EndArray();
  }
  if (data) {
    w.Key("data");
    w.RawValue(data->data(), data->size(), rapidjson::kArrayType);
  }

  const char* state_name = "QUEUED";
  if (state == State::kRunning) state_name = "RUNNING";
  if (state == State::kFinished) state_name = "FINISHED";
  if (state == State::kFailed) state_name = "FAILED";
  write_stats(w, state_name, millis(now - created_), millis(std::min(queued_until, now) - created_), rows_sent_,
              bytes_sent_);

  if (error_ && state == State::kFailed) {
    w.Key("error");
    write_error(w, *error_, sql_);
  }
  if (running) {
    if (const auto type = update_type_of(running->kind); !type.empty()) {
      w.Key("updateType");
      write_string(w, type);
      if (state == State::kFinished && running->stream) {
        if (const auto changed = running->stream->rows_changed()) {
          w.Key("updateCount");
          w.Int64(*changed);
        }
      }
    }
  }
  w.Key("warnings");
  w.StartArray();
  w.EndArray();
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

}  // namespace lakerouter::trino_protocol
