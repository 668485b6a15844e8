// The fetch stage: libcurl's multi interface driven by a Boost.Asio event loop.
#ifndef MIRRORWATCH_CRAWLER_FETCH_POOL_H_
#define MIRRORWATCH_CRAWLER_FETCH_POOL_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "crawler/address_guard.h"

namespace boost::asio {
class io_context;
}

namespace mw {

struct FetchOptions {
  std::vector<std::string> connect_to;  // curl --connect-to entries "HOST:PORT:CHOST:CPORT"
  std::vector<std::string> headers;     // extra request headers "Name: value"
  std::string user_agent;
  long connect_timeout_ms = 10'000;
  long timeout_ms = 30'000;
  long low_speed_bytes = 512;  // abort when slower than this many bytes/s ...
  long low_speed_seconds = 15;  // ... for this long
  std::int64_t max_body = 8 << 20;  // default per-request limit on decoded body bytes
  long max_redirects = 5;          // for requests that let curl follow redirects
  // Total open connections. There is deliberately no per-host connection cap here: curl keys
  // CURLMOPT_MAX_HOST_CONNECTIONS on the connect-to target when --connect-to is used, so it
  // would cap every mapped host together. The frontier enforces the per-host cap.
  long max_connections = 64;
  AddressGuard guard;          // checked on every address a socket connects to
  std::string proxy;           // curl proxy URL (http://, https://, socks5h://); empty = none
  bool insecure = false;       // skip TLS certificate and host name verification
};

// One transfer to run.
struct FetchRequest {
  std::string url;
  bool follow_redirects = false;  // false: a 3xx is the result, with its redirect_url
  bool html_only = true;          // stop at the headers when the response is not HTML
  std::int64_t max_body = 0;      // 0 = FetchOptions::max_body
};

// Error kinds a fetch can end with, decided in one place from curl's codes.
enum class FetchError {
  kNone = 0,
  kTimeout,
  kConnect,
  kResolve,
  kTooLarge,      // body over FetchOptions::max_body (decoded)
  kNotHtml,       // skipped at the headers: not an HTML content type
  kTooManyRedirects,
  kProtocol,      // malformed response, broken encoding, connection cut mid-body
  kTls,
  kRefused,       // scheme not allowed
  kBlocked,       // the address is not allowed (SSRF guard; --allow-net opens it)
  kOther,
};
const char* FetchErrorName(FetchError error);

struct FetchResult {
  std::string url;        // as requested
  std::string final_url;  // after redirects
  long status = 0;        // HTTP status of the last response, 0 when none
  std::string content_type;
  std::string body;       // decoded (Content-Encoding undone), at most max_body bytes
  std::string ip;         // the address connected to
  int redirects = 0;
  std::string redirect_url;  // where a 3xx points (resolved), when not followed
  long retry_after = -1;     // seconds from a Retry-After header (either form); -1 when none
  double seconds = 0;     // total transfer time
  FetchError error = FetchError::kNone;
  std::string error_text;  // curl's message, empty on success

  bool ok() const { return error == FetchError::kNone; }
};

// Runs HTTP transfers concurrently on one io_context thread. Not thread-safe: every call and
// every callback happens on the io_context's thread. Callbacks are posted, never run inside
// Fetch(). The pool must outlive the io_context's processing of its handlers (destroy it after
// io_context::run() has returned).
class FetchPool {
 public:
  using Callback = std::function<void(FetchResult)>;

  FetchPool(boost::asio::io_context& io, FetchOptions options);
  ~FetchPool();
  FetchPool(const FetchPool&) = delete;
  FetchPool& operator=(const FetchPool&) = delete;

  // Starts a transfer; `done` is called once with the result.
  void Fetch(FetchRequest request, Callback done);

  // Transfers started and not yet completed.
  std::size_t in_flight() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mw

#endif  // MIRRORWATCH_CRAWLER_FETCH_POOL_H_
