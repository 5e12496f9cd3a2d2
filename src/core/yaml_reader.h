// YamlReader: reads typed values out of YAML nodes and turns every problem into an Error of the
// form "<file>:<line>: <what is wrong> (<how to fix it>)", so that every configuration section
// (server, catalog, engines, routing) reports mistakes the same way.
// Also the "did you mean ...?" helpers those messages use.
// Thread-safety: a YamlReader is immutable after construction; the free functions are pure.
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "core/status.h"

namespace lakerouter {

// Levenshtein distance, for suggestions.
size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to `name` when it is close enough to be a likely typo, else "".
std::string_view closest_name(std::string_view name, std::span<const std::string_view> candidates);
std::string_view closest_name(std::string_view name, std::span<const std::string> candidates);

// A count or a size written for people: 1500, "1_000_000", "10k", "1M", "2.5G", "64MB", "1GiB".
// k/M/G/T (and KB/MB/GB/TB) are powers of 1000, KiB/MiB/GiB/TiB powers of 1024. nullopt when
// the text is not such a number.
std::optional<double> parse_quantity(std::string_view text);

class YamlReader {
 public:
  explicit YamlReader(std::string file) : file_(std::move(file)) {}

  const std::string& file() const { return file_; }

  // 1-based line of a node (0 when unknown).
  static int line_of(const YAML::Node& node) { return node.Mark().line >= 0 ? node.Mark().line + 1 : 0; }

  Error error(const YAML::Node& node, const std::string& what) const { return error_at(line_of(node), what); }
  Error error_at(int line, const std::string& what) const;

  // Every key of `map` must be one of `allowed` (else: did you mean / allowed keys).
  Status check_keys(const YAML::Node& map, const std::string& where, std::initializer_list<std::string_view> allowed) const;

  // Reads map[key] into `out` when present; leaves `out` unchanged otherwise.
  template <typename T>
  Status get(const YAML::Node& map, const char* key, const std::string& where, T& out) const {
    const YAML::Node node = map[key];
    if (!node) return Status::Ok();
    try {
      out = node.as<T>();
    } catch (const YAML::Exception&) {
      return error(node, "'" + where + "." + key + "' must be " + type_name<T>() + ", not '" + describe(node) + "'");
    }
    return Status::Ok();
  }

  // A list of strings; a single string counts as a list of one.
  Status get_strings(const YAML::Node& map, const char* key, const std::string& where, std::vector<std::string>& out) const;

  // A number or a quantity string (see parse_quantity), at least `min`.
  Status get_quantity(const YAML::Node& map, const char* key, const std::string& where, double min, double& out) const;

  Status get_ms(const YAML::Node& map, const char* key, const std::string& where, std::chrono::milliseconds& out) const;

  // A string in which ${NAME} is replaced by the environment variable NAME (an error when it is
  // not set), so that DSNs, URLs and tokens with credentials stay out of the file.
  Status get_expanded(const YAML::Node& map, const char* key, const std::string& where, std::string& out) const;

  // A path, resolved against the configuration file's folder ("~/" against $HOME).
  Status get_path(const YAML::Node& map, const char* key, const std::string& where, std::string& out) const;
  std::string resolve(const std::string& path) const;

  // A node's text for messages ("a list" / "a mapping" for collections).
  static std::string describe(const YAML::Node& node);

 private:
  template <typename T>
  static const char* type_name() {
    if constexpr (std::is_same_v<T, std::string>) return "a string";
    if constexpr (std::is_same_v<T, bool>) return "true or false";
    if constexpr (std::is_integral_v<T>) return "a whole number";
    if constexpr (std::is_floating_point_v<T>) return "a number";
    return "a value of another type";
  }

  std::string file_;
};

}  // namespace lakerouter
