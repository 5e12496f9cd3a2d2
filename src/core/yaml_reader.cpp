#include "core/yaml_reader.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace lakerouter {
namespace fs = std::filesystem;

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] != b[j - 1])});
      diag = up;
    }
  }
  return row[b.size()];
}

namespace {

template <typename S>
std::string_view closest(std::string_view name, std::span<const S> candidates) {
  std::string_view best;
  size_t best_distance = 3;  // suggest only close names: a typo, not a different word
  for (const auto& candidate : candidates) {
    const std::string_view c(candidate);
    if (size_t d = edit_distance(c, name); d < best_distance) {
      best_distance = d;
      best = c;
    }
  }
  return best;
}

}  // namespace

std::string_view closest_name(std::string_view name, std::span<const std::string_view> candidates) {
  return closest(name, candidates);
}

std::string_view closest_name(std::string_view name, std::span<const std::string> candidates) {
  return closest(name, candidates);
}

std::optional<double> parse_quantity(std::string_view text) {
  std::string digits;
  size_t i = 0;
  while (i < text.size() && text[i] == ' ') ++i;
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if ((c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' || c == 'e') {
      // 'e' only as an exponent, i.e. followed by a digit or sign
      if (c == 'e' && (i + 1 >= text.size() || !(std::isdigit(static_cast<unsigned char>(text[i + 1])) ||
                                                 text[i + 1] == '-' || text[i + 1] == '+'))) {
        break;
      }
      digits += c;
    } else if (c != '_') {
      break;
    }
  }
  if (digits.empty()) return std::nullopt;
  char* end = nullptr;
  const double number = std::strtod(digits.c_str(), &end);
  if (end != digits.c_str() + digits.size() || !std::isfinite(number)) return std::nullopt;

  std::string_view unit = text.substr(i);
  while (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);
  while (!unit.empty() && unit.back() == ' ') unit.remove_suffix(1);
  struct Unit {
    std::string_view name;
    double factor;
  };
  static constexpr Unit kUnits[] = {
      {"", 1},          {"k", 1e3},          {"K", 1e3},           {"M", 1e6},           {"G", 1e9},
      {"T", 1e12},      {"B", 1},            {"KB", 1e3},          {"kB", 1e3},          {"MB", 1e6},
      {"GB", 1e9},      {"TB", 1e12},        {"KiB", 1024.0},      {"MiB", 1048576.0},   {"GiB", 1073741824.0},
      {"TiB", 1099511627776.0},
  };
  for (const auto& u : kUnits) {
    if (u.name == unit) return number * u.factor;
  }
  return std::nullopt;
}

Error YamlReader::error_at(int line, const std::string& what) const {
  return Error(ErrorCode::kConfigError, fmt::format("{}:{}: {}", file_, line, what));
}

Status YamlReader::check_keys(const YAML::Node& map, const std::string& where,
                              std::initializer_list<std::string_view> allowed) const {
  if (!map.IsMap()) return error(map, fmt::format("'{}' must be a mapping of keys to values", where));
  const std::span<const std::string_view> names(allowed.begin(), allowed.size());
  for (const auto& kv : map) {
    const auto key = kv.first.as<std::string>();
    if (std::find(names.begin(), names.end(), key) != names.end()) continue;
    const std::string_view best = closest_name(key, names);
    std::string hint = best.empty() ? fmt::format("allowed keys: {}", fmt::join(names, ", "))
                                    : fmt::format("did you mean '{}'?", best);
    return error(kv.first, fmt::format("unknown key '{}' in '{}' ({})", key, where, hint));
  }
  return Status::Ok();
}

Status YamlReader::get_strings(const YAML::Node& map, const char* key, const std::string& where,
                               std::vector<std::string>& out) const {
  const YAML::Node node = map[key];
  if (!node) return Status::Ok();
  out.clear();
  if (node.IsScalar()) {
    out.push_back(node.Scalar());
    return Status::Ok();
  }
  if (!node.IsSequence()) {
    return error(node, fmt::format("'{}.{}' must be a list of strings, e.g. [a, b]", where, key));
  }
  for (const auto& item : node) {
    if (!item.IsScalar()) {
      return error(item, fmt::format("'{}.{}' must be a list of strings, not contain {}", where, key, describe(item)));
    }
    out.push_back(item.Scalar());
  }
  return Status::Ok();
}

Status YamlReader::get_quantity(const YAML::Node& map, const char* key, const std::string& where, double min,
                                double& out) const {
  const YAML::Node node = map[key];
  if (!node) return Status::Ok();
  const std::optional<double> value = node.IsScalar() ? parse_quantity(node.Scalar()) : std::nullopt;
  if (!value) {
    return error(node, fmt::format("'{}.{}' must be a number such as 1500, 2.5, \"10M\" or \"64GB\", not '{}'", where,
                                   key, describe(node)));
  }
  if (*value < min) return error(node, fmt::format("'{}.{}' must be at least {}", where, key, min));
  out = *value;
  return Status::Ok();
}

Status YamlReader::get_ms(const YAML::Node& map, const char* key, const std::string& where,
                          std::chrono::milliseconds& out) const {
  int64_t ms = out.count();
  if (Status s = get(map, key, where, ms); !s.ok()) return s;
  if (ms <= 0) return error(map[key], fmt::format("'{}.{}' must be a positive number of milliseconds", where, key));
  out = std::chrono::milliseconds(ms);
  return Status::Ok();
}

Status YamlReader::get_expanded(const YAML::Node& map, const char* key, const std::string& where,
                                std::string& out) const {
  std::string raw;
  if (Status s = get(map, key, where, raw); !s.ok()) return s;
  if (!map[key]) return Status::Ok();
  std::string expanded;
  size_t pos = 0;
  while (pos < raw.size()) {
    const size_t open = raw.find("${", pos);
    if (open == std::string::npos) {
      expanded.append(raw, pos);
      break;
    }
    const size_t close = raw.find('}', open + 2);
    if (close == std::string::npos) {
      return error(map[key], fmt::format("'{}.{}' has '${{' without a closing '}}'", where, key));
    }
    expanded.append(raw, pos, open - pos);
    const std::string name = raw.substr(open + 2, close - open - 2);
    const char* value = std::getenv(name.c_str());
    if (name.empty() || !value) {
      return error(map[key], fmt::format("'{}.{}' refers to ${{{}}}, which is not set in the environment; export it "
                                         "before starting lakerouter",
                                         where, key, name));
    }
    expanded += value;
    pos = close + 1;
  }
  out = std::move(expanded);
  return Status::Ok();
}

Status YamlReader::get_path(const YAML::Node& map, const char* key, const std::string& where, std::string& out) const {
  if (Status s = get(map, key, where, out); !s.ok()) return s;
  if (map[key] && !out.empty()) out = resolve(out);
  return Status::Ok();
}

std::string YamlReader::resolve(const std::string& path) const {
  if (path.starts_with("~/")) {
    const char* home = std::getenv("HOME");
    return std::string(home ? home : "") + path.substr(1);
  }
  if (fs::path(path).is_absolute()) return path;
  return (fs::path(file_).parent_path() / path).lexically_normal().string();
}

std::string YamlReader::describe(const YAML::Node& node) {
  if (node.IsSequence()) return "a list";
  if (node.IsMap()) return "a mapping";
  if (node.IsNull()) return "nothing";
  return node.Scalar();
}

}  // namespace lakerouter
