// Server: configuration -> wired components (catalog, engines, pipeline, front-ends), and
// start/stop. The only place that knows every component.
// Thread-safety: start(), wait() and stop() from one controlling thread.
#pragma once

#include <memory>

#include "core/status.h"
#include "server/config.h"

namespace lakerouter {

class Server {
 public:
  explicit Server(Config config);
  ~Server();

  // Loads the catalog, opens the engines and starts listening.
  Status start();
  // Blocks until SIGINT or SIGTERM.
  void wait_for_signal();
  void stop();

  int http_port() const;
  int pgwire_port() const;  // 0 when the PostgreSQL protocol is disabled

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lakerouter
