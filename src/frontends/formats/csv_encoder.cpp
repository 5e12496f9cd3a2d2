// CSV (text/csv): RFC 4180 quoting with PostgreSQL's COPY ... (FORMAT csv, HEADER) conventions.
// A header line of column names; rows end with "\n"; NULL is an empty unquoted field, the empty
// string is "" (quoted); a field is quoted when it is empty or holds a comma, quote, CR or LF,
// with quotes doubled. Values: booleans true/false; numbers in their shortest exact form (NaN,
// Infinity, -Infinity); DECIMAL with its exact digits; DATE 1992-01-31; TIME 13:45:00[.123456];
// TIMESTAMP 1992-01-31 13:45:00[.123456]; TIMESTAMPTZ in UTC with "+00"; BLOB as \x + hex
// (PostgreSQL's bytea output); nested values as JSON text; other types in the engine's text form.
// Errors mid-stream cannot be expressed in CSV: finish_with_error() says to abort the transfer.
//
// The encoder is on the hot path of large exports: values are formatted with std::to_chars and
// core/value_format straight into one buffer, without per-value allocations.
#include <array>
#include <charconv>
#include <cmath>

#include "core/value_format.h"
#include "frontends/formats/encoders.h"

namespace lakerouter::formats {

namespace {

// Characters that force quoting (besides the empty string).
constexpr std::array<bool, 256> make_special() {
  std::array<bool, 256> t{};
  t[static_cast<unsigned char>(',')] = true;
  t[static_cast<unsigned char>('"')] = true;
  t[static_cast<unsigned char>('\n')] = true;
  t[static_cast<unsigned char>('\r')] = true;
  return t;
}
constexpr std::array<bool, 256> kSpecial = make_special();

void append_text(std::string& out, std::string_view s) {
  bool quote = s.empty();
  for (char ch : s) {
    if (kSpecial[static_cast<unsigned char>(ch)]) {
      quote = true;
      break;
    }
  }
  if (!quote) {
    out.append(s);
    return;
  }
  out.push_back('"');
  size_t start = 0;
  for (size_t q = s.find('"'); q != std::string_view::npos; q = s.find('"', q + 1)) {
    out.append(s.substr(start, q + 1 - start));
    out.push_back('"');
    start = q + 1;
  }
  out.append(s.substr(start));
  out.push_back('"');
}

template <typename T>
void append_number(std::string& out, T v) {
  std::array<char, 32> buf;  // NOLINT(cppcoreguidelines-pro-type-member-init): written by to_chars
  auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), v);
  (void)ec;  // 32 characters hold any int64 or shortest double
  out.append(buf.data(), end);
}

void append_floating(std::string& out, double v, bool single) {
  if (std::isnan(v)) {
    out.append("NaN");
  } else if (std::isinf(v)) {
    out.append(v > 0 ? "Infinity" : "-Infinity");
  } else if (single) {
    append_number(out, static_cast<float>(v));
  } else {
    append_number(out, v);
  }
}

void append_hex(std::string& out, std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  out.append("\\x");
  const size_t at = out.size();
  out.resize(at + 2 * bytes.size());
  char* p = out.data() + at;
  for (unsigned char b : bytes) {
    *p++ = kDigits[b >> 4];
    *p++ = kDigits[b & 0xF];
  }
}

// PostgreSQL's text form of timestamps: a space between date and time, "+00" for UTC.
void append_pg_timestamp(std::string& out, int64_t micros, bool utc) {
  const size_t at = out.size();
  append_timestamp(out, micros, utc);
  if (const auto t = std::string_view(out).find('T', at); t != std::string_view::npos) out[t] = ' ';
  if (utc && out.back() == 'Z') {
    out.back() = '+';
    out.append("00");
  }
}

class CsvEncoder final : public ResultEncoder {
 public:
  Status begin(const ResultSchema& schema, const ResultMetadata& /*metadata*/) override {
    schema_ = schema;
    for (size_t c = 0; c < schema_.size(); ++c) {
      if (c > 0) out_.push_back(',');
      append_text(out_, schema_[c].name);
    }
    out_.push_back('\n');
    return Status::Ok();
  }

  Status add_batch(const ResultBatch& batch) override {
    const size_t rows = batch.row_count();
    const size_t cols = batch.column_count();
    for (size_t r = 0; r < rows; ++r) {
      for (size_t c = 0; c < cols; ++c) {
        if (c > 0) out_.push_back(',');
        append_value(batch.column(c), schema_[c].type, r);
      }
      out_.push_back('\n');
    }
    return Status::Ok();
  }

  Status finish(int64_t /*row_count*/, double /*elapsed_ms*/) override { return Status::Ok(); }
  bool finish_with_error(int64_t /*row_count*/, const Error& /*error*/) override { return false; }
  size_t pending_bytes() const override { return out_.size(); }

  std::string take() override {
    std::string taken;
    taken.reserve(out_.capacity());  // the next batches fill a buffer of the same size
    taken.swap(out_);
    return taken;
  }

 private:
  void append_value(const ColumnData& col, const ColumnType& type, size_t row) {
    if (col.is_null(row)) return;  // NULL: an empty, unquoted field
    switch (type.id) {
      case TypeId::kNull: return;
      case TypeId::kBoolean: out_.append(col.int64_at(row) != 0 ? "true" : "false"); return;
      case TypeId::kTinyInt:
      case TypeId::kSmallInt:
      case TypeId::kInteger:
      case TypeId::kBigInt: append_number(out_, col.int64_at(row)); return;
      case TypeId::kHugeInt: append_int128(out_, col.int128_at(row)); return;
      case TypeId::kDecimal: append_decimal(out_, col.int128_at(row), type.scale); return;
      case TypeId::kFloat: append_floating(out_, col.double_at(row), true); return;
      case TypeId::kDouble: append_floating(out_, col.double_at(row), false); return;
      case TypeId::kDate: append_date(out_, col.int64_at(row)); return;
      case TypeId::kTime: append_time(out_, col.int64_at(row)); return;
      case TypeId::kTimestamp: append_pg_timestamp(out_, col.int64_at(row), false); return;
      case TypeId::kTimestampTz: append_pg_timestamp(out_, col.int64_at(row), true); return;
      case TypeId::kBlob: append_hex(out_, col.string_at(row)); return;
      case TypeId::kVarchar:
      case TypeId::kInterval:
      case TypeId::kUuid:
      case TypeId::kJson:
      case TypeId::kOther: append_text(out_, col.string_at(row)); return;
    }
  }

  ResultSchema schema_;
  std::string out_;
};

}  // namespace

std::unique_ptr<ResultEncoder> make_csv_encoder() { return std::make_unique<CsvEncoder>(); }

}  // namespace lakerouter::formats
