#include "crawler/fetch_pool.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstring>
#include <ctime>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>
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
enum class WriteStop { kNone, kTooLarge, kNotHtml, kBlocked, kBadBody };

// Body bytes allowed on the wire beyond max_body: chunk framing and a compressed stream's
// overhead over what it holds. Also bounds the raw body kept for the WARC.
std::int64_t WireLimit(std::int64_t max_body) { return max_body + max_body / 16 + 64 * 1024; }

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
      if (stop == WriteStop::kBadBody) return FetchError::kProtocol;
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

// What the WARC-Truncated field says about a response that ended with `code`.
WarcTruncation TruncationOf(CURLcode code, WriteStop stop) {
  if (code == CURLE_OK) return WarcTruncation::kNone;
  if (stop == WriteStop::kTooLarge || code == CURLE_FILESIZE_EXCEEDED) {
    return WarcTruncation::kLength;
  }
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT: return WarcTruncation::kTime;
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR: return WarcTruncation::kDisconnect;
    default: return WarcTruncation::kUnspecified;
  }
}

// Undoes the chunked transfer coding (RFC 9112 section 7.1) as the bytes arrive, strictly: a
// chunk size is 1 to 16 hex digits, then nothing or white space or a ';' extension up to the
// line end; a line ends with CRLF or LF (as curl accepts); chunk data is followed by a line
// end; trailer lines run to an empty line. Bytes after that are ignored.
class Dechunker {
 public:
  // Passes each run of chunk data to `sink(const char*, std::size_t) -> bool`. Returns false
  // when the sink refused (error() stays empty) or the framing is broken (error() says how).
  template <typename Sink>
  bool Feed(const char* data, std::size_t size, Sink&& sink) {
    const char* const end = data + size;
    while (data < end) {
      if (state_ == State::kData) {
        const auto run = static_cast<std::size_t>(
            std::min<std::uint64_t>(remaining_, static_cast<std::size_t>(end - data)));
        if (!sink(data, run)) return false;
        data += run;
        remaining_ -= run;
        if (remaining_ == 0) state_ = State::kDataEnd;
      } else if (!Step(*data++)) {
        return false;
      }
    }
    return true;
  }
  const std::string& error() const { return error_; }

 private:
  enum class State {
    kSize, kExtension, kSizeLf, kData, kDataEnd, kDataLf,
    kTrailer, kTrailerLine, kTrailerLf, kFinalLf, kDone,
  };

  bool Step(char c) {
    switch (state_) {
      case State::kSize: return SizeByte(c);
      case State::kExtension:
        if (c == '\r') return Go(State::kSizeLf);
        return c == '\n' ? EndSizeLine() : true;
      case State::kSizeLf:
        return c == '\n' ? EndSizeLine() : Fail("CR without LF after a chunk size");
      case State::kDataEnd:
        if (c == '\r') return Go(State::kDataLf);
        return c == '\n' ? Go(State::kSize) : Fail("chunk data longer than its size");
      case State::kDataLf:
        return c == '\n' ? Go(State::kSize) : Fail("CR without LF after chunk data");
      case State::kTrailer:
        if (c == '\r') return Go(State::kFinalLf);
        return Go(c == '\n' ? State::kDone : State::kTrailerLine);
      case State::kTrailerLine:
        if (c == '\r') return Go(State::kTrailerLf);
        return c == '\n' ? Go(State::kTrailer) : true;
      case State::kTrailerLf:
        return c == '\n' ? Go(State::kTrailer) : Fail("CR without LF in the trailer");
      case State::kFinalLf:
        return c == '\n' ? Go(State::kDone) : Fail("CR without LF after the trailer");
      case State::kData:
      case State::kDone: return true;
    }
    return true;
  }

  bool SizeByte(char c) {
    if (const int digit = HexDigit(c); digit >= 0) {
      if (++digits_ > 16) return Fail("chunk size over 16 hex digits");
      remaining_ = remaining_ << 4 | static_cast<std::uint64_t>(digit);
      return true;
    }
    if (digits_ == 0) return Fail("chunk size is not a hex number");
    if (c == ';' || c == ' ' || c == '\t') return Go(State::kExtension);
    if (c == '\r') return Go(State::kSizeLf);
    return c == '\n' ? EndSizeLine() : Fail("junk after a chunk size");
  }

  bool EndSizeLine() {
    digits_ = 0;
    return Go(remaining_ == 0 ? State::kTrailer : State::kData);
  }

  static int HexDigit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }
  bool Go(State next) {
    state_ = next;
    return true;
  }
  bool Fail(const char* why) {
    error_ = std::string("broken chunked encoding: ") + why;
    return false;
  }

  State state_ = State::kSize;
  std::uint64_t remaining_ = 0;
  int digits_ = 0;
  std::string error_;
};

// Undoes a gzip or deflate content coding as the bytes arrive (zlib). "deflate" means a zlib
// stream (RFC 9110 section 8.4.1.2), but some servers send raw deflate: the first two bytes
// tell which. Bytes after the end of the stream are ignored, and a stream cut short is not
// an error (curl's own decoder did not treat it as one either).
class Inflater {
 public:
  explicit Inflater(bool maybe_raw) : maybe_raw_(maybe_raw) {}
  ~Inflater() {
    if (started_) inflateEnd(&z_);
  }
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;

  // Passes the inflated bytes to `sink(const char*, std::size_t) -> bool`. Returns false when
  // the sink refused (error() stays empty) or the stream is corrupt (error() says how).
  template <typename Sink>
  bool Feed(const char* data, std::size_t size, Sink&& sink) {
    auto* bytes = reinterpret_cast<const unsigned char*>(data);
    if (!started_) {
      if (!maybe_raw_) {
        if (!Start(15 + 32)) return false;  // 32: gzip or zlib header, whichever comes
      } else {
        while (head_size_ < 2 && size > 0) head_[head_size_++] = *bytes++, --size;
        if (head_size_ < 2) return true;
        const bool gzip = head_[0] == 0x1f && head_[1] == 0x8b;
        const bool zlib = (head_[0] & 0x0f) == Z_DEFLATED && (head_[0] << 8 | head_[1]) % 31 == 0;
        if (!Start(gzip || zlib ? 15 + 32 : -15) || !Inflate(head_, 2, sink)) return false;
      }
    }
    return Inflate(bytes, size, sink);
  }
  const std::string& error() const { return error_; }

 private:
  bool Start(int window_bits) {
    if (inflateInit2(&z_, window_bits) != Z_OK) return Fail("zlib could not start");
    started_ = true;
    return true;
  }

  template <typename Sink>
  bool Inflate(const unsigned char* data, std::size_t size, Sink&& sink) {
    if (ended_) return true;
    z_.next_in = const_cast<unsigned char*>(data);
    z_.avail_in = static_cast<uInt>(size);
    for (;;) {
      unsigned char out[16 * 1024];
      z_.next_out = out;
      z_.avail_out = sizeof out;
      const int rc = inflate(&z_, Z_NO_FLUSH);
      const std::size_t produced = sizeof out - z_.avail_out;
      if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
        return Fail(z_.msg != nullptr ? z_.msg : "corrupt stream");
      }
      if (produced > 0 && !sink(reinterpret_cast<const char*>(out), produced)) return false;
      if (rc == Z_STREAM_END) {
        ended_ = true;
        return true;
      }
      // Z_BUF_ERROR: no progress until more input comes.
      if (rc == Z_BUF_ERROR || (z_.avail_in == 0 && z_.avail_out > 0)) return true;
    }
  }

  bool Fail(const char* why) {
    error_ = std::string("broken compressed body: ") + why;
    return false;
  }

  z_stream z_{};
  bool maybe_raw_;
  bool started_ = false;
  bool ended_ = false;
  unsigned char head_[2] = {};
  std::size_t head_size_ = 0;
  std::string error_;
};

// The comma-separated tokens of every `name` header of the response being received,
// lower-cased, in order.
std::vector<std::string> HeaderTokens(CURL* easy, const char* name) {
  std::vector<std::string> tokens;
  curl_header* header = nullptr;
  for (std::size_t i = 0, amount = 1; i < amount; ++i) {
    if (curl_easy_header(easy, name, i, CURLH_HEADER, -1, &header) != CURLHE_OK) break;
    amount = header->amount;
    std::string_view value = header->value;
    while (!value.empty()) {
      const std::size_t comma = std::min(value.find(','), value.size());
      std::string token(value.substr(0, comma));
      value.remove_prefix(std::min(comma + 1, value.size()));
      token.erase(0, token.find_first_not_of(" \t"));
      token.erase(token.find_last_not_of(" \t") + 1);
      for (char& c : token) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (!token.empty()) tokens.push_back(std::move(token));
    }
  }
  return tokens;
}

// The value of the first `name` header of the last response; empty when there is none.
std::string HeaderValue(CURL* easy, const char* name) {
  curl_header* header = nullptr;
  if (curl_easy_header(easy, name, 0, CURLH_HEADER, -1, &header) != CURLHE_OK) return "";
  return header->value;
}

// What curl tells about the transfer and its last response, whatever the outcome.
void ReadResponseFacts(CURL* easy, FetchResult* result) {
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &result->status);
  char* text = nullptr;
  if (curl_easy_getinfo(easy, CURLINFO_EFFECTIVE_URL, &text) == CURLE_OK && text) {
    result->final_url = text;
  }
  text = nullptr;
  if (curl_easy_getinfo(easy, CURLINFO_CONTENT_TYPE, &text) == CURLE_OK && text) {
    result->content_type = text;
  }
  text = nullptr;
  if (curl_easy_getinfo(easy, CURLINFO_PRIMARY_IP, &text) == CURLE_OK && text) {
    result->ip = text;
  }
  long redirects = 0;
  curl_easy_getinfo(easy, CURLINFO_REDIRECT_COUNT, &redirects);
  result->redirects = static_cast<int>(redirects);
  text = nullptr;
  if (curl_easy_getinfo(easy, CURLINFO_REDIRECT_URL, &text) == CURLE_OK && text) {
    result->redirect_url = text;
  }
  curl_off_t retry_after = 0;
  if (curl_easy_getinfo(easy, CURLINFO_RETRY_AFTER, &retry_after) == CURLE_OK &&
      retry_after > 0) {
    result->retry_after = static_cast<long>(retry_after);
  }
  curl_easy_getinfo(easy, CURLINFO_TOTAL_TIME, &result->seconds);
  result->server = HeaderValue(easy, "Server");
  result->etag = HeaderValue(easy, "ETag");
  result->last_modified = HeaderValue(easy, "Last-Modified");
}

// How the body of the response being received is to be decoded, from its headers.
struct BodyCoding {
  enum class Compression { kNone, kGzip, kDeflate };
  bool chunked = false;
  Compression compression = Compression::kNone;
  std::string error;  // non-empty: a coding we cannot undo
};

BodyCoding BodyCodingOf(CURL* easy) {
  BodyCoding coding;
  std::vector<std::string> codings = HeaderTokens(easy, "Content-Encoding");
  std::vector<std::string> transfer = HeaderTokens(easy, "Transfer-Encoding");
  if (!transfer.empty() && transfer.back() == "chunked") {
    coding.chunked = true;
    transfer.pop_back();
  }
  // A transfer coding other than chunked (we send no TE, but a server may) is undone like a
  // content coding; it was applied after them.
  codings.insert(codings.end(), transfer.rbegin(), transfer.rend());
  std::erase(codings, "identity");
  std::string named;
  for (const std::string& name : codings) named += (named.empty() ? "" : ", ") + name;
  if (std::find(codings.begin(), codings.end(), "chunked") != codings.end()) {
    coding.error = "chunked is not the last transfer coding";
  } else if (codings.size() > 1) {
    coding.error = "more than one content coding: " + named;
  } else if (codings.size() == 1) {
    if (codings[0] == "gzip" || codings[0] == "x-gzip") {
      coding.compression = BodyCoding::Compression::kGzip;
    } else if (codings[0] == "deflate") {
      coding.compression = BodyCoding::Compression::kDeflate;
    } else {
      coding.error = "unsupported content coding: " + named;
    }
  }
  return coding;
}

std::string HexOf(const unsigned char* bytes, std::size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  for (std::size_t i = 0; i < size; ++i) {
    hex += kDigits[bytes[i] >> 4];
    hex += kDigits[bytes[i] & 0x0f];
  }
  return hex;
}

std::string IsoTime(const ASN1_TIME* time) {
  std::tm tm{};
  if (time == nullptr || ASN1_TIME_to_tm(time, &tm) != 1) return "";
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

// Adds the DER's SHA-256 and the validity dates of the PEM certificate curl reports.
void AddDerFacts(std::string_view pem, nlohmann::json& cert) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* x509 = bio != nullptr ? PEM_read_bio_X509(bio, nullptr, nullptr, nullptr) : nullptr;
  BIO_free(bio);
  if (x509 == nullptr) return;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (X509_digest(x509, EVP_sha256(), digest, &size) == 1) cert["sha256"] = HexOf(digest, size);
  cert["not_before"] = IsoTime(X509_get0_notBefore(x509));
  cert["not_after"] = IsoTime(X509_get0_notAfter(x509));
  X509_free(x509);
}

// The leaf certificate of a CURLINFO_CERTINFO chain as the JSON object fetch_pool.h
// describes; empty when there is none. curl lists each certificate as "Name:value" fields.
std::string CertJson(const curl_certinfo* info) {
  if (info == nullptr || info->num_of_certs < 1 || info->certinfo[0] == nullptr) return "";
  nlohmann::json cert = nlohmann::json::object();
  for (const curl_slist* field = info->certinfo[0]; field != nullptr; field = field->next) {
    const std::string_view text = field->data;
    const std::size_t colon = text.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string_view name = text.substr(0, colon);
    const std::string_view value = text.substr(colon + 1);
    if (name == "Subject") {
      cert["subject"] = value;
    } else if (name == "Issuer") {
      cert["issuer"] = value;
    } else if (name == "X509v3 Subject Alternative Name") {
      nlohmann::json sans = nlohmann::json::array();  // "DNS:a.example", "IP Address:1.2.3.4"
      for (std::string_view rest = value; !rest.empty();) {
        const std::size_t comma = std::min(rest.find(','), rest.size());
        std::string_view san = rest.substr(0, comma);
        rest.remove_prefix(std::min(comma + 1, rest.size()));
        while (!san.empty() && san.front() == ' ') san.remove_prefix(1);
        if (!san.empty()) sans.push_back(san);
      }
      cert["sans"] = std::move(sans);
    } else if (name == "Cert") {
      AddDerFacts(value, cert);
    }
  }
  // Replace, not throw, if a name holds bytes that are not UTF-8.
  return cert.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// Names one TCP connection by its two ends: while it is open no other has the same name.
std::string ConnectionName(const char* local_ip, int local_port, const char* remote_ip,
                           int remote_port) {
  return std::string(local_ip) + ' ' + std::to_string(local_port) + ' ' + remote_ip + ' ' +
         std::to_string(remote_port);
}

// The same name for a socket, from the kernel; nullopt when it is not connected.
std::optional<std::string> ConnectionNameOf(int fd) {
  sockaddr_storage ends[2];
  char ips[2][INET6_ADDRSTRLEN];
  int ports[2];
  for (int i = 0; i < 2; ++i) {
    socklen_t length = sizeof ends[i];
    auto* address = reinterpret_cast<sockaddr*>(&ends[i]);
    if ((i == 0 ? getsockname(fd, address, &length) : getpeername(fd, address, &length)) != 0) {
      return std::nullopt;
    }
    if (address->sa_family == AF_INET) {
      const auto* in = reinterpret_cast<const sockaddr_in*>(address);
      inet_ntop(AF_INET, &in->sin_addr, ips[i], sizeof ips[i]);
      ports[i] = ntohs(in->sin_port);
    } else if (address->sa_family == AF_INET6) {
      const auto* in6 = reinterpret_cast<const sockaddr_in6*>(address);
      inet_ntop(AF_INET6, &in6->sin6_addr, ips[i], sizeof ips[i]);
      ports[i] = ntohs(in6->sin6_port);
    } else {
      return std::nullopt;
    }
  }
  return ConnectionName(ips[0], ports[0], ips[1], ports[1]);
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
    ~Transfer() { curl_slist_free_all(headers); }

    Impl* pool;
    CURL* easy;
    FetchRequest request;
    Callback done;
    FetchResult result;
    WriteStop stop = WriteStop::kNone;
    std::string stop_text;  // why our callbacks stopped it, when curl's text would not say
    std::string blocked_address;
    bool checked_type = false;
    curl_slist* headers = nullptr;  // FetchOptions::headers + FetchRequest::headers, if any
    std::vector<curl_socket_t> opened;  // sockets opened since the last request went out
    // The response body as it arrives: its size on the wire, and how it is decoded.
    std::int64_t wire_bytes = 0;
    bool chunked = false;
    Dechunker dechunker;
    std::optional<Inflater> inflater;
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
  static int OnPrerequest(void* userp, char* remote_ip, char* local_ip, int remote_port,
                          int local_port);
  static int OnDebug(CURL* easy, curl_infotype type, char* data, std::size_t size, void* userp);
  static bool StartBody(Transfer* transfer);
  static bool DecodeBody(Transfer* transfer, const char* data, std::size_t size);
  static bool AppendBody(Transfer* transfer, const char* data, std::size_t size);

  void Watch(curl_socket_t fd, int what);
  void Unwatch(curl_socket_t fd);
  void Arm(const std::shared_ptr<SocketWatch>& watch);
  void OnReady(const std::weak_ptr<SocketWatch>& weak, bool read, boost::system::error_code ec);
  void OnTimeout();
  void Drive(curl_socket_t fd, int events);
  void CollectDone();
  void Finish(Transfer* transfer, CURLcode code);
  void ConfigureEasy(Transfer* transfer);
  void NoteCertificate(Transfer* transfer, const std::string& connection);

  asio::io_context& io_;
  FetchOptions options_;
  CURLM* multi_;
  CURLSH* share_;
  curl_slist* connect_to_ = nullptr;
  curl_slist* headers_ = nullptr;
  asio::steady_timer timer_;
  std::unordered_map<curl_socket_t, std::shared_ptr<SocketWatch>> watches_;
  std::unordered_map<CURL*, std::unique_ptr<Transfer>> transfers_;
  // The leaf certificate (CertJson) of each open TLS connection, by ConnectionName (curl
  // reports certificates only to the transfer whose handshake made the connection), and the
  // name of each such connection's socket, to forget it when the socket closes.
  std::unordered_map<std::string, std::string> certs_;
  std::unordered_map<curl_socket_t, std::string> cert_sockets_;
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
  // curl hands over the body as it came (still chunked, still compressed) for the WARC, and
  // OnWrite decodes it; so offer only the codings OnWrite undoes (this curl would add br, zstd).
  curl_easy_setopt(easy, CURLOPT_HTTP_TRANSFER_DECODING, 0L);
  curl_easy_setopt(easy, CURLOPT_HTTP_CONTENT_DECODING, 0L);
  curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "gzip, deflate");
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, options_.connect_timeout_ms);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, options_.timeout_ms);
  curl_easy_setopt(easy, CURLOPT_LOW_SPEED_LIMIT, options_.low_speed_bytes);
  curl_easy_setopt(easy, CURLOPT_LOW_SPEED_TIME, options_.low_speed_seconds);
  curl_easy_setopt(easy, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(request.max_body));
  curl_easy_setopt(easy, CURLOPT_USERAGENT, options_.user_agent.c_str());
  // HTTP/1.1 only, on https too: a WARC response record holds the message as it crossed the
  // connection, and HTTP/2 has no such message (binary frames, HPACK headers that curl would
  // hand back re-written as text). Multiplexing would gain little: the frontier keeps few
  // requests in flight per host anyway.
  curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
  if (connect_to_ != nullptr) curl_easy_setopt(easy, CURLOPT_CONNECT_TO, connect_to_);
  if (!request.headers.empty()) {
    for (const std::string& header : options_.headers) {
      transfer->headers = curl_slist_append(transfer->headers, header.c_str());
    }
    for (const std::string& header : request.headers) {
      transfer->headers = curl_slist_append(transfer->headers, header.c_str());
    }
  }
  if (curl_slist* headers = transfer->headers ? transfer->headers : headers_) {
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
  }
  if (!options_.proxy.empty()) curl_easy_setopt(easy, CURLOPT_PROXY, options_.proxy.c_str());
  if (options_.insecure) {
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  // curl copies the chain out of each TLS handshake, once per connection.
  curl_easy_setopt(easy, CURLOPT_CERTINFO, 1L);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &Impl::OnWrite);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, transfer);
  // One cheap call per request, when it is about to go out (for on_sent, sent_at and the
  // certificate); the debug callback would tell the same but costs VERBOSE on every fetch.
  curl_easy_setopt(easy, CURLOPT_PREREQFUNCTION, &Impl::OnPrerequest);
  curl_easy_setopt(easy, CURLOPT_PREREQDATA, transfer);
  if (request.capture) {
    // Only the debug callback shows the request bytes. VERBOSE makes curl call it; with a
    // callback installed curl prints nothing.
    curl_easy_setopt(easy, CURLOPT_DEBUGFUNCTION, &Impl::OnDebug);
    curl_easy_setopt(easy, CURLOPT_DEBUGDATA, transfer);
    curl_easy_setopt(easy, CURLOPT_VERBOSE, 1L);
  }
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
    if (!StartBody(transfer)) return 0;
  }
  // The limit on the wire bounds the raw body kept, and a server that sends endless framing
  // (tiny chunks, trailers) around little or no body.
  const std::int64_t limit = WireLimit(transfer->request.max_body);
  if (transfer->request.capture) {
    const std::int64_t room = std::max<std::int64_t>(limit - transfer->wire_bytes, 0);
    transfer->result.raw_response.append(data, std::min(bytes, static_cast<std::size_t>(room)));
  }
  transfer->wire_bytes += static_cast<std::int64_t>(bytes);
  if (transfer->wire_bytes > limit) {
    transfer->stop = WriteStop::kTooLarge;
    transfer->stop_text = "the response body on the wire exceeds the size limit";
    return 0;
  }
  return DecodeBody(transfer, data, bytes) ? bytes : 0;
}

// Reads how the body is coded, at its first bytes.
bool FetchPool::Impl::StartBody(Transfer* transfer) {
  BodyCoding coding = BodyCodingOf(transfer->easy);
  if (!coding.error.empty()) {
    transfer->stop = WriteStop::kBadBody;
    transfer->stop_text = std::move(coding.error);
    return false;
  }
  transfer->chunked = coding.chunked;
  if (coding.compression != BodyCoding::Compression::kNone) {
    transfer->inflater.emplace(coding.compression == BodyCoding::Compression::kDeflate);
  }
  transfer->result.body.reserve(32 * 1024);
  return true;
}

// Undoes the chunking, then the compression, and appends the result to the body. The stages
// hand their output on as they go: nothing is buffered whole.
bool FetchPool::Impl::DecodeBody(Transfer* transfer, const char* data, std::size_t size) {
  auto decompress = [transfer](const char* bytes, std::size_t length) {
    if (!transfer->inflater) return AppendBody(transfer, bytes, length);
    if (transfer->inflater->Feed(bytes, length, [transfer](const char* out, std::size_t n) {
          return AppendBody(transfer, out, n);
        })) {
      return true;
    }
    if (transfer->stop == WriteStop::kNone) {
      transfer->stop = WriteStop::kBadBody;
      transfer->stop_text = transfer->inflater->error();
    }
    return false;
  };
  if (!transfer->chunked) return decompress(data, size);
  if (transfer->dechunker.Feed(data, size, decompress)) return true;
  if (transfer->stop == WriteStop::kNone) {
    transfer->stop = WriteStop::kBadBody;
    transfer->stop_text = transfer->dechunker.error();
  }
  return false;
}

bool FetchPool::Impl::AppendBody(Transfer* transfer, const char* data, std::size_t size) {
  std::string& body = transfer->result.body;
  // Checked on the decoded bytes, so a compressed bomb stops at the limit too.
  if (static_cast<std::int64_t>(body.size() + size) > transfer->request.max_body) {
    transfer->stop = WriteStop::kTooLarge;
    return false;
  }
  body.append(data, size);
  return true;
}

int FetchPool::Impl::OnPrerequest(void* userp, char* remote_ip, char* local_ip,
                                  int remote_port, int local_port) {
  auto* transfer = static_cast<Transfer*>(userp);
  Impl* self = transfer->pool;
  if (transfer->request.on_sent) {
    // Only the first request counts: politeness is about when requests reach the server,
    // and later ones (redirects) follow at once.
    asio::post(self->io_, [on_sent = std::move(transfer->request.on_sent),
                           at = std::chrono::steady_clock::now()] { on_sent(at); });
    transfer->request.on_sent = nullptr;
  }
  FetchResult& result = transfer->result;
  result.sent_at = std::chrono::system_clock::now();
  // Only the last exchange is kept: a redirect curl follows starts a new one.
  result.raw_request.clear();
  result.raw_response.clear();
  result.cert_json.clear();
  char* scheme = nullptr;
  curl_easy_getinfo(transfer->easy, CURLINFO_SCHEME, &scheme);
  if (scheme != nullptr && strcasecmp(scheme, "https") == 0) {
    self->NoteCertificate(transfer, ConnectionName(local_ip, local_port, remote_ip, remote_port));
  }
  transfer->opened.clear();
  return CURL_PREREQFUNC_OK;
}

// Sets cert_json for a request about to go out on the TLS connection named `connection`.
// curl reports certificates (CURLINFO_CERTINFO) after a handshake in this transfer only: on a
// reused connection it shows none, or an earlier hop's. So each connection's certificate is
// kept in certs_ from the request that opened it.
void FetchPool::Impl::NoteCertificate(Transfer* transfer, const std::string& connection) {
  std::string& cert_json = transfer->result.cert_json;
  if (transfer->opened.empty()) {  // a reused connection
    if (auto it = certs_.find(connection); it != certs_.end()) cert_json = it->second;
    return;
  }
  // A new connection: its handshake was just made.
  curl_certinfo* info = nullptr;
  curl_easy_getinfo(transfer->easy, CURLINFO_CERTINFO, &info);
  cert_json = CertJson(info);
  for (curl_socket_t fd : transfer->opened) {  // the one that won, when curl tried several
    if (ConnectionNameOf(fd) == connection) {
      certs_[connection] = cert_json;
      cert_sockets_[fd] = connection;
    }
  }
}

int FetchPool::Impl::OnDebug(CURL* /*easy*/, curl_infotype type, char* data, std::size_t size,
                             void* userp) {
  FetchResult& result = static_cast<Transfer*>(userp)->result;
  switch (type) {
    case CURLINFO_HEADER_OUT:
    case CURLINFO_DATA_OUT: result.raw_request.append(data, size); break;
    case CURLINFO_HEADER_IN:  // one header line at a time, as received
      // A status line starts a response: an interim 1xx one before it is dropped.
      if (size >= 5 && std::memcmp(data, "HTTP/", 5) == 0) result.raw_response.clear();
      result.raw_response.append(data, size);
      break;
    default: break;  // curl's messages; body bytes (OnWrite keeps those); TLS records
  }
  return 0;
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
  const curl_socket_t fd =
      ::socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
  if (fd != CURL_SOCKET_BAD) transfer->opened.push_back(fd);
  return fd;
}

int FetchPool::Impl::OnCloseSocket(void* userp, curl_socket_t fd) {
  auto* self = static_cast<Impl*>(userp);
  // Asio must forget the descriptor before the number can be reused by another socket.
  self->Unwatch(fd);
  if (auto it = self->cert_sockets_.find(fd); it != self->cert_sockets_.end()) {
    self->certs_.erase(it->second);
    self->cert_sockets_.erase(it);
  }
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
    Finish(transfer.get(), code);
    curl_multi_remove_handle(multi_, easy);
    curl_easy_cleanup(easy);
    asio::post(io_, [done = std::move(transfer->done),
                     result = std::move(transfer->result)]() mutable { done(std::move(result)); });
  }
}

// Fills in the result of a transfer curl has ended with `code`.
void FetchPool::Impl::Finish(Transfer* transfer, CURLcode code) {
  FetchResult& result = transfer->result;
  ReadResponseFacts(transfer->easy, &result);
  long header_bytes = 0;
  curl_easy_getinfo(transfer->easy, CURLINFO_HEADER_SIZE, &header_bytes);
  result.error = ClassifyCurlCode(code, transfer->stop, result.final_url,
                                  header_bytes > 0 || result.status != 0);
  if (!result.raw_response.empty()) result.truncated = TruncationOf(code, transfer->stop);
  if (result.ok()) return;
  if (!transfer->stop_text.empty()) {
    result.error_text = transfer->stop_text;
  } else if (result.error == FetchError::kTooLarge) {
    result.error_text = "body exceeds the size limit";
  } else if (result.error == FetchError::kNotHtml) {
    result.error_text = "not HTML: " + result.content_type;
  } else if (result.error == FetchError::kBlocked) {
    result.error_text = "address " + transfer->blocked_address +
                        " is not allowed (SSRF guard; --allow-net opens it)";
  } else {
    result.error_text =
        transfer->error_text[0] != '\0' ? transfer->error_text : curl_easy_strerror(code);
  }
  result.body.clear();
}

FetchPool::FetchPool(asio::io_context& io, FetchOptions options)
    : impl_(std::make_unique<Impl>(io, std::move(options))) {}
FetchPool::~FetchPool() = default;
void FetchPool::Fetch(FetchRequest request, Callback done) {
  impl_->Fetch(std::move(request), std::move(done));
}
std::size_t FetchPool::in_flight() const { return impl_->in_flight(); }

}  // namespace mw
