// Politeness, robots.txt, sitemaps, retries and spider traps, measured against a real HTTP
// server on loopback: what the server saw (arrival times, requests in flight, request counts)
// is the evidence, pages.jsonl and the summary are checked against it.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "crawler/crawl.h"
#include "tests/crawler/crawl_fixture.h"
#include "tests/crawler/test_server.h"
#include "tests/crawler/zlib_util.h"

namespace mw {
namespace {

using testing::Compress;

using testing::Reply;
using testing::TestServer;
using Clock = std::chrono::steady_clock;
using Ms = std::chrono::duration<double, std::milli>;

Reply Html(std::string body) { return {200, "text/html; charset=utf-8", std::move(body)}; }
Reply NotFound() { return {404, "text/html", "not found"}; }
Reply Text(int status, std::string body) { return {status, "text/plain", std::move(body)}; }

std::string Links(const std::vector<std::string>& hrefs) {
  std::string body = "<html><body>";
  for (const std::string& href : hrefs) body += "<a href='" + href + "'>x</a> ";
  return body + "</body></html>";
}


// Smallest gap between consecutive times (sorted first); +infinity with fewer than two.
double MinGapMs(std::vector<Clock::time_point> times) {
  std::sort(times.begin(), times.end());
  double gap = std::numeric_limits<double>::infinity();
  for (std::size_t i = 1; i < times.size(); ++i) {
    gap = std::min(gap, Ms(times[i] - times[i - 1]).count());
  }
  return gap;
}

// The server's arrivals() are per host only; handlers that need per-target timing record here
// (the handler runs right after arrival when the server has no fixed delay).
class Recorder {
 public:
  void Add(const std::string& host, const std::string& target) {
    std::lock_guard<std::mutex> lock(mutex_);
    hits_[host + target].push_back(Clock::now());
  }
  std::vector<Clock::time_point> Times(const std::string& key) const {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = hits_.find(key);
    return it == hits_.end() ? std::vector<Clock::time_point>{} : it->second;
  }
  // Every arrival on `host` whose target satisfies `keep`.
  template <typename Keep>
  std::vector<Clock::time_point> TimesOn(const std::string& host, Keep keep) const {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<Clock::time_point> times;
    for (const auto& [key, list] : hits_) {
      if (key.rfind(host + "/", 0) == 0 && keep(key.substr(host.size()))) {
        times.insert(times.end(), list.begin(), list.end());
      }
    }
    std::sort(times.begin(), times.end());
    return times;
  }

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::vector<Clock::time_point>> hits_;
};

bool IsPage(const std::string& target) {
  return target != "/robots.txt" && target.find("sitemap") == std::string::npos;
}

// An IMF-fixdate (RFC 9110 5.6.7) `ahead` from now, whole seconds.
std::string HttpDate(std::chrono::seconds ahead) {
  const std::time_t when =
      std::chrono::system_clock::to_time_t(std::chrono::system_clock::now() + ahead);
  std::tm tm{};
  gmtime_r(&when, &tm);
  static const char* const kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char* const kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char text[64];
  std::snprintf(text, sizeof text, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday],
                tm.tm_mday, kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                tm.tm_sec);
  return text;
}

class PolitenessTest : public testing::CrawlFixture {
 protected:
  CrawlOptions Options(const TestServer& server) const {
    return BaseOptions(server.connect_to());
  }

  CrawlSummary Crawl(const CrawlOptions& options) {
    CrawlSummary summary;
    EXPECT_EQ(RunCrawl(options, *signatures_, &summary), "");
    return summary;
  }

  // pages.jsonl lines for one URL, in the order written.
  std::vector<nlohmann::json> LinesFor(const std::string& url) const {
    std::vector<nlohmann::json> found;
    for (auto& line : Lines()) {
      if (line["url"] == url) found.push_back(line);
    }
    return found;
  }
};

using PolitenessRobotsTest = PolitenessTest;
using PolitenessSitemapTest = PolitenessTest;
using PolitenessRetryTest = PolitenessTest;
using PolitenessTrapTest = PolitenessTest;

// ---- politeness ----

constexpr int kManyHosts = 100;
constexpr int kPagesPerManyHost = 6;  // the root and p1..p5

// hub.test links to the roots of h0..h(chains-1); the root of h(i) also links to the root of
// h(i+chains), so hosts are discovered `chains` at a time (chains = kManyHosts: all at once).
// Each root links to p1..p5, which link to each other and back.
// On hosts h0..h(slow_hosts-1), pages other than the root take `page_stall` more.
TestServer::Handler ManyHostsSite(int chains, int slow_hosts,
                                  std::chrono::milliseconds page_stall) {
  return [=](const std::string& host, const std::string& target) -> Reply {
    std::vector<std::string> hrefs;
    if (host == "hub.test") {
      if (target != "/") return NotFound();
      for (int i = 0; i < chains; ++i) hrefs.push_back("http://h" + std::to_string(i) + ".test/");
      return Html(Links(hrefs));
    }
    int h = -1;
    if (std::sscanf(host.c_str(), "h%d.test", &h) != 1 || h < 0 || h >= kManyHosts) {
      return NotFound();
    }
    int page = 0;
    if (target != "/" && (std::sscanf(target.c_str(), "/p%d.html", &page) != 1 || page < 1 ||
                          page >= kPagesPerManyHost)) {
      return NotFound();
    }
    if (target == "/" && h + chains < kManyHosts) {
      hrefs.push_back("http://h" + std::to_string(h + chains) + ".test/");
    }
    hrefs.push_back("/");
    for (int p = 1; p < kPagesPerManyHost; ++p) hrefs.push_back("/p" + std::to_string(p) + ".html");
    Reply reply = Html(Links(hrefs));
    if (target != "/" && h < slow_hosts) reply.stall = page_stall;
    return reply;
  };
}

TEST_F(PolitenessTest, PerHostCapAndDelayHoldUnder100HostCrawl) {
  // The delay runs from when a request went out (after its connection was set up: the fetch
  // pool reports it and the frontier counts from there), so connection set-up no longer
  // shortens the gaps the server sees: before that was so, a CI run on 2 busy cores saw spans
  // 1.3 ms short of (n-1) delays less 20 ms when 64 connects came in one burst. What is left
  // is the server's own scheduling: when its thread gets to read a request. Measured on a busy
  // 2-core machine (other builds running): every gap within 4.5 ms of the delay.
  // So where connections are kept alive, every gap is checked: kKeptAliveSlackMs after a
  // kept-alive request, kConnectSlackMs after a host's first one. Where every request opens a
  // connection, a late request shortens one gap and lengthens the one before by as much, so
  // each host's span (first to last arrival) is checked too: at least (n-1) delays less
  // kConnectSlackMs. With no delay at all, gaps would be ~0-10 ms (per-host 2, 10 ms per
  // request): both checks tell.
  constexpr double kKeptAliveSlackMs = 10;
  constexpr double kConnectSlackMs = 20;
  struct Case {
    const char* name;
    int chains;
    int slow_hosts;      // their pages take 300 ms: without the cap they would have ~7 at once
    bool kept_alive;     // after its first request, a host reuses its connection
    int min_peak_total;  // requests in flight at once at the server, across hosts
  } cases[] = {
      // 100 hosts at once: 64 in flight, and with more hosts than the 64 connections curl
      // keeps, every request opens a connection. On 10 slow hosts the per-host cap, not the
      // delay, is what holds a host to 2.
      {"hub", kManyHosts, 10, false, 32},
      // Hosts found two at a time, pages fast: ~30 hosts active, each keeping its connection,
      // so the gaps are measured without connection set-up in them.
      {"two chains", 2, 0, true, 6},
  };
  for (const Case& c : cases) {
    std::filesystem::remove_all(dir_);
    // Every request lasts at least 10 ms at the server, so parallel hosts show in peak_total.
    TestServer server(ManyHostsSite(c.chains, c.slow_hosts, std::chrono::milliseconds(300)),
                      std::chrono::milliseconds(10));
    CrawlOptions options = Options(server);
    options.seeds = {"http://hub.test/"};
    options.concurrency = 64;
    options.per_host = 2;
    options.delay_ms = 40;
    const CrawlSummary summary = Crawl(options);

    const auto requests = server.requests();
    EXPECT_EQ(requests.size(), 1u + kManyHosts * kPagesPerManyHost) << c.name;
    for (const auto& [url, count] : requests) EXPECT_EQ(count, 1) << c.name << ": " << url;
    EXPECT_EQ(summary.pages, 1 + kManyHosts * kPagesPerManyHost) << c.name;
    EXPECT_EQ(summary.errors, 0) << c.name;

    int worst_peak = 0;
    int hosts_at_cap = 0;
    for (const auto& [host, peak] : server.peak_per_host()) {
      EXPECT_LE(peak, options.per_host) << c.name << ": " << host;
      worst_peak = std::max(worst_peak, peak);
      if (peak == options.per_host) ++hosts_at_cap;
    }
    for (int h = 0; h < c.slow_hosts; ++h) {
      const std::string host = "h" + std::to_string(h) + ".test";
      EXPECT_EQ(server.peak_per_host()[host], options.per_host)
          << c.name << ": " << host << " is slow enough to fill its per-host cap";
    }
    if (c.kept_alive) {
      EXPECT_EQ(server.connections(), 1 + kManyHosts) << c.name << ": one connection per host";
    }
    double min_first = std::numeric_limits<double>::infinity();  // after a host's first request
    double min_later = std::numeric_limits<double>::infinity();
    double min_mean = std::numeric_limits<double>::infinity();
    const auto arrivals = server.arrivals();
    EXPECT_EQ(arrivals.size(), 1u + kManyHosts) << c.name;
    for (const auto& [host, unsorted] : arrivals) {
      std::vector<Clock::time_point> times = unsorted;
      std::sort(times.begin(), times.end());
      if (times.size() < 2) continue;
      for (std::size_t i = 1; i < times.size(); ++i) {
        const double gap = Ms(times[i] - times[i - 1]).count();
        (i == 1 ? min_first : min_later) = std::min(i == 1 ? min_first : min_later, gap);
        if (c.kept_alive) {
          EXPECT_GE(gap, options.delay_ms - (i == 1 ? kConnectSlackMs : kKeptAliveSlackMs))
              << c.name << ": " << host << " requests " << i - 1 << " and " << i;
        }
      }
      const double span = Ms(times.back() - times.front()).count();
      const double gaps = static_cast<double>(times.size() - 1);
      min_mean = std::min(min_mean, span / gaps);
      EXPECT_GE(span, gaps * options.delay_ms - kConnectSlackMs) << c.name << ": " << host;
    }
    EXPECT_LE(server.peak_total(), options.concurrency) << c.name;
    EXPECT_GE(server.peak_total(), c.min_peak_total) << c.name << ": hosts did not run in parallel";
    std::printf(
        "[ measured ] %s: min same-host gap %.1f ms after a host's first request, "
        "%.1f ms after later ones, min mean gap %.1f ms; per-host peak %d (%d hosts at it); "
        "peak total %d; %d connections; %.2f s\n",
        c.name, min_first, min_later, min_mean, worst_peak, hosts_at_cap, server.peak_total(),
        server.connections(), summary.seconds);
  }
}

// Hosts s0..s(K-1) on one server, each a root and three pages, linked from hub.test.
constexpr int kSharedHosts = 5;
Reply SharedIpReply(const std::string& host, const std::string& target) {
  if (host == "hub.test") {
    std::vector<std::string> hrefs;
    for (int i = 0; i < kSharedHosts; ++i)
      hrefs.push_back("http://s" + std::to_string(i) + ".test/");
    return target == "/" ? Html(Links(hrefs)) : NotFound();
  }
  if (target == "/") return Html(Links({"/a", "/b", "/c"}));
  if (target == "/a" || target == "/b" || target == "/c") return Html("<title>leaf</title>");
  return NotFound();
}

TEST_F(PolitenessTest, PolitenessByIpSharesOneBudget) {
  // Why this assertion: every request takes kServe at the server, and the crawler can only
  // learn a host's IP from its first response. So each host's first request runs in a group of
  // its own (they legitimately overlap: K hosts at once), and peak_total() is K either way --
  // it cannot tell the modes apart. Every LATER request belongs to the shared IP group with one
  // slot: it can start only after the previous one was answered, i.e. at least kServe after the
  // previous one arrived. So: the arrivals of all non-first requests, across all hosts, sorted,
  // are at least kServe apart. The same crawl keyed by host overlaps them (gap ~0), which shows
  // the measurement can fail.
  constexpr auto kServe = std::chrono::milliseconds(30);
  struct Case {
    const char* key;
    bool serial;
  } cases[] = {{"ip", true}, {"host", false}};
  for (const Case& c : cases) {
    std::filesystem::remove_all(dir_);
    TestServer server(SharedIpReply, kServe);
    CrawlOptions options = Options(server);
    options.seeds = {"http://hub.test/"};
    options.per_host = 1;
    options.politeness_key = c.key;
    const CrawlSummary summary = Crawl(options);
    EXPECT_EQ(server.requests().size(), 1u + 4 * kSharedHosts) << c.key;
    std::vector<Clock::time_point> later;
    for (const auto& [host, times] : server.arrivals()) {
      std::vector<Clock::time_point> sorted = times;
      std::sort(sorted.begin(), sorted.end());
      later.insert(later.end(), sorted.begin() + 1, sorted.end());
    }
    ASSERT_EQ(later.size(), 3u * kSharedHosts) << c.key;
    const double gap = MinGapMs(later);
    if (c.serial) {
      EXPECT_GE(gap, Ms(kServe).count() - 1) << "requests to one IP overlapped";
    } else {
      EXPECT_LT(gap, Ms(kServe).count() / 2) << "per-host keys should let hosts overlap";
    }
    std::printf(
        "[ measured ] --politeness-key %s: min gap between non-first requests %.1f ms, "
        "peak total %d, %.2f s\n",
        c.key, gap, server.peak_total(), summary.seconds);
  }
}

// ---- robots.txt ----

TEST_F(PolitenessRobotsTest, DisallowedUrlsAreSkippedAndRecorded) {
  Recorder recorder;
  TestServer server([&](const std::string& host, const std::string& target) -> Reply {
    recorder.Add(host, target);
    if (target == "/robots.txt") return Text(200, "User-agent: *\nDisallow: /private/\n");
    if (target == "/") return Html(Links({"/private/x", "/private", "/public"}));
    return Html("<title>leaf</title>");
  });
  CrawlOptions options = Options(server);
  options.seeds = {"http://r.test/"};
  options.robots = "obey";
  const CrawlSummary summary = Crawl(options);
  auto requests = server.requests();
  EXPECT_EQ(requests.count("r.test/private/x"), 0u);
  EXPECT_EQ(requests["r.test/private"], 1) << "Disallow: /private/ does not cover /private";
  EXPECT_EQ(requests["r.test/public"], 1);
  EXPECT_EQ(requests["r.test/robots.txt"], 1);
  // robots.txt came before any page of the host.
  const auto robots_at = recorder.Times("r.test/robots.txt");
  const auto pages_at = recorder.TimesOn("r.test", IsPage);
  ASSERT_EQ(robots_at.size(), 1u);
  ASSERT_FALSE(pages_at.empty());
  EXPECT_LT(robots_at[0], pages_at.front());

  const auto lines = LinesFor("http://r.test/private/x");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["skipped"], "robots");
  EXPECT_EQ(lines[0]["kind"], "page");
  EXPECT_EQ(lines[0]["via"], "http://r.test/");
  EXPECT_NE(lines[0]["error"].get<std::string>().find("robots.txt"), std::string::npos);
  EXPECT_EQ(summary.skipped_by_kind.at("robots"), 1);
  const auto robots_lines = LinesFor("http://r.test/robots.txt");
  ASSERT_EQ(robots_lines.size(), 1u);
  EXPECT_EQ(robots_lines[0]["kind"], "robots");
  EXPECT_EQ(robots_lines[0]["status"], 200);
}

TEST_F(PolitenessRobotsTest, RobotsFetchedOncePerHost) {
  TestServer server([](const std::string& host, const std::string& target) -> Reply {
    if (target == "/robots.txt") return Text(200, "User-agent: *\nDisallow: /nope\n");
    std::vector<std::string> hrefs;
    for (int i = 0; i < 10; ++i) hrefs.push_back("/p" + std::to_string(i));
    hrefs.push_back(host == "a.test" ? "http://b.test/" : "http://a.test/");
    return Html(Links(hrefs));
  });
  CrawlOptions options = Options(server);
  options.seeds = {"http://a.test/"};
  options.robots = "obey";
  options.per_host = 3;
  Crawl(options);
  auto requests = server.requests();
  EXPECT_EQ(requests["a.test/robots.txt"], 1);
  EXPECT_EQ(requests["b.test/robots.txt"], 1);
  EXPECT_EQ(requests.size(), 2u * 12) << "each host: robots.txt, root and p0..p9";
}

TEST_F(PolitenessRobotsTest, ProductGroupBeatsStar) {
  struct Case {
    const char* robots;
    std::set<std::string> fetched;  // of "/", "/open", "/secret"
    const char* why;
  } cases[] = {
      {"User-agent: *\nDisallow: /\n\nUser-agent: mirrorwatch\nAllow: /\n",
       {"/", "/open", "/secret"},
       "our group allows what * disallows"},
      {"User-agent: *\nDisallow: /\n\nUser-agent: MirrorWatch\nDisallow: /secret\n",
       {"/", "/open"},
       "product token matched case-insensitively; its rules alone apply"},
      {"User-agent: *\nAllow: /\n\nUser-agent: mirrorwatch\nDisallow: /open\n",
       {"/", "/secret"},
       "our group disallows what * allows"},
      {"User-agent: otherbot\nDisallow: /\n\nUser-agent: *\nDisallow: /secret\n",
       {"/", "/open"},
       "another bot's group does not apply to us"},
  };
  for (const Case& c : cases) {
    std::filesystem::remove_all(dir_);
    TestServer server([&](const std::string&, const std::string& target) -> Reply {
      if (target == "/robots.txt") return Text(200, c.robots);
      if (target == "/") return Html(Links({"/open", "/secret"}));
      return Html("<title>leaf</title>");
    });
    CrawlOptions options = Options(server);
    options.seeds = {"http://g.test/"};
    options.robots = "obey";
    Crawl(options);
    std::set<std::string> fetched;
    for (const auto& [url, count] : server.requests()) {
      if (url != "g.test/robots.txt") fetched.insert(url.substr(std::string("g.test").size()));
    }
    EXPECT_EQ(fetched, c.fetched) << c.why;
  }
}

TEST_F(PolitenessRobotsTest, CrawlDelayIsHonoured) {
  struct Case {
    const char* crawl_delay;
    long max_crawl_delay_ms;
    double min_gap_ms;  // expected
    double max_gap_ms;  // sanity: the cap works
  } cases[] = {
      {"0.2", 30'000, 200, 1'000}, {"30", 100, 100, 1'000},  // capped by --max-crawl-delay-ms
  };
  for (const Case& c : cases) {
    std::filesystem::remove_all(dir_);
    Recorder recorder;
    TestServer server([&](const std::string& host, const std::string& target) -> Reply {
      recorder.Add(host, target);
      if (target == "/robots.txt") {
        return Text(200, std::string("User-agent: *\nCrawl-delay: ") + c.crawl_delay + "\n");
      }
      return Html(Links({"/1", "/2", "/3", "/4"}));
    });
    CrawlOptions options = Options(server);
    options.seeds = {"http://slow.test/"};
    options.robots = "obey";
    options.per_host = 4;
    options.max_crawl_delay_ms = c.max_crawl_delay_ms;
    Crawl(options);
    const auto pages = recorder.TimesOn("slow.test", IsPage);
    ASSERT_EQ(pages.size(), 5u);
    const double gap = MinGapMs(pages);
    EXPECT_GE(gap, c.min_gap_ms - 5) << "Crawl-delay " << c.crawl_delay;
    double max_gap = 0;
    for (std::size_t i = 1; i < pages.size(); ++i) {
      max_gap = std::max(max_gap, Ms(pages[i] - pages[i - 1]).count());
    }
    EXPECT_LT(max_gap, c.max_gap_ms) << "Crawl-delay " << c.crawl_delay;
    std::printf("[ measured ] Crawl-delay %s (cap %ld ms): page gaps %.1f..%.1f ms\n",
                c.crawl_delay, c.max_crawl_delay_ms, gap, max_gap);
  }
}

TEST_F(PolitenessRobotsTest, Robots4xxAllowsAll) {
  for (int status : {400, 401, 403, 404, 410, 451}) {
    std::filesystem::remove_all(dir_);
    TestServer server([&](const std::string&, const std::string& target) -> Reply {
      if (target == "/robots.txt") return Text(status, "User-agent: *\nDisallow: /\n");
      if (target == "/") return Html(Links({"/a", "/b"}));
      return Html("<title>leaf</title>");
    });
    CrawlOptions options = Options(server);
    options.seeds = {"http://f.test/"};
    options.robots = "obey";
    const CrawlSummary summary = Crawl(options);
    auto requests = server.requests();
    EXPECT_EQ(requests["f.test/robots.txt"], 1) << status << ": a 4xx is not retried";
    EXPECT_EQ(requests["f.test/"], 1) << status;
    EXPECT_EQ(requests["f.test/a"], 1) << status;
    EXPECT_EQ(requests["f.test/b"], 1) << status;
    EXPECT_EQ(summary.skipped, 0) << status;
  }
}

TEST_F(PolitenessRobotsTest, Robots5xxDisallowsAllAfterRetries) {
  struct Case {
    int status;
    const char* expect_in_error;
  } cases[] = {{503, "HTTP 503"}, {500, "HTTP 500"}, {429, "HTTP 429"}};
  for (const Case& c : cases) {
    std::filesystem::remove_all(dir_);
    TestServer server([&](const std::string&, const std::string& target) -> Reply {
      if (target == "/robots.txt") return Text(c.status, "down");
      return Html(Links({"/more"}));
    });
    CrawlOptions options = Options(server);
    options.seeds = {"http://down.test/", "http://down.test/a", "http://down.test/b?x=1"};
    options.robots = "obey";
    options.retries = 2;
    options.sitemaps = true;  // a host whose robots.txt fails must not be asked for sitemap.xml
    const CrawlSummary summary = Crawl(options);
    const auto requests = server.requests();
    EXPECT_EQ(requests, (std::map<std::string, int>{{"down.test/robots.txt", 3}}))
        << c.status << ": only robots.txt, tried 1 + --retries times";
    for (const std::string& seed : options.seeds) {
      const auto lines = LinesFor(seed);
      ASSERT_EQ(lines.size(), 1u) << seed;
      EXPECT_EQ(lines[0]["skipped"], "robots") << seed;
      const std::string error = lines[0]["error"].get<std::string>();
      EXPECT_NE(error.find("unavailable"), std::string::npos) << error;
      EXPECT_NE(error.find(c.expect_in_error), std::string::npos) << error;
    }
    EXPECT_EQ(summary.skipped_by_kind.count("robots") ? summary.skipped_by_kind.at("robots") : 0,
              3);
    EXPECT_EQ(LinesFor("http://down.test/robots.txt").size(), 3u) << "every attempt recorded";
  }
}

TEST_F(PolitenessRobotsTest, IgnoreFetchesNoRobotsTxt) {
  TestServer server([](const std::string&, const std::string& target) -> Reply {
    if (target == "/robots.txt") return Text(200, "User-agent: *\nDisallow: /\n");
    if (target == "/") return Html(Links({"/a"}));
    return Html("<title>leaf</title>");
  });
  CrawlOptions options = Options(server);
  options.seeds = {"http://i.test/"};
  options.robots = "ignore";
  Crawl(options);
  EXPECT_EQ(server.requests(), (std::map<std::string, int>{{"i.test/", 1}, {"i.test/a", 1}}));
}

TEST_F(PolitenessRobotsTest, RobotsAreRefetchedAfterTtl) {
  // --robots-ttl-s 1 with pages 300 ms apart: the rules expire mid-crawl and are fetched again.
  // The page that found them stale waits for the fresh rules; it was never tried, so it must
  // still be recorded as attempt 1 (and keep its whole retry budget).
  TestServer server([](const std::string&, const std::string& target) -> Reply {
    if (target == "/robots.txt") return Text(200, "User-agent: *\nDisallow: /never\n");
    return Html(Links({"/1", "/2", "/3", "/4", "/5", "/6", "/never"}));
  });
  CrawlOptions options = Options(server);
  options.seeds = {"http://ttl.test/"};
  options.robots = "obey";
  options.robots_ttl_s = 1;
  options.delay_ms = 300;
  Crawl(options);
  auto requests = server.requests();
  EXPECT_GE(requests["ttl.test/robots.txt"], 2);
  EXPECT_EQ(requests.count("ttl.test/never"), 0u);
  for (const auto& line : Lines()) {
    if (line["kind"] != "page" || line.contains("skipped")) continue;
    EXPECT_EQ(line["attempt"], 1) << line["url"] << " was fetched once";
  }
}

// ---- sitemaps ----

TEST_F(PolitenessSitemapTest, SitemapOnlyPagesAreReached) {
  TestServer server([](const std::string&, const std::string& target) -> Reply {
    if (target == "/robots.txt") return NotFound();
    if (target == "/sitemap.xml") {
      return {200, "application/xml",
              "<?xml version='1.0' encoding='UTF-8'?>"
              "<urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>"
              "<url><loc>http://sm.test/orphan</loc></url>"
              "<url><loc>http://sm.test/</loc></url>"
              "</urlset>"};
    }
    if (target == "/") return Html(Links({"/linked"}));
    return Html("<title>leaf</title>");
  });
  CrawlOptions options = Options(server);
  options.seeds = {"http://sm.test/"};
  options.robots = "obey";
  options.sitemaps = true;
  Crawl(options);
  auto requests = server.requests();
  EXPECT_EQ(requests["sm.test/orphan"], 1) << "listed only in the sitemap";
  EXPECT_EQ(requests["sm.test/"], 1) << "in the sitemap and a seed: once";
  EXPECT_EQ(requests["sm.test/linked"], 1);
  EXPECT_EQ(requests["sm.test/sitemap.xml"], 1);
  const auto orphan = LinesFor("http://sm.test/orphan");
  ASSERT_EQ(orphan.size(), 1u);
  EXPECT_EQ(orphan[0]["via"], "sitemap");
  EXPECT_EQ(orphan[0]["status"], 200);
  const auto map = LinesFor("http://sm.test/sitemap.xml");
  ASSERT_EQ(map.size(), 1u);
  EXPECT_EQ(map[0]["kind"], "sitemap");
}

TEST_F(PolitenessSitemapTest, SitemapXmlIsGuessedOnlyWhereRobotsAllowIt) {
  struct Case {
    const char* robots;
    bool guessed;  // /sitemap.xml requested
    bool listed;   // /maps/listed.xml requested
    const char* why;
  } cases[] = {
      {"User-agent: *\nDisallow:\n", true, false, "everything allowed: guess /sitemap.xml"},
      {"User-agent: *\nDisallow: /\n", false, false, "guessing would crawl a disallowed URL"},
      {"User-agent: *\nDisallow: /\nSitemap: http://guess.test/maps/listed.xml\n", false, true,
       "a Sitemap: line is the site's invitation, even under Disallow: /"},
  };
  for (const Case& c : cases) {
    std::filesystem::remove_all(dir_);
    TestServer server([&](const std::string&, const std::string& target) -> Reply {
      if (target == "/robots.txt") return Text(200, c.robots);
      if (target == "/sitemap.xml" || target == "/maps/listed.xml") {
        return {200, "application/xml",
                "<urlset><url><loc>http://guess.test/from-map</loc></url></urlset>"};
      }
      return Html("<title>page</title>");
    });
    CrawlOptions options = Options(server);
    options.seeds = {"http://guess.test/"};
    options.robots = "obey";
    options.sitemaps = true;
    Crawl(options);
    auto requests = server.requests();
    EXPECT_EQ(requests.count("guess.test/sitemap.xml"), c.guessed ? 1u : 0u) << c.why;
    EXPECT_EQ(requests.count("guess.test/maps/listed.xml"), c.listed ? 1u : 0u) << c.why;
    if (c.listed) {
      // The sitemap's URLs still answer to robots.txt.
      EXPECT_EQ(requests.count("guess.test/from-map"), 0u) << c.why;
      const auto lines = LinesFor("http://guess.test/from-map");
      ASSERT_EQ(lines.size(), 1u) << c.why;
      EXPECT_EQ(lines[0]["skipped"], "robots") << c.why;
    }
  }
}

TEST_F(PolitenessSitemapTest, RobotsSitemapLineIsUsed) {
  const std::string part1 =
      "<?xml version='1.0' encoding='UTF-8'?>"
      "<urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>"
      "<url><loc>http://maps.test/gz/one</loc></url>"
      "<url><loc>http://maps.test/gz/two</loc></url>"
      "<url><loc>http://elsewhere.test/out-of-scope</loc></url>"
      "</urlset>";
  const std::string part1_gz = Compress(part1);
  ASSERT_EQ(part1_gz.substr(0, 2), "\x1f\x8b");
  TestServer server([&](const std::string& host, const std::string& target) -> Reply {
    if (host != "maps.test") return Html("<title>must not be fetched</title>");
    if (target == "/robots.txt") {
      return Text(200,
                  "User-agent: *\nDisallow: /private\n"
                  "Sitemap: http://maps.test/maps/index.xml\n"
                  "Sitemap: http://elsewhere.test/sitemap.xml\n");
    }
    if (target == "/maps/index.xml") {
      return {200, "application/xml",
              "<?xml version='1.0' encoding='UTF-8'?>"
              "<sitemapindex xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>"
              "<sitemap><loc>http://maps.test/maps/part1.xml.gz</loc></sitemap>"
              "<sitemap><loc>http://elsewhere.test/part2.xml</loc></sitemap>"
              "</sitemapindex>"};
    }
    if (target == "/maps/part1.xml.gz") return {200, "application/gzip", part1_gz};
    if (target == "/sitemap.xml") return NotFound();
    return Html("<title>page</title>");
  });
  CrawlOptions options = Options(server);
  options.seeds = {"http://maps.test/"};
  options.robots = "obey";
  options.sitemaps = true;
  options.scope = "same-host";
  Crawl(options);
  auto requests = server.requests();
  EXPECT_EQ(requests["maps.test/maps/index.xml"], 1);
  EXPECT_EQ(requests["maps.test/maps/part1.xml.gz"], 1);
  EXPECT_EQ(requests["maps.test/gz/one"], 1) << "from the gzipped urlset";
  EXPECT_EQ(requests["maps.test/gz/two"], 1) << "from the gzipped urlset";
  for (const auto& [url, count] : requests) {
    EXPECT_EQ(url.rfind("maps.test/", 0), 0u) << url << ": out of --scope same-host";
  }
  const auto gz = LinesFor("http://maps.test/maps/part1.xml.gz");
  ASSERT_EQ(gz.size(), 1u);
  EXPECT_EQ(gz[0]["kind"], "sitemap");
  EXPECT_TRUE(LinesFor("http://elsewhere.test/out-of-scope").empty())
      << "an out-of-scope sitemap URL is not even queued";
}

// ---- retries ----

// Error pages come as HTML or not; a failure status is retried either way (the crawler stops
// reading non-HTML bodies at the headers, and that must not hide the status).
constexpr const char* kErrorPageTypes[] = {"text/html", "text/plain"};

TEST_F(PolitenessRetryTest, TransientErrorsAreRetriedWithBackoff) {
  for (const char* type : kErrorPageTypes) {
    std::filesystem::remove_all(dir_);
    std::atomic<int> calls{0};
    TestServer server([&](const std::string&, const std::string& target) -> Reply {
      if (target != "/flaky") return NotFound();
      return ++calls <= 2 ? Reply(503, type, "busy") : Html("<title>finally</title>");
    });
    CrawlOptions options = Options(server);
    options.seeds = {"http://flaky.test/flaky"};
    const CrawlSummary summary = Crawl(options);
    EXPECT_EQ(server.requests()["flaky.test/flaky"], 3) << type;
    EXPECT_EQ(summary.retries, 2) << type;
    EXPECT_EQ(summary.errors, 0) << type;
    EXPECT_EQ(summary.pages, 1) << type;
    const auto lines = LinesFor("http://flaky.test/flaky");
    ASSERT_EQ(lines.size(), 3u) << type;
    for (int i = 0; i < 2; ++i) {
      EXPECT_EQ(lines[i]["status"], 503) << type;
      EXPECT_EQ(lines[i]["attempt"], i + 1) << type;
      EXPECT_EQ(lines[i].value("note", "").rfind("retrying in ", 0), 0u) << lines[i];
    }
    EXPECT_EQ(lines[2]["status"], 200) << type;
    EXPECT_EQ(lines[2]["attempt"], 3) << type;
    EXPECT_TRUE(lines[2]["error"].is_null()) << type;
    // Backoff: base 10 ms with jitter 0.5..1.5, doubling: >= 5 ms, then >= 10 ms.
    const auto times = server.arrivals()["flaky.test"];
    ASSERT_EQ(times.size(), 3u) << type;
    EXPECT_GE(Ms(times[1] - times[0]).count(), 5) << type;
    EXPECT_GE(Ms(times[2] - times[1]).count(), 10) << type;
    std::printf("[ measured ] 503 as %s: backoff gaps %.1f ms, %.1f ms\n", type,
                Ms(times[1] - times[0]).count(), Ms(times[2] - times[1]).count());
  }
}

// A URL that answers `first` once and 200 afterwards; the gap between the two requests.
struct RetryAfterCase {
  const char* name;
  std::function<Reply()> first;
  double min_gap_ms;
  double max_gap_ms;
};

TEST_F(PolitenessRetryTest, RetryAfterIsHonoured) {
  const RetryAfterCase cases[] = {
      {"RetryAfterSecondsIsHonoured",
       [] {
         return Reply(429, "text/plain", "slow down", {{"Retry-After", "1"}});
       },
       1'000, 2'000},
      // The date is whole seconds: 2 s ahead of a clock read mid-second is 1..2 s away.
      {"RetryAfterHttpDateIsHonoured",
       [] {
         return Reply(503, "text/plain", "maintenance",
                      {{"Retry-After", HttpDate(std::chrono::seconds(2))}});
       },
       1'000, 3'000},
  };
  for (const RetryAfterCase& c : cases) {
    std::filesystem::remove_all(dir_);
    std::atomic<int> calls{0};
    TestServer server([&](const std::string&, const std::string&) -> Reply {
      return ++calls == 1 ? c.first() : Html("<title>ok</title>");
    });
    CrawlOptions options = Options(server);
    options.seeds = {"http://ra.test/"};
    const CrawlSummary summary = Crawl(options);
    const auto times = server.arrivals()["ra.test"];
    ASSERT_EQ(times.size(), 2u) << c.name;
    const double gap = Ms(times[1] - times[0]).count();
    EXPECT_GE(gap, c.min_gap_ms) << c.name;
    EXPECT_LT(gap, c.max_gap_ms) << c.name;
    EXPECT_EQ(summary.retries, 1) << c.name;
    const auto lines = LinesFor("http://ra.test/");
    ASSERT_EQ(lines.size(), 2u) << c.name;
    EXPECT_EQ(lines[1]["status"], 200) << c.name;
    EXPECT_EQ(lines[1]["attempt"], 2) << c.name;
    std::printf("[ measured ] %s: retried after %.0f ms\n", c.name, gap);
  }
}

TEST_F(PolitenessRetryTest, RetryAfterTooLongIsNotWaitedFor) {
  TestServer server([](const std::string&, const std::string&) -> Reply {
    return Reply(429, "text/plain", "come back tomorrow", {{"Retry-After", "3600"}});
  });
  CrawlOptions options = Options(server);
  options.seeds = {"http://long.test/"};
  options.max_retry_after_s = 1;
  const auto start = Clock::now();
  const CrawlSummary summary = Crawl(options);
  EXPECT_LT(Ms(Clock::now() - start).count(), 5'000) << "the crawl waited anyway";
  EXPECT_EQ(server.requests()["long.test/"], 1);
  EXPECT_EQ(summary.retries, 0);
  EXPECT_EQ(summary.errors, 1);
  EXPECT_EQ(summary.errors_by_kind.count(""), 0u) << "an error kind with no name";
  const auto lines = LinesFor("http://long.test/");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["status"], 429);
  EXPECT_EQ(lines[0]["attempt"], 1);
  EXPECT_NE(lines[0].dump().find("Retry-After longer than --max-retry-after-s"), std::string::npos)
      << lines[0];
}

TEST_F(PolitenessRetryTest, NothingIsRetriedForever) {
  for (const char* type : kErrorPageTypes) {
    std::filesystem::remove_all(dir_);
    TestServer server([&](const std::string&, const std::string&) -> Reply {
      return Reply(503, type, "always down");
    });
    CrawlOptions options = Options(server);
    options.seeds = {"http://down.test/"};
    options.retries = 3;
    const CrawlSummary summary = Crawl(options);
    EXPECT_EQ(server.requests()["down.test/"], 4) << type << ": 1 + --retries";
    EXPECT_EQ(summary.retries, 3) << type;
    EXPECT_EQ(summary.errors, 1) << type;
    const auto lines = LinesFor("http://down.test/");
    ASSERT_EQ(lines.size(), 4u) << type;
    EXPECT_EQ(lines[3]["attempt"], 4) << type;
    EXPECT_NE(lines[3].dump().find("retries exhausted"), std::string::npos) << lines[3];
    // The final failure counts as an error in the summary, so its line says so too, under a
    // kind with a name.
    EXPECT_EQ(lines[3]["error_kind"], "http_status") << lines[3];
    EXPECT_EQ(summary.errors_by_kind.count(""), 0u) << type << ": an error kind with no name";
  }
}

TEST_F(PolitenessRetryTest, FailingHostIsAbandoned) {
  constexpr int kBadUrls = 20;
  for (const char* type : kErrorPageTypes) {
    std::filesystem::remove_all(dir_);
    TestServer server(
        [&](const std::string& host, const std::string& target) -> Reply {
          if (host == "bad.test") return Reply(500, type, "broken");
          if (target == "/") {
            std::vector<std::string> hrefs;
            for (int i = 0; i < kBadUrls; ++i) {
              hrefs.push_back("http://bad.test/p" + std::to_string(i));
            }
            for (int i = 0; i < 5; ++i) hrefs.push_back("/g" + std::to_string(i));
            return Html(Links(hrefs));
          }
          return Html("<title>healthy</title>");
        },
        std::chrono::milliseconds(5));
    CrawlOptions options = Options(server);
    options.seeds = {"http://good.test/"};
    options.host_max_failures = 3;
    options.retries = 0;
    const CrawlSummary summary = Crawl(options);
    int bad_requests = 0;
    int good_requests = 0;
    for (const auto& [url, count] : server.requests()) {
      (url.rfind("bad.test/", 0) == 0 ? bad_requests : good_requests) += count;
    }
    // The third failure gives up; fetches already in flight (per-host cap) may still land.
    EXPECT_GE(bad_requests, options.host_max_failures) << type;
    EXPECT_LE(bad_requests, options.host_max_failures + options.per_host - 1) << type;
    EXPECT_EQ(good_requests, 6) << type << ": the healthy host is fully fetched";
    const auto count = [](const std::map<std::string, std::int64_t>& by_kind, const char* kind) {
      auto it = by_kind.find(kind);
      return it == by_kind.end() ? std::int64_t{0} : it->second;
    };
    EXPECT_EQ(count(summary.skipped_by_kind, "host_abandoned"), kBadUrls - bad_requests) << type;
    EXPECT_EQ(count(summary.errors_by_kind, "host_abandoned"), 1)
        << type << ": one host was abandoned, once";
    // Every bad URL has exactly one line: fetched (500) or skipped.
    for (int i = 0; i < kBadUrls; ++i) {
      const std::string url = "http://bad.test/p" + std::to_string(i);
      const auto lines = LinesFor(url);
      ASSERT_EQ(lines.size(), 1u) << type << ": " << url;
      if (lines[0].contains("skipped")) {
        EXPECT_EQ(lines[0]["skipped"], "host_abandoned") << url;
        EXPECT_EQ(lines[0]["via"], "http://good.test/") << url;
      } else {
        EXPECT_EQ(lines[0]["status"], 500) << url;
      }
    }
    std::printf("[ measured ] 500 as %s: %d requests to the failing host, %lld URLs skipped\n",
                type, bad_requests,
                static_cast<long long>(count(summary.skipped_by_kind, "host_abandoned")));
  }
}

// ---- spider traps ----

TEST_F(PolitenessTrapTest, EndlessCalendarStopsAtQueryVariantBudget) {
  TestServer server([](const std::string&, const std::string& target) -> Reply {
    if (target == "/") return Html(Links({"/cal?m=0"}));
    int m = 0;
    if (std::sscanf(target.c_str(), "/cal?m=%d", &m) == 1) {
      return Html(Links({"/cal?m=" + std::to_string(m + 1), "/"}));
    }
    return NotFound();
  });
  CrawlOptions options = Options(server);
  options.seeds = {"http://cal.test/"};
  options.max_query_variants = 10;
  options.max_depth = 1000;
  const CrawlSummary summary = Crawl(options);
  int cal_requests = 0;
  for (const auto& [url, count] : server.requests()) {
    if (url.rfind("cal.test/cal?", 0) == 0) cal_requests += count;
  }
  EXPECT_EQ(cal_requests, 10);
  const auto trap = LinesFor("http://cal.test/cal?m=10");
  ASSERT_EQ(trap.size(), 1u);
  EXPECT_EQ(trap[0]["skipped"], "trap");
  EXPECT_NE(trap[0]["error"].get<std::string>().find("--max-query-variants"), std::string::npos);
  EXPECT_EQ(trap[0]["via"], "http://cal.test/cal?m=9");
  EXPECT_EQ(summary.skipped_by_kind.at("trap"), 1);
}

TEST_F(PolitenessTrapTest, TrapLimitsStopGrowth) {
  struct Case {
    const char* name;
    std::function<void(CrawlOptions&)> limit;
    std::function<Reply(const std::string& target)> site;
    int expected_requests;
    const char* trapped_url;  // one URL that must have a trap line
    const char* reason;       // in its error
    int expected_traps;
  } cases[] = {
      {"MaxUrlLength", [](CrawlOptions& o) { o.max_url_length = 60; },
       // Each page links one level deeper: /loop/, /loop/loop/, ... forever.
       [](const std::string&) { return Html(Links({"loop/"})); },
       // "http://trap.test/" is 17 characters, each level adds 5: 8 levels fit in 60.
       1 + 8, "http://trap.test/loop/loop/loop/loop/loop/loop/loop/loop/loop/", "--max-url-length",
       1},
      {"MaxQueryParams", [](CrawlOptions& o) { o.max_query_params = 2; },
       [](const std::string& target) {
         return target == "/" ? Html(Links({"/s?a=1", "/s?a=1&b=2", "/s?a=1&b=2&c=3"}))
                              : Html("<title>leaf</title>");
       },
       3, "http://trap.test/s?a=1&b=2&c=3", "--max-query-params", 1},
      {"MaxPagesPerHost", [](CrawlOptions& o) { o.max_pages_per_host = 5; },
       [](const std::string& target) {
         std::vector<std::string> hrefs;
         for (int i = 0; i < 20; ++i) hrefs.push_back("/p" + std::to_string(i));
         return target == "/" ? Html(Links(hrefs)) : Html("<title>leaf</title>");
       },
       5, "http://trap.test/p19", "--max-pages-per-host", 16},
  };
  for (const Case& c : cases) {
    std::filesystem::remove_all(dir_);
    TestServer server(
        [&](const std::string&, const std::string& target) { return c.site(target); });
    CrawlOptions options = Options(server);
    options.seeds = {"http://trap.test/"};
    options.max_depth = 1000;
    c.limit(options);
    const CrawlSummary summary = Crawl(options);
    int requests = 0;
    for (const auto& [url, count] : server.requests()) {
      requests += count;
      EXPECT_EQ(count, 1) << c.name << ": " << url;
      EXPECT_LE(static_cast<int>(url.size() + 7), options.max_url_length) << c.name << ": " << url;
    }
    EXPECT_EQ(requests, c.expected_requests) << c.name;
    const auto trap = LinesFor(c.trapped_url);
    ASSERT_EQ(trap.size(), 1u) << c.name;
    EXPECT_EQ(trap[0]["skipped"], "trap") << c.name;
    EXPECT_NE(trap[0]["error"].get<std::string>().find(c.reason), std::string::npos) << c.name;
    EXPECT_EQ(summary.skipped_by_kind.count("trap") ? summary.skipped_by_kind.at("trap") : 0,
              c.expected_traps)
        << c.name;
  }
}

// A page with 50,000 links: only the first --max-links-per-page are followed, and its line says
// how many were not, so one page cannot flood the frontier or the parse results.
TEST_F(PolitenessTrapTest, APageOfManyLinksIsCappedAtMaxLinksPerPage) {
  TestServer server([](const std::string&, const std::string& target) -> Reply {
    if (target != "/") return Html("<title>leaf</title>");
    std::vector<std::string> hrefs;
    for (int i = 0; i < 50'000; ++i) hrefs.push_back("/p" + std::to_string(i));
    return Html(Links(hrefs));
  });
  CrawlOptions options = Options(server);
  options.seeds = {"http://many.test/"};
  options.max_links_per_page = 100;
  const CrawlSummary summary = Crawl(options);
  EXPECT_EQ(summary.pages, 1 + 100);
  EXPECT_EQ(server.requests().count("many.test/p99"), 1u);
  EXPECT_EQ(server.requests().count("many.test/p100"), 0u);
  const auto root = LinesFor("http://many.test/");
  ASSERT_EQ(root.size(), 1u);
  EXPECT_EQ(root[0]["note"], "49900 links beyond --max-links-per-page not followed");
}

}  // namespace
}  // namespace mw
