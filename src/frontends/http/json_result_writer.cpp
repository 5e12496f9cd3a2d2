#include "frontends/http/json_result_writer.h"

#include <cmath>

#include <openssl/evp.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "core/value_format.h"

namespace lakerouter::http {

namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void write_double(Writer& w, double v) {
  if (std::isnan(v)) {
    w.String("NaN");
  } else if (std::isinf(v)) {
    w.String(v > 0 ? "Infinity" : "-Infinity");
  } else {
    w.Double(v);
  }
}

void write_base64(Writer& w, std::string_view bytes, std::string& scratch) {
  scratch.resize(4 * ((bytes.size() + 2) / 3) + 1);
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(scratch.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  w.String(scratch.data(), static_cast<rapidjson::SizeType>(n));
}

void write_error_object(Writer& w, const Error& error) {
  w.StartObject();
  const auto code = error_code_name(error.code);
  w.Key("code");
  w.String(code.data(), static_cast<rapidjson::SizeType>(code.size()));
  w.Key("message");
  w.String(error.message.c_str(), static_cast<rapidjson::SizeType>(error.message.size()));
  if (error.position) {
    w.Key("position");
    w.Uint(*error.position);
  }
  w.EndObject();
}

}  // namespace

struct JsonResultWriter::Impl {
  rapidjson::StringBuffer buffer;
  Writer writer{buffer};
  ResultSchema schema;
  std::string scratch;

  void write_value(const ColumnData& col, const ColumnType& type, size_t row) {
    if (col.is_null(row)) {
      writer.Null();
      return;
    }
    scratch.clear();
    switch (type.id) {
      case TypeId::kBoolean: writer.Bool(col.int64_at(row) != 0); return;
      case TypeId::kTinyInt:
      case TypeId::kSmallInt:
      case TypeId::kInteger:
      case TypeId::kBigInt: writer.Int64(col.int64_at(row)); return;
      case TypeId::kHugeInt:
        append_int128(scratch, col.int128_at(row));
        writer.RawValue(scratch.data(), scratch.size(), rapidjson::kNumberType);
        return;
      case TypeId::kDecimal:
        append_decimal(scratch, col.int128_at(row), type.scale);
        writer.String(scratch.data(), static_cast<rapidjson::SizeType>(scratch.size()));
        return;
      case TypeId::kFloat:
      case TypeId::kDouble: write_double(writer, col.double_at(row)); return;
      case TypeId::kDate: append_date(scratch, col.int64_at(row)); break;
      case TypeId::kTime: append_time(scratch, col.int64_at(row)); break;
      case TypeId::kTimestamp: append_timestamp(scratch, col.int64_at(row), false); break;
      case TypeId::kTimestampTz: append_timestamp(scratch, col.int64_at(row), true); break;
      case TypeId::kBlob: write_base64(writer, col.string_at(row), scratch); return;
      case TypeId::kJson: {
        auto json = col.string_at(row);
        writer.RawValue(json.data(), json.size(), rapidjson::kObjectType);
        return;
      }
      default: {
        auto s = col.string_at(row);
        writer.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
        return;
      }
    }
    writer.String(scratch.data(), static_cast<rapidjson::SizeType>(scratch.size()));
  }
};

JsonResultWriter::JsonResultWriter() : impl_(std::make_unique<Impl>()) {}
JsonResultWriter::~JsonResultWriter() = default;

void JsonResultWriter::begin(std::string_view query_id, std::string_view engine, std::string_view routing_json,
                             const ResultSchema& schema) {
  auto& w = impl_->writer;
  impl_->schema = schema;
  w.StartObject();
  w.Key("query_id");
  w.String(query_id.data(), static_cast<rapidjson::SizeType>(query_id.size()));
  w.Key("engine");
  w.String(engine.data(), static_cast<rapidjson::SizeType>(engine.size()));
  if (!routing_json.empty()) {
    w.Key("routing");
    w.RawValue(routing_json.data(), routing_json.size(), rapidjson::kObjectType);
  }
  w.Key("columns");
  w.StartArray();
  for (const auto& col : schema) {
    w.StartObject();
    w.Key("name");
    w.String(col.name.c_str(), static_cast<rapidjson::SizeType>(col.name.size()));
    w.Key("type");
    w.String(col.type.sql_name.c_str(), static_cast<rapidjson::SizeType>(col.type.sql_name.size()));
    w.EndObject();
  }
  w.EndArray();
  w.Key("rows");
  w.StartArray();
}

void JsonResultWriter::add_batch(const ResultBatch& batch) {
  auto& w = impl_->writer;
  const size_t rows = batch.row_count();
  const size_t cols = batch.column_count();
  for (size_t r = 0; r < rows; ++r) {
    w.StartArray();
    for (size_t c = 0; c < cols; ++c) impl_->write_value(batch.column(c), impl_->schema[c].type, r);
    w.EndArray();
  }
}

void JsonResultWriter::finish(int64_t row_count, double elapsed_ms) {
  auto& w = impl_->writer;
  w.EndArray();
  w.Key("row_count");
  w.Int64(row_count);
  w.Key("elapsed_ms");
  w.Double(std::round(elapsed_ms * 1000) / 1000);
  w.EndObject();
}

void JsonResultWriter::finish_with_error(int64_t row_count, const Error& error) {
  auto& w = impl_->writer;
  w.EndArray();
  w.Key("row_count");
  w.Int64(row_count);
  w.Key("error");
  write_error_object(w, error);
  w.EndObject();
}

size_t JsonResultWriter::pending_bytes() const { return impl_->buffer.GetSize(); }

std::string JsonResultWriter::take() {
  std::string out(impl_->buffer.GetString(), impl_->buffer.GetSize());
  impl_->buffer.Clear();
  return out;
}

std::string error_json(const Error& error, std::string_view query_id) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  w.Key("error");
  write_error_object(w, error);
  if (!query_id.empty()) {
    w.Key("query_id");
    w.String(query_id.data(), static_cast<rapidjson::SizeType>(query_id.size()));
  }
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace lakerouter::http
