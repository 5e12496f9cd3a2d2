// Prepared statements of the Trino protocol: the X-Trino-Prepared-Statement header a client
// sends with every request (the server keeps nothing), and the values of EXECUTE ... USING as
// the positional parameters of a Statement, so that no value is ever pasted into SQL text.
// Thread-safety: free functions; safe from any thread.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/statement.h"
#include "core/status.h"

namespace lakerouter::trino_protocol {

// "name=<form-encoded statement>, ..." (possibly over several header lines) as name -> statement.
// Clients form-encode the statements ('+' is a space: Java's URLEncoder, Python's quote_plus).
// kInvalidRequest when an entry is malformed.
Result<std::map<std::string, std::string>> parse_prepared_statements(const std::vector<std::string_view>& header_values);

// The values of a USING list ("5, 'it''s', DATE '2024-01-01', NULL"), parsed with DuckDB's SQL
// parser. Literals, typed literals (DATE '...', DECIMAL '...', X'AB') and casts of literals are
// accepted, plus nan(), infinity() and -infinity(). Booleans, integers and floats keep their type;
// decimals, dates, times, timestamps, intervals and UUIDs are passed as their literal text, which
// engines convert to the type the placeholder has in the statement (as for pgwire text
// parameters); varbinary is passed as "\xAB..." text. Errors: kSyntaxError with a character
// position into `list`, kNotSupported for other expressions (ARRAY[...], ROW(...), functions).
Result<std::vector<ParamValue>> parse_parameter_values(std::string_view list);

}  // namespace lakerouter::trino_protocol
