#include "frontends/http/json_result_writer.h"

#include <cmath>

#include <openssl/evp.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "core/value_format.h"

namespace lakerouter::http {

namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

rapidjson::SizeType json_size(size_t n) { return static_cast<rapidjson::SizeType>(n); }

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

void write_string(Writer& w, std::string_view s) { w.String(s.data(), json_size(s.size())); }

void write_error_object(Writer& w, const Error& error) {
  w.StartObject();
  w.Key("code");
  write_string(w, error_code_name(error.code));
  w.Key("message");
  write_string(w, error.message);
  if (error.position) {
    w.Key("position");
    w.Uint(*error.position);
  }
  w.EndObject();
}

// One value of a column, as documented in the header; shared by JSON and NDJSON.
void write_value(Writer& writer, std::string& scratch, const ColumnData& col, const ColumnType& type, size_t row) {
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
      write_string(writer, scratch);
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
    default: write_string(writer, col.string_at(row)); return;
  }
  write_string(writer, scratch);
}

}  // namespace

// --- JSON document ---

struct JsonResultWriter::Impl {
  rapidjson::StringBuffer buffer;
  Writer writer{buffer};
  ResultSchema schema;
  std::string extra_json;
  std::string scratch;
};

JsonResultWriter::JsonResultWriter() : impl_(std::make_unique<Impl>()) {}
JsonResultWriter::~JsonResultWriter() = default;

void JsonResultWriter::begin(std::string_view query_id, std::string_view engine, std::string_view routing_json,
                             const ResultSchema& schema) {
  formats::ResultMetadata metadata{std::string(query_id), std::string(engine), std::string(routing_json), {}};
  (void)begin(schema, metadata);
}

Status JsonResultWriter::begin(const ResultSchema& schema, const formats::ResultMetadata& metadata) {
  auto& w = impl_->writer;
  impl_->schema = schema;
  impl_->extra_json = metadata.extra_json;
  w.StartObject();
  w.Key("query_id");
  write_string(w, metadata.query_id);
  if (!metadata.engine.empty()) {
    w.Key("engine");
    write_string(w, metadata.engine);
  }
  if (!metadata.routing_json.empty()) {
    w.Key("routing");
    w.RawValue(metadata.routing_json.data(), metadata.routing_json.size(), rapidjson::kObjectType);
  }
  w.Key("columns");
  w.StartArray();
  for (const auto& col : schema) {
    w.StartObject();
    w.Key("name");
    write_string(w, col.name);
    w.Key("type");
    write_string(w, col.type.sql_name);
    w.EndObject();
  }
  w.EndArray();
  w.Key("rows");
  w.StartArray();
  return Status::Ok();
}

void JsonResultWriter::add_trailer(std::string_view members) {
  if (members.empty()) return;
  if (!impl_->extra_json.empty()) impl_->extra_json += ',';
  impl_->extra_json += members;
}

Status JsonResultWriter::add_batch(const ResultBatch& batch) {
  auto& w = impl_->writer;
  const size_t rows = batch.row_count();
  const size_t cols = batch.column_count();
  for (size_t r = 0; r < rows; ++r) {
    w.StartArray();
    for (size_t c = 0; c < cols; ++c) write_value(w, impl_->scratch, batch.column(c), impl_->schema[c].type, r);
    w.EndArray();
  }
  return Status::Ok();
}

Status JsonResultWriter::finish(int64_t row_count, double elapsed_ms) {
  auto& w = impl_->writer;
  w.EndArray();
  w.Key("row_count");
  w.Int64(row_count);
  w.Key("elapsed_ms");
  w.Double(std::round(elapsed_ms * 1000) / 1000);
  if (!impl_->extra_json.empty()) {
    // Raw members: the writer has no API for them, so they go into the buffer directly (the
    // writer's state is consistent again at EndObject, which only checks nesting).
    impl_->buffer.Put(',');
    for (char ch : impl_->extra_json) impl_->buffer.Put(ch);
  }
  w.EndObject();
  return Status::Ok();
}

bool JsonResultWriter::finish_with_error(int64_t row_count, const Error& error) {
  auto& w = impl_->writer;
  w.EndArray();
  w.Key("row_count");
  w.Int64(row_count);
  w.Key("error");
  write_error_object(w, error);
  w.EndObject();
  return true;
}

size_t JsonResultWriter::pending_bytes() const { return impl_->buffer.GetSize(); }

std::string JsonResultWriter::take() {
  std::string out(impl_->buffer.GetString(), impl_->buffer.GetSize());
  impl_->buffer.Clear();
  return out;
}

// --- NDJSON ---

struct NdjsonResultWriter::Impl {
  rapidjson::StringBuffer buffer;
  Writer writer{buffer};
  ResultSchema schema;
  std::string query_id;
  std::string scratch;
};

NdjsonResultWriter::NdjsonResultWriter() : impl_(std::make_unique<Impl>()) {}
NdjsonResultWriter::~NdjsonResultWriter() = default;

Status NdjsonResultWriter::begin(const ResultSchema& schema, const formats::ResultMetadata& metadata) {
  impl_->schema = schema;
  impl_->query_id = metadata.query_id;
  return Status::Ok();
}

Status NdjsonResultWriter::add_batch(const ResultBatch& batch) {
  auto& w = impl_->writer;
  const size_t rows = batch.row_count();
  const size_t cols = batch.column_count();
  for (size_t r = 0; r < rows; ++r) {
    w.Reset(impl_->buffer);  // each line is a document of its own
    w.StartObject();
    for (size_t c = 0; c < cols; ++c) {
      w.Key(impl_->schema[c].name.data(), json_size(impl_->schema[c].name.size()));
      write_value(w, impl_->scratch, batch.column(c), impl_->schema[c].type, r);
    }
    w.EndObject();
    impl_->buffer.Put('\n');
  }
  return Status::Ok();
}

Status NdjsonResultWriter::finish(int64_t /*row_count*/, double /*elapsed_ms*/) { return Status::Ok(); }

bool NdjsonResultWriter::finish_with_error(int64_t row_count, const Error& error) {
  auto& w = impl_->writer;
  w.Reset(impl_->buffer);
  w.StartObject();
  w.Key("error");
  write_error_object(w, error);
  w.Key("query_id");
  write_string(w, impl_->query_id);
  w.Key("row_count");
  w.Int64(row_count);
  w.EndObject();
  impl_->buffer.Put('\n');
  return true;
}

size_t NdjsonResultWriter::pending_bytes() const { return impl_->buffer.GetSize(); }

std::string NdjsonResultWriter::take() {
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
    write_string(w, query_id);
  }
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace lakerouter::http
