#include <cstdlib>
#include <thread>

#include <gtest/gtest.h>

#include "engines/duckdb/duckdb_engine.h"
#include "engine_test_util.h"
#include "test_util.h"

namespace lakerouter {
namespace {

using testing::Rows;

using namespace std::chrono_literals;
using testing::TempDir;

std::unique_ptr<DuckDBEngine> open_engine(std::vector<std::string> extensions = {}, int pool_size = 2,
                                          const Catalog& catalog = Catalog(), bool lock_down = true) {
  DuckDBEngineOptions options;
  options.lock_down = lock_down;
  options.extension_directory = testing::extension_dir();
  options.load_extensions = std::move(extensions);
  options.pool_size = pool_size;
  options.pool_wait = 200ms;
  options.threads = 2;
  auto engine = DuckDBEngine::open(options, catalog);
  EXPECT_TRUE(engine.ok()) << engine.error().message;
  return engine.ok() ? std::move(*engine) : nullptr;
}

std::string cell(const ColumnData& col, const ColumnType& type, size_t row) {
  if (col.is_null(row)) return "NULL";
  switch (col.kind()) {
    case PhysicalKind::kInt64: return std::to_string(col.int64_at(row));
    case PhysicalKind::kInt128: return std::to_string(static_cast<int64_t>(col.int128_at(row))) + (type.scale ? "e-" + std::to_string(type.scale) : "");
    case PhysicalKind::kDouble: return std::to_string(col.double_at(row));
    case PhysicalKind::kString: return std::string(col.string_at(row));
  }
  return "?";
}

Result<Rows> run(Engine& engine, const std::string& sql, std::vector<ParamValue> params = {}) {
  auto stream = engine.execute(Statement{sql, std::move(params)}, Session());
  if (!stream.ok()) return stream.error();
  return testing::drain(**stream, cell);
}

// --- The pinned DuckDB and its extensions (run a second time offline by run_offline.sh) ---

TEST(DuckDBExtensions, LibraryIsThePinnedVersion) {
  auto engine = open_engine();
  auto rows = run(*engine, "SELECT version()");
  ASSERT_TRUE(rows.ok()) << rows.error().message;
  EXPECT_EQ(rows->values[0][0], std::string("v") + "1.5.5");
}

TEST(DuckDBExtensions, EachLoadsFromTheLocalDirectoryWithSignatureChecksOn) {
  for (const std::string ext : {"delta", "iceberg", "ducklake", "httpfs", "postgres", "tpch"}) {
    SCOPED_TRACE(ext);
    auto engine = open_engine({ext}, 2, Catalog(), /*lock_down=*/false);  // duckdb_extensions() lists files
    ASSERT_NE(engine, nullptr);
    auto rows = run(*engine,
                    "SELECT loaded, install_path, current_setting('allow_unsigned_extensions') FROM duckdb_extensions() "
                    "WHERE extension_name = '" + std::string(ext == "postgres" ? "postgres_scanner" : ext) + "'");
    ASSERT_TRUE(rows.ok()) << rows.error().message;
    ASSERT_EQ(rows->values.size(), 1u);
    EXPECT_EQ(rows->values[0][0], "1");
    EXPECT_EQ(rows->values[0][1].rfind(testing::extension_dir(), 0), 0u) << rows->values[0][1];
    EXPECT_EQ(rows->values[0][2], "0");  // unsigned extensions are refused
  }
}

TEST(DuckDBExtensions, TpchGeneratesData) {
  auto engine = open_engine({"tpch"}, 1);
  ASSERT_TRUE(run(*engine, "CALL dbgen(sf = 0.01)").ok());
  auto rows = run(*engine, "SELECT count(*) FROM lineitem");
  ASSERT_TRUE(rows.ok()) << rows.error().message;
  EXPECT_EQ(rows->values[0][0], "60175");
}

TEST(DuckDBExtensions, DeltaScanReadsAHandWrittenTable) {
  TempDir tmp;
  auto engine = open_engine({"delta"}, 1, Catalog(), /*lock_down=*/false);  // writes its own files
  const auto table = tmp.path() / "t";
  std::filesystem::create_directories(table / "_delta_log");
  ASSERT_TRUE(run(*engine, "COPY (SELECT range::BIGINT AS x FROM range(10)) TO '" + (table / "part-0.parquet").string() +
                               "' (FORMAT parquet)").ok());
  testing::write_file(
      table / "_delta_log/00000000000000000000.json",
      R"({"protocol":{"minReaderVersion":1,"minWriterVersion":2}})" "\n"
      R"({"metaData":{"id":"t","format":{"provider":"parquet","options":{}},"schemaString":"{\"type\":\"struct\",\"fields\":[{\"name\":\"x\",\"type\":\"long\",\"nullable\":true,\"metadata\":{}}]}","partitionColumns":[],"configuration":{},"createdTime":0}})" "\n"
      R"({"add":{"path":"part-0.parquet","partitionValues":{},"size":1,"modificationTime":0,"dataChange":true}})" "\n");
  auto rows = run(*engine, "SELECT sum(x) FROM delta_scan('" + table.string() + "')");
  ASSERT_TRUE(rows.ok()) << rows.error().message;
  EXPECT_EQ(rows->values[0][0], "45");
}

// Lockdown: whatever a statement says, the engine reads no file outside its tables' folders,
// loads no extension and changes no setting.
TEST(DuckDBEngine, LockedDownEngineRefusesFilesExtensionsAndSettings) {
  auto engine = open_engine();
  for (const char* sql : {"SELECT * FROM read_csv('/etc/passwd')", "SELECT * FROM '/etc/passwd'",
                          "COPY (SELECT 1) TO '/tmp/lakerouter_lockdown.csv'", "ATTACH '/tmp/lakerouter_lockdown.db'",
                          "LOAD httpfs", "SET enable_external_access = true", "SET threads = 1"}) {
    auto rows = run(*engine, sql);
    ASSERT_FALSE(rows.ok()) << sql;
    // A path as a table name is not even looked for as a file: no such table.
    EXPECT_TRUE(rows.error().code == ErrorCode::kPermissionDenied || rows.error().code == ErrorCode::kInvalidInput ||
                rows.error().code == ErrorCode::kUnknownTable)
        << sql << ": " << rows.error().message;
  }
  EXPECT_FALSE(std::filesystem::exists("/tmp/lakerouter_lockdown.csv"));
  auto rows = run(*engine, "SELECT 42");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->values[0][0], "42");
}

// The demo lake's Delta and Iceberg tables through views, when the test run provides a lake.
TEST(DuckDBExtensions, DemoLakeTablesReadThroughViews) {
  const char* lake = std::getenv("LAKEROUTER_TEST_LAKE");
  if (!lake) GTEST_SKIP() << "set LAKEROUTER_TEST_LAKE to a demo lake";
  auto catalog = Catalog::load(CatalogOptions{lake, {}});
  ASSERT_TRUE(catalog.ok()) << catalog.error().message;
  auto engine = open_engine({"delta", "iceberg"}, 1, *catalog);
  for (const auto& t : catalog->tables()) {
    auto rows = run(*engine, "SELECT count(*) FROM " + t.qualified_name());
    ASSERT_TRUE(rows.ok()) << t.qualified_name() << ": " << rows.error().message;
    ASSERT_TRUE(t.stats->rows.has_value()) << t.qualified_name();
    EXPECT_EQ(rows->values[0][0], std::to_string(*t.stats->rows)) << t.qualified_name();
  }
}

// --- Execution ---

TEST(DuckDBEngine, StreamsLargeResultsInManyBatches) {
  auto engine = open_engine();
  auto rows = run(*engine, "SELECT range FROM range(100000)");
  ASSERT_TRUE(rows.ok()) << rows.error().message;
  EXPECT_EQ(rows->values.size(), 100000u);
  EXPECT_GT(rows->batches(), 10u);
  EXPECT_EQ(rows->values[99999][0], "99999");
}

TEST(DuckDBEngine, MapsTypes) {
  auto engine = open_engine();
  auto rows = run(*engine,
                  "SELECT 1::TINYINT a, 12.50::DECIMAL(10,2) b, DATE '1970-01-02' c, [1,2] d, {'k': 'v'} e, "
                  "NULL::INT f, 'x' g, 2::UBIGINT h");
  ASSERT_TRUE(rows.ok()) << rows.error().message;
  const auto& s = rows->schema;
  EXPECT_EQ(s[0].type.id, TypeId::kTinyInt);
  EXPECT_EQ(s[1].type.id, TypeId::kDecimal);
  EXPECT_EQ(s[1].type.precision, 10);
  EXPECT_EQ(s[1].type.scale, 2);
  EXPECT_EQ(s[2].type.id, TypeId::kDate);
  EXPECT_EQ(s[3].type.id, TypeId::kJson);
  EXPECT_EQ(s[4].type.id, TypeId::kJson);
  EXPECT_EQ(s[7].type.id, TypeId::kHugeInt);
  EXPECT_EQ(rows->values[0], (std::vector<std::string>{"1", "1250e-2", "1", "[1,2]", "{\"k\":\"v\"}", "NULL", "x", "2"}));
}

TEST(DuckDBEngine, BindsParameters) {
  auto engine = open_engine();
  auto rows = run(*engine, "SELECT ? + 1, ?, ?, ? IS NULL", {int64_t{41}, std::string("s"), 2.5, std::monostate{}});
  ASSERT_TRUE(rows.ok()) << rows.error().message;
  EXPECT_EQ(rows->values[0], (std::vector<std::string>{"42", "s", "2.500000", "1"}));
  auto wrong = engine->execute(Statement{"SELECT ?", {}}, Session());
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code, ErrorCode::kInvalidParameter);
}

TEST(DuckDBEngine, WritesReportRowsChanged) {
  auto engine = open_engine();
  ASSERT_TRUE(run(*engine, "CREATE TABLE scratch_writes (id INTEGER, note VARCHAR)").ok());
  auto insert = run(*engine, "INSERT INTO scratch_writes VALUES (1, 'a'), (2, 'b'), (3, 'c')");
  ASSERT_TRUE(insert.ok()) << insert.error().message;
  EXPECT_EQ(insert->rows_changed, 3);
  auto update = run(*engine, "UPDATE scratch_writes SET note = 'z' WHERE id >= 2");
  ASSERT_TRUE(update.ok()) << update.error().message;
  EXPECT_EQ(update->rows_changed, 2);
  auto back = run(*engine, "SELECT count(*) FROM scratch_writes");
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->rows_changed, std::nullopt);  // reading changes nothing
}

TEST(DuckDBEngine, ErrorsCarryCodesAndPositions) {
  auto engine = open_engine();
  struct Case {
    const char* sql;
    ErrorCode code;
    std::optional<uint32_t> position;
  };
  for (const Case& c : std::initializer_list<Case>{
           {"SELECT * FROM nope", ErrorCode::kUnknownTable, 14},
           {"SELECT nocol FROM range(3)", ErrorCode::kBindError, 7},
           {"SELECT foo(1)", ErrorCode::kUnknownObject, 7},
           {"SELECT 'abc'::INT", ErrorCode::kConversionError, 12},
           {"SELEC 1", ErrorCode::kSyntaxError, 0},
       }) {
    SCOPED_TRACE(c.sql);
    auto rows = run(*engine, c.sql);
    ASSERT_FALSE(rows.ok());
    EXPECT_EQ(error_code_name(rows.error().code), error_code_name(c.code)) << rows.error().message;
    EXPECT_EQ(rows.error().position, c.position);
    EXPECT_EQ(rows.error().message.find("LINE 1"), std::string::npos) << "position belongs in its field";
  }
}

TEST(DuckDBEngine, CancelStopsARunningQuery) {
  auto engine = open_engine();
  for (bool timed_out : {false, true}) {
    auto stream = engine->execute(Statement{"SELECT count(*) FROM range(1000000000000)"}, Session());
    ASSERT_TRUE(stream.ok());
    std::thread canceller([&] {
      std::this_thread::sleep_for(50ms);
      (*stream)->cancel(timed_out);
    });
    ResultBatch batch;
    auto more = (*stream)->next(batch);
    canceller.join();
    ASSERT_FALSE(more.ok());
    EXPECT_EQ(more.error().code, timed_out ? ErrorCode::kQueryTimeout : ErrorCode::kQueryCancelled);
  }
  // The connection went back to the pool in working order.
  EXPECT_TRUE(run(*engine, "SELECT 1").ok());
}

TEST(DuckDBEngine, AFullPoolAnswersOverloaded) {
  auto engine = open_engine({}, 1);
  auto held = engine->execute(Statement{"SELECT 1"}, Session());
  ASSERT_TRUE(held.ok());
  auto second = engine->execute(Statement{"SELECT 2"}, Session());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, ErrorCode::kOverloaded);
  held = Error(ErrorCode::kInternal, "released");  // drop the stream: its connection returns
  EXPECT_TRUE(run(*engine, "SELECT 3").ok());
  EXPECT_TRUE(engine->health().ready);
}

TEST(DuckDBEngine, MissingExtensionIsAClearStartupError) {
  TempDir empty;
  DuckDBEngineOptions options;
  options.extension_directory = empty.str();
  options.load_extensions = {"delta"};
  auto engine = DuckDBEngine::open(options, Catalog());
  ASSERT_FALSE(engine.ok());
  EXPECT_NE(engine.error().message.find("cannot load DuckDB extension 'delta'"), std::string::npos);
  EXPECT_NE(engine.error().message.find("bootstrap.sh"), std::string::npos);
}

}  // namespace
}  // namespace lakerouter
