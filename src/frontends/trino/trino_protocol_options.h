// Options of the Trino client protocol front-end (configuration `server.trino_protocol`),
// served on the HTTP port at /v1/statement and /v1/info.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

namespace lakerouter::trino_protocol {

struct TrinoProtocolOptions {
  bool enabled = true;
  size_t target_page_bytes = size_t{1} << 20;  // a data page closes at about this many JSON bytes
  std::chrono::milliseconds max_wait{1000};    // a poll waits at most this long for the first rows
  std::chrono::milliseconds abandoned_after{300000};  // a query nobody polls for this long is cancelled
  std::string environment = "lakerouter";       // reported by /v1/info
};

}  // namespace lakerouter::trino_protocol
