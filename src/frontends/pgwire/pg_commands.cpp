#include "frontends/pgwire/pg_commands.h"

#include <cctype>
#include <charconv>

#include <fmt/format.h>

#include "core/ascii.h"

namespace lakerouter::pgwire {
namespace {

struct Token {
  enum Kind : uint8_t { kWord, kQuotedIdent, kString, kSymbol } kind;
  std::string text;  // words lower-cased; quoted forms unquoted
};

// Tokens of a short command; nullopt when a quote or comment is left open.
std::optional<std::vector<Token>> tokenize(std::string_view s, size_t max_tokens = 64) {
  std::vector<Token> out;
  size_t i = 0;
  while (i < s.size() && out.size() < max_tokens) {
    const char c = s[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
      ++i;
    } else if (c == '-' && i + 1 < s.size() && s[i + 1] == '-') {
      while (i < s.size() && s[i] != '\n') ++i;
    } else if (c == '/' && i + 1 < s.size() && s[i + 1] == '*') {
      const size_t end = s.find("*/", i + 2);
      if (end == std::string_view::npos) return std::nullopt;
      i = end + 2;
    } else if (c == '\'' || c == '"') {
      std::string text;
      ++i;
      bool closed = false;
      while (i < s.size()) {
        if (s[i] == c) {
          if (i + 1 < s.size() && s[i + 1] == c) {
            text.push_back(c);
            i += 2;
            continue;
          }
          ++i;
          closed = true;
          break;
        }
        text.push_back(s[i++]);
      }
      if (!closed) return std::nullopt;
      out.push_back({c == '\'' ? Token::kString : Token::kQuotedIdent, std::move(text)});
    } else if (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-' || c == '+' ||
               c == '$' || static_cast<unsigned char>(c) >= 0x80) {
      const size_t start = i;
      while (i < s.size() && (std::isalnum(static_cast<unsigned char>(s[i])) || s[i] == '_' || s[i] == '.' ||
                              s[i] == '$' || s[i] == '-' || s[i] == '+' || s[i] == ':' ||
                              static_cast<unsigned char>(s[i]) >= 0x80)) {
        ++i;
      }
      out.push_back({Token::kWord, ascii_lower(s.substr(start, i - start))});
    } else {
      out.push_back({Token::kSymbol, std::string(1, c)});
      ++i;
    }
  }
  // Trailing semicolons end the statement.
  while (!out.empty() && out.back().kind == Token::kSymbol && out.back().text == ";") out.pop_back();
  return out;
}

bool is_word(const std::vector<Token>& t, size_t i, std::string_view w) {
  return i < t.size() && t[i].kind == Token::kWord && t[i].text == w;
}

std::string name_of(const Token& t) { return t.kind == Token::kQuotedIdent ? ascii_lower(t.text) : t.text; }

Command set_command(const std::vector<Token>& t) {
  size_t i = 1;
  if (is_word(t, i, "session")) {
    ++i;
  } else if (is_word(t, i, "local")) {
    ++i;
  }
  Command cmd{CommandKind::kSet, {}, {}, "SET"};
  if (is_word(t, i, "time") && is_word(t, i + 1, "zone")) {
    cmd.name = "timezone";
    i += 2;
  } else if (i < t.size() && (t[i].kind == Token::kWord || t[i].kind == Token::kQuotedIdent)) {
    cmd.name = name_of(t[i]);
    ++i;
    if (i < t.size() && ((t[i].kind == Token::kSymbol && t[i].text == "=") || is_word(t, i, "to"))) {
      ++i;
    } else {
      return Command{CommandKind::kUnsupported, "SET", fmt::format("syntax error in SET {}: expected = or TO", cmd.name), {}};
    }
  } else {
    return Command{CommandKind::kUnsupported, "SET", "syntax error in SET: expected a setting name", {}};
  }
  if (i >= t.size()) return Command{CommandKind::kUnsupported, "SET", "syntax error in SET: value missing", {}};
  if (is_word(t, i, "default") && i + 1 == t.size()) return Command{CommandKind::kReset, cmd.name, {}, "SET"};
  std::string value;
  for (; i < t.size(); ++i) {
    if (t[i].kind == Token::kSymbol && t[i].text == ",") {
      value += ", ";
    } else if (t[i].kind == Token::kSymbol) {
      return Command{CommandKind::kUnsupported, "SET", "syntax error in SET: unexpected '" + t[i].text + "'", {}};
    } else if (t[i].kind == Token::kQuotedIdent) {
      value += "\"" + t[i].text + "\"";
    } else {
      value += t[i].text;
    }
  }
  cmd.value = std::move(value);
  return cmd;
}

}  // namespace

Command classify(std::string_view sql) {
  // Only the first word decides whether we look closer; most statements leave here.
  size_t start = 0;
  while (start < sql.size() && std::isspace(static_cast<unsigned char>(sql[start]))) ++start;
  if (start == sql.size()) return {};
  const char first = static_cast<char>(std::tolower(static_cast<unsigned char>(sql[start])));
  if (std::string_view("srbcedalun").find(first) == std::string_view::npos && first != '-' && first != '/') return {};
  auto tokens = tokenize(sql);
  if (!tokens || tokens->empty()) return {};
  const auto& t = *tokens;
  if (t[0].kind != Token::kWord) return {};
  const std::string& w = t[0].text;
  if (w == "set") {
    if (is_word(t, 1, "transaction") || (is_word(t, 1, "session") && is_word(t, 2, "characteristics"))) {
      return {CommandKind::kSet, {}, {}, "SET"};  // isolation levels: every statement runs on its own
    }
    return set_command(t);
  }
  if (w == "reset" && t.size() == 2) return {CommandKind::kReset, name_of(t[1]), {}, "RESET"};
  if (w == "show" && t.size() == 2) return {CommandKind::kShow, name_of(t[1]), {}, "SHOW"};
  if (w == "show" && t.size() == 3 && is_word(t, 1, "time") && is_word(t, 2, "zone")) {
    return {CommandKind::kShow, "timezone", {}, "SHOW"};
  }
  if (w == "begin" || (w == "start" && is_word(t, 1, "transaction"))) return {CommandKind::kBegin, {}, {}, "BEGIN"};
  if (w == "commit" || w == "end") return {CommandKind::kCommit, {}, {}, "COMMIT"};
  if (w == "rollback" || w == "abort") {
    if (is_word(t, 1, "to")) return {CommandKind::kUnsupported, "ROLLBACK TO", "savepoints are not supported", {}};
    return {CommandKind::kRollback, {}, {}, "ROLLBACK"};
  }
  if (w == "savepoint" || w == "release") {
    return {CommandKind::kUnsupported, w, "savepoints are not supported: lakerouter runs each statement on its own", {}};
  }
  if (w == "discard") return {CommandKind::kDiscard, t.size() > 1 ? t[1].text : "all", {}, "DISCARD ALL"};
  if (w == "deallocate") {
    size_t i = is_word(t, 1, "prepare") ? 2 : 1;
    if (i >= t.size()) return {CommandKind::kUnsupported, "DEALLOCATE", "DEALLOCATE needs a name or ALL", {}};
    if (is_word(t, i, "all")) return {CommandKind::kDeallocate, "", {}, "DEALLOCATE ALL"};
    return {CommandKind::kDeallocate, t[i].text, {}, "DEALLOCATE"};
  }
  if (w == "listen" || w == "unlisten" || w == "notify") {
    return {CommandKind::kUnsupported, w, "LISTEN/NOTIFY is not supported by lakerouter", {}};
  }
  if (w == "select" && t.size() == 4 && is_word(t, 1, "version") && t[2].text == "(" && t[3].text == ")") {
    return {CommandKind::kVersion, {}, {}, "SELECT 1"};
  }
  return {};
}

int count_placeholders(std::string_view s) {
  int max = 0;
  size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (c == '\'' || c == '"') {
      const size_t end = s.find(c, i + 1);
      if (end == std::string_view::npos) break;
      i = end + 1;
    } else if (c == '-' && i + 1 < s.size() && s[i + 1] == '-') {
      const size_t end = s.find('\n', i);
      i = end == std::string_view::npos ? s.size() : end;
    } else if (c == '/' && i + 1 < s.size() && s[i + 1] == '*') {
      const size_t end = s.find("*/", i + 2);
      i = end == std::string_view::npos ? s.size() : end + 2;
    } else if (c == '$' && i + 1 < s.size() && std::isdigit(static_cast<unsigned char>(s[i + 1]))) {
      int n = 0;
      ++i;
      while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])) && n < 100000) n = n * 10 + (s[i++] - '0');
      max = std::max(max, n);
    } else {
      ++i;
    }
  }
  return max;
}

namespace {

struct Known {
  std::string_view name;       // canonical spelling
  std::string_view default_value;
  std::string_view description;
  bool reported;
};

constexpr Known kKnown[] = {
    {"application_name", "", "Sets the application name reported in statistics and logs.", true},
    {"client_encoding", "UTF8", "The client's character set; lakerouter speaks UTF8 only.", true},
    {"DateStyle", "ISO, MDY", "Display format for dates; lakerouter writes ISO.", true},
    {"default_transaction_read_only", "off", "Whether new transactions are read-only.", true},
    {"extra_float_digits", "1", "Digits for floating-point output; values are always shortest-exact.", false},
    {"in_hot_standby", "off", "Whether the server is a standby.", true},
    {"integer_datetimes", "on", "Datetimes are 64-bit integers.", true},
    {"IntervalStyle", "postgres", "Display format for intervals.", true},
    {"is_superuser", "off", "Whether the session user is a superuser.", true},
    {"lakerouter.engine", "", "Pins this session's statements to an engine (empty: route).", false},
    {"lakerouter.explain", "off", "Sends the routing decision as a notice before each result.", false},
    {"max_identifier_length", "63", "The longest identifier.", false},
    {"search_path", "\"$user\", public", "Schema search order (informational).", false},
    {"server_encoding", "UTF8", "The server's character set.", true},
    {"server_version", "15.0", "The PostgreSQL version lakerouter answers as.", true},
    {"server_version_num", "150000", "The PostgreSQL version as a number.", false},
    {"session_authorization", "", "The session user.", true},
    {"standard_conforming_strings", "on", "Backslashes in ordinary strings are literal.", true},
    {"statement_timeout", "0", "The longest a statement may run, in ms (0: the engine default).", false},
    {"TimeZone", "UTC", "The time zone of timestamps; lakerouter works in UTC.", true},
    {"transaction_isolation", "read committed", "Isolation level (each statement runs on its own).", false},
    {"transaction_read_only", "off", "Whether the transaction is read-only.", false},
};

const Known* known(std::string_view lower) {
  for (const auto& k : kKnown) {
    if (ascii_lower(k.name) == lower) return &k;
  }
  return nullptr;
}

bool is_utc(std::string_view v) {
  const std::string l = ascii_lower(v);
  return l == "utc" || l == "gmt" || l == "etc/utc" || l == "etc/gmt" || l == "z" || l == "zulu" || l == "0" ||
         l == "+00" || l == "+00:00" || l == "00:00" || l == "universal" || l == "etc/universal";
}

std::optional<std::chrono::milliseconds> parse_duration_ms(std::string_view v) {
  int64_t n = 0;
  auto r = std::from_chars(v.data(), v.data() + v.size(), n);
  if (r.ec != std::errc() || n < 0) return std::nullopt;
  std::string unit = ascii_lower(std::string_view(r.ptr, static_cast<size_t>(v.data() + v.size() - r.ptr)));
  while (!unit.empty() && unit.front() == ' ') unit.erase(0, 1);
  int64_t scale = 1;
  if (unit.empty() || unit == "ms") {
    scale = 1;
  } else if (unit == "s") {
    scale = 1000;
  } else if (unit == "min") {
    scale = 60000;
  } else if (unit == "h") {
    scale = 3600000;
  } else {
    return std::nullopt;
  }
  if (n > INT64_MAX / scale) return std::nullopt;
  return std::chrono::milliseconds(n * scale);
}

Error invalid(std::string_view name, std::string_view value, std::string_view why) {
  return Error(ErrorCode::kInvalidParameter, fmt::format("invalid value for parameter \"{}\": \"{}\"{}{}", name, value,
                                                         why.empty() ? "" : ": ", why));
}

}  // namespace

ClientSettings::ClientSettings(std::string user) {
  for (const auto& k : kKnown) defaults_[ascii_lower(k.name)] = std::string(k.default_value);
  defaults_["session_authorization"] = std::move(user);
  values_ = defaults_;
}

bool ClientSettings::reported(std::string_view name) {
  const Known* k = known(ascii_lower(name));
  return k && k->reported;
}

std::string ClientSettings::canonical(std::string_view name) {
  const Known* k = known(ascii_lower(name));
  return k ? std::string(k->name) : std::string(name);
}

Status ClientSettings::set(std::string_view raw_name, std::string_view value, bool startup) {
  const std::string name = ascii_lower(raw_name);
  const std::string lower_value = ascii_lower(value);
  if (name == "client_encoding") {
    if (lower_value != "utf8" && lower_value != "utf-8" && lower_value != "unicode" &&
        !(startup && lower_value == "auto")) {
      return invalid("client_encoding", value, "lakerouter supports UTF8 only");
    }
    values_[name] = "UTF8";
    return Status::Ok();
  }
  if (name == "datestyle") {
    if (lower_value.find("iso") == std::string::npos && !startup) {
      return invalid("DateStyle", value, "lakerouter writes dates in ISO style only");
    }
    values_[name] = "ISO, MDY";
    return Status::Ok();
  }
  if (name == "timezone") {
    if (!is_utc(value)) {
      if (startup) return Status::Ok();  // drivers send the local zone; results stay in UTC
      return invalid("TimeZone", value, "lakerouter works in UTC only");
    }
    values_[name] = "UTC";
    return Status::Ok();
  }
  if (name == "extra_float_digits") {
    int n = 0;
    auto r = std::from_chars(value.data(), value.data() + value.size(), n);
    if (r.ec != std::errc() || r.ptr != value.data() + value.size() || n < -15 || n > 3) {
      return invalid("extra_float_digits", value, "an integer from -15 to 3");
    }
    values_[name] = std::string(value);
    return Status::Ok();
  }
  if (name == "statement_timeout") {
    auto ms = parse_duration_ms(value);
    if (!ms) return invalid("statement_timeout", value, "a number of milliseconds, or with unit ms, s, min, h");
    timeout_ = ms->count() == 0 ? std::nullopt : std::optional(*ms);
    values_[name] = std::to_string(ms->count());
    return Status::Ok();
  }
  if (name == "lakerouter.explain") {
    if (lower_value == "on" || lower_value == "true" || lower_value == "1" || lower_value == "yes") {
      explain_ = true;
    } else if (lower_value == "off" || lower_value == "false" || lower_value == "0" || lower_value == "no") {
      explain_ = false;
    } else {
      return invalid("lakerouter.explain", value, "on or off");
    }
    values_[name] = explain_ ? "on" : "off";
    return Status::Ok();
  }
  if (name == "lakerouter.engine") {
    engine_ = lower_value == "default" ? "" : lower_value;
    values_[name] = engine_;
    return Status::Ok();
  }
  const Known* k = known(name);
  if (k && (name == "server_version" || name == "server_version_num" || name == "server_encoding" ||
            name == "integer_datetimes" || name == "is_superuser" || name == "in_hot_standby" ||
            name == "max_identifier_length")) {
    if (startup) return Status::Ok();
    return Error(ErrorCode::kInvalidParameter, fmt::format("parameter \"{}\" cannot be changed", k->name));
  }
  if (name == "standard_conforming_strings" && lower_value != "on") {
    if (startup) return Status::Ok();
    return invalid("standard_conforming_strings", value, "lakerouter supports on only");
  }
  // Informational settings (application_name, search_path, ...) and settings lakerouter does not
  // know: stored, so that SHOW gives back what was set.
  if (values_.size() >= 256 && !values_.contains(name)) {
    return Error(ErrorCode::kInvalidParameter, "too many settings in this session");
  }
  values_[name] = std::string(value);
  return Status::Ok();
}

void ClientSettings::reset(std::string_view raw_name) {
  const std::string name = ascii_lower(raw_name);
  if (name == "all") {
    values_ = defaults_;
    explain_ = false;
    engine_.clear();
    timeout_.reset();
    return;
  }
  if (auto it = defaults_.find(name); it != defaults_.end()) {
    values_[name] = it->second;
  } else {
    values_.erase(name);
  }
  if (name == "lakerouter.explain") explain_ = false;
  if (name == "lakerouter.engine") engine_.clear();
  if (name == "statement_timeout") timeout_.reset();
}

std::optional<std::string> ClientSettings::get(std::string_view name) const {
  if (auto it = values_.find(ascii_lower(name)); it != values_.end()) return it->second;
  return std::nullopt;
}

std::vector<SettingRow> ClientSettings::all() const {
  std::vector<SettingRow> rows;
  for (const auto& [name, value] : values_) {
    const Known* k = known(name);
    rows.push_back({k ? std::string(k->name) : name, value, k ? std::string(k->description) : std::string()});
  }
  return rows;
}

}  // namespace lakerouter::pgwire

namespace lakerouter::pgwire {

std::string ddl_tag(std::string_view sql) {
  auto tokens = tokenize(sql, 8);
  if (!tokens || tokens->empty()) return "OK";
  std::string tag;
  for (const auto& t : *tokens) {
    if (t.kind != Token::kWord) break;
    if (t.text == "or" || t.text == "replace" || t.text == "temp" || t.text == "temporary" || t.text == "unique" ||
        t.text == "materialized" || t.text == "if") {
      if (t.text == "if") break;
      continue;
    }
    if (!tag.empty()) tag += ' ';
    for (char c : t.text) tag.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
    if (tag.find(' ') != std::string::npos) break;
  }
  return tag.empty() ? "OK" : tag;
}

}  // namespace lakerouter::pgwire
