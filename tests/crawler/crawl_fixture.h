// What the crawl tests share: a temp dir per test, a one-rule signature set, options that send
// every host to a test server on loopback, and readers for the JSONL the crawl writes.
#ifndef MIRRORWATCH_TESTS_CRAWLER_CRAWL_FIXTURE_H_
#define MIRRORWATCH_TESTS_CRAWLER_CRAWL_FIXTURE_H_

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "crawler/crawl.h"
#include "signatures/signature_set.h"
#include "tests/crawler/temp_dir.h"

namespace mw::testing {

inline std::vector<nlohmann::json> ReadJsonLines(const std::filesystem::path& path) {
  std::vector<nlohmann::json> lines;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) lines.push_back(nlohmann::json::parse(line));
  return lines;
}

// One outlet, one rule: a page titled "Example Agency" is flagged.
inline constexpr char kTestRules[] = R"(
version: 1
outlets:
  - id: example
    name: Example Agency
    threshold: 5
    rules:
      - id: example.title
        fields: [title]
        literal: Example Agency
        weight: 5
)";

class CrawlFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = FreshTestDir();
    std::filesystem::remove_all(dir_);  // crawls create it: some tests check that they do
    std::vector<SignatureDiagnostic> errors;
    signatures_ = SignatureSet::LoadString(kTestRules, "test.yaml", &errors);
    ASSERT_NE(signatures_, nullptr) << (errors.empty() ? "" : errors[0].ToString());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Every host goes to `connect_to` (a test server on 127.0.0.1, which the SSRF guard is told
  // to allow); robots.txt and sitemaps are off unless a test turns them on; retries are quick.
  CrawlOptions BaseOptions(const std::string& connect_to) const {
    CrawlOptions options;
    options.out_dir = dir_.string();
    options.connect_to = {connect_to};
    options.progress = "never";
    options.max_depth = 100;
    options.allow_net = {"127.0.0.1/32"};
    options.robots = "ignore";
    options.sitemaps = false;
    options.retry_base_ms = 10;
    return options;
  }

  std::vector<nlohmann::json> Lines() const { return ReadJsonLines(dir_ / "pages.jsonl"); }
  std::vector<nlohmann::json> Findings() const { return ReadJsonLines(dir_ / "findings.jsonl"); }

  // The pages.jsonl line of each URL (the last one, when a URL has several).
  std::map<std::string, nlohmann::json> Pages() const {
    std::map<std::string, nlohmann::json> pages;
    for (auto& line : Lines()) pages[line["url"].get<std::string>()] = line;
    return pages;
  }

  std::filesystem::path dir_;
  std::unique_ptr<SignatureSet> signatures_;
};

}  // namespace mw::testing

#endif  // MIRRORWATCH_TESTS_CRAWLER_CRAWL_FIXTURE_H_
