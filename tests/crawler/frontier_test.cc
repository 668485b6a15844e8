#include "crawler/frontier.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "crawler/store.h"
#include "tests/crawler/temp_dir.h"

namespace mw {
namespace {

Url U(const std::string& text) { return *ParseUrl(text); }

TEST(Frontier, DeduplicatesNormalisedUrls) {
  auto frontier = NewMemoryFrontier(2);
  EXPECT_TRUE(frontier->Add(U("http://a.test/x"), 0, ""));
  EXPECT_FALSE(frontier->Add(U("HTTP://A.TEST:80/x#frag"), 0, "")) << "same URL normalised";
  EXPECT_FALSE(frontier->MarkSeen("http://a.test/x"));
  EXPECT_TRUE(frontier->MarkSeen("http://a.test/y"));
  EXPECT_FALSE(frontier->Add(U("http://a.test/y"), 0, "")) << "marked seen before";
  EXPECT_EQ(frontier->queued(), 1u);
  EXPECT_EQ(frontier->seen(), 2u);
}

TEST(Frontier, PerHostCapHoldsUntilRelease) {
  auto frontier = NewMemoryFrontier(2);
  for (int i = 0; i < 5; ++i) frontier->Add(U("http://a.test/" + std::to_string(i)), 0, "");
  auto first = frontier->Next();
  auto second = frontier->Next();
  ASSERT_TRUE(first && second);
  EXPECT_FALSE(frontier->Next()) << "a third would exceed the per-host cap of 2";
  frontier->Release(first->host_key);
  EXPECT_TRUE(frontier->Next()) << "a released slot is usable again";
}

TEST(Frontier, ShallowestHostFirstThenRoundRobin) {
  auto frontier = NewMemoryFrontier(1);
  frontier->Add(U("http://deep.test/"), 3, "");
  frontier->Add(U("http://a.test/1"), 1, "");
  frontier->Add(U("http://a.test/2"), 1, "");
  frontier->Add(U("http://b.test/1"), 1, "");
  std::vector<std::string> order;
  while (auto entry = frontier->Next()) {
    order.push_back(entry->url);
    frontier->Release(entry->host_key);
  }
  const std::vector<std::string> expected = {"http://a.test/1", "http://b.test/1",
                                             "http://a.test/2", "http://deep.test/"};
  EXPECT_EQ(order, expected);
}

TEST(Frontier, PortsAreSeparateHosts) {
  auto frontier = NewMemoryFrontier(1);
  frontier->Add(U("http://a.test/"), 0, "");
  frontier->Add(U("http://a.test:8080/"), 0, "");
  auto one = frontier->Next();
  auto two = frontier->Next();
  ASSERT_TRUE(one && two) << "a.test and a.test:8080 each get their own slot";
  EXPECT_NE(one->host_key, two->host_key);
  EXPECT_EQ(frontier->hosts(), 2u);
}

}  // namespace
}  // namespace mw

namespace mw {
namespace {

// A clock the test moves by hand.
struct FakeClock {
  SteadyTime now{};
  SteadyClock get() {
    return [this] { return now; };
  }
};

TEST(Frontier, DelaySpacesTheStartsOfFetchesToOneHost) {
  FakeClock clock;
  auto frontier = NewMemoryFrontier(4, clock.get());
  for (int i = 0; i < 3; ++i) frontier->Add(U("http://a.test/" + std::to_string(i)), 0, "");
  frontier->SetDelay("a.test", std::chrono::milliseconds(500));
  ASSERT_TRUE(frontier->Next());
  EXPECT_FALSE(frontier->Next()) << "the cap allows 4, but the delay has not passed";
  ASSERT_TRUE(frontier->NextWake());
  EXPECT_EQ(*frontier->NextWake(), clock.now + std::chrono::milliseconds(500));
  clock.now += std::chrono::milliseconds(499);
  EXPECT_FALSE(frontier->Next());
  clock.now += std::chrono::milliseconds(1);
  EXPECT_TRUE(frontier->Next()) << "500 ms after the first start";
}

TEST(Frontier, BlockedHostWaitsOthersGoOn) {
  FakeClock clock;
  auto frontier = NewMemoryFrontier(1, clock.get());
  frontier->Add(U("http://a.test/"), 0, "");
  frontier->Block("a.test");
  frontier->Add(U("http://b.test/"), 0, "");
  auto entry = frontier->Next();
  ASSERT_TRUE(entry);
  EXPECT_EQ(entry->url, "http://b.test/") << "a.test is blocked (robots.txt pending)";
  EXPECT_FALSE(frontier->Next());
  frontier->Unblock("a.test");
  entry = frontier->Next();
  ASSERT_TRUE(entry);
  EXPECT_EQ(entry->url, "http://a.test/");
}

TEST(Frontier, DeferParksAHostAndRetryComesFirst) {
  FakeClock clock;
  auto frontier = NewMemoryFrontier(1, clock.get());
  frontier->Add(U("http://a.test/1"), 0, "");
  frontier->Add(U("http://a.test/2"), 0, "");
  auto first = frontier->Next();
  ASSERT_TRUE(first);
  frontier->Release(first->host_key);
  frontier->Retry(*first);
  frontier->Defer("a.test", clock.now + std::chrono::seconds(10));
  EXPECT_FALSE(frontier->Next()) << "parked, not hammered";
  clock.now += std::chrono::seconds(10);
  auto again = frontier->Next();
  ASSERT_TRUE(again);
  EXPECT_EQ(again->url, "http://a.test/1") << "the retried URL goes first";
  EXPECT_EQ(again->attempts, 1);
}

TEST(Frontier, RegroupedHostsShareOneBudget) {
  FakeClock clock;
  auto frontier = NewMemoryFrontier(1, clock.get());
  frontier->Add(U("http://a.test/"), 0, "");
  frontier->Add(U("http://b.test/"), 0, "");
  frontier->Regroup("a.test", "192.0.2.7");
  frontier->Regroup("b.test", "192.0.2.7");
  auto one = frontier->Next();
  ASSERT_TRUE(one);
  EXPECT_FALSE(frontier->Next()) << "one slot for the IP both hosts resolve to";
  frontier->Release(one->host_key);
  EXPECT_TRUE(frontier->Next());
}

TEST(Frontier, DropReturnsWhatWasQueued) {
  auto frontier = NewMemoryFrontier(1);
  frontier->Add(U("http://a.test/1"), 0, "");
  frontier->Add(U("http://a.test/2"), 0, "");
  frontier->Add(U("http://b.test/1"), 0, "");
  auto dropped = frontier->Drop("a.test");
  EXPECT_EQ(dropped.size(), 2u);
  EXPECT_EQ(frontier->queued(), 1u);
  auto entry = frontier->Next();
  ASSERT_TRUE(entry);
  EXPECT_EQ(entry->url, "http://b.test/1");
}

}  // namespace
}  // namespace mw

namespace mw {
namespace {

// Passes every call on to the log underneath, and notes what the frontier asked of it.
class WatchedLog final : public FrontierLog {
 public:
  struct SeenCall {
    std::int64_t id;
    std::string spec;
    std::string host_key;
    std::int64_t via_id;
  };

  explicit WatchedLog(FrontierLog* log) : log_(log) {}

  void Queued(const FrontierEntry& entry) override { log_->Queued(entry); }
  void Seen(std::int64_t id, const std::string& spec, const std::string& host_key,
            std::int64_t via_id) override {
    seen_calls.push_back({id, spec, host_key, via_id});
    log_->Seen(id, spec, host_key, via_id);
  }
  void Retried(std::int64_t id, int attempts) override { log_->Retried(id, attempts); }
  void Done(std::int64_t id) override { log_->Done(id); }
  void DoneHost(const std::string& host_key) override {
    done_hosts.push_back(host_key);
    log_->DoneHost(host_key);
  }
  std::vector<FrontierEntry> LoadQueued(const std::string& host_key, std::int64_t after_id,
                                        std::size_t limit) override {
    std::vector<FrontierEntry> loaded = log_->LoadQueued(host_key, after_id, limit);
    ++loads;
    largest_load = std::max(largest_load, loaded.size());
    return loaded;
  }
  void ForEachUrl(const std::function<void(std::int64_t, std::string_view)>& fn) override {
    log_->ForEachUrl(fn);
  }
  std::vector<std::pair<std::string, std::int64_t>> QueuedHosts() override {
    return log_->QueuedHosts();
  }

  int loads = 0;                 // LoadQueued calls
  std::size_t largest_load = 0;  // the most entries one of them returned
  std::vector<std::string> done_hosts;
  std::vector<SeenCall> seen_calls;

 private:
  FrontierLog* log_;
};

// Hands out everything that may go now, releasing each entry at once; returns the URLs.
std::vector<std::string> Drain(Frontier& frontier) {
  std::vector<std::string> urls;
  while (auto entry = frontier.Next()) {
    urls.push_back(entry->url);
    frontier.Release(entry->host_key);
  }
  return urls;
}

std::vector<std::string> Numbered(const std::string& prefix, int from, int to) {
  std::vector<std::string> urls;
  for (int i = from; i <= to; ++i) urls.push_back(prefix + std::to_string(i));
  return urls;
}

// Each test gets a Store (crawl.db) of its own in a temp dir, watched.
class FrontierWithLog : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::FreshTestDir();
    Open();
  }
  void TearDown() override {
    watched_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  void Open() {
    std::string error;
    store_ = Store::Open((dir_ / "crawl.db").string(), &error);
    ASSERT_NE(store_, nullptr) << error;
    watched_ = std::make_unique<WatchedLog>(store_.get());
  }
  // Closes crawl.db and opens it again, as the next run after a crash does.
  void Reopen() {
    watched_.reset();
    store_.reset();
    Open();
  }

  std::unique_ptr<Frontier> Make(std::size_t buffered_per_host, int per_group = 1) {
    return NewFrontier(Config(buffered_per_host, per_group));
  }
  std::unique_ptr<Frontier> Restore(std::size_t buffered_per_host, int per_group = 1) {
    return RestoreFrontier(Config(buffered_per_host, per_group));
  }
  FrontierConfig Config(std::size_t buffered_per_host, int per_group) {
    return FrontierConfig{.per_group = per_group,
                          .clock = clock_.get(),
                          .log = watched_.get(),
                          .buffered_per_host = buffered_per_host};
  }

  std::filesystem::path dir_;
  FakeClock clock_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<WatchedLog> watched_;
};

TEST_F(FrontierWithLog, LongHostComesOutInOrderThroughABoundedBuffer) {
  auto frontier = Make(8);
  const std::vector<std::string> urls = Numbered("http://big.test/", 1, 10000);
  for (const std::string& url : urls) ASSERT_TRUE(frontier->Add(U(url), 1, ""));
  EXPECT_EQ(frontier->queued(), 10000u);
  EXPECT_EQ(watched_->loads, 0) << "nothing is read back while the buffer has URLs";
  EXPECT_EQ(Drain(*frontier), urls);
  EXPECT_EQ(frontier->queued(), 0u);
  EXPECT_EQ(watched_->loads, (10000 - 8) / 8) << "one read per 8 URLs past the first 8";
  EXPECT_EQ(watched_->largest_load, 8u) << "never more than buffered_per_host at a time";
}

TEST_F(FrontierWithLog, SpilledHostsStayBreadthFirst) {
  auto frontier = Make(2);
  for (const std::string& url : Numbered("http://a.test/", 1, 4)) frontier->Add(U(url), 1, "");
  frontier->Add(U("http://b.test/1"), 1, "");
  frontier->Add(U("http://b.test/2"), 2, "");
  frontier->Add(U("http://c.test/1"), 0, "");
  // a.test/3 and a.test/4 were only written to the log; a.test still takes its turns at
  // depth 1, before b.test/2 at depth 2.
  const std::vector<std::string> expected = {
      "http://c.test/1", "http://a.test/1", "http://b.test/1", "http://a.test/2",
      "http://a.test/3", "http://a.test/4", "http://b.test/2"};
  EXPECT_EQ(Drain(*frontier), expected);
}

TEST_F(FrontierWithLog, SpillingNeverChangesTheOrder) {
  // The same calls to a frontier holding everything in memory and to one holding 3 URLs a
  // host: the same entries come out in the same order.
  auto memory = NewMemoryFrontier(2, clock_.get());
  auto logged = Make(3, 2);
  std::mt19937 random(5);
  std::deque<FrontierEntry> in_flight;
  for (int step = 0; step < 20000; ++step) {
    const unsigned op = random() % 8;
    if (op < 4) {
      const Url url =
          U("http://h" + std::to_string(random() % 6) + ".test/" + std::to_string(random() % 4000));
      const int depth = static_cast<int>(random() % 3);
      ASSERT_EQ(memory->Add(url, depth, ""), logged->Add(url, depth, "")) << url.spec;
    } else if (op < 6) {
      auto from_memory = memory->Next();
      auto from_log = logged->Next();
      ASSERT_EQ(from_memory.has_value(), from_log.has_value()) << "step " << step;
      if (!from_memory) continue;
      ASSERT_EQ(from_memory->url, from_log->url) << "step " << step;
      ASSERT_EQ(from_memory->id, from_log->id);
      ASSERT_EQ(from_memory->attempts, from_log->attempts);
      in_flight.push_back(*from_memory);
    } else if (!in_flight.empty()) {
      FrontierEntry entry = in_flight.front();
      in_flight.pop_front();
      memory->Release(entry.host_key);
      logged->Release(entry.host_key);
      if (op == 7) {
        memory->Retry(entry);
        logged->Retry(entry);
      }
    }
    ASSERT_EQ(memory->queued(), logged->queued());
  }
  for (const FrontierEntry& entry : in_flight) {
    memory->Release(entry.host_key);
    logged->Release(entry.host_key);
  }
  EXPECT_EQ(Drain(*memory), Drain(*logged));
  EXPECT_GT(watched_->loads, 100) << "the test spilled, or it proves nothing";
}

TEST_F(FrontierWithLog, RetryOfASpilledHostGoesFirst) {
  auto frontier = Make(2, 2);
  for (const std::string& url : Numbered("http://a.test/", 1, 5)) frontier->Add(U(url), 0, "");
  auto first = frontier->Next();
  auto second = frontier->Next();  // drains the buffer: a.test/3 and /4 are read back
  ASSERT_TRUE(first && second);
  frontier->Release(first->host_key);
  frontier->Retry(*first);
  const std::vector<FrontierEntry> in_log = store_->LoadQueued("a.test", 0, 1);
  ASSERT_EQ(in_log.size(), 1u);
  EXPECT_EQ(in_log[0].attempts, 1) << "the retry is in the log";
  auto again = frontier->Next();
  ASSERT_TRUE(again);
  EXPECT_EQ(again->url, "http://a.test/1");
  EXPECT_EQ(again->attempts, 1);
  frontier->Release(again->host_key);
  frontier->Release(second->host_key);
  const std::vector<std::string> rest = {"http://a.test/3", "http://a.test/4", "http://a.test/5"};
  EXPECT_EQ(Drain(*frontier), rest);
}

TEST_F(FrontierWithLog, DropReturnsSpilledUrlsAndEndsTheHostInTheLog) {
  auto frontier = Make(2);
  for (const std::string& url : Numbered("http://a.test/", 1, 7)) frontier->Add(U(url), 0, "");
  frontier->Add(U("http://b.test/1"), 1, "");
  auto taken = frontier->Next();
  ASSERT_TRUE(taken);
  ASSERT_EQ(taken->url, "http://a.test/1");
  std::vector<std::string> dropped;
  for (const FrontierEntry& entry : frontier->Drop("a.test")) dropped.push_back(entry.url);
  EXPECT_EQ(dropped, Numbered("http://a.test/", 2, 7)) << "in memory and in the log, in order";
  EXPECT_EQ(watched_->done_hosts, std::vector<std::string>{"a.test"});
  EXPECT_TRUE(store_->LoadQueued("a.test", 0, 100).empty());
  EXPECT_EQ(frontier->queued(), 1u);
  frontier->Release(taken->host_key);
  EXPECT_EQ(Drain(*frontier), std::vector<std::string>{"http://b.test/1"});
}

TEST_F(FrontierWithLog, MarkSeenWritesTheUrlAndItsHost) {
  auto frontier = Make(2);
  frontier->Add(U("http://a.test/"), 0, "");
  EXPECT_TRUE(frontier->MarkSeen("http://c.test:8080/x", 1));
  EXPECT_FALSE(frontier->MarkSeen("http://c.test:8080/x", 1));
  ASSERT_EQ(watched_->seen_calls.size(), 1u);
  const WatchedLog::SeenCall& call = watched_->seen_calls[0];
  EXPECT_EQ(call.id, 2);
  EXPECT_EQ(call.spec, "http://c.test:8080/x");
  EXPECT_EQ(call.host_key, "c.test:8080");
  EXPECT_EQ(call.via_id, 1);
}

TEST_F(FrontierWithLog, RestoreAfterACrash) {
  std::int64_t done_id = 0;
  {
    auto frontier = Make(2);
    for (const std::string& url : Numbered("http://a.test/", 1, 4)) frontier->Add(U(url), 1, "");
    frontier->Add(U("http://b.test/1"), 1, "http://a.test/1", 0, 1);
    frontier->Add(U("http://b.test/2"), 2, "");
    frontier->MarkSeen("http://c.test/skipped");
    auto done = frontier->Next();   // a.test/1: fetched and dealt with
    auto taken = frontier->Next();  // b.test/1: handed out, then the crawl died
    ASSERT_TRUE(done && taken);
    ASSERT_EQ(done->url, "http://a.test/1");
    ASSERT_EQ(taken->url, "http://b.test/1");
    frontier->Release(done->host_key);
    auto retried = frontier->Next();  // a.test/2: failed once, given back
    ASSERT_TRUE(retried);
    frontier->Release(retried->host_key);
    frontier->Retry(*retried);
    watched_->Done(done->id);
    done_id = done->id;
  }  // the crawl dies here: nothing more reaches the log
  Reopen();

  auto frontier = Restore(2);
  EXPECT_EQ(frontier->seen(), 7u);
  EXPECT_FALSE(frontier->Add(U("http://a.test/1"), 0, "")) << "fetched before the crash";
  EXPECT_FALSE(frontier->Add(U("http://a.test/4"), 0, "")) << "still queued";
  EXPECT_FALSE(frontier->MarkSeen("http://c.test/skipped"));
  EXPECT_EQ(frontier->queued(), 5u) << "a.test/2-4, b.test/1 (not Done) and b.test/2";
  EXPECT_TRUE(frontier->MarkSeen("http://c.test/new"));
  EXPECT_EQ(watched_->seen_calls.back().id, 8) << "ids go on after the largest";

  std::vector<FrontierEntry> out;
  while (auto entry = frontier->Next()) {
    out.push_back(*entry);
    frontier->Release(entry->host_key);
  }
  std::vector<std::string> urls;
  for (const FrontierEntry& entry : out) {
    EXPECT_NE(entry.id, done_id);
    urls.push_back(entry.url);
  }
  // b.test/1 was handed out and never Done: it comes back, at depth 1, with where it came
  // from; a.test/2 keeps its attempt.
  const std::vector<std::string> expected = {"http://a.test/2", "http://b.test/1",
                                             "http://a.test/3", "http://a.test/4",
                                             "http://b.test/2"};
  EXPECT_EQ(urls, expected);
  ASSERT_EQ(out.size(), expected.size());
  EXPECT_EQ(out[0].attempts, 1);
  EXPECT_EQ(out[1].via, "http://a.test/1");
  EXPECT_EQ(out[1].via_id, 1);
  EXPECT_EQ(out[1].depth, 1);
}

TEST(Frontier, SentPushesTheNextStart) {
  FakeClock clock;
  auto frontier = NewMemoryFrontier(4, clock.get());
  for (const std::string& url : Numbered("http://a.test/", 1, 3)) frontier->Add(U(url), 0, "");
  frontier->SetDelay("a.test", std::chrono::milliseconds(500));
  const SteadyTime start = clock.now;
  ASSERT_TRUE(frontier->Next());
  // The connection took 300 ms to set up: the request went out at +300, so the next may
  // start at +800, not +500.
  frontier->Sent("a.test", start + std::chrono::milliseconds(300));
  EXPECT_EQ(frontier->NextWake(), start + std::chrono::milliseconds(800));
  frontier->Sent("a.test", start + std::chrono::milliseconds(100));
  EXPECT_EQ(frontier->NextWake(), start + std::chrono::milliseconds(800))
      << "an earlier send never brings the next start forward";
  clock.now = start + std::chrono::milliseconds(799);
  EXPECT_FALSE(frontier->Next());
  clock.now = start + std::chrono::milliseconds(800);
  EXPECT_TRUE(frontier->Next());
}

TEST(Frontier, SeenSetHoldsManyUrlsThroughItsResizes) {
  auto frontier = NewMemoryFrontier(1);
  const int n = 100000;  // 0.7 * 2^17 > n: the table doubles from 16 to 2^18 slots
  for (int i = 0; i < n; ++i) {
    ASSERT_TRUE(
        frontier->MarkSeen("http://h" + std::to_string(i % 97) + ".test/p" + std::to_string(i)))
        << i;
  }
  EXPECT_EQ(frontier->seen(), static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    ASSERT_FALSE(
        frontier->MarkSeen("http://h" + std::to_string(i % 97) + ".test/p" + std::to_string(i)))
        << i << " was found after the resizes";
  }
  EXPECT_EQ(frontier->seen(), static_cast<std::size_t>(n));
}

}  // namespace
}  // namespace mw
