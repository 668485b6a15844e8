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
