#include "engines/postgres/postgres_engine.h"

#include <poll.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <deque>
#include <iterator>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <libpq-fe.h>
#include <spdlog/spdlog.h>

#include "core/rows_stream.h"
#include "engines/postgres/postgres_convert.h"

namespace lakerouter {
namespace postgres_internal {

using Clock = std::chrono::steady_clock;

// libpq objects, each freed by its own function.
struct ConnFree {
  void operator()(PGconn* c) const { PQfinish(c); }
};
struct ResultFree {
  void operator()(PGresult* r) const { PQclear(r); }
};
struct CancelFree {
  void operator()(PGcancel* c) const { PQfreeCancel(c); }
};
struct ConninfoFree {
  void operator()(PQconninfoOption* o) const { PQconninfoFree(o); }
};
struct PqFree {
  void operator()(char* p) const { PQfreemem(p); }
};
using ConnPtr = std::unique_ptr<PGconn, ConnFree>;
using ResultPtr = std::unique_ptr<PGresult, ResultFree>;
using CancelPtr = std::unique_ptr<PGcancel, CancelFree>;
using ConninfoPtr = std::unique_ptr<PQconninfoOption, ConninfoFree>;

namespace {

// Server settings lakerouter's parsers rely on (see postgres_convert.h), sent at connect time so
// that they cost no round trip. extra_float_digits=1 makes floats print exactly.
constexpr std::string_view kSessionOptions =
    "-c DateStyle=ISO -c IntervalStyle=postgres -c bytea_output=hex -c extra_float_digits=1";
// A cancel request is re-sent at this interval while the statement keeps running (one that reaches
// the server just before the statement does is ignored), and the wait is given up after the last.
constexpr auto kCancelResend = std::chrono::seconds(1);
constexpr auto kCancelGiveUp = std::chrono::seconds(10);
constexpr int kPollMillis = 50;

// libpq's messages end with a newline and continue lines with "\n\t"; lakerouter's are one line.
std::string one_line(std::string_view text) {
  std::string out;
  for (char ch : text) {
    if (ch == '\n' || ch == '\t' || ch == '\r') {
      if (!out.empty() && out.back() != ' ') out.push_back(' ');
    } else {
      out.push_back(ch);
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

void add_secret(std::vector<std::string>& secrets, std::string_view s) {
  if (!s.empty() && std::find(secrets.begin(), secrets.end(), s) == secrets.end()) secrets.emplace_back(s);
}

// The password as written anywhere in the DSN (key=value, URI user info, URI query) and as
// libpq decoded it, so that no message repeats it, whichever form a libpq message quotes.
std::vector<std::string> dsn_secrets(std::string_view dsn, const PQconninfoOption* parsed) {
  std::vector<std::string> secrets;
  for (const auto* o = parsed; o && o->keyword; ++o) {
    if (o->val && std::string_view(o->keyword) == "password") add_secret(secrets, o->val);
  }
  for (size_t at = dsn.find("password="); at != std::string_view::npos; at = dsn.find("password=", at + 1)) {
    const size_t start = at + 9;
    if (start < dsn.size() && dsn[start] == '\'') {
      add_secret(secrets, dsn.substr(start + 1, dsn.find('\'', start + 1) - start - 1));
    } else {
      add_secret(secrets, dsn.substr(start, dsn.find_first_of(" \t\n&", start) - start));
    }
  }
  if (const size_t scheme = dsn.find("://"); scheme != std::string_view::npos) {
    const size_t start = scheme + 3;
    const size_t end = dsn.find_first_of("@/", start);  // libpq's user info ends at the first '@' or '/'
    if (end != std::string_view::npos && dsn[end] == '@') {
      const auto userinfo = dsn.substr(start, end - start);
      if (const size_t colon = userinfo.find(':'); colon != std::string_view::npos) {
        add_secret(secrets, userinfo.substr(colon + 1));
      }
    }
  }
  return secrets;
}

// Masks the secrets in a message. A secret too short to mask without mangling the message (any
// word may contain it) withholds the whole message instead.
std::string redact(std::string message, const std::vector<std::string>& secrets) {
  for (const auto& secret : secrets) {
    if (message.find(secret) == std::string::npos) continue;
    if (secret.size() < 4) return "(libpq's message is withheld because it would reveal the password)";
    for (size_t at = message.find(secret); at != std::string::npos; at = message.find(secret, at + 8)) {
      message.replace(at, secret.size(), "********");
    }
  }
  return message;
}

std::string conninfo_value(const PQconninfoOption* parsed, std::string_view key) {
  for (const auto* o = parsed; o && o->keyword; ++o) {
    if (o->val && key == o->keyword) return o->val;
  }
  return "";
}

// "user@host:port/dbname" from the parsed DSN, for messages; never the password.
std::string describe_target(const PQconninfoOption* parsed) {
  std::string host = conninfo_value(parsed, "host");
  if (host.empty()) host = conninfo_value(parsed, "hostaddr");
  const std::string user = conninfo_value(parsed, "user");
  const std::string port = conninfo_value(parsed, "port");
  const std::string db = conninfo_value(parsed, "dbname");
  return fmt::format("{}{}{}{}{}", user.empty() ? "" : user + "@", host.empty() ? "the default host" : host,
                     port.empty() ? "" : ":" + port, db.empty() ? "" : "/", db);
}

}  // namespace

// What the engine knows of its DSN.
struct ConnectSettings {
  std::string dsn;
  std::string options;  // the DSN's own `options`, then kSessionOptions
  std::string target;   // for messages
  std::vector<std::string> secrets;
};

// A statement prepared on one connection.
struct PreparedStatement {
  std::string name;  // lr_1, lr_2, ... per connection
  int param_count = 0;
  ResultSchema schema;
  std::vector<ColumnDecoder> decoders;  // one per schema column
  uint64_t last_used = 0;
};

// One server session and what lakerouter remembers of it.
struct Connection {
  ConnPtr pg;
  // Made once at connect: PQgetCancel reads the connection, which the consumer thread may be
  // using when another thread needs to cancel.
  CancelPtr cancel;
  Clock::time_point idle_since{};
  bool reused = false;                          // handed out from the idle list, not new
  std::optional<int64_t> statement_timeout_ms;  // as lakerouter set it; nullopt: the server's own
  std::unordered_map<std::string, PreparedStatement> prepared;  // by SQL text
  // Hashes of parameterless texts run once unprepared (see should_run_unprepared). A hash
  // collision merely prepares early.
  std::unordered_set<size_t> seen;
  uint64_t prepared_count = 0;
  uint64_t uses = 0;
  // The server said it is closing the session (FATAL while idle: pg_terminate_backend, shutdown).
  // libpq reports such a message as a notice and keeps the connection "OK" until it reads the end
  // of file, which may not have arrived yet.
  bool doomed = false;
};

namespace {

// Notices (e.g. "table does not exist, skipping") would go to stderr by default; a FATAL one
// dooms its connection.
void on_notice(void* arg, const PGresult* result) {
  const char* severity = PQresultErrorField(result, PG_DIAG_SEVERITY_NONLOCALIZED);
  const char* text = PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
  if (severity && (std::string_view(severity) == "FATAL" || std::string_view(severity) == "PANIC")) {
    static_cast<Connection*>(arg)->doomed = true;
  }
  spdlog::debug("PostgreSQL {}: {}", severity ? severity : "notice", text ? text : "");
}

}  // namespace

// pg_type rows of non-built-in types, shared by all connections of an engine (OIDs are stable
// while a type exists; a re-created type gets a new OID).
class TypeCache {
 public:
  std::optional<PgTypeInfo> find(Oid oid) const {
    std::lock_guard lock(mu_);
    auto it = types_.find(oid);
    if (it == types_.end()) return std::nullopt;
    return it->second;
  }
  void put(Oid oid, PgTypeInfo info) {
    std::lock_guard lock(mu_);
    types_[oid] = std::move(info);
  }

 private:
  mutable std::mutex mu_;
  std::unordered_map<Oid, PgTypeInfo> types_;
};

class Pool;

// A connection borrowed from the pool; returns itself on destruction, or is closed if discarded
// or no longer clean (broken, or left inside a transaction).
class Lease {
 public:
  Lease(std::shared_ptr<Pool> pool, std::unique_ptr<Connection> conn) : pool_(std::move(pool)), conn_(std::move(conn)) {}
  Lease(Lease&&) noexcept = default;
  Lease& operator=(Lease&&) = delete;
  ~Lease();

  Connection& conn() { return *conn_; }
  PGconn* pg() { return conn_->pg.get(); }
  Pool& pool() { return *pool_; }
  const std::shared_ptr<Pool>& pool_ptr() const { return pool_; }
  void discard() { keep_ = false; }

 private:
  std::shared_ptr<Pool> pool_;
  std::unique_ptr<Connection> conn_;
  bool keep_ = true;
};

class Pool : public std::enable_shared_from_this<Pool> {
 public:
  Pool(PostgresEngineOptions options, ConnectSettings settings)
      : options_(std::move(options)), settings_(std::move(settings)) {}

  const PostgresEngineOptions& options() const { return options_; }
  const ConnectSettings& settings() const { return settings_; }
  TypeCache& types() { return types_; }

  // An idle connection that is still alive, else a new one while under pool_size, else waits.
  Result<Lease> acquire(std::chrono::milliseconds wait);
  void release(std::unique_ptr<Connection> conn, bool keep);
  void close_idle();
  PostgresPoolStats stats() const;

 private:
  Result<std::unique_ptr<Connection>> connect() const;
  void take_expired_locked(Clock::time_point now, std::vector<std::unique_ptr<Connection>>& expired);

  const PostgresEngineOptions options_;
  const ConnectSettings settings_;
  TypeCache types_;
  mutable std::mutex mu_;
  std::condition_variable available_;
  std::deque<std::unique_ptr<Connection>> idle_;  // guarded by mu_; oldest first
  int open_ = 0;                                  // guarded by mu_; idle and leased
};

Lease::~Lease() {
  if (conn_) pool_->release(std::move(conn_), keep_);
}

namespace {

// True when an idle connection is still usable. A server that closed it (restart,
// pg_terminate_backend) has sent its last words and an end of file; reading what is pending, with
// no round trip, tells.
bool still_alive(Connection& conn) {
  PGconn* pg = conn.pg.get();
  for (int i = 0; i < 4; ++i) {
    if (conn.doomed || PQstatus(pg) != CONNECTION_OK || PQtransactionStatus(pg) != PQTRANS_IDLE) return false;
    pollfd fd{PQsocket(pg), POLLIN, 0};
    const int ready = poll(&fd, 1, 0);
    if (ready == 0) return true;
    if (ready < 0 || !PQconsumeInput(pg)) return false;
    while (PGnotify* n = PQnotifies(pg)) PQfreemem(n);
  }
  return !conn.doomed && PQstatus(pg) == CONNECTION_OK;
}

}  // namespace

Result<Lease> Pool::acquire(std::chrono::milliseconds wait) {
  const auto deadline = Clock::now() + wait;
  std::vector<std::unique_ptr<Connection>> closing;  // closed outside the lock (declared before it)
  std::unique_lock lock(mu_);
  while (true) {
    take_expired_locked(Clock::now(), closing);
    if (!idle_.empty()) {
      auto conn = std::move(idle_.back());  // the most recently used: warm, least likely expired
      idle_.pop_back();
      lock.unlock();
      if (still_alive(*conn)) {
        conn->reused = true;
        return Lease(shared_from_this(), std::move(conn));
      }
      spdlog::info("PostgreSQL engine '{}': dropped a pooled connection the server has closed", options_.name);
      conn.reset();
      lock.lock();
      --open_;
      continue;
    }
    if (open_ < options_.pool_size) {
      ++open_;
      lock.unlock();
      auto conn = connect();
      if (conn.ok()) return Lease(shared_from_this(), std::move(*conn));
      lock.lock();
      --open_;
      lock.unlock();
      available_.notify_one();
      return std::move(conn).error();
    }
    if (available_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
        open_ >= options_.pool_size) {
      return Error(ErrorCode::kOverloaded,
                   fmt::format("all {} connections of PostgreSQL engine '{}' stayed busy for {} ms; retry later or "
                               "raise its pool_size",
                               options_.pool_size, options_.name, wait.count()));
    }
  }
}

void Pool::take_expired_locked(Clock::time_point now, std::vector<std::unique_ptr<Connection>>& expired) {
  while (!idle_.empty() && now - idle_.front()->idle_since >= options_.idle_timeout) {
    expired.push_back(std::move(idle_.front()));
    idle_.pop_front();
    --open_;
  }
}

void Pool::release(std::unique_ptr<Connection> conn, bool keep) {
  keep = keep && !conn->doomed && PQstatus(conn->pg.get()) == CONNECTION_OK &&
         PQtransactionStatus(conn->pg.get()) == PQTRANS_IDLE;
  {
    std::lock_guard lock(mu_);
    if (keep) {
      conn->idle_since = Clock::now();
      idle_.push_back(std::move(conn));
    } else {
      --open_;
    }
  }
  available_.notify_one();
  // A discarded connection closes here, outside the lock.
}

void Pool::close_idle() {
  std::deque<std::unique_ptr<Connection>> closing;
  {
    std::lock_guard lock(mu_);
    open_ -= static_cast<int>(idle_.size());
    closing.swap(idle_);
  }
  available_.notify_all();
}

PostgresPoolStats Pool::stats() const {
  std::lock_guard lock(mu_);
  return PostgresPoolStats{open_, static_cast<int>(idle_.size())};
}

Result<std::unique_ptr<Connection>> Pool::connect() const {
  // libpq's connect_timeout is in whole seconds (and at least 2).
  const auto seconds = std::max<int64_t>(1, (options_.connect_timeout.count() + 999) / 1000);
  const std::string timeout = std::to_string(seconds);
  // The DSN comes first (expand_dbname); the keys after it override its values.
  const char* keys[] = {"dbname", "fallback_application_name", "client_encoding", "connect_timeout", "options", nullptr};
  const char* values[] = {settings_.dsn.c_str(), "lakerouter", "UTF8", timeout.c_str(), settings_.options.c_str(),
                          nullptr};
  ConnPtr pg(PQconnectdbParams(keys, values, /*expand_dbname=*/1));
  if (!pg) return Error(ErrorCode::kOutOfMemory, "libpq could not allocate a connection");
  if (PQstatus(pg.get()) != CONNECTION_OK) {
    return Error(ErrorCode::kEngineUnavailable,
                 fmt::format("cannot connect to PostgreSQL engine '{}' at {}: {}", options_.name, settings_.target,
                             redact(one_line(PQerrorMessage(pg.get())), settings_.secrets)));
  }
  auto conn = std::make_unique<Connection>();
  conn->pg = std::move(pg);
  PQsetNoticeReceiver(conn->pg.get(), &on_notice, conn.get());  // conn stays where it is: heap
  conn->cancel.reset(PQgetCancel(conn->pg.get()));
  if (!conn->cancel) return Error(ErrorCode::kOutOfMemory, "libpq could not allocate a cancel handle");
  spdlog::debug("PostgreSQL engine '{}': connected to {} (backend pid {})", options_.name, settings_.target,
                PQbackendPID(conn->pg.get()));
  return conn;
}

namespace {

// --- Talking to the server --------------------------------------------------------------------

// Waits until PQgetResult() will not block. Polls so that `keep_waiting` runs every few
// milliseconds (cancel re-sends, giving up); false when it or the deadline ends the wait.
template <typename KeepWaiting>
bool wait_for_result(PGconn* pg, Clock::time_point deadline, KeepWaiting&& keep_waiting) {
  while (PQisBusy(pg)) {
    const auto now = Clock::now();
    if (now >= deadline || !keep_waiting()) return false;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count();
    pollfd fd{PQsocket(pg), POLLIN, 0};
    if (fd.fd < 0) return true;  // broken: PQgetResult() reports it
    const int ready = poll(&fd, 1, static_cast<int>(std::clamp<int64_t>(left, 1, kPollMillis)));
    if (ready < 0 && errno != EINTR) return true;
    if (ready > 0 && !PQconsumeInput(pg)) return true;
  }
  return true;
}

bool failed(const PGresult* r) {
  const auto status = PQresultStatus(r);
  return status == PGRES_FATAL_ERROR || status == PGRES_BAD_RESPONSE || status == PGRES_NONFATAL_ERROR;
}

std::string_view field(const PGresult* r, int code) {
  const char* value = PQresultErrorField(r, code);
  return value ? value : "";
}

// A connection that failed under lakerouter (libpq's own errors have no SQLSTATE).
Error connection_lost(Pool& pool, std::string_view libpq_message) {
  return Error(ErrorCode::kEngineUnavailable,
               fmt::format("lost the connection to PostgreSQL engine '{}' at {}: {}", pool.options().name,
                           pool.settings().target, redact(one_line(libpq_message), pool.settings().secrets)));
}

// The error of a failed command: PostgreSQL's message, detail, hint and SQLSTATE, and for
// statement errors the position (PostgreSQL counts characters from 1; lakerouter from 0).
Error command_error(const PGresult* r, PGconn* pg, Pool& pool) {
  if (!r) return connection_lost(pool, PQerrorMessage(pg));
  const auto state = field(r, PG_DIAG_SQLSTATE);
  const auto primary = field(r, PG_DIAG_MESSAGE_PRIMARY);
  if (state.empty() || primary.empty() || PQstatus(pg) == CONNECTION_BAD) {
    return connection_lost(pool, PQresultErrorMessage(r)[0] ? PQresultErrorMessage(r) : PQerrorMessage(pg));
  }
  std::string message(primary);
  if (const auto detail = field(r, PG_DIAG_MESSAGE_DETAIL); !detail.empty()) fmt::format_to(std::back_inserter(message), "; {}", detail);
  if (const auto hint = field(r, PG_DIAG_MESSAGE_HINT); !hint.empty()) fmt::format_to(std::back_inserter(message), " Hint: {}", hint);
  fmt::format_to(std::back_inserter(message), " (PostgreSQL SQLSTATE {})", state);
  if (is_connection_sqlstate(state)) {
    message = fmt::format("PostgreSQL engine '{}' at {}: {}", pool.options().name, pool.settings().target, message);
  }
  std::optional<uint32_t> position;
  if (auto pos = parse_int(field(r, PG_DIAG_STATEMENT_POSITION)); pos && *pos >= 1) {
    position = static_cast<uint32_t>(*pos - 1);
  }
  return Error(code_for_sqlstate(state, primary), std::move(message), position);
}

// Reads every result of the command just sent: the first error, else the last result.
Result<ResultPtr> collect(Lease& lease, Clock::time_point deadline) {
  ResultPtr kept;
  while (true) {
    if (!wait_for_result(lease.pg(), deadline, [] { return true; })) {
      lease.discard();  // still busy: never hand it out again
      return Error(ErrorCode::kEngineUnavailable,
                   fmt::format("PostgreSQL engine '{}' at {} did not answer within {} ms", lease.pool().options().name,
                               lease.pool().settings().target, lease.pool().options().connect_timeout.count()));
    }
    ResultPtr r(PQgetResult(lease.pg()));
    if (!r) break;
    if (!kept || !failed(kept.get())) kept = std::move(r);
  }
  if (!kept || failed(kept.get())) return command_error(kept.get(), lease.pg(), lease.pool());
  return kept;
}

// Runs a utility command of lakerouter's own (simple query protocol; no parameters).
Result<ResultPtr> run(Lease& lease, const std::string& sql) {
  if (!PQsendQuery(lease.pg(), sql.c_str())) return connection_lost(lease.pool(), PQerrorMessage(lease.pg()));
  return collect(lease, Clock::now() + lease.pool().options().connect_timeout);
}

// Session::timeout, else the engine's statement_timeout, becomes the server's statement_timeout;
// a SET only when it changes, so repeated statements pay no round trip for it.
Status apply_statement_timeout(Lease& lease, const Session& session) {
  const auto wanted = session.timeout.value_or(lease.pool().options().statement_timeout);
  const std::optional<int64_t> ms = wanted.count() > 0 ? std::optional<int64_t>(wanted.count()) : std::nullopt;
  auto& conn = lease.conn();
  if (conn.statement_timeout_ms == ms) return Status::Ok();
  auto r = run(lease, ms ? fmt::format("SET statement_timeout = {}", *ms) : std::string("RESET statement_timeout"));
  if (!r.ok()) return r.error();
  conn.statement_timeout_ms = ms;
  return Status::Ok();
}

// --- Prepared statements and their result types ------------------------------------------------

// Reads the pg_type rows of `oids` into the engine's cache (one round trip for all).
Status look_up_types(Lease& lease, const std::vector<Oid>& oids) {
  auto r = run(lease, fmt::format("SELECT oid::int8, typname, typtype, typcategory, typelem::int8 "
                                  "FROM pg_catalog.pg_type WHERE oid IN ({})",
                                  fmt::join(oids, ",")));
  if (!r.ok()) return r.error();
  const PGresult* rows = r->get();
  for (int i = 0; i < PQntuples(rows); ++i) {
    PgTypeInfo info;
    info.name = PQgetvalue(rows, i, 1);
    info.type = PQgetvalue(rows, i, 2)[0];
    info.category = PQgetvalue(rows, i, 3)[0];
    info.element = static_cast<Oid>(parse_int(PQgetvalue(rows, i, 4)).value_or(0));
    lease.pool().types().put(static_cast<Oid>(parse_int(PQgetvalue(rows, i, 0)).value_or(0)), std::move(info));
  }
  return Status::Ok();
}

// How to read each result column, from what the engine knows: built-in types directly, others
// from its pg_type cache; a type it does not know (or one dropped since) reads as text.
std::vector<ColumnDecoder> known_decoders(Pool& pool, const PGresult* described) {
  std::vector<ColumnDecoder> decoders;
  for (int i = 0; i < PQnfields(described); ++i) {
    const Oid oid = PQftype(described, i);
    if (auto builtin = builtin_decoder(oid, PQfmod(described, i))) {
      decoders.push_back(std::move(*builtin));
    } else {
      decoders.push_back(catalog_decoder(pool.types().find(oid).value_or(PgTypeInfo{fmt::format("oid {}", oid)})));
    }
  }
  return decoders;
}

// The result's column types that are neither built in nor in the engine's pg_type cache, each once.
std::vector<Oid> unknown_types(Pool& pool, const PGresult* described) {
  std::vector<Oid> unknown;
  for (int i = 0; i < PQnfields(described); ++i) {
    const Oid oid = PQftype(described, i);
    if (!builtin_decoder(oid, PQfmod(described, i)) && !pool.types().find(oid) &&
        std::find(unknown.begin(), unknown.end(), oid) == unknown.end()) {
      unknown.push_back(oid);
    }
  }
  return unknown;
}

// The same as known_decoders() after looking up, in pg_type, the types the engine does not know yet.
Result<std::vector<ColumnDecoder>> column_decoders(Lease& lease, const PGresult* described) {
  const auto unknown = unknown_types(lease.pool(), described);
  if (!unknown.empty()) LR_TRY(look_up_types(lease, unknown));
  return known_decoders(lease.pool(), described);
}

ResultSchema schema_of(const PGresult* described, const std::vector<ColumnDecoder>& decoders) {
  ResultSchema schema;
  for (int i = 0; i < PQnfields(described); ++i) {
    schema.push_back(ColumnInfo{PQfname(described, i), decoders[static_cast<size_t>(i)].type});
  }
  return schema;
}

// Whether a statement not prepared on this connection runs unprepared, in one round trip, rather
// than prepared, described and cached. Statements with parameters are made to be reused, and are
// prepared. A parameterless text is prepared only when it comes a second time and the cache has
// room: texts with inlined literals (lookups by id in simple-query mode) are seldom reused before
// they would be evicted, and each would cost a prepare, a describe and a DEALLOCATE.
bool should_run_unprepared(Connection& conn, const Statement& statement, const Pool& pool) {
  if (!statement.params.empty()) return false;
  if (conn.prepared.size() >= static_cast<size_t>(pool.options().prepared_statements_per_connection)) return true;
  constexpr size_t kMaxSeen = 4096;  // then forgotten wholesale: at worst one more unprepared run each
  if (conn.seen.size() >= kMaxSeen) conn.seen.clear();
  return conn.seen.insert(std::hash<std::string>{}(statement.sql)).second;
}

// Keeps the per-connection cache within its bound by deallocating the least recently used.
Status make_room(Lease& lease) {
  auto& cache = lease.conn().prepared;
  if (cache.size() < static_cast<size_t>(lease.pool().options().prepared_statements_per_connection)) {
    return Status::Ok();
  }
  auto oldest = std::min_element(cache.begin(), cache.end(),
                                 [](const auto& a, const auto& b) { return a.second.last_used < b.second.last_used; });
  auto r = run(lease, "DEALLOCATE " + oldest->second.name);
  if (!r.ok()) return r.error();
  cache.erase(oldest);
  return Status::Ok();
}

// The statement prepared on this connection: from its cache, or parsed and described now. Either
// way statement errors (syntax, unknown table or column) surface here, before execution.
Result<PreparedStatement> prepare(Lease& lease, const std::string& sql) {
  Connection& conn = lease.conn();
  if (auto it = conn.prepared.find(sql); it != conn.prepared.end()) {
    it->second.last_used = ++conn.uses;
    return it->second;
  }
  LR_TRY(make_room(lease));
  PreparedStatement statement;
  statement.name = fmt::format("lr_{}", ++conn.prepared_count);
  ResultPtr made(PQprepare(lease.pg(), statement.name.c_str(), sql.c_str(), 0, nullptr));
  if (!made || PQresultStatus(made.get()) != PGRES_COMMAND_OK) return command_error(made.get(), lease.pg(), lease.pool());
  ResultPtr described(PQdescribePrepared(lease.pg(), statement.name.c_str()));
  if (!described || PQresultStatus(described.get()) != PGRES_COMMAND_OK) {
    return command_error(described.get(), lease.pg(), lease.pool());
  }
  auto decoders = column_decoders(lease, described.get());
  if (!decoders.ok()) return decoders.error();
  statement.param_count = PQnparams(described.get());
  statement.decoders = std::move(*decoders);
  statement.schema = schema_of(described.get(), statement.decoders);
  statement.last_used = ++conn.uses;
  conn.prepared.emplace(sql, statement);
  return statement;
}

// Forgets a cached statement, on the server too.
Status forget(Lease& lease, const std::string& sql) {
  auto& cache = lease.conn().prepared;
  auto it = cache.find(sql);
  if (it == cache.end()) return Status::Ok();
  auto r = run(lease, "DEALLOCATE " + it->second.name);
  cache.erase(it);
  return r.ok() ? Status::Ok() : Status(r.error());
}

// PostgreSQL refuses to run a cached statement whose result columns changed (ALTER TABLE,
// re-created table) until it is prepared again.
bool is_stale_plan(const PGresult* r) {
  return PQresultStatus(r) == PGRES_FATAL_ERROR && field(r, PG_DIAG_SQLSTATE) == "0A000" &&
         field(r, PG_DIAG_MESSAGE_PRIMARY).find("cached plan must not change result type") != std::string_view::npos;
}

// --- The stream --------------------------------------------------------------------------------

// Runs one statement on a leased connection and streams its rows: a prepared one, or (no name)
// an unprepared one whose schema comes with its first result. The statement starts on the first
// next(), so a cancel() before it means it never runs. The connection goes back to the pool as
// soon as the last result is read, not when the stream is destroyed.
class PostgresStream final : public ResultStream {
 public:
  PostgresStream(Lease lease, PreparedStatement prepared, std::vector<std::optional<std::string>> params,
                 std::string sql)
      : pool_(lease.pool_ptr()),
        lease_(std::move(lease)),
        prepared_(std::move(prepared)),
        params_(std::move(params)),
        sql_(std::move(sql)) {
    for (const auto& p : params_) param_ptrs_.push_back(p ? p->c_str() : nullptr);
  }
  PostgresStream(const PostgresStream&) = delete;
  PostgresStream& operator=(const PostgresStream&) = delete;
  ~PostgresStream() override {
    if (state_ == State::kRunning) abandon();
  }

  const ResultSchema& schema() const override { return prepared_.schema; }

  Result<bool> next(ResultBatch& batch) override {
    if (failed_) return *failed_;
    if (state_ == State::kDone) return false;  // every row was read: a late cancel changes nothing
    if (cancelled_) return fail(stopped_error());
    ResultPtr first;
    if (state_ == State::kReady) {
      auto started = begin();
      if (!started.ok()) return fail(std::move(started).error());
      first = std::move(*started);
      batch.reset(prepared_.schema);
    }
    auto more = fetch(batch, std::move(first));
    if (!more.ok()) return fail(std::move(more).error());
    return more;
  }

  // Quick and safe from any thread: sends PostgreSQL's cancel request when the statement runs;
  // next() then returns kQueryCancelled or kQueryTimeout.
  void cancel(bool timed_out) override {
    if (timed_out) timed_out_ = true;
    cancelled_ = true;
    std::lock_guard lock(cancel_mu_);
    send_cancel_locked(/*force=*/false);
  }

  std::optional<int64_t> rows_changed() const override { return rows_changed_; }

 private:
  enum class State { kReady, kRunning, kDone };

  bool unprepared() const { return prepared_.name.empty(); }

  // Sends the statement and reads its first result; a cached plan whose result columns changed is
  // prepared again once (nothing ran: the server refuses it before execution).
  Result<ResultPtr> begin() {
    for (int attempt = 0;; ++attempt) {
      LR_TRY(send());
      auto first = next_result();
      if (unprepared() && first.ok() && *first && !failed(first->get())) LR_TRY(describe_unprepared(first->get()));
      if (!first.ok() || attempt > 0 || !*first || !is_stale_plan(first->get())) return first;
      drain();
      LR_TRY(forget(*lease_, sql_));
      auto again = prepare(*lease_, sql_);
      if (!again.ok()) return again.error();
      prepared_ = std::move(*again);
    }
  }

  Status send() {
    std::lock_guard lock(cancel_mu_);
    if (cancelled_) return stopped_error();
    PGconn* pg = lease_->pg();
    const int sent = unprepared()
                         ? PQsendQueryParams(pg, sql_.c_str(), 0, nullptr, nullptr, nullptr, nullptr, /*text*/ 0)
                         : PQsendQueryPrepared(pg, prepared_.name.c_str(), static_cast<int>(param_ptrs_.size()),
                                               param_ptrs_.data(), nullptr, nullptr, /*resultFormat=text*/ 0);
    if (!sent) {
      return connection_lost(*pool_, PQerrorMessage(pg));
    }
    // Right after sending, as libpq requires: rows then arrive one PGresult each, never the
    // whole result at once.
    PQsetSingleRowMode(pg);
    cancel_handle_ = lease_->conn().cancel.get();
    state_ = State::kRunning;
    return Status::Ok();
  }

  // The schema of an unprepared statement, from its first result. A type the engine does not know
  // yet is looked up in pg_type, which needs the connection: the results are read ahead until the
  // statement ends (then looked up), or, for a result too large to hold, read as text.
  Status describe_unprepared(const PGresult* first) {
    const auto unknown = unknown_types(*pool_, first);
    if (!unknown.empty()) {
      const size_t limit = static_cast<size_t>(pool_->options().batch_rows);
      while (read_ahead_.size() <= limit) {
        auto r = read_result();
        if (!r.ok()) return r.error();
        if (!*r) break;  // the statement is over: the connection is free for the lookup
        read_ahead_.push_back(std::move(*r));
      }
      if (read_ahead_.size() <= limit) {
        if (Status looked_up = look_up_types(*lease_, unknown); !looked_up.ok()) return looked_up;
        read_ahead_.push_back(nullptr);  // the end, already read
      } else {
        spdlog::debug("PostgreSQL engine '{}': a large unprepared result has types not looked up yet; read as text",
                      pool_->options().name);
      }
    }
    prepared_.decoders = known_decoders(*pool_, first);
    prepared_.schema = schema_of(first, prepared_.decoders);
    return Status::Ok();
  }

  // The next result of the running statement; a null one after the last.
  Result<ResultPtr> next_result() {
    if (!read_ahead_.empty()) {
      ResultPtr r = std::move(read_ahead_.front());
      read_ahead_.pop_front();
      return r;
    }
    return read_result();
  }

  // The next result from the connection, past any read ahead.
  Result<ResultPtr> read_result() {
    if (!wait_for_result(lease_->pg(), Clock::time_point::max(), [this] { return keep_waiting(); })) {
      return Error(timed_out_ ? ErrorCode::kQueryTimeout : ErrorCode::kQueryCancelled,
                   fmt::format("PostgreSQL engine '{}' did not stop the statement within {} s of the cancel request; "
                               "its connection was closed",
                               pool_->options().name, kCancelGiveUp.count()));
    }
    return ResultPtr(PQgetResult(lease_->pg()));
  }

  // While waiting for rows: re-sends a cancel request that may have been lost, and stops waiting
  // for a server that ignores them.
  bool keep_waiting() {
    if (!cancelled_) return true;
    std::lock_guard lock(cancel_mu_);
    send_cancel_locked(/*force=*/false);
    return !cancel_sent_ || Clock::now() - first_cancel_ < kCancelGiveUp;
  }

  // Fills the batch with up to batch_rows rows; releases the connection after the last result.
  Result<bool> fetch(ResultBatch& batch, ResultPtr result) {
    const auto limit = static_cast<size_t>(pool_->options().batch_rows);
    size_t rows = 0;
    while (rows < limit) {
      if (!result) {
        auto r = next_result();
        if (!r.ok()) return r.error();
        result = std::move(*r);
        if (!result) {
          finish(/*keep=*/!changed_session_);
          break;
        }
      }
      switch (PQresultStatus(result.get())) {
        case PGRES_SINGLE_TUPLE:
          LR_TRY(append_row(result.get(), batch));
          ++rows;
          break;
        case PGRES_TUPLES_OK:  // the end of the rows (single-row mode), or of a write's
        case PGRES_COMMAND_OK:
          note_command(result.get());
          break;
        case PGRES_EMPTY_QUERY: break;
        case PGRES_FATAL_ERROR: {
          Error error = statement_error(result.get());
          drain();
          finish(/*keep=*/true);
          return error;
        }
        default:
          return Error(ErrorCode::kNotSupported,
                       "COPY from or to the client is not supported through lakerouter; use INSERT ... SELECT, or "
                       "COPY with a server-side file");
      }
      result.reset();
    }
    return rows > 0;
  }

  Status append_row(const PGresult* row, ResultBatch& batch) {
    const int n = PQnfields(row);
    if (static_cast<size_t>(n) != prepared_.decoders.size()) {
      return Error(ErrorCode::kInternal, fmt::format("PostgreSQL sent {} columns where {} were described", n,
                                                     prepared_.decoders.size()));
    }
    for (int c = 0; c < n; ++c) {
      auto& column = batch.column(static_cast<size_t>(c));
      if (PQgetisnull(row, 0, c)) {
        column.append_null();
        continue;
      }
      const std::string_view text(PQgetvalue(row, 0, c), static_cast<size_t>(PQgetlength(row, 0, c)));
      const auto& decoder = prepared_.decoders[static_cast<size_t>(c)];
      if (!append_value(text, decoder, column)) {
        return Error(ErrorCode::kConversionError,
                     fmt::format("cannot read the value '{}' of column '{}' ({}) from PostgreSQL as {}; cast it to "
                                 "text or double precision in the query",
                                 text.substr(0, 64), prepared_.schema[static_cast<size_t>(c)].name,
                                 decoder.type.sql_name, decoder.type.id == TypeId::kDecimal ? "an exact decimal" : "its type"));
      }
    }
    return Status::Ok();
  }

  // Writes report their row count; a query's count of rows read is not a change. Commands that
  // change the session (SET ROLE, SET statement_timeout, DISCARD ALL, DEALLOCATE, ...) would
  // carry over to the next user of a pooled connection and invalidate what lakerouter remembers
  // of it: that connection is closed after the statement instead.
  void note_command(const PGresult* r) {
    const std::string_view tag = PQcmdStatus(const_cast<PGresult*>(r));
    for (std::string_view session_tag : {"SET", "RESET", "DISCARD", "DEALLOCATE", "PREPARE", "LISTEN"}) {
      if (tag.starts_with(session_tag) && (tag.size() == session_tag.size() || tag[session_tag.size()] == ' ')) {
        changed_session_ = true;
      }
    }
    const std::string_view tuples = PQcmdTuples(const_cast<PGresult*>(r));
    if (tuples.empty()) return;
    const bool writes = tag.starts_with("INSERT") || tag.starts_with("UPDATE") || tag.starts_with("DELETE") ||
                        tag.starts_with("MERGE") || tag.starts_with("COPY");
    if (PQresultStatus(r) == PGRES_TUPLES_OK && !writes) return;
    rows_changed_ = parse_int(tuples);
  }

  // The statement's error; PostgreSQL's query_canceled told apart into lakerouter's cancel, its
  // deadline, and the server's statement_timeout.
  Error statement_error(const PGresult* r) {
    Error error = command_error(r, lease_->pg(), *pool_);
    if (error.code != ErrorCode::kQueryCancelled && error.code != ErrorCode::kQueryTimeout) return error;
    if (timed_out_ || error.code == ErrorCode::kQueryTimeout) {
      return Error(ErrorCode::kQueryTimeout, "the query ran past its time limit and PostgreSQL stopped it");
    }
    if (cancelled_) return Error(ErrorCode::kQueryCancelled, "the query was cancelled");
    return error;  // cancelled on the server by someone else (pg_cancel_backend)
  }

  // Reads what is left of the results, so that the connection is idle again.
  void drain() {
    while (true) {
      auto r = next_result();
      if (!r.ok() || !*r) return;
    }
  }

  // Stops a statement that still runs: cancel it on the server, and close the connection (its
  // unread results would otherwise have to be read to the end). One never sent stays pooled.
  void abandon() {
    const bool running = state_ == State::kRunning;
    if (running) {
      std::lock_guard lock(cancel_mu_);
      send_cancel_locked(/*force=*/true);
    }
    finish(/*keep=*/!running);
  }

  void finish(bool keep) {
    bool cancel_sent = false;
    {
      std::lock_guard lock(cancel_mu_);
      cancel_handle_ = nullptr;
      cancel_sent = cancel_sent_;
    }
    // A cancel request may reach the server after its statement ended and stop the next one on
    // the same connection: such a connection is closed, not pooled.
    if (lease_) {
      if (!keep || cancel_sent) lease_->discard();
      lease_.reset();
    }
    state_ = State::kDone;
  }

  Result<bool> fail(Error error) {
    if (state_ != State::kDone) abandon();
    failed_ = error;
    return error;
  }

  void send_cancel_locked(bool force) {
    if (!cancel_handle_) return;
    const auto now = Clock::now();
    if (!force && cancel_sent_ && now - last_cancel_ < kCancelResend) return;
    char reason[256] = {};
    if (!PQcancel(cancel_handle_, reason, sizeof(reason))) {
      spdlog::warn("PostgreSQL engine '{}': the cancel request failed: {}", pool_->options().name, one_line(reason));
    }
    if (!cancel_sent_) first_cancel_ = now;
    cancel_sent_ = true;
    last_cancel_ = now;
  }

  Error stopped_error() const {
    return timed_out_ ? Error(ErrorCode::kQueryTimeout, "the query ran past its time limit and was stopped")
                      : Error(ErrorCode::kQueryCancelled, "the query was cancelled");
  }

  std::shared_ptr<Pool> pool_;
  std::optional<Lease> lease_;  // until the last result is read
  PreparedStatement prepared_;
  std::vector<std::optional<std::string>> params_;
  std::vector<const char*> param_ptrs_;  // into params_; nullptr is NULL
  std::string sql_;
  std::deque<ResultPtr> read_ahead_;  // results read before their turn (describe_unprepared)
  State state_ = State::kReady;  // the consumer thread's alone
  std::optional<Error> failed_;
  std::optional<int64_t> rows_changed_;
  bool changed_session_ = false;

  std::atomic<bool> cancelled_{false};
  std::atomic<bool> timed_out_{false};
  std::mutex cancel_mu_;
  PGcancel* cancel_handle_ = nullptr;  // guarded by cancel_mu_; set while the statement runs
  bool cancel_sent_ = false;           // guarded by cancel_mu_
  Clock::time_point first_cancel_{};   // guarded by cancel_mu_
  Clock::time_point last_cancel_{};    // guarded by cancel_mu_
};

Status check_options(const PostgresEngineOptions& o) {
  const auto where = fmt::format("PostgreSQL engine '{}'", o.name);
  auto bad = [&](std::string_view what) { return Error(ErrorCode::kConfigError, fmt::format("{}: {}", where, what)); };
  if (o.dsn.empty()) {
    return bad("no dsn; set it to a libpq connection string, e.g. postgresql://user:password@host:5432/dbname");
  }
  if (o.pool_size < 1) return bad(fmt::format("pool_size must be at least 1, not {}", o.pool_size));
  if (o.pool_wait.count() < 0) return bad("pool_wait must not be negative");
  if (o.idle_timeout.count() <= 0) return bad("idle_timeout must be positive");
  if (o.connect_timeout.count() <= 0) return bad("connect_timeout must be positive");
  if (o.statement_timeout.count() < 0) return bad("statement_timeout must not be negative (0: the server's own)");
  if (o.prepared_statements_per_connection < 1) return bad("prepared_statements_per_connection must be at least 1");
  if (o.batch_rows < 1) return bad("batch_rows must be at least 1");
  if (!PQisthreadsafe()) return bad("the libpq library in use is not thread-safe");
  return Status::Ok();
}

}  // namespace
}  // namespace postgres_internal

using namespace postgres_internal;

PostgresEngine::PostgresEngine(PrivateTag /*tag*/, std::string name, std::shared_ptr<Pool> pool)
    : name_(std::move(name)), pool_(std::move(pool)) {}
PostgresEngine::~PostgresEngine() = default;

Result<std::unique_ptr<PostgresEngine>> PostgresEngine::open(const PostgresEngineOptions& options) {
  LR_TRY(check_options(options));
  char* error = nullptr;
  ConninfoPtr parsed(PQconninfoParse(options.dsn.c_str(), &error));
  const std::unique_ptr<char, PqFree> error_owner(error);
  ConnectSettings settings;
  settings.secrets = dsn_secrets(options.dsn, parsed.get());
  if (!parsed) {
    return Error(ErrorCode::kConfigError,
                 fmt::format("PostgreSQL engine '{}': the dsn is not a valid libpq connection string: {}; write it "
                             "as postgresql://user:password@host:port/dbname or as key=value pairs",
                             options.name, error ? redact(one_line(error), settings.secrets) : "out of memory"));
  }
  settings.dsn = options.dsn;
  const std::string own_options = conninfo_value(parsed.get(), "options");
  settings.options = own_options.empty() ? std::string(kSessionOptions) : own_options + " " + std::string(kSessionOptions);
  settings.target = describe_target(parsed.get());
  return std::make_unique<PostgresEngine>(PrivateTag{}, options.name,
                                          std::make_shared<Pool>(options, std::move(settings)));
}

namespace {

// A script (several statements, Statement::script) through the simple query protocol, which
// PostgreSQL runs as one implicit transaction: all of it or, at the first error, none of it.
// The answer is the last statement's rows, and the rows its writes changed. It runs here, within
// execute(), bounded by the server's statement_timeout and `deadline`; the rows are held in
// memory (scripts are for writes and transactions, not large reads).
Result<std::unique_ptr<ResultStream>> run_script(Lease& lease, const Statement& statement,
                                                 Clock::time_point deadline) {
  if (!statement.params.empty()) {
    return Error(ErrorCode::kInvalidParameter,
                 "a script of several statements takes no parameters; send the statements one at a time to bind values");
  }
  if (!PQsendQuery(lease.pg(), statement.sql.c_str())) return connection_lost(lease.pool(), PQerrorMessage(lease.pg()));
  ResultPtr last;
  std::optional<int64_t> changed;
  bool changed_session = false;
  while (true) {
    if (!wait_for_result(lease.pg(), deadline, [] { return true; })) {
      // Stop it on the server first: a backend that is not told may still commit.
      char reason[256] = {};
      if (lease.conn().cancel) PQcancel(lease.conn().cancel.get(), reason, sizeof(reason));
      lease.discard();  // still busy: never hand it out again
      return Error(ErrorCode::kQueryTimeout,
                   "the script ran past its time limit and was cancelled; check what it wrote before running it "
                   "again (a COMMIT inside it, or one finishing as it was stopped, may have kept its changes)");
    }
    ResultPtr r(PQgetResult(lease.pg()));
    if (!r) break;
    if (failed(r.get())) {
      Error error = command_error(r.get(), lease.pg(), lease.pool());
      while (ResultPtr(PQgetResult(lease.pg()))) {
      }
      return error;
    }
    const std::string_view tag = PQcmdStatus(r.get());
    for (std::string_view session_tag : {"SET", "RESET", "DISCARD", "DEALLOCATE", "PREPARE", "LISTEN"}) {
      if (tag.starts_with(session_tag)) changed_session = true;
    }
    if (tag.starts_with("INSERT") || tag.starts_with("UPDATE") || tag.starts_with("DELETE") || tag.starts_with("MERGE")) {
      changed = changed.value_or(0) + parse_int(PQcmdTuples(r.get())).value_or(0);
    }
    last = std::move(r);
  }
  if (PQtransactionStatus(lease.pg()) != PQTRANS_IDLE) {
    // BEGIN without COMMIT: leaving it open would hand the transaction to the connection's next
    // user; rolling back loses the work, so say so plainly.
    ResultPtr rollback(PQexec(lease.pg(), "ROLLBACK"));
    if (failed(rollback.get()) || PQtransactionStatus(lease.pg()) != PQTRANS_IDLE) lease.discard();
    return Error(ErrorCode::kInvalidInput,
                 "the script left a transaction open (BEGIN without COMMIT), so it was rolled back and nothing was "
                 "committed; end the script with COMMIT");
  }
  if (changed_session) lease.discard();  // see PostgresStream::note_command
  ResultSchema schema;
  ResultBatch batch;
  if (last && PQresultStatus(last.get()) == PGRES_TUPLES_OK) {
    auto decoders = column_decoders(lease, last.get());
    if (!decoders.ok()) return decoders.error();
    for (int c = 0; c < PQnfields(last.get()); ++c) {
      schema.push_back(ColumnInfo{PQfname(last.get(), c), (*decoders)[static_cast<size_t>(c)].type});
    }
    batch.reset(schema);
    for (int row = 0; row < PQntuples(last.get()); ++row) {
      for (int c = 0; c < PQnfields(last.get()); ++c) {
        auto& column = batch.column(static_cast<size_t>(c));
        if (PQgetisnull(last.get(), row, c)) {
          column.append_null();
          continue;
        }
        const std::string_view text(PQgetvalue(last.get(), row, c), static_cast<size_t>(PQgetlength(last.get(), row, c)));
        if (!append_value(text, (*decoders)[static_cast<size_t>(c)], column)) {
          return Error(ErrorCode::kConversionError,
                       fmt::format("cannot read the value '{}' of column '{}' from PostgreSQL; cast it to text in the "
                                   "script's last statement",
                                   text.substr(0, 64), schema[static_cast<size_t>(c)].name));
        }
      }
    }
  }
  return std::unique_ptr<ResultStream>(std::make_unique<RowsStream>(std::move(schema), std::move(batch), changed));
}

}  // namespace

Result<std::unique_ptr<ResultStream>> PostgresEngine::execute(const Statement& statement, const Session& session) {
  bool reused = false;
  auto stream = try_execute(statement, session, reused);
  if (stream.ok() || !reused || stream.error().code != ErrorCode::kEngineUnavailable) return stream;
  // A pooled connection died unnoticed (server restart, pg_terminate_backend). Nothing of the
  // statement ran (execute() only prepares), so one more try on a new connection is safe even for
  // writes; the other idle connections likely died with it. An unprepared statement is first sent
  // by next(), past this retry: for it, the pool's check at acquire (still_alive: the end of file a
  // closing server leaves) is what catches a dead connection.
  spdlog::info("PostgreSQL engine '{}': a pooled connection failed ({}); retrying on a new connection", name_,
               stream.error().message);
  pool_->close_idle();
  return try_execute(statement, session, reused);
}

Result<std::unique_ptr<ResultStream>> PostgresEngine::try_execute(const Statement& statement, const Session& session,
                                                                  bool& connection_was_reused) {
  if (statement.sql.find('\0') != std::string::npos) {
    return Error(ErrorCode::kInvalidInput, "the statement contains a NUL character, which PostgreSQL does not accept");
  }
  auto lease = pool_->acquire(pool_->options().pool_wait);
  if (!lease.ok()) return lease.error();
  connection_was_reused = lease->conn().reused;
  LR_TRY(apply_statement_timeout(*lease, session));
  if (statement.script) {
    // A script cannot be sent twice (it may have written before a connection died), so a pooled
    // connection is checked first, while a retry on a new one is still safe.
    if (connection_was_reused) {
      if (auto ping = run(*lease, "SELECT 1"); !ping.ok()) return ping.error();
    }
    connection_was_reused = false;  // from here on, no retry
    const auto limit = session.timeout.value_or(std::chrono::milliseconds(pool_->options().statement_timeout.count() > 0
                                                                              ? pool_->options().statement_timeout
                                                                              : std::chrono::hours(1)));
    return run_script(*lease, statement, Clock::now() + limit + pool_->options().connect_timeout);
  }
  if (!lease->conn().prepared.contains(statement.sql) && should_run_unprepared(lease->conn(), statement, *pool_)) {
    // One round trip (Parse, Bind, Describe, Execute, Sync); errors come with the first next().
    return std::unique_ptr<ResultStream>(
        std::make_unique<PostgresStream>(std::move(*lease), PreparedStatement{}, std::vector<std::optional<std::string>>{},
                                         statement.sql));
  }
  auto prepared = prepare(*lease, statement.sql);
  if (!prepared.ok()) return prepared.error();
  if (static_cast<size_t>(prepared->param_count) != statement.params.size()) {
    return Error(ErrorCode::kInvalidParameter,
                 fmt::format("the statement has {} parameter placeholder(s) but {} value(s) were given",
                             prepared->param_count, statement.params.size()));
  }
  std::vector<std::optional<std::string>> params;
  for (size_t i = 0; i < statement.params.size(); ++i) {
    auto text = to_text_param(statement.params[i], i);
    if (!text.ok()) return text.error();
    params.push_back(std::move(*text));
  }
  return std::unique_ptr<ResultStream>(
      std::make_unique<PostgresStream>(std::move(*lease), std::move(*prepared), std::move(params), statement.sql));
}

EngineHealth PostgresEngine::health() {
  const auto& options = pool_->options();
  for (int attempt = 0;; ++attempt) {
    auto lease = pool_->acquire(options.connect_timeout);
    if (!lease.ok()) return EngineHealth{false, lease.error().message};
    const bool reused = lease->conn().reused;
    auto r = run(*lease, "SELECT 1");
    if (r.ok()) {
      const int version = PQserverVersion(lease->pg());
      return EngineHealth{true, fmt::format("ok: PostgreSQL {}.{} at {}", version / 10000, version % 10000,
                                            pool_->settings().target)};
    }
    if (attempt > 0 || !reused || r.error().code != ErrorCode::kEngineUnavailable) {
      return EngineHealth{false, r.error().message};
    }
    pool_->close_idle();  // see execute(): a pooled connection died unnoticed
  }
}

PostgresPoolStats PostgresEngine::pool_stats() const { return pool_->stats(); }

}  // namespace lakerouter
