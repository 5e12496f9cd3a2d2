// Table statistics from metadata (catalog/table_stats.h): what each format's reader extracts,
// incremental and change-driven refresh, and the promise that statistics never read data files.
#include <unistd.h>

#include <fstream>
#include <iostream>

#include <gtest/gtest.h>

#include "catalog/catalog.h"
#include "catalog/live_catalog.h"
#include "catalog/scan_estimate.h"
#include "catalog/table_metadata.h"
#include "engines/duckdb/duckdb_engine.h"
#include "engine_test_util.h"

namespace lakerouter {
namespace {

using testing::TempDir;
using testing::write_file;
namespace fs = std::filesystem;

// A Delta metaData action with the given columns ({"name", "type"} pairs) and partition columns.
std::string delta_metadata(const std::vector<std::pair<std::string, std::string>>& columns,
                           const std::vector<std::string>& partition_columns, const std::string& configuration = "{}",
                           const std::vector<std::string>& physical_names = {}) {
  std::string fields;
  for (size_t i = 0; i < columns.size(); ++i) {
    if (i) fields += ",";
    std::string metadata = "{}";
    if (i < physical_names.size()) {
      metadata = R"({\"delta.columnMapping.physicalName\":\")" + physical_names[i] + R"(\"})";
    }
    fields += R"({\"name\":\")" + columns[i].first + R"(\",\"type\":\")" + columns[i].second +
              R"(\",\"nullable\":true,\"metadata\":)" + metadata + "}";
  }
  std::string partitions;
  for (size_t i = 0; i < partition_columns.size(); ++i) partitions += (i ? ",\"" : "\"") + partition_columns[i] + "\"";
  return R"({"metaData":{"id":"x","format":{"provider":"parquet"},"schemaString":"{\"type\":\"struct\",\"fields\":[)" +
         fields + R"(]}","partitionColumns":[)" + partitions + R"(],"configuration":)" + configuration + "}}\n";
}

// An add action with partition values and a stats JSON object (escaped into the string field).
std::string delta_add_with_stats(const std::string& path, int64_t size, const std::string& partition_values,
                                 const std::string& stats, const std::string& extra = "") {
  std::string escaped;
  for (char c : stats) {
    if (c == '"') escaped += '\\';
    escaped += c;
  }
  return R"({"add":{"path":")" + path + R"(","size":)" + std::to_string(size) + R"(,"partitionValues":)" +
         partition_values + R"(,"stats":")" + escaped + "\"" + extra + "}}\n";
}

const std::vector<std::pair<std::string, std::string>> kSalesColumns = {
    {"id", "long"}, {"Region", "string"}, {"day", "date"}, {"amount", "decimal(10,2)"}, {"ts", "timestamp"}};

// sales: partitioned by day; two files on 2024-01-01, one on 2024-01-02 (with a deletion vector).
void make_sales_table(const fs::path& dir) {
  write_file(dir / "_delta_log/00000000000000000000.json",
             std::string(R"({"protocol":{"minReaderVersion":3,"minWriterVersion":7,"readerFeatures":["deletionVectors"],"writerFeatures":["deletionVectors"]}})") +
                 "\n" + delta_metadata(kSalesColumns, {"day"}) +
                 delta_add_with_stats("day=2024-01-01/a.parquet", 1000, R"({"day":"2024-01-01"})",
                                      R"({"numRecords":100,"minValues":{"id":1,"Region":"east","amount":1.50,"ts":"2024-01-01T00:00:00.000Z"},"maxValues":{"id":100,"Region":"west","amount":99.99,"ts":"2024-01-01T23:59:59.999Z"},"nullCount":{"id":0,"Region":3,"amount":0,"ts":0}})") +
                 delta_add_with_stats("day=2024-01-01/b.parquet", 2000, R"({"day":"2024-01-01"})",
                                      R"({"numRecords":200,"minValues":{"id":101,"Region":"north","amount":5},"maxValues":{"id":300,"Region":"south","amount":500.25},"nullCount":{"id":0,"Region":0,"amount":7}})"));
  write_file(dir / "_delta_log/00000000000000000001.json",
             delta_add_with_stats("day=2024-01-02/c.parquet", 4000, R"({"day":"2024-01-02"})",
                                  R"({"numRecords":400,"minValues":{"id":301,"Region":"east"},"maxValues":{"id":700,"Region":"east"},"nullCount":{"id":0,"Region":0}})",
                                  R"(,"deletionVector":{"storageType":"u","pathOrInlineDv":"x","sizeInBytes":10,"cardinality":40})"));
}

const ColumnBounds* bounds_of(const TableStats& stats, std::string_view column) {
  auto index = stats.column_index(column);
  if (!index) return nullptr;
  for (const auto& b : stats.column_bounds) {
    if (b.column == *index) return &b;
  }
  return nullptr;
}

sql::Predicate predicate(std::string column, sql::PredicateOp op, std::vector<std::string> values) {
  return sql::Predicate{std::move(column), op, std::move(values)};
}

TEST(DeltaStats, SchemaPartitionsBoundsAndFeatures) {
  TempDir tmp;
  make_sales_table(tmp.path() / "sales");
  auto stats = read_table_stats(TableFormat::kDelta, (tmp.path() / "sales").string());
  ASSERT_TRUE(stats.ok()) << stats.error().message;

  EXPECT_EQ(stats->format_version, "reader 3, writer 7");
  EXPECT_EQ(stats->features, std::vector<std::string>{"deletionVectors"});
  ASSERT_EQ(stats->columns.size(), 5u);
  EXPECT_EQ(stats->columns[1].name, "region");  // lower-case, as queries refer to it
  EXPECT_EQ(stats->columns[3].kind, ValueKind::kDecimal);
  EXPECT_EQ(stats->columns[4].kind, ValueKind::kTimestamp);
  ASSERT_EQ(stats->partition_columns.size(), 1u);
  EXPECT_EQ(stats->partition_columns[0].name, "day");
  EXPECT_EQ(stats->partition_columns[0].source_column, 2u);

  // Live rows subtract the deletion vector's cardinality.
  EXPECT_EQ(stats->rows, 100 + 200 + 360);
  EXPECT_EQ(stats->bytes, 7000);
  EXPECT_EQ(stats->files, 3);
  EXPECT_EQ(stats->snapshot, "1");

  ASSERT_EQ(stats->partitions.size(), 2u);
  EXPECT_EQ(stats->partitions[0].values, std::vector<std::optional<std::string>>{"2024-01-01"});
  EXPECT_EQ(stats->partitions[0].files, 2);
  EXPECT_EQ(stats->partitions[0].bytes, 3000);
  EXPECT_EQ(stats->partitions[0].rows, 300);
  EXPECT_EQ(stats->partitions[1].rows, 360);

  const ColumnBounds* id = bounds_of(*stats, "id");
  ASSERT_NE(id, nullptr);
  EXPECT_EQ(id->min->text, "1");
  EXPECT_EQ(id->max->text, "700");
  EXPECT_EQ(id->null_count, 0);
  const ColumnBounds* region = bounds_of(*stats, "region");
  ASSERT_NE(region, nullptr);
  EXPECT_EQ(region->min->text, "east");
  EXPECT_EQ(region->max->text, "west");
  EXPECT_EQ(region->null_count, 3);
  // amount has no bounds in file c: no table-wide bounds, since c may hold any amount.
  const ColumnBounds* amount = bounds_of(*stats, "amount");
  EXPECT_TRUE(amount == nullptr || !amount->min.has_value());
}

TEST(DeltaStats, PruningByPartitionAndBounds) {
  TempDir tmp;
  make_sales_table(tmp.path() / "sales");
  auto stats = read_table_stats(TableFormat::kDelta, (tmp.path() / "sales").string());
  ASSERT_TRUE(stats.ok()) << stats.error().message;
  using Op = sql::PredicateOp;

  auto by_day = estimate_scan(*stats, std::vector{predicate("day", Op::kEq, {"2024-01-02"})});
  EXPECT_EQ(by_day.files, 1);
  EXPECT_EQ(by_day.files_total, 3);
  EXPECT_EQ(by_day.bytes, 4000);
  EXPECT_EQ(by_day.rows, 360);
  EXPECT_EQ(by_day.pruned_by, std::vector<std::string>{"day"});

  auto point = estimate_scan(*stats, std::vector{predicate("id", Op::kEq, {"150"})});
  EXPECT_EQ(point.files, 1);
  EXPECT_EQ(point.bytes, 2000);

  auto timestamps = estimate_scan(*stats, std::vector{predicate("ts", Op::kGe, {"2024-01-02 00:00:00"})});
  EXPECT_EQ(timestamps.files, 2) << "a is ruled out by its max ts; b and c have no ts bounds";

  auto both = estimate_scan(*stats, std::vector{predicate("day", Op::kEq, {"2024-01-01"}),
                                               predicate("region", Op::kEq, {"zebra"})});
  EXPECT_EQ(both.files, 0) << "c by day; a and b by their region bounds (east..west, north..south)";
  EXPECT_EQ(both.rows, 0);
  EXPECT_EQ(both.pruned_by, (std::vector<std::string>{"day", "region"}));
}

TEST(DeltaStats, ColumnMappingUsesPhysicalNames) {
  TempDir tmp;
  const auto dir = tmp.path() / "mapped";
  write_file(dir / "_delta_log/00000000000000000000.json",
             std::string(R"({"protocol":{"minReaderVersion":2,"minWriterVersion":5}})") + "\n" +
                 delta_metadata({{"id", "long"}, {"part", "string"}}, {"part"},
                                R"({"delta.columnMapping.mode":"name"})", {"col-1a2b", "col-3c4d"}) +
                 delta_add_with_stats("x.parquet", 10, R"({"col-3c4d":"p1"})",
                                      R"({"numRecords":5,"minValues":{"col-1a2b":10},"maxValues":{"col-1a2b":20}})"));
  auto stats = read_table_stats(TableFormat::kDelta, dir.string());
  ASSERT_TRUE(stats.ok()) << stats.error().message;
  EXPECT_EQ(stats->features, std::vector<std::string>{"columnMapping"});
  EXPECT_EQ(stats->format_version, "reader 2, writer 5");
  const ColumnBounds* id = bounds_of(*stats, "id");
  ASSERT_NE(id, nullptr);
  EXPECT_EQ(id->min->text, "10");
  ASSERT_EQ(stats->partitions.size(), 1u);
  EXPECT_EQ(stats->partitions[0].values, std::vector<std::optional<std::string>>{"p1"});
}

TEST(DeltaStats, RefreshReplaysOnlyNewCommits) {
  TempDir tmp;
  const auto dir = tmp.path() / "sales";
  make_sales_table(dir);
  StatsReader reader;
  auto first = reader.read(TableFormat::kDelta, dir.string());
  ASSERT_TRUE(first.ok()) << first.error().message;

  // Commit 2 removes a and adds d. Then the old commits are made unreadable: an incremental
  // refresh must not open them.
  write_file(dir / "_delta_log/00000000000000000002.json",
             R"({"remove":{"path":"day=2024-01-01/a.parquet"}})" "\n" +
                 delta_add_with_stats("day=2024-01-03/d.parquet", 500, R"({"day":"2024-01-03"})",
                                      R"({"numRecords":50,"minValues":{"id":701},"maxValues":{"id":750}})"));
  const std::string commit0 = (dir / "_delta_log/00000000000000000000.json").string();
  const std::string saved = [&] {
    std::ifstream in(commit0);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }();
  write_file(commit0, "not json");
  auto incremental = reader.read(TableFormat::kDelta, dir.string(), &*first);
  ASSERT_TRUE(incremental.ok()) << incremental.error().message;
  EXPECT_EQ(incremental->snapshot, "2");
  EXPECT_EQ(incremental->files, 3);
  EXPECT_EQ(incremental->rows, 200 + 360 + 50);
  EXPECT_EQ(incremental->partitions.size(), 3u);

  // The same as replaying the whole log.
  write_file(commit0, saved);
  auto full = reader.read(TableFormat::kDelta, dir.string());
  ASSERT_TRUE(full.ok()) << full.error().message;
  EXPECT_EQ(full->rows, incremental->rows);
  EXPECT_EQ(full->bytes, incremental->bytes);
  EXPECT_EQ(full->partitions.size(), incremental->partitions.size());
  ASSERT_EQ(full->data_files.size(), incremental->data_files.size());
  for (size_t i = 0; i < full->data_files.size(); ++i) {
    EXPECT_EQ(full->data_files[i].path, incremental->data_files[i].path);
    EXPECT_EQ(full->data_files[i].rows, incremental->data_files[i].rows);
  }
}

TEST(DeltaStats, SchemaChangeReplaysTheWholeLog) {
  TempDir tmp;
  const auto dir = tmp.path() / "sales";
  make_sales_table(dir);
  StatsReader reader;
  auto first = reader.read(TableFormat::kDelta, dir.string());
  ASSERT_TRUE(first.ok());
  auto columns = kSalesColumns;
  columns.emplace_back("note", "string");
  write_file(dir / "_delta_log/00000000000000000002.json", delta_metadata(columns, {"day"}));
  auto next = reader.read(TableFormat::kDelta, dir.string(), &*first);
  ASSERT_TRUE(next.ok()) << next.error().message;
  EXPECT_EQ(next->columns.size(), 6u);
  EXPECT_EQ(next->rows, first->rows);
  EXPECT_EQ(next->snapshot, "2");
}

TEST(DeltaStats, WrongJsonTypesAreAnErrorNotACrash) {
  TempDir tmp;
  write_file(tmp.path() / "t/_delta_log/00000000000000000000.json", R"({"add":{"path":"a.parquet","size":"big"}})" "\n");
  auto stats = read_table_stats(TableFormat::kDelta, (tmp.path() / "t").string());
  ASSERT_FALSE(stats.ok());
  EXPECT_EQ(stats.error().code, ErrorCode::kIoError);
  EXPECT_NE(stats.error().message.find("unexpected delta metadata"), std::string::npos) << stats.error().message;
}

// Bytes this process has read through read(2) and friends so far (page cache included).
int64_t bytes_read_by_process() {
  std::ifstream io("/proc/self/io");
  std::string key;
  int64_t value = 0;
  while (io >> key >> value) {
    if (key == "rchar:") return value;
  }
  return -1;
}

// The acceptance test for "statistics come from metadata only": a 1 GiB Delta table (16 data
// files of 64 MiB, sparse so the test stays fast) is loaded and, after a new commit, refreshed;
// neither reads more than 1 MB in total — the data files alone would be 1 GiB.
TEST(DeltaStats, RefreshOfAOneGigabyteTableReadsUnderOneMegabyte) {
  if (bytes_read_by_process() < 0) GTEST_SKIP() << "/proc/self/io is not readable here";
  TempDir tmp;
  const auto dir = tmp.path() / "lake/big/events";
  constexpr int64_t kFileBytes = 64LL << 20;
  std::string commit = std::string(R"({"protocol":{"minReaderVersion":1,"minWriterVersion":2}})") + "\n" +
                       delta_metadata({{"id", "long"}, {"day", "date"}}, {"day"});
  for (int i = 0; i < 16; ++i) {
    const std::string day = "2024-01-" + std::string(i < 9 ? "0" : "") + std::to_string(i + 1);
    const std::string path = "day=" + day + "/part-" + std::to_string(i) + ".parquet";
    fs::create_directories(dir / ("day=" + day));
    write_file(dir / path, "");
    ASSERT_EQ(::truncate((dir / path).c_str(), kFileBytes), 0);  // sparse: 64 MiB without the disk
    commit += delta_add_with_stats(path, kFileBytes, R"({"day":")" + day + R"("})",
                                   R"({"numRecords":1000000,"minValues":{"id":)" + std::to_string(i * 1000000) +
                                       R"(},"maxValues":{"id":)" + std::to_string(i * 1000000 + 999999) + "}}");
  }
  write_file(dir / "_delta_log/00000000000000000000.json", commit);
  CatalogOptions options{.lake_dir = (tmp.path() / "lake").string(), .tables = {}};

  const int64_t before_load = bytes_read_by_process();
  auto catalog = Catalog::load(options);
  const int64_t load_read = bytes_read_by_process() - before_load;
  ASSERT_TRUE(catalog.ok()) << catalog.error().message;
  const TableInfo* table = catalog->find("big.events");
  ASSERT_NE(table, nullptr);
  EXPECT_EQ(table->stats->bytes, 16 * kFileBytes);
  EXPECT_EQ(table->stats->rows, 16000000);

  // A new commit replaces one file; the refresh notices and rereads.
  write_file(dir / "_delta_log/00000000000000000001.json",
             R"({"remove":{"path":"day=2024-01-01/part-0.parquet"}})" "\n" +
                 delta_add_with_stats("day=2024-01-01/part-16.parquet", kFileBytes, R"({"day":"2024-01-01"})",
                                      R"({"numRecords":999999})"));
  const int64_t before_refresh = bytes_read_by_process();
  RefreshReport report;
  const Catalog refreshed = catalog->refreshed(options, report);
  const int64_t refresh_read = bytes_read_by_process() - before_refresh;
  EXPECT_EQ(report.changed, 1);
  EXPECT_EQ(refreshed.find("big.events")->stats->rows, 15999999);
  EXPECT_EQ(refreshed.find("big.events")->stats->snapshot, "1");

  std::cout << "[ figures  ] 1 GiB Delta table: load read " << load_read << " bytes, refresh read " << refresh_read
            << " bytes\n";
  RecordProperty("load_bytes_read", std::to_string(load_read));
  RecordProperty("refresh_bytes_read", std::to_string(refresh_read));
  EXPECT_LT(load_read, 1000000);
  EXPECT_LT(refresh_read, 1000000);
}

TEST(ParquetStats, HivePartitionsAndFooterBounds) {
  TempDir tmp;
  const auto dir = tmp.path() / "events";
  testing::run_on_duckdb("COPY (SELECT range AS x, 'k' || (range % 3) AS k, range % 2 = 0 AS even FROM range(300)) TO '" +
                         dir.string() + "' (FORMAT parquet, PARTITION_BY (k))");

  auto stats = read_table_stats(TableFormat::kParquet, dir.string());
  ASSERT_TRUE(stats.ok()) << stats.error().message;
  EXPECT_EQ(stats->rows, 300);
  EXPECT_EQ(stats->files, 3);
  ASSERT_EQ(stats->partition_columns.size(), 1u);
  EXPECT_EQ(stats->partition_columns[0].name, "k");
  ASSERT_EQ(stats->partitions.size(), 3u);
  EXPECT_EQ(stats->partitions[0].values, std::vector<std::optional<std::string>>{"k0"});
  EXPECT_EQ(stats->partitions[0].rows, 100);
  const ColumnBounds* x = bounds_of(*stats, "x");
  ASSERT_NE(x, nullptr);
  EXPECT_EQ(x->min->text, "0");
  EXPECT_EQ(x->max->text, "299");
  EXPECT_FALSE(stats->version_token.empty());

  auto one = estimate_scan(*stats, std::vector{predicate("k", sql::PredicateOp::kEq, {"k1"})});
  EXPECT_EQ(one.files, 1);
  EXPECT_EQ(one.rows, 100);
  auto none = estimate_scan(*stats, std::vector{predicate("x", sql::PredicateOp::kGt, {"1000"})});
  EXPECT_EQ(none.files, 0);
  EXPECT_EQ(none.rows, 0);
}

TEST(IcebergStats, BoundsDecodeFromTheBinaryForm) {
  using catalog_internal::iceberg_bound_text;
  auto bytes = [](std::initializer_list<int> b) {
    std::string s;
    for (int c : b) s += static_cast<char>(c);
    return s;
  };
  EXPECT_EQ(iceberg_bound_text("int", bytes({0x2a, 0, 0, 0})), "42");
  EXPECT_EQ(iceberg_bound_text("int", bytes({0xff, 0xff, 0xff, 0xff})), "-1");
  EXPECT_EQ(iceberg_bound_text("long", bytes({1, 0, 0, 0, 0, 0, 0, 0})), "1");
  EXPECT_EQ(iceberg_bound_text("date", bytes({0, 0, 0, 0})), "1970-01-01");
  EXPECT_EQ(iceberg_bound_text("date", bytes({0x63, 0x1f, 0, 0})), "1992-01-01");  // 8035 days
  EXPECT_EQ(iceberg_bound_text("date", bytes({0xff, 0xff, 0xff, 0xff})), "1969-12-31");
  // 2024-01-02 03:04:05.000006 UTC in microseconds.
  const int64_t micros = 1704164645000006LL;
  std::string ts(8, '\0');
  for (int i = 0; i < 8; ++i) ts[i] = static_cast<char>((micros >> (8 * i)) & 0xff);
  EXPECT_EQ(iceberg_bound_text("timestamptz", ts), "2024-01-02 03:04:05.000006");
  EXPECT_EQ(iceberg_bound_text("decimal(15,2)", bytes({0x01, 0x55, 0xc1})), "874.89");  // 87489
  EXPECT_EQ(iceberg_bound_text("decimal(15,2)", bytes({0xff, 0x38})), "-2.00");         // -200
  EXPECT_EQ(iceberg_bound_text("decimal(5,3)", bytes({0x05})), "0.005");
  EXPECT_EQ(iceberg_bound_text("string", "abc"), "abc");
  EXPECT_EQ(iceberg_bound_text("boolean", bytes({1})), "true");
  EXPECT_EQ(iceberg_bound_text("double", bytes({0, 0, 0, 0, 0, 0, 0xf8, 0x3f})), "1.5");
  EXPECT_EQ(iceberg_bound_text("int", bytes({1, 2})), std::nullopt) << "wrong width";
  EXPECT_EQ(iceberg_bound_text("uuid", bytes({1})), std::nullopt);
}

TEST(IcebergStats, DemoLakeManifestsGiveFileBounds) {
  const char* lake = std::getenv("LAKEROUTER_TEST_LAKE");
  if (!lake) GTEST_SKIP() << "set LAKEROUTER_TEST_LAKE to a demo lake";
  auto stats = read_table_stats(TableFormat::kIceberg, std::string(lake) + "/tpch_iceberg/orders",
                                testing::extension_dir());
  ASSERT_TRUE(stats.ok()) << stats.error().message;
  EXPECT_TRUE(stats->notes.empty()) << stats->notes.front();
  EXPECT_EQ(stats->format_version, "2");
  ASSERT_FALSE(stats->data_files.empty());
  const ColumnBounds* date = bounds_of(*stats, "o_orderdate");
  ASSERT_NE(date, nullptr);
  EXPECT_EQ(date->min->text, "1992-01-01");
  auto none = estimate_scan(*stats, std::vector{predicate("o_orderkey", sql::PredicateOp::kLt, {"0"})});
  EXPECT_EQ(none.files, 0);

  // Without the avro extension the snapshot summary still gives the totals, and a note says why.
  auto summary_only = read_table_stats(TableFormat::kIceberg, std::string(lake) + "/tpch_iceberg/orders",
                                       (fs::temp_directory_path() / "no-extensions-here").string());
  ASSERT_TRUE(summary_only.ok()) << summary_only.error().message;
  EXPECT_EQ(summary_only->rows, stats->rows);
  EXPECT_TRUE(summary_only->data_files.empty());
  EXPECT_FALSE(summary_only->notes.empty());
}

TEST(CatalogRefresh, RereadsOnlyChangedTables) {
  TempDir tmp;
  make_sales_table(tmp.path() / "lake/shop/sales");
  make_sales_table(tmp.path() / "lake/shop/returns");
  CatalogOptions options{.lake_dir = (tmp.path() / "lake").string(), .tables = {}};
  auto catalog = Catalog::load(options);
  ASSERT_TRUE(catalog.ok()) << catalog.error().message;

  RefreshReport nothing;
  const Catalog same = catalog->refreshed(options, nothing);
  EXPECT_EQ(nothing.tables, 2);
  EXPECT_EQ(nothing.changed, 0);
  EXPECT_EQ(same.find("shop.sales")->stats, catalog->find("shop.sales")->stats) << "unchanged stats are shared";

  write_file(tmp.path() / "lake/shop/sales/_delta_log/00000000000000000002.json",
             R"({"remove":{"path":"day=2024-01-02/c.parquet"}})" "\n");
  RefreshReport one;
  const Catalog next = catalog->refreshed(options, one);
  EXPECT_EQ(one.changed, 1);
  EXPECT_EQ(next.find("shop.sales")->stats->rows, 300);
  EXPECT_EQ(next.find("shop.returns")->stats, catalog->find("shop.returns")->stats);

  // A table whose new commit cannot be read keeps its previous stats, and the report says so.
  write_file(tmp.path() / "lake/shop/returns/_delta_log/00000000000000000002.json", "{broken\n");
  RefreshReport broken;
  const Catalog kept = next.refreshed(options, broken);
  ASSERT_EQ(broken.errors.size(), 1u);
  EXPECT_NE(broken.errors[0].find("shop.returns"), std::string::npos) << broken.errors[0];
  EXPECT_EQ(kept.find("shop.returns")->stats, next.find("shop.returns")->stats);
}

TEST(CatalogRefresh, LiveCatalogSwapsInTheNewSnapshot) {
  TempDir tmp;
  make_sales_table(tmp.path() / "lake/shop/sales");
  CatalogOptions options{.lake_dir = (tmp.path() / "lake").string(), .tables = {}};
  auto catalog = Catalog::load(options);
  ASSERT_TRUE(catalog.ok());
  LiveCatalog live(std::move(*catalog), options);
  const auto before = live.current();
  EXPECT_EQ(live.refresh().changed, 0);
  EXPECT_EQ(live.current(), before) << "nothing changed: the same snapshot";
  write_file(tmp.path() / "lake/shop/sales/_delta_log/00000000000000000002.json",
             R"({"remove":{"path":"day=2024-01-02/c.parquet"}})" "\n");
  EXPECT_EQ(live.refresh().changed, 1);
  EXPECT_EQ(live.current()->find("shop.sales")->stats->rows, 300);
  EXPECT_EQ(before->find("shop.sales")->stats->rows, 660) << "readers of the old snapshot keep it";
}

TEST(CatalogConfig, AnnotationsAddKeyColumnsToDiscoveredTables) {
  TempDir tmp;
  make_sales_table(tmp.path() / "lake/shop/sales");
  CatalogOptions options{.lake_dir = (tmp.path() / "lake").string(),
                         .tables = {{.name = "shop.sales", .format = std::nullopt, .location = "", .line = 4,
                                     .key_columns = {"ID"}}}};
  auto catalog = Catalog::load(options);
  ASSERT_TRUE(catalog.ok()) << catalog.error().message;
  EXPECT_EQ(catalog->find("shop.sales")->key_columns, std::vector<std::string>{"id"});

  options.tables[0].name = "shop.nope";
  auto unknown = Catalog::load(options);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("'shop.nope' (line 4) has no location"), std::string::npos)
      << unknown.error().message;
}

}  // namespace
}  // namespace lakerouter
