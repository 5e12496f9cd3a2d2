#include "frontends/pgwire/pg_protocol.h"

#include <boost/endian/conversion.hpp>
#include <cstring>

namespace lakerouter::pgwire {

std::string_view sqlstate_for(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidRequest: return "08P01";
    case ErrorCode::kInvalidJson: return "22P02";
    case ErrorCode::kInvalidUtf8: return "22021";
    case ErrorCode::kEmptySql: return "42601";
    case ErrorCode::kBodyTooLarge: return "54000";
    case ErrorCode::kHeadersTooLarge: return "54000";
    case ErrorCode::kUnsupportedMediaType: return "0A000";
    case ErrorCode::kNotFound: return "42704";
    case ErrorCode::kMethodNotAllowed: return "0A000";
    case ErrorCode::kRequestTimeout: return "57014";
    case ErrorCode::kSyntaxError: return "42601";
    case ErrorCode::kMultipleStatements: return "0A000";
    case ErrorCode::kUnknownTable: return "42P01";
    case ErrorCode::kUnknownObject: return "42703";
    case ErrorCode::kBindError: return "42703";
    case ErrorCode::kInvalidParameter: return "22023";
    case ErrorCode::kInvalidInput: return "22P02";
    case ErrorCode::kTypeMismatch: return "42804";
    case ErrorCode::kConversionError: return "22018";
    case ErrorCode::kDivisionByZero: return "22012";
    case ErrorCode::kOutOfRange: return "22003";
    case ErrorCode::kConstraintViolation: return "23000";
    case ErrorCode::kNotSupported: return "0A000";
    case ErrorCode::kPermissionDenied: return "42501";
    case ErrorCode::kQueryTimeout: return "57014";
    case ErrorCode::kQueryCancelled: return "57014";
    case ErrorCode::kOutOfMemory: return "53200";
    case ErrorCode::kEngineUnavailable: return "08006";
    case ErrorCode::kOverloaded: return "53300";
    case ErrorCode::kEngineError: return "XX000";
    case ErrorCode::kResultTooLarge: return "54000";
    case ErrorCode::kConfigError: return "F0000";
    case ErrorCode::kIoError: return "58030";
    case ErrorCode::kInternal: return "XX000";
    case ErrorCode::kUnauthenticated: return "28000";  // invalid_authorization_specification
  }
  return "XX000";
}

std::optional<int16_t> MessageReader::int16() {
  if (remaining() < 2) return std::nullopt;
  uint16_t v = 0;
  std::memcpy(&v, data_.data() + pos_, 2);
  pos_ += 2;
  return static_cast<int16_t>(boost::endian::big_to_native(v));
}

std::optional<int32_t> MessageReader::int32() {
  if (remaining() < 4) return std::nullopt;
  uint32_t v = 0;
  std::memcpy(&v, data_.data() + pos_, 4);
  pos_ += 4;
  return static_cast<int32_t>(boost::endian::big_to_native(v));
}

std::optional<uint8_t> MessageReader::byte() {
  if (remaining() < 1) return std::nullopt;
  return static_cast<uint8_t>(data_[pos_++]);
}

std::optional<std::string_view> MessageReader::cstring() {
  const size_t nul = data_.find('\0', pos_);
  if (nul == std::string_view::npos) return std::nullopt;
  auto s = data_.substr(pos_, nul - pos_);
  pos_ = nul + 1;
  return s;
}

std::optional<std::string_view> MessageReader::bytes(size_t n) {
  if (remaining() < n) return std::nullopt;
  auto s = data_.substr(pos_, n);
  pos_ += n;
  return s;
}

namespace {
void put32(std::string& out, size_t at, uint32_t v) {
  v = boost::endian::native_to_big(v);
  std::memcpy(out.data() + at, &v, 4);
}
}  // namespace

void MessageWriter::begin(char type) {
  out_.push_back(type);
  start_ = out_.size();
  out_.append(4, '\0');
}

void MessageWriter::end() { put32(out_, start_, static_cast<uint32_t>(out_.size() - start_)); }

void MessageWriter::int16(int16_t v) {
  const uint16_t b = boost::endian::native_to_big(static_cast<uint16_t>(v));
  out_.append(reinterpret_cast<const char*>(&b), 2);
}

void MessageWriter::int32(int32_t v) {
  const uint32_t b = boost::endian::native_to_big(static_cast<uint32_t>(v));
  out_.append(reinterpret_cast<const char*>(&b), 4);
}

void MessageWriter::int64(int64_t v) {
  const uint64_t b = boost::endian::native_to_big(static_cast<uint64_t>(v));
  out_.append(reinterpret_cast<const char*>(&b), 8);
}

void MessageWriter::cstring(std::string_view v) {
  // A NUL inside would end the field early on the client: cut there (values never hold one).
  out_.append(v.substr(0, v.find('\0')));
  out_.push_back('\0');
}

size_t MessageWriter::begin_value() {
  const size_t slot = out_.size();
  out_.append(4, '\0');
  return slot;
}

void MessageWriter::end_value(size_t slot) { put32(out_, slot, static_cast<uint32_t>(out_.size() - slot - 4)); }

void write_error(std::string& out, const ErrorFields& e, char type) {
  MessageWriter w(out);
  w.begin(type);
  w.int8('S');
  w.cstring(e.severity);
  w.int8('V');
  w.cstring(e.severity);
  w.int8('C');
  w.cstring(e.sqlstate);
  w.int8('M');
  w.cstring(e.message);
  if (e.position) {
    w.int8('P');
    w.cstring(std::to_string(*e.position));
  }
  if (!e.detail.empty()) {
    w.int8('D');
    w.cstring(e.detail);
  }
  if (!e.hint.empty()) {
    w.int8('H');
    w.cstring(e.hint);
  }
  w.int8(0);
  w.end();
}

void write_error(std::string& out, const Error& error, size_t char_offset, std::string_view severity) {
  ErrorFields f;
  f.severity = severity;
  f.sqlstate = sqlstate_for(error.code);
  f.message = error.message;
  if (error.position) f.position = static_cast<uint32_t>(*error.position + char_offset + 1);
  const std::string detail = "lakerouter error code " + std::string(error_code_name(error.code));
  f.detail = detail;
  write_error(out, f);
}

void write_ready(std::string& out, char status) {
  MessageWriter w(out);
  w.begin('Z');
  w.int8(static_cast<uint8_t>(status));
  w.end();
}

void write_parameter_status(std::string& out, std::string_view name, std::string_view value) {
  MessageWriter w(out);
  w.begin('S');
  w.cstring(name);
  w.cstring(value);
  w.end();
}

void write_command_complete(std::string& out, std::string_view tag) {
  MessageWriter w(out);
  w.begin('C');
  w.cstring(tag);
  w.end();
}

void write_simple(std::string& out, char type) {
  MessageWriter w(out);
  w.begin(type);
  w.end();
}

void write_auth(std::string& out, int32_t code, std::string_view data) {
  MessageWriter w(out);
  w.begin('R');
  w.int32(code);
  w.bytes(data);
  w.end();
}

}  // namespace lakerouter::pgwire
