// COPY ... TO STDOUT for the PostgreSQL front-end: what the statement asks for (parsed with
// DuckDB's parser) and the text format's rows. COPY FROM STDIN and COPY to or from files are
// refused: lakerouter never reads or writes files for clients.
// Thread-safety: pure functions and value types.
#pragma once

#include <string>
#include <string_view>

#include "core/result_batch.h"
#include "core/status.h"
#include "core/types.h"

namespace lakerouter::pgwire {

enum class CopyFormat : uint8_t { kText, kCsv };

struct CopyOut {
  std::string query;  // the rows to send: the inner query, or SELECT ... FROM the table
  CopyFormat format = CopyFormat::kText;
  bool header = false;
  char delimiter = '\t';
};

// A COPY statement as a CopyOut; kNotSupported for COPY FROM, files and unsupported options,
// kSyntaxError when it is not a COPY statement DuckDB can parse.
Result<CopyOut> parse_copy_out(std::string_view sql);

// Appends rows [begin, end) of `batch` in COPY's text format: `delimiter` between columns, \N for
// NULL, backslash escapes for backslash, newline, carriage return, tab and the delimiter.
void append_copy_text_rows(std::string& out, const ResultSchema& schema, const ResultBatch& batch, char delimiter);

}  // namespace lakerouter::pgwire
