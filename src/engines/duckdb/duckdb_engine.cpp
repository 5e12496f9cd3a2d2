#include "engines/duckdb/duckdb_engine.h"

#include <algorithm>
#include <atomic>
#include <filesystem>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "core/utf8.h"
#include "engines/duckdb/duckdb_convert.h"
#include "sql/pg_compat.h"

namespace lakerouter {
using namespace duckdb_internal;

class DuckDBEngine::Lease {
 public:
  Lease(DuckDBEngine* engine, std::unique_ptr<duckdb::Connection> conn) : engine_(engine), conn_(std::move(conn)) {}
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  ~Lease() { engine_->release(std::move(conn_)); }
  duckdb::Connection& operator*() { return *conn_; }
  duckdb::Connection* operator->() { return conn_.get(); }

 private:
  DuckDBEngine* engine_;
  std::unique_ptr<duckdb::Connection> conn_;
};

namespace {

// DuckDB's binder reports byte offsets; lakerouter promises character offsets.
Error with_char_position(Error error, const std::string& sql) {
  if (error.position) error.position = static_cast<uint32_t>(utf8_char_offset(sql, *error.position));
  return error;
}

std::string quote_ident(const std::string& s) { return duckdb::KeywordHelper::WriteQuoted(s, '"'); }
std::string quote_literal(const std::string& s) { return duckdb::KeywordHelper::WriteQuoted(s, '\''); }

// Runs a prepared statement on a leased connection and pulls DuckDB's result chunk by chunk.
// The query starts on the first next() so that cancel() is in place before any work begins.
class DuckDBStream final : public ResultStream {
 public:
  DuckDBStream(std::unique_ptr<DuckDBEngine::Lease> lease, std::unique_ptr<duckdb::PreparedStatement> prepared,
               duckdb::vector<duckdb::Value> params, std::string sql)
      : lease_(std::move(lease)), prepared_(std::move(prepared)), params_(std::move(params)), sql_(std::move(sql)) {
    set_schema(prepared_->GetNames(), prepared_->GetTypes());
  }

  const ResultSchema& schema() const override { return schema_; }

  Result<bool> next(ResultBatch& batch) override {
    auto more = fetch(batch);
    if (!more.ok()) return with_char_position(std::move(more).error(), sql_);
    return more;
  }

  // DuckDB answers a write with one BIGINT row, the count of rows it changed.
  std::optional<int64_t> rows_changed() const override { return rows_changed_; }

  void cancel(bool timed_out) override {
    if (timed_out) timed_out_ = true;
    cancelled_ = true;
    (*lease_)->Interrupt();
  }

 private:
  Result<bool> fetch(ResultBatch& batch) {
    if (cancelled_) return stopped_error();
    try {
      if (!result_) {
        auto pending = prepared_->PendingQuery(params_, /*allow_stream_result=*/true);
        if (pending->HasError()) return to_error(pending->GetErrorObject(), timed_out_);
        result_ = pending->Execute();
        if (result_->HasError()) return to_error(result_->GetErrorObject(), timed_out_);
        // Parameter values can settle types left open at prepare time: take the result's own.
        set_schema(result_->names, result_->types);
        batch.reset(schema_);
      }
      duckdb::unique_ptr<duckdb::DataChunk> chunk;
      duckdb::ErrorData error;
      if (!result_->TryFetch(chunk, error)) return to_error(error, timed_out_);
      if (!chunk || chunk->size() == 0) return false;
      if (!rows_changed_ && result_->properties.return_type == duckdb::StatementReturnType::CHANGED_ROWS &&
          chunk->ColumnCount() == 1 && chunk->data[0].GetType().IsIntegral()) {
        rows_changed_ = chunk->GetValue(0, 0).GetValue<int64_t>();
      }
      append_chunk(*chunk, batch);
      return true;
    } catch (const std::exception& e) {
      return to_error(duckdb::ErrorData(e), timed_out_);
    }
  }

  void set_schema(const duckdb::vector<std::string>& names, const duckdb::vector<duckdb::LogicalType>& types) {
    schema_.clear();
    for (size_t i = 0; i < names.size(); ++i) schema_.push_back(ColumnInfo{names[i], to_column_type(types[i])});
  }

  Error stopped_error() const {
    return timed_out_ ? Error(ErrorCode::kQueryTimeout, "the query ran past its time limit and was stopped")
                      : Error(ErrorCode::kQueryCancelled, "the query was cancelled");
  }

  // Declaration order matters: the result and statement must go before the connection returns.
  std::unique_ptr<DuckDBEngine::Lease> lease_;
  std::unique_ptr<duckdb::PreparedStatement> prepared_;
  duckdb::vector<duckdb::Value> params_;
  duckdb::unique_ptr<duckdb::QueryResult> result_;
  std::string sql_;
  ResultSchema schema_;
  std::optional<int64_t> rows_changed_;  // set by next(), read after the last batch
  std::atomic<bool> cancelled_{false};
  std::atomic<bool> timed_out_{false};
};

}  // namespace

DuckDBEngine::DuckDBEngine(PrivateTag /*tag*/, const DuckDBEngineOptions& options) : options_(options) {}
DuckDBEngine::~DuckDBEngine() = default;

Result<std::unique_ptr<DuckDBEngine>> DuckDBEngine::open(const DuckDBEngineOptions& options, const Catalog& catalog) {
  auto engine = std::make_unique<DuckDBEngine>(PrivateTag{}, options);
  try {
    duckdb::DBConfig config;
    if (options.threads > 0) config.SetOptionByName("threads", duckdb::Value::BIGINT(options.threads));
    if (!options.memory_limit.empty()) config.SetOptionByName("memory_limit", duckdb::Value(options.memory_limit));
    if (!options.extension_directory.empty()) {
      config.SetOptionByName("extension_directory", duckdb::Value(options.extension_directory));
    }
    // Extensions come only from the local directory; signature checks stay on.
    config.SetOptionByName("autoinstall_known_extensions", duckdb::Value::BOOLEAN(false));
    config.SetOptionByName("autoload_known_extensions", duckdb::Value::BOOLEAN(true));
    engine->db_ = std::make_unique<duckdb::DuckDB>(nullptr, &config);

    duckdb::Connection setup(*engine->db_);
    for (const auto& ext : options.load_extensions) {
      auto r = setup.Query("LOAD " + quote_ident(ext));
      if (r->HasError()) {
        return Error(ErrorCode::kConfigError,
                     fmt::format("cannot load DuckDB extension '{}' from '{}': {} (run scripts/bootstrap.sh)", ext,
                                 options.extension_directory, r->GetError()));
      }
    }
    for (const auto& table : catalog.tables()) {
      if (Status s = engine->expose_table(setup, table); !s.ok()) return s.error();
    }
    for (int i = 0; i < std::max(1, options.pool_size); ++i) {
      auto conn = std::make_unique<duckdb::Connection>(*engine->db_);
      conn->Query("SET errors_as_json = true");  // keeps SQL error positions (see duckdb_convert.cpp)
      engine->idle_.push_back(std::move(conn));
    }
    if (options.lock_down) {
      if (Status s = lock_down(setup, catalog); !s.ok()) return s.error();
    }
  } catch (const std::exception& e) {
    return Error(ErrorCode::kConfigError, fmt::format("cannot open DuckDB: {}", duckdb::ErrorData(e).Message()));
  }
  return engine;
}

// Global settings, made once every connection has its own: after this no setting can change.
Status DuckDBEngine::lock_down(duckdb::Connection& conn, const Catalog& catalog) {
  std::vector<std::string> directories;
  const auto allow = [&directories](const std::filesystem::path& path) {
    std::string dir = path.lexically_normal().string();
    if (dir.empty()) return;
    if (dir.back() != '/') dir += '/';
    if (std::find(directories.begin(), directories.end(), dir) == directories.end()) directories.push_back(dir);
  };
  for (const auto& table : catalog.tables()) {
    // An Iceberg table may be named by its metadata file (<table>/metadata/v3.metadata.json):
    // its data lives beside that folder.
    for (const std::string& place : {table.location, table.metadata_file}) {
      if (place.empty()) continue;
      const std::filesystem::path path(place);
      allow(std::filesystem::is_directory(path) ? path : path.parent_path().parent_path());
    }
  }
  std::vector<std::string> quoted;
  quoted.reserve(directories.size());
  for (const auto& dir : directories) quoted.push_back(quote_literal(dir));
  const std::string sql = fmt::format(
      "SET allowed_directories = [{}]; SET enable_external_access = false; SET lock_configuration = true",
      fmt::join(quoted, ", "));
  auto r = conn.Query(sql);
  if (r->HasError()) {
    return Error(ErrorCode::kConfigError, fmt::format("cannot lock DuckDB down: {}", r->GetError()));
  }
  return Status::Ok();
}

Status DuckDBEngine::expose_table(duckdb::Connection& conn, const TableInfo& table) {
  std::string scan;
  switch (table.format) {
    case TableFormat::kDelta: scan = fmt::format("delta_scan({})", quote_literal(table.location)); break;
    case TableFormat::kIceberg: scan = fmt::format("iceberg_scan({})", quote_literal(table.metadata_file)); break;
    case TableFormat::kParquet:
      scan = fmt::format("read_parquet({}, hive_partitioning = true)", quote_literal(table.location + "/**/*.parquet"));
      break;
  }
  // The comment marks the view as a lake table: catalog queries show it as a table (sql/pg_compat.h).
  const std::string sql = fmt::format(
      "CREATE SCHEMA IF NOT EXISTS {0}; CREATE OR REPLACE VIEW {0}.{1} AS SELECT * FROM {2}; COMMENT ON VIEW {0}.{1} IS {3}",
      quote_ident(table.schema), quote_ident(table.name), scan, quote_literal(std::string(sql::kLakeTableComment)));
  auto r = conn.Query(sql);
  if (r->HasError()) {
    return Error(ErrorCode::kConfigError,
                 fmt::format("cannot expose table '{}' ({} at {}) to DuckDB: {}", table.qualified_name(),
                             table_format_name(table.format), table.location, r->GetError()));
  }
  return Status::Ok();
}

std::unique_ptr<duckdb::Connection> DuckDBEngine::acquire(std::chrono::milliseconds wait) {
  std::unique_lock lock(mu_);
  if (!available_.wait_for(lock, wait, [this] { return !idle_.empty(); })) return nullptr;
  auto conn = std::move(idle_.back());
  idle_.pop_back();
  return conn;
}

void DuckDBEngine::release(std::unique_ptr<duckdb::Connection> conn) {
  {
    std::lock_guard lock(mu_);
    idle_.push_back(std::move(conn));
  }
  available_.notify_one();
}

Result<std::unique_ptr<ResultStream>> DuckDBEngine::execute(const Statement& statement, const Session& /*session*/) {
  auto conn = acquire(options_.pool_wait);
  if (!conn) {
    return Error(ErrorCode::kOverloaded,
                 fmt::format("all {} DuckDB connections stayed busy for {} ms; retry later or raise "
                             "engines.duckdb.pool_size",
                             options_.pool_size, options_.pool_wait.count()));
  }
  auto lease = std::make_unique<Lease>(this, std::move(conn));
  try {
    auto prepared = (*lease)->Prepare(statement.sql);
    if (prepared->HasError()) return with_char_position(to_error(prepared->GetErrorObject()), statement.sql);
    for (const auto& [name, index] : prepared->named_param_map) {
      if (name.empty() || !std::all_of(name.begin(), name.end(), [](unsigned char c) { return std::isdigit(c); })) {
        return Error(ErrorCode::kInvalidParameter,
                     fmt::format("named parameter ${} is not supported; use ? or $1, $2, ... with \"params\"", name));
      }
    }
    if (prepared->named_param_map.size() != statement.params.size()) {
      return Error(ErrorCode::kInvalidParameter,
                   fmt::format("the statement has {} parameter placeholder(s) but {} value(s) were given",
                               prepared->named_param_map.size(), statement.params.size()));
    }
    duckdb::vector<duckdb::Value> values;
    for (const auto& p : statement.params) values.push_back(to_value(p));
    return std::unique_ptr<ResultStream>(
        std::make_unique<DuckDBStream>(std::move(lease), std::move(prepared), std::move(values), statement.sql));
  } catch (const std::exception& e) {
    return with_char_position(to_error(duckdb::ErrorData(e)), statement.sql);
  }
}

EngineHealth DuckDBEngine::health() {
  auto conn = acquire(std::chrono::milliseconds(1000));
  if (!conn) return EngineHealth{false, "all connections busy"};
  Lease lease(this, std::move(conn));
  auto r = lease->Query("SELECT 1");
  if (r->HasError()) return EngineHealth{false, r->GetError()};
  return EngineHealth{true, "ok"};
}

}  // namespace lakerouter
