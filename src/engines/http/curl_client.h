// The libcurl plumbing that the HTTP engines (Trino, Databricks) share: RAII handles, one
// blocking request with a stop flag, a pool of idle handles (so keep-alive and TLS connections
// are reused), and a thread that sends the requests nobody may wait for (query cancels).
// Thread-safety: perform() uses one handle on one thread; HandlePool and BackgroundSender are
// thread-safe.
#pragma once

#include <curl/curl.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace lakerouter::curl {

struct EasyDeleter {
  void operator()(CURL* h) const noexcept { curl_easy_cleanup(h); }
};
using Easy = std::unique_ptr<CURL, EasyDeleter>;
struct ListDeleter {
  void operator()(curl_slist* l) const noexcept { curl_slist_free_all(l); }
};
using List = std::unique_ptr<curl_slist, ListDeleter>;
struct UrlDeleter {
  void operator()(CURLU* u) const noexcept { curl_url_cleanup(u); }
};
using Url = std::unique_ptr<CURLU, UrlDeleter>;
struct FreeDeleter {
  void operator()(char* p) const noexcept { curl_free(p); }
};
using String = std::unique_ptr<char, FreeDeleter>;

// curl_global_init is not thread-safe and must run once before any other libcurl call.
void global_init_once();

// A header list from "Name: value" lines; null when libcurl runs out of memory.
List header_list(const std::vector<std::string>& lines);

struct HttpCall {
  std::string_view method = "GET";  // GET, POST or DELETE
  const std::string* url = nullptr;
  const curl_slist* headers = nullptr;
  std::string_view body;  // POST only
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds total_timeout{30000};
  const std::atomic<bool>* stop = nullptr;  // aborts the transfer (checked at least once a second)
};

struct HttpReply {
  CURLcode code = CURLE_OK;
  long status = 0;
  std::string body;
  std::string error;  // curl's own words when code != CURLE_OK
};

// One request on `handle`, reset first (its live connections stay). Only http and https URLs;
// redirects are not followed (credentials go to the configured host only). Bodies above 512 MiB
// fail (a guard against a server that streams without end).
HttpReply perform(CURL* handle, const HttpCall& call);

// The start of a body, on one line, for error messages.
std::string snippet(std::string_view body);

// Idle easy handles; taking one reuses its open connections.
class HandlePool {
 public:
  Easy take();
  void give(Easy handle);

 private:
  static constexpr size_t kMaxIdle = 16;
  std::mutex mu_;
  std::vector<Easy> idle_;  // guarded by mu_
};

// Sends requests on its own thread, in order: a cancel() runs on watchdog and network threads
// that must not wait for a slow or unreachable server. The destructor sends what is queued first
// (a query left running would hold the server's resources). Failures are logged, without headers.
class BackgroundSender {
 public:
  struct Request {
    std::string method;  // POST or DELETE
    std::string url;
    std::vector<std::string> headers;  // "Name: value"
    std::string body;
  };

  // `name` prefixes log lines ("trino: could not ...").
  BackgroundSender(std::string name, std::chrono::milliseconds connect_timeout);
  ~BackgroundSender();
  BackgroundSender(const BackgroundSender&) = delete;
  BackgroundSender& operator=(const BackgroundSender&) = delete;

  void send(Request request);

 private:
  void run();
  void deliver(CURL* handle, const Request& request) const;

  const std::string name_;
  const std::chrono::milliseconds connect_timeout_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<Request> queue_;  // guarded by mu_
  bool stopping_ = false;      // guarded by mu_
  std::thread thread_;         // last: starts once the members above exist
};

}  // namespace lakerouter::curl
