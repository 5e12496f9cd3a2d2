// ResultEncoder: turns a query result (ResultSchema + ResultBatches) into the bytes of one wire
// format, incrementally, so that any result size streams out in bounded memory. The HTTP API
// (docs/api.md) picks the format from the Accept header or the request's "format" field.
//
//   begin(schema, metadata) -> add_batch()* -> finish() | finish_with_error()
//   pending_bytes()/take() at any point hand over what is encoded so far.
//
// Formats: JSON (the /v1/query document), NDJSON (one object per row), CSV (RFC 4180 quoting,
// PostgreSQL COPY conventions), Arrow IPC stream, Parquet. Encoders format values themselves from
// the batches; the Arrow and Parquet bytes come from the Arrow C++ libraries.
// Not thread-safe: one encoder per response, driven by one thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/result_batch.h"
#include "core/status.h"
#include "core/types.h"

namespace lakerouter::formats {

enum class ResultFormat : uint8_t { kJson, kNdjson, kCsv, kArrow, kParquet };

// "json", "ndjson", "csv", "arrow", "parquet": the request body's "format" values.
std::string_view format_name(ResultFormat format);
std::optional<ResultFormat> format_from_name(std::string_view name);
std::string_view content_type(ResultFormat format);

// Picks the format for an Accept header value (media ranges with q-values; */*, application/*
// and text/* ranges included). Empty or absent: JSON. nullopt: nothing acceptable (406).
std::optional<ResultFormat> negotiate(std::string_view accept);

// The media types negotiate() knows, for the 406 message.
std::string_view supported_media_types();

struct ResultMetadata {
  std::string query_id;
  std::string engine;
  std::string routing_json;  // a JSON object (the routing summary), or empty
  std::string extra_json;    // JSON only: raw members appended at the end (e.g. "page":0,...)
};

class ResultEncoder {
 public:
  virtual ~ResultEncoder() = default;

  virtual Status begin(const ResultSchema& schema, const ResultMetadata& metadata) = 0;
  virtual Status add_batch(const ResultBatch& batch) = 0;
  virtual Status finish(int64_t row_count, double elapsed_ms) = 0;
  // After an error mid-result. True when the format carries the error in its bytes (JSON,
  // NDJSON): send them and end normally. False when it cannot (CSV, Arrow, Parquet): the caller
  // must abort the transfer so that the client sees a truncated body.
  virtual bool finish_with_error(int64_t row_count, const Error& error) = 0;

  // Encoded bytes not yet taken; take() hands them over and empties the buffer.
  virtual size_t pending_bytes() const = 0;
  virtual std::string take() = 0;
};

struct EncoderOptions {
  // Parquet: rows per row group. Memory is bounded by one row group, encoded and compressed.
  int64_t parquet_row_group_rows = 131072;
};

std::unique_ptr<ResultEncoder> make_encoder(ResultFormat format, const EncoderOptions& options = {});

}  // namespace lakerouter::formats
