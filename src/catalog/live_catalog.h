// LiveCatalog: the catalog a running server reads, kept fresh. Readers take the current snapshot
// (a shared_ptr<const Catalog>) for the length of one statement; refresh() builds the next one
// with Catalog::refreshed() — rereading only tables whose snapshot changed — and swaps it in.
// A background thread refreshes every `interval` when started.
// Thread-safety: all members may be called from any thread; refreshes are serialized.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>

#include "catalog/catalog.h"
#include "core/periodic_task.h"

namespace lakerouter {

class LiveCatalog {
 public:
  LiveCatalog(Catalog initial, CatalogOptions options);
  ~LiveCatalog();
  LiveCatalog(const LiveCatalog&) = delete;
  LiveCatalog& operator=(const LiveCatalog&) = delete;

  std::shared_ptr<const Catalog> current() const;

  // Checks every table now; tables that cannot be reread keep their stats (see the report).
  RefreshReport refresh();

  // Refreshes every `interval` on a background thread until stop() or destruction. Logs what
  // changed. A zero interval does nothing.
  void start(std::chrono::milliseconds interval);
  void stop();

 private:
  const CatalogOptions options_;
  mutable std::mutex mu_;                 // guards current_
  std::shared_ptr<const Catalog> current_;
  std::mutex refresh_mu_;                 // one refresh at a time
  PeriodicTask refresher_{[this] { refresh(); }};
};

}  // namespace lakerouter
