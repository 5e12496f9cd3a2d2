// The PostgreSQL v3 wire format: reading front-end messages and writing back-end messages, and the
// SQLSTATE of each lakerouter ErrorCode. Pure byte handling, no sockets: the server and the unit
// tests share it.
// Thread-safety: value types; one instance per connection.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace lakerouter::pgwire {

inline constexpr int32_t kProtocolV3 = 196608;        // 3.0
inline constexpr int32_t kSslRequestCode = 80877103;
inline constexpr int32_t kGssEncRequestCode = 80877104;
inline constexpr int32_t kCancelRequestCode = 80877102;

// The SQLSTATE PostgreSQL clients expect for a lakerouter error (docs/pgwire.md has the table).
std::string_view sqlstate_for(ErrorCode code);

// Reads the fields of one message body; every read checks the remaining length first, so a
// malformed message yields ok() == false, never an out-of-bounds read.
class MessageReader {
 public:
  explicit MessageReader(std::string_view body) : data_(body) {}

  std::optional<int16_t> int16();
  std::optional<int32_t> int32();
  std::optional<uint8_t> byte();
  std::optional<std::string_view> cstring();            // up to the NUL, which is consumed
  std::optional<std::string_view> bytes(size_t n);
  size_t remaining() const { return data_.size() - pos_; }
  bool at_end() const { return pos_ == data_.size(); }

 private:
  std::string_view data_;
  size_t pos_ = 0;
};

// Appends back-end messages to a caller-owned buffer (reused across messages, so the hot path
// does not allocate once the buffer has grown). begin() writes the type and a length placeholder
// that end() patches.
class MessageWriter {
 public:
  explicit MessageWriter(std::string& out) : out_(out) {}

  void begin(char type);
  void end();
  void int8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void int16(int16_t v);
  void int32(int32_t v);
  void int64(int64_t v);
  void bytes(std::string_view v) { out_.append(v); }
  void cstring(std::string_view v);

  // A length-prefixed value slot for DataRow: returns the offset to patch with end_value().
  size_t begin_value();
  void end_value(size_t slot);

  std::string& buffer() { return out_; }

 private:
  std::string& out_;
  size_t start_ = 0;
};

// Whole messages.
struct ErrorFields {
  std::string_view severity = "ERROR";  // ERROR, FATAL, NOTICE, ...
  std::string_view sqlstate;
  std::string_view message;
  std::optional<uint32_t> position;     // 1-based character position in the query text
  std::string_view detail;
  std::string_view hint;
};
void write_error(std::string& out, const ErrorFields& e, char type = 'E');  // 'N' for a notice
// An Error from the pipeline; `char_offset` is added to its 0-based position (the statement's
// place in a multi-statement query).
void write_error(std::string& out, const Error& error, size_t char_offset = 0, std::string_view severity = "ERROR");
void write_ready(std::string& out, char status);
void write_parameter_status(std::string& out, std::string_view name, std::string_view value);
void write_command_complete(std::string& out, std::string_view tag);
void write_simple(std::string& out, char type);  // a message without a body: '1', '2', '3', 'I', 'n', 's'
void write_auth(std::string& out, int32_t code, std::string_view data = {});

}  // namespace lakerouter::pgwire
