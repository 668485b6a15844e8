#include "crawler/fetch_pool.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace mw {

const char* FetchErrorName(FetchError error) {
  switch (error) {
    case FetchError::kNone: return "";
    case FetchError::kTimeout: return "timeout";
    case FetchError::kConnect: return "connect";
    case FetchError::kResolve: return "resolve";
    case FetchError::kTooLarge: return "too_large";
    case FetchError::kNotHtml: return "not_html";
    case FetchError::kTooManyRedirects: return "too_many_redirects";
    case FetchError::kProtocol: return "protocol";
    case FetchError::kTls: return "tls";
    case FetchError::kRefused: return "refused";
    case FetchError::kBlocked: return "blocked";
    case FetchError::kOther: return "other";
  }
  return "other";
}

namespace {

namespace asio = boost::asio;

// Why our callbacks stopped a transfer; curl only reports a generic code for it.
enum class WriteStop { kNone, kTooLarge, kNotHtml, kBlocked };

bool IsHttpUrl(const std::string& url) {
  return strncasecmp(url.c_str(), "http://", 7) == 0 ||
         strncasecmp(url.c_str(), "https://", 8) == 0;
}

// The one place where curl's codes become ours. `effective_url` is the last URL curl tried;
// `response_started` says whether any response header arrived.
FetchError ClassifyCurlCode(CURLcode code, WriteStop stop, const std::string& effective_url,
                            bool response_started) {
  // Only when the transfer failed: curl may have tried a blocked address, then an allowed one.
  if (code != CURLE_OK && stop == WriteStop::kBlocked) return FetchError::kBlocked;
  switch (code) {
    case CURLE_OK: return FetchError::kNone;
    case CURLE_WRITE_ERROR:
      if (stop == WriteStop::kTooLarge) return FetchError::kTooLarge;
      if (stop == WriteStop::kNotHtml) return FetchError::kNotHtml;
      return FetchError::kOther;
    case CURLE_FILESIZE_EXCEEDED: return FetchError::kTooLarge;
    case CURLE_OPERATION_TIMEDOUT: return FetchError::kTimeout;
    case CURLE_COULDNT_CONNECT: return FetchError::kConnect;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY: return FetchError::kResolve;
    case CURLE_TOO_MANY_REDIRECTS: return FetchError::kTooManyRedirects;
    case CURLE_UNSUPPORTED_PROTOCOL:
      // curl also uses this code for a reply that is not HTTP (HTTP/0.9, garbage, a bad status
      // line): the scheme was allowed, the server is at fault.
      return IsHttpUrl(effective_url) ? FetchError::kProtocol : FetchError::kRefused;
    case CURLE_URL_MALFORMAT: return FetchError::kRefused;
    case CURLE_OUT_OF_MEMORY:
      // curl 7.88 reports a response header over its size limit (100 KB) this way.
      return response_started ? FetchError::kProtocol : FetchError::kOther;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE: return FetchError::kTls;
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_BAD_CONTENT_ENCODING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM: return FetchError::kProtocol;
    default: return FetchError::kOther;
  }
}

bool IsHtmlContentType(const char* type) {
  if (type == nullptr) return true;  // no header: let the parser decide
  std::string t(type);
  for (char& c : t) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return t.find("html") != std::string::npos;  // text/html, application/xhtml+xml
}

}  // namespace

class FetchPool::Impl {
 public:
  Impl(asio::io_context& io, FetchOptions options);
  ~Impl();

  void Fetch(FetchRequest request, Callback done);
  std::size_t in_flight() const { return transfers_.size(); }

 private:
  struct Transfer {
    Impl* pool;
    CURL* easy;
    FetchRequest request;
    Callback done;
    FetchResult result;
    WriteStop stop = WriteStop::kNone;
    std::string blocked_address;
    bool checked_type = false;
    char error_text[CURL_ERROR_SIZE] = "";  // curl's detailed message for a failure
  };

  // Readiness watch for one socket curl asked us to poll. Asio never owns the descriptor: it is
  // release()d, never closed, because curl (or its resolver) closes it.
  struct SocketWatch {
    explicit SocketWatch(asio::io_context& io, curl_socket_t fd) : descriptor(io, fd), fd(fd) {}
    asio::posix::stream_descriptor descriptor;
    curl_socket_t fd;
    int want = 0;  // CURL_POLL_IN / OUT / INOUT
    bool reading = false;
    bool writing = false;
  };

  static int OnSocket(CURL* easy, curl_socket_t fd, int what, void* userp, void* socketp);
  static int OnTimer(CURLM* multi, long timeout_ms, void* userp);
  static curl_socket_t OnOpenSocket(void* userp, curlsocktype purpose, curl_sockaddr* address);
  static int OnCloseSocket(void* userp, curl_socket_t fd);
  static std::size_t OnWrite(char* data, std::size_t size, std::size_t count, void* userp);

  void Watch(curl_socket_t fd, int what);
  void Unwatch(curl_socket_t fd);
  void Arm(const std::shared_ptr<SocketWatch>& watch);
  void OnReady(const std::weak_ptr<SocketWatch>& weak, bool read, boost::system::error_code ec);
  void OnTimeout();
  void Drive(curl_socket_t fd, int events);
  void CollectDone();
  void ConfigureEasy(Transfer* transfer);

  asio::io_context& io_;
  FetchOptions options_;
  CURLM* multi_;
  CURLSH* share_;
  curl_slist* connect_to_ = nullptr;
  curl_slist* headers_ = nullptr;
  asio::steady_timer timer_;
  std::unordered_map<curl_socket_t, std::shared_ptr<SocketWatch>> watches_;
  std::unordered_map<CURL*, std::unique_ptr<Transfer>> transfers_;
};

FetchPool::Impl::Impl(asio::io_context& io, FetchOptions options)
    : io_(io), options_(std::move(options)), multi_(curl_multi_init()),
      share_(curl_share_init()), timer_(io) {
  curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &Impl::OnSocket);
  curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
  curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &Impl::OnTimer);
  curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
  curl_multi_setopt(multi_, CURLMOPT_MAX_TOTAL_CONNECTIONS, options_.max_connections);
  curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, options_.max_connections);
  curl_multi_setopt(multi_, CURLMOPT_PIPELINING, static_cast<long>(CURLPIPE_MULTIPLEX));
  // The multi handle already pools connections for its transfers; the share handle adds the
  // DNS cache and TLS session reuse. Single-threaded, so no lock callbacks are needed.
  curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
  curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  for (const std::string& entry : options_.connect_to) {
    connect_to_ = curl_slist_append(connect_to_, entry.c_str());
  }
  for (const std::string& header : options_.headers) {
    headers_ = curl_slist_append(headers_, header.c_str());
  }
}

FetchPool::Impl::~Impl() {
  for (auto& [easy, transfer] : transfers_) {
    curl_multi_remove_handle(multi_, easy);
    curl_easy_cleanup(easy);
  }
  transfers_.clear();
  curl_multi_cleanup(multi_);  // closes pooled connections through OnCloseSocket
  for (auto& [fd, watch] : watches_) watch->descriptor.release();
  watches_.clear();
  curl_share_cleanup(share_);
  curl_slist_free_all(connect_to_);
  curl_slist_free_all(headers_);
}

void FetchPool::Impl::ConfigureEasy(Transfer* transfer) {
  CURL* easy = transfer->easy;
  const FetchRequest& request = transfer->request;
  curl_easy_setopt(easy, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(easy, CURLOPT_PRIVATE, transfer);
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, transfer->error_text);
  curl_easy_setopt(easy, CURLOPT_SHARE, share_);
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, request.follow_redirects ? 1L : 0L);
  curl_easy_setopt(easy, CURLOPT_MAXREDIRS, options_.max_redirects);
  curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "");  // every encoding this curl decodes
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, options_.connect_timeout_ms);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, options_.timeout_ms);
  curl_easy_setopt(easy, CURLOPT_LOW_SPEED_LIMIT, options_.low_speed_bytes);
  curl_easy_setopt(easy, CURLOPT_LOW_SPEED_TIME, options_.low_speed_seconds);
  curl_easy_setopt(easy, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(request.max_body));
  curl_easy_setopt(easy, CURLOPT_USERAGENT, options_.user_agent.c_str());
  curl_easy_setopt(easy, CURLOPT_PIPEWAIT, 1L);
  curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
  if (connect_to_ != nullptr) curl_easy_setopt(easy, CURLOPT_CONNECT_TO, connect_to_);
  if (headers_ != nullptr) curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers_);
  if (!options_.proxy.empty()) curl_easy_setopt(easy, CURLOPT_PROXY, options_.proxy.c_str());
  if (options_.insecure) {
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &Impl::OnWrite);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, transfer);
  curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, &Impl::OnOpenSocket);
  curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, transfer);
  curl_easy_setopt(easy, CURLOPT_CLOSESOCKETFUNCTION, &Impl::OnCloseSocket);
  curl_easy_setopt(easy, CURLOPT_CLOSESOCKETDATA, this);
}

void FetchPool::Impl::Fetch(FetchRequest request, Callback done) {
  auto transfer = std::make_unique<Transfer>();
  transfer->pool = this;
  transfer->easy = curl_easy_init();
  if (request.max_body <= 0) request.max_body = options_.max_body;
  transfer->result.url = request.url;
  transfer->request = std::move(request);
  transfer->done = std::move(done);
  ConfigureEasy(transfer.get());
  CURL* easy = transfer->easy;
  transfers_.emplace(easy, std::move(transfer));
  // Adding a handle makes curl ask for a 0 ms timeout; OnTimer turns that into a posted call,
  // so curl is never re-entered from here.
  curl_multi_add_handle(multi_, easy);
}

std::size_t FetchPool::Impl::OnWrite(char* data, std::size_t size, std::size_t count,
                                     void* userp) {
  auto* transfer = static_cast<Transfer*>(userp);
  const std::size_t bytes = size * count;
  if (!transfer->checked_type) {
    transfer->checked_type = true;
    char* type = nullptr;
    curl_easy_getinfo(transfer->easy, CURLINFO_CONTENT_TYPE, &type);
    if (transfer->request.html_only && !IsHtmlContentType(type)) {
      transfer->stop = WriteStop::kNotHtml;
      return 0;
    }
  }
  std::string& body = transfer->result.body;
  // Checked on the decoded bytes, so a compressed bomb stops at the limit too.
  if (static_cast<std::int64_t>(body.size() + bytes) > transfer->request.max_body) {
    transfer->stop = WriteStop::kTooLarge;
    return 0;
  }
  if (body.capacity() == 0) body.reserve(32 * 1024);
  body.append(data, bytes);
  return bytes;
}

curl_socket_t FetchPool::Impl::OnOpenSocket(void* userp, curlsocktype purpose,
                                            curl_sockaddr* address) {
  auto* transfer = static_cast<Transfer*>(userp);
  if (purpose != CURLSOCKTYPE_IPCXN) return CURL_SOCKET_BAD;
  // The SSRF guard judges the address about to be connected, after DNS and redirects, so
  // neither a hostile name nor a rebinding resolver can steer the crawler inward.
  if (!transfer->pool->options_.guard.Allows(&address->addr)) {
    char text[64] = "?";
    if (address->family == AF_INET) {
      inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&address->addr)->sin_addr, text,
                sizeof text);
    } else if (address->family == AF_INET6) {
      inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&address->addr)->sin6_addr, text,
                sizeof text);
    }
    transfer->stop = WriteStop::kBlocked;
    transfer->blocked_address = text;
    return CURL_SOCKET_BAD;
  }
  return ::socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

int FetchPool::Impl::OnCloseSocket(void* userp, curl_socket_t fd) {
  // Asio must forget the descriptor before the number can be reused by another socket.
  static_cast<Impl*>(userp)->Unwatch(fd);
  return ::close(fd);
}

int FetchPool::Impl::OnSocket(CURL* /*easy*/, curl_socket_t fd, int what, void* userp,
                              void* /*socketp*/) {
  auto* self = static_cast<Impl*>(userp);
  if (what == CURL_POLL_REMOVE) {
    // Not "closed": curl may hand the same socket back later from its connection pool.
    self->Unwatch(fd);
  } else {
    self->Watch(fd, what);
  }
  return 0;
}

int FetchPool::Impl::OnTimer(CURLM* /*multi*/, long timeout_ms, void* userp) {
  auto* self = static_cast<Impl*>(userp);
  if (timeout_ms < 0) {
    self->timer_.cancel();
    return 0;
  }
  // One timer, replaced on each call; its handler runs later from the event loop, never
  // inside this callback.
  self->timer_.expires_after(std::chrono::milliseconds(timeout_ms));
  self->timer_.async_wait([self](boost::system::error_code ec) {
    if (!ec) self->OnTimeout();
  });
  return 0;
}

void FetchPool::Impl::Watch(curl_socket_t fd, int what) {
  auto it = watches_.find(fd);
  if (it == watches_.end()) {
    it = watches_.emplace(fd, std::make_shared<SocketWatch>(io_, fd)).first;
  }
  it->second->want = what;
  Arm(it->second);
}

void FetchPool::Impl::Unwatch(curl_socket_t fd) {
  auto it = watches_.find(fd);
  if (it == watches_.end()) return;
  // release() cancels pending waits (their handlers see operation_aborted and a dead weak_ptr)
  // and deregisters the descriptor without closing it.
  it->second->descriptor.release();
  watches_.erase(it);
}

void FetchPool::Impl::Arm(const std::shared_ptr<SocketWatch>& watch) {
  std::weak_ptr<SocketWatch> weak = watch;
  if ((watch->want & CURL_POLL_IN) && !watch->reading) {
    watch->reading = true;
    watch->descriptor.async_wait(asio::posix::stream_descriptor::wait_read,
                                 [this, weak](boost::system::error_code ec) {
                                   OnReady(weak, true, ec);
                                 });
  }
  if ((watch->want & CURL_POLL_OUT) && !watch->writing) {
    watch->writing = true;
    watch->descriptor.async_wait(asio::posix::stream_descriptor::wait_write,
                                 [this, weak](boost::system::error_code ec) {
                                   OnReady(weak, false, ec);
                                 });
  }
}

void FetchPool::Impl::OnReady(const std::weak_ptr<SocketWatch>& weak, bool read,
                              boost::system::error_code ec) {
  std::shared_ptr<SocketWatch> watch = weak.lock();
  if (!watch) return;  // unwatched meanwhile
  (read ? watch->reading : watch->writing) = false;
  if (ec == asio::error::operation_aborted) return;
  // The watch may have been replaced by a new socket with the same number.
  auto it = watches_.find(watch->fd);
  if (it == watches_.end() || it->second != watch) return;
  int events = read ? CURL_CSELECT_IN : CURL_CSELECT_OUT;
  if (ec) events |= CURL_CSELECT_ERR;
  Drive(watch->fd, events);
  it = watches_.find(watch->fd);
  if (it != watches_.end() && it->second == watch) Arm(watch);
}

void FetchPool::Impl::OnTimeout() { Drive(CURL_SOCKET_TIMEOUT, 0); }

void FetchPool::Impl::Drive(curl_socket_t fd, int events) {
  int running = 0;
  curl_multi_socket_action(multi_, fd, events, &running);
  CollectDone();
}

void FetchPool::Impl::CollectDone() {
  int queued = 0;
  while (CURLMsg* msg = curl_multi_info_read(multi_, &queued)) {
    if (msg->msg != CURLMSG_DONE) continue;
    CURL* easy = msg->easy_handle;
    const CURLcode code = msg->data.result;
    auto it = transfers_.find(easy);
    if (it == transfers_.end()) continue;
    std::unique_ptr<Transfer> transfer = std::move(it->second);
    transfers_.erase(it);
    FetchResult& result = transfer->result;
    long status = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    result.status = status;
    char* text = nullptr;
    if (curl_easy_getinfo(easy, CURLINFO_EFFECTIVE_URL, &text) == CURLE_OK && text) {
      result.final_url = text;
    }
    text = nullptr;
    if (curl_easy_getinfo(easy, CURLINFO_CONTENT_TYPE, &text) == CURLE_OK && text) {
      result.content_type = text;
    }
    text = nullptr;
    if (curl_easy_getinfo(easy, CURLINFO_PRIMARY_IP, &text) == CURLE_OK && text) {
      result.ip = text;
    }
    long redirects = 0;
    curl_easy_getinfo(easy, CURLINFO_REDIRECT_COUNT, &redirects);
    result.redirects = static_cast<int>(redirects);
    text = nullptr;
    if (curl_easy_getinfo(easy, CURLINFO_REDIRECT_URL, &text) == CURLE_OK && text) {
      result.redirect_url = text;
    }
    curl_off_t retry_after = 0;
    if (curl_easy_getinfo(easy, CURLINFO_RETRY_AFTER, &retry_after) == CURLE_OK &&
        retry_after > 0) {
      result.retry_after = static_cast<long>(retry_after);
    }
    curl_easy_getinfo(easy, CURLINFO_TOTAL_TIME, &result.seconds);
    long header_bytes = 0;
    curl_easy_getinfo(easy, CURLINFO_HEADER_SIZE, &header_bytes);
    result.error = ClassifyCurlCode(code, transfer->stop, result.final_url,
                                    header_bytes > 0 || status != 0);
    if (!result.ok()) {
      switch (result.error) {
        case FetchError::kTooLarge: result.error_text = "body exceeds the size limit"; break;
        case FetchError::kNotHtml: result.error_text = "not HTML: " + result.content_type; break;
        case FetchError::kBlocked:
          result.error_text = "address " + transfer->blocked_address +
                              " is not allowed (SSRF guard; --allow-net opens it)";
          break;
        default:
          result.error_text = transfer->error_text[0] != '\0' ? transfer->error_text
                                                              : curl_easy_strerror(code);
          break;
      }
      result.body.clear();
    }
    curl_multi_remove_handle(multi_, easy);
    curl_easy_cleanup(easy);
    asio::post(io_, [done = std::move(transfer->done), result = std::move(result)]() mutable {
      done(std::move(result));
    });
  }
}

FetchPool::FetchPool(asio::io_context& io, FetchOptions options)
    : impl_(std::make_unique<Impl>(io, std::move(options))) {}
FetchPool::~FetchPool() = default;
void FetchPool::Fetch(FetchRequest request, Callback done) {
  impl_->Fetch(std::move(request), std::move(done));
}
std::size_t FetchPool::in_flight() const { return impl_->in_flight(); }

}  // namespace mw
