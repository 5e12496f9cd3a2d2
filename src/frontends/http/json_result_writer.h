// Encodes a query result as the JSON document of POST /v1/query, incrementally, so that a large
// result streams out in bounded memory:
//
//   {"query_id":..., "engine":..., "routing":{...}, "columns":[{"name","type"}...], "rows":[[...]...],
//    "row_count":N, "elapsed_ms":X, <trailer members>}   (or ..."row_count":N, "error":{...}} mid-stream)
//
// Trailer members are what is known only at the end, e.g. "timing":{"queued_ms":..,"engine_ms":..}.
//
// and as NDJSON (application/x-ndjson): one object per row, keys = column names, values encoded
// as in the JSON document; no header line (routing metadata goes in response headers); after an
// error mid-stream, a last line {"error":{...},"query_id":...,"row_count":N}.
//
// Value encoding: integers as JSON numbers (128-bit too); DECIMAL as a string with its exact
// digits ("1234.50"); floating point as numbers (NaN/Infinity as strings); DATE, TIME and
// TIMESTAMP as ISO 8601 strings (TIMESTAMPTZ in UTC with "Z"); BLOB as base64; lists, structs
// and maps as JSON; NULL as null. Not thread-safe.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/result_batch.h"
#include "core/status.h"
#include "core/types.h"
#include "frontends/formats/result_encoder.h"

namespace lakerouter::http {

class JsonResultWriter : public formats::ResultEncoder {
 public:
  JsonResultWriter();
  ~JsonResultWriter() override;

  // `routing_json` is a JSON object (the routing decision's summary), written as "routing".
  void begin(std::string_view query_id, std::string_view engine, std::string_view routing_json,
             const ResultSchema& schema);

  // Raw JSON members ("key":value,...) written after "elapsed_ms" by finish(), after the
  // metadata's extra_json; call it before finish().
  void add_trailer(std::string_view members);

  // ResultEncoder
  Status begin(const ResultSchema& schema, const formats::ResultMetadata& metadata) override;
  Status add_batch(const ResultBatch& batch) override;
  Status finish(int64_t row_count, double elapsed_ms) override;
  bool finish_with_error(int64_t row_count, const Error& error) override;
  size_t pending_bytes() const override;
  std::string take() override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

class NdjsonResultWriter : public formats::ResultEncoder {
 public:
  NdjsonResultWriter();
  ~NdjsonResultWriter() override;

  Status begin(const ResultSchema& schema, const formats::ResultMetadata& metadata) override;
  Status add_batch(const ResultBatch& batch) override;
  Status finish(int64_t row_count, double elapsed_ms) override;
  bool finish_with_error(int64_t row_count, const Error& error) override;
  size_t pending_bytes() const override;
  std::string take() override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The error document: {"error":{"code","message","position"?},"query_id"?}.
std::string error_json(const Error& error, std::string_view query_id = {});

}  // namespace lakerouter::http
