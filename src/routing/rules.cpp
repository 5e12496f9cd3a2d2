#include "routing/rules.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/yaml_reader.h"

namespace lakerouter::routing {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

std::string number_text(double v) {
  if (std::abs(v) < 1e15 && v == std::floor(v)) return fmt::format("{}", static_cast<int64_t>(v));
  return fmt::format("{}", v);
}

constexpr std::string_view kOperatorHint =
    "use <, <=, >, >= or == followed by a number, e.g. \">= 2\", \"< 1M\" or \">= 10 and < 100\"";

Result<NumericRange> parse_comparison(std::string_view text) {
  text = trim(text);
  size_t op_end = 0;
  while (op_end < text.size()) {
    const char c = text[op_end];
    if ((c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' || c == ' ') break;
    ++op_end;
  }
  const std::string_view op = text.substr(0, op_end);
  const std::string_view operand = trim(text.substr(op_end));
  if (text.empty()) return Error(ErrorCode::kConfigError, fmt::format("empty comparison ({})", kOperatorHint));
  const std::optional<double> value = parse_quantity(operand);
  NumericRange r;
  if (op == "<") {
    r.max = value.value_or(0), r.max_inclusive = false;
  } else if (op == "<=" || op == "\u2264") {
    r.max = value.value_or(0);
  } else if (op == ">") {
    r.min = value.value_or(0), r.min_inclusive = false;
  } else if (op == ">=" || op == "\u2265") {
    r.min = value.value_or(0);
  } else if (op.empty() || op == "==" || op == "=") {
    r.min = r.max = value.value_or(0);
  } else {
    return Error(ErrorCode::kConfigError, fmt::format("bad operator '{}' in \"{}\" ({})", op, text, kOperatorHint));
  }
  if (!value) {
    return Error(ErrorCode::kConfigError,
                 fmt::format("'{}' in \"{}\" is not a number ({})", operand, text, kOperatorHint));
  }
  return r;
}

}  // namespace

NumericRange NumericRange::intersect(const NumericRange& other) const {
  NumericRange r = *this;
  if (other.min > r.min || (other.min == r.min && !other.min_inclusive)) {
    r.min = other.min;
    r.min_inclusive = other.min_inclusive;
  }
  if (other.max < r.max || (other.max == r.max && !other.max_inclusive)) {
    r.max = other.max;
    r.max_inclusive = other.max_inclusive;
  }
  return r;
}

std::string NumericRange::to_string() const {
  const bool has_min = std::isfinite(min), has_max = std::isfinite(max);
  if (has_min && has_max && min == max && min_inclusive && max_inclusive) return "== " + number_text(min);
  std::string out;
  if (has_min) out = fmt::format("{} {}", min_inclusive ? ">=" : ">", number_text(min));
  if (has_max) {
    if (!out.empty()) out += " and ";
    out += fmt::format("{} {}", max_inclusive ? "<=" : "<", number_text(max));
  }
  return out.empty() ? "any" : out;
}

Result<NumericRange> parse_range(std::string_view text) {
  NumericRange range;
  size_t start = 0;
  while (true) {
    const size_t sep = text.find(" and ", start);
    auto part = parse_comparison(text.substr(start, sep == std::string_view::npos ? sep : sep - start));
    if (!part.ok()) return std::move(part).error();
    range = range.intersect(*part);
    if (sep == std::string_view::npos) break;
    start = sep + 5;
  }
  return range;
}

bool RuleMatch::matches_everything() const {
  return !kinds && tables.empty() && users.empty() && groups.empty() && fingerprints.empty() && client_tags.empty() &&
         !has_join && !has_aggregate && !has_window && !point_lookup && !governed && !join_count && !estimated_rows &&
         !estimated_bytes && !complexity;
}

std::string RuleMatch::describe() const {
  std::vector<std::string> parts;
  if (kinds) parts.push_back("kind: " + kinds->to_string());
  auto list = [&](const char* key, const std::vector<std::string>& values) {
    if (!values.empty()) parts.push_back(fmt::format("{}: {}", key, fmt::join(values, ", ")));
  };
  auto flag = [&](const char* key, const std::optional<bool>& value) {
    if (value) parts.push_back(fmt::format("{}: {}", key, *value));
  };
  auto range = [&](const char* key, const std::optional<NumericRange>& value) {
    if (value) parts.push_back(fmt::format("{}: {}", key, value->to_string()));
  };
  list("tables", tables);
  list("users", users);
  list("groups", groups);
  list("fingerprint", fingerprints);
  list("client_tags", client_tags);
  flag("has_join", has_join);
  flag("has_aggregate", has_aggregate);
  flag("has_window", has_window);
  flag("point_lookup", point_lookup);
  flag("governed", governed);
  range("join_count", join_count);
  range("estimated_rows", estimated_rows);
  range("estimated_bytes", estimated_bytes);
  range("complexity", complexity);
  return parts.empty() ? "every statement" : fmt::format("{}", fmt::join(parts, "; "));
}

int Rule::line_of(std::string_view key) const {
  for (const auto& [k, line] : key_lines) {
    if (k == key) return line;
  }
  return line;
}

}  // namespace lakerouter::routing
