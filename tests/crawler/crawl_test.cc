// The crawl loop against a real HTTP server on loopback.
#include "crawler/crawl.h"

#include <gtest/gtest.h>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/crawler/crawl_fixture.h"
#include "tests/crawler/test_server.h"

namespace mw {
namespace {

using testing::Reply;
using testing::TestServer;

constexpr int kHosts = 10;
constexpr int kPagesPerHost = 20;

// Host i's page j links to pages 2j+1 and 2j+2 of the same host (a binary tree, so depth
// grows), back to its index, to the next host, and to junk a crawler must not follow.
Reply SiteReply(const std::string& host, const std::string& target) {
  int h = -1;
  if (std::sscanf(host.c_str(), "h%d.test", &h) != 1 || h < 0 || h >= kHosts) {
    return {404, "text/html", "no such host"};
  }
  int page = 0;
  if (target != "/" && std::sscanf(target.c_str(), "/p%d.html", &page) != 1) {
    return {404, "text/html", "not found"};
  }
  if (page >= kPagesPerHost) return {404, "text/html", "not found"};
  std::string body = "<html><head><title>page " + std::to_string(page) + "</title></head><body>";
  for (int child : {2 * page + 1, 2 * page + 2}) {
    if (child < kPagesPerHost) {
      body += "<a href='p" + std::to_string(child) + ".html#top'>child</a> ";
      body += "<a href='/p" + std::to_string(child) + ".html'>again</a> ";
    }
  }
  body += "<a href='./'>home</a> <a href='http://H" + std::to_string((h + 1) % kHosts) +
          ".TEST:80/'>next host</a> <a href='mailto:x@h.test'>mail</a> "
          "<a href='javascript:void(0)'>js</a></body></html>";
  return {200, "text/html; charset=utf-8", body};
}

class CrawlTest : public testing::CrawlFixture {
 protected:
  CrawlOptions Options(const TestServer& server) const {
    return BaseOptions(server.connect_to());
  }
};

TEST_F(CrawlTest, FetchesEveryReachablePageExactlyOnceWithinCaps) {
  TestServer server(SiteReply, std::chrono::milliseconds(3));
  CrawlOptions options = Options(server);
  options.seeds = {"http://h0.test/"};
  options.concurrency = 12;
  options.per_host = 2;
  CrawlSummary summary;
  ASSERT_EQ(RunCrawl(options, *signatures_, &summary), "");

  std::map<std::string, int> requests = server.requests();
  // Every host's root and pages 1..19 (page 0 is only ever linked as the root).
  EXPECT_EQ(requests.size(), static_cast<std::size_t>(kHosts * kPagesPerHost));
  for (const auto& [url, count] : requests) EXPECT_EQ(count, 1) << url << " fetched twice";
  for (const auto& [host, peak] : server.peak_per_host()) {
    EXPECT_LE(peak, options.per_host) << host;
  }
  EXPECT_LE(server.peak_total(), options.concurrency);
  EXPECT_GT(server.peak_total(), options.per_host) << "hosts were not crawled in parallel";
  EXPECT_EQ(summary.pages, kHosts * kPagesPerHost);
  EXPECT_EQ(summary.errors, 0);
  EXPECT_EQ(Lines().size(),
            static_cast<std::size_t>(kHosts * kPagesPerHost));
}

TEST_F(CrawlTest, SameHostScopeAndMaxPagesAndMaxDepth) {
  TestServer server(SiteReply);
  struct Case {
    std::string scope;
    int max_depth;
    std::int64_t max_pages;
    std::string accept;
    std::string reject;
    std::size_t expected;
    const char* why;
  } cases[] = {
      {"same-host", 100, 1000, "", "", kPagesPerHost, "links to the next host are out of scope"},
      {"any", 100, 7, "", "", 7, "the page cap stops the crawl"},
      {"same-host", 1, 1000, "", "", 3, "root at depth 0, its two children at depth 1"},
      {"^h[01]\\.test$", 100, 1000, "", "", 2 * kPagesPerHost, "a host regex scopes to two hosts"},
      {"same-host", 100, 1000, "/p[0-2]\\.html$", "", 3, "only accepted links (the seed always)"},
      {"same-host", 100, 1000, "", "/p2\\.html$", 13, "p2 and its 6 descendants are never reached"},
  };
  for (const Case& c : cases) {
    std::filesystem::remove_all(dir_);
    TestServer fresh(SiteReply);
    CrawlOptions options = Options(fresh);
    options.seeds = {"http://h0.test/"};
    options.scope = c.scope;
    options.max_depth = c.max_depth;
    options.max_pages = c.max_pages;
    options.accept = c.accept;
    options.reject = c.reject;
    CrawlSummary summary;
    ASSERT_EQ(RunCrawl(options, *signatures_, &summary), "") << c.why;
    EXPECT_EQ(fresh.requests().size(), c.expected) << c.why;
  }
}

TEST_F(CrawlTest, FlaggedPageWritesFindingWithEvidence) {
  TestServer server([](const std::string& host, const std::string& target) -> Reply {
    if (host == "brand.test" && target == "/") {
      return {200, "text/html",
              "<title>Example Agency</title><body><a href='/about'>about</a></body>"};
    }
    if (host == "brand.test" && target == "/about") {
      return {200, "text/html", "<title>About us</title><body>lorem ipsum</body>"};
    }
    return {404, "text/html", ""};
  });
  CrawlOptions options = Options(server);
  options.seeds = {"http://brand.test/"};
  CrawlSummary summary;
  ASSERT_EQ(RunCrawl(options, *signatures_, &summary), "");
  auto findings = Findings();
  ASSERT_EQ(findings.size(), 1u);
  const auto& f = findings[0];
  EXPECT_EQ(f["url"], "http://brand.test/");
  EXPECT_EQ(f["host"], "brand.test");
  EXPECT_EQ(f["outlet"], "example");
  EXPECT_EQ(f["status"], 200);
  EXPECT_EQ(f["ip"], "127.0.0.1");
  EXPECT_EQ(f["sha256"].get<std::string>().size(), 64u);
  EXPECT_EQ(f["signatures_sha256"], signatures_->sha256()) << "which signatures scored it";
  EXPECT_EQ(f["stable_score"], 5);
  EXPECT_EQ(f["rules"][0]["experimental"], false);
  ASSERT_EQ(f["rules"].size(), 1u);
  EXPECT_EQ(f["rules"][0]["id"], "example.title");
  EXPECT_EQ(f["rules"][0]["field"], "title");
  EXPECT_NE(f["rules"][0]["snippet"].get<std::string>().find("Example Agency"),
            std::string::npos);
  EXPECT_EQ(summary.flagged_hosts["example"], std::set<std::string>{"brand.test"});
}

TEST_F(CrawlTest, HostileResponsesAreRecordedAndTheCrawlGoesOn) {
  TestServer server([](const std::string&, const std::string& target) -> Reply {
    if (target == "/") {
      return {200, "text/html",
              "<a href='/big'>a</a><a href='/loop'>b</a><a href='/image'>c</a>"
              "<a href='/missing'>d</a><a href='/moved'>e</a><a href='/ok'>f</a>"};
    }
    if (target == "/big") return {200, "text/html", std::string(300 * 1024, 'x')};
    if (target == "/loop") return {302, "text/html", "", {{"Location", "/loop"}}};
    if (target == "/image") return {200, "image/png", std::string(1000, '\x89')};
    if (target == "/moved") return {301, "text/html", "", {{"Location", "/ok"}}};
    if (target == "/ok") return {200, "text/html", "<title>fine</title>"};
    return {404, "text/html", "gone"};
  });
  CrawlOptions options = Options(server);
  options.seeds = {"http://hostile.test/"};
  options.max_body = 100 * 1024;
  options.max_redirects = 5;
  CrawlSummary summary;
  ASSERT_EQ(RunCrawl(options, *signatures_, &summary), "");
  std::map<std::string, nlohmann::json> pages;
  for (auto& line : Lines()) {
    pages[line["url"].get<std::string>()] = line;
  }
  struct Case {
    const char* url;
    const char* error_kind;  // nullptr: no error
    int status;
    const char* why;
  } cases[] = {
      {"http://hostile.test/big", "too_large", 200, "a body over --max-body is cut off"},
      {"http://hostile.test/loop", "redirect_loop", 302, "a redirect to itself ends"},
      {"http://hostile.test/image", "not_html", 200, "non-HTML stops at the headers"},
      {"http://hostile.test/missing", nullptr, 404, "a 404 is a result, not an error"},
      {"http://hostile.test/moved", nullptr, 301, "a redirect is a hop of its own"},
      {"http://hostile.test/ok", nullptr, 200, "the redirect's target is fetched"},
  };
  for (const Case& c : cases) {
    ASSERT_TRUE(pages.count(c.url)) << c.url << ": " << c.why;
    const auto& page = pages[c.url];
    EXPECT_EQ(page["status"], c.status) << c.why;
    if (c.error_kind) {
      EXPECT_EQ(page["error_kind"], c.error_kind) << c.why;
    } else {
      EXPECT_TRUE(page["error"].is_null()) << c.why;
    }
  }
  EXPECT_EQ(pages["http://hostile.test/moved"]["redirect_to"], "http://hostile.test/ok");
  EXPECT_EQ(server.requests()["hostile.test/ok"], 1)
      << "linked directly and redirected to, fetched once";
}

// A signature file whose one outlet `outlet` flags titles containing `name`.
std::string OneOutletFile(const std::string& outlet, const std::string& name) {
  return "version: 1\noutlets:\n  - id: " + outlet + "\n    name: " + name +
         "\n    threshold: 5\n    rules:\n      - id: " + outlet +
         ".title\n        fields: [title]\n        literal: " + name + "\n        weight: 5\n";
}

void WriteFile(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path) << text;
}

// Changes the signature file under a running crawl twice -- first to a broken file, then to a
// good one -- telling the crawl by SIGHUP or letting --watch notice. The broken file must be
// refused, the good one put in service, and no page scored by a mix of two sets.
void ReloadMidCrawl(const std::filesystem::path& dir, CrawlOptions options, bool by_signal) {
  // --watch polls once a second: give it a crawl of a few seconds.
  const int pages = by_signal ? 60 : 240;
  TestServer server(
      [pages](const std::string&, const std::string& target) -> Reply {
        int page = 0;
        if (target != "/" && std::sscanf(target.c_str(), "/p%d", &page) != 1) {
          return {404, "text/html", ""};
        }
        // Every page carries both names; which outlet flags it tells which set scored it.
        std::string body = "<title>Example Agency and Other Brand</title>";
        if (page + 1 < pages) body += "<a href='/p" + std::to_string(page + 1) + "'>next</a>";
        return {200, "text/html", body};
      },
      std::chrono::milliseconds(15));
  std::filesystem::create_directories(dir);
  const auto file = dir / "signatures.yaml";
  WriteFile(file, OneOutletFile("example", "Example Agency"));
  std::vector<SignatureDiagnostic> errors;
  std::shared_ptr<const SignatureSet> first = SignatureSet::LoadFile(file.string(), &errors);
  ASSERT_NE(first, nullptr);
  options.connect_to = {server.connect_to()};
  options.out_dir = (dir / "out").string();
  options.seeds = {"http://reload.test/"};
  options.signatures = file.string();
  options.watch = !by_signal;
  options.max_depth = pages;

  std::atomic<bool> crawl_over{false};
  std::thread operator_thread([&] {
    // Gives up when the crawl is over, so a crawl that ends early fails instead of hanging.
    auto wait_for_requests = [&](std::size_t n) {
      while (server.requests().size() < n && !crawl_over) {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
      return !crawl_over;
    };
    const std::size_t step = by_signal ? 10 : 70;  // --watch: > 1 s of crawl between changes
    if (!wait_for_requests(step)) return;
    WriteFile(file, "version: 1\noutlets: [ this is not\n");  // broken: refused
    if (by_signal) std::raise(SIGHUP);
    if (!wait_for_requests(2 * step + 5)) return;
    WriteFile(file, OneOutletFile("other", "Other Brand"));
    if (by_signal) std::raise(SIGHUP);
  });
  CrawlSummary summary;
  const std::string error = RunCrawl(options, first, &summary);
  crawl_over = true;
  operator_thread.join();
  ASSERT_EQ(error, "");

  EXPECT_EQ(summary.signature_reload_failures, 1) << "the broken file was refused";
  EXPECT_EQ(summary.signature_reloads, 1) << "the good file was put in service";
  std::map<std::string, std::set<std::string>> outlets_by_url;
  for (const auto& f : testing::ReadJsonLines(options.out_dir + "/findings.jsonl")) {
    outlets_by_url[f["url"]].insert(f["outlet"].get<std::string>());
  }
  EXPECT_EQ(outlets_by_url.size(), static_cast<std::size_t>(pages)) << "every page scored";
  int old_set = 0, new_set = 0;
  for (const auto& [url, outlets] : outlets_by_url) {
    EXPECT_EQ(outlets.size(), 1u) << url << " was scored by a mix of two sets";
    (outlets.count("example") ? old_set : new_set)++;
  }
  EXPECT_GE(old_set, 10) << "the first set ran until the good file replaced it";
  EXPECT_GE(new_set, 10) << "the new set scored the pages after the reload";
}

TEST_F(CrawlTest, SighupReloadsSignaturesAndRefusesABrokenFile) {
  TestServer unused(SiteReply);
  ReloadMidCrawl(dir_, Options(unused), /*by_signal=*/true);
}

TEST_F(CrawlTest, WatchReloadsSignaturesWhenTheFileChanges) {
  TestServer unused(SiteReply);
  ReloadMidCrawl(dir_, Options(unused), /*by_signal=*/false);
}

TEST_F(CrawlTest, BadSeedsAreClearErrors) {
  CrawlOptions options;
  options.out_dir = dir_.string();
  CrawlSummary summary;
  EXPECT_NE(RunCrawl(options, *signatures_, &summary).find("no seeds"), std::string::npos);
  options.seeds = {"ftp://x.test/"};
  EXPECT_NE(RunCrawl(options, *signatures_, &summary).find("not an absolute http(s) URL"),
            std::string::npos);
  options.seeds = {"http://x.test/"};
  options.scope = "([";
  EXPECT_NE(RunCrawl(options, *signatures_, &summary).find("--scope"), std::string::npos);
  options.scope = "any";
  options.accept = "(";
  EXPECT_NE(RunCrawl(options, *signatures_, &summary).find("--accept"), std::string::npos);
}

}  // namespace
}  // namespace mw
