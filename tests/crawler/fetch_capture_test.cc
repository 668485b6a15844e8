// The fetch pool against servers on loopback: the exchange kept as it crossed the wire (for
// the WARC files), the body decoded by the pool itself, validators, the send time, and the TLS
// certificate. Each test runs FetchPool directly.
#include <gtest/gtest.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "crawler/fetch_pool.h"
#include "tests/crawler/test_server.h"
#include "tests/crawler/zlib_util.h"

namespace mw {
namespace {

using testing::Compress;

using testing::Reply;
using testing::TestServer;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
namespace asio = boost::asio;
namespace http = boost::beast::http;

FetchOptions OptionsFor(std::vector<std::string> connect_to) {
  FetchOptions options;
  options.connect_to = std::move(connect_to);
  options.user_agent = "mw-test/1";
  options.connect_timeout_ms = 2'000;
  options.timeout_ms = 5'000;
  Cidr loopback;
  EXPECT_EQ(Cidr::Parse("127.0.0.1/32", &loopback), "");
  options.guard = AddressGuard({loopback});
  return options;
}

// Runs `requests` one after another on one pool (so connections can be reused) and returns
// their results in order.
std::vector<FetchResult> FetchInTurn(FetchOptions options, std::vector<FetchRequest> requests) {
  asio::io_context io;
  std::vector<FetchResult> results;
  FetchPool pool(io, std::move(options));
  std::function<void()> next = [&] {
    if (results.size() == requests.size()) {
      io.stop();
      return;
    }
    pool.Fetch(requests[results.size()], [&](FetchResult result) {
      results.push_back(std::move(result));
      next();
    });
  };
  next();
  io.run();
  return results;
}

FetchResult FetchOne(FetchOptions options, FetchRequest request) {
  auto results = FetchInTurn(std::move(options), {std::move(request)});
  return results.empty() ? FetchResult{} : std::move(results[0]);
}

FetchRequest Capture(std::string url) {
  FetchRequest request;
  request.url = std::move(url);
  request.capture = true;
  return request;
}

// `body` in chunks of `size` bytes, with the last chunk and an empty trailer.
std::string Chunked(const std::string& body, std::size_t size) {
  std::string out;
  for (std::size_t at = 0; at < body.size(); at += size) {
    const std::string chunk = body.substr(at, size);
    char line[32];
    std::snprintf(line, sizeof line, "%zx\r\n", chunk.size());
    out += line + chunk + "\r\n";
  }
  return out + "0\r\n\r\n";
}

std::string Page(int paragraphs) {
  std::string page = "<html><title>capture</title><body>";
  for (int i = 0; i < paragraphs; ++i) page += "<p>paragraph " + std::to_string(i) + "</p>\n";
  return page + "</body></html>";
}

// A server that answers every request with the same raw bytes (then closes).
TestServer RawServer(std::string bytes) {
  return TestServer([bytes](const std::string&, const std::string&) { return Reply::Raw(bytes); });
}

// ---- the exchange as it crossed the wire ----

TEST(FetchCapture, ChunkedGzipIsKeptAsSentAndDecoded) {
  const std::string page = Page(2'000);
  const std::string head =
      "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n"
      "Content-Encoding: gzip\r\nServer: capture-test\r\n\r\n";
  const std::string wire = head + Chunked(Compress(page), 1'000);
  TestServer server = RawServer(wire);
  const FetchResult result =
      FetchOne(OptionsFor({server.connect_to()}), Capture("http://site.test/page"));
  ASSERT_TRUE(result.ok()) << result.error_text;
  EXPECT_EQ(result.body, page);
  EXPECT_EQ(result.raw_response, wire) << "not byte for byte what the server wrote";
  EXPECT_EQ(result.truncated, WarcTruncation::kNone);
}

TEST(FetchCapture, ContentLengthResponseIsKeptAsSent) {
  const std::string wire =
      "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 20\r\n"
      "X-Odd-Case: kept AS is  \r\n\r\n<title>plain</title>";
  TestServer server = RawServer(wire);
  const FetchResult result =
      FetchOne(OptionsFor({server.connect_to()}), Capture("http://site.test/"));
  ASSERT_TRUE(result.ok()) << result.error_text;
  EXPECT_EQ(result.body, "<title>plain</title>");
  EXPECT_EQ(result.raw_response, wire);
}

TEST(FetchCapture, RequestIsKeptAsSent) {
  TestServer server([](const std::string&, const std::string&) {
    return Reply(200, "text/html", "<title>ok</title>");
  });
  FetchOptions options = OptionsFor({server.connect_to()});
  options.headers = {"X-Crawl: mirrorwatch"};
  FetchRequest request = Capture("http://site.test/path?q=1");
  request.headers = {"If-None-Match: \"v1\""};
  const FetchResult result = FetchOne(options, request);
  ASSERT_TRUE(result.ok()) << result.error_text;
  const std::string& sent = result.raw_request;
  EXPECT_EQ(sent.rfind("GET /path?q=1 HTTP/1.1\r\n", 0), 0u) << sent;
  for (const char* line : {"\r\nHost: site.test\r\n", "\r\nUser-Agent: mw-test/1\r\n",
                           "\r\nAccept-Encoding: gzip, deflate\r\n", "\r\nX-Crawl: mirrorwatch\r\n",
                           "\r\nIf-None-Match: \"v1\"\r\n"}) {
    EXPECT_NE(sent.find(line), std::string::npos) << "no " << line << " in\n" << sent;
  }
  EXPECT_EQ(sent.substr(sent.size() - 4), "\r\n\r\n");
  EXPECT_EQ(result.raw_response.rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
  EXPECT_GT(result.sent_at.time_since_epoch().count(), 0);
}

TEST(FetchCapture, NothingIsKeptWithoutCapture) {
  TestServer server([](const std::string&, const std::string&) {
    return Reply(200, "text/html", "<title>ok</title>");
  });
  FetchRequest request;
  request.url = "http://site.test/";
  const FetchResult result = FetchOne(OptionsFor({server.connect_to()}), request);
  ASSERT_TRUE(result.ok()) << result.error_text;
  EXPECT_EQ(result.body, "<title>ok</title>");
  EXPECT_EQ(result.raw_request, "");
  EXPECT_EQ(result.raw_response, "");
}

TEST(FetchCapture, FollowedRedirectKeepsOnlyTheLastExchange) {
  TestServer server([](const std::string&, const std::string& target) -> Reply {
    if (target == "/old") return {302, "text/html", "moved", {{"Location", "/new"}}};
    return {200, "text/html", "<title>landed</title>"};
  });
  FetchRequest request = Capture("http://site.test/old");
  request.follow_redirects = true;
  const FetchResult result = FetchOne(OptionsFor({server.connect_to()}), request);
  ASSERT_TRUE(result.ok()) << result.error_text;
  EXPECT_EQ(result.redirects, 1);
  EXPECT_EQ(result.raw_request.rfind("GET /new HTTP/1.1\r\n", 0), 0u) << result.raw_request;
  EXPECT_EQ(result.raw_request.find("/old"), std::string::npos);
  EXPECT_EQ(result.raw_response.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << result.raw_response;
  EXPECT_EQ(result.raw_response.find("302"), std::string::npos);
  EXPECT_EQ(result.raw_response.find("moved"), std::string::npos);
  EXPECT_EQ(result.raw_response.substr(result.raw_response.size() - 21), "<title>landed</title>");
}

TEST(FetchCapture, InterimResponseIsDropped) {
  const std::string final_response = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";
  TestServer server = RawServer("HTTP/1.1 100 Continue\r\n\r\n" + final_response);
  const FetchResult result =
      FetchOne(OptionsFor({server.connect_to()}), Capture("http://site.test/"));
  ASSERT_TRUE(result.ok()) << result.error_text;
  EXPECT_EQ(result.raw_response, final_response);
}

// ---- bodies cut short: what the WARC record says about it ----

TEST(FetchCapture, CutBodiesAreMarkedTruncated) {
  Reply dribble(200, "text/html", std::string(1'000, 'd'));
  dribble.drip = milliseconds(20);  // 20 s for the body, against a 400 ms timeout
  Reply cut(200, "text/html", std::string(10'000, 'c'));
  cut.cut_after = 100;  // Content-Length announces 10,000
  const std::string chunk_head =
      "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n";
  struct Case {
    const char* name;
    Reply reply;
    FetchError error;
    WarcTruncation truncated;
    std::size_t max_raw;  // the most raw_response may hold
  } cases[] = {
      // No Content-Length, so only the decoded body can meet max_body (64 KiB).
      {"max_body", Reply::Raw(chunk_head + Chunked(std::string(1 << 20, 'm'), 4'096)),
       FetchError::kTooLarge, WarcTruncation::kLength, (64 << 10) + 16'384 + 1'024},
      {"timeout", dribble, FetchError::kTimeout, WarcTruncation::kTime, 1'200},
      {"disconnect", cut, FetchError::kProtocol, WarcTruncation::kDisconnect, 300},
      {"broken framing", Reply::Raw(chunk_head + "5\r\nhello\r\nnot-hex\r\n"),
       FetchError::kProtocol, WarcTruncation::kUnspecified, 200},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    TestServer server([&c](const std::string&, const std::string&) { return c.reply; });
    FetchOptions options = OptionsFor({server.connect_to()});
    options.timeout_ms = 400;
    options.max_body = 64 << 10;
    const FetchResult result = FetchOne(options, Capture("http://site.test/"));
    EXPECT_EQ(result.error, c.error) << result.error_text;
    EXPECT_EQ(result.truncated, c.truncated);
    EXPECT_EQ(result.raw_response.rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
    EXPECT_LE(result.raw_response.size(), c.max_raw);
    EXPECT_LT(result.raw_response.find("\r\n\r\n") + 4, result.raw_response.size())
        << "no body bytes kept";
    EXPECT_EQ(result.body, "");
  }
}

TEST(FetchCapture, GzipBombStopsAtDecodedLimit) {
  const std::string bomb = Compress(std::string(64 << 20, '\0'));
  ASSERT_LT(bomb.size(), 200'000u);
  TestServer server([&bomb](const std::string&, const std::string&) {
    return Reply(200, "text/html", bomb, {{"Content-Encoding", "gzip"}});
  });
  FetchOptions options = OptionsFor({server.connect_to()});
  options.max_body = 1 << 20;
  const FetchResult result = FetchOne(options, Capture("http://site.test/bomb"));
  EXPECT_EQ(result.error, FetchError::kTooLarge) << result.error_text;
  EXPECT_EQ(result.truncated, WarcTruncation::kLength);
  EXPECT_LT(result.raw_response.size(), bomb.size() + 1'000);
}

TEST(FetchCapture, ChunkFloodStopsAtWireLimit) {
  // One-byte chunks: six bytes on the wire for each byte of body.
  std::string wire =
      "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 100'000; ++i) wire += "1\r\nx\r\n";
  TestServer server = RawServer(wire + "0\r\n\r\n");
  FetchOptions options = OptionsFor({server.connect_to()});
  options.max_body = 64 << 10;  // 100,000 body bytes would pass it; 600,000 on the wire do not
  const FetchResult result = FetchOne(options, Capture("http://site.test/"));
  EXPECT_EQ(result.error, FetchError::kTooLarge) << result.error_text;
  EXPECT_NE(result.error_text.find("wire"), std::string::npos) << result.error_text;
  EXPECT_EQ(result.truncated, WarcTruncation::kLength);
  EXPECT_LT(result.raw_response.size(), 3u * (64 << 10));
}

// ---- decoding ----

TEST(FetchCapture, BodiesAreDecoded) {
  const std::string page = Page(300);
  struct Case {
    const char* name;
    std::string headers;  // extra header lines
    std::string body;     // as sent
  } cases[] = {
      {"identity", "", page},
      {"gzip", "Content-Encoding: gzip\r\n", Compress(page)},
      {"x-gzip", "Content-Encoding: x-gzip\r\n", Compress(page)},
      {"GZIP in capitals", "Content-Encoding: GZIP\r\n", Compress(page)},
      {"zlib-wrapped deflate", "Content-Encoding: deflate\r\n", Compress(page, 15)},
      {"raw deflate (a broken server)", "Content-Encoding: deflate\r\n", Compress(page, -15)},
      {"identity named", "Content-Encoding: identity\r\n", page},
      {"identity then gzip", "Content-Encoding: identity, gzip\r\n", Compress(page)},
      {"gzip as a transfer coding", "Transfer-Encoding: gzip, chunked\r\n",
       Chunked(Compress(page), 700)},
      {"chunked, tiny chunks", "Transfer-Encoding: chunked\r\n", Chunked(page, 1)},
      {"chunked with extensions, trailer and bare LFs", "Transfer-Encoding: chunked\r\n",
       "10;name=value\r\n" + page.substr(0, 16) + "\r\n" +
           [&] {
             char size[16];
             std::snprintf(size, sizeof size, "%zX \n", page.size() - 16);
             return std::string(size);
           }() +
           page.substr(16) + "\n0\r\nX-Trailer: yes\r\n\r\n"},
      {"chunked gzip, uneven chunks", "Transfer-Encoding: chunked\r\nContent-Encoding: gzip\r\n",
       Chunked(Compress(page), 3)},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::string wire = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n" + c.headers;
    if (c.headers.find("Transfer-Encoding") == std::string::npos) {
      wire += "Content-Length: " + std::to_string(c.body.size()) + "\r\n";
    }
    wire += "\r\n" + c.body;
    TestServer server = RawServer(wire);
    const FetchResult result =
        FetchOne(OptionsFor({server.connect_to()}), Capture("http://site.test/"));
    ASSERT_TRUE(result.ok()) << result.error_text;
    EXPECT_EQ(result.body, page);
    EXPECT_EQ(result.raw_response, wire);
  }
}

TEST(FetchCapture, UndecodableBodiesAreProtocolErrors) {
  const std::string gzip = Compress(Page(50));
  std::string corrupt = gzip;
  corrupt[20] = static_cast<char>(corrupt[20] ^ 0x5a);
  corrupt[21] = static_cast<char>(corrupt[21] ^ 0x33);
  struct Case {
    const char* name;
    std::string headers;
    std::string body;
    const char* error;  // expected in error_text
  } cases[] = {
      {"brotli, which we never offered", "Content-Encoding: br\r\n", "\x1b\x03\x00", "br"},
      {"zstd", "Content-Encoding: zstd\r\n", "(\xb5/\xfd", "zstd"},
      {"two codings", "Content-Encoding: gzip, gzip\r\n", gzip, "gzip, gzip"},
      {"corrupt gzip", "Content-Encoding: gzip\r\n", corrupt, "compressed"},
      {"not gzip at all", "Content-Encoding: gzip\r\n", "<html>plain</html>", "compressed"},
      {"chunked not last", "Transfer-Encoding: chunked, gzip\r\nContent-Length: 3\r\n", "abc",
       "chunked"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::string wire = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n" + c.headers;
    if (c.headers.find("Content-Length") == std::string::npos) {
      wire += "Content-Length: " + std::to_string(c.body.size()) + "\r\n";
    }
    wire += "\r\n" + c.body;
    TestServer server = RawServer(wire);
    const FetchResult result =
        FetchOne(OptionsFor({server.connect_to()}), Capture("http://site.test/"));
    EXPECT_EQ(result.error, FetchError::kProtocol) << result.error_text;
    EXPECT_NE(result.error_text.find(c.error), std::string::npos) << result.error_text;
    EXPECT_EQ(result.body, "");
    EXPECT_EQ(result.raw_response.rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
  }
}

TEST(FetchCapture, BrokenChunkFramingIsAProtocolError) {
  struct Case {
    const char* name;
    const char* body;
  } cases[] = {
      {"size not hex", "zz\r\nhello\r\n0\r\n\r\n"},
      {"no size", "\r\nhello\r\n0\r\n\r\n"},
      {"junk after the size", "5x\r\nhello\r\n0\r\n\r\n"},
      {"data longer than its size", "3\r\nhello\r\n0\r\n\r\n"},
      {"CR without LF", "5\rhello\r\n0\r\n\r\n"},
      {"size over 16 digits", "00000000000000005\r\nhello\r\n0\r\n\r\n"},
      {"cut before the last chunk", "5\r\nhello\r\n"},
      {"cut after the last chunk's size line", "5\r\nhello\r\n0\r\n"},
      {"cut inside the trailer", "5\r\nhello\r\n0\r\nX-Trailer: y"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    TestServer server = RawServer(
        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n" +
        std::string(c.body));
    const FetchResult result =
        FetchOne(OptionsFor({server.connect_to()}), Capture("http://site.test/"));
    EXPECT_EQ(result.error, FetchError::kProtocol) << result.error_text;
    EXPECT_EQ(result.body, "");
    EXPECT_NE(result.truncated, WarcTruncation::kNone);
  }
}

// ---- validators and conditional requests ----

TEST(FetchCapture, ValidatorsComeFromTheLastResponse) {
  TestServer server([](const std::string&, const std::string& target) -> Reply {
    if (target == "/old") {
      return {301,
              "text/html",
              "",
              {{"Location", "/new"}, {"Server", "redirector"}, {"ETag", "\"old\""}}};
    }
    return {200,
            "text/html",
            "<title>new</title>",
            {{"server", "origin/2.4"},
             {"etag", "W/\"abc\""},
             {"last-modified", "Tue, 01 Apr 2025 10:00:00 GMT"}}};
  });
  FetchRequest request;
  request.url = "http://site.test/old";
  request.follow_redirects = true;
  const FetchResult result = FetchOne(OptionsFor({server.connect_to()}), request);
  ASSERT_TRUE(result.ok()) << result.error_text;
  EXPECT_EQ(result.server, "origin/2.4");
  EXPECT_EQ(result.etag, "W/\"abc\"");
  EXPECT_EQ(result.last_modified, "Tue, 01 Apr 2025 10:00:00 GMT");
}

TEST(FetchCapture, NotModifiedIsANormalResult) {
  TestServer server(TestServer::HeadersHandler(
      [](const std::string&, const std::string&, const http::fields& headers) -> Reply {
        if (headers["If-None-Match"] == "\"v1\"")
          return {304, "text/html", "", {{"ETag", "\"v1\""}}};
        return {200, "text/html", "<title>v1</title>", {{"ETag", "\"v1\""}}};
      }));
  FetchRequest request = Capture("http://site.test/page");
  request.headers = {"If-None-Match: \"v1\""};
  const FetchResult result = FetchOne(OptionsFor({server.connect_to()}), request);
  ASSERT_TRUE(result.ok()) << result.error_text;
  EXPECT_EQ(result.status, 304);
  EXPECT_EQ(result.body, "");
  EXPECT_EQ(result.etag, "\"v1\"");
  EXPECT_EQ(result.raw_response.rfind("HTTP/1.1 304 Not Modified\r\n", 0), 0u);
}

// ---- the send time ----

TEST(FetchCapture, OnSentIsPostedOnceForTheFirstRequest) {
  TestServer server([](const std::string&, const std::string& target) -> Reply {
    if (target == "/a") return {302, "text/html", "", {{"Location", "/b"}}};
    return {200, "text/html", "<title>b</title>"};
  });
  asio::io_context io;
  FetchPool pool(io, OptionsFor({server.connect_to()}));
  std::vector<Clock::time_point> sent;
  bool done = false;
  FetchRequest request;
  request.url = "http://site.test/a";
  request.follow_redirects = true;
  request.on_sent = [&](Clock::time_point at) {
    EXPECT_FALSE(done) << "on_sent came after the result";
    sent.push_back(at);
  };
  const Clock::time_point start = Clock::now();
  pool.Fetch(request, [&](FetchResult result) {
    EXPECT_TRUE(result.ok()) << result.error_text;
    EXPECT_TRUE(sent.size() == 1) << "not posted before the result";
    done = true;
    io.stop();
  });
  EXPECT_TRUE(sent.empty()) << "called inside Fetch()";
  io.run();
  ASSERT_EQ(sent.size(), 1u);
  const auto arrivals = server.arrivals()["site.test"];
  ASSERT_EQ(arrivals.size(), 2u);
  EXPECT_GE(sent[0], start);
  EXPECT_LE(sent[0], arrivals[0]) << "the time of the first request, not the redirect's";
}

// ---- TLS ----

struct TestCertificate {
  std::string cert_pem;
  std::string key_pem;
  std::string sha256;  // lower-case hex of the DER's SHA-256
};

// A self-signed P-256 certificate for `common_name`, valid for a day, with `sans`
// ("DNS:tls.test,DNS:www.tls.test") as its subject alternative names.
TestCertificate SelfSigned(const std::string& common_name, const std::string& sans) {
  TestCertificate out;
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 4242);
  X509_gmtime_adj(X509_getm_notBefore(cert), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert), 24 * 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1,
                             0);
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("Mirror Test"), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  X509V3_CTX context;
  X509V3_set_ctx_nodb(&context);
  X509V3_set_ctx(&context, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* extension =
      X509V3_EXT_conf_nid(nullptr, &context, NID_subject_alt_name, sans.c_str());
  X509_add_ext(cert, extension, -1);
  X509_EXTENSION_free(extension);
  X509_sign(cert, key, EVP_sha256());
  auto pem = [](auto write) {
    BIO* bio = BIO_new(BIO_s_mem());
    write(bio);
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio, &data);
    std::string text(data, static_cast<std::size_t>(size));
    BIO_free(bio);
    return text;
  };
  out.cert_pem = pem([cert](BIO* bio) { PEM_write_bio_X509(bio, cert); });
  out.key_pem = pem([key](BIO* bio) {
    PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  });
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  X509_digest(cert, EVP_sha256(), digest, &size);
  for (unsigned int i = 0; i < size; ++i) {
    char hex[3];
    std::snprintf(hex, sizeof hex, "%02x", digest[i]);
    out.sha256 += hex;
  }
  X509_free(cert);
  EVP_PKEY_free(key);
  return out;
}

// An HTTPS/1.1 server on 127.0.0.1 (Beast over asio::ssl), a thread per connection,
// keep-alive. `handshake_delay` holds each connection before its TLS handshake.
class TlsServer {
 public:
  using Handler = std::function<Reply(const std::string& target)>;

  TlsServer(const TestCertificate& certificate, Handler handler, milliseconds handshake_delay = {})
      : handler_(std::move(handler)),
        handshake_delay_(handshake_delay),
        context_(asio::ssl::context::tls_server),
        acceptor_(io_) {
    context_.use_certificate_chain(asio::buffer(certificate.cert_pem));
    context_.use_private_key(asio::buffer(certificate.key_pem), asio::ssl::context::pem);
    asio::ip::tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(endpoint.protocol());
    acceptor_.bind(endpoint);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    accept_thread_ = std::thread([this] { AcceptLoop(); });
  }

  ~TlsServer() {
    stopping_ = true;
    boost::system::error_code ec;
    {
      asio::io_context io;  // a connection wakes the blocking accept()
      asio::ip::tcp::socket wake(io);
      wake.connect(acceptor_.local_endpoint(), ec);
      accept_thread_.join();
    }
    std::vector<std::thread> threads;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (auto& socket : sockets_) socket->shutdown(asio::socket_base::shutdown_both, ec);
      threads.swap(threads_);
    }
    for (auto& thread : threads) thread.join();
  }

  // A --connect-to entry sending `host`:443 here.
  std::string connect_to(const std::string& host) const {
    return host + ":443:127.0.0.1:" + std::to_string(port_);
  }
  int connections() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return static_cast<int>(sockets_.size());
  }

 private:
  void AcceptLoop() {
    for (;;) {
      auto socket = std::make_shared<asio::ip::tcp::socket>(io_);
      boost::system::error_code ec;
      acceptor_.accept(*socket, ec);
      if (stopping_) return;
      if (ec) continue;
      std::lock_guard<std::mutex> lock(mutex_);
      sockets_.push_back(socket);
      threads_.emplace_back([this, socket] { Serve(*socket); });
    }
  }

  void Serve(asio::ip::tcp::socket& socket) {
    std::this_thread::sleep_for(handshake_delay_);
    asio::ssl::stream<asio::ip::tcp::socket&> stream(socket, context_);
    boost::system::error_code ec;
    stream.handshake(asio::ssl::stream_base::server, ec);
    boost::beast::flat_buffer buffer;
    while (!ec) {
      http::request<http::string_body> request;
      http::read(stream, buffer, request, ec);
      if (ec) break;
      Reply reply = handler_(std::string(request.target()));
      http::response<http::string_body> response(static_cast<http::status>(reply.status), 11);
      response.set(http::field::content_type, reply.content_type);
      for (auto& [name, value] : reply.headers) response.set(name, value);
      response.body() = reply.body;
      response.keep_alive(request.keep_alive());
      response.prepare_payload();
      http::write(stream, response, ec);
    }
    // No TLS shutdown: it would wait for the client's close_notify.
    socket.shutdown(asio::socket_base::shutdown_both, ec);
  }

  Handler handler_;
  milliseconds handshake_delay_;
  asio::io_context io_;
  asio::ssl::context context_;
  asio::ip::tcp::acceptor acceptor_;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread accept_thread_;
  mutable std::mutex mutex_;
  std::vector<std::shared_ptr<asio::ip::tcp::socket>> sockets_;
  std::vector<std::thread> threads_;
};

FetchOptions TlsOptions(std::vector<std::string> connect_to) {
  FetchOptions options = OptionsFor(std::move(connect_to));
  options.insecure = true;  // self-signed
  return options;
}

TEST(FetchCapture, TlsLeafCertificateIsDescribed) {
  const TestCertificate certificate =
      SelfSigned("tls.test", "DNS:tls.test,DNS:www.tls.test,IP:127.0.0.1");
  TlsServer server(certificate, [](const std::string&) {
    return Reply(200, "text/html", "<title>secure</title>");
  });
  // The second fetch reuses the connection: curl has no certificate to report for it.
  const std::vector<FetchResult> results =
      FetchInTurn(TlsOptions({server.connect_to("tls.test")}),
                  {Capture("https://tls.test/"), Capture("https://tls.test/again")});
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(server.connections(), 1) << "the connection was not reused";
  for (const FetchResult& result : results) {
    SCOPED_TRACE(result.url);
    ASSERT_TRUE(result.ok()) << result.error_text;
    EXPECT_EQ(result.body, "<title>secure</title>");
    const std::string request_line = result.raw_request.substr(0, result.raw_request.find('\r'));
    EXPECT_TRUE(request_line.ends_with(" HTTP/1.1")) << request_line;
    EXPECT_EQ(result.raw_response.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << "not HTTP/1.1";
    ASSERT_FALSE(result.cert_json.empty());
    const nlohmann::json cert = nlohmann::json::parse(result.cert_json);
    EXPECT_NE(cert["subject"].get<std::string>().find("CN = tls.test"), std::string::npos)
        << cert.dump();
    EXPECT_NE(cert["issuer"].get<std::string>().find("O = Mirror Test"), std::string::npos);
    EXPECT_EQ(cert["sans"],
              nlohmann::json({"DNS:tls.test", "DNS:www.tls.test", "IP Address:127.0.0.1"}));
    EXPECT_EQ(cert["sha256"], certificate.sha256);
    EXPECT_EQ(cert["not_before"].get<std::string>().size(), 20u) << cert.dump();  // ISO 8601
    EXPECT_EQ(cert["not_after"].get<std::string>().back(), 'Z');
  }
}

TEST(FetchCapture, CertificateIsThatOfTheLastRequestsConnection) {
  // a.test -> b.test -> a.test again, on the connection the first request opened: curl's
  // CERTINFO still holds b.test's certificate then.
  const TestCertificate a = SelfSigned("a.test", "DNS:a.test");
  const TestCertificate b = SelfSigned("b.test", "DNS:b.test");
  TlsServer server_a(a, [](const std::string& target) -> Reply {
    if (target == "/") return {302, "text/html", "", {{"Location", "https://b.test/"}}};
    return {200, "text/html", "<title>back on a</title>"};
  });
  TlsServer server_b(b, [](const std::string&) -> Reply {
    return {302, "text/html", "", {{"Location", "https://a.test/final"}}};
  });
  FetchRequest request = Capture("https://a.test/");
  request.follow_redirects = true;
  const FetchResult result =
      FetchOne(TlsOptions({server_a.connect_to("a.test"), server_b.connect_to("b.test")}), request);
  ASSERT_TRUE(result.ok()) << result.error_text;
  EXPECT_EQ(result.final_url, "https://a.test/final");
  EXPECT_EQ(server_a.connections(), 1) << "the first connection was not reused";
  ASSERT_FALSE(result.cert_json.empty());
  EXPECT_EQ(nlohmann::json::parse(result.cert_json)["sha256"], a.sha256);
}

TEST(FetchCapture, NoCertificateOverPlainHttp) {
  TestServer server([](const std::string&, const std::string&) {
    return Reply(200, "text/html", "<title>plain</title>");
  });
  const FetchResult result =
      FetchOne(OptionsFor({server.connect_to()}), Capture("http://site.test/"));
  ASSERT_TRUE(result.ok()) << result.error_text;
  EXPECT_EQ(result.cert_json, "");
}

TEST(FetchCapture, OnSentComesAfterTheTlsHandshake) {
  const TestCertificate certificate = SelfSigned("tls.test", "DNS:tls.test");
  TlsServer server(
      certificate, [](const std::string&) { return Reply(200, "text/html", "<title>ok</title>"); },
      milliseconds(300));
  asio::io_context io;
  FetchPool pool(io, TlsOptions({server.connect_to("tls.test")}));
  Clock::time_point sent{};
  FetchRequest request;
  request.url = "https://tls.test/";
  request.on_sent = [&](Clock::time_point at) { sent = at; };
  const Clock::time_point start = Clock::now();
  pool.Fetch(request, [&](FetchResult result) {
    EXPECT_TRUE(result.ok()) << result.error_text;
    io.stop();
  });
  io.run();
  EXPECT_GE(sent - start, milliseconds(300)) << "on_sent before the connection was set up";
}

}  // namespace
}  // namespace mw
