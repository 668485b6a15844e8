// kill -9 at random moments, then `mirrorwatch crawl --resume DIR`: the crawl ends with the
// same fetched URLs and findings as one that was never interrupted, and nothing the store had
// recorded as fetched is fetched again.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "crawler/store.h"
#include "tests/crawler/crawl_fixture.h"
#include "tests/crawler/node_tools.h"
#include "tests/crawler/test_server.h"

namespace mw::testing {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

constexpr int kPagesPerHost = 60;
const char* const kHosts[] = {"a.test", "b.test", "c.test"};

// Three hosts of linked pages; every seventh page is branded ("Example Agency" in its title).
Reply SiteReply(const std::string& host, const std::string& target) {
  int page = 0;
  if (target != "/" && std::sscanf(target.c_str(), "/p%d.html", &page) != 1) {
    return Reply(404, "text/plain", "not found");
  }
  std::string body = "<html><head><title>";
  body += page % 7 == 3 ? "Example Agency" : "Neutral page";
  body += "</title></head><body><p>lorem ipsum</p>";
  for (int next = page + 1; next <= page + 3 && next < kPagesPerHost; ++next) {
    body += "<a href=\"/p" + std::to_string(next) + ".html\">next</a>";
  }
  for (const char* other : kHosts) {
    if (other != host) body += "<a href=\"http://" + std::string(other) + "/p" +
                               std::to_string(page) + ".html\">there</a>";
  }
  return Reply(200, "text/html; charset=utf-8", body + "</body></html>");
}

class ResumeTest : public CrawlFixture {
 protected:
  void SetUp() override {
    CrawlFixture::SetUp();
    fs::create_directories(dir_);
    signature_file_ = (dir_ / "test.yaml").string();
    std::ofstream(signature_file_) << kTestRules;
  }

  // Starts `mirrorwatch crawl` against `server`, with `extra` options; returns its pid. Its
  // stdout goes to `output` (default: nowhere).
  pid_t Start(const TestServer& server, const fs::path& out, bool resume,
              const std::vector<std::string>& extra = {}, const fs::path& output = "/dev/null") {
    std::vector<std::string> args = {MW_BINARY,      "crawl",
                                     resume ? "--resume" : "--out", out.string(),
                                     "--connect-to", server.connect_to(),
                                     "--allow-net",  "127.0.0.1/32",
                                     "--robots",     "ignore",
                                     "--sitemaps",   "off",
                                     "--progress",   "never",
                                     "--signatures", signature_file_,
                                     "--concurrency", "4",
                                     "--per-host",   "2",
                                     "--commit-ms",  "50",
                                     "--max-depth",  "100",
                                     "http://a.test/"};
    args.insert(args.end() - 1, extra.begin(), extra.end());
    std::fflush(stdout);  // or the child's freopen() writes what is buffered a second time
    const pid_t pid = ::fork();
    if (pid == 0) {
      std::vector<char*> argv;
      for (std::string& arg : args) argv.push_back(arg.data());
      argv.push_back(nullptr);
      std::freopen(output.c_str(), "w", stdout);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    return pid;
  }

  static int Wait(pid_t pid) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    return status;
  }

  // URLs the store holds as fetched (committed), read the way `report` reads them.
  static std::set<std::string> CommittedFetches(const fs::path& out) {
    std::set<std::string> urls;
    std::string error;
    std::unique_ptr<Store> store = Store::Open((out / "crawl.db").string(), &error);
    if (!store) return urls;
    store->ForEachPageJson([&](std::string_view line) {
      const Json page = Json::parse(line);
      if (page["kind"] == "page" && !page["fetched_at"].is_null()) {
        urls.insert(page["url"].get<std::string>());
      }
    });
    return urls;
  }

  // Fetched URLs in pages.jsonl: each must appear once.
  static std::multiset<std::string> FetchedLines(const fs::path& out) {
    std::multiset<std::string> urls;
    for (const Json& line : ReadJsonLines(out / "pages.jsonl")) {
      if (line["kind"] == "page" && !line["fetched_at"].is_null()) {
        urls.insert(line["url"].get<std::string>());
      }
    }
    return urls;
  }

  static std::multiset<std::string> FindingKeys(const fs::path& out) {
    std::multiset<std::string> keys;
    for (const Json& line : ReadJsonLines(out / "findings.jsonl")) {
      keys.insert(line["url"].get<std::string>() + " " + line["outlet"].get<std::string>());
    }
    return keys;
  }

  // Sends `signal` to `pid` and waits for it to end; *seconds: how long that took.
  static int SignalAndWait(pid_t pid, int signal, double* seconds) {
    const auto start = std::chrono::steady_clock::now();
    ::kill(pid, signal);
    const int status = Wait(pid);
    *seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return status;
  }

  std::string signature_file_;
};

TEST_F(ResumeTest, KillNineAtRandomMomentsThenResumeEndsLikeAnUninterruptedCrawl) {
  const auto delay = std::chrono::milliseconds(30);  // every response: a crawl of ~1.5 s

  // The uninterrupted crawl.
  std::multiset<std::string> want_fetched;
  std::multiset<std::string> want_findings;
  {
    TestServer server(SiteReply, delay);
    const fs::path out = dir_ / "whole";
    ASSERT_EQ(Wait(Start(server, out, false)), 0);
    want_fetched = FetchedLines(out);
    want_findings = FindingKeys(out);
  }
  ASSERT_EQ(want_fetched.size(), 3u * kPagesPerHost + 1) << "every page and the root once";
  ASSERT_EQ(want_findings.size(), 3u * 9) << "pages 3, 10, ..., 59 of each host";

  const unsigned seed = std::random_device{}();
  std::mt19937 random(seed);
  SCOPED_TRACE("random seed " + std::to_string(seed));
  std::uniform_int_distribution<int> when(80, 600);

  TestServer server(SiteReply, delay);
  const fs::path out = dir_ / "killed";
  int kills = 0;
  for (int round = 0; round < 4; ++round) {
    const std::set<std::string> committed = round == 0 ? std::set<std::string>{}
                                                       : CommittedFetches(out);
    const std::map<std::string, int> before = server.requests();
    const pid_t pid = Start(server, out, round > 0);
    const int after_ms = when(random);
    std::this_thread::sleep_for(std::chrono::milliseconds(after_ms));
    const bool killed = ::kill(pid, SIGKILL) == 0;
    const int status = Wait(pid);
    if (killed && WIFSIGNALED(status)) {
      ++kills;
      std::printf("[ measured ] round %d: killed after %d ms with %zu URLs committed before\n",
                  round, after_ms, committed.size());
    } else {
      ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "round " << round;
    }
    // Nothing the store held as fetched when this run started was fetched again by it.
    const std::map<std::string, int> after = server.requests();
    for (const std::string& url : committed) {
      const std::string target = url.substr(url.find('/', 7));
      const std::string key = url.substr(7, url.find('/', 7) - 7) + target;
      auto count = [&](const std::map<std::string, int>& m) {
        auto it = m.find(key);
        return it == m.end() ? 0 : it->second;
      };
      EXPECT_EQ(count(after), count(before)) << url << " was fetched again after resuming";
    }
  }
  // Finish whatever is left.
  ASSERT_EQ(Wait(Start(server, out, true)), 0);
  EXPECT_GE(kills, 2) << "the crawl ended before most kills: make it slower";

  EXPECT_EQ(FetchedLines(out), want_fetched);
  EXPECT_EQ(FindingKeys(out), want_findings);
  EXPECT_EQ(CommittedFetches(out).size(), want_fetched.size());
  std::string error;
  std::unique_ptr<Store> store = Store::Open((out / "crawl.db").string(), &error);
  ASSERT_NE(store, nullptr) << error;
  EXPECT_EQ(store->queued_count(), 0);
  EXPECT_EQ(store->finding_count(), static_cast<std::int64_t>(want_findings.size()));
  const std::vector<RunRecord> runs = store->Runs();
  ASSERT_EQ(runs.size(), 5u);
  EXPECT_EQ(runs.front().command, "crawl");
  EXPECT_EQ(runs.back().command, "crawl --resume");
  EXPECT_FALSE(runs.back().ended_at.empty());

  // Whatever the kills tore, every WARC file reads whole: an independent reader parses every
  // record and verifies every digest.
  if (const std::string missing = NodeCheckMissing("warcio"); !missing.empty()) {
    GTEST_SKIP() << missing;
  }
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(out / "warc")) {
    files.push_back(entry.path().string());
  }
  std::string output;
  EXPECT_EQ(RunNode("verify.mjs", files, dir_ / "verify.log", &output), 0) << output;
}

// SIGTERM: no new fetches, what is in flight finishes and is recorded, the run record is
// closed, the summary says so, exit 0; --resume then finishes the crawl.
TEST_F(ResumeTest, SigtermStopsGracefullyAndResumeFinishesTheCrawl) {
  TestServer server(SiteReply, std::chrono::milliseconds(30));
  const fs::path out = dir_ / "stopped";
  const pid_t pid = Start(server, out, false, {}, dir_ / "summary.txt");
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  double seconds = 0;
  const int status = SignalAndWait(pid, SIGTERM, &seconds);
  ASSERT_TRUE(WIFEXITED(status)) << "ended by a signal";
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_LT(seconds, 2.0) << "four 30 ms transfers in flight finish at once";
  std::printf("[ measured ] SIGTERM to exit: %.0f ms\n", seconds * 1000);
  std::ifstream in(dir_ / "summary.txt");
  const std::string summary((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(summary.find("stopped by SIGTERM"), std::string::npos) << summary;

  std::string error;
  std::set<std::string> committed;
  {
    std::unique_ptr<Store> store = Store::Open((out / "crawl.db").string(), &error);
    ASSERT_NE(store, nullptr) << error;
    const std::vector<RunRecord> runs = store->Runs();
    ASSERT_EQ(runs.size(), 1u);
    EXPECT_FALSE(runs[0].ended_at.empty()) << "the run record is closed";
    EXPECT_EQ(Json::parse(runs[0].summary_json)["stopped_by"], "SIGTERM");
    EXPECT_GT(store->queued_count(), 0);
    committed = CommittedFetches(out);
    EXPECT_EQ(committed.size(), FetchedLines(out).size())
        << "everything fetched was recorded: nothing in flight was lost";
  }
  const std::map<std::string, int> before = server.requests();
  ASSERT_EQ(Wait(Start(server, out, true)), 0);
  const std::map<std::string, int> after = server.requests();
  for (const std::string& url : committed) {
    const std::string key = url.substr(7, url.find('/', 7) - 7) + url.substr(url.find('/', 7));
    EXPECT_EQ(after.at(key), before.at(key)) << url << " was fetched again";
  }
  EXPECT_EQ(FetchedLines(out).size(), 3u * kPagesPerHost + 1);
  EXPECT_EQ(FindingKeys(out).size(), 3u * 9);
}

// Transfers that do not finish within --shutdown-grace-ms are abandoned (their URLs stay
// queued); a second signal ends the process at once, and the store is intact after it.
TEST_F(ResumeTest, SlowTransfersAreAbandonedAfterTheGraceAndASecondSignalStopsAtOnce) {
  std::atomic<bool> slow{true};
  TestServer server([&](const std::string& host, const std::string& target) {
    Reply reply = SiteReply(host, target);
    if (slow && target != "/") reply.stall = std::chrono::milliseconds(5'000);
    return reply;
  });
  const fs::path out = dir_ / "slow";
  pid_t pid = Start(server, out, false, {"--shutdown-grace-ms", "300"});
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  double seconds = 0;
  int status = SignalAndWait(pid, SIGINT, &seconds);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_GT(seconds, 0.25);
  EXPECT_LT(seconds, 2.0) << "the 5 s transfers were not waited for";
  std::printf("[ measured ] SIGINT with 5 s transfers in flight, 300 ms grace: exit after %.0f ms\n",
              seconds * 1000);

  pid = Start(server, out, true);
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  ::kill(pid, SIGINT);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  status = SignalAndWait(pid, SIGINT, &seconds);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the second signal ends it at once";
  EXPECT_EQ(WTERMSIG(status), SIGINT);
  EXPECT_LT(seconds, 1.0);

  slow = false;
  ASSERT_EQ(Wait(Start(server, out, true)), 0);
  EXPECT_EQ(FetchedLines(out).size(), 3u * kPagesPerHost + 1);
  EXPECT_EQ(FindingKeys(out).size(), 3u * 9);
  std::string error;
  std::unique_ptr<Store> store = Store::Open((out / "crawl.db").string(), &error);
  ASSERT_NE(store, nullptr) << error;
  EXPECT_EQ(store->queued_count(), 0);
}

}  // namespace
}  // namespace mw::testing
