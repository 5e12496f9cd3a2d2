#include "frontends/pgwire/pg_copy.h"

#include <fmt/format.h>

#include "core/ascii.h"
#include "duckdb.hpp"
#include "duckdb/parser/expression/constant_expression.hpp"
#include "duckdb/parser/parsed_data/copy_info.hpp"
#include "duckdb/parser/parser.hpp"
#include "duckdb/parser/statement/copy_statement.hpp"
#include "frontends/pgwire/pg_values.h"

namespace lakerouter::pgwire {
namespace {

std::string quote_identifier(std::string_view name) {
  std::string q = "\"";
  for (char c : name) {
    q.push_back(c);
    if (c == '"') q.push_back('"');
  }
  q.push_back('"');
  return q;
}

Error not_supported(std::string_view what) {
  return Error(ErrorCode::kNotSupported,
               fmt::format("{}: lakerouter supports COPY (query) TO STDOUT and COPY table TO STDOUT "
                           "(FORMAT text or csv, HEADER, DELIMITER) only",
                           what));
}

// An option's value as text: the legacy forms (CSV, HEADER) carry no value, meaning true.
Result<std::string> option_text(const duckdb::CopyInfo& info, const std::string& key) {
  if (auto it = info.options.find(key); it != info.options.end()) {
    if (it->second.empty()) return std::string("true");
    return it->second[0].ToString();
  }
  if (auto it = info.parsed_options.find(key); it != info.parsed_options.end()) {
    if (!it->second) return std::string("true");
    if (it->second->GetExpressionClass() == duckdb::ExpressionClass::CONSTANT) {
      return it->second->Cast<duckdb::ConstantExpression>().value.ToString();
    }
    std::string text = it->second->ToString();
    // A bare word (HEADER true, FORMAT csv) parses as a column reference.
    if (text.size() >= 2 && text.front() == '"' && text.back() == '"') text = text.substr(1, text.size() - 2);
    return text;
  }
  return Error(ErrorCode::kNotFound, key);
}

bool option_true(std::string_view v) {
  const std::string s = ascii_lower(v);
  return s == "true" || s == "1" || s == "on" || s == "yes" || s == "t";
}

}  // namespace

Result<CopyOut> parse_copy_out(std::string_view sql) {
  duckdb::Parser parser;
  try {
    parser.ParseQuery(std::string(sql));
  } catch (const std::exception& e) {
    return Error(ErrorCode::kSyntaxError, duckdb::ErrorData(e).RawMessage());
  }
  if (parser.statements.size() != 1 || parser.statements[0]->type != duckdb::StatementType::COPY_STATEMENT) {
    return Error(ErrorCode::kSyntaxError, "not a COPY statement");
  }
  const auto& info = *parser.statements[0]->Cast<duckdb::CopyStatement>().info;
  if (info.is_from) return not_supported("COPY FROM (STDIN or a file) is not supported");
  const std::string path = ascii_lower(info.file_path);
  // DuckDB's grammar turns TO STDOUT into its own stdout path.
  if (info.file_path_expression || (path != "/dev/stdout" && path != "stdout")) {
    return not_supported("COPY to a file is not supported");
  }
  CopyOut copy;
  for (const auto& [key, value] : info.options) {
    (void)value;
    const std::string k = ascii_lower(key);
    if (k != "format" && k != "header" && k != "delimiter" && k != "delim" && k != "sep") {
      return not_supported(fmt::format("COPY option {}", key));
    }
  }
  for (const auto& [key, value] : info.parsed_options) {
    (void)value;
    const std::string k = ascii_lower(key);
    if (k != "format" && k != "header" && k != "delimiter" && k != "delim" && k != "sep") {
      return not_supported(fmt::format("COPY option {}", key));
    }
  }
  std::string format = "text";
  if (auto f = option_text(info, "format"); f.ok()) {
    format = ascii_lower(*f);
  } else if (!info.is_format_auto_detected && !info.format.empty()) {
    format = ascii_lower(info.format);
  }
  if (format == "csv") {
    copy.format = CopyFormat::kCsv;
    copy.delimiter = ',';
  } else if (format != "text") {
    return not_supported(fmt::format("COPY format {}", format));
  }
  if (auto h = option_text(info, "header"); h.ok()) copy.header = option_true(*h);
  for (const char* key : {"delimiter", "delim", "sep"}) {
    if (auto d = option_text(info, key); d.ok()) {
      if (d->size() != 1 || (*d)[0] == '\n' || (*d)[0] == '\r' || (*d)[0] == '\\') {
        return Error(ErrorCode::kInvalidParameter, "COPY delimiter must be a single one-byte character");
      }
      copy.delimiter = (*d)[0];
    }
  }
  if (copy.format == CopyFormat::kCsv && copy.delimiter != ',') {
    return not_supported("COPY with FORMAT csv and a delimiter other than ','");
  }
  if (info.select_statement) {
    copy.query = info.select_statement->ToString();
    return copy;
  }
  std::string columns;
  for (const auto& c : info.select_list) columns += (columns.empty() ? "" : ", ") + quote_identifier(c);
  std::string table;
  for (const auto* part : {&info.catalog, &info.schema, &info.table}) {
    if (part->empty()) continue;
    table += (table.empty() ? "" : ".") + quote_identifier(*part);
  }
  copy.query = fmt::format("SELECT {} FROM {}", columns.empty() ? "*" : columns, table);
  return copy;
}

void append_copy_text_rows(std::string& out, const ResultSchema& schema, const ResultBatch& batch, char delimiter) {
  std::string value;
  const size_t ncols = batch.column_count();
  for (size_t r = 0; r < batch.row_count(); ++r) {
    for (size_t c = 0; c < ncols; ++c) {
      if (c > 0) out.push_back(delimiter);
      const ColumnData& col = batch.column(c);
      if (col.is_null(r)) {
        out.append("\\N");
        continue;
      }
      value.clear();
      append_text(value, schema[c].type, col, r);
      for (char ch : value) {
        switch (ch) {
          case '\\': out.append("\\\\"); break;
          case '\n': out.append("\\n"); break;
          case '\r': out.append("\\r"); break;
          case '\t': out.append("\\t"); break;
          default:
            if (ch == delimiter) out.push_back('\\');
            out.push_back(ch);
        }
      }
    }
    out.push_back('\n');
  }
}

}  // namespace lakerouter::pgwire
