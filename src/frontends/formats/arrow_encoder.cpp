// Arrow IPC stream and Parquet encoders. Both convert each ResultBatch into one arrow::RecordBatch
// (types below) and hand it to the Arrow C++ writers, which write into a StringSink whose bytes
// the HTTP stream takes. Arrow and Parquet exceptions and Status never leave this file: they turn
// into Errors.
//
// Types: BOOLEAN bool; TINYINT..BIGINT int8..int64; HUGEINT decimal128(38,0) (UBIGINT uint64);
// DECIMAL(p,s) decimal128(p,s); REAL float32; DOUBLE float64; VARCHAR utf8; BLOB binary; DATE
// date32; TIME time64(us); TIMESTAMP timestamp(us); TIMESTAMPTZ timestamp(us, "UTC"); INTERVAL,
// UUID, nested (JSON text) and other types utf8. Every field carries the metadata
// "lakerouter.sql_type" = the engine's type name; the schema carries lakerouter.query_id,
// lakerouter.engine and lakerouter.routing (JSON).
//
// Parquet: row groups of `row_group_rows` rows (buffered row groups: a row group's encoded
// column chunks stay in memory until it is complete, then go out; the footer at the end). Snappy
// compression when the library has it; the Arrow schema is stored so readers get the exact types.
#include <arrow/api.h>
#include <arrow/io/interfaces.h>
#include <arrow/ipc/writer.h>
#include <arrow/util/compression.h>
#include <arrow/util/key_value_metadata.h>
#include <fmt/format.h>
#include <parquet/arrow/writer.h>
#include <parquet/exception.h>
#include <parquet/properties.h>

#include "frontends/formats/encoders.h"

namespace lakerouter::formats {

namespace {

// Results stream for minutes; the system allocator hands each batch's memory back, whereas
// Arrow's default pool (jemalloc or mimalloc in the wheel's build) keeps freed pages around,
// which shows up as resident memory growing with the result.
arrow::MemoryPool* result_memory_pool() { return arrow::system_memory_pool(); }

// An arrow::io::OutputStream that collects bytes until the HTTP stream takes them.
class StringSink final : public arrow::io::OutputStream {
 public:
  arrow::Status Close() override {
    closed_ = true;
    return arrow::Status::OK();
  }
  bool closed() const override { return closed_; }
  arrow::Result<int64_t> Tell() const override { return position_; }
  arrow::Status Write(const void* data, int64_t nbytes) override {
    if (closed_) return arrow::Status::IOError("write to a closed result stream");
    bytes_.append(static_cast<const char*>(data), static_cast<size_t>(nbytes));
    position_ += nbytes;
    return arrow::Status::OK();
  }

  size_t pending() const { return bytes_.size(); }
  std::string take() { return std::exchange(bytes_, {}); }

 private:
  std::string bytes_;
  int64_t position_ = 0;
  bool closed_ = false;
};

Error arrow_error(const arrow::Status& status, std::string_view what) {
  return Error(ErrorCode::kInternal, fmt::format("{}: {}", what, status.ToString()));
}

std::shared_ptr<arrow::DataType> arrow_type(const ColumnType& type) {
  switch (type.id) {
    case TypeId::kNull: return arrow::null();
    case TypeId::kBoolean: return arrow::boolean();
    case TypeId::kTinyInt: return arrow::int8();
    case TypeId::kSmallInt: return arrow::int16();
    case TypeId::kInteger: return arrow::int32();
    case TypeId::kBigInt: return arrow::int64();
    case TypeId::kHugeInt: return type.sql_name == "UBIGINT" ? arrow::uint64() : arrow::decimal128(38, 0);
    case TypeId::kFloat: return arrow::float32();
    case TypeId::kDouble: return arrow::float64();
    case TypeId::kDecimal: {
      const int precision = type.precision == 0 ? 38 : std::min<int>(type.precision, 38);
      return arrow::decimal128(precision, std::min<int>(type.scale, precision));
    }
    case TypeId::kBlob: return arrow::binary();
    case TypeId::kDate: return arrow::date32();
    case TypeId::kTime: return arrow::time64(arrow::TimeUnit::MICRO);
    case TypeId::kTimestamp: return arrow::timestamp(arrow::TimeUnit::MICRO);
    case TypeId::kTimestampTz: return arrow::timestamp(arrow::TimeUnit::MICRO, "UTC");
    case TypeId::kVarchar:
    case TypeId::kInterval:
    case TypeId::kUuid:
    case TypeId::kJson:
    case TypeId::kOther: return arrow::utf8();
  }
  return arrow::utf8();
}

std::shared_ptr<arrow::Schema> arrow_schema(const ResultSchema& schema, const ResultMetadata& metadata) {
  arrow::FieldVector fields;
  fields.reserve(schema.size());
  for (const auto& col : schema) {
    auto field_metadata = arrow::key_value_metadata({"lakerouter.sql_type"}, {col.type.sql_name});
    fields.push_back(arrow::field(col.name, arrow_type(col.type), /*nullable=*/true, field_metadata));
  }
  auto schema_metadata = arrow::key_value_metadata(
      {"lakerouter.query_id", "lakerouter.engine", "lakerouter.routing"},
      {metadata.query_id, metadata.engine, metadata.routing_json});
  return arrow::schema(std::move(fields), schema_metadata);
}

// Appends a column's values with a typed builder; `get` reads one value of a non-null row.
template <typename Builder, typename Get>
arrow::Status append_all(Builder& builder, const ColumnData& col, Get get) {
  const size_t rows = col.size();
  ARROW_RETURN_NOT_OK(builder.Reserve(static_cast<int64_t>(rows)));
  for (size_t r = 0; r < rows; ++r) {
    if (col.is_null(r)) {
      builder.UnsafeAppendNull();
    } else {
      builder.UnsafeAppend(get(r));
    }
  }
  return arrow::Status::OK();
}

template <typename Builder>
arrow::Status append_strings(Builder& builder, const ColumnData& col) {
  const size_t rows = col.size();
  ARROW_RETURN_NOT_OK(builder.Reserve(static_cast<int64_t>(rows)));
  int64_t bytes = 0;
  for (size_t r = 0; r < rows; ++r) {
    if (!col.is_null(r)) bytes += static_cast<int64_t>(col.string_at(r).size());
  }
  ARROW_RETURN_NOT_OK(builder.ReserveData(bytes));
  for (size_t r = 0; r < rows; ++r) {
    if (col.is_null(r)) {
      builder.UnsafeAppendNull();
    } else {
      builder.UnsafeAppend(col.string_at(r));
    }
  }
  return arrow::Status::OK();
}

arrow::Result<std::shared_ptr<arrow::Array>> to_array(const ColumnData& col, const std::shared_ptr<arrow::DataType>& type) {
  auto* pool = result_memory_pool();
  std::shared_ptr<arrow::Array> out;
  auto i64 = [&](size_t r) { return col.int64_at(r); };
  switch (type->id()) {
    case arrow::Type::NA: {
      arrow::NullBuilder b(pool);
      ARROW_RETURN_NOT_OK(b.AppendNulls(static_cast<int64_t>(col.size())));
      ARROW_RETURN_NOT_OK(b.Finish(&out));
      return out;
    }
    case arrow::Type::BOOL: {
      arrow::BooleanBuilder b(pool);
      ARROW_RETURN_NOT_OK(append_all(b, col, [&](size_t r) { return col.int64_at(r) != 0; }));
      ARROW_RETURN_NOT_OK(b.Finish(&out));
      return out;
    }
#define LR_INT_CASE(ARROW_ID, BUILDER, CTYPE)                                                          \
  case arrow::Type::ARROW_ID: {                                                                       \
    arrow::BUILDER b(pool);                                                                           \
    ARROW_RETURN_NOT_OK(append_all(b, col, [&](size_t r) { return static_cast<CTYPE>(col.int64_at(r)); })); \
    ARROW_RETURN_NOT_OK(b.Finish(&out));                                                              \
    return out;                                                                                       \
  }
      LR_INT_CASE(INT8, Int8Builder, int8_t)
      LR_INT_CASE(INT16, Int16Builder, int16_t)
      LR_INT_CASE(INT32, Int32Builder, int32_t)
      LR_INT_CASE(DATE32, Date32Builder, int32_t)
#undef LR_INT_CASE
    case arrow::Type::INT64: {
      arrow::Int64Builder b(pool);
      ARROW_RETURN_NOT_OK(append_all(b, col, i64));
      ARROW_RETURN_NOT_OK(b.Finish(&out));
      return out;
    }
    case arrow::Type::UINT64: {
      arrow::UInt64Builder b(pool);
      ARROW_RETURN_NOT_OK(append_all(b, col, [&](size_t r) { return static_cast<uint64_t>(col.int128_at(r)); }));
      ARROW_RETURN_NOT_OK(b.Finish(&out));
      return out;
    }
    case arrow::Type::TIME64: {
      arrow::Time64Builder b(type, pool);
      ARROW_RETURN_NOT_OK(append_all(b, col, i64));
      ARROW_RETURN_NOT_OK(b.Finish(&out));
      return out;
    }
    case arrow::Type::TIMESTAMP: {
      arrow::TimestampBuilder b(type, pool);
      ARROW_RETURN_NOT_OK(append_all(b, col, i64));
      ARROW_RETURN_NOT_OK(b.Finish(&out));
      return out;
    }
    case arrow::Type::FLOAT: {
      arrow::FloatBuilder b(pool);
      ARROW_RETURN_NOT_OK(append_all(b, col, [&](size_t r) { return static_cast<float>(col.double_at(r)); }));
      ARROW_RETURN_NOT_OK(b.Finish(&out));
      return out;
    }
    case arrow::Type::DOUBLE: {
      arrow::DoubleBuilder b(pool);
      ARROW_RETURN_NOT_OK(append_all(b, col, [&](size_t r) { return col.double_at(r); }));
      ARROW_RETURN_NOT_OK(b.Finish(&out));
      return out;
    }
    case arrow::Type::DECIMAL128: {
      arrow::Decimal128Builder b(type, pool);
      ARROW_RETURN_NOT_OK(append_all(b, col, [&](size_t r) {
        const auto v = static_cast<unsigned __int128>(col.int128_at(r));
        return arrow::Decimal128(static_cast<int64_t>(v >> 64), static_cast<uint64_t>(v));
      }));
      ARROW_RETURN_NOT_OK(b.Finish(&out));
      return out;
    }
    case arrow::Type::BINARY: {
      arrow::BinaryBuilder b(pool);
      ARROW_RETURN_NOT_OK(append_strings(b, col));
      ARROW_RETURN_NOT_OK(b.Finish(&out));
      return out;
    }
    default: {
      arrow::StringBuilder b(pool);
      ARROW_RETURN_NOT_OK(append_strings(b, col));
      ARROW_RETURN_NOT_OK(b.Finish(&out));
      return out;
    }
  }
}

arrow::Result<std::shared_ptr<arrow::RecordBatch>> to_record_batch(const std::shared_ptr<arrow::Schema>& schema,
                                                                   const ResultBatch& batch) {
  arrow::ArrayVector arrays;
  arrays.reserve(batch.column_count());
  for (size_t c = 0; c < batch.column_count(); ++c) {
    ARROW_ASSIGN_OR_RAISE(auto array, to_array(batch.column(c), schema->field(static_cast<int>(c))->type()));
    arrays.push_back(std::move(array));
  }
  return arrow::RecordBatch::Make(schema, static_cast<int64_t>(batch.row_count()), std::move(arrays));
}

class ArrowStreamEncoder final : public ResultEncoder {
 public:
  Status begin(const ResultSchema& schema, const ResultMetadata& metadata) override {
    schema_ = arrow_schema(schema, metadata);
    auto writer = arrow::ipc::MakeStreamWriter(sink_, schema_);
    if (!writer.ok()) return arrow_error(writer.status(), "cannot start the Arrow IPC stream");
    writer_ = std::move(*writer);
    return Status::Ok();
  }

  Status add_batch(const ResultBatch& batch) override {
    if (batch.row_count() == 0) return Status::Ok();
    auto record_batch = to_record_batch(schema_, batch);
    if (!record_batch.ok()) return arrow_error(record_batch.status(), "cannot convert rows to Arrow");
    if (auto st = writer_->WriteRecordBatch(**record_batch); !st.ok()) return arrow_error(st, "Arrow IPC write failed");
    return Status::Ok();
  }

  Status finish(int64_t /*row_count*/, double /*elapsed_ms*/) override {
    if (auto st = writer_->Close(); !st.ok()) return arrow_error(st, "Arrow IPC end of stream failed");
    return Status::Ok();
  }

  // The IPC stream has no error message; a truncated transfer (no end-of-stream marker, no final
  // chunk) is what readers notice.
  bool finish_with_error(int64_t /*row_count*/, const Error& /*error*/) override { return false; }
  size_t pending_bytes() const override { return sink_->pending(); }
  std::string take() override { return sink_->take(); }

 private:
  std::shared_ptr<StringSink> sink_ = std::make_shared<StringSink>();
  std::shared_ptr<arrow::Schema> schema_;
  std::shared_ptr<arrow::ipc::RecordBatchWriter> writer_;
};

class ParquetEncoder final : public ResultEncoder {
 public:
  explicit ParquetEncoder(int64_t row_group_rows) : row_group_rows_(std::max<int64_t>(row_group_rows, 1)) {}

  Status begin(const ResultSchema& schema, const ResultMetadata& metadata) override {
    schema_ = arrow_schema(schema, metadata);
    parquet::WriterProperties::Builder props;
    props.max_row_group_length(row_group_rows_);
    props.memory_pool(result_memory_pool());
    if (arrow::util::Codec::IsAvailable(arrow::Compression::SNAPPY)) props.compression(arrow::Compression::SNAPPY);
    parquet::ArrowWriterProperties::Builder arrow_props;
    arrow_props.store_schema();  // timestamps keep their time zone, utf8 vs binary, metadata
    try {
      auto writer = parquet::arrow::FileWriter::Open(*schema_, result_memory_pool(), sink_, props.build(),
                                                     arrow_props.build());
      if (!writer.ok()) return arrow_error(writer.status(), "cannot start the Parquet file");
      writer_ = std::move(*writer);
    } catch (const parquet::ParquetException& e) {
      return Error(ErrorCode::kInternal, fmt::format("cannot start the Parquet file: {}", e.what()));
    }
    return Status::Ok();
  }

  Status add_batch(const ResultBatch& batch) override {
    if (batch.row_count() == 0) return Status::Ok();
    auto record_batch = to_record_batch(schema_, batch);
    if (!record_batch.ok()) return arrow_error(record_batch.status(), "cannot convert rows to Arrow");
    try {
      // Starts a new row group (flushing the full one to the sink) past max_row_group_length.
      if (auto st = writer_->WriteRecordBatch(**record_batch); !st.ok()) return arrow_error(st, "Parquet write failed");
    } catch (const parquet::ParquetException& e) {
      return Error(ErrorCode::kInternal, fmt::format("Parquet write failed: {}", e.what()));
    }
    return Status::Ok();
  }

  Status finish(int64_t /*row_count*/, double /*elapsed_ms*/) override {
    try {
      if (auto st = writer_->Close(); !st.ok()) return arrow_error(st, "writing the Parquet footer failed");
    } catch (const parquet::ParquetException& e) {
      return Error(ErrorCode::kInternal, fmt::format("writing the Parquet footer failed: {}", e.what()));
    }
    return Status::Ok();
  }

  // Without its footer a Parquet file is unreadable: the truncated transfer is the signal.
  bool finish_with_error(int64_t /*row_count*/, const Error& /*error*/) override { return false; }
  size_t pending_bytes() const override { return sink_->pending(); }
  std::string take() override { return sink_->take(); }

 private:
  int64_t row_group_rows_;
  std::shared_ptr<StringSink> sink_ = std::make_shared<StringSink>();
  std::shared_ptr<arrow::Schema> schema_;
  std::unique_ptr<parquet::arrow::FileWriter> writer_;
};

}  // namespace

std::unique_ptr<ResultEncoder> make_arrow_encoder() { return std::make_unique<ArrowStreamEncoder>(); }
std::unique_ptr<ResultEncoder> make_parquet_encoder(int64_t row_group_rows) {
  return std::make_unique<ParquetEncoder>(row_group_rows);
}

}  // namespace lakerouter::formats
