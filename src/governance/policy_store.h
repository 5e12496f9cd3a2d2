// PolicyStore: the policy in force, read from a rules.json file and read again when the file
// changes, without a restart. A changed file that does not parse, or no longer exists, is refused
// with its precise message (logged, and kept for /v1/status): the previous policy stays in force,
// so a bad edit never opens or closes access by accident.
//
// Thread-safety: all methods are thread-safe; current() returns a snapshot that stays valid
// however often the file changes.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "core/periodic_task.h"
#include "core/status.h"
#include "governance/policy.h"

namespace lakerouter::governance {

struct PolicyOptions {
  std::filesystem::path rules_file;                 // empty: no policy (everything allowed)
  std::chrono::milliseconds reload_interval{5000};  // how often the file's time and size are checked; 0: never
  // The catalog each table format lives in, as the policy names catalogs: Trino's names, so that
  // one rules.json means the same on lakerouter and on Trino (the Trino engine's `catalogs`).
  std::map<std::string, std::string> catalogs = {
      {"delta", "delta"}, {"iceberg", "iceberg"}, {"parquet", "hive"}, {"postgres", "postgresql"}};
};

class PolicyStore {
 public:
  // Reads the file once: an invalid file is an error (lakerouter does not start without its policy).
  static Result<std::unique_ptr<PolicyStore>> open(PolicyOptions options);
  struct PrivateTag {
    explicit PrivateTag() = default;
  };
  PolicyStore(PrivateTag, PolicyOptions options) : options_(std::move(options)) {}
  ~PolicyStore();
  PolicyStore(const PolicyStore&) = delete;
  PolicyStore& operator=(const PolicyStore&) = delete;

  std::shared_ptr<const Policy> current() const;
  bool enabled() const { return !options_.rules_file.empty(); }
  const std::filesystem::path& rules_file() const { return options_.rules_file; }
  const std::map<std::string, std::string>& catalogs() const { return options_.catalogs; }
  // Reads the file again if its modification time or size changed; true when a new policy took
  // effect. The periodic check calls it; tests and an admin endpoint may too.
  bool reload_if_changed();
  // The last refused version's message, until a good version replaces it.
  std::optional<std::string> last_error() const;
  int64_t version() const;  // 1 for the policy read at start, +1 per reload that took effect

 private:
  struct Stamp {
    std::filesystem::file_time_type mtime{};
    uintmax_t size = 0;
    bool operator==(const Stamp&) const = default;
  };
  std::optional<Stamp> stamp() const;

  const PolicyOptions options_;
  mutable std::mutex mu_;
  std::shared_ptr<const Policy> policy_ = std::make_shared<const Policy>();  // guarded by mu_
  std::optional<Stamp> loaded_;             // guarded by mu_
  std::optional<std::string> last_error_;   // guarded by mu_
  int64_t version_ = 0;                     // guarded by mu_
  std::unique_ptr<PeriodicTask> watcher_;
};

}  // namespace lakerouter::governance
