// MetadataDb: DuckDB's Parquet and Avro readers put to work on metadata — Parquet footers
// (parquet_metadata(), which reads only the footer), Delta checkpoints (small Parquet files of log
// actions), and Iceberg manifest lists and manifests (Avro).
#include <map>

#include <fmt/format.h>

#include "catalog/stats_value.h"
#include "catalog/table_metadata.h"
#include "duckdb.hpp"

namespace lakerouter::catalog_internal {

namespace {

std::string sql_string_list(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ", ";
    out += duckdb::KeywordHelper::WriteQuoted(items[i], '\'');
  }
  return out + "]";
}

// A child of a STRUCT value by name, or a NULL value when the struct has no such field (Iceberg
// v1 manifests lack fields that v2 has).
duckdb::Value struct_field(const duckdb::Value& value, const std::string& name) {
  if (value.IsNull() || value.type().id() != duckdb::LogicalTypeId::STRUCT) return duckdb::Value();
  const auto& types = duckdb::StructType::GetChildTypes(value.type());
  const auto& children = duckdb::StructValue::GetChildren(value);
  for (size_t i = 0; i < types.size(); ++i) {
    if (types[i].first == name) return children[i];
  }
  return duckdb::Value();
}

// A MAP(INTEGER, T) value as (key, value) pairs.
template <typename T, typename Convert>
std::vector<std::pair<int, T>> map_entries(const duckdb::Value& map, Convert convert) {
  std::vector<std::pair<int, T>> out;
  if (map.IsNull() || map.type().id() != duckdb::LogicalTypeId::MAP) return out;
  for (const auto& entry : duckdb::ListValue::GetChildren(map)) {
    const auto& kv = duckdb::StructValue::GetChildren(entry);
    if (kv.size() != 2 || kv[0].IsNull() || kv[1].IsNull()) continue;
    out.emplace_back(kv[0].GetValue<int32_t>(), convert(kv[1]));
  }
  return out;
}

}  // namespace

struct MetadataDb::Impl {
  duckdb::DuckDB db;
  duckdb::Connection conn;

  explicit Impl(duckdb::DBConfig& config) : db(nullptr, &config), conn(db) {}

  Result<duckdb::unique_ptr<duckdb::MaterializedQueryResult>> query(const std::string& sql, std::string_view what) {
    auto result = conn.Query(sql);
    if (result->HasError()) return Error(ErrorCode::kIoError, fmt::format("cannot read {}: {}", what, result->GetError()));
    return result;
  }
};

MetadataDb::MetadataDb(std::string extension_directory) : extension_directory_(std::move(extension_directory)) {}
MetadataDb::~MetadataDb() = default;

Status MetadataDb::open() {
  if (impl_) return Status::Ok();
  try {
    duckdb::DBConfig config;
    config.SetOptionByName("threads", duckdb::Value::BIGINT(1));  // metadata is small; stay out of the way
    if (!extension_directory_.empty()) {
      config.SetOptionByName("extension_directory", duckdb::Value(extension_directory_));
    }
    config.SetOptionByName("autoinstall_known_extensions", duckdb::Value::BOOLEAN(false));
    impl_ = std::make_unique<Impl>(config);
  } catch (const std::exception& e) {
    return Error(ErrorCode::kInternal, fmt::format("cannot open DuckDB for metadata: {}", duckdb::ErrorData(e).Message()));
  }
  return Status::Ok();
}

Result<std::vector<std::string>> MetadataDb::delta_checkpoint_actions(const std::vector<std::string>& parts) {
  LR_TRY(open());
  auto result = impl_->query(
      fmt::format("SELECT to_json(t)::VARCHAR FROM read_parquet({}, union_by_name = true) t", sql_string_list(parts)),
      "Delta checkpoint");
  if (!result.ok()) return result.error();
  std::vector<std::string> rows;
  rows.reserve((*result)->RowCount());
  for (idx_t row = 0; row < (*result)->RowCount(); ++row) rows.push_back((*result)->GetValue(0, row).ToString());
  return rows;
}

Result<ParquetFooters> MetadataDb::parquet_footers(const std::vector<std::string>& files) {
  ParquetFooters out;
  if (files.empty()) return out;
  LR_TRY(open());
  const std::string list = sql_string_list(files);
  auto schema = impl_->query(fmt::format("DESCRIBE SELECT * FROM read_parquet({}, union_by_name = true)", list),
                             "Parquet schema");
  if (!schema.ok()) return schema.error();
  std::map<std::string, size_t> by_name;
  for (idx_t row = 0; row < (*schema)->RowCount(); ++row) {
    TableColumn c;
    c.name = duckdb::StringUtil::Lower((*schema)->GetValue(0, row).ToString());
    c.type = (*schema)->GetValue(1, row).ToString();
    c.kind = value_kind_of_sql_type(c.type);
    by_name[c.name] = out.columns.size();
    out.columns.push_back(std::move(c));
  }
  // One row per file, row group and column chunk; stats already rendered as text by DuckDB.
  auto chunks = impl_->query(
      fmt::format("SELECT file_name, row_group_id, row_group_num_rows, path_in_schema, stats_min_value, "
                  "stats_max_value, stats_null_count FROM parquet_metadata({}) ORDER BY file_name, row_group_id",
                  list),
      "Parquet footers");
  if (!chunks.ok()) return chunks.error();
  auto& r = **chunks;
  std::map<std::string, ParquetFooter> by_file;
  std::map<std::pair<std::string, int64_t>, bool> counted_row_groups;
  for (idx_t row = 0; row < r.RowCount(); ++row) {
    const std::string file = r.GetValue(0, row).ToString();
    auto& footer = by_file[file];
    footer.path = file;
    const int64_t row_group = r.GetValue(1, row).GetValue<int64_t>();
    if (!counted_row_groups[{file, row_group}]) {
      counted_row_groups[{file, row_group}] = true;
      footer.rows += r.GetValue(2, row).GetValue<int64_t>();
    }
    auto column = by_name.find(duckdb::StringUtil::Lower(r.GetValue(3, row).ToString()));
    if (column == by_name.end()) continue;  // nested fields are not tracked
    const ValueKind kind = out.columns[column->second].kind;
    const auto min_value = r.GetValue(4, row), max_value = r.GetValue(5, row), nulls = r.GetValue(6, row);
    ColumnBounds* b = nullptr;
    for (auto& existing : footer.bounds) {
      if (existing.column == column->second) b = &existing;
    }
    std::optional<StatValue> min, max;
    if (!min_value.IsNull()) min = make_stat_value(kind, min_value.ToString());
    if (!max_value.IsNull()) max = make_stat_value(kind, max_value.ToString());
    std::optional<int64_t> null_count;
    if (!nulls.IsNull()) null_count = nulls.GetValue<int64_t>();
    if (!b) {  // first row group
      footer.bounds.push_back(ColumnBounds{column->second, min, max, null_count});
      continue;
    }
    // Later row groups widen the bounds; a row group without them leaves the file without them.
    b->min = (b->min && min) ? (compare_stat_values(kind, *min, *b->min) < 0 ? min : b->min) : std::nullopt;
    b->max = (b->max && max) ? (compare_stat_values(kind, *max, *b->max) > 0 ? max : b->max) : std::nullopt;
    b->null_count = (b->null_count && null_count) ? std::optional(*b->null_count + *null_count) : std::nullopt;
  }
  for (auto& [path, footer] : by_file) out.files.push_back(std::move(footer));
  return out;
}

Result<std::vector<IcebergDataFile>> MetadataDb::iceberg_data_files(const std::string& manifest_list) {
  LR_TRY(open());
  if (!avro_loaded_) {
    auto loaded = impl_->query("LOAD avro", "the avro extension (run scripts/bootstrap.sh)");
    if (!loaded.ok()) return loaded.error();
    avro_loaded_ = true;
  }
  auto list = impl_->query(fmt::format("SELECT * FROM read_avro({})", duckdb::KeywordHelper::WriteQuoted(manifest_list, '\'')),
                           "Iceberg manifest list");
  if (!list.ok()) return list.error();
  std::vector<std::string> manifests;
  auto& l = **list;
  for (idx_t col = 0; col < l.ColumnCount(); ++col) {
    if (l.ColumnName(col) != "manifest_path") continue;
    for (idx_t row = 0; row < l.RowCount(); ++row) {
      std::string path = l.GetValue(col, row).ToString();
      if (path.starts_with("file://")) path = path.substr(7);
      manifests.push_back(std::move(path));
    }
  }
  std::vector<IcebergDataFile> files;
  for (const auto& manifest : manifests) {
    auto entries = impl_->query(fmt::format("SELECT status, data_file, to_json(data_file.partition)::VARCHAR FROM read_avro({})",
                                            duckdb::KeywordHelper::WriteQuoted(manifest, '\'')),
                                "Iceberg manifest");
    if (!entries.ok()) return entries.error();
    auto& e = **entries;
    for (idx_t row = 0; row < e.RowCount(); ++row) {
      const auto status = e.GetValue(0, row);
      if (!status.IsNull() && status.GetValue<int32_t>() == 2) continue;  // DELETED entry
      const auto data_file = e.GetValue(1, row);
      IcebergDataFile f;
      f.path = struct_field(data_file, "file_path").ToString();
      if (f.path.starts_with("file://")) f.path = f.path.substr(7);
      const auto content = struct_field(data_file, "content");
      f.content = content.IsNull() ? 0 : content.GetValue<int32_t>();
      const auto rows = struct_field(data_file, "record_count");
      f.rows = rows.IsNull() ? 0 : rows.GetValue<int64_t>();
      const auto bytes = struct_field(data_file, "file_size_in_bytes");
      f.bytes = bytes.IsNull() ? 0 : bytes.GetValue<int64_t>();
      // The partition tuple as JSON rendered by DuckDB, so that dates and decimals keep their text.
      if (const auto partition = e.GetValue(2, row); !partition.IsNull()) f.partition_json = partition.ToString();
      auto blob = [](const duckdb::Value& v) { return duckdb::StringValue::Get(v); };
      f.lower_bounds = map_entries<std::string>(struct_field(data_file, "lower_bounds"), blob);
      f.upper_bounds = map_entries<std::string>(struct_field(data_file, "upper_bounds"), blob);
      f.null_counts = map_entries<int64_t>(struct_field(data_file, "null_value_counts"),
                                           [](const duckdb::Value& v) { return v.GetValue<int64_t>(); });
      files.push_back(std::move(f));
    }
  }
  return files;
}

}  // namespace lakerouter::catalog_internal
