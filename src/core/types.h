// Result types: one set of logical types that every engine maps onto and every encoder reads.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace lakerouter {

enum class TypeId : uint8_t {
  kNull,
  kBoolean,
  kTinyInt,
  kSmallInt,
  kInteger,
  kBigInt,
  kHugeInt,     // 128-bit signed, and unsigned 64-bit values
  kFloat,
  kDouble,
  kDecimal,     // exact; precision and scale in ColumnType
  kVarchar,
  kBlob,
  kDate,        // days since 1970-01-01
  kTime,        // microseconds since midnight
  kTimestamp,   // microseconds since the epoch, no time zone
  kTimestampTz, // microseconds since the epoch, UTC
  kInterval,    // text, e.g. "1 day 02:00:00"
  kUuid,        // text
  kJson,        // nested values (lists, structs, maps) as JSON text
  kOther,       // anything else, as the engine's text form
};

// How a column's values are held in a ResultBatch.
enum class PhysicalKind : uint8_t { kInt64, kInt128, kDouble, kString };

PhysicalKind physical_kind(TypeId id);

struct ColumnType {
  TypeId id = TypeId::kNull;
  uint8_t precision = 0;  // kDecimal only
  uint8_t scale = 0;      // kDecimal only
  std::string sql_name;   // the type as the engine spells it, e.g. "DECIMAL(15,2)"
};

struct ColumnInfo {
  std::string name;
  ColumnType type;
};

using ResultSchema = std::vector<ColumnInfo>;

}  // namespace lakerouter
