#include "governance/policy_store.h"

#include <spdlog/spdlog.h>

namespace lakerouter::governance {

Result<std::unique_ptr<PolicyStore>> PolicyStore::open(PolicyOptions options) {
  auto store = std::make_unique<PolicyStore>(PrivateTag(), std::move(options));
  if (!store->enabled()) return store;
  const auto stamp = store->stamp();
  auto policy = Policy::load(store->options_.rules_file);
  if (!policy.ok()) return policy.error();
  store->policy_ = std::make_shared<const Policy>(std::move(*policy));
  store->loaded_ = stamp;
  store->version_ = 1;
  spdlog::info("governance: policy from {} ({})", store->options_.rules_file.string(),
               store->policy_->governs_tables() ? "table rules in force" : "no table rules: all tables allowed");
  if (store->options_.reload_interval.count() > 0) {
    store->watcher_ = std::make_unique<PeriodicTask>([s = store.get()] { s->reload_if_changed(); });
    store->watcher_->start(store->options_.reload_interval);
  }
  return store;
}

PolicyStore::~PolicyStore() {
  if (watcher_) watcher_->stop();  // before the members its ticks use
}

std::shared_ptr<const Policy> PolicyStore::current() const {
  std::lock_guard lock(mu_);
  return policy_;
}

std::optional<std::string> PolicyStore::last_error() const {
  std::lock_guard lock(mu_);
  return last_error_;
}

int64_t PolicyStore::version() const {
  std::lock_guard lock(mu_);
  return version_;
}

std::optional<PolicyStore::Stamp> PolicyStore::stamp() const {
  std::error_code ec;
  Stamp s;
  s.mtime = std::filesystem::last_write_time(options_.rules_file, ec);
  if (ec) return std::nullopt;
  s.size = std::filesystem::file_size(options_.rules_file, ec);
  if (ec) return std::nullopt;
  return s;
}

bool PolicyStore::reload_if_changed() {
  if (!enabled()) return false;
  const auto now = stamp();
  {
    std::lock_guard lock(mu_);
    if (now == loaded_) return false;
  }
  // Read outside the lock; a half-written file fails to parse and is simply tried again at the
  // next change (editors that write in place change the time again when they finish).
  auto policy = now ? Policy::load(options_.rules_file)
                    : Result<Policy>(Error(ErrorCode::kConfigError,
                                           options_.rules_file.string() + ": the policy file is gone"));
  std::lock_guard lock(mu_);
  loaded_ = now;
  if (!policy.ok()) {
    if (last_error_ != policy.error().message) {
      spdlog::error("governance: the changed policy is refused, the previous one stays in force: {}",
                    policy.error().message);
    }
    last_error_ = policy.error().message;
    return false;
  }
  policy_ = std::make_shared<const Policy>(std::move(*policy));
  last_error_.reset();
  ++version_;
  spdlog::info("governance: policy reloaded from {} (version {})", options_.rules_file.string(), version_);
  return true;
}

}  // namespace lakerouter::governance
