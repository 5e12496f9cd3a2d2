// Scan estimates and the typed statistics values they compare (catalog/scan_estimate.h,
// catalog/stats_value.h), and TableStats::summarize() (catalog/table_stats.h).
//
// Tables are built by hand the way a metadata reader fills them in (schema, partition columns,
// live files with partition values and bounds, then summarize()), so that each case states which
// files a predicate must keep. A file is kept when any of its rows may match: pruning must never
// drop a file that holds a matching row, and cases marked "conservative" keep a file that a
// sharper estimate could drop.
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "catalog/catalog.h"
#include "catalog/scan_estimate.h"
#include "catalog/stats_value.h"
#include "sql/analyzer.h"
#include "test_util.h"

namespace lakerouter {
namespace {

using Op = sql::PredicateOp;
using sql::Predicate;

std::string join(const std::vector<std::string>& items, const char* sep = ",") {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) out += (i ? sep : "") + items[i];
  return out.empty() ? "-" : out;
}

std::string describe(const Predicate& p) {
  return p.column + " " + std::string(sql::predicate_op_name(p.op)) + " " + join(p.values, "|");
}

// The canonical value of `text`, failing the test when it has none.
StatValue value(ValueKind kind, std::string_view text) {
  auto v = make_stat_value(kind, text);
  if (!v) {
    ADD_FAILURE() << "no value of kind " << static_cast<int>(kind) << " for '" << text << "'";
    return {};
  }
  return *v;
}

int compare(ValueKind kind, std::string_view a, std::string_view b) {
  return compare_stat_values(kind, value(kind, a), value(kind, b));
}

// A table as a metadata reader fills it in. Values are given as text in the column's kind.
class TableBuilder {
 public:
  TableBuilder& column(const std::string& name, ValueKind kind) {
    TableColumn c;
    c.name = name;
    c.kind = kind;
    stats_.columns.push_back(std::move(c));
    return *this;
  }

  // A partition column on the schema column `source` (nullopt: not in the schema).
  TableBuilder& partitioned_by(const std::string& name, std::optional<std::string> source,
                               const std::string& transform = "identity") {
    PartitionColumn pc{.name = name, .source_column = std::nullopt, .transform = transform};
    if (source) pc.source_column = index(*source);
    stats_.partition_columns.push_back(pc);
    return *this;
  }

  // A live data file; `partition` has one value per partition column, nullopt for NULL.
  TableBuilder& file(const std::string& path, int64_t bytes, std::optional<int64_t> rows,
                     const std::vector<std::optional<std::string>>& partition = {}) {
    DataFile f;
    f.path = path;
    f.bytes = bytes;
    f.rows = rows;
    for (size_t i = 0; i < partition.size(); ++i) {
      if (!partition[i]) {
        f.partition_values.emplace_back(std::nullopt);
        continue;
      }
      const auto& pc = stats_.partition_columns.at(i);
      const ValueKind kind =
          pc.transform == "identity" && pc.source_column ? stats_.columns[*pc.source_column].kind : ValueKind::kString;
      f.partition_values.emplace_back(value(kind, *partition[i]));
    }
    stats_.data_files.push_back(std::move(f));
    return *this;
  }

  // Bounds of `column` in the file added last; nullopt where the metadata does not record them.
  TableBuilder& bounds(const std::string& column, std::optional<std::string> min, std::optional<std::string> max,
                       std::optional<int64_t> null_count = std::nullopt) {
    const size_t c = index(column);
    ColumnBounds b{.column = c, .min = std::nullopt, .max = std::nullopt, .null_count = null_count};
    if (min) b.min = value(stats_.columns[c].kind, *min);
    if (max) b.max = value(stats_.columns[c].kind, *max);
    stats_.data_files.back().bounds.push_back(std::move(b));
    return *this;
  }

  // Only a null count for `column` in the file added last.
  TableBuilder& nulls(const std::string& column, int64_t null_count) {
    return bounds(column, std::nullopt, std::nullopt, null_count);
  }

  TableStats build() const {
    TableStats stats = stats_;
    stats.summarize();
    return stats;
  }

 private:
  size_t index(const std::string& column) const {
    auto i = stats_.column_index(column);
    if (!i) ADD_FAILURE() << "no column " << column;
    return i.value_or(0);
  }

  TableStats stats_;
};

// The files that `predicates` keep, by path ("-" if none). Each file's fate depends on that file
// only, so it is estimated alone; the whole table's estimate must agree on the count.
std::string kept(const TableStats& stats, const std::vector<Predicate>& predicates) {
  std::vector<std::string> paths;
  for (const auto& file : stats.data_files) {
    TableStats one = stats;
    one.data_files = {file};
    if (estimate_scan(one, predicates).files == 1) paths.push_back(file.path);
  }
  EXPECT_EQ(estimate_scan(stats, predicates).files, static_cast<int64_t>(paths.size()));
  return join(paths);
}

std::string kept(const TableStats& stats, const Predicate& predicate) {
  return kept(stats, std::vector<Predicate>{predicate});
}

struct Case {
  Predicate predicate;
  std::string kept;  // paths, "-" for none
};

void expect_kept(const TableStats& stats, const std::vector<Case>& cases) {
  for (const auto& c : cases) {
    SCOPED_TRACE(describe(c.predicate));
    EXPECT_EQ(kept(stats, c.predicate), c.kept);
  }
}

// ================================================================================================
// ValueKind of each format's type names
// ================================================================================================

struct KindCase {
  const char* type;
  ValueKind kind;
};

TEST(StatsValue, KindsOfDeltaTypes) {
  const KindCase cases[] = {
      {"long", ValueKind::kInteger},         {"integer", ValueKind::kInteger},
      {"short", ValueKind::kInteger},        {"byte", ValueKind::kInteger},
      {"float", ValueKind::kFloat},          {"double", ValueKind::kFloat},
      {"decimal(15,2)", ValueKind::kDecimal}, {"decimal", ValueKind::kDecimal},
      {"string", ValueKind::kString},        {"date", ValueKind::kDate},
      {"timestamp", ValueKind::kTimestamp},  {"timestamp_ntz", ValueKind::kTimestamp},
      {"boolean", ValueKind::kBoolean},      {" LONG ", ValueKind::kInteger},
      {"binary", ValueKind::kOther},         {"array<long>", ValueKind::kOther},
      {"struct", ValueKind::kOther},         {"int", ValueKind::kOther},  // Delta spells it "integer"
  };
  for (const auto& c : cases) EXPECT_EQ(value_kind_of_delta_type(c.type), c.kind) << c.type;
}

TEST(StatsValue, KindsOfIcebergTypes) {
  const KindCase cases[] = {
      {"int", ValueKind::kInteger},           {"long", ValueKind::kInteger},
      {"float", ValueKind::kFloat},           {"double", ValueKind::kFloat},
      {"decimal(15, 2)", ValueKind::kDecimal}, {"string", ValueKind::kString},
      {"date", ValueKind::kDate},             {"timestamp", ValueKind::kTimestamp},
      {"timestamptz", ValueKind::kTimestamp}, {"boolean", ValueKind::kBoolean},
      {"Long", ValueKind::kInteger},          {"time", ValueKind::kOther},
      {"uuid", ValueKind::kOther},            {"fixed[16]", ValueKind::kOther},
      {"binary", ValueKind::kOther},          {"timestamp_ns", ValueKind::kOther},
      {"list<int>", ValueKind::kOther},
  };
  for (const auto& c : cases) EXPECT_EQ(value_kind_of_iceberg_type(c.type), c.kind) << c.type;
}

TEST(StatsValue, KindsOfSqlTypes) {
  const KindCase cases[] = {
      {"TINYINT", ValueKind::kInteger},    {"SMALLINT", ValueKind::kInteger},
      {"INTEGER", ValueKind::kInteger},    {"BIGINT", ValueKind::kInteger},
      {"HUGEINT", ValueKind::kInteger},    {"UBIGINT", ValueKind::kInteger},
      {"INT", ValueKind::kInteger},        {"int8", ValueKind::kInteger},
      {"FLOAT", ValueKind::kFloat},        {"DOUBLE", ValueKind::kFloat},
      {"REAL", ValueKind::kFloat},         {"DECIMAL(15,2)", ValueKind::kDecimal},
      {"NUMERIC(10,0)", ValueKind::kDecimal}, {"VARCHAR", ValueKind::kString},
      {"VARCHAR(20)", ValueKind::kString}, {"TEXT", ValueKind::kString},
      {"DATE", ValueKind::kDate},          {"TIMESTAMP", ValueKind::kTimestamp},
      {"TIMESTAMP WITH TIME ZONE", ValueKind::kTimestamp}, {"timestamptz", ValueKind::kTimestamp},
      {"BOOLEAN", ValueKind::kBoolean},    {"BOOL", ValueKind::kBoolean},
      {"BLOB", ValueKind::kOther},         {"UUID", ValueKind::kOther},
      {"INTERVAL", ValueKind::kOther},     {"TIME", ValueKind::kOther},
  };
  for (const auto& c : cases) EXPECT_EQ(value_kind_of_sql_type(c.type), c.kind) << c.type;
}

// ================================================================================================
// make_stat_value / compare_stat_values
// ================================================================================================

struct ValueCase {
  ValueKind kind;
  const char* text;
  std::optional<std::string> canonical;  // nullopt: not a value of this kind
  double number = 0;
};

void expect_values(const std::vector<ValueCase>& cases) {
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string("'") + c.text + "' as kind " + std::to_string(static_cast<int>(c.kind)));
    auto v = make_stat_value(c.kind, c.text);
    ASSERT_EQ(v.has_value(), c.canonical.has_value());
    if (!v) continue;
    EXPECT_EQ(v->text, *c.canonical);
    EXPECT_EQ(v->number, c.number);
  }
}

TEST(StatsValue, NumbersParse) {
  expect_values({
      {ValueKind::kInteger, "42", "42", 42},
      {ValueKind::kInteger, "-7", "-7", -7},
      {ValueKind::kInteger, "0", "0", 0},
      {ValueKind::kInteger, " 12 ", "12", 12},  // trimmed
      {ValueKind::kInteger, "+5", "5", 5},  // canonical decimal text
      {ValueKind::kFloat, "3.5", "3.5", 3.5},
      {ValueKind::kFloat, "-0.25", "-0.25", -0.25},
      {ValueKind::kFloat, "1e3", "1e3", 1000},
      {ValueKind::kDecimal, "929.03", "929.03", 929.03},
      {ValueKind::kDecimal, "-1000.00", "-1000", -1000},
  });
}

TEST(StatsValue, GarbageIsNotANumber) {
  for (ValueKind kind : {ValueKind::kInteger, ValueKind::kFloat, ValueKind::kDecimal}) {
    for (const char* text : {"abc", "", "  ", "12abc", "1,000", "0x10", "1 2", "--1", "1995-01-01"}) {
      EXPECT_FALSE(make_stat_value(kind, text)) << "'" << text << "' as kind " << static_cast<int>(kind);
    }
  }
}

TEST(StatsValue, NumbersCompareNumericallyNotAsText) {
  EXPECT_LT(compare(ValueKind::kDecimal, "929.03", "1000"), 0);  // "929.03" > "1000" as text
  EXPECT_GT(compare(ValueKind::kDecimal, "1000", "929.03"), 0);
  EXPECT_EQ(compare(ValueKind::kDecimal, "1000.00", "1000"), 0);
  EXPECT_LT(compare(ValueKind::kInteger, "9", "10"), 0);
  EXPECT_LT(compare(ValueKind::kInteger, "-5", "3"), 0);
  EXPECT_LT(compare(ValueKind::kInteger, "-10", "-9"), 0);
  EXPECT_EQ(compare(ValueKind::kInteger, "+5", "5"), 0);
  EXPECT_EQ(compare(ValueKind::kFloat, "1e3", "1000"), 0);
  EXPECT_EQ(compare(ValueKind::kFloat, "-0", "0"), 0);
  EXPECT_GT(compare(ValueKind::kFloat, "0.5", "0.25"), 0);
}

TEST(StatsValue, BigIntegersCompareExactly) {
  // 1234567890123456789 and ...790 are the same double; a BIGINT id column holds both.
  EXPECT_GT(compare(ValueKind::kInteger, "1234567890123456790", "1234567890123456789"), 0);
  EXPECT_LT(compare(ValueKind::kInteger, "9007199254740992", "9007199254740993"), 0);  // 2^53, 2^53+1
  EXPECT_LT(compare(ValueKind::kDecimal, "12345678901234567.01", "12345678901234567.02"), 0);
}

TEST(StatsValue, Booleans) {
  expect_values({
      {ValueKind::kBoolean, "true", "true", 1},
      {ValueKind::kBoolean, "t", "true", 1},
      {ValueKind::kBoolean, "1", "true", 1},
      {ValueKind::kBoolean, " TRUE ", "true", 1},
      {ValueKind::kBoolean, "false", "false", 0},
      {ValueKind::kBoolean, "f", "false", 0},
      {ValueKind::kBoolean, "0", "false", 0},
      {ValueKind::kBoolean, "False", "false", 0},
      {ValueKind::kBoolean, "yes", std::nullopt},
      {ValueKind::kBoolean, "2", std::nullopt},
      {ValueKind::kBoolean, "", std::nullopt},
  });
  EXPECT_LT(compare(ValueKind::kBoolean, "false", "true"), 0);
  EXPECT_EQ(compare(ValueKind::kBoolean, "t", "1"), 0);
}

TEST(StatsValue, Dates) {
  expect_values({
      {ValueKind::kDate, "1995-03-15", "1995-03-15"},
      {ValueKind::kDate, " 1995-03-15 ", "1995-03-15"},
      {ValueKind::kDate, "1995-12-31", "1995-12-31"},
      {ValueKind::kDate, "1995-13-01", std::nullopt},
      {ValueKind::kDate, "1995-00-10", std::nullopt},
      {ValueKind::kDate, "1995-01-00", std::nullopt},
      {ValueKind::kDate, "1995-01-32", std::nullopt},
      {ValueKind::kDate, "1995-1-01", std::nullopt},
      {ValueKind::kDate, "95-01-01", std::nullopt},
      {ValueKind::kDate, "1995/01/01", std::nullopt},
      {ValueKind::kDate, "1995-01", std::nullopt},
      {ValueKind::kDate, "", std::nullopt},
      {ValueKind::kDate, "19950101", std::nullopt},
  });
  EXPECT_LT(compare(ValueKind::kDate, "1995-12-31", "1996-01-01"), 0);
  EXPECT_LT(compare(ValueKind::kDate, "1995-02-28", "1995-10-01"), 0);
}

TEST(StatsValue, TimestampLiteralAgainstADateIsTheDateOnlyAtMidnight) {
  expect_values({
      {ValueKind::kDate, "1995-03-15T00:00:00.000Z", "1995-03-15"},
      {ValueKind::kDate, "1995-03-15 00:00:00", "1995-03-15"},
      {ValueKind::kDate, "1995-03-15 12:34:56", std::nullopt},  // d < this holds for 1995-03-15
      {ValueKind::kDate, "1995-03-15 23:59:59.999999", std::nullopt},
  });
}

TEST(StatsValue, TimestampSpellings) {
  expect_values({
      {ValueKind::kTimestamp, "2021-01-01T00:00:00.000Z", "2021-01-01 00:00:00.000000"},  // Delta stats
      {ValueKind::kTimestamp, "2021-01-01 00:00:00", "2021-01-01 00:00:00.000000"},
      {ValueKind::kTimestamp, "2021-01-01", "2021-01-01 00:00:00.000000"},
      {ValueKind::kTimestamp, " 2021-01-01 ", "2021-01-01 00:00:00.000000"},
      {ValueKind::kTimestamp, "2021-01-01 12:34", "2021-01-01 12:34:00.000000"},
      {ValueKind::kTimestamp, "2021-01-01T12:34:56", "2021-01-01 12:34:56.000000"},
      {ValueKind::kTimestamp, "2021-01-01 12:34:56+00:00", "2021-01-01 12:34:56.000000"},
      {ValueKind::kTimestamp, "2021-01-01 12:34:56+00", "2021-01-01 12:34:56.000000"},
      {ValueKind::kTimestamp, "2021-01-01 12:34:56-00:00", "2021-01-01 12:34:56.000000"},
      {ValueKind::kTimestamp, "2021-01-01 12:34:56+0000", "2021-01-01 12:34:56.000000"},
      {ValueKind::kTimestamp, "2021-01-01 12:34:56 UTC", "2021-01-01 12:34:56.000000"},
      {ValueKind::kTimestamp, "2021-01-01 12:34:56.5", "2021-01-01 12:34:56.500000"},  // padded
      {ValueKind::kTimestamp, "2021-01-01 12:34:56.123456", "2021-01-01 12:34:56.123456"},
      {ValueKind::kTimestamp, "2021-01-01 12:34:56.123456789", "2021-01-01 12:34:56.123456"},  // truncated
      {ValueKind::kTimestamp, "2021-01-01T12:34:56.123456789Z", "2021-01-01 12:34:56.123456"},
  });
}

TEST(StatsValue, NonUtcOffsetsAndMalformedTimestampsAreNotValues) {
  expect_values({
      {ValueKind::kTimestamp, "2021-01-01 12:00:00+02:00", std::nullopt},  // not converted
      {ValueKind::kTimestamp, "2021-01-01T12:00:00-05:00", std::nullopt},
      {ValueKind::kTimestamp, "2021-01-01 12:00:00+0100", std::nullopt},
      {ValueKind::kTimestamp, "2021-01-01 12:00:00 Europe/Paris", std::nullopt},
      {ValueKind::kTimestamp, "2021-13-01 00:00:00", std::nullopt},
      {ValueKind::kTimestamp, "2021-01-01X", std::nullopt},
      {ValueKind::kTimestamp, "2021-01-01 1:00:00", std::nullopt},
      {ValueKind::kTimestamp, "2021-01-01 12:3", std::nullopt},
      {ValueKind::kTimestamp, "2021-01-01 12-34", std::nullopt},
      {ValueKind::kTimestamp, "2021-01-01 12:34:5x", std::nullopt},
      {ValueKind::kTimestamp, "garbage", std::nullopt},
      {ValueKind::kTimestamp, "", std::nullopt},
  });
}

TEST(StatsValue, TimestampsCompareChronologicallyWhateverTheSpelling) {
  EXPECT_EQ(compare(ValueKind::kTimestamp, "2021-01-01T00:00:00.000Z", "2021-01-01"), 0);
  EXPECT_EQ(compare(ValueKind::kTimestamp, "2021-01-01 10:00:00.5", "2021-01-01T10:00:00.500000+00:00"), 0);
  EXPECT_LT(compare(ValueKind::kTimestamp, "2021-01-01 09:00", "2021-01-01 10:00"), 0);
  EXPECT_LT(compare(ValueKind::kTimestamp, "2021-01-01 10:00:00", "2021-01-01 10:00:00.000001"), 0);
  EXPECT_LT(compare(ValueKind::kTimestamp, "2020-12-31T23:59:59.999Z", "2021-01-01"), 0);
}

TEST(StatsValue, StringsAreKeptAsIsAndCompareBytewise) {
  expect_values({
      {ValueKind::kString, " a b ", " a b "},  // not trimmed
      {ValueKind::kString, "", ""},
      {ValueKind::kString, "Zürich", "Zürich"},
      {ValueKind::kString, "123", "123"},
  });
  EXPECT_LT(compare(ValueKind::kString, "abc", "abd"), 0);
  EXPECT_LT(compare(ValueKind::kString, "ab", "abc"), 0);
  EXPECT_LT(compare(ValueKind::kString, "", "a"), 0);
  EXPECT_LT(compare(ValueKind::kString, "B", "a"), 0);     // upper case sorts before lower case
  EXPECT_LT(compare(ValueKind::kString, "10", "9"), 0);    // text, not numbers
  EXPECT_GT(compare(ValueKind::kString, "é", "z"), 0);     // UTF-8 bytes 0xC3 0xA9 > 'z'
  EXPECT_GT(compare(ValueKind::kString, "Zürich", "Zurich"), 0);
  EXPECT_GT(compare(ValueKind::kString, "日本", "zzz"), 0);
  EXPECT_EQ(compare(ValueKind::kString, "abc", "abc"), 0);
}

TEST(StatsValue, OtherKindHasNoValues) {
  for (const char* text : {"1", "abc", "", "2021-01-01", "true"}) {
    EXPECT_FALSE(make_stat_value(ValueKind::kOther, text)) << text;
  }
}

TEST(StatsValue, NaNIsNotAnOrdinaryNumber) {
  // Either not a value (nothing pruned on it) or one greater than every number.
  auto nan = make_stat_value(ValueKind::kFloat, "NaN");
  if (nan) {
    EXPECT_GT(compare_stat_values(ValueKind::kFloat, *nan, value(ValueKind::kFloat, "1e308")), 0);
    EXPECT_LT(compare_stat_values(ValueKind::kFloat, value(ValueKind::kFloat, "1"), *nan), 0);
  }
}

// ================================================================================================
// estimate_scan: totals and pruning by min/max bounds
// ================================================================================================

// x: three files holding 10-19, 20-29 and 30-39.
TableStats three_ranges() {
  return TableBuilder()
      .column("x", ValueKind::kInteger)
      .file("a", 100, 10).bounds("x", "10", "19", 0)
      .file("b", 200, 20).bounds("x", "20", "29", 0)
      .file("c", 400, 40).bounds("x", "30", "39", 0)
      .build();
}

TEST(ScanEstimate, NoPredicatesScanEveryFile) {
  const auto stats = three_ranges();
  const auto e = estimate_scan(stats, {});
  EXPECT_EQ(e.files, 3);
  EXPECT_EQ(e.files_total, 3);
  EXPECT_EQ(e.bytes, 700);
  EXPECT_EQ(e.rows, 70);
  EXPECT_TRUE(e.pruned_by.empty());
  EXPECT_FALSE(e.pruned());
}

TEST(ScanEstimate, PrunedFilesLeaveTheirBytesAndRowsOut) {
  const auto stats = three_ranges();
  const std::vector<Predicate> preds = {{"x", Op::kGe, {"20"}}};
  const auto e = estimate_scan(stats, preds);
  EXPECT_EQ(e.files, 2);
  EXPECT_EQ(e.files_total, 3);
  EXPECT_EQ(e.bytes, 600);
  EXPECT_EQ(e.rows, 60);
  EXPECT_TRUE(e.pruned());
  EXPECT_EQ(e.pruned_by, std::vector<std::string>{"x"});
}

TEST(ScanEstimate, EveryFilePrunedLeavesZeroRows) {
  const auto stats = three_ranges();
  const std::vector<Predicate> preds = {{"x", Op::kEq, {"5"}}};
  const auto e = estimate_scan(stats, preds);
  EXPECT_EQ(e.files, 0);
  EXPECT_EQ(e.bytes, 0);
  EXPECT_EQ(e.rows, 0);  // known: nothing is read
  EXPECT_TRUE(e.pruned());
}

TEST(ScanEstimate, EqualityInsideAndOutsideBounds) {
  expect_kept(three_ranges(), {
                                  {{"x", Op::kEq, {"25"}}, "b"},
                                  {{"x", Op::kEq, {"10"}}, "a"},  // the min itself
                                  {{"x", Op::kEq, {"19"}}, "a"},  // the max itself
                                  {{"x", Op::kEq, {"39"}}, "c"},
                                  {{"x", Op::kEq, {"9"}}, "-"},
                                  {{"x", Op::kEq, {"40"}}, "-"},
                                  {{"x", Op::kEq, {"-25"}}, "-"},
                                  {{"x", Op::kEq, {"19.5"}}, "-"},  // between two files
                              });
}

TEST(ScanEstimate, InListKeepsFilesHoldingAnyOfItsValues) {
  expect_kept(three_ranges(), {
                                  {{"x", Op::kIn, {"5", "25", "35"}}, "b,c"},
                                  {{"x", Op::kIn, {"19", "20"}}, "a,b"},
                                  {{"x", Op::kIn, {"1", "2", "45"}}, "-"},
                                  {{"x", Op::kIn, {"12"}}, "a"},
                              });
}

TEST(ScanEstimate, RangeComparisonsAtExactBoundEdges) {
  expect_kept(three_ranges(), {
                                  {{"x", Op::kLt, {"10"}}, "-"},  // x < min prunes
                                  {{"x", Op::kLe, {"10"}}, "a"},  // x <= min keeps
                                  {{"x", Op::kLt, {"20"}}, "a"},
                                  {{"x", Op::kLt, {"21"}}, "a,b"},
                                  {{"x", Op::kLe, {"19"}}, "a"},
                                  {{"x", Op::kGt, {"39"}}, "-"},  // x > max prunes
                                  {{"x", Op::kGe, {"39"}}, "c"},  // x >= max keeps
                                  {{"x", Op::kGt, {"29"}}, "c"},
                                  {{"x", Op::kGt, {"28"}}, "b,c"},
                                  {{"x", Op::kGe, {"20"}}, "b,c"},
                                  {{"x", Op::kLt, {"100"}}, "a,b,c"},
                                  {{"x", Op::kGt, {"-100"}}, "a,b,c"},
                              });
}

TEST(ScanEstimate, BetweenIsInclusiveAtBothEnds) {
  expect_kept(three_ranges(), {
                                  {{"x", Op::kBetween, {"19", "20"}}, "a,b"},
                                  {{"x", Op::kBetween, {"29", "30"}}, "b,c"},
                                  {{"x", Op::kBetween, {"21", "28"}}, "b"},
                                  {{"x", Op::kBetween, {"0", "9"}}, "-"},
                                  {{"x", Op::kBetween, {"40", "50"}}, "-"},
                                  {{"x", Op::kBetween, {"0", "100"}}, "a,b,c"},
                              });
}

TEST(ScanEstimate, PredicatesAreAndedTogether) {
  const auto stats = three_ranges();
  EXPECT_EQ(kept(stats, {{"x", Op::kGe, {"15"}}, {"x", Op::kLt, {"30"}}}), "a,b");
  EXPECT_EQ(kept(stats, {{"x", Op::kGe, {"25"}}, {"x", Op::kLe, {"25"}}}), "b");
  EXPECT_EQ(kept(stats, {{"x", Op::kLt, {"15"}}, {"x", Op::kGt, {"35"}}}), "-");  // contradictory
}

TEST(ScanEstimate, NotEqualPrunesOnlyAFileHoldingJustThatValue) {
  const auto stats = TableBuilder()
                         .column("x", ValueKind::kInteger)
                         .file("five", 1, 1).bounds("x", "5", "5")
                         .file("five_six", 1, 1).bounds("x", "5", "6")
                         .file("four_five", 1, 1).bounds("x", "4", "5")
                         .build();
  expect_kept(stats, {
                         {{"x", Op::kNe, {"5"}}, "five_six,four_five"},
                         {{"x", Op::kNe, {"6"}}, "five,five_six,four_five"},
                         {{"x", Op::kNe, {"5.0"}}, "five_six,four_five"},  // the same number
                     });
}

// s: string ranges around the prefix "abc".
TableStats string_ranges() {
  return TableBuilder()
      .column("s", ValueKind::kString)
      .file("below", 1, 1).bounds("s", "aaa", "abb")       // max < "abc"
      .file("across", 1, 1).bounds("s", "abb", "abd")      // "abc" itself is in range
      .file("inside", 1, 1).bounds("s", "abcde", "abcz")   // every value starts with "abc"
      .file("above", 1, 1).bounds("s", "abd", "abz")       // min > "abc" and does not start with it
      .file("wide", 1, 1).bounds("s", "ab", "b")
      .file("exact", 1, 1).bounds("s", "abc", "abc")
      .build();
}

TEST(ScanEstimate, LikeWithAPrefixKeepsFilesThatMayHoldStringsStartingWithIt) {
  // A file [min, max] may hold "abc..." iff max >= "abc" and (min <= "abc" or min starts with "abc").
  expect_kept(string_ranges(), {
                                   {{"s", Op::kLike, {"abc%"}}, "across,inside,wide,exact"},
                                   {{"s", Op::kLike, {"abc_"}}, "across,inside,wide,exact"},
                                   {{"s", Op::kLike, {"abc%x_y"}}, "across,inside,wide,exact"},
                                   {{"s", Op::kLike, {"abd%"}}, "across,above,wide"},
                                   {{"s", Op::kLike, {"ab%c"}}, "below,across,inside,above,wide,exact"},
                                   {{"s", Op::kLike, {"abcz%"}}, "across,inside,wide"},
                                   {{"s", Op::kLike, {"abcdf%"}}, "across,inside,wide"},
                                   {{"s", Op::kLike, {"zz%"}}, "-"},
                                   {{"s", Op::kLike, {"a%"}}, "below,across,inside,above,wide,exact"},
                               });
}

TEST(ScanEstimate, LikeWithoutALeadingLiteralRulesNothingOut) {
  expect_kept(string_ranges(), {
                                   {{"s", Op::kLike, {"%abc"}}, "below,across,inside,above,wide,exact"},
                                   {{"s", Op::kLike, {"_bc%"}}, "below,across,inside,above,wide,exact"},
                                   {{"s", Op::kLike, {"%"}}, "below,across,inside,above,wide,exact"},
                                   {{"s", Op::kLike, {""}}, "below,across,inside,above,wide,exact"},
                               });
}

TEST(ScanEstimate, LikeWithoutWildcardsIsAnEquality) {
  const auto stats = string_ranges();
  expect_kept(stats, {
                         {{"s", Op::kLike, {"abc"}}, "across,wide,exact"},
                         {{"s", Op::kLike, {"abcz"}}, "across,inside,wide"},
                         {{"s", Op::kLike, {"zzz"}}, "-"},
                     });
  for (const char* literal : {"abc", "abcz", "aab", "zzz"}) {
    EXPECT_EQ(kept(stats, {"s", Op::kLike, {literal}}), kept(stats, {"s", Op::kEq, {literal}})) << literal;
  }
}

TEST(ScanEstimate, LikeOnANonStringColumnRulesNothingOut) {
  EXPECT_EQ(kept(three_ranges(), {"x", Op::kLike, {"5%"}}), "a,b,c");
}

TEST(ScanEstimate, StringsCompareBytewise) {
  // UTF-8 lead bytes (0xC3 for Å, Ö, ü, é) sort after every ASCII byte.
  const auto stats = TableBuilder()
                         .column("s", ValueKind::kString)
                         .file("ascii", 1, 1).bounds("s", "Aachen", "Zurich")
                         .file("utf8", 1, 1).bounds("s", "Ålesund", "Örebro")
                         .build();
  expect_kept(stats, {
                         {{"s", Op::kEq, {"Zurich"}}, "ascii"},
                         {{"s", Op::kEq, {"Zürich"}}, "-"},  // above "Zurich", below "Ålesund"
                         {{"s", Op::kGt, {"Zzz"}}, "utf8"},
                         {{"s", Op::kLt, {"a"}}, "ascii"},
                         {{"s", Op::kGe, {"é"}}, "-"},  // 0xC3 0xA9 > "Örebro" (0xC3 0x96)
                         {{"s", Op::kLike, {"Ö%"}}, "utf8"},
                         {{"s", Op::kLike, {"Z%"}}, "ascii"},
                     });
}

TEST(ScanEstimate, DecimalsAndFloatsCompareAsNumbers) {
  const auto stats = TableBuilder()
                         .column("price", ValueKind::kDecimal)
                         .column("ratio", ValueKind::kFloat)
                         .file("a", 1, 1).bounds("price", "929.03", "1000.00").bounds("ratio", "-0.5", "0.25")
                         .file("b", 1, 1).bounds("price", "99.5", "200").bounds("ratio", "1e-3", "2.5e2")
                         .build();
  expect_kept(stats, {
                         {{"price", Op::kGt, {"999.99"}}, "a"},
                         {{"price", Op::kGt, {"1000"}}, "-"},
                         {{"price", Op::kGe, {"1000"}}, "a"},
                         {{"price", Op::kLt, {"100"}}, "b"},
                         {{"price", Op::kBetween, {"200.00", "929.03"}}, "a,b"},
                         {{"ratio", Op::kLt, {"0"}}, "a"},
                         {{"ratio", Op::kGt, {"100"}}, "b"},
                         {{"ratio", Op::kEq, {"0.001"}}, "a,b"},
                     });
}

TEST(ScanEstimate, Booleans) {
  const auto stats = TableBuilder()
                         .column("flag", ValueKind::kBoolean)
                         .file("all_false", 1, 1).bounds("flag", "false", "false")
                         .file("mixed", 1, 1).bounds("flag", "false", "true")
                         .file("all_true", 1, 1).bounds("flag", "true", "true")
                         .build();
  expect_kept(stats, {
                         {{"flag", Op::kEq, {"true"}}, "mixed,all_true"},
                         {{"flag", Op::kEq, {"f"}}, "all_false,mixed"},
                         {{"flag", Op::kNe, {"true"}}, "all_false,mixed"},
                         {{"flag", Op::kEq, {"maybe"}}, "all_false,mixed,all_true"},  // not a boolean
                     });
}

TEST(ScanEstimate, DatesAndTimestamps) {
  const auto stats = TableBuilder()
                         .column("d", ValueKind::kDate)
                         .column("ts", ValueKind::kTimestamp)
                         .file("jan", 1, 1)
                         .bounds("d", "1995-01-01", "1995-01-31")
                         .bounds("ts", "2021-01-01T00:00:00.000Z", "2021-01-01T23:59:59.999Z")
                         .file("feb", 1, 1)
                         .bounds("d", "1995-02-01", "1995-02-28")
                         .bounds("ts", "2021-01-02T00:00:00.000Z", "2021-01-02T23:59:59.999Z")
                         .build();
  expect_kept(stats, {
                         {{"d", Op::kGe, {"1995-02-01"}}, "feb"},
                         {{"d", Op::kLt, {"1995-02-01"}}, "jan"},
                         {{"d", Op::kBetween, {"1995-01-15", "1995-02-15"}}, "jan,feb"},
                         {{"d", Op::kEq, {"1995-13-01"}}, "jan,feb"},  // not a date: rules nothing out
                         // A time of day other than midnight is not a date value: nothing pruned.
                         {{"d", Op::kGt, {"1995-01-31 12:00:00"}}, "jan,feb"},
                         {{"d", Op::kEq, {"1995-01-31 12:00:00"}}, "jan,feb"},
                         {{"d", Op::kGe, {"1995-02-01 00:00:00"}}, "feb"},  // midnight is the date itself
                         {{"ts", Op::kGe, {"2021-01-02"}}, "feb"},
                         {{"ts", Op::kLt, {"2021-01-02 00:00:00"}}, "jan"},
                         {{"ts", Op::kEq, {"2021-01-01T12:00:00+00:00"}}, "jan"},
                         {{"ts", Op::kGt, {"2021-01-01 23:59:59.999"}}, "feb"},
                         {{"ts", Op::kGt, {"2021-01-01 23:59:59.998"}}, "jan,feb"},
                         {{"ts", Op::kGe, {"2021-01-02 01:00:00+02:00"}}, "jan,feb"},  // offset: not canonical
                     });
}

TEST(ScanEstimate, TimestampLiteralBeforeTheDayDoesNotPruneThatDay) {
  const auto stats = TableBuilder()
                         .column("d", ValueKind::kDate)
                         .file("day", 1, 1).bounds("d", "1995-02-01", "1995-02-01")
                         .build();
  EXPECT_EQ(kept(stats, {"d", Op::kLt, {"1995-02-01 12:00:00"}}), "day");
  EXPECT_EQ(kept(stats, {"d", Op::kNe, {"1995-02-01 12:00:00"}}), "day");
}

TEST(ScanEstimate, NaNLiteralDoesNotPruneEveryFile) {
  const auto stats = TableBuilder()
                         .column("x", ValueKind::kFloat)
                         .file("a", 1, 1).bounds("x", "1.5", "2.5")
                         .file("one", 1, 1).bounds("x", "1", "1")
                         .build();
  EXPECT_EQ(kept(stats, {"x", Op::kLt, {"NaN"}}), "a,one");
  EXPECT_EQ(kept(stats, {"x", Op::kNe, {"NaN"}}), "a,one");
}

TEST(ScanEstimate, BigIntegersDoNotPruneFilesHoldingMatches) {
  const auto stats = TableBuilder()
                         .column("id", ValueKind::kInteger)
                         .file("a", 1, 1).bounds("id", "1234567890123456000", "1234567890123456790")
                         .build();
  EXPECT_EQ(kept(stats, {"id", Op::kGt, {"1234567890123456789"}}), "a");  // 790 > 789
}

TEST(ScanEstimate, DeltaTimestampMaximaAreTruncatedToMilliseconds) {
  testing::TempDir tmp;
  const auto dir = tmp.path() / "t";
  // One file whose ts values reach 10:00:00.123456; its stats say 10:00:00.123.
  testing::write_file(
      dir / "_delta_log/00000000000000000000.json",
      R"({"protocol":{"minReaderVersion":1,"minWriterVersion":2}})" "\n"
      R"({"metaData":{"id":"x","format":{"provider":"parquet"},"partitionColumns":[],)"
      R"("schemaString":"{\"type\":\"struct\",\"fields\":[{\"name\":\"ts\",\"type\":\"timestamp\",)"
      R"(\"nullable\":true,\"metadata\":{}}]}"}})" "\n"
      R"({"add":{"path":"a.parquet","size":10,"partitionValues":{},"stats":"{\"numRecords\":5,)"
      R"(\"minValues\":{\"ts\":\"2024-01-01T09:00:00.000Z\"},\"maxValues\":{\"ts\":\"2024-01-01T10:00:00.123Z\"},)"
      R"(\"nullCount\":{\"ts\":0}}"}})" "\n");
  auto stats = read_table_stats(TableFormat::kDelta, dir.string());
  ASSERT_TRUE(stats.ok()) << stats.error().message;
  ASSERT_EQ(stats->data_files.size(), 1u);
  EXPECT_EQ(kept(*stats, {"ts", Op::kEq, {"2024-01-01 10:00:00.123456"}}), "a.parquet");
  EXPECT_EQ(kept(*stats, {"ts", Op::kGt, {"2024-01-01 10:00:00.123"}}), "a.parquet");
}

// ================================================================================================
// estimate_scan: NULLs
// ================================================================================================

TEST(ScanEstimate, NullCountsDecideIsNullAndIsNotNull) {
  const auto stats = TableBuilder()
                         .column("x", ValueKind::kInteger)
                         .file("no_nulls", 1, 10).bounds("x", "1", "5", 0)
                         .file("unknown_nulls", 1, 10).bounds("x", "1", "5")
                         .file("some_nulls", 1, 10).bounds("x", "1", "5", 3)
                         .file("all_null", 1, 10).nulls("x", 10)
                         .file("all_null_rows_unknown", 1, std::nullopt).nulls("x", 10)
                         .file("no_stats", 1, 10)
                         .build();
  expect_kept(stats, {
                         {{"x", Op::kIsNull, {}}, "unknown_nulls,some_nulls,all_null,all_null_rows_unknown,no_stats"},
                         {{"x", Op::kIsNotNull, {}},
                          "no_nulls,unknown_nulls,some_nulls,all_null_rows_unknown,no_stats"},
                     });
}

TEST(ScanEstimate, ComparisonsNeverMatchAnAllNullFile) {
  const auto stats = TableBuilder()
                         .column("x", ValueKind::kInteger)
                         .file("values", 1, 10).bounds("x", "1", "5", 0)
                         .file("all_null", 1, 10).nulls("x", 10)
                         .build();
  expect_kept(stats, {
                         {{"x", Op::kEq, {"3"}}, "values"},
                         {{"x", Op::kNe, {"3"}}, "values"},
                         {{"x", Op::kGt, {"0"}}, "values"},
                         {{"x", Op::kIn, {"1", "2"}}, "values"},
                         {{"x", Op::kBetween, {"0", "9"}}, "values"},
                         {{"x", Op::kEq, {"7"}}, "-"},
                     });
}

TEST(ScanEstimate, IsDistinctFromMatchesNulls) {
  auto profile = sql::analyze("SELECT * FROM t WHERE x IS DISTINCT FROM 5");
  ASSERT_TRUE(profile.ok()) << profile.error().message;
  ASSERT_EQ(profile->tables.size(), 1u);
  const auto stats = TableBuilder()
                         .column("x", ValueKind::kInteger)
                         .file("fives_and_nulls", 1, 10).bounds("x", "5", "5", 4)
                         .file("all_null", 1, 10).nulls("x", 10)
                         .build();
  EXPECT_EQ(kept(stats, profile->tables[0].predicates), "fives_and_nulls,all_null");
}

// ================================================================================================
// estimate_scan: partitions
// ================================================================================================

// Delta-style: partitioned by the value of region (and year), with no bounds for them.
TableStats by_region() {
  return TableBuilder()
      .column("region", ValueKind::kString)
      .column("year", ValueKind::kInteger)
      .column("x", ValueKind::kInteger)
      .partitioned_by("region", "region")
      .partitioned_by("year", "year")
      .file("eu_2020", 1, 1, {"eu", "2020"})
      .file("eu_2021", 1, 1, {"eu", "2021"})
      .file("us_2021", 1, 1, {"us", "2021"})
      .file("null_2021", 1, 1, {std::nullopt, "2021"})
      .build();
}

TEST(ScanEstimate, IdentityPartitionsPruneByValue) {
  expect_kept(by_region(), {
                               {{"region", Op::kEq, {"eu"}}, "eu_2020,eu_2021"},
                               {{"region", Op::kNe, {"eu"}}, "us_2021"},
                               {{"region", Op::kIn, {"us", "asia"}}, "us_2021"},
                               {{"region", Op::kLike, {"e%"}}, "eu_2020,eu_2021"},
                               {{"region", Op::kGt, {"eu"}}, "us_2021"},
                               {{"year", Op::kGe, {"2021"}}, "eu_2021,us_2021,null_2021"},
                               {{"year", Op::kLt, {"2021"}}, "eu_2020"},
                               {{"year", Op::kEq, {"2021.0"}}, "eu_2021,us_2021,null_2021"},
                               {{"x", Op::kEq, {"1"}}, "eu_2020,eu_2021,us_2021,null_2021"},  // no bounds
                           });
  EXPECT_EQ(kept(by_region(), {{"region", Op::kEq, {"eu"}}, {"year", Op::kEq, {"2021"}}}), "eu_2021");
}

TEST(ScanEstimate, NullPartitionMatchesIsNullOnly) {
  expect_kept(by_region(), {
                               {{"region", Op::kIsNull, {}}, "null_2021"},
                               {{"region", Op::kIsNotNull, {}}, "eu_2020,eu_2021,us_2021"},
                               {{"region", Op::kEq, {"eu"}}, "eu_2020,eu_2021"},  // NULL = 'eu' is not true
                               {{"region", Op::kNe, {"eu"}}, "us_2021"},
                               {{"year", Op::kIsNull, {}}, "-"},
                           });
}

TEST(ScanEstimate, NonIdentityPartitionsDoNotPruneByPartitionValue) {
  // Iceberg: the partition value is bucket(id) or day(ts), not the column's value; only the
  // source column's bounds prune.
  const auto stats = TableBuilder()
                         .column("id", ValueKind::kInteger)
                         .column("ts", ValueKind::kTimestamp)
                         .partitioned_by("id_bucket", "id", "bucket[16]")
                         .partitioned_by("ts_day", "ts", "day")
                         .file("bounded", 1, 1, {"3", "2021-01-01"})
                         .bounds("id", "100", "200")
                         .bounds("ts", "2021-01-01 00:00:00", "2021-01-01 23:00:00")
                         .file("unbounded", 1, 1, {"3", "2021-01-01"})
                         .build();
  expect_kept(stats, {
                         {{"id", Op::kEq, {"150"}}, "bounded,unbounded"},  // 150 is not 3, yet may be here
                         {{"id", Op::kEq, {"3"}}, "unbounded"},            // out of bounded's range
                         {{"ts", Op::kGe, {"2021-01-02"}}, "unbounded"},
                         {{"ts", Op::kEq, {"2021-01-01 12:00:00"}}, "bounded,unbounded"},
                     });
}

TEST(ScanEstimate, PartitionFieldsAreNotColumns) {
  // Predicates name columns: a partition field name that is not a column rules nothing out.
  const auto stats = TableBuilder()
                         .column("ts", ValueKind::kTimestamp)
                         .partitioned_by("ts_day", "ts", "day")
                         .file("a", 1, 1, {"2021-01-01"})
                         .file("b", 1, 1, {"2021-01-02"})
                         .build();
  EXPECT_EQ(kept(stats, {"ts_day", Op::kEq, {"2021-01-01"}}), "a,b");
}

// ================================================================================================
// estimate_scan: what rules nothing out
// ================================================================================================

TEST(ScanEstimate, PredicatesThatRuleNothingOut) {
  const auto stats = three_ranges();
  const std::vector<Case> cases = {
      {{"y", Op::kEq, {"5"}}, "a,b,c"},               // no such column
      {{"X", Op::kEq, {"5"}}, "a,b,c"},               // names are lower-case; "X" is not "x"
      {{"x", Op::kEq, {}}, "a,b,c"},                  // a parameter
      {{"x", Op::kIn, {}}, "a,b,c"},
      {{"x", Op::kBetween, {}}, "a,b,c"},
      {{"x", Op::kLike, {}}, "a,b,c"},
      {{"x", Op::kEq, {"abc"}}, "a,b,c"},             // not an integer
      {{"x", Op::kIn, {"5", "abc"}}, "a,b,c"},        // one value not an integer spoils the list
      {{"x", Op::kBetween, {"5"}}, "a,b,c"},          // malformed
      {{"x", Op::kBetween, {"5", "6", "7"}}, "a,b,c"},
      {{"x", Op::kLt, {""}}, "a,b,c"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(describe(c.predicate));
    const std::vector<Predicate> preds = {c.predicate};
    const auto e = estimate_scan(stats, preds);
    EXPECT_EQ(kept(stats, c.predicate), c.kept);
    EXPECT_TRUE(e.pruned_by.empty());
    EXPECT_FALSE(e.pruned());
  }
}

TEST(ScanEstimate, OtherKindColumnsPruneOnlyOnNulls) {
  const auto stats = TableBuilder()
                         .column("blob", ValueKind::kOther)
                         .file("some", 1, 10).nulls("blob", 0)
                         .file("all_null", 1, 10).nulls("blob", 10)
                         .build();
  expect_kept(stats, {
                         {{"blob", Op::kEq, {"abc"}}, "some,all_null"},
                         {{"blob", Op::kIsNull, {}}, "all_null"},
                         {{"blob", Op::kIsNotNull, {}}, "some"},
                     });
}

TEST(ScanEstimate, FilesWithoutBoundsAreKept) {
  const auto stats = TableBuilder()
                         .column("x", ValueKind::kInteger)
                         .column("y", ValueKind::kInteger)
                         .file("bounded", 1, 1).bounds("x", "1", "5").bounds("y", "1", "5")
                         .file("no_stats", 1, 1)
                         .file("other_column_only", 1, 1).bounds("y", "1", "5")
                         .file("min_only", 1, 1).bounds("x", "1", std::nullopt)
                         .file("max_only", 1, 1).bounds("x", std::nullopt, "5")
                         .build();
  EXPECT_EQ(kept(stats, {"x", Op::kEq, {"100"}}), "no_stats,other_column_only,min_only,max_only");
  EXPECT_EQ(kept(stats, {"x", Op::kLt, {"0"}}), "no_stats,other_column_only,min_only,max_only");
}

// ================================================================================================
// estimate_scan: rows, pruned_by and totals-only stats
// ================================================================================================

TEST(ScanEstimate, RowsAreUnknownWhenAKeptFileHasUnknownRows) {
  const auto stats = TableBuilder()
                         .column("x", ValueKind::kInteger)
                         .file("known", 100, 10).bounds("x", "1", "5")
                         .file("unknown", 200, std::nullopt).bounds("x", "6", "9")
                         .file("known2", 400, 30).bounds("x", "10", "20")
                         .build();
  const std::vector<Predicate> all = {};
  EXPECT_EQ(estimate_scan(stats, all).rows, std::nullopt);
  EXPECT_EQ(estimate_scan(stats, all).bytes, 700);

  const std::vector<Predicate> keeps_unknown = {{"x", Op::kGe, {"6"}}};
  EXPECT_EQ(estimate_scan(stats, keeps_unknown).rows, std::nullopt);
  EXPECT_EQ(estimate_scan(stats, keeps_unknown).bytes, 600);

  const std::vector<Predicate> prunes_unknown = {{"x", Op::kNe, {"7"}}, {"x", Op::kIn, {"3", "15"}}};
  const auto e = estimate_scan(stats, prunes_unknown);
  EXPECT_EQ(e.rows, 40);
  EXPECT_EQ(e.bytes, 500);
  EXPECT_EQ(e.files, 2);
}

TEST(ScanEstimate, PrunedByListsEachPruningColumnOnceInPredicateOrder) {
  const auto stats = TableBuilder()
                         .column("a", ValueKind::kInteger)
                         .column("b", ValueKind::kInteger)
                         .column("c", ValueKind::kInteger)
                         .file("f1", 1, 1).bounds("a", "1", "1").bounds("b", "1", "1").bounds("c", "1", "1")
                         .file("f2", 1, 1).bounds("a", "2", "2").bounds("b", "2", "2").bounds("c", "2", "2")
                         .file("f3", 1, 1).bounds("a", "3", "3").bounds("b", "3", "3").bounds("c", "3", "3")
                         .build();
  struct PrunedByCase {
    std::vector<Predicate> predicates;
    std::vector<std::string> pruned_by;
  };
  const std::vector<PrunedByCase> cases = {
      {{{"c", Op::kNe, {"1"}}, {"a", Op::kNe, {"2"}}}, {"c", "a"}},                    // predicate order
      {{{"b", Op::kGe, {"2"}}, {"b", Op::kLe, {"2"}}}, {"b"}},                         // once per column
      {{{"b", Op::kGe, {"2"}}, {"c", Op::kLt, {"9"}}, {"b", Op::kLe, {"2"}}}, {"b"}},  // c prunes nothing
      {{{"z", Op::kEq, {"1"}}, {"a", Op::kEq, {"3"}}}, {"a"}},                         // unknown column skipped
      {{{"a", Op::kGt, {"0"}}}, {}},
  };
  for (const auto& c : cases) {
    std::string trace;
    for (const auto& p : c.predicates) trace += describe(p) + "; ";
    SCOPED_TRACE(trace);
    EXPECT_EQ(estimate_scan(stats, c.predicates).pruned_by, c.pruned_by);
  }
}

TEST(ScanEstimate, TotalsOnlyStatsAreScannedWhole) {
  TableStats stats;  // e.g. an Iceberg snapshot summary without its manifests
  stats.columns.resize(1);
  stats.columns[0].name = "x";
  stats.columns[0].kind = ValueKind::kInteger;
  stats.rows = 1500;
  stats.bytes = 4096;
  stats.files = 3;
  const std::vector<Predicate> preds = {{"x", Op::kEq, {"1"}}, {"x", Op::kIsNull, {}}};
  for (const auto& p : {std::vector<Predicate>{}, preds}) {
    const auto e = estimate_scan(stats, p);
    EXPECT_EQ(e.rows, 1500);
    EXPECT_EQ(e.bytes, 4096);
    EXPECT_EQ(e.files, 3);
    EXPECT_EQ(e.files_total, 3);
    EXPECT_FALSE(e.pruned());
    EXPECT_TRUE(e.pruned_by.empty());
  }
  stats.rows.reset();
  EXPECT_EQ(estimate_scan(stats, preds).rows, std::nullopt);
}

// ================================================================================================
// TableStats::summarize()
// ================================================================================================

TEST(TableStats, ColumnIndex) {
  const auto stats = TableBuilder().column("a", ValueKind::kInteger).column("b", ValueKind::kString).build();
  EXPECT_EQ(stats.column_index("a"), 0u);
  EXPECT_EQ(stats.column_index("b"), 1u);
  EXPECT_EQ(stats.column_index("c"), std::nullopt);
  EXPECT_EQ(stats.column_index("A"), std::nullopt);
}

TEST(TableStats, SummarizeTotals) {
  auto stats = TableBuilder()
                   .column("x", ValueKind::kInteger)
                   .file("a", 100, 10)
                   .file("b", 200, 20)
                   .build();
  EXPECT_EQ(stats.files, 2);
  EXPECT_EQ(stats.bytes, 300);
  EXPECT_EQ(stats.rows, 30);
  EXPECT_TRUE(stats.partitions.empty());  // not partitioned

  stats.data_files.emplace_back().bytes = 50;  // rows unknown
  stats.summarize();
  EXPECT_EQ(stats.files, 3);
  EXPECT_EQ(stats.bytes, 350);
  EXPECT_EQ(stats.rows, std::nullopt);
}

TEST(TableStats, SummarizeWithoutFiles) {
  const auto stats = TableBuilder().column("x", ValueKind::kInteger).partitioned_by("x", "x").build();
  EXPECT_EQ(stats.files, 0);
  EXPECT_EQ(stats.bytes, 0);
  EXPECT_EQ(stats.rows, 0);
  EXPECT_TRUE(stats.partitions.empty());
  EXPECT_TRUE(stats.column_bounds.empty());
}

TEST(TableStats, SummarizePartitions) {
  const auto stats = TableBuilder()
                         .column("region", ValueKind::kString)
                         .column("year", ValueKind::kInteger)
                         .partitioned_by("region", "region")
                         .partitioned_by("year", "year")
                         .file("us1", 10, 1, {"us", "2021"})
                         .file("eu1", 20, 2, {"eu", "2021"})
                         .file("eu2", 40, 4, {"eu", "2021"})
                         .file("eu3", 80, std::nullopt, {"eu", "2020"})
                         .file("null", 160, 16, {std::nullopt, "2021"})
                         .build();
  ASSERT_EQ(stats.partitions.size(), 4u);
  using Values = std::vector<std::optional<std::string>>;
  // Sorted by values, NULL first.
  EXPECT_EQ(stats.partitions[0].values, (Values{std::nullopt, "2021"}));
  EXPECT_EQ(stats.partitions[0].files, 1);
  EXPECT_EQ(stats.partitions[0].bytes, 160);
  EXPECT_EQ(stats.partitions[0].rows, 16);

  EXPECT_EQ(stats.partitions[1].values, (Values{"eu", "2020"}));
  EXPECT_EQ(stats.partitions[1].files, 1);
  EXPECT_EQ(stats.partitions[1].bytes, 80);
  EXPECT_EQ(stats.partitions[1].rows, std::nullopt);  // its one file's rows are unknown

  EXPECT_EQ(stats.partitions[2].values, (Values{"eu", "2021"}));
  EXPECT_EQ(stats.partitions[2].files, 2);
  EXPECT_EQ(stats.partitions[2].bytes, 60);
  EXPECT_EQ(stats.partitions[2].rows, 6);

  EXPECT_EQ(stats.partitions[3].values, (Values{"us", "2021"}));
  EXPECT_EQ(stats.partitions[3].files, 1);
  EXPECT_EQ(stats.partitions[3].bytes, 10);
  EXPECT_EQ(stats.partitions[3].rows, 1);

  EXPECT_EQ(stats.files, 5);
  EXPECT_EQ(stats.bytes, 310);
  EXPECT_EQ(stats.rows, std::nullopt);
}

TEST(TableStats, TableWideBoundsOnlyWhenEveryFileHasThem) {
  const auto stats = TableBuilder()
                         .column("x", ValueKind::kInteger)    // bounds in every file
                         .column("y", ValueKind::kInteger)    // missing in the second file
                         .column("z", ValueKind::kInteger)    // a min without a max in the second file
                         .column("s", ValueKind::kString)
                         .column("none", ValueKind::kInteger)
                         .file("a", 1, 1).bounds("x", "9", "12").bounds("y", "1", "2").bounds("z", "1", "2")
                         .bounds("s", "12", "9")
                         .file("b", 1, 1).bounds("x", "-3", "10").bounds("z", "0", std::nullopt)
                         .bounds("s", "10", "80")
                         .build();
  ASSERT_EQ(stats.column_bounds.size(), 2u);  // x and s; y, z and none have neither bounds nor null counts
  const auto& x = stats.column_bounds[0];
  EXPECT_EQ(x.column, 0u);
  ASSERT_TRUE(x.min && x.max);
  EXPECT_EQ(x.min->text, "-3");  // compared as numbers
  EXPECT_EQ(x.max->text, "12");
  EXPECT_EQ(x.null_count, std::nullopt);
  const auto& s = stats.column_bounds[1];
  EXPECT_EQ(s.column, 3u);
  ASSERT_TRUE(s.min && s.max);
  EXPECT_EQ(s.min->text, "10");  // compared as text
  EXPECT_EQ(s.max->text, "9");
}

TEST(TableStats, NullCountsAreSummedWhenEveryFileHasOne) {
  const auto stats = TableBuilder()
                         .column("x", ValueKind::kInteger)
                         .column("y", ValueKind::kInteger)
                         .file("a", 1, 10).bounds("x", "1", "2", 3).nulls("y", 1)
                         .file("b", 1, 10).nulls("x", 4).bounds("y", "5", "6")
                         .file("c", 1, 10).bounds("x", "3", "4", 0).nulls("y", 2)
                         .build();
  ASSERT_EQ(stats.column_bounds.size(), 1u);  // y: one file lacks its null count, none has all bounds
  const auto& x = stats.column_bounds[0];
  EXPECT_EQ(x.column, 0u);
  EXPECT_EQ(x.null_count, 7);
  EXPECT_FALSE(x.min);  // file b has no min/max for x
  EXPECT_FALSE(x.max);
}

TEST(TableStats, SummarizeSortsEachFilesBoundsForLookup) {
  TableBuilder builder;
  builder.column("a", ValueKind::kInteger).column("b", ValueKind::kInteger).column("c", ValueKind::kInteger);
  builder.file("f", 1, 1).bounds("c", "7", "7").bounds("a", "1", "1").bounds("b", "4", "4");
  const auto stats = builder.build();
  const auto& bounds = stats.data_files[0].bounds;
  ASSERT_EQ(bounds.size(), 3u);
  EXPECT_EQ(bounds[0].column, 0u);
  EXPECT_EQ(bounds[1].column, 1u);
  EXPECT_EQ(bounds[2].column, 2u);
  // estimate_scan finds every column's bounds.
  EXPECT_EQ(kept(stats, {"a", Op::kEq, {"2"}}), "-");
  EXPECT_EQ(kept(stats, {"b", Op::kEq, {"5"}}), "-");
  EXPECT_EQ(kept(stats, {"c", Op::kEq, {"7"}}), "f");
}

TEST(TableStats, SummarizeAgainGivesTheSameResult) {
  auto stats = TableBuilder()
                   .column("region", ValueKind::kString)
                   .column("x", ValueKind::kInteger)
                   .partitioned_by("region", "region")
                   .file("a", 10, 1, {"eu"}).bounds("x", "1", "2", 0)
                   .file("b", 20, 2, {"us"}).bounds("x", "3", "4", 1)
                   .build();
  const auto partitions = stats.partitions.size();
  const auto bounds = stats.column_bounds.size();
  stats.summarize();
  EXPECT_EQ(stats.partitions.size(), partitions);
  EXPECT_EQ(stats.column_bounds.size(), bounds);
  EXPECT_EQ(stats.files, 2);
  EXPECT_EQ(stats.bytes, 30);
  EXPECT_EQ(stats.rows, 3);
  ASSERT_EQ(stats.column_bounds.size(), 1u);
  EXPECT_EQ(stats.column_bounds[0].null_count, 1);
}

}  // namespace
}  // namespace lakerouter
