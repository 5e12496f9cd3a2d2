#include "frontends/trino/trino_request.h"

#include <cctype>
#include <cmath>
#include <cstdlib>

#include <fmt/format.h>

#include "core/utf8.h"

namespace lakerouter::trino_protocol {

namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The few tokens of USE / SET SESSION / RESET SESSION; anything longer goes to the pipeline.
struct Token {
  enum class Kind : uint8_t { kWord, kQuoted, kString, kNumber, kSymbol, kEnd, kBad };
  Kind kind = Kind::kEnd;
  std::string text;  // identifiers as written (quoted ones unescaped), literals' values
  uint32_t position = 0;  // character offset
};

class Lexer {
 public:
  explicit Lexer(std::string_view sql) : sql_(sql) {}

  Token next() {
    skip_space_and_comments();
    Token t;
    t.position = static_cast<uint32_t>(utf8_char_offset(sql_, i_));
    if (i_ >= sql_.size()) return t;
    const char c = sql_[i_];
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      const size_t start = i_;
      while (i_ < sql_.size() && (std::isalnum(static_cast<unsigned char>(sql_[i_])) || sql_[i_] == '_')) ++i_;
      t.kind = Token::Kind::kWord;
      t.text = std::string(sql_.substr(start, i_ - start));
    } else if (c == '"' || c == '\'') {
      t.kind = c == '"' ? Token::Kind::kQuoted : Token::Kind::kString;
      ++i_;
      for (;;) {
        if (i_ >= sql_.size()) return Token{Token::Kind::kBad, "unterminated quote", t.position};
        if (sql_[i_] == c) {
          if (i_ + 1 < sql_.size() && sql_[i_ + 1] == c) {  // doubled quote: one literal quote
            t.text.push_back(c);
            i_ += 2;
            continue;
          }
          ++i_;
          break;
        }
        t.text.push_back(sql_[i_++]);
      }
    } else if (std::isdigit(static_cast<unsigned char>(c)) || ((c == '-' || c == '.') && i_ + 1 < sql_.size() &&
                                                                std::isdigit(static_cast<unsigned char>(sql_[i_ + 1])))) {
      const size_t start = i_++;
      while (i_ < sql_.size() && (std::isalnum(static_cast<unsigned char>(sql_[i_])) || sql_[i_] == '.')) ++i_;
      t.kind = Token::Kind::kNumber;
      t.text = std::string(sql_.substr(start, i_ - start));
    } else {
      t.kind = Token::Kind::kSymbol;
      t.text = std::string(1, c);
      ++i_;
    }
    return t;
  }

  // Everything after the last token (comments and spaces skipped), and its character offset.
  std::string_view rest(uint32_t& position) {
    skip_space_and_comments();
    position = static_cast<uint32_t>(utf8_char_offset(sql_, i_));
    return sql_.substr(i_);
  }

 private:
  void skip_space_and_comments() {
    for (;;) {
      while (i_ < sql_.size() && std::isspace(static_cast<unsigned char>(sql_[i_]))) ++i_;
      if (sql_.substr(i_, 2) == "--") {
        while (i_ < sql_.size() && sql_[i_] != '\n') ++i_;
      } else if (sql_.substr(i_, 2) == "/*") {
        const size_t end = sql_.find("*/", i_ + 2);
        i_ = end == std::string_view::npos ? sql_.size() : end + 2;
      } else {
        return;
      }
    }
  }

  std::string_view sql_;
  size_t i_ = 0;
};

bool is_word(const Token& t, std::string_view word) { return t.kind == Token::Kind::kWord && lower(t.text) == word; }
bool is_identifier(const Token& t) { return t.kind == Token::Kind::kWord || t.kind == Token::Kind::kQuoted; }
bool is_symbol(const Token& t, char c) { return t.kind == Token::Kind::kSymbol && t.text.size() == 1 && t.text[0] == c; }

// Trino folds unquoted identifiers to lower case.
std::string identifier_name(const Token& t) { return t.kind == Token::Kind::kWord ? lower(t.text) : t.text; }

Error syntax_error(const Token& at, std::string_view expected) {
  const std::string found = at.kind == Token::Kind::kEnd ? "end of input" : fmt::format("'{}'", at.text);
  return Error(ErrorCode::kSyntaxError, fmt::format("syntax error at {}: expected {}", found, expected), at.position);
}

// Accepts the end of the statement (a trailing ';' included).
Status expect_end(Lexer& lexer) {
  Token t = lexer.next();
  if (is_symbol(t, ';')) t = lexer.next();
  if (t.kind != Token::Kind::kEnd) return syntax_error(t, "the end of the statement");
  return Status::Ok();
}

// A property name: name or catalog.name.
Result<std::string> property_name(Lexer& lexer, Token& t) {
  if (!is_identifier(t)) return syntax_error(t, "a session property name");
  std::string name = identifier_name(t);
  t = lexer.next();
  if (is_symbol(t, '.')) {
    t = lexer.next();
    if (!is_identifier(t)) return syntax_error(t, "a session property name after '.'");
    name += "." + identifier_name(t);
    t = lexer.next();
  }
  return name;
}

// A statement or value list after FROM / USING, without the terminator (the pipeline would drop
// it anyway; an empty remainder is an error).
std::string_view statement_rest(Lexer& lexer, uint32_t& position) {
  std::string_view rest = lexer.rest(position);
  while (!rest.empty() && (std::isspace(static_cast<unsigned char>(rest.back())) || rest.back() == ';')) {
    rest.remove_suffix(1);
  }
  return rest;
}

// The prepared-statement forms: PREPARE, EXECUTE, DEALLOCATE PREPARE, DESCRIBE INPUT/OUTPUT.
// Names keep their case, as Trino matches them against X-Trino-Prepared-Statement.
Result<std::optional<ClientStatement>> parse_prepared_statement_command(Lexer& lexer, Token t) {
  ClientStatement out;
  if (is_word(t, "prepare")) {
    out.kind = ClientStatement::Kind::kPrepare;
    t = lexer.next();
    if (!is_identifier(t)) return syntax_error(t, "a prepared statement name");
    out.name = t.text;
    t = lexer.next();
    if (!is_word(t, "from")) return syntax_error(t, "FROM");
    out.statement = std::string(statement_rest(lexer, out.statement_position));
    if (out.statement.empty()) return syntax_error(lexer.next(), "a statement after FROM");
    return std::optional<ClientStatement>(std::move(out));
  }
  if (is_word(t, "execute")) {
    out.kind = ClientStatement::Kind::kExecute;
    t = lexer.next();
    if (!is_identifier(t)) return syntax_error(t, "a prepared statement name or IMMEDIATE 'statement'");
    Token after = lexer.next();
    if (is_word(t, "immediate") && after.kind == Token::Kind::kString) {
      out.immediate = true;
      out.statement = std::move(after.text);
      after = lexer.next();
    } else {
      out.name = t.text;
    }
    if (is_word(after, "using")) {
      out.parameters = std::string(statement_rest(lexer, out.parameters_position));
      if (out.parameters.empty()) return syntax_error(lexer.next(), "parameter values after USING");
    } else if (is_symbol(after, ';')) {
      LR_TRY(expect_end(lexer));
    } else if (after.kind != Token::Kind::kEnd) {
      return syntax_error(after, "USING or the end of the statement");
    }
    return std::optional<ClientStatement>(std::move(out));
  }
  if (is_word(t, "deallocate")) {
    out.kind = ClientStatement::Kind::kDeallocate;
    t = lexer.next();
    if (is_word(t, "prepare")) t = lexer.next();
    if (!is_identifier(t)) return syntax_error(t, "a prepared statement name");
    out.name = t.text;
    LR_TRY(expect_end(lexer));
    return std::optional<ClientStatement>(std::move(out));
  }
  if (is_word(t, "describe")) {
    t = lexer.next();
    const bool input = is_word(t, "input");
    if (!input && !is_word(t, "output")) return std::optional<ClientStatement>();
    const Token name = lexer.next();
    // DESCRIBE input (a table named input) or DESCRIBE output.t is DuckDB's DESCRIBE: not ours.
    if (!is_identifier(name)) return std::optional<ClientStatement>();
    out.kind = input ? ClientStatement::Kind::kDescribeInput : ClientStatement::Kind::kDescribeOutput;
    out.name = name.text;
    LR_TRY(expect_end(lexer));
    return std::optional<ClientStatement>(std::move(out));
  }
  return std::optional<ClientStatement>();
}

}  // namespace

Result<std::string> url_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    const int hi = i + 2 < text.size() ? hex_digit(text[i + 1]) : -1;
    const int lo = i + 2 < text.size() ? hex_digit(text[i + 2]) : -1;
    if (hi < 0 || lo < 0) {
      return Error(ErrorCode::kInvalidRequest, fmt::format("malformed percent-escape at byte {} of '{}'", i, text));
    }
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

std::string url_encode(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(c);
    } else {
      fmt::format_to(std::back_inserter(out), "%{:02X}", static_cast<unsigned>(static_cast<unsigned char>(c)));
    }
  }
  return out;
}

Result<std::map<std::string, std::string>> parse_session_properties(const std::vector<std::string_view>& header_values) {
  std::map<std::string, std::string> out;
  for (const std::string_view header : header_values) {
    size_t start = 0;
    while (start <= header.size()) {
      const size_t comma = header.find(',', start);
      const std::string_view item = trim(header.substr(start, comma == std::string_view::npos ? std::string_view::npos
                                                                                               : comma - start));
      start = comma == std::string_view::npos ? header.size() + 1 : comma + 1;
      if (item.empty()) continue;
      const size_t eq = item.find('=');
      if (eq == std::string_view::npos || trim(item.substr(0, eq)).empty()) {
        return Error(ErrorCode::kInvalidRequest,
                     fmt::format("X-Trino-Session entry '{}' is not name=value", item));
      }
      auto name = url_decode(trim(item.substr(0, eq)));
      if (!name.ok()) return name.error();
      auto value = url_decode(trim(item.substr(eq + 1)));
      if (!value.ok()) return value.error();
      out[std::move(*name)] = std::move(*value);
    }
  }
  return out;
}

std::vector<std::string> parse_client_tags(const std::vector<std::string_view>& header_values) {
  std::vector<std::string> tags;
  for (const std::string_view header : header_values) {
    size_t start = 0;
    while (start <= header.size()) {
      const size_t comma = header.find(',', start);
      const std::string_view tag = trim(header.substr(start, comma == std::string_view::npos ? std::string_view::npos
                                                                                              : comma - start));
      start = comma == std::string_view::npos ? header.size() + 1 : comma + 1;
      if (!tag.empty()) tags.emplace_back(tag);
    }
  }
  return tags;
}

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  text = trim(text);
  size_t unit_start = 0;
  while (unit_start < text.size() && (std::isdigit(static_cast<unsigned char>(text[unit_start])) || text[unit_start] == '.')) {
    ++unit_start;
  }
  if (unit_start == 0) return std::nullopt;
  const std::string number(text.substr(0, unit_start));
  char* end = nullptr;
  const double value = std::strtod(number.c_str(), &end);
  if (end != number.c_str() + number.size() || !std::isfinite(value)) return std::nullopt;
  const std::string unit = lower(trim(text.substr(unit_start)));
  double ms = 0;
  if (unit == "ns") {
    ms = value / 1e6;
  } else if (unit == "us") {
    ms = value / 1e3;
  } else if (unit == "ms") {
    ms = value;
  } else if (unit == "s") {
    ms = value * 1e3;
  } else if (unit == "m") {
    ms = value * 60e3;
  } else if (unit == "h") {
    ms = value * 3600e3;
  } else if (unit == "d") {
    ms = value * 86400e3;
  } else {
    return std::nullopt;
  }
  if (ms > 1e15) return std::nullopt;
  return std::chrono::milliseconds(static_cast<int64_t>(std::ceil(ms)));
}

Status apply_session_property(Session& session, const std::string& name, const std::string& value) {
  if (name.starts_with(kLakerouterPrefix)) {
    const std::string setting = name.substr(kLakerouterPrefix.size());
    if (setting.empty()) return Error(ErrorCode::kInvalidRequest, "session property 'lakerouter.' names no setting");
    session.settings[setting] = value;
    return Status::Ok();
  }
  if (name == "query_max_run_time") {
    const auto duration = parse_duration(value);
    if (!duration || duration->count() <= 0) {
      return Error(ErrorCode::kInvalidRequest,
                   fmt::format("session property query_max_run_time must be a duration such as '30s', not '{}'", value));
    }
    session.timeout = *duration;
  }
  session.settings["trino." + name] = value;
  return Status::Ok();
}

std::vector<std::string_view> header_values(const http::Request& req, std::string_view suffix) {
  std::vector<std::string_view> values;
  for (const std::string_view prefix : {std::string_view("X-Trino-"), std::string_view("X-Presto-")}) {
    const std::string name = std::string(prefix) + std::string(suffix);
    auto [it, end] = req.equal_range(name);
    for (; it != end; ++it) values.emplace_back(it->value().data(), it->value().size());
    if (!values.empty()) break;
  }
  return values;
}

std::string header_value(const http::Request& req, std::string_view suffix) {
  const auto values = header_values(req, suffix);
  return values.empty() ? std::string() : std::string(trim(values.front()));
}

Result<Session> read_session(const http::Request& req, const governance::Identity& identity, const std::string& peer) {
  Session session;
  session.frontend = "trino";
  session.source_address = peer;
  session.user = identity.user;
  session.groups = identity.groups;
  session.catalog = header_value(req, "Catalog");
  session.schema = header_value(req, "Schema");
  if (auto source = header_value(req, "Source"); !source.empty()) session.settings["source"] = std::move(source);
  if (auto zone = header_value(req, "Time-Zone"); !zone.empty()) session.settings["time_zone"] = std::move(zone);
  session.client_tags = parse_client_tags(header_values(req, "Client-Tags"));
  for (const auto& tag : session.client_tags) {
    if (tag.starts_with(kEngineTag)) session.engine_request = tag.substr(kEngineTag.size());
  }
  auto properties = parse_session_properties(header_values(req, "Session"));
  if (!properties.ok()) return properties.error();
  for (const auto& [name, value] : *properties) LR_TRY(apply_session_property(session, name, value));
  if (const auto engine = req["X-Lakerouter-Engine"]; !engine.empty()) {
    session.engine_request = std::string(engine.data(), engine.size());
  }
  return session;
}

Result<std::optional<ClientStatement>> parse_client_statement(std::string_view sql) {
  Lexer lexer(sql);
  Token t = lexer.next();
  ClientStatement out;
  if (is_word(t, "use")) {
    out.kind = ClientStatement::Kind::kUse;
    t = lexer.next();
    if (!is_identifier(t)) return syntax_error(t, "a schema name, or catalog.schema");
    out.schema = identifier_name(t);
    const Token after = lexer.next();
    if (is_symbol(after, '.')) {
      t = lexer.next();
      if (!is_identifier(t)) return syntax_error(t, "a schema name after '.'");
      out.catalog = std::move(out.schema);
      out.schema = identifier_name(t);
      LR_TRY(expect_end(lexer));
    } else if (!(after.kind == Token::Kind::kEnd || is_symbol(after, ';'))) {
      return syntax_error(after, "'.' or the end of the statement");
    } else if (is_symbol(after, ';')) {
      LR_TRY(expect_end(lexer));
    }
    return std::optional<ClientStatement>(std::move(out));
  }
  const bool set = is_word(t, "set");
  if (!set && !is_word(t, "reset")) return parse_prepared_statement_command(lexer, t);
  t = lexer.next();
  if (!is_word(t, "session")) return std::optional<ClientStatement>();  // e.g. DuckDB's SET x = 1
  t = lexer.next();
  if (set && is_word(t, "authorization")) return std::optional<ClientStatement>();  // not ours: the pipeline refuses it
  auto name = property_name(lexer, t);
  if (!name.ok()) return name.error();
  out.name = std::move(*name);
  if (!set) {
    out.kind = ClientStatement::Kind::kResetSession;
    if (is_symbol(t, ';')) t = lexer.next();
    if (t.kind != Token::Kind::kEnd) return syntax_error(t, "the end of the statement");
    return std::optional<ClientStatement>(std::move(out));
  }
  out.kind = ClientStatement::Kind::kSetSession;
  if (!is_symbol(t, '=')) return syntax_error(t, "'='");
  t = lexer.next();
  if (t.kind == Token::Kind::kString || t.kind == Token::Kind::kNumber) {
    out.value = t.text;
  } else if (is_word(t, "true") || is_word(t, "false")) {
    out.value = lower(t.text);
  } else {
    return syntax_error(t, "a literal value (a 'string', a number, true or false)");
  }
  LR_TRY(expect_end(lexer));
  return std::optional<ClientStatement>(std::move(out));
}

std::string_view update_type(ClientStatement::Kind kind) {
  switch (kind) {
    case ClientStatement::Kind::kUse: return "USE";
    case ClientStatement::Kind::kSetSession: return "SET SESSION";
    case ClientStatement::Kind::kResetSession: return "RESET SESSION";
    case ClientStatement::Kind::kPrepare: return "PREPARE";
    case ClientStatement::Kind::kExecute: return "EXECUTE";
    case ClientStatement::Kind::kDeallocate: return "DEALLOCATE";
    case ClientStatement::Kind::kDescribeInput:
    case ClientStatement::Kind::kDescribeOutput: return "DESCRIBE";
  }
  return "USE";
}

}  // namespace lakerouter::trino_protocol
