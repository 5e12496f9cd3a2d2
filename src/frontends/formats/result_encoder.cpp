#include "frontends/formats/result_encoder.h"

#include <array>
#include <charconv>
#include <cmath>

#include "core/ascii.h"
#include "frontends/formats/encoders.h"
#include "frontends/http/json_result_writer.h"

namespace lakerouter::formats {

namespace {

struct MediaType {
  std::string_view type;
  ResultFormat format;
};

// Exact media types first; ranges map to the default of their family.
constexpr std::array<MediaType, 10> kMediaTypes = {{
    {"application/json", ResultFormat::kJson},
    {"application/x-ndjson", ResultFormat::kNdjson},
    {"application/jsonl", ResultFormat::kNdjson},
    {"text/csv", ResultFormat::kCsv},
    {"application/vnd.apache.arrow.stream", ResultFormat::kArrow},
    {"application/vnd.apache.parquet", ResultFormat::kParquet},
    {"application/x-parquet", ResultFormat::kParquet},
    {"*/*", ResultFormat::kJson},
    {"application/*", ResultFormat::kJson},
    {"text/*", ResultFormat::kCsv},
}};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The q parameter of a media range, in thousandths (RFC 9110: at most three decimals).
int quality(std::string_view params) {
  int q = 1000;
  while (!params.empty()) {
    auto semi = params.find(';');
    auto param = trim(params.substr(0, semi));
    params = semi == std::string_view::npos ? std::string_view{} : params.substr(semi + 1);
    if (param.size() < 2 || ascii_lower(param[0]) != 'q' || param[1] != '=') continue;
    double value = 1;
    auto text = param.substr(2);
    if (std::from_chars(text.data(), text.data() + text.size(), value).ec != std::errc{}) continue;
    q = static_cast<int>(std::lround(value * 1000));
  }
  return q;
}

}  // namespace

std::string_view format_name(ResultFormat format) {
  switch (format) {
    case ResultFormat::kJson: return "json";
    case ResultFormat::kNdjson: return "ndjson";
    case ResultFormat::kCsv: return "csv";
    case ResultFormat::kArrow: return "arrow";
    case ResultFormat::kParquet: return "parquet";
  }
  return "json";
}

std::optional<ResultFormat> format_from_name(std::string_view name) {
  for (auto f : {ResultFormat::kJson, ResultFormat::kNdjson, ResultFormat::kCsv, ResultFormat::kArrow,
                 ResultFormat::kParquet}) {
    if (ascii_iequals(name, format_name(f))) return f;
  }
  return std::nullopt;
}

std::string_view content_type(ResultFormat format) {
  switch (format) {
    case ResultFormat::kJson: return "application/json";
    case ResultFormat::kNdjson: return "application/x-ndjson";
    case ResultFormat::kCsv: return "text/csv; charset=utf-8; header=present";
    case ResultFormat::kArrow: return "application/vnd.apache.arrow.stream";
    case ResultFormat::kParquet: return "application/vnd.apache.parquet";
  }
  return "application/json";
}

std::string_view supported_media_types() {
  return "application/json, application/x-ndjson, text/csv, application/vnd.apache.arrow.stream, "
         "application/vnd.apache.parquet (or application/x-parquet)";
}

std::optional<ResultFormat> negotiate(std::string_view accept) {
  if (trim(accept).empty()) return ResultFormat::kJson;
  // The highest q wins; among equals, an exact type beats a range, then the earlier one.
  std::optional<ResultFormat> best;
  int best_q = 0;
  bool best_exact = false;
  while (!accept.empty()) {
    auto comma = accept.find(',');
    auto range = accept.substr(0, comma);
    accept = comma == std::string_view::npos ? std::string_view{} : accept.substr(comma + 1);
    auto semi = range.find(';');
    auto media = trim(range.substr(0, semi));
    const int q = semi == std::string_view::npos ? 1000 : quality(range.substr(semi + 1));
    if (media.empty() || q <= 0) continue;
    for (const auto& known : kMediaTypes) {
      if (!ascii_iequals(media, known.type)) continue;
      const bool exact = known.type.find('*') == std::string_view::npos;
      if (q > best_q || (q == best_q && exact && !best_exact)) {
        best = known.format;
        best_q = q;
        best_exact = exact;
      }
      break;
    }
  }
  return best;
}

std::unique_ptr<ResultEncoder> make_encoder(ResultFormat format, const EncoderOptions& options) {
  switch (format) {
    case ResultFormat::kJson: return std::make_unique<http::JsonResultWriter>();
    case ResultFormat::kNdjson: return std::make_unique<http::NdjsonResultWriter>();
    case ResultFormat::kCsv: return make_csv_encoder();
    case ResultFormat::kArrow: return make_arrow_encoder();
    case ResultFormat::kParquet: return make_parquet_encoder(options.parquet_row_group_rows);
  }
  return std::make_unique<http::JsonResultWriter>();
}

}  // namespace lakerouter::formats
