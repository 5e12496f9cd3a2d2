#include "engines/http/curl_client.h"

#include <algorithm>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace lakerouter::curl {

namespace {

// Bigger than any page Trino (~1 MB, at most 16 MB) or Databricks (25 MiB inline) sends.
constexpr size_t kMaxResponseBytes = size_t{512} << 20;

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto* out = static_cast<std::string*>(user);
  const size_t n = size * count;
  if (out->size() + n > kMaxResponseBytes) return 0;  // makes curl fail with CURLE_WRITE_ERROR
  out->append(data, n);
  return n;
}

// Lets a stop flag end a transfer in flight (a long poll included): curl calls this at least once
// a second, and more often while bytes flow.
int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  const auto* stop = static_cast<const std::atomic<bool>*>(user);
  return stop != nullptr && stop->load(std::memory_order_relaxed) ? 1 : 0;
}

}  // namespace

void global_init_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

List header_list(const std::vector<std::string>& lines) {
  List list;
  for (const auto& line : lines) {
    curl_slist* head = curl_slist_append(list.get(), line.c_str());
    if (!head) return nullptr;
    if (!list) list.reset(head);
  }
  return list;
}

HttpReply perform(CURL* h, const HttpCall& call) {
  HttpReply reply;
  char error[CURL_ERROR_SIZE] = {};
  curl_easy_reset(h);  // keeps the handle's live connections and DNS cache
  curl_easy_setopt(h, CURLOPT_URL, call.url->c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");  // URLs may come from the server
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);                 // no SIGALRM in a threaded process
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(call.connect_timeout.count()));
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(call.total_timeout.count()));
  curl_easy_setopt(h, CURLOPT_USERAGENT, "lakerouter");
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &reply.body);
  if (call.headers) curl_easy_setopt(h, CURLOPT_HTTPHEADER, call.headers);
  if (call.stop) {
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, call.stop);
  }
  if (call.method == "POST") {
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, call.body.data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(call.body.size()));
  } else if (call.method == "DELETE") {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "DELETE");
  }
  reply.code = curl_easy_perform(h);
  if (reply.code == CURLE_OK) {
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &reply.status);
  } else {
    reply.error = error[0] != '\0' ? error : curl_easy_strerror(reply.code);
  }
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, nullptr);  // `error` dies with this frame
  return reply;
}

std::string snippet(std::string_view body) {
  std::string out(body.substr(0, 200));
  std::replace_if(out.begin(), out.end(), [](char c) { return c == '\n' || c == '\r' || c == '\t'; }, ' ');
  if (body.size() > 200) out += "...";
  return out;
}

Easy HandlePool::take() {
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      Easy h = std::move(idle_.back());
      idle_.pop_back();
      return h;
    }
  }
  return Easy(curl_easy_init());
}

void HandlePool::give(Easy handle) {
  if (!handle) return;
  std::lock_guard lock(mu_);
  if (idle_.size() < kMaxIdle) idle_.push_back(std::move(handle));
}

BackgroundSender::BackgroundSender(std::string name, std::chrono::milliseconds connect_timeout)
    : name_(std::move(name)),
      connect_timeout_(std::min(connect_timeout, std::chrono::milliseconds(2000))),
      thread_([this] { run(); }) {}

BackgroundSender::~BackgroundSender() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void BackgroundSender::send(Request request) {
  {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(request));
  }
  wake_.notify_one();
}

void BackgroundSender::run() {
  Easy handle(curl_easy_init());
  std::unique_lock lock(mu_);
  while (true) {
    wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, nothing left
    Request request = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    deliver(handle.get(), request);
    lock.lock();
  }
}

void BackgroundSender::deliver(CURL* handle, const Request& request) const {
  if (!handle) return;
  const List headers = header_list(request.headers);
  const HttpCall call{request.method, &request.url, headers.get(), request.body, connect_timeout_,
                      std::chrono::milliseconds(5000), nullptr};
  const HttpReply reply = perform(handle, call);
  // 404 and 410: the query is gone already, which is what a cancel wants.
  const bool done = reply.code == CURLE_OK &&
                    ((reply.status >= 200 && reply.status < 300) || reply.status == 404 || reply.status == 410);
  if (!done) {
    spdlog::warn("{}: could not {} {}: {}", name_, request.method, request.url,
                 reply.code != CURLE_OK ? reply.error : fmt::format("HTTP {}", reply.status));
  }
}

}  // namespace lakerouter::curl
