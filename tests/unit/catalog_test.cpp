#include <gtest/gtest.h>

#include "catalog/catalog.h"
#include "engines/duckdb/duckdb_engine.h"
#include "engine_test_util.h"

namespace lakerouter {
namespace {

using testing::TempDir;
using testing::write_file;

// A Delta log with two commits: b and c live, a removed.
void make_delta_table(const std::filesystem::path& dir) {
  write_file(dir / "_delta_log/00000000000000000000.json",
             testing::kDeltaLogHeader + testing::delta_add("a.parquet", 100, 10) + testing::delta_add("b.parquet", 200, 20));
  write_file(dir / "_delta_log/00000000000000000001.json",
             R"({"remove":{"path":"a.parquet"}})" "\n" + testing::delta_add("c.parquet", 50, 5));
}

void make_iceberg_table(const std::filesystem::path& dir) {
  write_file(dir / "metadata/00000-aaa.metadata.json", R"({"format-version":2,"current-snapshot-id":null,"snapshots":[]})");
  write_file(dir / "metadata/00001-bbb.metadata.json", R"({
    "format-version": 2, "current-snapshot-id": 77,
    "snapshots": [
      {"snapshot-id": 76, "summary": {"total-records": "1", "total-files-size": "9", "total-data-files": "1"}},
      {"snapshot-id": 77, "summary": {"total-records": "1500", "total-files-size": "4096", "total-data-files": "3"}}
    ]})");
}

// Parquet files written by DuckDB itself, through the engine.
void make_parquet_files(const std::filesystem::path& dir, int files, int rows_each) {
  std::filesystem::create_directories(dir);
  for (int i = 0; i < files; ++i) {
    testing::run_on_duckdb("COPY (SELECT range AS x FROM range(" + std::to_string(rows_each) + ")) TO '" +
                           (dir / ("part-" + std::to_string(i) + ".parquet")).string() + "' (FORMAT parquet)");
  }
}

TEST(Catalog, DeltaStatsReplayTheLog) {
  TempDir tmp;
  make_delta_table(tmp.path() / "t");
  EXPECT_EQ(detect_table_format((tmp.path() / "t").string()), TableFormat::kDelta);
  auto stats = read_table_stats(TableFormat::kDelta, (tmp.path() / "t").string());
  ASSERT_TRUE(stats.ok()) << stats.error().message;
  EXPECT_EQ(stats->rows, 25);
  EXPECT_EQ(stats->bytes, 250);
  EXPECT_EQ(stats->files, 2);
  EXPECT_EQ(stats->snapshot, "1");
}

TEST(Catalog, DeltaStatsStartFromTheLatestCheckpoint) {
  TempDir tmp;
  const auto dir = tmp.path() / "t";
  make_delta_table(dir);
  // Checkpoint at version 1 (b and c live), then commit 2 adds d.
  const std::string checkpoint = (dir / "_delta_log/00000000000000000001.checkpoint.parquet").string();
  testing::run_on_duckdb("COPY (SELECT * FROM (VALUES "
                         "({'path': 'b.parquet', 'size': 200, 'stats': '{\"numRecords\":20}'}, NULL::STRUCT(path VARCHAR)), "
                         "({'path': 'c.parquet', 'size': 50, 'stats': '{\"numRecords\":5}'}, NULL)) v(\"add\", \"remove\")) "
                         "TO '" + checkpoint + "' (FORMAT parquet)");
  // The JSON commits before the checkpoint are ignored: make one unreadable to prove it.
  write_file(dir / "_delta_log/00000000000000000000.json", "not json");
  write_file(dir / "_delta_log/00000000000000000002.json", testing::delta_add("d.parquet", 1, 1));
  auto stats = read_table_stats(TableFormat::kDelta, dir.string());
  ASSERT_TRUE(stats.ok()) << stats.error().message;
  EXPECT_EQ(stats->rows, 26);
  EXPECT_EQ(stats->bytes, 251);
  EXPECT_EQ(stats->files, 3);
  EXPECT_EQ(stats->snapshot, "2");
}

TEST(Catalog, DeltaRowsUnknownWithoutStats) {
  TempDir tmp;
  write_file(tmp.path() / "t/_delta_log/00000000000000000000.json", R"({"add":{"path":"a.parquet","size":7}})" "\n");
  auto stats = read_table_stats(TableFormat::kDelta, (tmp.path() / "t").string());
  ASSERT_TRUE(stats.ok());
  EXPECT_FALSE(stats->rows.has_value());
  EXPECT_EQ(stats->bytes, 7);
}

TEST(Catalog, BrokenDeltaLogIsAClearError) {
  TempDir tmp;
  write_file(tmp.path() / "t/_delta_log/00000000000000000000.json", "{\"add\": oops\n");
  auto stats = read_table_stats(TableFormat::kDelta, (tmp.path() / "t").string());
  ASSERT_FALSE(stats.ok());
  EXPECT_NE(stats.error().message.find("line 1 is not valid JSON"), std::string::npos) << stats.error().message;
}

TEST(Catalog, IcebergStatsComeFromTheCurrentSnapshotSummary) {
  TempDir tmp;
  make_iceberg_table(tmp.path() / "t");
  EXPECT_EQ(detect_table_format((tmp.path() / "t").string()), TableFormat::kIceberg);
  auto stats = read_table_stats(TableFormat::kIceberg, (tmp.path() / "t").string());
  ASSERT_TRUE(stats.ok()) << stats.error().message;
  EXPECT_EQ(stats->rows, 1500);
  EXPECT_EQ(stats->bytes, 4096);
  EXPECT_EQ(stats->files, 3);
  EXPECT_EQ(stats->snapshot, "77");
}

TEST(Catalog, ParquetRowsComeFromFooters) {
  TempDir tmp;
  make_parquet_files(tmp.path() / "t", 3, 1000);
  EXPECT_EQ(detect_table_format((tmp.path() / "t").string()), TableFormat::kParquet);
  auto stats = read_table_stats(TableFormat::kParquet, (tmp.path() / "t").string());
  ASSERT_TRUE(stats.ok()) << stats.error().message;
  EXPECT_EQ(stats->rows, 3000);
  EXPECT_EQ(stats->files, 3);
  EXPECT_GT(stats->bytes, 0);
}

TEST(Catalog, DiscoversSchemaTableFolders) {
  TempDir lake;
  make_delta_table(lake.path() / "sales/orders");
  make_iceberg_table(lake.path() / "sales/customers");
  make_parquet_files(lake.path() / "ref/nation", 1, 25);
  std::filesystem::create_directories(lake.path() / "ref/empty_folder");
  std::filesystem::create_directories(lake.path() / "bad-name/t");

  auto catalog = Catalog::load(CatalogOptions{lake.str(), {}});
  ASSERT_TRUE(catalog.ok()) << catalog.error().message;
  ASSERT_EQ(catalog->tables().size(), 3u);
  EXPECT_EQ(catalog->tables()[0].qualified_name(), "ref.nation");
  EXPECT_EQ(catalog->tables()[1].qualified_name(), "sales.customers");
  EXPECT_EQ(catalog->tables()[2].qualified_name(), "sales.orders");
  const TableInfo* orders = catalog->find("sales.orders");
  ASSERT_NE(orders, nullptr);
  EXPECT_EQ(orders->format, TableFormat::kDelta);
  EXPECT_EQ(orders->stats->rows, 25);
  EXPECT_FALSE(orders->declared);
  EXPECT_NE(catalog->find("sales.customers")->metadata_file.find("00001-bbb.metadata.json"), std::string::npos);
  EXPECT_EQ(catalog->find("ref.missing"), nullptr);
}

TEST(Catalog, DeclaredTablesOverrideDiscoveredOnes) {
  TempDir lake;
  make_delta_table(lake.path() / "sales/orders");
  TempDir other;
  make_iceberg_table(other.path() / "orders_v2");
  CatalogOptions options{lake.str(), {{"sales.orders", std::nullopt, (other.path() / "orders_v2").string(), 3}}};
  auto catalog = Catalog::load(options);
  ASSERT_TRUE(catalog.ok()) << catalog.error().message;
  ASSERT_EQ(catalog->tables().size(), 1u);
  EXPECT_EQ(catalog->tables()[0].format, TableFormat::kIceberg);
  EXPECT_TRUE(catalog->tables()[0].declared);
}

TEST(Catalog, RejectsBadDeclarations) {
  TempDir tmp;
  make_delta_table(tmp.path() / "t");
  const std::string loc = (tmp.path() / "t").string();

  auto dup = Catalog::load(CatalogOptions{"", {{"s.t", std::nullopt, loc, 3}, {"s.t", std::nullopt, loc, 7}}});
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.error().message.find("declared twice (lines 3 and 7)"), std::string::npos) << dup.error().message;

  auto unqualified = Catalog::load(CatalogOptions{"", {{"t", std::nullopt, loc, 1}}});
  ASSERT_FALSE(unqualified.ok());
  EXPECT_NE(unqualified.error().message.find("schema.table"), std::string::npos);

  auto missing = Catalog::load(CatalogOptions{"", {{"s.t", std::nullopt, (tmp.path() / "nope").string(), 1}}});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("no Delta, Iceberg or Parquet table"), std::string::npos);

  auto no_lake = Catalog::load(CatalogOptions{(tmp.path() / "no-such-lake").string(), {}});
  ASSERT_FALSE(no_lake.ok());
  EXPECT_NE(no_lake.error().message.find("gen_demo_lake.py"), std::string::npos);
}

}  // namespace
}  // namespace lakerouter
