// Hostile servers against the crawl: one test per hostility, each proving the limit that
// stops it. Every test runs a real crawl (RunCrawl) against an in-process server on loopback
// and reads the verdict from pages.jsonl.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "crawler/crawl.h"
#include "tests/crawler/crawl_fixture.h"
#include "tests/crawler/test_server.h"
#include "tests/crawler/zlib_util.h"

namespace mw {
namespace {

using testing::GzipOfZeros;

using testing::Reply;
using testing::TestServer;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using namespace std::string_literals;

constexpr std::int64_t kMiB = 1 << 20;


class FetchLimits : public testing::CrawlFixture {
 protected:
  // Small limits, so a hostile server costs a test well under a second; no retries, so each
  // URL has exactly one line.
  CrawlOptions Options(const TestServer& server) const { return Options(server.connect_to()); }
  CrawlOptions Options(const std::string& connect_to) const {
    CrawlOptions options = BaseOptions(connect_to);
    options.connect_timeout_ms = 1'000;
    options.timeout_ms = 2'000;
    options.retries = 0;
    return options;
  }

  // Crawls http://site.test/, whose home page links to /hostile (answered by `hostile`) and to
  // a good /sibling; `tune` adjusts the options. Checks that the crawl went on to the sibling
  // and returns the hostile URL's pages.jsonl line.
  nlohmann::json CrawlPastHostile(Reply hostile,
                                  const std::function<void(CrawlOptions&)>& tune = {},
                                  CrawlSummary* summary = nullptr);
  // The same against a server already running, reached through `connect_to`.
  nlohmann::json CrawlPastHostileAt(const std::string& connect_to,
                                    const std::function<void(CrawlOptions&)>& tune = {},
                                    CrawlSummary* summary = nullptr);

};

// A home page linking to one hostile URL and one good sibling; `hostile` answers the former.
TestServer::Handler HostileAndSibling(Reply hostile) {
  return [hostile](const std::string&, const std::string& target) -> Reply {
    if (target == "/") {
      return {200, "text/html", "<a href='/hostile'>bad</a> <a href='/sibling'>good</a>"};
    }
    if (target == "/hostile") return hostile;
    if (target == "/sibling") return {200, "text/html", "<title>still crawling</title>"};
    return {404, "text/html", "not found"};
  };
}

constexpr char kHostile[] = "http://site.test/hostile";
constexpr char kSibling[] = "http://site.test/sibling";

nlohmann::json FetchLimits::CrawlPastHostile(Reply hostile,
                                             const std::function<void(CrawlOptions&)>& tune,
                                             CrawlSummary* summary) {
  TestServer server(HostileAndSibling(std::move(hostile)));
  return CrawlPastHostileAt(server.connect_to(), tune, summary);
}

nlohmann::json FetchLimits::CrawlPastHostileAt(const std::string& connect_to,
                                               const std::function<void(CrawlOptions&)>& tune,
                                               CrawlSummary* summary) {
  CrawlOptions options = Options(connect_to);
  options.seeds = {"http://site.test/"};
  if (tune) tune(options);
  CrawlSummary ignored;
  EXPECT_EQ(RunCrawl(options, *signatures_, summary ? summary : &ignored), "");
  auto pages = Pages();
  EXPECT_EQ(pages["http://site.test/"]["status"], 200);
  EXPECT_EQ(pages[kSibling]["status"], 200) << "the crawl did not go on past the hostile page";
  EXPECT_TRUE(pages.count(kHostile)) << "the hostile page has no line";
  return pages[kHostile];
}

// ---- size and speed limits ----

TEST_F(FetchLimits, GzipBombStopsAtDecodedLimit) {
  const std::string bomb = GzipOfZeros(64 * kMiB);
  ASSERT_LT(bomb.size(), 200'000u) << "the bomb must be small on the wire";
  CrawlSummary summary;
  const auto page = CrawlPastHostile(
      Reply(200, "text/html", bomb, {{"Content-Encoding", "gzip"}}),
      [](CrawlOptions& options) { options.max_body = kMiB; }, &summary);
  EXPECT_EQ(page["error_kind"], "too_large") << page.dump();
  EXPECT_LE(page["bytes"].get<std::int64_t>(), kMiB);
  EXPECT_LE(summary.bytes, kMiB) << "the bomb was inflated past the limit";
}

TEST_F(FetchLimits, SlowDripIsCutOff) {
  Reply drip(200, "text/html", std::string(1024, 'x'));
  drip.drip = milliseconds(300);  // the whole body would take five minutes
  const auto start = Clock::now();
  const auto page = CrawlPastHostile(drip, [](CrawlOptions& options) {
    options.timeout_ms = 20'000;  // the low-speed limit, not the total timeout, must cut it
    options.low_speed_bytes = 100;
    options.low_speed_s = 1;
  });
  EXPECT_LT(Clock::now() - start, milliseconds(3'000));
  // curl reports the low-speed limit as CURLE_OPERATION_TIMEDOUT.
  EXPECT_EQ(page["error_kind"], "timeout") << page.dump();
  EXPECT_LT(page["seconds"].get<double>(), 3.0);
}

TEST_F(FetchLimits, StalledServerHitsTotalTimeout) {
  Reply stall(200, "text/html", "<title>too late</title>");
  stall.stall = milliseconds(2'000);  // four times the timeout; the server joins it on exit
  const auto page =
      CrawlPastHostile(stall, [](CrawlOptions& options) { options.timeout_ms = 500; });
  EXPECT_EQ(page["error_kind"], "timeout") << page.dump();
  EXPECT_EQ(page["note"], "retries exhausted");
  EXPECT_LT(page["seconds"].get<double>(), 1.5);
}

// ---- broken HTTP ----

TEST_F(FetchLimits, ConnectionCutMidBody) {
  Reply cut(200, "text/html", std::string(10'000, 'x'));
  cut.cut_after = 100;  // Content-Length still says 10000
  const auto page = CrawlPastHostile(cut);
  EXPECT_EQ(page["error_kind"], "protocol") << page.dump();
  EXPECT_EQ(page["bytes"], 0) << "a partial body is not parsed";
}

TEST_F(FetchLimits, MalformedStatusLine) {
  const auto page =
      CrawlPastHostile(Reply::Raw("HTTP/1.1 two-hundred OK\r\nContent-Length: 2\r\n\r\nhi"));
  EXPECT_TRUE(page["error"].is_string()) << page.dump();
  EXPECT_EQ(page["error_kind"], "protocol") << page.dump();
}

TEST_F(FetchLimits, BrokenChunkedEncoding) {
  const auto page = CrawlPastHostile(
      Reply::Raw("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n"
                 "5\r\nhello\r\nzz-not-hex\r\n"));
  EXPECT_TRUE(page["error"].is_string()) << page.dump();
  EXPECT_EQ(page["error_kind"], "protocol") << page.dump();
}

TEST_F(FetchLimits, BinaryGarbageInsteadOfHttp) {
  std::string garbage;
  for (int i = 0; i < 4'096; ++i) garbage += static_cast<char>((i * 131 + 7) % 256);
  const auto page = CrawlPastHostile(Reply::Raw(garbage));
  EXPECT_TRUE(page["error"].is_string()) << page.dump();
  EXPECT_EQ(page["error_kind"], "protocol") << page.dump();
}

TEST_F(FetchLimits, HugeResponseHeaders) {
  std::string raw = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n";
  for (int i = 0; i < 1'000; ++i) {  // 1 MB of header lines, over curl's 300 KB in total
    raw += "X-Padding-" + std::to_string(i) + ": " + std::string(1'000, 'p') + "\r\n";
  }
  raw += "Content-Length: 5\r\n\r\nhello";
  const auto page = CrawlPastHostile(Reply::Raw(raw));
  EXPECT_TRUE(page["error"].is_string()) << page.dump();
  EXPECT_EQ(page["error_kind"], "protocol") << page.dump();
}

TEST_F(FetchLimits, OneHugeResponseHeader) {
  // A single 200 KB header line, over curl's 100 KB per header.
  const std::string raw =
      "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-Padding: " + std::string(200'000, 'p') +
      "\r\nContent-Length: 5\r\n\r\nhello";
  const auto page = CrawlPastHostile(Reply::Raw(raw));
  EXPECT_TRUE(page["error"].is_string()) << page.dump();
  EXPECT_EQ(page["error_kind"], "protocol") << page.dump();
}

// ---- bodies that lie about what they are ----

TEST_F(FetchLimits, ImageLabelledAsHtml) {
  std::string png =
      "\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89"s;
  for (int i = 0; i < 2'000; ++i) png += static_cast<char>((i * 37) % 256);
  CrawlSummary summary;
  const auto page = CrawlPastHostile(Reply(200, "text/html", png), {}, &summary);
  EXPECT_EQ(page["status"], 200);
  EXPECT_TRUE(page["error"].is_null()) << page.dump();
  EXPECT_EQ(page["bytes"], png.size());
  EXPECT_EQ(summary.html_pages, 3) << "home, the image and the sibling were all parsed";
}

TEST_F(FetchLimits, NulBytesAndInvalidUtf8InHtml) {
  const std::string hostile =
      "<html><head><title>Nul\0here \xff\xfe\xc3(</title></head><body>\0\0\0"
      "<p>\xed\xa0\x80 surrogate \xf8\x88\x80\x80\x80 overlong</p>"
      "<a href='/after-\0-nul'>x</a><a href='/after'>next</a></body></html>"s;
  TestServer server([&hostile](const std::string&, const std::string& target) -> Reply {
    if (target == "/") return {200, "text/html; charset=utf-8", hostile};
    if (target == "/after") return {200, "text/html", "<title>after</title>"};
    return {404, "text/html", "not found"};
  });
  CrawlOptions options = Options(server);
  options.seeds = {"http://site.test/"};
  CrawlSummary summary;
  ASSERT_EQ(RunCrawl(options, *signatures_, &summary), "");
  auto pages = Pages();
  ASSERT_TRUE(pages.count("http://site.test/"));
  EXPECT_EQ(pages["http://site.test/"]["status"], 200);
  EXPECT_TRUE(pages["http://site.test/"]["error"].is_null());
  ASSERT_TRUE(pages.count("http://site.test/after")) << "links after the NULs were not found";
  EXPECT_EQ(pages["http://site.test/after"]["status"], 200);
}

TEST_F(FetchLimits, NonHtmlStopsAtHeaders) {
  CrawlSummary summary;
  const auto page =
      CrawlPastHostile(Reply(200, "image/png", std::string(5 * kMiB, '\x89')), {}, &summary);
  EXPECT_EQ(page["error_kind"], "not_html") << page.dump();
  EXPECT_EQ(page["bytes"], 0);
  EXPECT_EQ(page["content_type"], "image/png");
  EXPECT_LT(summary.bytes, kMiB) << "the image body was kept";
}

// ---- redirects ----

TEST_F(FetchLimits, RedirectLeavingScopeIsNotFollowed) {
  TestServer server([](const std::string& host, const std::string&) -> Reply {
    if (host == "home.test") {
      return {302, "text/html", "", {{"Location", "http://away.test/landing"}}};
    }
    return {200, "text/html", "<title>away</title>"};
  });
  CrawlOptions options = Options(server);
  options.seeds = {"http://home.test/"};
  options.scope = "same-host";
  CrawlSummary summary;
  ASSERT_EQ(RunCrawl(options, *signatures_, &summary), "");
  auto pages = Pages();
  ASSERT_TRUE(pages.count("http://home.test/"));
  EXPECT_EQ(pages["http://home.test/"]["status"], 302);
  EXPECT_EQ(pages["http://home.test/"]["error_kind"], "redirect_refused");
  EXPECT_EQ(pages["http://home.test/"]["redirect_to"], "http://away.test/landing");
  EXPECT_EQ(pages.count("http://away.test/landing"), 0u);
  EXPECT_EQ(server.requests().count("away.test/landing"), 0u);
  EXPECT_EQ(server.arrivals().count("away.test"), 0u) << "the other host was contacted";
}

TEST_F(FetchLimits, RedirectToFileSchemeIsRefused) {
  TestServer server([](const std::string&, const std::string&) -> Reply {
    return {302, "text/html", "", {{"Location", "file:///etc/passwd"}}};
  });
  CrawlOptions options = Options(server);
  options.seeds = {"http://site.test/"};
  CrawlSummary summary;
  ASSERT_EQ(RunCrawl(options, *signatures_, &summary), "");
  auto lines = Lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["url"], "http://site.test/");
  EXPECT_EQ(lines[0]["status"], 302);
  EXPECT_EQ(lines[0]["error_kind"], "redirect_refused") << lines[0].dump();
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST_F(FetchLimits, RedirectChainStopsAtMaxRedirects) {
  // /r1 -> /r2 -> /r3 -> ... every hop a new URL, so only the hop count can end it.
  TestServer server([](const std::string&, const std::string& target) -> Reply {
    int n = 0;
    if (std::sscanf(target.c_str(), "/r%d", &n) != 1) return {404, "text/html", ""};
    return {302, "text/html", "", {{"Location", "/r" + std::to_string(n + 1)}}};
  });
  CrawlOptions options = Options(server);
  options.seeds = {"http://site.test/r1"};
  options.max_redirects = 3;
  CrawlSummary summary;
  ASSERT_EQ(RunCrawl(options, *signatures_, &summary), "");
  const auto requests = server.requests();
  EXPECT_EQ(requests.size(), 4u) << "the seed and three redirects";
  for (const auto& [url, count] : requests) EXPECT_EQ(count, 1) << url;
  EXPECT_EQ(requests.count("site.test/r5"), 0u);
  auto lines = Lines();
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines.back()["url"], "http://site.test/r4");
  EXPECT_EQ(lines.back()["error_kind"], "too_many_redirects") << lines.back().dump();
  for (std::size_t i = 0; i + 1 < lines.size(); ++i) {
    EXPECT_TRUE(lines[i]["error"].is_null()) << lines[i].dump();
  }
}

TEST_F(FetchLimits, RedirectLoopEnds) {
  TestServer server([](const std::string&, const std::string& target) -> Reply {
    if (target == "/a") return {302, "text/html", "", {{"Location", "/b"}}};
    if (target == "/b") return {302, "text/html", "", {{"Location", "/a"}}};
    return {404, "text/html", ""};
  });
  CrawlOptions options = Options(server);
  options.seeds = {"http://site.test/a"};
  CrawlSummary summary;
  ASSERT_EQ(RunCrawl(options, *signatures_, &summary), "");
  const auto requests = server.requests();
  EXPECT_EQ(requests.size(), 2u);
  for (const auto& [url, count] : requests) EXPECT_EQ(count, 1) << url << " fetched twice";
  auto pages = Pages();
  ASSERT_TRUE(pages.count("http://site.test/b"));
  EXPECT_EQ(pages["http://site.test/b"]["status"], 302);
  EXPECT_EQ(pages["http://site.test/b"]["redirect_to"], "http://site.test/a");
  EXPECT_EQ(Lines().size(), 2u);
}

TEST_F(FetchLimits, EveryHopRecorded) {
  TestServer server([](const std::string& host, const std::string& target) -> Reply {
    if (host == "one.test") return {301, "text/html", "", {{"Location", "http://two.test/x"}}};
    if (target == "/x") return {302, "text/html", "", {{"Location", "/y?z=1"}}};
    if (target == "/y?z=1") return {307, "text/html", "", {{"Location", "http://three.test/"}}};
    return {200, "text/html", "<title>landed</title>"};
  });
  CrawlOptions options = Options(server);
  options.seeds = {"http://one.test/"};
  CrawlSummary summary;
  ASSERT_EQ(RunCrawl(options, *signatures_, &summary), "");
  auto lines = Lines();
  struct Hop {
    const char* url;
    int status;
    const char* redirect_to;  // nullptr: the end of the chain
    const char* via;          // nullptr: the seed
  } hops[] = {
      {"http://one.test/", 301, "http://two.test/x", nullptr},
      {"http://two.test/x", 302, "http://two.test/y?z=1", "http://one.test/"},
      {"http://two.test/y?z=1", 307, "http://three.test/", "http://two.test/x"},
      {"http://three.test/", 200, nullptr, "http://two.test/y?z=1"},
  };
  ASSERT_EQ(lines.size(), std::size(hops));
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const auto& line = lines[i];
    SCOPED_TRACE(line.dump());
    EXPECT_EQ(line["url"], hops[i].url);
    EXPECT_EQ(line["status"], hops[i].status);
    EXPECT_TRUE(line["error"].is_null());
    if (hops[i].redirect_to) {
      EXPECT_EQ(line["redirect_to"], hops[i].redirect_to);
    } else {
      EXPECT_FALSE(line.contains("redirect_to"));
    }
    if (hops[i].via) {
      EXPECT_EQ(line["via"], hops[i].via);
    } else {
      EXPECT_FALSE(line.contains("via"));
    }
  }
}

// ---- the SSRF guard, proxies and schemes ----

// The victim listens on 127.0.0.9, which --allow-net 127.0.0.1/32 does not open; every other
// host goes to the crawl's own server on 127.0.0.1.
struct SsrfSetup {
  static Reply Victim(const std::string&, const std::string&) {
    return {200, "text/html", "<title>internal admin</title>"};
  }
  TestServer victim{&Victim, {}, "127.0.0.9"};
  // curl tries --connect-to entries in order: the specific one first.
  std::vector<std::string> ConnectTo(const TestServer& main) const {
    return {"victim.test:80:127.0.0.9:" + std::to_string(victim.port()), main.connect_to()};
  }
};

TEST_F(FetchLimits, SsrfGuardRefusesUnlistedLoopback) {
  SsrfSetup ssrf;
  TestServer server([](const std::string&, const std::string& target) -> Reply {
    if (target == "/") return {200, "text/html", "<a href='http://victim.test/'>admin</a>"};
    return {404, "text/html", ""};
  });
  CrawlOptions options = Options(server);
  options.connect_to = ssrf.ConnectTo(server);
  options.seeds = {"http://site.test/"};
  CrawlSummary summary;
  ASSERT_EQ(RunCrawl(options, *signatures_, &summary), "");
  EXPECT_EQ(ssrf.victim.connections(), 0);
  auto pages = Pages();
  EXPECT_EQ(pages["http://site.test/"]["status"], 200);
  ASSERT_TRUE(pages.count("http://victim.test/"));
  EXPECT_EQ(pages["http://victim.test/"]["error_kind"], "blocked")
      << pages["http://victim.test/"].dump();
  EXPECT_NE(pages["http://victim.test/"]["error"].dump().find("127.0.0.9"), std::string::npos);
}

TEST_F(FetchLimits, SsrfGuardRefusesRedirectToUnlistedLoopback) {
  SsrfSetup ssrf;
  TestServer server([](const std::string&, const std::string&) -> Reply {
    return {302, "text/html", "", {{"Location", "http://victim.test/"}}};
  });
  CrawlOptions options = Options(server);
  options.connect_to = ssrf.ConnectTo(server);
  options.seeds = {"http://site.test/"};
  CrawlSummary summary;
  ASSERT_EQ(RunCrawl(options, *signatures_, &summary), "");
  EXPECT_EQ(ssrf.victim.connections(), 0);
  auto pages = Pages();
  EXPECT_EQ(pages["http://site.test/"]["redirect_to"], "http://victim.test/");
  ASSERT_TRUE(pages.count("http://victim.test/"));
  EXPECT_EQ(pages["http://victim.test/"]["error_kind"], "blocked")
      << pages["http://victim.test/"].dump();
}

TEST_F(FetchLimits, SsrfGuardRefusesLoopbackByDefault) {
  TestServer server([](const std::string&, const std::string&) -> Reply {
    return {200, "text/html", "<title>internal</title>"};
  });
  CrawlOptions options = Options(server);
  options.allow_net.clear();
  options.seeds = {"http://site.test/"};
  CrawlSummary summary;
  ASSERT_EQ(RunCrawl(options, *signatures_, &summary), "");
  EXPECT_EQ(server.connections(), 0);
  auto lines = Lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["error_kind"], "blocked") << lines[0].dump();
  EXPECT_EQ(summary.errors_by_kind["blocked"], 1);
}

TEST_F(FetchLimits, ProxyCarriesTheRequests) {
  TestServer proxy([](const std::string& host, const std::string&) -> Reply {
    if (host == "via-proxy.test") return {200, "text/html", "<title>proxied</title>"};
    return {404, "text/html", ""};
  });
  CrawlOptions options = Options(proxy);
  options.connect_to.clear();
  options.proxy = "http://127.0.0.1:" + std::to_string(proxy.port());
  options.seeds = {"http://via-proxy.test/"};
  CrawlSummary summary;
  ASSERT_EQ(RunCrawl(options, *signatures_, &summary), "");
  auto lines = Lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["status"], 200) << lines[0].dump();
  EXPECT_TRUE(lines[0]["error"].is_null());
  EXPECT_GT(proxy.proxied_requests(), 0);
  EXPECT_EQ(proxy.requests()["via-proxy.test/"], 1);
}

TEST_F(FetchLimits, OnlyHttpAndHttpsAreFetched) {
  TestServer server([](const std::string&, const std::string& target) -> Reply {
    if (target == "/") {
      return {200, "text/html",
              "<a href='ftp://site.test/pub/'>ftp</a>"
              "<a href='file:///etc/passwd'>file</a>"
              "<a href='gopher://site.test:80/1'>gopher</a>"
              "<a href='javascript:fetch(\"/js\")'>js</a>"
              "<a href='data:text/html,<a href=/data>x</a>'>data</a>"
              "<a href='//site.test/ok'>ok</a>"};
    }
    return {200, "text/html", "<title>ok</title>"};
  });
  CrawlOptions options = Options(server);
  options.seeds = {"http://site.test/"};
  CrawlSummary summary;
  ASSERT_EQ(RunCrawl(options, *signatures_, &summary), "");
  EXPECT_EQ(server.requests(),
            (std::map<std::string, int>{{"site.test/", 1}, {"site.test/ok", 1}}));
  std::vector<std::string> urls;
  for (auto& line : Lines()) urls.push_back(line["url"]);
  EXPECT_EQ(urls, (std::vector<std::string>{"http://site.test/", "http://site.test/ok"}));
}

}  // namespace
}  // namespace mw
