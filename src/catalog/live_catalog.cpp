#include "catalog/live_catalog.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace lakerouter {

LiveCatalog::LiveCatalog(Catalog initial, CatalogOptions options)
    : options_(std::move(options)), current_(std::make_shared<const Catalog>(std::move(initial))) {}

LiveCatalog::~LiveCatalog() { stop(); }

std::shared_ptr<const Catalog> LiveCatalog::current() const {
  std::lock_guard lock(mu_);
  return current_;
}

RefreshReport LiveCatalog::refresh() {
  std::lock_guard serialize(refresh_mu_);
  RefreshReport report;
  const auto started = std::chrono::steady_clock::now();
  auto next = std::make_shared<const Catalog>(current()->refreshed(options_, report));
  if (report.changed > 0) {
    std::lock_guard lock(mu_);
    current_ = std::move(next);
  }
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  if (report.changed > 0) {
    spdlog::info("catalog refresh: {} of {} tables changed, reread in {:.1f} ms", report.changed, report.tables, ms);
  }
  for (const auto& error : report.errors) spdlog::warn("catalog refresh: {} (keeping the previous stats)", error);
  return report;
}

void LiveCatalog::start(std::chrono::milliseconds interval) { refresher_.start(interval); }

void LiveCatalog::stop() { refresher_.stop(); }

}  // namespace lakerouter
