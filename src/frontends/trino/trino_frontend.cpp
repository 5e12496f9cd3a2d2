#include "frontends/trino/trino_frontend.h"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <map>
#include <mutex>
#include <vector>

#include <fmt/format.h>
#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include "core/periodic_task.h"
#include "core/utf8.h"
#include "frontends/trino/trino_params.h"
#include "frontends/trino/trino_query.h"
#include "frontends/trino/trino_request.h"
#include "sql/parser.h"

namespace lakerouter::trino_protocol {

namespace beast_http = boost::beast::http;

namespace {

constexpr std::string_view kStatementPath = "/v1/statement";
constexpr std::string_view kExecutingPrefix = "/v1/statement/executing/";
constexpr std::string_view kVersion = "476-lakerouter";
constexpr std::string_view kJson = "application/json";
// A finished query's last page stays for client retries this long (or abandoned_after if shorter).
constexpr std::chrono::milliseconds kFinishedGrace{10000};

// An unguessable part of nextUri, so that only the client that started a query can page or cancel it.
std::string new_slug() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
    // OpenSSL's generator only fails when unseeded; a counter keeps the URI unique, if guessable.
    static std::atomic<uint64_t> counter{0};
    return fmt::format("s{:016x}", ++counter);
  }
  std::string out;
  for (const unsigned char b : bytes) fmt::format_to(std::back_inserter(out), "{:02x}", b);
  return out;
}

std::string_view field(const http::Request& req, std::string_view name) {
  const auto v = req[name];
  return {v.data(), v.size()};
}

// Where clients reach us, for nextUri: the forwarded host and scheme behind a proxy (Trino Gateway).
std::string base_uri(const http::Request& req) {
  std::string_view scheme = field(req, "X-Forwarded-Proto");
  std::string_view host = field(req, "X-Forwarded-Host");
  if (host.empty()) host = field(req, "Host");
  if (scheme.empty()) scheme = "http";
  if (host.empty()) host = "localhost";
  return fmt::format("{}://{}", scheme, host);
}

}  // namespace

struct TrinoFrontend::Impl {
  TrinoProtocolOptions options;
  Pipeline& pipeline;
  const governance::Authenticator& authenticator;
  const std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();

  std::mutex mu;
  std::map<std::string, std::shared_ptr<TrinoQuery>, std::less<>> queries;  // guarded by mu
  bool stopped = false;                                                     // guarded by mu
  PeriodicTask reaper{[this] { reap(); }};

  Impl(TrinoProtocolOptions o, Pipeline& p, const governance::Authenticator& a)
      : options(std::move(o)), pipeline(p), authenticator(a) {}

  void respond_error(http::Exchange& ex, unsigned status, const Error& error) {
    ex.respond(status, kJson, error_document(error));
  }

  // Who sends a statement or page request: X-Trino-User with Basic or Bearer credentials, or
  // without any where auth.anonymous admits the client. nullopt: answered already (401, or 400
  // for a request without credentials that names no user).
  std::optional<governance::Identity> authenticate(http::Exchange& ex, bool statement) {
    const auto& req = ex.request();
    const std::string claimed = header_value(req, "User");
    const std::string_view header = field(req, "Authorization");
    Result<governance::Identity> identity = Error(ErrorCode::kUnauthenticated, "");
    std::string basic_user;
    if (header.empty()) {
      identity = authenticator.anonymous(ex.peer());
      if (identity.ok() && statement && claimed.empty()) {
        respond_error(ex, 400, Error(ErrorCode::kInvalidRequest,
                                     "the X-Trino-User header is required: name the user running the query"));
        return std::nullopt;
      }
      if (!identity.ok()) {
        identity = Error(ErrorCode::kUnauthenticated, "authentication required: give a password (Basic) or a token "
                                                      "(Bearer) with X-Trino-User");
      }
    } else {
      identity = authenticator.http_authorization(header, ex.peer());
      // With credentials, X-Trino-User may only repeat the user they prove (no impersonation).
      if (identity.ok() && !claimed.empty() && claimed != identity->user) {
        identity = Error(ErrorCode::kUnauthenticated,
                         fmt::format("X-Trino-User '{}' is not the user the credentials belong to", claimed));
      }
    }
    if (!identity.ok()) {
      spdlog::info("trino protocol: {} {} from {}: 401: {}", std::string_view(req.method_string()),
                   statement ? kStatementPath : std::string_view("(a query's page)"), ex.peer(),
                   identity.error().message);
      ex.add_header("WWW-Authenticate", R"(Basic realm="lakerouter")");
      respond_error(ex, 401, identity.error());
      return std::nullopt;
    }
    return std::move(*identity);
  }

  void info(http::Exchange& ex) {
    const double uptime_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
    w.StartObject();
    w.Key("nodeVersion");
    w.StartObject();
    w.Key("version");
    w.String(kVersion.data(), static_cast<rapidjson::SizeType>(kVersion.size()));
    w.EndObject();
    w.Key("environment");
    w.String(options.environment.c_str(), static_cast<rapidjson::SizeType>(options.environment.size()));
    w.Key("coordinator");
    w.Bool(true);
    w.Key("starting");
    w.Bool(false);
    w.Key("uptime");  // an airlift Duration, as Trino writes it
    const std::string uptime = fmt::format("{:.2f}s", uptime_s);
    w.String(uptime.c_str(), static_cast<rapidjson::SizeType>(uptime.size()));
    w.EndObject();
    ex.respond(200, kJson, std::string(buffer.GetString(), buffer.GetSize()));
  }

  void submit(http::Exchange& ex) {
    const auto& req = ex.request();
    const auto identity = authenticate(ex, /*statement=*/true);
    if (!identity) return;
    auto session = read_session(req, *identity, ex.peer());
    if (!session.ok()) return respond_error(ex, 400, session.error());
    const std::string& sql = req.body();
    if (auto bad = find_invalid_utf8(sql)) {
      return respond_error(ex, 400, Error(ErrorCode::kInvalidUtf8,
                                          fmt::format("the statement is not valid UTF-8 (byte {})", *bad)));
    }
    if (sql.find_first_not_of(" \t\r\n;") == std::string::npos) {
      return respond_error(ex, 400, Error(ErrorCode::kEmptySql, "SQL statement is empty"));
    }
    const std::string base = base_uri(req);
    // Answer in the client's dialect of header names.
    const std::string prefix = field(req, "X-Trino-User").empty() ? "X-Presto-" : "X-Trino-";

    auto client_statement = parse_client_statement(sql);
    if (!client_statement.ok()) {
      const std::string id = pipeline.new_query_id();
      pipeline.record_refusal(Statement(sql), *session, id, client_statement.error());
      return void(ex.respond(200, kJson, finished_response(id, base, {}, &client_statement.error(), sql)));
    }
    if (!*client_statement) return start_query(ex, Statement(sql), std::move(*session), sql, base);
    const ClientStatement& cs = **client_statement;
    auto fail = [&](const Error& error) {
      const std::string id = pipeline.new_query_id();
      pipeline.record_refusal(Statement(sql), *session, id, error);
      ex.respond(200, kJson, finished_response(id, base, {}, &error, sql));
    };
    switch (cs.kind) {
      case ClientStatement::Kind::kExecute: {
        auto statement = executed_statement(req, cs);
        if (!statement.ok()) return fail(statement.error());
        std::string text = statement->sql;  // error locations point into the prepared text
        return start_query(ex, std::move(*statement), std::move(*session), text, base);
      }
      case ClientStatement::Kind::kUse:
        if (!cs.catalog.empty()) ex.add_header(prefix + "Set-Catalog", cs.catalog);
        ex.add_header(prefix + "Set-Schema", cs.schema);
        break;
      case ClientStatement::Kind::kSetSession: {
        Session scratch;
        if (Status applied = apply_session_property(scratch, cs.name, cs.value); !applied.ok()) {
          return fail(applied.error());
        }
        ex.add_header(prefix + "Set-Session", cs.name + "=" + url_encode(cs.value));
        break;
      }
      case ClientStatement::Kind::kResetSession: ex.add_header(prefix + "Clear-Session", cs.name); break;
      case ClientStatement::Kind::kPrepare: {
        // Checked now, as Trino does, so that a typo fails at PREPARE rather than at each EXECUTE.
        auto parsed = sql::parse(cs.statement);
        if (!parsed.ok()) {
          Error error = parsed.error();
          if (error.position) *error.position += cs.statement_position;
          return fail(error);
        }
        if (parsed->statements.size() != 1) {
          return fail(Error(ErrorCode::kMultipleStatements, "PREPARE takes exactly one statement",
                            cs.statement_position));
        }
        // The client keeps the statement and sends it back with every request.
        ex.add_header(prefix + "Added-Prepare", url_encode(cs.name) + "=" + url_encode(cs.statement));
        break;
      }
      case ClientStatement::Kind::kDeallocate: {
        auto prepared = find_prepared(req, cs.name);
        if (!prepared.ok()) return fail(prepared.error());
        ex.add_header(prefix + "Deallocated-Prepare", url_encode(cs.name));
        break;
      }
      case ClientStatement::Kind::kDescribeInput:
      case ClientStatement::Kind::kDescribeOutput:
        // Knowing a statement's parameter or result types means asking the engine it would run
        // on; clients fall back to the types of the result.
        return fail(Error(ErrorCode::kNotSupported,
                          fmt::format("DESCRIBE {} is not supported by lakerouter; run the statement to see its "
                                      "result columns",
                                      cs.kind == ClientStatement::Kind::kDescribeInput ? "INPUT" : "OUTPUT")));
    }
    const bool result_column = cs.kind == ClientStatement::Kind::kPrepare || cs.kind == ClientStatement::Kind::kDeallocate;
    ex.respond(200, kJson,
               finished_response(pipeline.new_query_id(), base, update_type(cs.kind), nullptr, sql, result_column));
  }

  // The text of prepared statement `name`, from the request's X-Trino-Prepared-Statement header.
  static Result<std::string> find_prepared(const http::Request& req, const std::string& name) {
    auto prepared = parse_prepared_statements(header_values(req, "Prepared-Statement"));
    if (!prepared.ok()) return prepared.error();
    const auto it = prepared->find(name);
    if (it == prepared->end()) {
      return Error(ErrorCode::kNotFound, fmt::format("Prepared statement not found: {} (PREPARE it first on this "
                                                     "connection)", name));
    }
    return it->second;
  }

  // EXECUTE name USING v1, ... (or EXECUTE IMMEDIATE): the prepared text with the values as
  // parameters of its ? placeholders.
  static Result<Statement> executed_statement(const http::Request& req, const ClientStatement& cs) {
    Statement statement;
    if (cs.immediate) {
      statement.sql = cs.statement;
    } else {
      auto text = find_prepared(req, cs.name);
      if (!text.ok()) return text.error();
      statement.sql = std::move(*text);
    }
    if (!cs.parameters.empty()) {
      auto values = parse_parameter_values(cs.parameters);
      if (!values.ok()) {
        Error error = values.error();
        if (error.position) *error.position += cs.parameters_position;
        return error;
      }
      statement.params = std::move(*values);
    }
    return statement;
  }

  void start_query(http::Exchange& ex, Statement statement, Session session, std::string sql, const std::string& base) {
    const std::string id = pipeline.new_query_id();
    std::string owner = session.user;  // before the session moves into the starter
    auto starter = [&pipeline = pipeline, statement = std::move(statement), session = std::move(session),
                    id](CancelToken& token) { return pipeline.run(statement, session, id, &token); };
    auto query = std::make_shared<TrinoQuery>(
        id, new_slug(), std::move(sql), PageOptions{options.target_page_bytes, options.max_wait}, std::move(starter));
    query->set_owner(std::move(owner));
    {
      std::lock_guard lock(mu);
      if (stopped) {
        query->cancel();
        return respond_error(ex, 503, Error(ErrorCode::kEngineUnavailable, "the server is shutting down"));
      }
      queries.emplace(id, query);
    }
    ex.respond(200, kJson, query->first_response(base));
  }

  std::shared_ptr<TrinoQuery> find(std::string_view id) {
    std::lock_guard lock(mu);
    const auto it = queries.find(id);
    return it == queries.end() ? nullptr : it->second;
  }

  // GET or DELETE /v1/statement/executing/{id}/{slug}/{token}
  void executing(http::Exchange& ex, std::string_view rest) {
    const auto& req = ex.request();
    std::vector<std::string_view> parts;
    while (!rest.empty()) {
      const size_t slash = rest.find('/');
      parts.push_back(rest.substr(0, slash));
      rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
    }
    uint64_t token = 0;
    bool well_formed = parts.size() == 3;
    if (well_formed) {
      const auto [end, ec] = std::from_chars(parts[2].data(), parts[2].data() + parts[2].size(), token);
      well_formed = ec == std::errc() && end == parts[2].data() + parts[2].size();
    }
    if (!well_formed) {
      return respond_error(ex, 404, Error(ErrorCode::kNotFound, "not a statement URI: expected "
                                                                "/v1/statement/executing/{queryId}/{slug}/{token}"));
    }
    const auto method = req.method();
    if (method != beast_http::verb::get && method != beast_http::verb::delete_) {
      ex.add_header("Allow", "GET, DELETE");
      return respond_error(ex, 405, Error(ErrorCode::kMethodNotAllowed, "a statement URI takes GET or DELETE"));
    }
    const auto identity = authenticate(ex, /*statement=*/false);
    if (!identity) return;
    auto query = find(parts[0]);
    // Not this client's query: the slug is the capability, the owner must match besides.
    if (query && (query->slug() != parts[1] || query->owner() != identity->user)) query = nullptr;
    if (method == beast_http::verb::delete_) {
      if (query) {
        query->cancel();
        std::lock_guard lock(mu);
        queries.erase(query->id());
        spdlog::debug("trino protocol: query {} cancelled by the client", query->id());
      }
      // Cancelling a query that is gone already is not an error: it is cancelled either way.
      return void(ex.respond(204, kJson, {}));
    }
    if (!query) {
      return respond_error(ex, 410, Error(ErrorCode::kNotFound,
                                          fmt::format("query {} is gone: it finished, was cancelled, or was abandoned "
                                                      "(nobody polled it for {} ms)",
                                                      parts[0], options.abandoned_after.count())));
    }
    PageResponse page = query->page(token, base_uri(req));
    ex.respond(page.status, kJson, std::move(page.body));
  }

  // Drops queries nobody polls: abandoned ones are cancelled; finished ones only kept for retries.
  void reap() {
    const auto now = std::chrono::steady_clock::now();
    const auto finished_grace = std::min(kFinishedGrace, options.abandoned_after);
    std::vector<std::shared_ptr<TrinoQuery>> dropped;
    {
      std::lock_guard lock(mu);
      for (auto it = queries.begin(); it != queries.end();) {
        const auto idle = now - it->second->last_access();
        const bool done = it->second->done();
        if ((done && idle > finished_grace) || (!done && idle > options.abandoned_after)) {
          if (!done) spdlog::info("trino protocol: query {} abandoned (not polled for {} ms), cancelled",
                                  it->first, options.abandoned_after.count());
          dropped.push_back(std::move(it->second));
          it = queries.erase(it);
        } else {
          ++it;
        }
      }
    }
    for (auto& q : dropped) q->cancel();
    // Destroyed here, outside the lock: a destructor joins the query's start thread.
  }

  void stop() {
    std::map<std::string, std::shared_ptr<TrinoQuery>, std::less<>> all;
    {
      std::lock_guard lock(mu);
      stopped = true;
      all.swap(queries);
    }
    reaper.stop();
    for (auto& [id, q] : all) q->cancel();
  }
};

TrinoFrontend::TrinoFrontend(TrinoProtocolOptions options, Pipeline& pipeline,
                             const governance::Authenticator& authenticator)
    : impl_(std::make_unique<Impl>(std::move(options), pipeline, authenticator)) {
  const auto interval =
      std::clamp(impl_->options.abandoned_after / 4, std::chrono::milliseconds(50), std::chrono::milliseconds(1000));
  impl_->reaper.start(interval);
}

TrinoFrontend::~TrinoFrontend() { stop(); }

bool TrinoFrontend::handle(http::Exchange& exchange) {
  const auto& req = exchange.request();
  const std::string_view target(req.target().data(), req.target().size());
  const std::string_view path = target.substr(0, target.find('?'));
  const auto method = req.method();
  const bool get = method == beast_http::verb::get || method == beast_http::verb::head;
  if (path == "/v1/info" || path == "/v1/info/state") {
    if (!get) {
      exchange.add_header("Allow", "GET, HEAD");
      impl_->respond_error(exchange, 405, Error(ErrorCode::kMethodNotAllowed, fmt::format("{} takes GET", path)));
    } else if (path == "/v1/info") {
      impl_->info(exchange);
    } else {
      exchange.respond(200, kJson, "\"ACTIVE\"");
    }
    return true;
  }
  if (path == kStatementPath) {
    if (method != beast_http::verb::post) {
      exchange.add_header("Allow", "POST");
      impl_->respond_error(exchange, 405,
                           Error(ErrorCode::kMethodNotAllowed, "/v1/statement takes POST with the SQL text as body"));
    } else {
      impl_->submit(exchange);
    }
    return true;
  }
  if (path.starts_with(kExecutingPrefix)) {
    impl_->executing(exchange, path.substr(kExecutingPrefix.size()));
    return true;
  }
  if (path.starts_with("/v1/statement/")) {
    impl_->respond_error(exchange, 404, Error(ErrorCode::kNotFound, fmt::format("no statement resource at {}", path)));
    return true;
  }
  return false;
}

void TrinoFrontend::stop() {
  if (impl_) impl_->stop();
}

}  // namespace lakerouter::trino_protocol
