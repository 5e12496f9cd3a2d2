// ProfileCache: the analyses of recently seen statement texts, so that a text sent again (a
// prepared statement executed with new parameters, a dashboard's refresh) is not parsed and
// walked again. Analysis is a function of the text alone, so a cached profile is exactly what
// analyzing again would give. Errors are not kept: they are cheap to find again, and rare.
// Thread-safety: all methods are thread-safe.
#pragma once

#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "core/status.h"
#include "sql/query_profile.h"

namespace lakerouter::sql {

class ProfileCache {
 public:
  // At most `capacity` texts of at most `max_text_bytes` each (longer ones are analyzed each time).
  explicit ProfileCache(size_t capacity = 1024, size_t max_text_bytes = size_t{16} * 1024)
      : capacity_(capacity), max_text_bytes_(max_text_bytes) {}
  ProfileCache(const ProfileCache&) = delete;
  ProfileCache& operator=(const ProfileCache&) = delete;

  // analyze(sql), or analyze_script(sql) for a text of several statements.
  Result<QueryProfile> analyze(std::string_view sql);

  size_t size() const;

 private:
  using Entry = std::pair<std::string, QueryProfile>;

  const size_t capacity_;
  const size_t max_text_bytes_;
  mutable std::mutex mu_;
  std::list<Entry> entries_;  // guarded by mu_; most recently used first
  std::unordered_map<std::string_view, std::list<Entry>::iterator> index_;  // guarded by mu_; keys view entries_
};

}  // namespace lakerouter::sql
