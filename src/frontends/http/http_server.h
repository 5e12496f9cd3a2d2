// HttpServer: the HTTP/1.1 listener (Boost.Beast). Requests are read asynchronously on I/O
// threads; each complete request runs on a worker thread (statements block while engines work),
// whose responses are written back through the same connection. Body size, header size and read
// time are bounded before a handler sees anything.
// Thread-safety: start() and stop() from one controlling thread.
#pragma once

#include <functional>
#include <memory>

#include "frontends/http/exchange.h"
#include "server/config.h"

namespace lakerouter::http {

class HttpServer {
 public:
  using Handler = std::function<void(Exchange&)>;

  HttpServer(HttpOptions options, Handler handler);
  ~HttpServer();

  // Binds and starts serving; returns the bound port (useful with port 0).
  Result<int> start();
  // Stops accepting, lets running requests finish, and joins all threads.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lakerouter::http
