// The audit log's record and how the pipeline emits it (docs/governance.md, "Audit log").
//
// One AuditRecord per statement a front-end hands Pipeline::run(): who (user, groups, source
// address, front-end), what (fingerprint, kind, tables, never the text), where it ran and why
// (engine, decision summary, policies), and how it ended (outcome, rows, elapsed time).
//
// No literal constant and no parameter value reaches a record: the statement text is not kept,
// only its fingerprint (a hash of the parse tree with constants masked), and free-text fields
// that may quote the statement (error messages, failover reasons) pass through
// redact_literals(), which replaces every literal the statement holds (and every parameter
// value) with '?'.
//
// A statement that runs is recorded by AuditedStream when its result ends, fails, or is
// dropped unread; a statement refused before any engine saw it is recorded by the pipeline.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/cancel_token.h"
#include "core/result_stream.h"
#include "core/statement.h"
#include "core/status.h"

namespace lakerouter::telemetry {

// What governance did to one table of the statement: whether it was governed (routing facts) and,
// for a governed table, the deciding table rule and the filter, masks and hidden columns applied.
struct TablePolicy {
  std::string table = {};
  bool governed = false;                 // the table has policies an engine must enforce
  std::optional<int> rule = {};          // 1-based number of the table rule that decided access
  bool filter = false;                   // a row filter applies
  std::vector<std::string> masks = {};   // masked columns
  std::vector<std::string> hidden = {};  // hidden columns
};

// The policies that applied, as the JSON text stored in `audit.policies`:
// {"tables": [{"table", "governed", "rule"?, "filter", "masks", "hidden"}], "denied"?: "..."}.
struct PoliciesApplied {
  std::vector<TablePolicy> tables;
  std::string denied;  // the refusal's reason for PERMISSION_DENIED (redacted), else ""

  std::string to_json() const;
};

// How a statement ended, as stored in `audit.outcome`.
enum class AuditOutcome : uint8_t {
  kOk,          // the result was read to its end
  kRefused,     // refused before any engine ran it (syntax, permission, no engine, overloaded)
  kFailed,      // an engine failed it (at start or mid-stream), timeouts included
  kCancelled,   // the client or the server cancelled it
  kIncomplete,  // the client stopped reading before the end without cancelling
};
std::string_view audit_outcome_name(AuditOutcome outcome);  // "ok", "refused", ...
std::optional<AuditOutcome> parse_audit_outcome(std::string_view name);

struct AuditRecord {
  int64_t id = 0;   // assigned by the store
  std::string ts;   // when the statement arrived: UTC ISO 8601 with milliseconds, "...T12:00:00.123Z"
  std::string query_id;
  std::string user;
  std::vector<std::string> groups;
  std::string source_address;
  std::string frontend;      // http, pgwire, trino
  std::string fingerprint;   // sql::fingerprint(); "" when the text does not parse
  std::string kind;          // sql::statement_kind_name(), e.g. "SELECT"
  std::vector<std::string> tables;
  std::string engine;        // "" when no engine ran it; "lakerouter" for EXPLAIN ROUTE
  std::string decision;      // the routing decision's short explanation (redacted)
  std::string policies;      // PoliciesApplied::to_json()
  int64_t rows = 0;          // rows returned to the client
  std::optional<int64_t> rows_changed;  // rows a write changed, when the engine says
  AuditOutcome outcome = AuditOutcome::kOk;
  std::string error_code;    // stable ErrorCode name, "" when ok
  std::string error_message; // redacted
  double elapsed_ms = 0;
};

// Where records go. Thread-safety: record() is called from any thread, concurrently, and must
// not block on I/O (it is on the statement's path).
class AuditSink {
 public:
  virtual ~AuditSink() = default;
  virtual void record(AuditRecord record) = 0;
};

// `text` with every literal `sql` holds (strings, numbers, comments) and every parameter value
// replaced by '?'. Literals are found with DuckDB's tokenizer; a
// value shorter than 4 characters is replaced only as a whole word.
std::string redact_literals(std::string_view text, std::string_view sql, const std::vector<ParamValue>& params);

// Now, as AuditRecord::ts.
std::string utc_timestamp(std::chrono::system_clock::time_point at);
// An ISO 8601 date or time ("2024-05-01", "2024-05-01T10:00", "...:00.5Z", "...+02:00") in the
// canonical UTC form of AuditRecord::ts, for range filters; kInvalidRequest when it is none.
Result<std::string> parse_utc_timestamp(std::string_view text);

// Counts the rows a statement returns and hands its record to the sink exactly once: when the
// stream ends, fails, or is destroyed before its end. `record` holds everything but the outcome,
// rows, error and elapsed time. Thread-safety: as ResultStream (cancel() from any thread).
class AuditedStream final : public ResultStream {
 public:
  // `cancel`: the token run() was given (may be null); it outlives the stream, as the engine's
  // own use of it requires. A stream dropped after its token was cancelled counts as cancelled.
  AuditedStream(std::unique_ptr<ResultStream> inner, AuditSink& sink, AuditRecord record,
                std::chrono::steady_clock::time_point started, Statement statement, const CancelToken* cancel);
  ~AuditedStream() override;
  AuditedStream(const AuditedStream&) = delete;
  AuditedStream& operator=(const AuditedStream&) = delete;

  const ResultSchema& schema() const override { return inner_->schema(); }
  Result<bool> next(ResultBatch& batch) override;
  void cancel(bool timed_out) override;
  std::optional<int64_t> rows_changed() const override { return inner_->rows_changed(); }

 private:
  void finish(AuditOutcome outcome, const Error* error);

  std::unique_ptr<ResultStream> inner_;
  AuditSink& sink_;
  AuditRecord record_;
  std::chrono::steady_clock::time_point started_;
  Statement statement_;  // for redaction only; never recorded
  int64_t rows_ = 0;
  bool finished_ = false;
  std::atomic<int> cancelled_{0};  // 0 no, 1 cancelled, 2 timed out: set from any thread
  const CancelToken* cancel_token_;  // may be null
};

// The outcome of an Error returned by Pipeline::run(): `ran` says whether an engine was started.
AuditOutcome outcome_of(const Error& error, bool ran);

}  // namespace lakerouter::telemetry
