#include "frontends/http/async_queries.h"

#include <cstdlib>
#include <filesystem>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

namespace lakerouter::http {

namespace fs = std::filesystem;

std::string_view async_state_name(AsyncState state) {
  switch (state) {
    case AsyncState::kQueued: return "queued";
    case AsyncState::kRunning: return "running";
    case AsyncState::kFinished: return "finished";
    case AsyncState::kFailed: return "failed";
    case AsyncState::kCancelled: return "cancelled";
  }
  return "failed";
}

namespace {

bool ended(AsyncState s) { return s == AsyncState::kFinished || s == AsyncState::kFailed || s == AsyncState::kCancelled; }

std::chrono::milliseconds reaper_interval(std::chrono::milliseconds ttl) {
  return std::clamp(ttl / 2, std::chrono::milliseconds(5), std::chrono::milliseconds(1000));
}

}  // namespace

struct AsyncQueries::Entry {
  std::string id;
  std::string owner;  // set before the entry is shared, then never changed
  Runner run;
  CancelToken cancel;
  Clock::time_point submitted;

  std::mutex mu;  // guards everything below
  AsyncState state = AsyncState::kQueued;
  std::string engine;
  std::string routing_json;
  std::shared_ptr<QueryTiming> timing;  // once started on an engine
  int64_t rows = 0;
  std::optional<Error> error;
  ResultSchema schema;
  Clock::time_point ended_at;
  Clock::time_point expires;  // when ended
  std::shared_ptr<const formats::ResultSpill> spill;

  AsyncQueryInfo snapshot(Clock::time_point now) {
    AsyncQueryInfo info;
    info.query_id = id;
    info.owner = owner;
    info.state = state;
    info.engine = engine;
    info.routing_json = routing_json;
    if (timing) {
      info.queued_ms = timing->queued_ms.load();
      info.engine_ms = timing->engine_done_ms();
    }
    info.row_count = rows;
    info.error = error;
    info.schema = schema;
    const auto until = ended(state) ? ended_at : now;
    info.elapsed_ms = std::chrono::duration<double, std::milli>(until - submitted).count();
    return info;
  }

  // Under mu: the query ended now in `s`.
  void end(AsyncState s, Clock::time_point now, std::chrono::milliseconds ttl) {
    state = s;
    ended_at = now;
    expires = now + ttl;
  }
};

AsyncQueries::AsyncQueries(ResultOptions options, size_t workers, std::function<Clock::time_point()> now)
    : options_(std::move(options)), now_(std::move(now)), reaper_([this] { reap(); }) {
  workers = std::max<size_t>(workers, 1);
  for (size_t i = 0; i < workers; ++i) workers_.emplace_back([this] { work(); });
  reaper_.start(reaper_interval(options_.async_ttl));
}

AsyncQueries::~AsyncQueries() {
  reaper_.stop();
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    for (auto& [id, entry] : entries_) entry->cancel.cancel();
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
  std::lock_guard lock(mu_);
  queue_.clear();
  entries_.clear();  // removes the files
  if (own_spill_dir_) {
    std::error_code ignored;
    fs::remove_all(spill_dir_, ignored);
  }
}

Status AsyncQueries::ensure_spill_dir() {
  // Under mu_.
  if (!spill_dir_.empty()) return Status::Ok();
  std::error_code ec;
  if (!options_.async_spill_dir.empty()) {
    fs::create_directories(options_.async_spill_dir, ec);
    if (ec) {
      return Error(ErrorCode::kIoError, fmt::format("cannot create server.results.async_spill_dir '{}': {}",
                                                    options_.async_spill_dir, ec.message()));
    }
    spill_dir_ = options_.async_spill_dir;
    return Status::Ok();
  }
  std::string pattern = (fs::temp_directory_path(ec) / "lakerouter-results-XXXXXX").string();
  if (ec || ::mkdtemp(pattern.data()) == nullptr) {
    return Error(ErrorCode::kIoError, "cannot create a temporary folder for asynchronous results; "
                                      "set server.results.async_spill_dir");
  }
  spill_dir_ = pattern;
  own_spill_dir_ = true;
  return Status::Ok();
}

Status AsyncQueries::submit(const std::string& query_id, Runner run, std::string owner) {
  reap();
  auto entry = std::make_shared<Entry>();
  entry->id = query_id;
  entry->owner = std::move(owner);
  entry->run = std::move(run);
  entry->submitted = now_();
  {
    std::lock_guard lock(mu_);
    if (stopping_) return Error(ErrorCode::kEngineUnavailable, "the server is shutting down; retry on another instance");
    LR_TRY(ensure_spill_dir());
    if (entries_.size() >= options_.async_max_queries) {
      return Error(ErrorCode::kOverloaded,
                   fmt::format("{} asynchronous queries are kept already (server.results.async_max_queries); fetch "
                               "and DELETE finished ones, or wait for them to expire",
                               entries_.size()));
    }
    entries_.emplace(query_id, entry);
    queue_.push_back(entry);
  }
  wake_.notify_one();
  return Status::Ok();
}

void AsyncQueries::work() {
  for (;;) {
    std::shared_ptr<Entry> entry;
    {
      std::unique_lock lock(mu_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      entry = std::move(queue_.front());
      queue_.pop_front();
    }
    run_one(*entry);
  }
}

void AsyncQueries::run_one(Entry& entry) {
  {
    std::lock_guard lock(entry.mu);
    if (entry.state != AsyncState::kQueued) return;  // cancelled while queued
    entry.state = AsyncState::kRunning;
  }
  std::string path;
  {
    std::lock_guard lock(mu_);
    path = (fs::path(spill_dir_) / (entry.id + ".result")).string();
  }
  // Ends the query in `state` unless DELETE cancelled it already.
  auto end = [&](AsyncState state, std::optional<Error> error) {
    std::lock_guard lock(entry.mu);
    if (entry.cancel.cancelled()) {
      state = AsyncState::kCancelled;
      error = Error(ErrorCode::kQueryCancelled, "the query was cancelled (DELETE /v1/queries/" + entry.id + ")");
    }
    if (entry.state == AsyncState::kRunning) entry.end(state, now_(), options_.async_ttl);
    entry.error = std::move(error);
    if (state != AsyncState::kFinished) entry.spill.reset();
  };

  auto query = entry.run(entry.id, entry.cancel);
  if (!query.ok()) return end(AsyncState::kFailed, query.error());
  {
    std::lock_guard lock(entry.mu);
    entry.engine = query->engine;
    entry.routing_json = query->decision.summary_json().dump();
    entry.timing = query->timing;
  }
  ResultStream& stream = *query->stream;
  ResultBatch batch;
  std::shared_ptr<formats::ResultSpill> spill;
  for (;;) {
    batch.clear();
    auto more = stream.next(batch);
    if (!more.ok()) return end(AsyncState::kFailed, more.error());
    if (!spill) {  // the schema is final after the first next()
      auto created = formats::ResultSpill::create(path, stream.schema(), options_.async_max_result_bytes);
      if (!created.ok()) {
        stream.cancel(false);
        return end(AsyncState::kFailed, created.error());
      }
      spill = std::move(*created);
      std::lock_guard lock(entry.mu);
      entry.schema = stream.schema();
    }
    if (!*more) break;
    if (auto st = spill->append(batch); !st.ok()) {
      stream.cancel(false);
      spdlog::info("async query {} stopped: {}", entry.id, st.error().message);
      return end(AsyncState::kFailed, st.error());
    }
    std::lock_guard lock(entry.mu);
    entry.rows = spill->rows();
  }
  spill->seal();
  {
    std::lock_guard lock(entry.mu);
    entry.spill = spill;
  }
  end(AsyncState::kFinished, std::nullopt);
  spdlog::debug("async query {} on {}: {} rows, {} bytes stored", entry.id, query->engine, spill->rows(), spill->bytes());
}

std::shared_ptr<AsyncQueries::Entry> AsyncQueries::find_live(const std::string& query_id) {
  std::shared_ptr<Entry> entry;
  {
    std::lock_guard lock(mu_);
    auto it = entries_.find(query_id);
    if (it == entries_.end()) return nullptr;
    entry = it->second;
  }
  std::lock_guard lock(entry->mu);
  if (ended(entry->state) && entry->expires <= now_()) return nullptr;  // the reaper is about to drop it
  return entry;
}

std::optional<AsyncQueryInfo> AsyncQueries::info(const std::string& query_id) {
  auto entry = find_live(query_id);
  if (!entry) return std::nullopt;
  std::lock_guard lock(entry->mu);
  return entry->snapshot(now_());
}

Result<std::shared_ptr<const formats::ResultSpill>> AsyncQueries::result(const std::string& query_id,
                                                                          AsyncQueryInfo& info) {
  auto entry = find_live(query_id);
  if (!entry) {
    return Error(ErrorCode::kNotFound,
                 fmt::format("no asynchronous query '{}': the id is unknown, or its result expired (kept {} ms "
                             "after the query ends or its last fetch) or was deleted",
                             query_id, options_.async_ttl.count()));
  }
  std::lock_guard lock(entry->mu);
  const auto now = now_();
  info = entry->snapshot(now);
  if (entry->state == AsyncState::kFailed || entry->state == AsyncState::kCancelled) {
    return entry->error.value_or(Error(ErrorCode::kInternal, "the query failed"));
  }
  if (entry->state != AsyncState::kFinished) return std::shared_ptr<const formats::ResultSpill>();
  entry->expires = now + options_.async_ttl;
  return entry->spill;
}

std::optional<AsyncState> AsyncQueries::cancel_or_drop(const std::string& query_id) {
  auto entry = find_live(query_id);
  if (!entry) return std::nullopt;
  AsyncState was;
  {
    std::lock_guard lock(entry->mu);
    was = entry->state;
    if (!ended(was)) {
      entry->cancel.cancel();
      entry->end(AsyncState::kCancelled, now_(), options_.async_ttl);
      entry->error = Error(ErrorCode::kQueryCancelled, "the query was cancelled (DELETE /v1/queries/" + query_id + ")");
      return was;
    }
  }
  std::lock_guard lock(mu_);
  entries_.erase(query_id);
  return was;
}

void AsyncQueries::reap() {
  const auto now = now_();
  std::vector<std::shared_ptr<Entry>> dropped;  // destroyed (files removed) outside the lock
  {
    std::lock_guard lock(mu_);
    for (auto it = entries_.begin(); it != entries_.end();) {
      bool expired = false;
      {
        std::lock_guard entry_lock(it->second->mu);
        expired = ended(it->second->state) && it->second->expires <= now;
      }
      if (expired) {
        dropped.push_back(std::move(it->second));
        it = entries_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (const auto& e : dropped) spdlog::debug("async query {} expired", e->id);
}

}  // namespace lakerouter::http
