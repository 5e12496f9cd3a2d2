// Values in the text forms of Trino's client protocol, error locations and parameter literals:
// the parts of the Trino engine that need no server (declared in trino_internal.h).
#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include <fmt/format.h>

#include "core/value_parse.h"
#include "engines/trino/trino_internal.h"

namespace lakerouter {

// ================================================================================================
// Values in Trino's text forms (no server needed).
// ================================================================================================
namespace trino_internal {
namespace {

using iso::take_char;
using iso::take_number;
using iso::take_date;
using iso::take_time;

int64_t year_of_days(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  return static_cast<int64_t>(yoe) + era * 400 + (mp >= 10 ? 1 : 0);
}

bool is_leap(int64_t y) { return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0); }
int64_t weekday_of_days(int64_t days) { return ((days % 7) + 11) % 7; }  // 0 = Sunday; 1970-01-01 was a Thursday
int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0 && (a < 0) != (b < 0)) ? 1 : 0); }

std::optional<int64_t> take_timestamp(std::string_view& s) {
  auto days = take_date(s);
  if (!days || !take_char(s, ' ')) return std::nullopt;
  auto time = take_time(s);
  if (!time) return std::nullopt;
  return *days * kSecondsPerDay * kMicrosPerSecond + *time;
}

// --- Time zones ---------------------------------------------------------------------------------
// GCC 12's libstdc++ has no std::chrono::tzdb, so the zone rules come from the system's compiled
// tz database (TZif files, RFC 8536; Debian's tzdata ships "fat" files with explicit transitions
// through 2037). Years past the last transition repeat the calendar of an earlier year with the
// same weekday and leap-ness, which is exact for rules of the "second Sunday of March" kind that
// the footer of every current zone uses.
class ZoneRules {
 public:
  // nullptr when the zone is unknown to the system.
  static std::shared_ptr<const ZoneRules> find(std::string_view name);

  int64_t local_to_utc(int64_t local_seconds) const {
    const int64_t before = offset_at(local_seconds - kSecondsPerDay);
    const int64_t after = offset_at(local_seconds + kSecondsPerDay);
    if (before == after) return local_seconds - before;
    // Near a transition: keep each offset that maps the local time back onto itself.
    const bool before_fits = offset_at(local_seconds - before) == before;
    const bool after_fits = offset_at(local_seconds - after) == after;
    if (before_fits && after_fits) return local_seconds - std::max(before, after);  // overlap: earlier instant
    if (after_fits) return local_seconds - after;
    return local_seconds - before;  // gap (or before_fits): java.time moves forward by the gap
  }

 private:
  static std::shared_ptr<const ZoneRules> read(const std::string& path);

  int64_t offset_at(int64_t utc) const {
    utc = fold_future(utc);
    auto it = std::upper_bound(transitions_.begin(), transitions_.end(), utc);
    if (it == transitions_.begin()) return initial_;
    return offsets_[static_cast<size_t>(std::distance(transitions_.begin(), it) - 1)];
  }

  int64_t fold_future(int64_t utc) const {
    if (!repeats_ || transitions_.empty() || utc <= transitions_.back()) return utc;
    const int64_t days = floor_div(utc, kSecondsPerDay);
    const int64_t year = year_of_days(days);
    const int64_t jan1 = days_from_civil(year, 1, 1);
    for (int64_t y = last_year_ - 27; y <= last_year_; ++y) {
      const int64_t other = days_from_civil(y, 1, 1);
      if (is_leap(y) == is_leap(year) && weekday_of_days(other) == weekday_of_days(jan1)) {
        return utc - (jan1 - other) * kSecondsPerDay;
      }
    }
    return utc;
  }

  std::vector<int64_t> transitions_;  // UTC seconds, ascending
  std::vector<int64_t> offsets_;      // offsets_[i]: UTC offset in seconds from transitions_[i] on
  int64_t initial_ = 0;               // before the first transition
  bool repeats_ = false;              // the zone still observes DST after its last transition
  int64_t last_year_ = 0;
};

// A bounds-checked big-endian reader over a TZif file.
struct TzifReader {
  std::string_view data;
  size_t pos = 0;
  bool ok = true;

  int64_t take(size_t bytes, bool is_signed) {
    if (pos + bytes > data.size()) {
      ok = false;
      return 0;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < bytes; ++i) v = v << 8 | static_cast<uint8_t>(data[pos + i]);
    pos += bytes;
    if (is_signed && bytes < 8 && (v >> (bytes * 8 - 1)) != 0) v |= ~uint64_t{0} << (bytes * 8);
    return static_cast<int64_t>(v);
  }
  void skip(size_t bytes) {
    if (pos + bytes > data.size()) ok = false;
    pos = std::min(pos + bytes, data.size());
  }
};

struct TzifHeader {
  char version = 0;
  size_t isutcnt = 0, isstdcnt = 0, leapcnt = 0, timecnt = 0, typecnt = 0, charcnt = 0;
  size_t block_size(size_t time_bytes) const {
    return timecnt * time_bytes + timecnt + typecnt * 6 + charcnt + leapcnt * (time_bytes + 4) + isstdcnt + isutcnt;
  }
};

std::optional<TzifHeader> read_tzif_header(TzifReader& r) {
  if (r.data.substr(r.pos, 4) != "TZif") return std::nullopt;
  r.skip(4);
  TzifHeader h;
  h.version = r.pos < r.data.size() ? r.data[r.pos] : 0;
  r.skip(16);
  for (size_t* count : {&h.isutcnt, &h.isstdcnt, &h.leapcnt, &h.timecnt, &h.typecnt, &h.charcnt}) {
    *count = static_cast<size_t>(r.take(4, false));
  }
  if (!r.ok || h.typecnt == 0) return std::nullopt;
  return h;
}

std::shared_ptr<const ZoneRules> ZoneRules::read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return nullptr;
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  TzifReader r{bytes};
  auto header = read_tzif_header(r);
  size_t time_bytes = 4;
  if (header && header->version != 0) {  // v2+: skip the 32-bit block, read the 64-bit one
    r.skip(header->block_size(4));
    header = read_tzif_header(r);
    time_bytes = 8;
  }
  if (!header) return nullptr;
  auto rules = std::make_shared<ZoneRules>();
  std::vector<size_t> type_of(header->timecnt);
  rules->transitions_.resize(header->timecnt);
  for (auto& t : rules->transitions_) t = r.take(time_bytes, true);
  for (auto& i : type_of) i = static_cast<size_t>(r.take(1, false));
  std::vector<int64_t> utoff(header->typecnt);
  for (auto& off : utoff) {
    off = r.take(4, true);
    r.skip(2);  // isdst, desigidx
  }
  r.skip(header->charcnt + header->leapcnt * (time_bytes + 4) + header->isstdcnt + header->isutcnt);
  if (!r.ok) return nullptr;
  for (size_t i : type_of) {
    if (i >= utoff.size()) return nullptr;
    rules->offsets_.push_back(utoff[i]);
  }
  rules->initial_ = utoff[0];  // RFC 8536 3.2: type 0 applies before the first transition
  const std::string_view footer = std::string_view(bytes).substr(std::min(r.pos, bytes.size()));
  rules->repeats_ = footer.find(',') != std::string_view::npos;  // e.g. "EST5EDT,M3.2.0,M11.1.0"
  if (!rules->transitions_.empty()) {
    rules->last_year_ = year_of_days(floor_div(rules->transitions_.back(), kSecondsPerDay));
  }
  return rules;
}

std::shared_ptr<const ZoneRules> ZoneRules::find(std::string_view name) {
  // Zone names come from Trino; only IANA-shaped names may become a path.
  const bool shaped = !name.empty() && name.front() != '/' && name.find("..") == std::string_view::npos &&
                      std::all_of(name.begin(), name.end(), [](char c) {
                        return std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '_' || c == '-' ||
                               c == '+';
                      });
  if (!shaped) return nullptr;
  static std::mutex mu;
  static std::map<std::string, std::shared_ptr<const ZoneRules>, std::less<>> cache;  // guarded by mu
  std::lock_guard lock(mu);
  if (auto it = cache.find(name); it != cache.end()) return it->second;
  const char* dir = std::getenv("TZDIR");  // NOLINT(concurrency-mt-unsafe): read-only use
  auto rules = read(std::string(dir && *dir ? dir : "/usr/share/zoneinfo") + "/" + std::string(name));
  cache.emplace(std::string(name), rules);  // unknown zones are remembered too (as nullptr)
  return rules;
}

// "+05:30" / "-08:00" -> seconds east of UTC.
std::optional<int64_t> fixed_offset(std::string_view zone) {
  if (zone.size() != 6 || (zone[0] != '+' && zone[0] != '-') || zone[3] != ':') return std::nullopt;
  std::string_view s = zone.substr(1);
  auto h = take_number(s, 2);
  if (!h || !take_char(s, ':')) return std::nullopt;
  auto m = take_number(s, 2);
  if (!m || !s.empty()) return std::nullopt;
  const int64_t seconds = (*h * 60 + *m) * 60;
  return zone[0] == '-' ? -seconds : seconds;
}

size_t utf8_length(unsigned char lead) { return lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1; }

uint32_t count_code_points(std::string_view s) {
  return static_cast<uint32_t>(std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

// The first line of the wrapper; the caller's SQL starts right after its quote on line 2.
constexpr std::string_view kWrapPrefix = "EXECUTE IMMEDIATE\n'";

}  // namespace

std::optional<int64_t> parse_date(std::string_view text) {
  auto days = take_date(text);
  return days && text.empty() ? days : std::nullopt;
}

std::optional<int64_t> parse_time(std::string_view text) {
  auto micros = take_time(text);
  return micros && text.empty() ? micros : std::nullopt;
}

std::optional<int64_t> parse_timestamp(std::string_view text) {
  auto micros = take_timestamp(text);
  return micros && text.empty() ? micros : std::nullopt;
}

Result<int64_t> parse_timestamp_tz(std::string_view text) {
  const auto space = text.rfind(' ');
  std::string_view local_text = text.substr(0, space == std::string_view::npos ? 0 : space);
  const std::string_view zone = space == std::string_view::npos ? std::string_view() : text.substr(space + 1);
  auto local = take_timestamp(local_text);
  if (!local || !local_text.empty() || zone.empty()) {
    return Error(ErrorCode::kEngineError, fmt::format("Trino sent '{}' for a timestamp with time zone", text));
  }
  const int64_t seconds = floor_div(*local, kMicrosPerSecond);
  const int64_t fraction = *local - seconds * kMicrosPerSecond;
  if (zone == "UTC" || zone == "Z") return *local;
  if (auto offset = fixed_offset(zone)) return (seconds - *offset) * kMicrosPerSecond + fraction;
  auto rules = ZoneRules::find(zone);
  if (!rules) {
    return Error(ErrorCode::kEngineError,
                 fmt::format("time zone '{}' (from Trino) is not in the system's tz database; install the "
                             "tzdata package",
                             zone));
  }
  return rules->local_to_utc(seconds) * kMicrosPerSecond + fraction;
}

std::optional<uint32_t> location_to_offset(std::string_view sql, int64_t line, int64_t column) {
  if (line < 1 || column < 1) return std::nullopt;
  size_t pos = 0;
  for (int64_t l = 1; l < line; ++l) {
    const size_t newline = sql.find('\n', pos);
    if (newline == std::string_view::npos) return std::nullopt;
    pos = newline + 1;
  }
  uint32_t chars = count_code_points(sql.substr(0, pos));
  // Columns count UTF-16 code units: a character outside the BMP is two of them.
  for (int64_t units = 0; units < column - 1 && pos < sql.size() && sql[pos] != '\n'; ++chars) {
    const size_t len = utf8_length(static_cast<unsigned char>(sql[pos]));
    units += len == 4 ? 2 : 1;
    pos += len;
  }
  return chars;
}

std::string render_literal(const ParamValue& value) {
  return std::visit(
      [](const auto& v) -> std::string {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          return "NULL";
        } else if constexpr (std::is_same_v<T, bool>) {
          return v ? "TRUE" : "FALSE";
        } else if constexpr (std::is_same_v<T, int64_t>) {
          return fmt::format("BIGINT '{}'", v);  // typed as DuckDB binds it; INT64_MIN needs no special case
        } else if constexpr (std::is_same_v<T, double>) {
          if (std::isnan(v)) return "nan()";
          if (std::isinf(v)) return v > 0 ? "infinity()" : "-infinity()";
          return fmt::format("DOUBLE '{}'", v);  // shortest text that reads back as the same double
        } else {
          std::string out = "'";
          for (char c : v) out += c == '\'' ? std::string_view("''") : std::string_view(&c, 1);
          return out + "'";
        }
      },
      value);
}

std::string wrap_with_parameters(std::string_view sql, const std::vector<ParamValue>& params) {
  std::string out(kWrapPrefix);
  for (char c : sql) out += c == '\'' ? std::string_view("''") : std::string_view(&c, 1);
  out += "'\nUSING ";
  for (size_t i = 0; i < params.size(); ++i) out += (i ? ", " : "") + render_literal(params[i]);
  return out;
}

// Trino 476 reports locations inside EXECUTE IMMEDIATE's string on the lines of the outer text
// (the inner line 1 is line 2 here) and in columns of the unescaped inner text, except that the
// analyzer's locations on the string's first line also count the opening quote. The unit tests
// pin this against the real server.
std::optional<uint32_t> wrapped_location_to_offset(std::string_view sql, bool syntax_error, int64_t line,
                                                   int64_t column) {
  if (line < 2) return std::nullopt;  // the wrapper's own line: e.g. a wrong parameter count
  if (line == 2 && !syntax_error) --column;
  return location_to_offset(sql, line - 1, column);
}

std::string strip_location(std::string_view message) {
  if (!message.starts_with("line ")) return std::string(message);
  std::string_view rest = message.substr(5);
  if (!take_number(rest) || !take_char(rest, ':') || !take_number(rest) || !take_char(rest, ':')) {
    return std::string(message);
  }
  take_char(rest, ' ');
  return std::string(rest);
}

}  // namespace trino_internal

}  // namespace lakerouter
