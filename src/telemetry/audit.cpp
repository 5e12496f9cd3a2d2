#include "telemetry/audit.h"

#include <algorithm>
#include <cctype>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/value_parse.h"
#include "duckdb/parser/parser.hpp"

namespace lakerouter::telemetry {

std::string PoliciesApplied::to_json() const {
  nlohmann::json out = {{"tables", nlohmann::json::array()}};
  for (const auto& t : tables) {
    nlohmann::json one = {{"table", t.table}, {"governed", t.governed}, {"filter", t.filter}, {"masks", t.masks},
                          {"hidden", t.hidden}};
    if (t.rule) one["rule"] = *t.rule;
    out["tables"].push_back(std::move(one));
  }
  if (!denied.empty()) out["denied"] = denied;
  return out.dump();
}

std::optional<AuditOutcome> parse_audit_outcome(std::string_view name) {
  for (auto o : {AuditOutcome::kOk, AuditOutcome::kRefused, AuditOutcome::kFailed, AuditOutcome::kCancelled,
                 AuditOutcome::kIncomplete}) {
    if (audit_outcome_name(o) == name) return o;
  }
  return std::nullopt;
}

std::string_view audit_outcome_name(AuditOutcome outcome) {
  switch (outcome) {
    case AuditOutcome::kOk: return "ok";
    case AuditOutcome::kRefused: return "refused";
    case AuditOutcome::kFailed: return "failed";
    case AuditOutcome::kCancelled: return "cancelled";
    case AuditOutcome::kIncomplete: return "incomplete";
  }
  return "failed";
}

AuditOutcome outcome_of(const Error& error, bool ran) {
  if (error.code == ErrorCode::kQueryCancelled) return AuditOutcome::kCancelled;
  // Admission refusing a statement is not the engine running it.
  if (!ran || error.code == ErrorCode::kOverloaded) return AuditOutcome::kRefused;
  return AuditOutcome::kFailed;
}

namespace {

bool word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// Replaces `value` in `text`: anywhere when it is long enough to be worth hiding as a part of a
// word, else only where it stands as a whole word (a literal 1 must not blank every digit 1).
void replace_value(std::string& text, std::string_view value) {
  if (value.empty()) return;
  const bool anywhere = value.size() >= 4;
  std::string out;
  size_t from = 0;
  size_t at = 0;
  while ((at = text.find(value, at)) != std::string::npos) {
    const size_t end = at + value.size();
    const bool whole = (at == 0 || !word_char(text[at - 1])) && (end >= text.size() || !word_char(text[end]));
    if (anywhere || whole) {
      out.append(text, from, at - from);
      out += '?';
      from = end;
    }
    at = end;
  }
  if (from == 0) return;
  out.append(text, from, std::string::npos);
  text = std::move(out);
}

// Adds `word` and, when it differs, `word` without the punctuation around it.
void add_word(std::vector<std::string>& values, std::string_view word) {
  if (word.empty()) return;
  values.emplace_back(word);
  constexpr std::string_view kPunct = "'\"(),;$";
  const auto first = word.find_first_not_of(kPunct);
  if (first == std::string_view::npos) return;
  const auto last = word.find_last_not_of(kPunct);
  if (first != 0 || last + 1 != word.size()) values.emplace_back(word.substr(first, last + 1 - first));
}

// Adds every whitespace-separated word of `text`, comment markers counting as spaces.
void add_words(std::vector<std::string>& values, std::string_view text) {
  std::string spaced(text);
  for (const std::string_view marker : {"/*", "*/", "--"}) {
    for (size_t at = spaced.find(marker); at != std::string::npos; at = spaced.find(marker, at)) {
      spaced.replace(at, marker.size(), marker.size(), ' ');
    }
  }
  std::string_view rest(spaced);
  while (!rest.empty()) {
    const auto begin = rest.find_first_not_of(" \t\r\n");
    if (begin == std::string_view::npos) break;
    rest.remove_prefix(begin);
    const auto stop = std::min(rest.find_first_of(" \t\r\n"), rest.size());
    add_word(values, rest.substr(0, stop));
    rest.remove_prefix(stop);
  }
}

// Where the quoted literal at the front of `text` ('abc', E'a''b', $$abc$$, $tag$abc$tag$) ends.
size_t literal_end(std::string_view text) {
  const auto open = text.find_first_of("'$");
  if (open == std::string_view::npos) return text.size();
  if (text[open] == '$') {
    const auto tag_end = text.find('$', open + 1);
    if (tag_end == std::string_view::npos) return text.size();
    const auto tag = text.substr(open, tag_end + 1 - open);
    const auto close = text.find(tag, tag_end + 1);
    return close == std::string_view::npos ? text.size() : close + tag.size();
  }
  for (size_t i = open + 1; i < text.size(); ++i) {
    if (text[i] != '\'') continue;
    if (i + 1 < text.size() && text[i + 1] == '\'') {
      ++i;
      continue;
    }
    return i + 1;
  }
  return text.size();
}

// What may be secret in `sql`, found with DuckDB's tokenizer: string constants (as written and
// with doubled quotes made single, as messages print them), numbers, and every word the tokens
// do not account for: comments (the tokenizer skips them) and whatever follows the point where
// it gave up (an unterminated quote). Errs on the side of hiding too much.
std::vector<std::string> literal_values(std::string_view sql) {
  std::vector<std::string> values;
  std::vector<duckdb::SimplifiedToken> tokens;
  try {
    tokens = duckdb::Parser::Tokenize(std::string(sql));
  } catch (const std::exception&) {
    tokens.clear();
  }
  if (tokens.empty()) {
    add_words(values, sql);
    return values;
  }
  add_words(values, sql.substr(0, tokens.front().start));
  using Type = duckdb::SimplifiedTokenType;
  for (size_t i = 0; i < tokens.size(); ++i) {
    const size_t start = std::min<size_t>(tokens[i].start, sql.size());
    const size_t end = i + 1 < tokens.size() ? std::min<size_t>(tokens[i + 1].start, sql.size()) : sql.size();
    const std::string_view segment = sql.substr(start, end > start ? end - start : 0);
    size_t own = 0;  // the token's own text; the rest of the segment is spaces, comments, or skipped
    if (tokens[i].type == Type::SIMPLIFIED_TOKEN_STRING_CONSTANT) {
      own = literal_end(segment);
      std::string_view literal = segment.substr(0, own);
      const auto open = literal.find_first_of("'$");
      if (open != std::string_view::npos) literal.remove_prefix(open);
      values.emplace_back(literal);
      std::string unquoted;
      std::string_view body = literal;
      while (!body.empty() && (body.front() == '\'' || body.front() == '$')) body.remove_prefix(1);
      while (!body.empty() && (body.back() == '\'' || body.back() == '$')) body.remove_suffix(1);
      for (size_t k = 0; k < body.size(); ++k) {
        unquoted += body[k];
        if (body[k] == '\'' && k + 1 < body.size() && body[k + 1] == '\'') ++k;
      }
      values.emplace_back(body);
      if (unquoted != body) values.push_back(std::move(unquoted));
    } else if (tokens[i].type == Type::SIMPLIFIED_TOKEN_NUMERIC_CONSTANT) {
      while (own < segment.size() &&
             (std::isalnum(static_cast<unsigned char>(segment[own])) || segment[own] == '.' || segment[own] == '_' ||
              ((segment[own] == '-' || segment[own] == '+') && own > 0 &&
               (segment[own - 1] == 'e' || segment[own - 1] == 'E')))) {
        ++own;
      }
      values.emplace_back(segment.substr(0, own));
    } else {
      // Identifiers, keywords and operators are not secret: skip the first word.
      own = std::min(segment.find_first_of(" \t\r\n"), segment.size());
      for (const std::string_view marker : {"/*", "--"}) {
        const auto at = segment.find(marker, 1);
        if (at != std::string_view::npos && at < own && segment.front() != '"') own = at;
      }
    }
    add_words(values, segment.substr(own));
  }
  return values;
}

std::string param_text(const ParamValue& value) {
  return std::visit(
      [](const auto& v) -> std::string {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          return {};
        } else if constexpr (std::is_same_v<T, bool>) {
          return {};  // true/false are words of every message
        } else if constexpr (std::is_same_v<T, std::string>) {
          return v;
        } else {
          return fmt::format("{}", v);
        }
      },
      value);
}

}  // namespace

std::string redact_literals(std::string_view text, std::string_view sql, const std::vector<ParamValue>& params) {
  std::string out(text);
  if (out.empty()) return out;
  auto values = literal_values(sql);
  for (const auto& p : params) values.push_back(param_text(p));
  // Longest first, so that a literal inside a longer one does not leave the rest behind.
  std::sort(values.begin(), values.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });
  for (const auto& v : values) replace_value(out, v);
  return out;
}

std::string utc_timestamp(std::chrono::system_clock::time_point at) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch()).count();
  const auto seconds = std::chrono::sys_seconds(std::chrono::seconds(ms / 1000 - (ms % 1000 < 0 ? 1 : 0)));
  const int64_t millis = ((ms % 1000) + 1000) % 1000;
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03}Z", seconds, millis);
}

Result<std::string> parse_utc_timestamp(std::string_view text) {
  const Error bad(ErrorCode::kInvalidRequest,
                  fmt::format("'{}' is not an ISO 8601 time; write e.g. 2024-05-01, 2024-05-01T10:00:00Z or "
                              "2024-05-01T12:00:00.000+02:00",
                              text.substr(0, 64)));
  std::string_view s = text;
  const auto days = iso::take_date(s);
  // Years 1970-9999 only: the result must survive system_clock's nanoseconds (about 1678-2262)
  // on the way back, and an audit record is never older than the epoch.
  constexpr int64_t kDaysUntil2262 = 106'000;
  if (!days || *days < 0 || *days > kDaysUntil2262) {
    if (days) {
      return Error(ErrorCode::kInvalidRequest,
                   fmt::format("'{}' is outside the times the audit log holds (1970 to 2260)", text.substr(0, 64)));
    }
    return bad;
  }
  int64_t micros = *days * kSecondsPerDay * kMicrosPerSecond;
  if (!s.empty() && (s.front() == 'T' || s.front() == ' ')) {
    s.remove_prefix(1);
    const auto hour = iso::take_number(s, 2);
    if (!hour || *hour > 23 || !iso::take_char(s, ':')) return bad;
    const auto minute = iso::take_number(s, 2);
    if (!minute || *minute > 59) return bad;
    int64_t second = 0;
    int64_t fraction = 0;
    if (iso::take_char(s, ':')) {
      const auto sec = iso::take_number(s, 2);
      const auto frac = sec ? iso::take_fraction(s) : std::nullopt;
      if (!sec || *sec > 60 || !frac) return bad;
      second = *sec;
      fraction = *frac;
    }
    micros += ((*hour * 60 + *minute) * 60 + second) * kMicrosPerSecond + fraction;
    if (iso::take_char(s, 'Z') || iso::take_char(s, 'z')) {
    } else if (!s.empty() && (s.front() == '+' || s.front() == '-')) {
      const int sign = s.front() == '+' ? 1 : -1;
      s.remove_prefix(1);
      const auto oh = iso::take_number(s, 2);
      if (!oh || !iso::take_char(s, ':')) return bad;
      const auto om = iso::take_number(s, 2);
      if (!om || *oh > 23 || *om > 59) return bad;
      micros -= sign * (*oh * 60 + *om) * 60 * kMicrosPerSecond;
    }
  }
  if (!s.empty()) return bad;
  return utc_timestamp(std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::microseconds(micros))));
}

AuditedStream::AuditedStream(std::unique_ptr<ResultStream> inner, AuditSink& sink, AuditRecord record,
                             std::chrono::steady_clock::time_point started, Statement statement,
                             const CancelToken* cancel)
    : inner_(std::move(inner)), sink_(sink), record_(std::move(record)), started_(started),
      statement_(std::move(statement)), cancel_token_(cancel) {}

AuditedStream::~AuditedStream() {
  if (finished_) return;
  const int cancelled = cancelled_.load();
  if (cancelled == 2) {
    const Error timeout(ErrorCode::kQueryTimeout, "the statement ran past its deadline");
    finish(AuditOutcome::kFailed, &timeout);
  } else {
    // Front-ends cancel through the token (pgwire CancelRequest or disconnect, Trino DELETE), then drop.
    const bool by_token = cancel_token_ != nullptr && cancel_token_->cancelled();
    finish(cancelled == 1 || by_token ? AuditOutcome::kCancelled : AuditOutcome::kIncomplete, nullptr);
  }
}

Result<bool> AuditedStream::next(ResultBatch& batch) {
  auto more = inner_->next(batch);
  if (finished_) return more;
  if (!more.ok()) {
    finish(outcome_of(more.error(), /*ran=*/true), &more.error());
  } else if (*more) {
    rows_ += static_cast<int64_t>(batch.row_count());
  } else {
    finish(AuditOutcome::kOk, nullptr);
  }
  return more;
}

void AuditedStream::cancel(bool timed_out) {
  int none = 0;
  cancelled_.compare_exchange_strong(none, timed_out ? 2 : 1);
  inner_->cancel(timed_out);
}

void AuditedStream::finish(AuditOutcome outcome, const Error* error) {
  finished_ = true;
  record_.outcome = outcome;
  record_.rows = rows_;
  record_.rows_changed = inner_->rows_changed();
  if (error) {
    record_.error_code = std::string(error_code_name(error->code));
    record_.error_message = redact_literals(error->message, statement_.sql, statement_.params);
  }
  record_.elapsed_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started_).count();
  sink_.record(std::move(record_));
}

}  // namespace lakerouter::telemetry
