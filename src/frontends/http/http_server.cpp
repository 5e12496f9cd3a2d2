#include "frontends/http/http_server.h"

#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <future>
#include <optional>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "frontends/http/json_result_writer.h"

namespace lakerouter::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;

namespace {

constexpr size_t kHeaderLimit = size_t{16} * 1024;
constexpr size_t kDrainChunk = size_t{64} * 1024;
constexpr auto kWriteTimeout = std::chrono::seconds(60);
constexpr auto kDrainTimeout = std::chrono::seconds(2);
constexpr char kServerName[] = "lakerouter";

}  // namespace

// The listener's shared state; sessions hold a reference to it.
struct ServerCore {
  ServerCore(HttpOptions opts, HttpServer::Handler h)
      : options(std::move(opts)), handler(std::move(h)), workers(static_cast<size_t>(options.worker_threads)) {}

  void accept();

  HttpOptions options;
  HttpServer::Handler handler;
  net::io_context ioc;
  // Keeps the I/O threads running while workers still write responses (during stop()).
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
  tcp::acceptor acceptor{ioc};
  net::thread_pool workers;
  std::vector<std::thread> io_threads;
  bool started = false;
  std::atomic<bool> stopping{false};  // finish current requests, take no new ones
};

struct HttpServer::Impl : ServerCore {
  using ServerCore::ServerCore;
};

namespace {

// One client connection. Reads happen on I/O threads; a complete request is handed to a worker
// thread, which writes the response and then hands the connection back for the next request.
// At most one operation is in flight on the socket at any time, so no strand is needed.
class Session : public std::enable_shared_from_this<Session>, public Exchange {
 public:
  Session(tcp::socket socket, ServerCore& server) : stream_(std::move(socket)), server_(server) {
    beast::error_code ec;
    auto ep = stream_.socket().remote_endpoint(ec);
    // IPv6 in brackets, so that the port cannot be read as part of the address (auth.anonymous).
    peer_ = ec                      ? "unknown"
            : ep.address().is_v6() ? fmt::format("[{}]:{}", ep.address().to_string(), ep.port())
                                   : fmt::format("{}:{}", ep.address().to_string(), ep.port());
  }

  void start() { read_header(); }

  // --- Exchange (worker thread) ---
  const Request& request() const override { return parser_->get(); }
  const std::string& peer() const override { return peer_; }
  CancelToken& cancel_token() override { return *cancel_; }

  void add_header(std::string name, std::string value) override {
    extra_headers_.emplace_back(std::move(name), std::move(value));
  }

  bool respond(unsigned status, std::string_view content_type, std::string body) override {
    if (parser_->get().method() == bhttp::verb::head) {  // the headers a GET would get, no body
      bhttp::response<bhttp::empty_body> res;
      fill_response(res, status, content_type);
      res.content_length(body.size());
      return ok_ = ok_ && !wait([&](auto done) { bhttp::async_write(stream_, res, done); });
    }
    bhttp::response<bhttp::string_body> res;
    fill_response(res, status, content_type);
    res.body() = std::move(body);
    res.prepare_payload();
    return ok_ = ok_ && !wait([&](auto done) { bhttp::async_write(stream_, res, done); });
  }

  bool begin_stream(unsigned status, std::string_view content_type) override {
    stream_header_.emplace();
    fill_response(*stream_header_, status, content_type);
    // HTTP/1.0 has no chunked encoding: the body then ends when the connection closes.
    chunked_ = parser_->get().version() >= 11;
    if (chunked_) {
      stream_header_->chunked(true);
    } else {
      stream_header_->keep_alive(false);
      close_after_response_ = true;
    }
    serializer_.emplace(*stream_header_);
    stream_open_ = true;
    return ok_ = ok_ && !wait([&](auto done) { bhttp::async_write_header(stream_, *serializer_, done); });
  }

  bool write(std::string_view data) override {
    if (data.empty()) return ok_;
    const net::const_buffer buffer(data.data(), data.size());
    return ok_ = ok_ && !wait([&](auto done) {
      if (chunked_) {
        net::async_write(stream_, bhttp::make_chunk(buffer), done);
      } else {
        net::async_write(stream_, buffer, done);
      }
    });
  }

  bool end_stream() override {
    stream_open_ = false;
    if (!chunked_) return ok_;
    return ok_ = ok_ && !wait([&](auto done) { net::async_write(stream_, bhttp::make_chunk_last(), done); });
  }

 private:
  template <typename Body>
  void fill_response(bhttp::response<Body>& res, unsigned status, std::string_view content_type) {
    res.version(parser_->get().version());
    res.result(status);
    res.set(bhttp::field::server, kServerName);
    res.set(bhttp::field::content_type, content_type);
    for (const auto& [name, value] : extra_headers_) res.set(name, value);
    extra_headers_.clear();
    res.keep_alive(parser_->get().keep_alive());
  }

  // Runs an asynchronous write from a worker thread and waits for it, bounded by a timeout. The
  // write starts on the connection's strand, where the disconnect watch (watch_peer) also runs.
  template <typename Start>
  beast::error_code wait(Start&& start) {
    std::promise<beast::error_code> promise;
    auto result = promise.get_future();
    net::dispatch(stream_.get_executor(), [&] {
      stream_.expires_after(kWriteTimeout);
      start([&promise](beast::error_code ec, std::size_t) { promise.set_value(ec); });
    });
    return result.get();
  }

  // --- Reading (I/O threads) ---
  void read_header() {
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    parser_->body_limit(server_.options.max_body_bytes);
    stream_.expires_never();
    arm_read_timer();
    bhttp::async_read_header(stream_, buffer_, *parser_,
                             [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_header(ec); });
  }

  void on_header(beast::error_code ec) {
    if (ec) return on_read_error(ec);
    if (server_.stopping) {
      return reject(Error(ErrorCode::kEngineUnavailable, "the server is shutting down; retry on another instance"),
                    false);
    }
    const auto& req = parser_->get();
    const bool expects_continue = beast::iequals(req[bhttp::field::expect], "100-continue");
    if (auto length = parser_->content_length(); length && *length > server_.options.max_body_bytes) {
      return reject(Error(ErrorCode::kBodyTooLarge, too_large_message()), /*drain=*/!expects_continue);
    }
    if (expects_continue) {
      // Accepted: tell the client to send the body (curl waits for this on large bodies).
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      net::async_write(stream_, net::buffer(kContinue.data(), kContinue.size()),
                       [self = shared_from_this()](beast::error_code wec, std::size_t) {
                         if (wec) return self->close();
                         self->read_body();
                       });
      return;
    }
    read_body();
  }

  void read_body() {
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_body(ec); });
  }

  // The read deadline is our own timer rather than the stream's, because the stream's closes the
  // socket on expiry and a half-received request deserves a 408 answer first.
  void arm_read_timer() {
    read_timed_out_ = false;
    reading_ = true;
    read_timer_.expires_after(server_.options.read_timeout);
    read_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      // Cancelled, or fired just as the request completed (handlers share the strand).
      if (ec || !self->reading_) return;
      self->read_timed_out_ = true;
      beast::error_code ignored;
      self->stream_.socket().cancel(ignored);
    });
  }

  void on_body(beast::error_code ec) {
    if (ec) return on_read_error(ec);
    reading_ = false;
    read_timer_.cancel();
    cancel_ = std::make_shared<CancelToken>();
    handling_ = true;
    watch_peer(cancel_);
    net::post(server_.workers, [self = shared_from_this()] { self->run_handler(); });
  }

  // While a handler runs, notices the client going away (end of stream or reset) and cancels the
  // request's token: a statement may run for minutes before its first byte is written, and
  // nobody would be waiting for it. The socket is only peeked at, so the bytes of a pipelined
  // next request stay for read_header(); seeing them ends the watch (the client is there).
  void watch_peer(const std::shared_ptr<CancelToken>& token) {
    stream_.socket().async_wait(tcp::socket::wait_read, [self = shared_from_this(), token](beast::error_code ec) {
      if (ec) return;  // the handler finished (watch cancelled) or the socket closed
      // Never a blocking peek: the bytes seen as readable may have been read by read_header()
      // since, and a blocking call would hold this connection's strand until the client sends more.
      char byte = 0;
      const ssize_t n = ::recv(self->stream_.socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
        // Nothing to read (read_header() may have taken the bytes): watch on, for this request only.
        if (self->handling_ && token == self->cancel_) self->watch_peer(token);
        return;
      }
      if (n <= 0 && self->handling_) {  // 0: end of stream; < 0: reset or another socket error
        spdlog::debug("client {} disconnected during its request; cancelling it", self->peer_);
        token->cancel();
      }
    });
  }

  void on_read_error(beast::error_code ec) {
    reading_ = false;
    read_timer_.cancel();
    if (read_timed_out_) {
      // Idle keep-alive connections just close; a half-sent request gets 408.
      if (!parser_->got_some() && buffer_.size() == 0) return close();
      return reject(Error(ErrorCode::kRequestTimeout,
                          fmt::format("the request was not received within {} ms (server.http.read_timeout_ms)",
                                      server_.options.read_timeout.count())),
                    false);
    }
    if (ec == bhttp::error::end_of_stream || ec == net::error::connection_reset || ec == net::error::eof) {
      return close();
    }
    if (ec == bhttp::error::partial_message) {  // the client stopped sending mid-request
      return reject(Error(ErrorCode::kInvalidRequest, "the request ended before it was complete"), false);
    }
    if (ec == bhttp::error::body_limit) {
      return reject(Error(ErrorCode::kBodyTooLarge, too_large_message()), /*drain=*/true);
    }
    if (ec == bhttp::error::header_limit) {
      return reject(Error(ErrorCode::kHeadersTooLarge, "the request headers exceed 16 KiB"), false);
    }
    reject(Error(ErrorCode::kInvalidRequest, fmt::format("malformed HTTP request: {}", ec.message())), false);
  }

  std::string too_large_message() const {
    return fmt::format("the request body exceeds the limit of {} bytes (server.http.max_body_bytes)",
                       server_.options.max_body_bytes);
  }

  // Answers an unreadable request with an error and closes the connection. With `drain`, the
  // rest of the body is read and discarded first (briefly), so that the client, still sending,
  // sees the response rather than a reset connection.
  void reject(const Error& error, bool drain) {
    auto res = std::make_shared<bhttp::response<bhttp::string_body>>();
    res->version(11);
    res->result(http_status(error.code));
    res->set(bhttp::field::server, kServerName);
    res->set(bhttp::field::content_type, "application/json");
    res->keep_alive(false);
    res->body() = error_json(error);
    res->prepare_payload();
    stream_.expires_after(kWriteTimeout);
    bhttp::async_write(stream_, *res, [self = shared_from_this(), res, drain](beast::error_code ec, std::size_t) {
      if (ec || !drain) return self->close();
      beast::error_code ignored;
      self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
      self->drain_deadline_ = std::chrono::steady_clock::now() + kDrainTimeout;
      self->drain();
    });
  }

  void drain() {
    stream_.expires_at(drain_deadline_);
    stream_.async_read_some(net::buffer(drain_buffer_),
                            [self = shared_from_this()](beast::error_code ec, std::size_t) {
                              if (ec) return self->close();
                              self->drain();
                            });
  }

  void close() {
    reading_ = false;
    read_timer_.cancel();
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
  }

  // --- Handling (worker thread) ---
  void run_handler() {
    ok_ = true;
    try {
      server_.handler(*this);
    } catch (const std::exception& e) {  // a bug, not bad input: answer 500, keep serving
      spdlog::error("handler failed on {} {}: {}", std::string_view(request().method_string()),
                    std::string_view(request().target()), e.what());
      respond_error(*this, Error(ErrorCode::kInternal, "internal error; see the server log"));
      ok_ = false;
    }
    handling_ = false;  // a client closing from now on just ends a finished exchange
    // A handler that began a stream and returned without ending it aborts the response (an error
    // its format cannot express): closing without the last chunk shows the client a truncated body.
    const bool keep_alive =
        ok_ && !stream_open_ && parser_->get().keep_alive() && !close_after_response_ && !server_.stopping;
    stream_open_ = false;
    serializer_.reset();
    stream_header_.reset();
    extra_headers_.clear();
    close_after_response_ = false;
    if (!keep_alive) {
      net::post(stream_.get_executor(), [self = shared_from_this()] { self->close(); });
      return;
    }
    net::post(stream_.get_executor(), [self = shared_from_this()] {
      beast::error_code ignored;
      self->stream_.socket().cancel(ignored);  // ends watch_peer(); nothing else is in flight
      self->read_header();
    });
  }

  beast::tcp_stream stream_;
  ServerCore& server_;
  std::string peer_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::shared_ptr<CancelToken> cancel_ = std::make_shared<CancelToken>();  // the current request's
  std::atomic<bool> handling_{false};  // a handler runs (set on the strand, cleared by the worker)
  std::optional<bhttp::response<bhttp::empty_body>> stream_header_;
  std::optional<bhttp::response_serializer<bhttp::empty_body>> serializer_;
  std::vector<std::pair<std::string, std::string>> extra_headers_;
  net::steady_timer read_timer_{stream_.get_executor()};
  bool reading_ = false;  // a request is being read (the read timer applies)
  bool read_timed_out_ = false;
  bool chunked_ = true;
  bool stream_open_ = false;  // begin_stream() without end_stream() yet
  bool close_after_response_ = false;
  std::array<char, kDrainChunk> drain_buffer_{};
  std::chrono::steady_clock::time_point drain_deadline_;
  bool ok_ = true;
};

}  // namespace

void ServerCore::accept() {
  acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted) return;  // stopping
    if (!ec) {
      beast::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      std::make_shared<Session>(std::move(socket), *this)->start();
    } else {
      spdlog::warn("accept failed: {}", ec.message());
    }
    accept();
  });
}

HttpServer::HttpServer(HttpOptions options, Handler handler)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler))) {}

HttpServer::~HttpServer() {
  try {
    stop();
  } catch (const std::exception& e) {  // a destructor must not throw; stopping failed anyway
    spdlog::error("HTTP server did not stop cleanly: {}", e.what());
  }
}

Result<int> HttpServer::start() {
  auto& s = *impl_;
  beast::error_code ec;
  auto address = net::ip::make_address(s.options.host, ec);
  if (ec) {
    return Error(ErrorCode::kConfigError, fmt::format("server.http.host '{}' is not an IP address", s.options.host));
  }
  tcp::endpoint endpoint(address, static_cast<unsigned short>(s.options.port));
  s.acceptor.open(endpoint.protocol(), ec);
  if (!ec) s.acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) s.acceptor.bind(endpoint, ec);
  if (!ec) s.acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return Error(ErrorCode::kConfigError, fmt::format("cannot listen on {}:{}: {} (is another server using the port?)",
                                                      s.options.host, s.options.port, ec.message()));
  }
  s.work.emplace(s.ioc.get_executor());
  s.accept();
  for (int i = 0; i < s.options.io_threads; ++i) s.io_threads.emplace_back([&s] { s.ioc.run(); });
  s.started = true;
  return static_cast<int>(s.acceptor.local_endpoint().port());
}

void HttpServer::stop() {
  auto& s = *impl_;
  if (!s.started) return;
  s.started = false;
  s.stopping = true;
  net::post(s.ioc, [&s] {
    beast::error_code ignored;
    s.acceptor.close(ignored);
  });
  s.workers.join();  // running requests finish; the work guard keeps their writes flowing
  s.work.reset();
  s.ioc.stop();
  for (auto& t : s.io_threads) t.join();
  s.io_threads.clear();
}

}  // namespace lakerouter::http
