#include "crawler/frontier.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

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
