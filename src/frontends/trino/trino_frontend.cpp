#include "frontends/trino/trino_frontend.h"

namespace lakerouter::trino_protocol {

// Placeholder until the protocol lands: handles nothing.
struct TrinoFrontend::Impl {};

TrinoFrontend::TrinoFrontend(TrinoProtocolOptions, Pipeline&, const UserDirectory&) : impl_(std::make_unique<Impl>()) {}
TrinoFrontend::~TrinoFrontend() { stop(); }
bool TrinoFrontend::handle(http::Exchange&) { return false; }
void TrinoFrontend::stop() {}

}  // namespace lakerouter::trino_protocol
