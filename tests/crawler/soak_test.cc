// A bounded soak against a hostile web: the real binary crawls 50 .test hosts where every URL,
// picked by a seeded hash of host and path, is one of the misbehaviours a crawler meets in the
// wild. The crawl must end on its own, exit 0, stay within a memory and a descriptor bound,
// and account for every URL it asked for.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "crawler/store.h"
#include "tests/crawler/crawl_fixture.h"
#include "tests/crawler/test_server.h"
#include "tests/crawler/zlib_util.h"

namespace mw::testing {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using std::chrono::milliseconds;

constexpr int kHosts = 50;
constexpr std::uint64_t kDefaultSeed = 20261128;
// The crawl's own limits, as an operator would set them for a hostile web.
constexpr int kConcurrency = 16;
constexpr int kMaxPages = 3000;
constexpr double kWallLimitSeconds = 90;
constexpr long kRssLimitKiB = 1L << 20;  // 1 GiB
constexpr int kFdSlack = 32;             // the store, WARC, logs, epoll, pipes, resolver

std::uint64_t Seed() {
  const char* env = std::getenv("MW_SOAK_SEED");
  return env != nullptr ? std::strtoull(env, nullptr, 10) : kDefaultSeed;
}

// FNV-1a over the seed and `text`: which misbehaviour a URL gets, the same on every request.
std::uint64_t Hash(std::uint64_t seed, const std::string& text) {
  std::uint64_t h = 14695981039346656037ull ^ seed;
  for (unsigned char c : text) h = (h ^ c) * 1099511628211ull;
  return h ^ (h >> 29);
}

std::string Host(int i) {
  char name[16];
  std::snprintf(name, sizeof name, "h%02d.test", i);
  return name;
}

// The misbehaviours a /p/ URL can have, and how often (out of 100).
enum class Kind {
  kNormal,
  kGzipBomb,
  kHuge,
  kDeep,
  kRedirectChain,
  kRedirectLoop,
  kSelfRedirect,
  kDrip,
  kCut,
  kReset,
  kBadBytes,
  kHugeHeaders,
  kGenerator,
  kCalendar,
  kManyLinks,
  kTooMany,
  kServerError,
  kUnavailable,
  kWrongType,
  kBinaryAsHtml,
  kRaw,
};
struct Share {
  Kind kind;
  int percent;
  const char* name;
};
constexpr Share kCatalogue[] = {
    {Kind::kNormal, 36, "normal page"},
    {Kind::kGzipBomb, 3, "gzip bomb (1 GiB decoded)"},
    {Kind::kHuge, 2, "20 MB page"},
    {Kind::kDeep, 3, "10,000-deep nested tags"},
    {Kind::kRedirectChain, 4, "endless redirect chain"},
    {Kind::kRedirectLoop, 3, "two-URL redirect loop"},
    {Kind::kSelfRedirect, 2, "redirect to itself"},
    {Kind::kDrip, 2, "1 byte per 50 ms"},
    {Kind::kCut, 4, "connection closed mid-body"},
    {Kind::kReset, 4, "connection reset mid-body"},
    {Kind::kBadBytes, 5, "invalid UTF-8 and NUL bytes"},
    {Kind::kHugeHeaders, 3, "100 KB of response headers"},
    {Kind::kGenerator, 6, "link generator (50 new URLs a page)"},
    {Kind::kCalendar, 4, "calendar (?date=)"},
    {Kind::kManyLinks, 1, "100,000 links"},
    {Kind::kTooMany, 3, "429 with Retry-After"},
    {Kind::kServerError, 3, "500"},
    {Kind::kUnavailable, 3, "503 with Retry-After"},
    {Kind::kWrongType, 3, "HTML served as image/png"},
    {Kind::kBinaryAsHtml, 2, "binary served as text/html"},
    {Kind::kRaw, 4, "garbage status line"},
};

// What each host's robots.txt is.
enum class Robots { kNormal, kHuge, kGarbage, kMissing, kHugeSitemap, kBadSitemap, kBombSitemap };
constexpr const char* kRobotsNames[] = {"normal robots.txt with Disallow",
                                        "10 MB robots.txt",
                                        "garbage robots.txt",
                                        "no robots.txt (404)",
                                        "robots.txt naming a 60,000-URL sitemap",
                                        "robots.txt naming a malformed sitemap",
                                        "robots.txt naming a gzip-bomb sitemap"};

class HostileWeb {
 public:
  explicit HostileWeb(std::uint64_t seed)
      : seed_(seed), bomb_(GzipOfZeros(std::size_t{1} << 30)), huge_(20 << 20, 'x') {
    deep_ = "<html><head><title>deep</title></head><body>";
    for (int i = 0; i < 10'000; ++i) deep_ += "<div><span>";
    deep_ += "bottom";
    for (int i = 0; i < 10'000; ++i) deep_ += "</span></div>";
    deep_ += "</body></html>";
    for (int i = 0; i < (10 << 20) / 24; ++i) {
      huge_robots_ += "Disallow: /nope/" + std::to_string(i) + "\n";
    }
    for (int i = 0; i < 2048; ++i) garbage_ += static_cast<char>(Hash(seed_, std::to_string(i)));
  }

  Kind KindOf(const std::string& host, const std::string& path) const {
    int roll = static_cast<int>(Hash(seed_, host + path) % 100);
    for (const Share& share : kCatalogue) {
      if (roll < share.percent) return share.kind;
      roll -= share.percent;
    }
    return Kind::kNormal;
  }

  Robots RobotsOf(const std::string& host) const {
    return static_cast<Robots>(Hash(seed_, host + "/robots.txt") % std::size(kRobotsNames));
  }

  Reply Serve(const std::string& host, const std::string& target) const {
    if (target == "/robots.txt") return ServeRobots(host);
    if (target.rfind("/sitemap", 0) == 0) return ServeSitemap(host, target);
    unsigned long n = 0;
    if (std::sscanf(target.c_str(), "/r/%lu", &n) == 1) {
      return Redirect("/r/" + std::to_string(n + 1));
    }
    if (target.rfind("/loop/", 0) == 0) {
      const bool a = target.back() == 'a';
      return Redirect(target.substr(0, target.size() - 1) + (a ? "b" : "a"));
    }
    if (target.rfind("/cal?date=", 0) == 0) return Calendar(target);
    if (target.rfind("/gen/", 0) == 0) return Generator(host, target);
    if (target == "/" || target.rfind("/p/", 0) == 0 || target.rfind("/private/", 0) == 0) {
      return Page(host, target);
    }
    return Reply(404, "text/plain", "not found");
  }

 private:
  static Reply Redirect(const std::string& to) {
    return Reply(302, "text/html", "<a href=\"" + to + "\">moved</a>", {{"Location", to}});
  }

  // Links to eight pages on this host (one under /private/) and two on other hosts.
  std::string Links(const std::string& host, const std::string& target) const {
    std::string links;
    const std::uint64_t h = Hash(seed_, host + target + "#links");
    for (int i = 0; i < 8; ++i) {
      links += "<a href=\"/" + std::string(i == 7 ? "private" : "p") + "/" +
               std::to_string((h >> (i * 4)) % 997 + i * 1000) + ".html\">p</a>\n";
    }
    for (int i = 0; i < 2; ++i) {
      links += "<a href=\"http://" + Host(static_cast<int>((h >> (40 + i * 8)) % kHosts)) + "/p/" +
               std::to_string((h >> (20 + i * 8)) % 5000) + ".html\">there</a>\n";
    }
    return links;
  }

  std::string Html(const std::string& title, const std::string& body) const {
    return "<html><head><title>" + title + "</title></head><body>" + body + "</body></html>";
  }

  Reply Page(const std::string& host, const std::string& target) const {
    Kind kind = target == "/" ? Kind::kNormal : KindOf(host, target);
    // Each 100,000-link page adds 100,000 URLs to the seen set and as many trap lines to
    // pages.jsonl: five hosts of them (h00, h10, ... h40) keep the soak within its time.
    if (kind == Kind::kManyLinks && host[2] != '0') kind = Kind::kNormal;
    const std::string html = Html("page " + target, "<p>lorem ipsum</p>" + Links(host, target));
    switch (kind) {
      case Kind::kNormal:
        return Reply(200, "text/html; charset=utf-8", html);
      case Kind::kGzipBomb:
        return Reply(200, "text/html", bomb_, {{"Content-Encoding", "gzip"}});
      case Kind::kHuge:
        return Reply(200, "text/html", huge_);
      case Kind::kDeep:
        return Reply(200, "text/html", deep_);
      case Kind::kRedirectChain:
        return Redirect("/r/0");
      case Kind::kRedirectLoop:
        return Redirect("/loop/" + std::to_string(target.size()) + "a");
      case Kind::kSelfRedirect:
        return Redirect(target);
      case Kind::kDrip: {
        Reply reply(200, "text/html", html);
        reply.drip = milliseconds(50);
        return reply;
      }
      case Kind::kCut:
      case Kind::kReset: {
        Reply reply(200, "text/html", html);
        reply.cut_after = html.size() / 2;
        reply.reset = kind == Kind::kReset;
        return reply;
      }
      case Kind::kBadBytes: {
        std::string body = html;
        static constexpr char kBad[] = "\xff\xfe\xc3\x28\0\0\xed\xa0\x80 \xf8\x88";
        static constexpr char kBadLink[] = "<a href=\"/p/\xc3\x28\0.html\">x</a>";
        body.insert(body.find("<p>"), std::string(kBad, sizeof kBad - 1));
        body.insert(body.find("</body>"), std::string(kBadLink, sizeof kBadLink - 1));
        return Reply(200, "text/html; charset=utf-8", body);
      }
      case Kind::kHugeHeaders: {
        std::vector<std::pair<std::string, std::string>> headers;
        for (int i = 0; i < 100; ++i) {
          headers.emplace_back("X-Filler-" + std::to_string(i), std::string(1000, 'h'));
        }
        return Reply(200, "text/html", html, headers);
      }
      case Kind::kGenerator:
        return Generator(host, "/gen/" + target.substr(3));
      case Kind::kCalendar:
        return Redirect("/cal?date=2026-01-01");
      case Kind::kManyLinks: {
        std::string links;
        for (int i = 0; i < 100'000; ++i)
          links += "<a href=\"/p/m" + std::to_string(i) + "\">m</a>";
        return Reply(200, "text/html", Html("many links", links));
      }
      case Kind::kTooMany:
        return Reply(429, "text/plain", "slow down", {{"Retry-After", "1"}});
      case Kind::kServerError:
        return Reply(500, "text/html", "<h1>oops</h1>");
      case Kind::kUnavailable:
        return Reply(503, "text/html", "<h1>later</h1>",
                     {{"Retry-After", target.size() % 2 ? "1" : "86400"}});
      case Kind::kWrongType:
        return Reply(200, "image/png", html);
      case Kind::kBinaryAsHtml:
        return Reply(200, "text/html", garbage_);
      case Kind::kRaw:
        return Reply::Raw("HTTP/1.1 2x0 What\r\nContent-Length: -5\r\n\r\n" + garbage_);
    }
    return Reply(500, "text/plain", "unreachable");
  }

  // Every page links to 50 URLs never seen before.
  Reply Generator(const std::string& host, const std::string& target) const {
    std::string links;
    const std::uint64_t h = Hash(seed_, host + target);
    for (int i = 0; i < 50; ++i) {
      links += "<a href=\"/gen/" + std::to_string(Hash(h, std::to_string(i)) % 1'000'000'000) +
               "\">g</a>";
    }
    return Reply(200, "text/html", Html("generator", links));
  }

  // Yesterday and tomorrow, for ever.
  static Reply Calendar(const std::string& target) {
    int y = 0, m = 0, d = 0;
    if (std::sscanf(target.c_str(), "/cal?date=%d-%d-%d", &y, &m, &d) != 3) {
      return Reply(400, "text/plain", "bad date");
    }
    auto day = [](int y, int m, int d) {
      char text[32];
      std::snprintf(text, sizeof text, "/cal?date=%04d-%02d-%02d", y + (m - 1) / 12,
                    (m - 1) % 12 + 1, d);
      return std::string(text);
    };
    const std::string next = d < 28 ? day(y, m, d + 1) : day(y, m + 1, 1);
    const std::string prev = d > 1 ? day(y, m, d - 1) : day(y - (m == 1), m == 1 ? 12 : m - 1, 28);
    return Reply(200, "text/html",
                 "<html><body><a href=\"" + next + "\">next</a><a href=\"" + prev +
                     "\">prev</a></body></html>");
  }

  Reply ServeRobots(const std::string& host) const {
    switch (RobotsOf(host)) {
      case Robots::kNormal:
        return Reply(200, "text/plain", "User-agent: *\nDisallow: /private/\n");
      case Robots::kHuge:
        return Reply(200, "text/plain", huge_robots_);
      case Robots::kGarbage:
        return Reply(200, "text/plain", garbage_);
      case Robots::kMissing:
        return Reply(404, "text/plain", "not found");
      case Robots::kHugeSitemap:
        return Reply(200, "text/plain",
                     "User-agent: *\nSitemap: http://" + host + "/sitemap-huge.xml\n");
      case Robots::kBadSitemap:
        return Reply(200, "text/plain",
                     "User-agent: *\nSitemap: http://" + host + "/sitemap-bad.xml\n");
      case Robots::kBombSitemap:
        return Reply(200, "text/plain",
                     "User-agent: *\nSitemap: http://" + host + "/sitemap-bomb.xml.gz\n");
    }
    return Reply(404, "text/plain", "not found");
  }

  Reply ServeSitemap(const std::string& host, const std::string& target) const {
    if (target == "/sitemap-huge.xml") {
      std::string xml =
          "<?xml version=\"1.0\"?><urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">";
      for (int i = 0; i < 60'000; ++i) {
        xml += "<url><loc>http://" + host + "/p/s" + std::to_string(i) + ".html</loc></url>";
      }
      return Reply(200, "application/xml", xml + "</urlset>");
    }
    if (target == "/sitemap-bad.xml") {
      return Reply(200, "application/xml",
                   "<?xml version=\"1.0\"?><urlset><url><loc>http://" + host +
                       "/p/bad.html</loc><url><loc>javascript:alert(1)</loc></url>" +
                       "<sitemapindex><sitemap><loc>http://" + host + "/sitemap.xml</loc>" +
                       garbage_ + "<!DOCTYPE x [<!ENTITY a \"aaaaaaaaaa\">]>&a;&a;&a;");
    }
    if (target == "/sitemap-bomb.xml.gz") return Reply(200, "application/gzip", bomb_);
    if (target == "/sitemap.xml") {
      return Reply(200, "application/xml",
                   "<?xml version=\"1.0\"?><urlset><url><loc>http://" + host +
                       "/p/from-sitemap.html</loc></url></urlset>");
    }
    return Reply(404, "text/plain", "not found");
  }

  std::uint64_t seed_;
  std::string bomb_;
  std::string huge_;
  std::string deep_;
  std::string huge_robots_;
  std::string garbage_;
};

int CountFds(pid_t pid) {
  std::error_code ec;
  int n = 0;
  for (fs::directory_iterator it("/proc/" + std::to_string(pid) + "/fd", ec), end; !ec && it != end;
       it.increment(ec)) {
    ++n;
  }
  return n;
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

class SoakTest : public CrawlFixture {
 protected:
  // MW_SOAK_KEEP=1 keeps the crawl's output to look at.
  void TearDown() override {
    if (std::getenv("MW_SOAK_KEEP") == nullptr) return CrawlFixture::TearDown();
    std::printf("[ kept     ] %s\n", dir_.c_str());
  }
};

TEST_F(SoakTest, HostileWebCrawlEndsCleanWithEveryUrlAccountedFor) {
  const std::uint64_t seed = Seed();
  std::printf("[ seed     ] MW_SOAK_SEED=%llu\n", static_cast<unsigned long long>(seed));
  SCOPED_TRACE("MW_SOAK_SEED=" + std::to_string(seed));
  const HostileWeb web(seed);
  std::map<std::string, int> robots_kinds;
  for (int i = 0; i < kHosts; ++i)
    ++robots_kinds[kRobotsNames[static_cast<int>(web.RobotsOf(Host(i)))]];
  for (auto& [name, hosts] : robots_kinds)
    std::printf("[ hosts    ] %2d: %s\n", hosts, name.c_str());

  TestServer server(
      [&](const std::string& host, const std::string& target) { return web.Serve(host, target); });
  fs::create_directories(dir_);
  const fs::path out = dir_ / "out";
  std::vector<std::string> args = {MW_BINARY,
                                   "crawl",
                                   "--out",
                                   out.string(),
                                   "--connect-to",
                                   server.connect_to(),
                                   "--allow-net",
                                   "127.0.0.1/32",
                                   "--robots",
                                   "obey",
                                   "--sitemaps",
                                   "on",
                                   "--progress",
                                   "never",
                                   "--concurrency",
                                   std::to_string(kConcurrency),
                                   "--per-host",
                                   "2",
                                   "--delay-ms",
                                   "0",
                                   "--max-pages",
                                   std::to_string(kMaxPages),
                                   "--max-depth",
                                   "50",
                                   "--connect-timeout-ms",
                                   "2000",
                                   "--timeout-ms",
                                   "5000",
                                   "--low-speed-bytes",
                                   "256",
                                   "--low-speed-s",
                                   "2",
                                   "--max-body",
                                   std::to_string(4 << 20),
                                   "--max-redirects",
                                   "10",
                                   "--retries",
                                   "2",
                                   "--retry-base-ms",
                                   "100",
                                   "--max-retry-after-s",
                                   "2",
                                   "--max-pages-per-host",
                                   "200"};
  for (int i = 0; i < kHosts; ++i) args.push_back("http://" + Host(i) + "/");

  std::fflush(stdout);  // or the child's freopen() writes what is buffered a second time
  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = ::fork();
  if (pid == 0) {
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    std::freopen((dir_ / "stdout.txt").c_str(), "w", stdout);
    std::freopen((dir_ / "stderr.txt").c_str(), "w", stderr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ASSERT_GT(pid, 0);

  // Sample the child's descriptors while it runs; kill it if it outlives the bound.
  int peak_fds = 0;
  int status = 0;
  rusage usage{};
  bool hung = false;
  for (;;) {
    const pid_t done = ::wait4(pid, &status, WNOHANG, &usage);
    if (done == pid) break;
    peak_fds = std::max(peak_fds, CountFds(pid));
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (elapsed > kWallLimitSeconds) {
      hung = true;
      ::kill(pid, SIGABRT);  // a core (if enabled) shows where it was
      ::wait4(pid, &status, 0, &usage);
      break;
    }
    std::this_thread::sleep_for(milliseconds(20));
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const std::string child_out = ReadFile(dir_ / "stdout.txt");
  const std::string child_err = ReadFile(dir_ / "stderr.txt");
  std::printf("[ measured ] crawl took %.1f s, peak RSS %ld MiB, peak fds %d (concurrency %d)\n",
              seconds, usage.ru_maxrss / 1024, peak_fds, kConcurrency);
  ASSERT_FALSE(hung) << "the crawl did not end within " << kWallLimitSeconds << " s\n"
                     << child_out << child_err;
  ASSERT_TRUE(WIFEXITED(status)) << "ended by signal " << WTERMSIG(status) << "\n"
                                 << child_out << child_err;
  ASSERT_EQ(WEXITSTATUS(status), 0) << child_out << child_err;
  EXPECT_LT(usage.ru_maxrss, kRssLimitKiB);
  EXPECT_LE(peak_fds, kConcurrency + kFdSlack);

  // Once the client is gone, so is every connection the server had.
  for (int i = 0; i < 200 && server.open_connections() > 0; ++i) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_EQ(server.open_connections(), 0) << "connections still open after the crawler exited";

  // Every line says what happened to its URL.
  const std::vector<Json> lines = ReadJsonLines(out / "pages.jsonl");
  std::map<std::string, int> by_kind;  // error_kind, or "ok"
  std::map<std::string, int> fetched;  // kind + URL -> final successful records
  std::set<std::string> seen;          // URLs with a line that says they were requested
  int responses = 0;
  for (const Json& line : lines) {
    const std::string url = line.value("url", "");
    const bool was_fetched = line.contains("fetched_at") && !line["fetched_at"].is_null();
    const bool has_error = line.contains("error_kind") && !line["error_kind"].is_null();
    if (!was_fetched) {
      EXPECT_TRUE(line.contains("skipped") && has_error && line["error"].is_string() &&
                  !line["error"].get<std::string>().empty())
          << "neither fetched nor skipped with a reason: " << line.dump();
      ++by_kind["skipped: " + line.value("skipped", "?")];
      continue;
    }
    seen.insert(url);
    ++responses;
    if (has_error) {
      ++by_kind[line["error_kind"].get<std::string>()];
    } else if (line.value("note", "").rfind("retrying", 0) == 0) {
      ++by_kind["retried"];
    } else {
      ++by_kind["ok " + std::to_string(line.value("status", 0) / 100) + "xx"];
      const int n = ++fetched[line.value("kind", "") + " " + url];
      EXPECT_EQ(n, 1) << url << " was fetched " << n << " times";
    }
  }
  const std::map<std::string, int> requests = server.requests();
  int requested = 0;
  int unaccounted = 0;
  for (const auto& [key, count] : requests) {
    requested += count;
    const std::string url = "http://" + key;
    if (seen.count(url) == 0 && ++unaccounted <= 20) {
      ADD_FAILURE() << url << " was requested " << count << " times but has no pages.jsonl line";
    }
  }
  EXPECT_EQ(unaccounted, 0);
  std::printf(
      "[ measured ] %zu pages.jsonl lines (%d with a response), %zu URLs requested "
      "(%d requests), %d hosts\n",
      lines.size(), responses, requests.size(), requested, kHosts);
  for (const auto& [kind, n] : by_kind) std::printf("[ by kind  ] %6d %s\n", n, kind.c_str());
  EXPECT_LE(responses, kMaxPages + 3 * kHosts * 3) << "--max-pages did not bound the crawl";

  // The store agrees with pages.jsonl, and the responses were archived.
  std::string error;
  std::unique_ptr<Store> store = Store::Open((out / "crawl.db").string(), &error);
  ASSERT_NE(store, nullptr) << error;
  EXPECT_EQ(store->page_count(), static_cast<std::int64_t>(lines.size()));
  int warc_files = 0;
  for (const auto& entry : fs::directory_iterator(out / "warc")) {
    warc_files += entry.path().string().ends_with(".warc.gz") && entry.file_size() > 0;
  }
  EXPECT_GT(warc_files, 0);
}

}  // namespace
}  // namespace mw::testing
