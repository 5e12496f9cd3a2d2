// Values between lakerouter's result columns / statement parameters and PostgreSQL's wire forms:
// the type OID, length and typmod of each TypeId, the text form (as PostgreSQL prints it) and the
// binary form of each value, and parameters arriving in text or binary.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "core/result_batch.h"
#include "core/statement.h"
#include "core/status.h"
#include "core/types.h"

namespace lakerouter::pgwire {

// PostgreSQL type OIDs used here.
namespace oid {
inline constexpr int32_t kBool = 16, kBytea = 17, kInt8 = 20, kInt2 = 21, kInt4 = 23, kText = 25, kOid = 26,
                         kJson = 114, kFloat4 = 700, kFloat8 = 701, kUnknown = 705, kBpchar = 1042,
                         kVarchar = 1043, kDate = 1082, kTime = 1083, kTimestamp = 1114, kTimestampTz = 1184,
                         kInterval = 1186, kNumeric = 1700, kUuid = 2950, kJsonb = 3802, kName = 19;
}

struct PgType {
  int32_t oid = oid::kText;
  int16_t typlen = -1;
  int32_t typmod = -1;
};
PgType pg_type(const ColumnType& type);

// Appends column `col`'s value at `row` (not null) in text (PostgreSQL's output) or binary form.
void append_text(std::string& out, const ColumnType& type, const ColumnData& col, size_t row);
void append_binary(std::string& out, const ColumnType& type, const ColumnData& col, size_t row);

// A parameter value from the client: `type_oid` from Parse (0: unspecified), `binary` from Bind's
// format codes. NULL is handled by the caller.
Result<ParamValue> decode_param(int32_t type_oid, bool binary, std::string_view data, size_t index);

// PostgreSQL binary NUMERIC of an unscaled value (helper exposed for tests).
void append_numeric_binary(std::string& out, __int128 unscaled, int scale);

}  // namespace lakerouter::pgwire
