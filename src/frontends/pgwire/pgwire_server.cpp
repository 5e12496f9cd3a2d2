// The PostgreSQL wire protocol server: Boost.Asio with one coroutine per connection on the
// server's I/O threads; statements (pipeline runs, batch fetches and encoding) run on a worker
// pool so that the I/O threads keep serving CancelRequests and other connections. Each result
// batch is encoded into the connection's output buffer and written out before the next one is
// fetched, so a result of any size holds about one batch plus one socket buffer.
#include "frontends/pgwire/pgwire_server.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/endian/conversion.hpp>
#include <cstring>
#include <map>
#include <mutex>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/ascii.h"
#include "core/utf8.h"
#include "frontends/formats/result_encoder.h"
#include "frontends/pgwire/pg_commands.h"
#include "frontends/pgwire/pg_copy.h"
#include "frontends/pgwire/pg_protocol.h"
#include "frontends/pgwire/pg_scram.h"
#include "frontends/pgwire/pg_values.h"
#include "sql/parser.h"

namespace lakerouter::pgwire {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using asio::awaitable;
using asio::use_awaitable;

constexpr size_t kFlushBytes = size_t{64} * 1024;       // write out once this much is encoded
constexpr size_t kKeepBufferBytes = 1 << 20;     // larger buffers are released after use
constexpr size_t kReadBufferBytes = size_t{16} * 1024;// buffered input per connection
constexpr size_t kMaxPrepared = 1000;            // named statements per connection
constexpr size_t kMaxPortals = 100;              // open portals per connection
constexpr size_t kMaxStartupPacket = 10000;

// Front-end message types after start-up (FunctionCall 'F' is read, then refused).
constexpr std::string_view kSessionMessageTypes = "QPBDECSHXFdcf";

constexpr std::string_view kServerVersion = "15.0";
constexpr std::string_view kLakerouterVersion = "0.1.0";

int32_t be32(const char* p) {
  uint32_t v = 0;
  std::memcpy(&v, p, 4);
  return static_cast<int32_t>(boost::endian::big_to_native(v));
}

bool is_write(sql::StatementKind k) {
  using K = sql::StatementKind;
  return k == K::kInsert || k == K::kUpdate || k == K::kDelete || k == K::kMerge || k == K::kCreate || k == K::kDrop ||
         k == K::kAlter || k == K::kCopy || k == K::kAttach || k == K::kLoad;
}

bool returns_rows(sql::StatementKind k) {
  using K = sql::StatementKind;
  return k == K::kSelect || k == K::kExplain || k == K::kPragma || k == K::kCall || k == K::kOther;
}

// A result the front-end makes itself (SHOW, version()): text columns.
struct LocalResult {
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;
  std::string tag;
};

// A statement as Parse saw it.
struct Prepared {
  std::string sql;
  std::vector<int32_t> param_oids;
  sql::StatementKind kind = sql::StatementKind::kOther;
  Command command;  // front-end command, or kNone
  bool empty = false;
};

// A statement running (or about to run) on an engine, and how far its result has been sent.
struct Exec {
  // The statement and session outlive the stream (engines may refer to them while streaming).
  Statement statement;
  Session session;
  std::shared_ptr<CancelToken> token = std::make_shared<CancelToken>();
  std::optional<RunningQuery> query;  // destroyed before `token` (declared after it)
  ResultBatch batch;
  size_t row = 0;          // next row of `batch` to send
  bool started = false;
  bool done = false;
  bool rows_out = false;   // sends rows (else: a command with a count)
  int64_t rows = 0;
  std::optional<int64_t> count;  // a write's row count, when the engine reported one
  ResultSchema schema;
  size_t char_offset = 0;  // of the statement in a multi-statement Query, for error positions
};

struct Portal {
  Prepared stmt;
  std::vector<ParamValue> params;
  std::vector<int16_t> result_formats;  // as Bind sent them
  std::unique_ptr<Exec> exec;
  std::optional<LocalResult> local;
  size_t local_row = 0;
  bool described = false;
};

std::vector<int16_t> resolve_formats(const std::vector<int16_t>& codes, size_t columns) {
  if (codes.empty()) return std::vector<int16_t>(columns, 0);
  if (codes.size() == 1) return std::vector<int16_t>(columns, codes[0]);
  return codes;
}

void write_row_description(std::string& out, const ResultSchema& schema, const std::vector<int16_t>& formats) {
  MessageWriter w(out);
  w.begin('T');
  w.int16(static_cast<int16_t>(schema.size()));
  for (size_t i = 0; i < schema.size(); ++i) {
    const PgType t = pg_type(schema[i].type);
    w.cstring(schema[i].name);
    w.int32(0);
    w.int16(0);
    w.int32(t.oid);
    w.int16(t.typlen);
    w.int32(t.typmod);
    w.int16(i < formats.size() ? formats[i] : 0);
  }
  w.end();
}

void write_local_description(std::string& out, const LocalResult& r, const std::vector<int16_t>& formats) {
  ResultSchema schema;
  for (const auto& c : r.columns) schema.push_back({c, ColumnType{TypeId::kVarchar, 0, 0, "VARCHAR"}});
  write_row_description(out, schema, formats);
}

void write_local_row(std::string& out, const std::vector<std::string>& row) {
  MessageWriter w(out);
  w.begin('D');
  w.int16(static_cast<int16_t>(row.size()));
  for (const auto& v : row) {
    w.int32(static_cast<int32_t>(v.size()));
    w.bytes(v);
  }
  w.end();
}

void write_rows(std::string& out, const ResultSchema& schema, const std::vector<int16_t>& formats,
                const ResultBatch& batch, size_t begin, size_t end) {
  MessageWriter w(out);
  const size_t ncols = batch.column_count();
  for (size_t r = begin; r < end; ++r) {
    w.begin('D');
    w.int16(static_cast<int16_t>(ncols));
    for (size_t c = 0; c < ncols; ++c) {
      const ColumnData& col = batch.column(c);
      if (col.is_null(r)) {
        w.int32(-1);
        continue;
      }
      const size_t slot = w.begin_value();
      if (c < formats.size() && formats[c] == 1) {
        append_binary(out, schema[c].type, col, r);
      } else {
        append_text(out, schema[c].type, col, r);
      }
      w.end_value(slot);
    }
    w.end();
  }
}

std::string command_tag(sql::StatementKind kind, std::string_view sql, const Exec& e) {
  using K = sql::StatementKind;
  const int64_t n = e.count.value_or(e.rows);
  switch (kind) {
    case K::kInsert: return fmt::format("INSERT 0 {}", n);
    case K::kUpdate: return fmt::format("UPDATE {}", n);
    case K::kDelete: return fmt::format("DELETE {}", n);
    case K::kMerge: return fmt::format("MERGE {}", n);
    case K::kCopy: return fmt::format("COPY {}", n);
    case K::kCreate:
    case K::kDrop:
    case K::kAlter: return ddl_tag(sql);
    case K::kSet: return "SET";
    case K::kAttach: return "ATTACH";
    case K::kLoad: return "LOAD";
    default: return fmt::format("SELECT {}", e.rows);
  }
}

std::string decision_summary(const routing::Decision& d) {
  std::string s = fmt::format("lakerouter: routed to {} ({})", d.engine.empty() ? "no engine" : d.engine,
                              routing::decision_stage_name(d.stage));
  for (const auto& r : d.reasons) s += fmt::format("; {}: {}", routing::reason_code_name(r.code), r.message);
  return s;
}

void write_notice(std::string& out, std::string_view message) {
  ErrorFields f;
  f.severity = "NOTICE";
  f.sqlstate = "00000";
  f.message = message;
  write_error(out, f, 'N');
}

void write_fatal(std::string& out, std::string_view sqlstate, std::string_view message) {
  ErrorFields f;
  f.severity = "FATAL";
  f.sqlstate = sqlstate;
  f.message = message;
  write_error(out, f);
}

void write_plain_error(std::string& out, std::string_view sqlstate, std::string_view message) {
  ErrorFields f;
  f.sqlstate = sqlstate;
  f.message = message;
  write_error(out, f);
}

}  // namespace

struct Conn;

// What the front door learned: the StartupMessage of a plain connection, or that TLS was accepted
// (the StartupMessage follows encrypted).
struct SessionStart {
  bool tls = false;
  std::string startup;
};

struct ServerState {
  PgwireOptions options;
  Pipeline& pipeline;
  const UserDirectory& users;
  std::map<std::string, ScramVerifier, std::less<>> verifiers;

  std::mutex mu;  // guards conns and next_pid
  std::map<int32_t, std::weak_ptr<Conn>> conns;
  int32_t next_pid = 1000;
  std::atomic<int> active{0};

  std::optional<asio::ssl::context> ssl;
  // Threads. The front door (`ioc`, io_threads threads) accepts connections and reads their
  // start-up packets, so a CancelRequest is served however busy the sessions are. Each session
  // then gets a thread and an io_context of its own, as a PostgreSQL backend gets a process, and
  // runs its statements inline there: engines block, and waking another thread for each message
  // (a shared pool, or a hand-off to workers and back) cost more than the rest of a point lookup.
  asio::io_context ioc;
  std::optional<tcp::acceptor> acceptor;
  std::vector<std::thread> threads;  // the front door's
  bool started = false;

  struct SessionThread {
    std::shared_ptr<asio::io_context> context;
    std::thread thread;
  };
  std::mutex sessions_mu;  // guards the four members below
  bool accepting_sessions = false;
  uint64_t next_session = 0;
  std::map<uint64_t, SessionThread> session_threads;  // running
  std::vector<std::thread> finished_threads;           // returned from run(), to be joined

  void start_session(std::shared_ptr<Conn> conn, SessionStart start);

  ServerState(PgwireOptions o, Pipeline& p, const UserDirectory& u) : options(std::move(o)), pipeline(p), users(u) {}
  awaitable<void> accept_loop();
  void cancel(int32_t pid, int32_t secret);
};

// One client connection, owned by its coroutine. Its socket and timer live on a strand: first the
// front door's, then a session thread's (see ServerState). Only cancel_current() and secret/pid
// (written before the connection is registered) are touched from other threads.
struct Conn : std::enable_shared_from_this<Conn> {
  ServerState& server;
  // The session thread's context, once there is one: declared before the socket and the timer so
  // that it is destroyed after them, even when another thread (a CancelRequest, a timer handler)
  // holds the last reference to the connection.
  std::shared_ptr<asio::io_context> session_context;
  tcp::socket socket;
  std::unique_ptr<asio::ssl::stream<tcp::socket&>> tls;
  int32_t pid = 0;
  int32_t secret = 0;
  std::string in;   // the body of the message being handled
  std::string out;  // messages not yet written
  // Buffered input after start-up: a pipelined batch of extended-protocol messages costs one read,
  // not three per message.
  std::vector<char> rbuf = std::vector<char>(kReadBufferBytes);
  size_t rbegin = 0;
  size_t rend = 0;
  Session session;
  ClientSettings settings{""};
  char txn = 'I';
  bool skip_until_sync = false;
  std::map<std::string, Prepared, std::less<>> prepared;
  std::map<std::string, Portal, std::less<>> portals;

  std::mutex cancel_mu;
  std::shared_ptr<CancelToken> current;  // the statement a CancelRequest stops

  asio::steady_timer startup_timer;  // closes the socket when start-up and authentication take too long
  int startup_timer_generation = 0;  // a timer left behind by move_to() must not close the moved socket

  Conn(ServerState& s, tcp::socket sock)
      : server(s), socket(std::move(sock)), startup_timer(socket.get_executor()) {}
  ~Conn() {
    for (auto& [name, portal] : portals) {
      if (portal.exec) portal.exec->token->cancel();
    }
    std::lock_guard lock(server.mu);
    if (auto it = server.conns.find(pid); it != server.conns.end() && it->second.expired()) server.conns.erase(it);
    --server.active;
  }

  void cancel_current() {
    std::lock_guard lock(cancel_mu);
    if (current) current->cancel();
  }
  void set_current(std::shared_ptr<CancelToken> token) {
    std::lock_guard lock(cancel_mu);
    current = std::move(token);
  }

  // Start-up packets on the front door: how the session starts, or nothing when the connection is
  // done (a CancelRequest, a refusal). Then move_to() a session strand and run_session() there.
  awaitable<std::optional<SessionStart>> front_door();
  void move_to(const asio::any_io_executor& executor);
  awaitable<void> run_session(SessionStart start);
  void arm_startup_timer(std::chrono::steady_clock::time_point deadline);
  template <typename S> awaitable<void> fill(S& s, size_t n);
  template <typename S> awaitable<void> session_loop(S& s, std::optional<std::string> startup);
  // May change `user`: trust runs names that are no account as "anonymous".
  template <typename S> awaitable<bool> authenticate(S& s, std::string& user);
  template <typename S> awaitable<void> flush(S& s);
  template <typename S> awaitable<bool> read_message(S& s, char& type, std::string_view allowed);
  template <typename S> awaitable<void> simple_query(S& s, std::string_view text);
  template <typename S> awaitable<bool> run_statement(S& s, std::string_view sql, sql::StatementKind kind,
                                                      size_t char_offset);
  template <typename S> awaitable<void> stream_exec(S& s, Exec& e, const std::vector<int16_t>& formats,
                                                    int64_t max_rows, bool& suspended);
  template <typename S> awaitable<void> handle_extended(S& s, char type, std::string_view body);
  template <typename S> awaitable<bool> copy_out(S& s, std::string_view sql, size_t char_offset);

  // Statement work; runs inline on the session thread (engines block).
  void start_exec(Exec& e, Statement statement);
  void pump(Exec& e, const std::vector<int16_t>& formats, int64_t max_rows, bool& suspended);
  void pump_copy(Exec& e, const CopyOut& copy, formats::ResultEncoder* csv);
  Session statement_session() const;

  // Front-end commands; false: the statement is not one (route it).
  bool run_command(const Command& cmd, LocalResult& local, std::optional<Error>& error);
  void fail(const Error& e, size_t char_offset = 0) {
    write_error(out, e, char_offset);
    if (txn == 'T') txn = 'E';
  }
};

// Coroutine parameters live in the coroutine frame; lambda captures would not (the closure of a
// coroutine lambda may be gone before its body finishes), hence free functions.
awaitable<void> serve_session(std::shared_ptr<Conn> conn, SessionStart start) {
  co_await conn->run_session(std::move(start));
}

awaitable<void> serve_connection(std::shared_ptr<Conn> conn) {
  auto session = co_await conn->front_door();
  if (session) conn->server.start_session(conn, std::move(*session));
}

Session Conn::statement_session() const {
  Session s = session;
  s.engine_request = settings.engine();
  s.timeout = settings.timeout();
  return s;
}

void Conn::start_exec(Exec& e, Statement statement) {
  e.started = true;
  set_current(e.token);
  e.statement = std::move(statement);
  e.session = statement_session();
  auto query = server.pipeline.run(e.statement, e.session, {}, e.token.get());
  if (!query.ok()) {
    e.done = true;
    fail(query.error(), e.char_offset);
    return;
  }
  e.query.emplace(std::move(*query));
  if (settings.explain()) write_notice(out, decision_summary(e.query->decision));
  auto more = e.query->stream->next(e.batch);
  if (!more.ok()) {
    e.done = true;
    fail(more.error(), e.char_offset);
    e.query.reset();
    return;
  }
  e.schema = e.query->stream->schema();
  if (!*more) e.batch.clear();
  if (!returns_rows(e.query->kind)) {
    // Writes and DDL: DuckDB answers a one-row "Count"; PostgreSQL reports rows changed. Rows of
    // any other shape (RETURNING) are sent as rows.
    const bool count_shape = e.schema.size() == 1 && ascii_lower(e.schema[0].name) == "count" &&
                             physical_kind(e.schema[0].type.id) == PhysicalKind::kInt64;
    e.rows_out = !e.schema.empty() && !count_shape && is_write(e.query->kind) &&
                 e.query->kind != sql::StatementKind::kCreate && e.query->kind != sql::StatementKind::kDrop &&
                 e.query->kind != sql::StatementKind::kAlter;
    if (count_shape && e.batch.row_count() > 0 && !e.batch.column(0).is_null(0)) {
      e.count = e.batch.column(0).int64_at(0);
    }
  } else {
    e.rows_out = true;
  }
}

// Sends rows until the output buffer is worth writing, `max_rows` are out (suspended), or the end.
void Conn::pump(Exec& e, const std::vector<int16_t>& formats, int64_t max_rows, bool& suspended) {
  suspended = false;
  set_current(e.token);
  int64_t sent_now = 0;
  while (!e.done) {
    const size_t available = e.batch.row_count() - e.row;
    if (available > 0) {
      if (e.rows_out) {
        size_t n = available;
        if (max_rows > 0) n = std::min<size_t>(n, static_cast<size_t>(max_rows - sent_now));
        // Bounded chunks keep the buffer near kFlushBytes even for wide rows.
        n = std::min<size_t>(n, 1024);
        write_rows(out, e.schema, formats, e.batch, e.row, e.row + n);
        e.row += n;
        e.rows += static_cast<int64_t>(n);
        sent_now += static_cast<int64_t>(n);
        if (max_rows > 0 && sent_now >= max_rows) {
          suspended = true;
          break;
        }
        if (out.size() >= kFlushBytes) break;
        continue;
      }
      if (!e.count) e.rows += static_cast<int64_t>(available);
      e.row = e.batch.row_count();
      continue;
    }
    e.batch.clear();
    e.row = 0;
    auto more = e.query->stream->next(e.batch);
    if (!more.ok()) {
      e.done = true;
      fail(more.error(), e.char_offset);
      e.query.reset();
      return;
    }
    if (!*more) {
      e.done = true;
      if (auto changed = e.query->stream->rows_changed(); changed && !e.count) e.count = changed;
    }
  }
  if (suspended && e.row >= e.batch.row_count()) {
    // Peek whether anything follows, so that a portal whose rows are all out completes now
    // instead of answering one more Execute with zero rows (what PostgreSQL does too).
    e.batch.clear();
    e.row = 0;
    auto more = e.query->stream->next(e.batch);
    if (!more.ok()) {
      e.done = true;
      suspended = false;
      fail(more.error());
      e.query.reset();
      return;
    }
    if (!*more) {
      e.done = true;
      suspended = false;
    }
  }
}

// COPY TO STDOUT: encodes the current batch into CopyData messages and fetches the next, until
// the output buffer is worth writing or the result ends.
void Conn::pump_copy(Exec& e, const CopyOut& copy, formats::ResultEncoder* csv) {
  set_current(e.token);
  while (!e.done) {
    if (e.batch.row_count() > 0) {
      std::string data;
      if (csv) {
        if (Status st = csv->add_batch(e.batch); !st.ok()) {
          e.done = true;
          fail(st.error(), e.char_offset);
          e.query.reset();
          return;
        }
        data = csv->take();
      } else {
        append_copy_text_rows(data, e.schema, e.batch, copy.delimiter);
      }
      MessageWriter w(out);
      w.begin('d');
      w.bytes(data);
      w.end();
      e.rows += static_cast<int64_t>(e.batch.row_count());
      e.batch.clear();
      if (out.size() >= kFlushBytes) return;
    }
    auto more = e.query->stream->next(e.batch);
    if (!more.ok()) {
      e.done = true;
      fail(more.error(), e.char_offset);
      e.query.reset();
      return;
    }
    if (!*more) {
      e.done = true;
      e.batch.clear();
    }
  }
}

// COPY ... TO STDOUT in a simple Query: the inner query runs through the pipeline like any
// statement; its rows go out as CopyData (CSV from the HTTP API's encoder, or the text format).
template <typename S>
awaitable<bool> Conn::copy_out(S& s, std::string_view sql, size_t char_offset) {
  auto copy = parse_copy_out(sql);
  if (!copy.ok()) {
    fail(copy.error(), char_offset);
    co_return false;
  }
  Exec e;
  e.char_offset = char_offset;
  Statement statement{copy->query};
  start_exec(e, std::move(statement));
  if (!e.query) {
    set_current(nullptr);
    co_return false;
  }
  std::unique_ptr<formats::ResultEncoder> csv;
  std::string header;
  if (copy->format == CopyFormat::kCsv) {
    csv = formats::make_encoder(formats::ResultFormat::kCsv);
    if (Status st = csv->begin(e.schema, {}); !st.ok()) {
      fail(st.error(), char_offset);
      co_return false;
    }
    header = csv->take();  // the encoder always writes the header line
    if (!copy->header) header.clear();
  } else if (copy->header) {
    for (size_t i = 0; i < e.schema.size(); ++i) {
      if (i > 0) header.push_back(copy->delimiter);
      header += e.schema[i].name;
    }
    header.push_back('\n');
  }
  MessageWriter w(out);
  w.begin('H');
  w.int8(0);  // textual
  w.int16(static_cast<int16_t>(e.schema.size()));
  for (size_t i = 0; i < e.schema.size(); ++i) w.int16(0);
  w.end();
  if (!header.empty()) {
    w.begin('d');
    w.bytes(header);
    w.end();
  }
  while (true) {
    pump_copy(e, *copy, csv.get());
    if (e.done) break;
    try {
      co_await flush(s);
    } catch (...) {
      e.token->cancel();  // the client vanished mid-result
      throw;
    }
  }
  set_current(nullptr);
  if (!e.query) co_return false;  // pump_copy wrote the error (which ends the copy)
  write_simple(out, 'c');
  write_command_complete(out, fmt::format("COPY {}", e.rows));
  co_return true;
}

bool Conn::run_command(const Command& cmd, LocalResult& local, std::optional<Error>& error) {
  local.tag = cmd.tag;
  switch (cmd.kind) {
    case CommandKind::kNone: return false;
    case CommandKind::kSet: {
      if (cmd.name.empty()) return true;  // SET TRANSACTION ...: accepted, nothing to do
      if (Status s = settings.set(cmd.name, cmd.value); !s.ok()) {
        error = s.error();
        return true;
      }
      if (ClientSettings::reported(cmd.name)) {
        write_parameter_status(out, ClientSettings::canonical(cmd.name), *settings.get(cmd.name));
      }
      return true;
    }
    case CommandKind::kReset:
      settings.reset(cmd.name);
      return true;
    case CommandKind::kShow: {
      if (cmd.name == "all") {
        local.columns = {"name", "setting", "description"};
        for (auto& r : settings.all()) local.rows.push_back({r.name, r.value, r.description});
      } else {
        auto v = settings.get(cmd.name);
        if (!v) return false;  // SHOW TABLES and the like: DuckDB's statements
        local.columns = {cmd.name};
        local.rows.push_back({*v});
      }
      local.tag = "SHOW";
      return true;
    }
    case CommandKind::kBegin:
      if (txn != 'I') write_notice(out, "there is already a transaction in progress");
      if (txn == 'I') txn = 'T';
      return true;
    case CommandKind::kCommit:
      if (txn == 'E') local.tag = "ROLLBACK";
      if (txn == 'I') write_notice(out, "there is no transaction in progress");
      txn = 'I';
      return true;
    case CommandKind::kRollback:
      if (txn == 'I') write_notice(out, "there is no transaction in progress");
      txn = 'I';
      return true;
    case CommandKind::kDiscard:
      settings.reset("all");
      prepared.clear();
      portals.clear();
      return true;
    case CommandKind::kDeallocate:
      if (cmd.name.empty()) {
        prepared.clear();
      } else if (prepared.erase(cmd.name) == 0) {
        error = Error(ErrorCode::kInvalidParameter, fmt::format("prepared statement \"{}\" does not exist", cmd.name));
      }
      return true;
    case CommandKind::kUnsupported:
      error = Error(ErrorCode::kNotSupported, cmd.value);
      return true;
    case CommandKind::kVersion:
      local.columns = {"version"};
      local.rows.push_back({fmt::format("PostgreSQL {} (lakerouter {}) on x86_64-pc-linux-gnu, a SQL query router",
                                        kServerVersion, kLakerouterVersion)});
      return true;
  }
  return false;
}

template <typename S>
awaitable<void> Conn::flush(S& s) {
  if (out.empty()) co_return;
  co_await asio::async_write(s, asio::buffer(out), use_awaitable);
  out.clear();
  if (out.capacity() > kKeepBufferBytes) std::string().swap(out);
}

// Makes at least `n` (<= rbuf.size()) unread bytes available in rbuf.
template <typename S>
awaitable<void> Conn::fill(S& s, size_t n) {
  if (rend - rbegin >= n) co_return;
  if (rbegin > 0) {
    std::memmove(rbuf.data(), rbuf.data() + rbegin, rend - rbegin);
    rend -= rbegin;
    rbegin = 0;
  }
  rend += co_await asio::async_read(s, asio::buffer(rbuf.data() + rend, rbuf.size() - rend),
                                    asio::transfer_at_least(n - rend), use_awaitable);
}

// Reads one message after start-up into `in`; false when the connection must close (an error
// has been queued in `out`).
template <typename S>
awaitable<bool> Conn::read_message(S& s, char& type, std::string_view allowed) {
  // The type byte first: a client that sends something else (a second start-up packet, whose
  // first byte is 0) is refused at once, not left waiting for the rest of a bogus length.
  co_await fill(s, 1);
  type = rbuf[rbegin];
  if (type == '\0' || allowed.find(type) == std::string_view::npos) {
    write_fatal(out, "08P01", fmt::format("invalid frontend message type {}", static_cast<int>(type)));
    co_return false;
  }
  co_await fill(s, 5);
  const int32_t len = be32(rbuf.data() + rbegin + 1);
  if (len < 4 || static_cast<size_t>(len) - 4 > server.options.max_message_bytes) {
    write_fatal(out, "08P01", fmt::format("invalid message length {} (limit {} bytes)", len,
                                          server.options.max_message_bytes));
    co_return false;
  }
  rbegin += 5;
  const size_t body = static_cast<size_t>(len) - 4;
  if (in.capacity() > kKeepBufferBytes && body < kKeepBufferBytes) std::string().swap(in);
  // What is buffered already, then the rest (of a large message) straight into `in`.
  const size_t buffered = std::min(body, rend - rbegin);
  in.assign(rbuf.data() + rbegin, buffered);
  rbegin += buffered;
  if (buffered < body) {
    in.resize(body);
    co_await asio::async_read(s, asio::buffer(in.data() + buffered, body - buffered), use_awaitable);
  }
  co_return true;
}

void Conn::arm_startup_timer(std::chrono::steady_clock::time_point deadline) {
  const int generation = ++startup_timer_generation;
  startup_timer.expires_at(deadline);
  startup_timer.async_wait([weak = weak_from_this(), generation](boost::system::error_code ec) {
    auto self = weak.lock();
    if (!ec && self && self->startup_timer_generation == generation) {
      boost::system::error_code ignored;
      self->socket.close(ignored);
    }
  });
}

awaitable<std::optional<SessionStart>> Conn::front_door() {
  arm_startup_timer(std::chrono::steady_clock::now() + server.options.startup_timeout);
  try {
    if (server.active > server.options.max_connections) {
      write_fatal(out, "53300", "sorry, too many clients already");
      co_await flush(socket);
      co_return std::nullopt;
    }
    // Start-up packets before any TLS: SSLRequest, GSSENCRequest, CancelRequest, StartupMessage.
    bool ssl_refused = false;
    bool gss_refused = false;
    for (int round = 0; round < 3; ++round) {
      std::array<char, 4> len_bytes{};
      co_await asio::async_read(socket, asio::buffer(len_bytes), use_awaitable);
      const int32_t len = be32(len_bytes.data());
      if (len < 8 || static_cast<size_t>(len) > kMaxStartupPacket) {
        write_fatal(out, "08P01", "invalid length of startup packet");
        co_await flush(socket);
        co_return std::nullopt;
      }
      std::string body(static_cast<size_t>(len) - 4, '\0');
      co_await asio::async_read(socket, asio::buffer(body), use_awaitable);
      const int32_t code = be32(body.data());
      if ((code == kSslRequestCode && ssl_refused) || (code == kGssEncRequestCode && gss_refused)) {
        write_fatal(out, "08P01", "duplicate encryption request after it was refused");
        co_await flush(socket);
        co_return std::nullopt;
      }
      if (code == kSslRequestCode) {
        if (!server.ssl) {
          ssl_refused = true;
          co_await asio::async_write(socket, asio::buffer("N", 1), use_awaitable);
          continue;
        }
        co_await asio::async_write(socket, asio::buffer("S", 1), use_awaitable);
        co_return SessionStart{true, {}};
      }
      if (code == kGssEncRequestCode) {
        gss_refused = true;
        co_await asio::async_write(socket, asio::buffer("N", 1), use_awaitable);
        continue;
      }
      if (code == kCancelRequestCode) {
        if (body.size() == 12) server.cancel(be32(body.data() + 4), be32(body.data() + 8));
        co_return std::nullopt;
      }
      if (server.options.require_tls && server.ssl) {
        write_fatal(out, "28000", "this server requires TLS (sslmode=require)");
        co_await flush(socket);
        co_return std::nullopt;
      }
      co_return SessionStart{false, std::move(body)};
    }
    write_fatal(out, "08P01", "too many start-up requests");
    co_await flush(socket);
  } catch (const std::exception& e) {
    spdlog::debug("pgwire connection closed during start-up: {}", e.what());
  }
  co_return std::nullopt;
}

// Re-homes the socket (no operation is pending on it) and the start-up deadline on `executor`.
void Conn::move_to(const asio::any_io_executor& executor) {
  const auto deadline = startup_timer.expiry();
  ++startup_timer_generation;
  startup_timer.cancel();
  boost::system::error_code ec;
  const auto protocol = socket.local_endpoint(ec).protocol();
  const auto fd = ec ? tcp::socket::native_handle_type(-1) : socket.release(ec);
  socket = tcp::socket(executor);
  if (!ec) socket.assign(protocol, fd, ec);
  if (ec) spdlog::debug("pgwire: could not hand a connection to a session thread: {}", ec.message());
  startup_timer = asio::steady_timer(executor);
  arm_startup_timer(deadline);
}

awaitable<void> Conn::run_session(SessionStart start) {
  try {
    if (!socket.is_open()) co_return;
    if (start.tls) {
      tls = std::make_unique<asio::ssl::stream<tcp::socket&>>(socket, *server.ssl);
      co_await tls->async_handshake(asio::ssl::stream_base::server, use_awaitable);
      co_await session_loop(*tls, std::nullopt);
    } else {
      co_await session_loop(socket, std::move(start.startup));
    }
  } catch (const std::exception& e) {
    // The client went away (or TLS failed): stop whatever runs for it.
    spdlog::debug("pgwire connection {} closed: {}", pid, e.what());
    cancel_current();
  }
  startup_timer.cancel();
}

template <typename S>
awaitable<void> Conn::session_loop(S& s, std::optional<std::string> startup) {
  if (!startup) {
    std::array<char, 4> len_bytes{};
    co_await asio::async_read(s, asio::buffer(len_bytes), use_awaitable);
    const int32_t len = be32(len_bytes.data());
    if (len < 8 || static_cast<size_t>(len) > kMaxStartupPacket) {
      write_fatal(out, "08P01", "invalid length of startup packet");
      co_await flush(s);
      co_return;
    }
    startup.emplace(static_cast<size_t>(len) - 4, '\0');
    co_await asio::async_read(s, asio::buffer(*startup), use_awaitable);
  }
  MessageReader r(*startup);
  const int32_t version = r.int32().value_or(0);
  if (version != kProtocolV3) {
    write_fatal(out, "0A000", fmt::format("unsupported frontend protocol {}.{}: lakerouter speaks 3.0",
                                          version >> 16, version & 0xffff));
    co_await flush(s);
    co_return;
  }
  std::map<std::string, std::string, std::less<>> params;
  while (true) {
    auto key = r.cstring();
    if (!key) {
      write_fatal(out, "08P01", "malformed startup packet");
      co_await flush(s);
      co_return;
    }
    if (key->empty()) {
      if (!r.at_end()) {
        write_fatal(out, "08P01", "invalid startup packet layout: expected terminator as last byte");
        co_await flush(s);
        co_return;
      }
      break;
    }
    auto value = r.cstring();
    if (!value) {
      write_fatal(out, "08P01", "malformed startup packet");
      co_await flush(s);
      co_return;
    }
    if (params.size() < 64) params[std::string(*key)] = std::string(*value);
  }
  std::string user = params.count("user") ? params["user"] : "";
  if (user.empty()) {
    write_fatal(out, "28000", "no PostgreSQL user name specified in startup packet");
    co_await flush(s);
    co_return;
  }
  if (!co_await authenticate(s, user)) co_return;
  startup_timer.cancel();

  // Authenticated: the session.
  session.user = user;
  if (const UserAccount* account = server.users.find(user)) session.groups = account->groups;
  session.frontend = "pgwire";
  boost::system::error_code ec;
  const auto peer = socket.remote_endpoint(ec);
  if (!ec) session.source_address = peer.address().to_string();
  settings = ClientSettings(user);
  for (const auto& [k, v] : params) {
    if (k == "user" || k == "database" || k == "options" || k == "replication") continue;
    if (Status st = settings.set(k, v, /*startup=*/true); !st.ok()) {
      write_fatal(out, sqlstate_for(st.error().code), st.error().message);
      co_await flush(s);
      co_return;
    }
  }
  // The key is made before the connection is registered: a CancelRequest (front-door thread) may
  // compare it as soon as the pid is findable.
  int32_t key = 0;
  if (RAND_bytes(reinterpret_cast<unsigned char*>(&key), sizeof key) != 1) key = static_cast<int32_t>(server.next_pid * 7919);
  {
    std::lock_guard lock(server.mu);
    pid = server.next_pid++;
    secret = key;
    server.conns[pid] = weak_from_this();
  }
  write_auth(out, 0);
  for (const auto& row : settings.all()) {
    if (ClientSettings::reported(row.name)) write_parameter_status(out, row.name, row.value);
  }
  MessageWriter w(out);
  w.begin('K');
  w.int32(pid);
  w.int32(secret);
  w.end();
  write_ready(out, txn);
  co_await flush(s);
  spdlog::debug("pgwire connection {}: user {} from {}", pid, user, session.source_address);

  while (true) {
    char type = 0;
    if (!co_await read_message(s, type, kSessionMessageTypes)) {
      co_await flush(s);
      co_return;
    }
    if (type == 'X') co_return;
    if (type == 'Q') {
      skip_until_sync = false;
      MessageReader q(in);  // `in` is not read into again until the Query is answered
      auto sql = q.cstring();
      if (!sql || !q.at_end()) {
        write_plain_error(out, "08P01", "malformed Query message");
      } else {
        co_await simple_query(s, *sql);
      }
      write_ready(out, txn);
      co_await flush(s);
      continue;
    }
    if (std::string_view("PBDECSH").find(type) != std::string_view::npos) {
      if (skip_until_sync && type != 'S') continue;
      co_await handle_extended(s, type, in);
      continue;
    }
    if (type == 'd' || type == 'c' || type == 'f') continue;  // stray COPY data: ignored, as PostgreSQL does
    write_fatal(out, "08P01", fmt::format("invalid frontend message type {}", static_cast<int>(type)));
    co_await flush(s);
    co_return;
  }
}

template <typename S>
awaitable<bool> Conn::authenticate(S& s, std::string& user) {
  const UserAccount* account = server.users.find(user);
  boost::system::error_code peer_error;
  const auto peer = socket.remote_endpoint(peer_error);
  const auto failed = [&] {
    // Logged like the HTTP refusals: who and from where, never what was sent. The name is the
    // client's: controls are masked and its length capped, so that it cannot forge log lines.
    std::string shown = user.substr(0, 128);
    for (char& c : shown) c = static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? '?' : c;
    spdlog::info("pgwire: password authentication failed for user \"{}\" from {}", shown,
                 peer_error ? std::string("an unknown address") : peer.address().to_string());
    write_fatal(out, "28P01", fmt::format("password authentication failed for user \"{}\"", user));
  };
  const auto read_password_message = [&]() -> awaitable<bool> {
    char type = 0;
    if (!co_await read_message(s, type, "p")) co_return false;
    if (type != 'p') {
      write_fatal(out, "08P01", "expected a password message");
      co_return false;
    }
    co_return true;
  };
  const bool admitted = !peer_error && governance::anonymous_admits(server.options.anonymous, peer.address().to_string());
  if (admitted && !account && user == governance::kAnonymousUser) co_return true;  // auth.anonymous
  // trust lets the clients auth.anonymous admits in without a password, but only as "anonymous"
  // (as HTTP and the Trino protocol do): a configured account still proves itself with SCRAM, or
  // anyone on this machine (or behind a local proxy) could be any user.
  if (server.options.auth == AuthMethod::kTrust && admitted && !account) {
    spdlog::debug("pgwire: trust: '{}' is no configured account; the session runs as anonymous", user);
    user = std::string(governance::kAnonymousUser);
    co_return true;
  }
  switch (server.options.auth) {
    case AuthMethod::kPassword: {
      write_auth(out, 3);
      co_await flush(s);
      if (!co_await read_password_message()) {
        co_await flush(s);
        co_return false;
      }
      MessageReader r(in);
      auto password = r.cstring();
      bool ok = false;
      if (account && password) {
        if (!account->password.empty()) {
          ok = constant_time_equal(account->password, *password);
        } else if (auto it = server.verifiers.find(user); it != server.verifiers.end()) {
          ok = it->second.matches(*password);
        }
      }
      if (!ok) {
        failed();
        co_await flush(s);
      }
      co_return ok;
    }
    case AuthMethod::kTrust:  // accounts, and clients auth.anonymous does not admit: SCRAM
    case AuthMethod::kScramSha256: {
      std::string mechanisms("SCRAM-SHA-256\0\0", 15);
      write_auth(out, 10, mechanisms);
      co_await flush(s);
      if (!co_await read_password_message()) {
        co_await flush(s);
        co_return false;
      }
      const ScramVerifier* verifier = nullptr;
      if (auto it = server.verifiers.find(user); account && it != server.verifiers.end()) verifier = &it->second;
      ScramExchange exchange(verifier, user);
      MessageReader r(in);
      auto mechanism = r.cstring();
      auto len = r.int32();
      if (!mechanism || *mechanism != "SCRAM-SHA-256" || !len || *len < 0 || static_cast<size_t>(*len) != r.remaining()) {
        write_fatal(out, "28000", "SASL authentication needs mechanism SCRAM-SHA-256");
        co_await flush(s);
        co_return false;
      }
      auto first = exchange.first(*r.bytes(static_cast<size_t>(*len)));
      if (!first.ok()) {
        write_fatal(out, "08P01", first.error().message);
        co_await flush(s);
        co_return false;
      }
      write_auth(out, 11, *first);
      co_await flush(s);
      if (!co_await read_password_message()) {
        co_await flush(s);
        co_return false;
      }
      auto final_message = exchange.final(in);
      if (!final_message.ok()) {
        if (final_message.error().code == ErrorCode::kPermissionDenied) {
          failed();
        } else {
          write_fatal(out, "08P01", final_message.error().message);
        }
        co_await flush(s);
        co_return false;
      }
      write_auth(out, 12, *final_message);
      co_return true;
    }
  }
  co_return false;
}

template <typename S>
awaitable<void> Conn::stream_exec(S& s, Exec& e, const std::vector<int16_t>& formats, int64_t max_rows,
                                  bool& suspended) {
  suspended = false;
  while (true) {
    pump(e, formats, max_rows, suspended);
    if (e.done || suspended) break;
    try {
      co_await flush(s);
    } catch (...) {
      e.token->cancel();  // the client vanished mid-result
      throw;
    }
  }
  set_current(nullptr);
}

// One statement of a simple Query; false when it failed (the rest of the Query is skipped).
template <typename S>
awaitable<bool> Conn::run_statement(S& s, std::string_view sql, sql::StatementKind kind, size_t char_offset) {
  const Command cmd = classify(sql);
  if (txn == 'E' && cmd.kind != CommandKind::kRollback && cmd.kind != CommandKind::kCommit) {
    write_plain_error(out, "25P02", "current transaction is aborted, commands ignored until end of transaction block");
    co_return false;
  }
  if (cmd.kind != CommandKind::kNone) {
    LocalResult local;
    std::optional<Error> error;
    if (run_command(cmd, local, error)) {
      if (error) {
        fail(*error);
        co_return false;
      }
      if (!local.columns.empty()) {
        write_local_description(out, local, {});
        for (const auto& row : local.rows) write_local_row(out, row);
        if (local.tag == "SELECT 1" || local.tag == "SHOW") {
          local.tag = local.tag == "SHOW" ? "SHOW" : fmt::format("SELECT {}", local.rows.size());
        }
      }
      write_command_complete(out, local.tag);
      co_return true;
    }
  }
  if (kind == sql::StatementKind::kCopy) co_return co_await copy_out(s, sql, char_offset);
  if (txn == 'T' && is_write(kind)) {
    write_plain_error(out, "25006",
                      "lakerouter does not run writes inside a transaction block: each statement runs on its own "
                      "engine, so a client transaction cannot be made atomic; COMMIT or ROLLBACK, then write in "
                      "autocommit mode");
    txn = 'E';
    co_return false;
  }
  Exec e;
  e.char_offset = char_offset;
  Statement statement{std::string(sql)};
  start_exec(e, std::move(statement));
  if (e.done && !e.query) {
    set_current(nullptr);
    co_return false;
  }
  const auto formats = resolve_formats({}, e.schema.size());
  if (e.rows_out) write_row_description(out, e.schema, formats);
  bool suspended = false;
  co_await stream_exec(s, e, formats, 0, suspended);
  if (!e.query) co_return false;  // pump wrote the error
  write_command_complete(out, command_tag(e.query->kind, sql, e));
  co_return true;
}

template <typename S>
awaitable<void> Conn::simple_query(S& s, std::string_view text) {
  portals.erase("");
  if (find_invalid_utf8(text)) {
    write_plain_error(out, "22021", "invalid byte sequence for encoding \"UTF8\"");
    co_return;
  }
  auto parsed = sql::parse(text);
  if (!parsed.ok()) {
    if (parsed.error().code == ErrorCode::kEmptySql) {
      write_simple(out, 'I');
      co_return;
    }
    // Not DuckDB's grammar: maybe one front-end command (SHOW ALL, DISCARD ALL, LISTEN x, ...).
    if (classify(text).kind != CommandKind::kNone) {
      co_await run_statement(s, text, sql::StatementKind::kOther, 0);
      co_return;
    }
    server.pipeline.record_refusal(Statement(std::string(text)), statement_session(), server.pipeline.new_query_id(),
                                   parsed.error());
    fail(parsed.error());
    co_return;
  }
  for (size_t i = 0; i < parsed->spans.size(); ++i) {
    const auto span = parsed->spans[i];
    if (span.offset > text.size()) break;
    const auto sql = text.substr(span.offset, span.length);
    const size_t char_offset = utf8_char_offset(text, span.offset);
    if (!co_await run_statement(s, sql, parsed->statements[i], char_offset)) break;
    if (out.size() >= kFlushBytes) co_await flush(s);
  }
}

template <typename S>
awaitable<void> Conn::handle_extended(S& s, char type, std::string_view body) {
  MessageReader r(body);
  const auto protocol_error = [&](std::string_view what) {
    write_plain_error(out, "08P01", what);
    skip_until_sync = true;
  };
  const auto error = [&](const Error& e) {
    fail(e);
    skip_until_sync = true;
  };
  // Errors with PostgreSQL's own SQLSTATE (no lakerouter ErrorCode maps to it).
  const auto state_error = [&](std::string_view sqlstate, const std::string& message) {
    write_plain_error(out, sqlstate, message);
    if (txn == 'T') txn = 'E';
    skip_until_sync = true;
  };
  switch (type) {
    case 'P': {
      auto name = r.cstring();
      auto query = r.cstring();
      auto n = r.int16();
      if (!name || !query || !n || *n < 0 || r.remaining() != static_cast<size_t>(*n) * 4) {
        protocol_error("malformed Parse message");
        co_return;
      }
      Prepared p;
      p.sql = std::string(*query);
      for (int i = 0; i < *n; ++i) p.param_oids.push_back(*r.int32());
      if (!name->empty() && prepared.contains(*name)) {
        state_error("42P05", fmt::format("prepared statement \"{}\" already exists", *name));
        co_return;
      }
      if (!name->empty() && prepared.size() >= kMaxPrepared) {
        error(Error(ErrorCode::kInvalidParameter, fmt::format("too many prepared statements (limit {})", kMaxPrepared)));
        co_return;
      }
      if (find_invalid_utf8(p.sql)) {
        protocol_error("invalid byte sequence for encoding \"UTF8\"");
        co_return;
      }
      p.command = classify(p.sql);
      auto parsed = sql::parse(p.sql);
      if (!parsed.ok()) {
        if (parsed.error().code == ErrorCode::kEmptySql) {
          p.empty = true;
        } else if (p.command.kind == CommandKind::kNone) {
          server.pipeline.record_refusal(Statement(p.sql), statement_session(), server.pipeline.new_query_id(),
                                         parsed.error());
          error(parsed.error());
          co_return;
        }
      } else if (parsed->statements.size() > 1) {
        error(Error(ErrorCode::kSyntaxError, "cannot insert multiple commands into a prepared statement"));
        co_return;
      } else {
        p.kind = parsed->statements[0];
      }
      const int placeholders = count_placeholders(p.sql);
      if (placeholders > 65535) {
        error(Error(ErrorCode::kInvalidParameter, "too many parameters"));
        co_return;
      }
      if (static_cast<int>(p.param_oids.size()) < placeholders) p.param_oids.resize(static_cast<size_t>(placeholders), 0);
      prepared[std::string(*name)] = std::move(p);
      write_simple(out, '1');
      co_return;
    }
    case 'B': {
      auto portal_name = r.cstring();
      auto stmt_name = r.cstring();
      auto nformats = r.int16();
      if (!portal_name || !stmt_name || !nformats || *nformats < 0) {
        protocol_error("malformed Bind message");
        co_return;
      }
      std::vector<int16_t> formats;
      for (int i = 0; i < *nformats; ++i) {
        auto f = r.int16();
        if (!f || (*f != 0 && *f != 1)) {
          protocol_error("malformed Bind message: format codes are 0 or 1");
          co_return;
        }
        formats.push_back(*f);
      }
      auto it = prepared.find(*stmt_name);
      if (it == prepared.end()) {
        state_error("26000", fmt::format("prepared statement \"{}\" does not exist", *stmt_name));
        co_return;
      }
      auto nparams = r.int16();
      if (!nparams || *nparams < 0 || (formats.size() > 1 && formats.size() != static_cast<size_t>(*nparams))) {
        protocol_error("malformed Bind message: parameter count");
        co_return;
      }
      if (static_cast<size_t>(*nparams) != it->second.param_oids.size()) {
        // A protocol violation in PostgreSQL too (08P01).
        protocol_error(fmt::format("bind message supplies {} parameters, but prepared statement \"{}\" requires {}",
                                   *nparams, *stmt_name, it->second.param_oids.size()));
        co_return;
      }
      Portal portal;
      portal.stmt = it->second;
      for (int i = 0; i < *nparams; ++i) {
        auto len = r.int32();
        if (!len || *len < -1) {
          protocol_error("malformed Bind message: parameter length");
          co_return;
        }
        if (*len == -1) {
          portal.params.emplace_back(std::monostate{});
          continue;
        }
        auto data = r.bytes(static_cast<size_t>(*len));
        if (!data) {
          protocol_error("malformed Bind message: parameter length");
          co_return;
        }
        const bool binary = formats.size() == 1 ? formats[0] == 1 : (formats.empty() ? false : formats[static_cast<size_t>(i)] == 1);
        if (!binary && find_invalid_utf8(*data)) {
          error(Error(ErrorCode::kInvalidUtf8, "invalid byte sequence for encoding \"UTF8\""));
          co_return;
        }
        auto value = decode_param(portal.stmt.param_oids[static_cast<size_t>(i)], binary, *data, static_cast<size_t>(i));
        if (!value.ok()) {
          error(value.error());
          co_return;
        }
        portal.params.push_back(std::move(*value));
      }
      auto nresult = r.int16();
      if (!nresult || *nresult < 0) {
        protocol_error("malformed Bind message: result formats");
        co_return;
      }
      for (int i = 0; i < *nresult; ++i) {
        auto f = r.int16();
        if (!f || (*f != 0 && *f != 1)) {
          protocol_error("malformed Bind message: format codes are 0 or 1");
          co_return;
        }
        portal.result_formats.push_back(*f);
      }
      if (!r.at_end()) {
        protocol_error("malformed Bind message: trailing bytes");
        co_return;
      }
      if (!portal_name->empty() && portals.size() >= kMaxPortals && !portals.contains(*portal_name)) {
        error(Error(ErrorCode::kInvalidParameter, fmt::format("too many open portals (limit {})", kMaxPortals)));
        co_return;
      }
      portals[std::string(*portal_name)] = std::move(portal);
      write_simple(out, '2');
      co_return;
    }
    case 'D': {
      auto kind = r.byte();
      auto name = r.cstring();
      if (!kind || !name || (*kind != 'S' && *kind != 'P')) {
        protocol_error("malformed Describe message");
        co_return;
      }
      if (*kind == 'S') {
        auto it = prepared.find(*name);
        if (it == prepared.end()) {
          state_error("26000", fmt::format("prepared statement \"{}\" does not exist", *name));
          co_return;
        }
        const Prepared& p = it->second;
        MessageWriter w(out);
        w.begin('t');
        w.int16(static_cast<int16_t>(p.param_oids.size()));
        for (int32_t o : p.param_oids) w.int32(o == 0 ? oid::kText : o);
        w.end();
        if (p.command.kind == CommandKind::kShow || p.command.kind == CommandKind::kVersion) {
          LocalResult local;
          if (p.command.kind == CommandKind::kVersion) {
            local.columns = {"version"};
          } else {
            local.columns = {p.command.name == "all" ? "name" : p.command.name};
          }
          write_local_description(out, local, {});
          co_return;
        }
        if (p.command.kind != CommandKind::kNone || p.empty || !returns_rows(p.kind) || p.kind == sql::StatementKind::kOther) {
          write_simple(out, 'n');
          co_return;
        }
        // The result's columns without running it: the statement under LIMIT 0 with NULL
        // parameters, routed like the real one (DuckDB plans it and returns no row).
        Exec e;
        Statement probe{fmt::format("SELECT * FROM ({}) AS lakerouter_describe LIMIT 0", p.sql),
                        std::vector<ParamValue>(p.param_oids.size())};
        probe.audited = false;
        start_exec(e, std::move(probe));
        set_current(nullptr);
        if (!e.query) {
          skip_until_sync = true;
          co_return;
        }
        write_row_description(out, e.schema, {});
        co_return;
      }
      auto it = portals.find(*name);
      if (it == portals.end()) {
        state_error("34000", fmt::format("portal \"{}\" does not exist", *name));
        co_return;
      }
      Portal& portal = it->second;
      portal.described = true;
      if (portal.stmt.command.kind != CommandKind::kNone) {
        LocalResult local;
        std::optional<Error> err;
        if (txn != 'E' && run_command(portal.stmt.command, local, err)) {
          if (err) {
            error(*err);
            co_return;
          }
          portal.local = std::move(local);
          if (portal.local->columns.empty()) {
            write_simple(out, 'n');
          } else {
            write_local_description(out, *portal.local, resolve_formats(portal.result_formats, portal.local->columns.size()));
          }
          co_return;
        }
      }
      if (portal.stmt.empty || !returns_rows(portal.stmt.kind)) {
        write_simple(out, 'n');
        co_return;
      }
      if (txn == 'E') {
        write_plain_error(out, "25P02", "current transaction is aborted, commands ignored until end of transaction block");
        skip_until_sync = true;
        co_return;
      }
      portal.exec = std::make_unique<Exec>();
      Exec& e = *portal.exec;
      Statement statement{portal.stmt.sql, portal.params};
      start_exec(e, std::move(statement));
      set_current(nullptr);
      if (!e.query) {
        skip_until_sync = true;
        co_return;
      }
      if (e.rows_out) {
        write_row_description(out, e.schema, resolve_formats(portal.result_formats, e.schema.size()));
      } else {
        write_simple(out, 'n');
      }
      co_return;
    }
    case 'E': {
      auto name = r.cstring();
      auto max_rows = r.int32();
      if (!name || !max_rows) {
        protocol_error("malformed Execute message");
        co_return;
      }
      auto it = portals.find(*name);
      if (it == portals.end()) {
        state_error("34000", fmt::format("portal \"{}\" does not exist", *name));
        co_return;
      }
      Portal& portal = it->second;
      if (portal.stmt.empty) {
        write_simple(out, 'I');
        co_return;
      }
      const Command& cmd = portal.stmt.command;
      if (txn == 'E' && cmd.kind != CommandKind::kRollback && cmd.kind != CommandKind::kCommit) {
        write_plain_error(out, "25P02", "current transaction is aborted, commands ignored until end of transaction block");
        skip_until_sync = true;
        co_return;
      }
      if (cmd.kind != CommandKind::kNone && !portal.exec) {
        if (!portal.local) {
          LocalResult local;
          std::optional<Error> err;
          if (run_command(cmd, local, err)) {
            if (err) {
              error(*err);
              co_return;
            }
            portal.local = std::move(local);
          }
        }
        if (portal.local) {
          LocalResult& local = *portal.local;
          size_t sent = 0;
          while (portal.local_row < local.rows.size() && (*max_rows <= 0 || sent < static_cast<size_t>(*max_rows))) {
            write_local_row(out, local.rows[portal.local_row++]);
            ++sent;
          }
          if (portal.local_row < local.rows.size()) {
            write_simple(out, 's');
          } else {
            std::string tag = local.tag;
            if (tag == "SELECT 1") tag = fmt::format("SELECT {}", local.rows.size());
            write_command_complete(out, tag);
          }
          co_return;
        }
      }
      if (!portal.exec) {
        if (txn == 'T' && is_write(portal.stmt.kind)) {
          write_plain_error(out, "25006",
                            "lakerouter does not run writes inside a transaction block: each statement runs on its "
                            "own engine; COMMIT or ROLLBACK, then write in autocommit mode");
          txn = 'E';
          skip_until_sync = true;
          co_return;
        }
        portal.exec = std::make_unique<Exec>();
        Exec& e = *portal.exec;
        Statement statement{portal.stmt.sql, portal.params};
        start_exec(e, std::move(statement));
        if (!e.query) {
          set_current(nullptr);
          skip_until_sync = true;
          co_return;
        }
      }
      Exec& e = *portal.exec;
      if (!e.query && e.done) {
        write_command_complete(out, command_tag(portal.stmt.kind, portal.stmt.sql, e));
        co_return;
      }
      const auto formats = resolve_formats(portal.result_formats, e.schema.size());
      bool suspended = false;
      co_await stream_exec(s, e, formats, *max_rows, suspended);
      if (!e.query) {
        skip_until_sync = true;
        co_return;
      }
      if (suspended) {
        write_simple(out, 's');
      } else {
        write_command_complete(out, command_tag(e.query->kind, portal.stmt.sql, e));
        e.query.reset();  // release the engine's resources now; the portal stays until Sync/Close
      }
      co_return;
    }
    case 'C': {
      auto kind = r.byte();
      auto name = r.cstring();
      if (!kind || !name || (*kind != 'S' && *kind != 'P')) {
        protocol_error("malformed Close message");
        co_return;
      }
      if (*kind == 'S') {
        prepared.erase(std::string(*name));
      } else {
        portals.erase(std::string(*name));
      }
      write_simple(out, '3');
      co_return;
    }
    case 'S':
      skip_until_sync = false;
      if (txn == 'I') portals.clear();
      write_ready(out, txn);
      co_await flush(s);
      co_return;
    case 'H':
      co_await flush(s);
      co_return;
    default: co_return;
  }
}

awaitable<void> ServerState::accept_loop() {
  while (acceptor && acceptor->is_open()) {
    auto [ec, sock] = co_await acceptor->async_accept(asio::make_strand(ioc), asio::as_tuple(use_awaitable));
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor->is_open()) co_return;
      continue;
    }
    sock.set_option(tcp::no_delay(true), ec);
    ++active;
    auto conn = std::make_shared<Conn>(*this, std::move(sock));
    auto executor = conn->socket.get_executor();
    asio::co_spawn(executor, serve_connection(std::move(conn)), asio::detached);
  }
}

void ServerState::start_session(std::shared_ptr<Conn> conn, SessionStart start) {
  auto context = std::make_shared<asio::io_context>(1);
  conn->session_context = context;
  conn->move_to(context->get_executor());
  std::vector<std::thread> finished;
  {
    std::lock_guard lock(sessions_mu);
    // Stopping: the connection and its context go now. Checked before the session is spawned, as
    // a spawned session that never runs would keep its connection, and so its context, alive.
    if (!accepting_sessions) return;
    asio::co_spawn(*context, serve_session(std::move(conn), std::move(start)), asio::detached);
    const uint64_t id = next_session++;
    std::thread thread;
    try {
      thread = std::thread([this, id, context] {
        try {
          context->run();
        } catch (const std::exception& e) {
          spdlog::error("pgwire session thread stopped: {}", e.what());
        }
        std::lock_guard lock(sessions_mu);
        if (auto it = session_threads.find(id); it != session_threads.end()) {  // else stop() took it
          finished_threads.push_back(std::move(it->second.thread));
          session_threads.erase(it);
        }
      });
    } catch (const std::system_error& e) {
      // No thread to be had (a process or memory limit): this connection closes, the server goes on.
      spdlog::error("pgwire: no thread for a new session ({}); closing the connection", e.what());
      return;
    }
    session_threads.emplace(id, SessionThread{context, std::move(thread)});
    finished.swap(finished_threads);
  }
  for (auto& t : finished) t.join();  // they have returned, or are about to
}

void ServerState::cancel(int32_t pid, int32_t secret) {
  std::shared_ptr<Conn> conn;
  {
    std::lock_guard lock(mu);
    if (auto it = conns.find(pid); it != conns.end()) conn = it->second.lock();
  }
  // A wrong key is ignored silently, as PostgreSQL does.
  if (conn && CRYPTO_memcmp(&conn->secret, &secret, sizeof secret) == 0) {
    spdlog::info("pgwire: cancel request for connection {}", pid);
    conn->cancel_current();
  }
}

struct PgwireServer::Impl {
  Impl(PgwireOptions o, Pipeline& p, const UserDirectory& u) : state(std::move(o), p, u) {}
  ServerState state;
};

PgwireServer::PgwireServer(PgwireOptions options, Pipeline& pipeline, LiveCatalog& /*catalog*/,
                           const UserDirectory& users)
    : impl_(std::make_unique<Impl>(std::move(options), pipeline, users)) {}

PgwireServer::~PgwireServer() {
  try {
    stop();
  } catch (const std::exception& e) {  // joining threads throws only on misuse; never from a destructor
    spdlog::error("pgwire: stopping the server failed: {}", e.what());
  }
}

Result<int> PgwireServer::start() {
  ServerState& s = impl_->state;
  for (const auto& u : s.users.all()) {
    if (!u.scram_sha256.empty()) {
      auto v = ScramVerifier::parse(u.scram_sha256);
      if (!v.ok()) return Error(ErrorCode::kConfigError, fmt::format("user '{}': {}", u.name, v.error().message));
      s.verifiers[u.name] = std::move(*v);
    } else if (!u.password.empty()) {
      auto v = ScramVerifier::derive(u.password);
      if (!v.ok()) return v.error();
      s.verifiers[u.name] = std::move(*v);
    }
  }
  try {
    if (!s.options.tls_cert.empty() && !s.options.tls_key.empty()) {
      s.ssl.emplace(asio::ssl::context::tls_server);
      s.ssl->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                         asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
      s.ssl->use_certificate_chain_file(s.options.tls_cert);
      s.ssl->use_private_key_file(s.options.tls_key, asio::ssl::context::pem);
    }
    tcp::endpoint endpoint(asio::ip::make_address(s.options.host), static_cast<unsigned short>(s.options.port));
    s.acceptor.emplace(s.ioc);
    s.acceptor->open(endpoint.protocol());
    s.acceptor->set_option(tcp::acceptor::reuse_address(true));
    s.acceptor->bind(endpoint);
    s.acceptor->listen(asio::socket_base::max_listen_connections);
  } catch (const std::exception& e) {
    s.acceptor.reset();
    return Error(ErrorCode::kConfigError, fmt::format("cannot listen on {}:{}: {}", s.options.host, s.options.port, e.what()));
  }
  const int port = s.acceptor->local_endpoint().port();
  asio::co_spawn(s.ioc, s.accept_loop(), asio::detached);
  {
    std::lock_guard lock(s.sessions_mu);
    s.accepting_sessions = true;
  }
  for (int i = 0; i < std::max(1, s.options.io_threads); ++i) {
    s.threads.emplace_back([&s] {
      try {
        s.ioc.run();
      } catch (const std::exception& e) {
        spdlog::error("pgwire I/O thread stopped: {}", e.what());
      }
    });
  }
  s.started = true;
  return port;
}

void PgwireServer::stop() {
  if (!impl_ || !impl_->state.started) return;
  ServerState& s = impl_->state;
  s.started = false;
  std::vector<std::shared_ptr<Conn>> live;
  {
    std::lock_guard lock(s.mu);
    for (auto& [pid, weak] : s.conns) {
      if (auto c = weak.lock()) live.push_back(std::move(c));
    }
  }
  for (auto& c : live) c->cancel_current();
  asio::post(s.ioc, [&s] {
    boost::system::error_code ec;
    if (s.acceptor) s.acceptor->close(ec);
  });
  s.ioc.stop();
  for (auto& t : s.threads) t.join();
  s.threads.clear();
  std::vector<std::thread> session_threads;
  std::vector<std::shared_ptr<asio::io_context>> session_contexts;
  {
    std::lock_guard lock(s.sessions_mu);
    s.accepting_sessions = false;
    for (auto& [id, entry] : s.session_threads) {
      entry.context->stop();  // a thread inside a statement returns once the cancel above ends it
      session_threads.push_back(std::move(entry.thread));
      session_contexts.push_back(std::move(entry.context));
    }
    s.session_threads.clear();
    for (auto& t : s.finished_threads) session_threads.push_back(std::move(t));
    s.finished_threads.clear();
  }
  for (auto& t : session_threads) {
    if (t.joinable()) t.join();
  }
  // No thread runs any context now. A session that was waiting for its client holds its
  // connection, which holds the session's context, which holds the waiting session: closing the
  // sockets and running what that completes ends those sessions, so the three do not keep each
  // other alive (a leak at every shutdown with idle clients).
  for (auto& c : live) {
    boost::system::error_code ec;
    c->socket.close(ec);
  }
  live.clear();
  for (auto& context : session_contexts) {
    context->restart();
    for (int round = 0; round < 100 && context->poll() > 0; ++round) {
    }
  }
}

}  // namespace lakerouter::pgwire
