#include "sql/profile_cache.h"

#include "sql/analyzer.h"

namespace lakerouter::sql {

Result<QueryProfile> ProfileCache::analyze(std::string_view sql) {
  const bool cacheable = capacity_ > 0 && sql.size() <= max_text_bytes_;
  if (cacheable) {
    std::lock_guard lock(mu_);
    if (auto it = index_.find(sql); it != index_.end()) {
      entries_.splice(entries_.begin(), entries_, it->second);
      return it->second->second;
    }
  }
  // Outside the lock: parsing is the slow part. Two threads may analyze the same new text at
  // once; the second to finish finds it cached and keeps the first one's.
  auto profile = sql::analyze(sql);
  if (!profile.ok() && profile.error().code == ErrorCode::kMultipleStatements) profile = sql::analyze_script(sql);
  if (!profile.ok() || !cacheable) return profile;
  std::lock_guard lock(mu_);
  if (index_.contains(sql)) return profile;
  entries_.emplace_front(std::string(sql), *profile);
  index_.emplace(entries_.front().first, entries_.begin());
  if (entries_.size() > capacity_) {
    index_.erase(entries_.back().first);
    entries_.pop_back();
  }
  return profile;
}

size_t ProfileCache::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

}  // namespace lakerouter::sql
