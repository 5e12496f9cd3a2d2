// The Databricks SQL engine: value forms, parameters and errors without a server, and the engine
// against tests/contract/databricks_contract_server.py, a contract server replaying the documented
// Statement Execution API 2.0 (Databricks itself cannot run here). The fixture starts the contract
// server with the project's virtualenv Python; without it the tests fail (scripts/bootstrap.sh
// creates it), they do not skip.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <limits>
#include <random>
#include <thread>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/value_format.h"
#include "core/value_parse.h"
#include "engines/databricks/databricks_engine.h"
#include "engines/databricks/databricks_internal.h"
#include "engine_test_util.h"

namespace lakerouter {
namespace {

using namespace std::chrono_literals;
using namespace databricks_internal;
using Clock = std::chrono::steady_clock;
using testing::Rows;
using Table = std::vector<std::vector<std::string>>;

constexpr int64_t kDay = 86'400'000'000;  // microseconds
constexpr int64_t kHour = 3'600'000'000;

// --- Types, values, parameters and errors (no server) --------------------------------------------

TEST(DatabricksValues, MapsManifestTypesOntoCoreTypes) {
  struct Case {
    std::string type_name, type_text;
    TypeId id;
  };
  for (const Case& c : std::vector<Case>{
           {"BOOLEAN", "boolean", TypeId::kBoolean},     {"BYTE", "tinyint", TypeId::kTinyInt},
           {"SHORT", "smallint", TypeId::kSmallInt},     {"INT", "int", TypeId::kInteger},
           {"LONG", "bigint", TypeId::kBigInt},          {"FLOAT", "float", TypeId::kFloat},
           {"DOUBLE", "double", TypeId::kDouble},        {"DECIMAL", "decimal(10,2)", TypeId::kDecimal},
           {"STRING", "string", TypeId::kVarchar},       {"CHAR", "char(3)", TypeId::kVarchar},
           {"BINARY", "binary", TypeId::kBlob},          {"DATE", "date", TypeId::kDate},
           {"TIMESTAMP", "timestamp", TypeId::kTimestampTz},
           {"TIMESTAMP_NTZ", "timestamp_ntz", TypeId::kTimestamp},
           {"INTERVAL", "interval day to second", TypeId::kInterval},
           {"ARRAY", "array<int>", TypeId::kJson},       {"MAP", "map<string,int>", TypeId::kJson},
           {"STRUCT", "struct<a:int>", TypeId::kJson},   {"NULL", "void", TypeId::kNull},
           {"USER_DEFINED_TYPE", "geography", TypeId::kOther},
           // Without a type_name (or one this version does not know), type_text decides.
           {"", "BIGINT", TypeId::kBigInt},              {"", "timestamp_ntz", TypeId::kTimestamp},
           {"VARIANT", "variant", TypeId::kJson},        {"SOMETHING_NEW", "array<string>", TypeId::kJson},
       }) {
    SCOPED_TRACE(c.type_name + " " + c.type_text);
    const ColumnType t = column_type(c.type_name, c.type_text, std::nullopt, std::nullopt);
    EXPECT_EQ(static_cast<int>(t.id), static_cast<int>(c.id));
    EXPECT_EQ(t.sql_name, c.type_text);
  }
  const ColumnType from_fields = column_type("DECIMAL", "decimal(38,2)", 38, 2);
  EXPECT_EQ(from_fields.precision, 38);
  EXPECT_EQ(from_fields.scale, 2);
  const ColumnType from_text = column_type("DECIMAL", "decimal(12, 4)", std::nullopt, std::nullopt);
  EXPECT_EQ(from_text.precision, 12);
  EXPECT_EQ(from_text.scale, 4);
  const ColumnType bare = column_type("DECIMAL", "decimal", std::nullopt, std::nullopt);
  EXPECT_EQ(bare.precision, 10);  // DECIMAL is DECIMAL(10,0)
  EXPECT_EQ(bare.scale, 0);
}

TEST(DatabricksValues, ParsesJsonArrayValueTexts) {
  EXPECT_EQ(parse_date("1970-01-01"), 0);
  EXPECT_EQ(parse_date("2024-02-29"), 19782);
  EXPECT_EQ(parse_date("-0044-03-15"), -735525);
  EXPECT_FALSE(parse_date("2024-13-01"));
  const int64_t jan2 = 1'704'164'645'123'456;  // 2024-01-02 03:04:05.123456 UTC
  EXPECT_EQ(parse_timestamp("2024-01-02T03:04:05.123456Z", true), jan2);
  EXPECT_EQ(parse_timestamp("2024-01-02 03:04:05.123456", true), jan2);  // no offset: UTC
  EXPECT_EQ(parse_timestamp("2024-01-02T03:04:05.123456789+00:00", true), jan2);  // nanoseconds truncated
  EXPECT_EQ(parse_timestamp("2024-01-02T05:34:05.123456+02:30", true), jan2);
  EXPECT_EQ(parse_timestamp("2024-01-01T19:04:05.123456-0800", true), jan2);
  EXPECT_EQ(parse_timestamp("2024-01-02T04:04:05.123456+01", true), jan2);
  EXPECT_EQ(parse_timestamp("1969-12-31T23:59:59.5Z", true), -500'000);
  EXPECT_EQ(parse_timestamp("2024-01-02T03:04:05.123456", false), jan2);
  EXPECT_FALSE(parse_timestamp("2024-01-02T03:04:05Z", false)) << "TIMESTAMP_NTZ has no offset";
  EXPECT_FALSE(parse_timestamp("2024-01-02T03:04:05 Europe/Berlin", true));
  EXPECT_FALSE(parse_timestamp("2024-01-02", true));

  EXPECT_EQ(parse_decimal("-12.50", 2), __int128{-1250});
  EXPECT_EQ(parse_decimal("7", 3), __int128{7000});
  EXPECT_FALSE(parse_decimal("1.234", 2));
  EXPECT_FALSE(parse_decimal("1E+10", 0));

  EXPECT_EQ(parse_double("2.25"), 2.25);
  EXPECT_EQ(parse_double("1.0E10"), 1e10);
  EXPECT_EQ(parse_double("-Infinity"), -std::numeric_limits<double>::infinity());
  EXPECT_TRUE(std::isnan(parse_double("NaN").value_or(0)));
  EXPECT_FALSE(parse_double("1.5x"));
  EXPECT_FALSE(parse_double(""));

  EXPECT_EQ(decode_base64("AP8Q"), std::string("\x00\xff\x10", 3));
  EXPECT_EQ(decode_base64("YWI="), "ab");
  EXPECT_EQ(decode_base64(""), "");
  EXPECT_FALSE(decode_base64("abc"));
}

TEST(DatabricksValues, RewritesPositionalMarkersAsNamedOnes) {
  auto r = rewrite_parameters("SELECT ?, '?', `a?`, \"?\" -- ?\n, /* ? /* ? */ */ ? FROM t WHERE x = ?", 3);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->sql, "SELECT :p1, '?', `a?`, \"?\" -- ?\n, /* ? /* ? */ */ :p2 FROM t WHERE x = :p3");
  auto d = rewrite_parameters("SELECT $2, $1, 'it''s $3', 'a\\'$3' FROM t WHERE c$1 = $2", 2);
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->sql, "SELECT :p2, :p1, 'it''s $3', 'a\\'$3' FROM t WHERE c$1 = :p2");

  // Positions in the sent text map back into the caller's.
  const std::string sql = "SELECT ?, ? + nope";
  auto m = rewrite_parameters(sql, 2);
  ASSERT_TRUE(m.ok());
  const size_t sent = m->sql.find("nope");
  EXPECT_EQ(m->to_original(static_cast<uint32_t>(sent)), sql.find("nope"));
  EXPECT_EQ(m->to_original(8), 7u) << "inside :p1 -> the ? it replaced";
  EXPECT_EQ(m->to_original(3), 3u);

  for (const auto& [text, count, fragment] : std::vector<std::tuple<std::string, size_t, std::string>>{
           {"SELECT ?, ?", 1, "2 parameter markers but 1 value were given"},
           {"SELECT '?'", 1, "0 parameter markers but 1 value"},
           {"SELECT $1, ?", 2, "mixes ? and $n"},
           {"SELECT $0", 1, "numbered from $1"},
           {"SELECT $3", 2, "3 parameter markers but 2 values"},
       }) {
    SCOPED_TRACE(text);
    auto bad = rewrite_parameters(text, count);
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().code, ErrorCode::kInvalidParameter);
    EXPECT_NE(bad.error().message.find(fragment), std::string::npos) << bad.error().message;
  }

  EXPECT_EQ(parameter_text(int64_t{-5}).type, "BIGINT");
  EXPECT_EQ(parameter_text(int64_t{-5}).value, "-5");
  EXPECT_EQ(parameter_text(2.5).value, "2.5");
  EXPECT_EQ(parameter_text(std::numeric_limits<double>::infinity()).value, "Infinity");
  EXPECT_EQ(parameter_text(true).value, "true");
  EXPECT_EQ(parameter_text(std::string("it's")).type, "STRING");
  EXPECT_EQ(parameter_text(std::monostate{}).value, std::nullopt);
}

TEST(DatabricksValues, MapsErrorsOntoCoreCodes) {
  EXPECT_EQ(code_of_statement_error("[TABLE_OR_VIEW_NOT_FOUND] The table ... SQLSTATE: 42P01", "BAD_REQUEST", ""),
            ErrorCode::kUnknownTable);
  EXPECT_EQ(code_of_statement_error("[UNRESOLVED_COLUMN.WITH_SUGGESTION] A column ...", "BAD_REQUEST", "42703"),
            ErrorCode::kBindError);
  EXPECT_EQ(code_of_statement_error("[PARSE_SYNTAX_ERROR] Syntax error", "", ""), ErrorCode::kSyntaxError);
  EXPECT_EQ(code_of_statement_error("[DIVIDE_BY_ZERO] Division by zero.", "", "22012"), ErrorCode::kDivisionByZero);
  EXPECT_EQ(code_of_statement_error("[SOMETHING_NEW] ... SQLSTATE: 22003", "", ""), ErrorCode::kOutOfRange);
  EXPECT_EQ(code_of_statement_error("no class", "", "23505"), ErrorCode::kConstraintViolation);
  EXPECT_EQ(code_of_statement_error("busy", "TEMPORARILY_UNAVAILABLE", ""), ErrorCode::kEngineUnavailable);
  EXPECT_EQ(code_of_statement_error("gone", "CANCELLED", ""), ErrorCode::kQueryCancelled);
  EXPECT_EQ(code_of_statement_error("odd", "BAD_REQUEST", ""), ErrorCode::kEngineError);

  EXPECT_EQ(find_location("[X] ... SQLSTATE: 42P01; line 2 pos 6")->line, 2);
  EXPECT_EQ(find_location("[X] ... SQLSTATE: 42P01; line 2 pos 6")->pos, 6);
  EXPECT_EQ(find_location("[PARSE_SYNTAX_ERROR] near 'x'. (line 1, pos 7)")->pos, 7);
  EXPECT_FALSE(find_location("an online shop"));
  const std::string sql = "SELECT 'é',\n  nope FROM t";
  EXPECT_EQ(location_to_offset(sql, {2, 2}), 14u);  // characters, not bytes
  EXPECT_FALSE(location_to_offset(sql, {3, 0}));
  EXPECT_FALSE(location_to_offset(sql, {1, 40}));

  EXPECT_EQ(redact("a TOKEN b TOKEN", "TOKEN"), "a [REDACTED] b [REDACTED]");
  EXPECT_EQ(redact("abc", ""), "abc");
}

// --- Configuration without a server ------------------------------------------------------------

constexpr const char* kTokenEnv = "LAKEROUTER_TEST_DATABRICKS_TOKEN";
constexpr const char* kWarehouse = "wh-contract-1";

// A loopback port nothing listens on: bound, then closed.
int unused_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  EXPECT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  ::close(fd);
  return ntohs(addr.sin_port);
}

TEST(DatabricksEngineConfig, RefusesUnusableOptionsAtOpen) {
  ::setenv("LAKEROUTER_TEST_DBX_OPEN_TOKEN", "dapi-open-test", 1);
  DatabricksEngineOptions good;
  good.name = "lakehouse";
  good.host = "adb-1.2.azuredatabricks.net";  // a bare host means https
  good.warehouse_id = "abc123";
  good.token_env = "LAKEROUTER_TEST_DBX_OPEN_TOKEN";
  auto engine = DatabricksEngine::open(good);
  ASSERT_TRUE(engine.ok()) << engine.error().message;
  EXPECT_EQ((*engine)->name(), "lakehouse");
  EXPECT_EQ((*engine)->dialect(), "databricks");

  struct Case {
    std::function<void(DatabricksEngineOptions&)> change;
    std::string fragment;
  };
  for (const Case& c : std::vector<Case>{
           {[](auto& o) { o.host = ""; }, "is not usable: it is empty"},
           {[](auto& o) { o.host = "ftp://x"; }, "the scheme must be https"},
           {[](auto& o) { o.host = "https://user:secret@x"; }, "credentials do not belong in the URL"},
           {[](auto& o) { o.host = "https://x/?a=b"; }, "query or fragment"},
           {[](auto& o) { o.warehouse_id = "../x"; }, "is not a SQL warehouse id"},
           {[](auto& o) { o.token_env = "dapi 123"; }, "not an environment variable name"},
           {[](auto& o) { o.token_env = "LAKEROUTER_TEST_DBX_NOT_SET"; },
            "the environment variable LAKEROUTER_TEST_DBX_NOT_SET is not set"},
           {[](auto& o) { o.wait_timeout = 3s; }, "0 (poll at once) or 5000 to 50000"},
           {[](auto& o) { o.poll_interval = 0ms; }, "must be positive"},
       }) {
    SCOPED_TRACE(c.fragment);
    DatabricksEngineOptions o = good;
    c.change(o);
    auto bad = DatabricksEngine::open(o);
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().code, ErrorCode::kConfigError);
    EXPECT_NE(bad.error().message.find(c.fragment), std::string::npos) << bad.error().message;
    EXPECT_EQ(bad.error().message.find("secret"), std::string::npos) << "never echo a password";
    EXPECT_EQ(bad.error().message.find("dapi-open-test"), std::string::npos) << "never echo the token";
  }
  ::unsetenv("LAKEROUTER_TEST_DBX_OPEN_TOKEN");
}

TEST(DatabricksEngineConfig, UnreachableHostIsUnavailableWithoutHanging) {
  ::setenv("LAKEROUTER_TEST_DBX_DOWN_TOKEN", "dapi-down", 1);
  DatabricksEngineOptions o;
  o.host = "http://127.0.0.1:" + std::to_string(unused_port());
  o.warehouse_id = "w1";
  o.token_env = "LAKEROUTER_TEST_DBX_DOWN_TOKEN";
  auto engine = DatabricksEngine::open(o);  // the workspace need not be up to open
  ASSERT_TRUE(engine.ok()) << engine.error().message;
  auto stream = (*engine)->execute(Statement{"SELECT 1"}, Session());
  ASSERT_FALSE(stream.ok());
  EXPECT_EQ(error_code_name(stream.error().code), "ENGINE_UNAVAILABLE");
  EXPECT_NE(stream.error().message.find("cannot reach Databricks at " + o.host), std::string::npos)
      << stream.error().message;
  auto health = (*engine)->health();
  EXPECT_FALSE(health.ready);
  EXPECT_NE(health.detail.find("cannot reach Databricks"), std::string::npos) << health.detail;
  ::unsetenv("LAKEROUTER_TEST_DBX_DOWN_TOKEN");
}

// --- Against the contract server ----------------------------------------------------------------

std::string cell(const ColumnData& col, const ColumnType& type, size_t row) {
  if (col.is_null(row)) return "NULL";
  std::string out;
  switch (type.id) {
    case TypeId::kDate: append_date(out, col.int64_at(row)); return out;
    case TypeId::kTimestamp: append_timestamp(out, col.int64_at(row), false); return out;
    case TypeId::kTimestampTz: append_timestamp(out, col.int64_at(row), true); return out;
    case TypeId::kDecimal: append_decimal(out, col.int128_at(row), type.scale); return out;
    default: break;
  }
  switch (col.kind()) {
    case PhysicalKind::kInt64: return std::to_string(col.int64_at(row));
    case PhysicalKind::kInt128: append_int128(out, col.int128_at(row)); return out;
    case PhysicalKind::kDouble: return fmt::format("{}", col.double_at(row));
    case PhysicalKind::kString: return std::string(col.string_at(row));
  }
  return "?";
}

Result<Rows> drain(ResultStream& stream) { return testing::drain(stream, cell); }

std::string unique_marker() {
  std::random_device rd;
  return "m" + std::to_string(rd()) + std::to_string(rd());
}

// Waits (up to `limit`) until `done` holds; returns whether it did.
bool eventually(const std::function<bool()>& done, std::chrono::seconds limit = 10s) {
  for (auto until = Clock::now() + limit; Clock::now() < until; std::this_thread::sleep_for(20ms)) {
    if (done()) return true;
  }
  return done();
}

class DatabricksContract : public ::testing::Test {
 protected:
  // Starts the contract server and reads its port from the first line it prints.
  static void SetUpTestSuite() {
    const std::string root = LAKEROUTER_SOURCE_DIR;
    const std::string python = root + "/.venv/bin/python";
    const std::string script = root + "/tests/contract/databricks_contract_server.py";
    if (::access(python.c_str(), X_OK) != 0) {
      start_error_ = "no Python at " + python + ": the Databricks tests need the project's virtualenv with its "
                     "contract server (run scripts/bootstrap.sh, which creates .venv)";
      return;
    }
    std::random_device rd;
    token_ = fmt::format("dapi{:08x}{:08x}-contract", rd(), rd());
    ::setenv(kTokenEnv, token_.c_str(), 1);
    int fds[2];
    if (::pipe(fds) != 0) {
      start_error_ = "pipe() failed";
      return;
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, fds[0]);
    posix_spawn_file_actions_addclose(&actions, fds[1]);
    std::vector<std::string> args = {python, script, "--token", token_, "--warehouse-id", kWarehouse};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int rc = posix_spawn(&pid_, python.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(fds[1]);
    stdout_fd_ = fds[0];
    if (rc != 0) {
      pid_ = 0;
      start_error_ = "could not start " + python + ": " + std::strerror(rc);
      return;
    }
    std::string line;
    for (auto until = Clock::now() + 30s; line.find('\n') == std::string::npos && Clock::now() < until;) {
      pollfd p{stdout_fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      char buf[64];
      const ssize_t n = ::read(stdout_fd_, buf, sizeof(buf));
      if (n <= 0) break;  // the server exited
      line.append(buf, static_cast<size_t>(n));
    }
    port_ = std::atoi(line.c_str());
    if (port_ <= 0) start_error_ = "the contract server printed no port (got '" + line + "'); run it by hand: " + script;
  }

  static void TearDownTestSuite() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      ::waitpid(pid_, &status, 0);
      pid_ = 0;
    }
    if (stdout_fd_ >= 0) ::close(stdout_fd_);
    stdout_fd_ = -1;
    ::unsetenv(kTokenEnv);
  }

  void SetUp() override {
    if (!start_error_.empty()) FAIL() << start_error_;
  }

  static DatabricksEngineOptions options() {
    DatabricksEngineOptions o;
    o.name = "lakehouse";
    o.host = "http://127.0.0.1:" + std::to_string(port_);
    o.warehouse_id = kWarehouse;
    o.token_env = kTokenEnv;
    o.catalog = "main";
    o.schema = "tpch";
    o.poll_interval = 10ms;
    o.max_poll_interval = 50ms;
    return o;
  }

  static std::unique_ptr<DatabricksEngine> open(const DatabricksEngineOptions& o = options()) {
    auto engine = DatabricksEngine::open(o);
    EXPECT_TRUE(engine.ok()) << engine.error().message;
    return engine.ok() ? std::move(*engine) : nullptr;
  }

  static Result<Rows> run(Engine& engine, const std::string& sql, std::vector<ParamValue> params = {},
                          const Session& session = Session()) {
    auto stream = engine.execute(Statement{sql, std::move(params)}, session);
    if (!stream.ok()) return stream.error();
    return drain(**stream);
  }

  // GET on the contract server's test-only endpoints.
  static nlohmann::json contract_get(const std::string& path) {
    namespace http = boost::beast::http;
    boost::asio::io_context io;
    boost::asio::ip::tcp::socket socket(io);
    socket.connect({boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port_)});
    http::request<http::empty_body> request{http::verb::get, path, 11};
    request.set(http::field::host, "127.0.0.1");
    http::write(socket, request);
    boost::beast::flat_buffer buffer;
    http::response<http::string_body> response;
    http::read(socket, buffer, response);
    return nlohmann::json::parse(response.body());
  }

  // The contract server's record of the statement whose SQL holds `marker` (null if none).
  static nlohmann::json statement_with(const std::string& marker) {
    const nlohmann::json all = contract_get("/_contract/statements");
    for (const auto& s : all["statements"]) {
      if (s["sql"].get<std::string>().find(marker) != std::string::npos) return s;
    }
    return nullptr;
  }

  // Every error must be free of the credentials.
  static void expect_no_token(const Error& e) {
    EXPECT_EQ(e.message.find(token_), std::string::npos) << "the token leaked into: " << e.message;
  }

  static inline std::string start_error_;
  static inline std::string token_;
  static inline pid_t pid_ = 0;
  static inline int stdout_fd_ = -1;
  static inline int port_ = 0;
};

TEST_F(DatabricksContract, ImmediateResultComesWithThePost) {
  auto engine = open();
  const std::string marker = unique_marker();
  auto rows = run(*engine, "SELECT id, name /* " + marker + " */ FROM contract.immediate");
  ASSERT_TRUE(rows.ok()) << rows.error().message;
  ASSERT_EQ(rows->schema.size(), 2u);
  EXPECT_EQ(rows->schema[0].name, "id");
  EXPECT_EQ(rows->schema[0].type.id, TypeId::kInteger);
  EXPECT_EQ(rows->schema[0].type.sql_name, "int");
  EXPECT_EQ(rows->schema[1].type.id, TypeId::kVarchar);
  EXPECT_EQ(rows->values, (Table{{"1", "alpha"}, {"2", "beta"}, {"3", "NULL"}}));
  EXPECT_EQ(rows->batches(), 1u);
  auto s = statement_with(marker);
  ASSERT_FALSE(s.is_null());
  EXPECT_EQ(s["polls"], 0) << "the POST's answer held the result";
  EXPECT_EQ(s["cancel_requests"], 0) << "a finished statement is not cancelled";
}

TEST_F(DatabricksContract, SendsTheDocumentedRequest) {
  auto engine = open();
  auto rows = run(*engine, "SELECT * FROM contract.echo");
  ASSERT_TRUE(rows.ok()) << rows.error().message;
  ASSERT_EQ(rows->values.size(), 1u);
  // statement, parameters, catalog, schema, wait_timeout, on_wait_timeout, disposition, format
  EXPECT_EQ(rows->values[0], (std::vector<std::string>{"SELECT * FROM contract.echo", "null", "main", "tpch", "10s",
                                                       "CONTINUE", "INLINE", "JSON_ARRAY"}));
  // The POST's wait stays a second below the session's deadline, and 0s below the API's 5s.
  for (const auto& [timeout, wait] : std::vector<std::pair<std::chrono::milliseconds, std::string>>{
           {8s, "7s"}, {60s, "10s"}, {5500ms, "0s"}}) {
    Session session;
    session.timeout = timeout;
    rows = run(*engine, "SELECT * FROM contract.echo", {}, session);
    ASSERT_TRUE(rows.ok()) << rows.error().message;
    EXPECT_EQ(rows->values[0][4], wait) << timeout.count() << " ms";
  }
  // Without catalog and schema, none are sent (the warehouse's defaults apply).
  auto o = options();
  o.catalog.clear();
  o.schema.clear();
  rows = run(*open(o), "SELECT * FROM contract.echo");
  ASSERT_TRUE(rows.ok()) << rows.error().message;
  EXPECT_EQ(rows->values[0][2], "NULL");
  EXPECT_EQ(rows->values[0][3], "NULL");
}

TEST_F(DatabricksContract, PositionalParametersAreSentAsNamedMarkers) {
  auto engine = open();
  auto rows = run(*engine, "SELECT ?, ? , '?', ?, ?, ? FROM contract.echo",
                  {int64_t{41}, std::string("it's"), 2.5, true, std::monostate{}});
  ASSERT_TRUE(rows.ok()) << rows.error().message;
  EXPECT_EQ(rows->values[0][0], "SELECT :p1, :p2 , '?', :p3, :p4, :p5 FROM contract.echo");
  EXPECT_EQ(nlohmann::json::parse(rows->values[0][1]),
            nlohmann::json::parse(R"([{"name":"p1","type":"BIGINT","value":"41"},
                                      {"name":"p2","type":"STRING","value":"it's"},
                                      {"name":"p3","type":"DOUBLE","value":"2.5"},
                                      {"name":"p4","type":"BOOLEAN","value":"true"},
                                      {"name":"p5"}])"));
  rows = run(*engine, "SELECT $2, $1 FROM contract.echo", {int64_t{1}, int64_t{2}});
  ASSERT_TRUE(rows.ok()) << rows.error().message;
  EXPECT_EQ(rows->values[0][0], "SELECT :p2, :p1 FROM contract.echo");

  // A wrong count is refused before anything is sent.
  const std::string marker = unique_marker();
  auto wrong = engine->execute(Statement{"SELECT ?, ? /* " + marker + " */ FROM contract.echo", {int64_t{1}}}, Session());
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(error_code_name(wrong.error().code), "INVALID_PARAMETER");
  EXPECT_TRUE(statement_with(marker).is_null());

  // A marker the server finds unbound: its position maps back into the caller's text.
  const std::string sql = "SELECT ?, :other FROM contract.echo";
  auto unbound = run(*engine, sql, {int64_t{1}});
  ASSERT_FALSE(unbound.ok());
  EXPECT_EQ(error_code_name(unbound.error().code), "INVALID_PARAMETER") << unbound.error().message;
  EXPECT_EQ(unbound.error().position, sql.find(":other")) << unbound.error().message;
}

TEST_F(DatabricksContract, PollsAPendingStatementUntilItSucceeds) {
  auto engine = open();
  const std::string marker = unique_marker();
  auto stream = engine->execute(Statement{"SELECT n /* " + marker + " */ FROM contract.slow"}, Session());
  ASSERT_TRUE(stream.ok()) << stream.error().message;
  // execute() polled PENDING -> RUNNING -> RUNNING -> SUCCEEDED: the schema is known at once.
  ASSERT_EQ((*stream)->schema().size(), 1u);
  EXPECT_EQ((*stream)->schema()[0].type.id, TypeId::kBigInt);
  auto rows = drain(**stream);
  ASSERT_TRUE(rows.ok()) << rows.error().message;
  EXPECT_EQ(rows->values, (Table{{"42"}}));
  auto s = statement_with(marker);
  EXPECT_EQ(s["polls"], 4);
  EXPECT_EQ(s["state"], "SUCCEEDED");
  EXPECT_EQ(s["cancel_requests"], 0);
}

TEST_F(DatabricksContract, FollowsEveryChunkOfAResult) {
  auto engine = open();
  const std::string marker = unique_marker();
  auto rows = run(*engine, "SELECT i, label /* " + marker + " */ FROM contract.chunks");
  ASSERT_TRUE(rows.ok()) << rows.error().message;
  ASSERT_EQ(rows->values.size(), 1000u);
  EXPECT_EQ(rows->batch_sizes, (std::vector<size_t>{250, 250, 250, 250}));
  for (size_t i = 0; i < rows->values.size(); ++i) {
    ASSERT_EQ(rows->values[i], (std::vector<std::string>{std::to_string(i), "row-" + std::to_string(i)}));
  }
  auto s = statement_with(marker);
  // Chunk 0 came with the POST; 1 and 2 through next_chunk_internal_link, 3 through next_chunk_index.
  EXPECT_EQ(s["chunk_requests"], nlohmann::json::parse("[1, 2, 3]"));
  EXPECT_EQ(s["cancel_requests"], 0) << "a result read to its end is not cancelled";
}

TEST_F(DatabricksContract, MapsEveryTypeOntoCoreTypes) {
  auto engine = open();
  auto rows = run(*engine, "SELECT * FROM contract.types");
  ASSERT_TRUE(rows.ok()) << rows.error().message;
  ASSERT_EQ(rows->values.size(), 2u);
  const std::vector<std::pair<TypeId, std::string>> expected = {
      {TypeId::kBoolean, "1"},
      {TypeId::kTinyInt, "-7"},
      {TypeId::kSmallInt, "300"},
      {TypeId::kInteger, "70000"},
      {TypeId::kBigInt, "9223372036854775807"},
      {TypeId::kFloat, fmt::format("{}", static_cast<double>(1.1f))},
      {TypeId::kDouble, "2.25"},
      {TypeId::kDouble, "nan"},
      {TypeId::kDouble, "-inf"},
      {TypeId::kDouble, "10000000000"},
      {TypeId::kDecimal, "12345678901234567890123456789012345.67"},
      {TypeId::kDecimal, "-1.50"},
      {TypeId::kVarchar, "héllo"},
      {TypeId::kVarchar, "ab "},
      {TypeId::kBlob, std::string("\x00\xff\x10", 3)},
      {TypeId::kDate, "2024-02-29"},
      {TypeId::kTimestampTz, "2024-01-02T03:04:05.123456Z"},
      {TypeId::kTimestampTz, "2024-07-01T10:00:00.500000Z"},
      {TypeId::kTimestamp, "2024-01-02T03:04:05.123456"},
      {TypeId::kInterval, "INTERVAL '2 03:00:00' DAY TO SECOND"},
      {TypeId::kJson, "[1,null,3]"},
      {TypeId::kJson, R"([{"key":"a","value":1},{"key":"b","value":2}])"},  // as maps are from every engine
      {TypeId::kJson, R"({"id":1,"name":"x"})"},
      {TypeId::kNull, "NULL"},
  };
  ASSERT_EQ(rows->schema.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    SCOPED_TRACE(rows->schema[i].name + " " + rows->schema[i].type.sql_name);
    EXPECT_EQ(static_cast<int>(rows->schema[i].type.id), static_cast<int>(expected[i].first));
    EXPECT_EQ(rows->values[0][i], expected[i].second);
    EXPECT_EQ(rows->values[1][i], "NULL");
  }
  EXPECT_EQ(rows->schema[10].type.precision, 38);
  EXPECT_EQ(rows->schema[10].type.scale, 2);
  EXPECT_EQ(rows->schema[10].type.sql_name, "decimal(38,2)");  // Databricks' own spelling
}

TEST_F(DatabricksContract, EmptyResultHasItsColumns) {
  auto engine = open();
  auto rows = run(*engine, "SELECT x FROM contract.empty");
  ASSERT_TRUE(rows.ok()) << rows.error().message;
  ASSERT_EQ(rows->schema.size(), 1u);
  EXPECT_EQ(rows->schema[0].name, "x");
  EXPECT_TRUE(rows->values.empty());
}

TEST_F(DatabricksContract, FailedStatementsMapOntoCoreCodesWithPositions) {
  auto engine = open();
  struct Case {
    std::string sql;
    std::string code;
    std::string at;        // the text the position must point at; empty: none
    std::string fragment;  // in the message
  };
  for (const Case& c : std::vector<Case>{
           {"SELECT *\n  FROM contract.missing", "UNKNOWN_TABLE", "contract.missing", "[TABLE_OR_VIEW_NOT_FOUND]"},
           {"SELEC 1", "SYNTAX_ERROR", "SELEC", "Syntax error at or near 'SELEC'"},
           {"SELECT 'é', 2\n,  3 SELEC", "SYNTAX_ERROR", "SELEC", "PARSE_SYNTAX_ERROR"},
           {"SELECT 1 / 0 FROM contract.fails_later", "DIVISION_BY_ZERO", "", "[DIVIDE_BY_ZERO]"},
           {"SELECT * FROM contract.canceled_elsewhere", "QUERY_CANCELLED", "", "was canceled on Databricks"},
           {"SELECT * FROM contract.closed", "ENGINE_ERROR", "", "was closed on Databricks"},
           {"SELECT * FROM elsewhere.t", "ENGINE_ERROR", "", "(Databricks BAD_REQUEST)"},
           {"SELECT * FROM contract.bad_nested", "ENGINE_ERROR", "", "sent \"[1,2\" for column 'arr' of type array<int>"},
       }) {
    SCOPED_TRACE(c.sql);
    auto rows = run(*engine, c.sql);
    ASSERT_FALSE(rows.ok());
    EXPECT_EQ(error_code_name(rows.error().code), c.code) << rows.error().message;
    EXPECT_NE(rows.error().message.find(c.fragment), std::string::npos) << rows.error().message;
    if (!c.at.empty()) {
      const size_t byte = c.sql.rfind(c.at);
      const auto chars = static_cast<uint32_t>(
          std::count_if(c.sql.begin(), c.sql.begin() + static_cast<std::ptrdiff_t>(byte),
                        [](char ch) { return (static_cast<unsigned char>(ch) & 0xC0) != 0x80; }));
      EXPECT_EQ(rows.error().position, chars) << rows.error().message;
    }
    expect_no_token(rows.error());
  }
  // The statement's own errors come from execute(), before any row.
  auto stream = engine->execute(Statement{"SELECT * FROM contract.missing"}, Session());
  ASSERT_FALSE(stream.ok());
}

// Starts a statement that runs until cancelled; execute() returns once `patience` is over.
std::unique_ptr<ResultStream> start_long_running(Engine& engine, const std::string& marker) {
  Session session;
  session.timeout = 1500ms;  // execute() waits this long for the columns, then hands the stream over
  auto stream = engine.execute(Statement{"SELECT count(*) /* " + marker + " */ FROM contract.long_running"}, session);
  EXPECT_TRUE(stream.ok()) << stream.error().message;
  return stream.ok() ? std::move(*stream) : nullptr;
}

TEST_F(DatabricksContract, CancelFromAnotherThreadReachesDatabricks) {
  auto engine = open();
  for (bool timed_out : {false, true}) {
    SCOPED_TRACE(timed_out ? "timed out" : "cancelled");
    const std::string marker = unique_marker();
    auto stream = start_long_running(*engine, marker);
    ASSERT_TRUE(stream);
    EXPECT_EQ(statement_with(marker)["state"], "RUNNING");
    std::thread canceller([&] {
      std::this_thread::sleep_for(200ms);
      stream->cancel(timed_out);
    });
    ResultBatch batch;
    auto more = stream->next(batch);  // polls until the cancel lands
    canceller.join();
    ASSERT_FALSE(more.ok());
    EXPECT_EQ(error_code_name(more.error().code), timed_out ? "QUERY_TIMEOUT" : "QUERY_CANCELLED");
    EXPECT_TRUE(eventually([&] { return statement_with(marker)["cancel_requests"] == 1; }))
        << statement_with(marker).dump();
    EXPECT_EQ(statement_with(marker)["state"], "CANCELED");
    stream->cancel(timed_out);  // idempotent: no second request
    stream.reset();
    std::this_thread::sleep_for(100ms);
    EXPECT_EQ(statement_with(marker)["cancel_requests"], 1);
  }
}

TEST_F(DatabricksContract, DroppingAnUnfinishedStreamCancelsTheStatement) {
  auto engine = open();
  // Still running when dropped.
  const std::string running = unique_marker();
  auto stream = start_long_running(*engine, running);
  ASSERT_TRUE(stream);
  stream.reset();
  EXPECT_TRUE(eventually([&] { return statement_with(running)["state"] == "CANCELED"; }))
      << statement_with(running).dump();

  // Dropped in the middle of its chunks.
  const std::string chunks = unique_marker();
  auto partial = engine->execute(Statement{"SELECT i /* " + chunks + " */ FROM contract.chunks"}, Session());
  ASSERT_TRUE(partial.ok()) << partial.error().message;
  ResultBatch batch;
  auto more = (*partial)->next(batch);
  ASSERT_TRUE(more.ok() && *more);
  EXPECT_EQ(batch.row_count(), 250u);
  partial->reset();
  EXPECT_TRUE(eventually([&] { return statement_with(chunks)["cancel_requests"] == 1; }))
      << statement_with(chunks).dump();
  EXPECT_EQ(statement_with(chunks)["chunk_requests"], nlohmann::json::array()) << "nothing more was fetched";

  // The engine may go first: streams keep what they need, and the cancel is still sent.
  const std::string orphan = unique_marker();
  auto engine2 = open();
  auto kept = start_long_running(*engine2, orphan);
  ASSERT_TRUE(kept);
  engine2.reset();
  kept.reset();
  EXPECT_TRUE(eventually([&] { return statement_with(orphan)["cancel_requests"] == 1; }));
}

TEST_F(DatabricksContract, WrongTokenIsPermissionDeniedAndTheTokenNeverShows) {
  ::setenv("LAKEROUTER_TEST_DBX_WRONG_TOKEN", "dapi-wrong-token-xyz", 1);
  auto o = options();
  o.token_env = "LAKEROUTER_TEST_DBX_WRONG_TOKEN";
  auto engine = open(o);
  auto rows = run(*engine, "SELECT * FROM contract.immediate");
  ASSERT_FALSE(rows.ok());
  EXPECT_EQ(error_code_name(rows.error().code), "PERMISSION_DENIED");
  EXPECT_NE(rows.error().message.find("HTTP 403"), std::string::npos) << rows.error().message;
  EXPECT_NE(rows.error().message.find("Invalid access token"), std::string::npos) << rows.error().message;
  EXPECT_NE(rows.error().message.find("LAKEROUTER_TEST_DBX_WRONG_TOKEN"), std::string::npos)
      << "names the variable to fix: " << rows.error().message;
  EXPECT_EQ(rows.error().message.find("dapi-wrong-token-xyz"), std::string::npos) << rows.error().message;
  auto health = engine->health();
  EXPECT_FALSE(health.ready);
  EXPECT_NE(health.detail.find("refused the token"), std::string::npos) << health.detail;
  EXPECT_EQ(health.detail.find("dapi-wrong-token-xyz"), std::string::npos);
  ::unsetenv("LAKEROUTER_TEST_DBX_WRONG_TOKEN");

  // A server that echoes the credentials in a message: they are redacted.
  auto good = open();
  auto leaked = run(*good, "SELECT * FROM contract.leak_token");
  ASSERT_FALSE(leaked.ok());
  EXPECT_NE(leaked.error().message.find("Bearer [REDACTED]"), std::string::npos) << leaked.error().message;
  expect_no_token(leaked.error());
}

TEST_F(DatabricksContract, UnavailabilityIsRetriedThenReportedAsUnavailable) {
  auto o = options();
  o.request_timeout = 1500ms;  // bounds the retries of the persistent cases
  auto engine = open(o);
  auto flaky = run(*engine, "SELECT * /* " + unique_marker() + " */ FROM contract.flaky");  // 503, 503, then rows
  ASSERT_TRUE(flaky.ok()) << flaky.error().message;
  EXPECT_EQ(flaky->values.size(), 3u);
  for (const auto& [sql, fragment] : std::vector<std::pair<std::string, std::string>>{
           {"SELECT * FROM contract.unavailable", "kept answering HTTP 503 (TEMPORARILY_UNAVAILABLE"},
           {"SELECT * FROM contract.rate_limited", "kept rate-limiting requests (HTTP 429, RESOURCE_EXHAUSTED"},
       }) {
    SCOPED_TRACE(sql);
    auto rows = run(*engine, sql);
    ASSERT_FALSE(rows.ok());
    EXPECT_EQ(error_code_name(rows.error().code), "ENGINE_UNAVAILABLE") << rows.error().message;
    EXPECT_NE(rows.error().message.find(fragment), std::string::npos) << rows.error().message;
  }
}

TEST_F(DatabricksContract, UnknownWarehouseIsUnavailableWithAFix) {
  auto o = options();
  o.warehouse_id = "no-such-warehouse";
  auto engine = open(o);
  auto rows = run(*engine, "SELECT * FROM contract.immediate");
  ASSERT_FALSE(rows.ok());
  EXPECT_EQ(error_code_name(rows.error().code), "ENGINE_UNAVAILABLE");
  EXPECT_NE(rows.error().message.find("check engines.lakehouse.connection: host and warehouse_id 'no-such-warehouse'"),
            std::string::npos)
      << rows.error().message;
  auto health = engine->health();
  EXPECT_FALSE(health.ready);
  EXPECT_NE(health.detail.find("has no SQL warehouse 'no-such-warehouse'"), std::string::npos) << health.detail;
}

TEST_F(DatabricksContract, HealthIsTheWarehouseState) {
  auto health = open()->health();
  EXPECT_TRUE(health.ready) << health.detail;
  EXPECT_NE(health.detail.find("SQL warehouse 'Contract Warehouse' (wh-contract-1)"), std::string::npos)
      << health.detail;
  EXPECT_NE(health.detail.find("is RUNNING"), std::string::npos) << health.detail;
  auto o = options();
  o.warehouse_id = "stopped-warehouse";
  health = open(o)->health();
  EXPECT_FALSE(health.ready);
  EXPECT_NE(health.detail.find("is STOPPED"), std::string::npos) << health.detail;
}

TEST_F(DatabricksContract, ConcurrentStatementsShareTheEngine) {
  auto engine = open();
  std::vector<std::thread> threads;
  std::atomic<int> good{0};
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      auto rows = run(*engine, t % 2 ? "SELECT * FROM contract.chunks" : "SELECT * FROM contract.slow");
      if (rows.ok() && rows->values.size() == (t % 2 ? 1000u : 1u)) ++good;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(good, 6);
}

}  // namespace
}  // namespace lakerouter
