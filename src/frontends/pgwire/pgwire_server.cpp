#include "frontends/pgwire/pgwire_server.h"

namespace lakerouter::pgwire {

// Placeholder until the protocol lands: starts nothing.
struct PgwireServer::Impl {};

PgwireServer::PgwireServer(PgwireOptions, Pipeline&, LiveCatalog&, const UserDirectory&)
    : impl_(std::make_unique<Impl>()) {}
PgwireServer::~PgwireServer() { stop(); }
Result<int> PgwireServer::start() { return 0; }
void PgwireServer::stop() {}

}  // namespace lakerouter::pgwire
