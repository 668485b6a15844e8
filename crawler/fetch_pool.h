// The fetch stage: libcurl's multi interface driven by a Boost.Asio event loop.
#ifndef MIRRORWATCH_CRAWLER_FETCH_POOL_H_
#define MIRRORWATCH_CRAWLER_FETCH_POOL_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "crawler/address_guard.h"
#include "crawler/warc.h"

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
  std::vector<std::string> headers;  // extra headers for this request ("If-None-Match: ...")
                                     // after FetchOptions::headers; a 304 is a normal result
  // Keep the exchange as it crossed the connection (FetchResult::raw_request/raw_response),
  // for the WARC files.
  bool capture = false;
  // Called (posted, on the pool's thread) once, with the time the request was sent: after
  // the connection was set up or reused, when its headers went out.
  // With redirects followed, the time of the first request. Posted before the result; not
  // called when no request went out (the connection failed).
  std::function<void(std::chrono::steady_clock::time_point)> on_sent;
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
                          // (the pool offers and undoes gzip and deflate; another coding
                          // is a kProtocol error)
  std::string ip;         // the address connected to
  int redirects = 0;
  std::string redirect_url;  // where a 3xx points (resolved), when not followed
  long retry_after = -1;     // seconds from a Retry-After header (either form); -1 when none
  double seconds = 0;     // total transfer time
  FetchError error = FetchError::kNone;
  std::string error_text;  // curl's message, empty on success
  // Headers of the last response worth keeping for evidence and conditional requests.
  std::string server;
  std::string etag;
  std::string last_modified;
  // The TLS leaf certificate (CURLOPT_CERTINFO), one JSON object: {"subject", "issuer",
  // "sans": [...], "sha256": fingerprint hex of the DER, "not_before", "not_after"}; empty
  // for plain HTTP.
  // Names as OpenSSL prints them ("CN = a.example, O = ..."), SANs as "DNS:a.example" or
  // "IP Address:192.0.2.1", dates ISO 8601 UTC ("2025-01-31T23:59:59Z").
  // The pool keeps each open connection's certificate, so a request on a reused connection
  // has it too (curl reports it only to the transfer whose handshake opened the connection).
  std::string cert_json;
  std::chrono::system_clock::time_point sent_at;  // when the request went out (wall clock)
  // With FetchRequest::capture, the last exchange as it crossed the connection: the request
  // line and headers as sent, and the status line, headers and body as received (before any
  // decoding: still chunked, still gzip). The raw body is kept up to what max_body let in.
  // Transfers use HTTP/1.1 only, so this is always an HTTP/1.1 message. The raw body is
  // capped at max_body + max_body/16 + 64 KiB (chunk framing, compression overhead); a
  // response over that on the wire fails with kTooLarge, captured or not.
  std::string raw_request;
  std::string raw_response;
  WarcTruncation truncated = WarcTruncation::kNone;  // raw_response is short of what was sent
                                                     // (set with capture only)

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
