// PgwireServer: the PostgreSQL wire protocol (v3) front-end on its own port, so that psql, JDBC,
// ODBC and BI tools connect to lakerouter as to a PostgreSQL server. See docs/protocols.md.
// Thread-safety: start() and stop() from one controlling thread; connections run on the
// server's own I/O threads.
#pragma once

#include <memory>

#include "catalog/live_catalog.h"
#include "core/status.h"
#include "frontends/pgwire/pgwire_options.h"
#include "governance/users.h"
#include "server/pipeline.h"

namespace lakerouter::pgwire {

class PgwireServer {
 public:
  // The pipeline, catalog and users must outlive the server.
  PgwireServer(PgwireOptions options, Pipeline& pipeline, LiveCatalog& catalog, const UserDirectory& users);
  ~PgwireServer();

  // Binds and starts accepting; returns the port (useful when the configured port is 0).
  Result<int> start();
  // Stops accepting, cancels running statements and closes every connection.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lakerouter::pgwire
