// A crawl's evidence end to end: WARC files that an independent reader verifies, findings and
// verdicts that point at their records, and the audit record of the run (chain of custody).
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "crawler/crawl.h"
#include "crawler/store.h"
#include "crawler/warc.h"
#include "tests/crawler/crawl_fixture.h"
#include "tests/crawler/node_tools.h"
#include "tests/crawler/test_server.h"

namespace mw::testing {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

const std::string kChunkedBody = "<title>Example Agency</title><p>neutral filler</p>";

std::string Hex(std::size_t n) {
  char text[20];
  std::snprintf(text, sizeof text, "%zx", n);
  return text;
}

// hub.test links to two hosts; mirror.test is branded on two pages, one of them sent chunked.
Reply EvidenceSite(const std::string& host, const std::string& target) {
  if (host == "hub.test" && target == "/") {
    return Reply(200, "text/html", R"(<title>Links</title>
      <a href="http://mirror.test/">a</a> <a href="http://plain.test/">b</a>)");
  }
  if (host == "plain.test" && target == "/") {
    return Reply(200, "text/html", "<title>Neutral page</title><p>lorem ipsum</p>",
                 {{"Server", "plain-server/1.0"}});
  }
  if (host == "mirror.test" && target == "/") {
    return Reply(200, "text/html",
                 R"(<title>Example Agency</title><a href="/news.html">news</a>)",
                 {{"Server", "mirror-server/2.0"}, {"ETag", "\"v1\""}});
  }
  if (host == "mirror.test" && target == "/news.html") {
    return Reply::Raw("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
                      "Transfer-Encoding: chunked\r\nServer: mirror-server/2.1\r\n"
                      "Connection: close\r\n\r\n" +
                      Hex(kChunkedBody.size()) + "\r\n" + kChunkedBody + "\r\n0\r\n\r\n");
  }
  return Reply(404, "text/plain", "not found");
}

class EvidenceTest : public CrawlFixture {};

TEST_F(EvidenceTest, EveryResponseIsArchivedAndEveryFindingPointsAtItsRecord) {
  TestServer server(EvidenceSite);
  CrawlOptions options = BaseOptions(server.connect_to());
  options.seeds = {"http://hub.test/"};
  options.case_ref = "CASE-42/2026";
  CrawlSummary summary;
  ASSERT_EQ(RunCrawl(options, *signatures_, &summary), "");
  ASSERT_EQ(summary.flagged_pages, 2);

  // Every fetched page line names its response record.
  int fetched = 0;
  for (const Json& line : Lines()) {
    if (line["fetched_at"].is_null()) continue;
    ++fetched;
    ASSERT_TRUE(line.contains("warc")) << line.dump();
    EXPECT_TRUE(fs::exists(dir_ / "warc" / line["warc"]["file"].get<std::string>()));
  }
  EXPECT_EQ(fetched, 4);

  // Each finding's record is the response it was scored from, digest and all.
  const auto findings = Findings();
  ASSERT_EQ(findings.size(), 2u);
  for (const Json& finding : findings) {
    const Json& ref = finding["warc"];
    const WarcMember member = ReadRecordAt(
        (dir_ / "warc" / ref["file"].get<std::string>()).string(), ref["offset"].get<std::uint64_t>());
    ASSERT_TRUE(member.ok()) << member.error;
    EXPECT_EQ(member.length, ref["length"].get<std::uint64_t>());
    const std::string& record = member.record;
    EXPECT_NE(record.find("WARC-Type: response\r\n"), std::string::npos);
    EXPECT_NE(record.find("WARC-Record-ID: " + ref["record_id"].get<std::string>()),
              std::string::npos);
    EXPECT_NE(record.find("WARC-Target-URI: " + finding["final_url"].get<std::string>()),
              std::string::npos);
    EXPECT_NE(record.find("WARC-IP-Address: 127.0.0.1\r\n"), std::string::npos);
    EXPECT_NE(record.find("Mirrorwatch-Payload-Digest: sha256:" + ref["sha256"].get<std::string>()),
              std::string::npos);
  }
  // The chunked page is stored as it came: with its chunk framing.
  std::string error;
  std::unique_ptr<Store> store = Store::Open((dir_ / "crawl.db").string(), &error);
  ASSERT_NE(store, nullptr) << error;
  const std::optional<HostVerdict> verdict = store->Verdict("mirror.test");
  ASSERT_TRUE(verdict.has_value());
  bool saw_chunked = false;
  for (const Evidence& evidence : verdict->top_evidence) {
    const WarcMember member =
        ReadRecordAt((dir_ / "warc" / evidence.warc.file).string(),
                     static_cast<std::uint64_t>(evidence.warc.offset));
    ASSERT_TRUE(member.ok()) << member.error;
    if (member.record.find("Transfer-Encoding: chunked\r\n") != std::string::npos) {
      saw_chunked = true;
      EXPECT_NE(member.record.find("\r\n\r\n" + Hex(kChunkedBody.size()) + "\r\n<title>"),
                std::string::npos)
          << "the chunk size line is kept";
    }
    // The finding itself is archived beside it, as a metadata record.
    ASSERT_FALSE(evidence.metadata.file.empty());
    const WarcMember metadata = ReadRecordAt((dir_ / "warc" / evidence.metadata.file).string(),
                                             static_cast<std::uint64_t>(evidence.metadata.offset));
    ASSERT_TRUE(metadata.ok()) << metadata.error;
    EXPECT_NE(metadata.record.find("WARC-Type: metadata\r\n"), std::string::npos);
    EXPECT_NE(metadata.record.find("WARC-Concurrent-To: " + evidence.warc.record_id),
              std::string::npos);
    EXPECT_NE(metadata.record.find("\"outlet\":\"example\""), std::string::npos);
  }
  EXPECT_TRUE(saw_chunked);

  // The verdict: what a referral is about.
  EXPECT_EQ(verdict->outlets, std::vector<std::string>{"example"});
  EXPECT_EQ(verdict->flagged_pages, 2);
  EXPECT_EQ(verdict->ips, std::vector<std::string>{"127.0.0.1"});
  EXPECT_EQ(verdict->server, "mirror-server/2.1") << "the latest Server header";
  EXPECT_EQ(verdict->discovery_path,
            (std::vector<std::string>{"http://hub.test/", "http://mirror.test/"}));
  EXPECT_EQ(verdict->linked_from, std::vector<std::string>{"http://hub.test/"});
  EXPECT_FALSE(store->Verdict("plain.test").has_value());
  // The crawl keeps each flagged page's validators: the first re-check can ask conditionally.
  bool saw_etag = false;
  for (const RecheckTarget& target : store->RecheckTargets()) {
    if (target.url == "http://mirror.test/") saw_etag = target.etag == "\"v1\"";
  }
  EXPECT_TRUE(saw_etag);

  // The audit record: what an independent party needs to repeat the crawl.
  const std::vector<RunRecord> runs = store->Runs();
  ASSERT_EQ(runs.size(), 1u);
  const RunRecord& run = runs[0];
  EXPECT_EQ(run.command, "crawl");
  EXPECT_EQ(run.case_ref, "CASE-42/2026");
  EXPECT_EQ(run.version, MW_VERSION);
  EXPECT_EQ(run.signatures_sha256, signatures_->sha256());
  EXPECT_FALSE(run.hostname.empty());
  EXPECT_FALSE(run.started_at.empty());
  EXPECT_FALSE(run.ended_at.empty());
  EXPECT_LE(run.started_at, run.ended_at);
  const Json config = Json::parse(run.config_json);
  EXPECT_EQ(config["seed_urls"], Json::array({"http://hub.test/"}));
  EXPECT_EQ(config["case"], "CASE-42/2026");
  EXPECT_EQ(config["connect-to"], server.connect_to());
  EXPECT_EQ(Json::parse(run.summary_json)["flagged_pages"], 2);
  ASSERT_EQ(run.warc_files.size(), 1u);
  ASSERT_EQ(run.warcinfo_ids.size(), 1u);
  const WarcMember warcinfo = ReadRecordAt((dir_ / "warc" / run.warc_files[0]).string(), 0);
  ASSERT_TRUE(warcinfo.ok()) << warcinfo.error;
  EXPECT_NE(warcinfo.record.find("WARC-Record-ID: " + run.warcinfo_ids[0]), std::string::npos);
  EXPECT_NE(warcinfo.record.find("case: CASE-42/2026\r\n"), std::string::npos);
  EXPECT_NE(warcinfo.record.find("signatures-sha256: " + signatures_->sha256()),
            std::string::npos);
  EXPECT_NE(warcinfo.record.find("hostname: " + run.hostname), std::string::npos);

  // An independent reader parses every record and verifies every digest.
  if (const std::string missing = NodeCheckMissing("warcio"); !missing.empty()) {
    GTEST_SKIP() << missing;
  }
  std::vector<std::string> files;
  for (const std::string& name : run.warc_files) files.push_back((dir_ / "warc" / name).string());
  std::string output;
  EXPECT_EQ(RunNode("verify.mjs", files, dir_ / "verify.log", &output), 0) << output;
}

// A kill -9 while a record is being written leaves its gzip member half there. The store never
// names such a record (it is told after the write), so --resume cuts the torn tail off and the
// file ends after its last whole record again.
TEST_F(EvidenceTest, ResumeCutsTheTornTailOfAWarcFileAKillLeft) {
  TestServer server(EvidenceSite);
  CrawlOptions options = BaseOptions(server.connect_to());
  options.seeds = {"http://hub.test/"};
  CrawlSummary summary;
  ASSERT_EQ(RunCrawl(options, *signatures_, &summary), "");
  std::string error;
  std::vector<RunRecord> runs = Store::Open((dir_ / "crawl.db").string(), &error)->Runs();
  ASSERT_EQ(runs.size(), 1u) << error;
  const fs::path file = dir_ / "warc" / runs[0].warc_files.back();
  const std::uintmax_t whole = fs::file_size(file);

  // As a kill leaves it: half of one more member at the end, and a run that never ended.
  const WarcMember first = ReadRecordAt(file.string(), 0);
  ASSERT_TRUE(first.ok());
  std::string bytes(first.length / 2, '\0');
  std::ifstream(file, std::ios::binary).read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  std::ofstream(file, std::ios::binary | std::ios::app) << bytes;
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ / "crawl.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE runs SET ended_at = NULL", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  ASSERT_GT(fs::file_size(file), whole);

  options.resume = true;
  ASSERT_EQ(RunCrawl(options, *signatures_, &summary), "");
  EXPECT_EQ(fs::file_size(file), whole) << "cut back to its last whole record";
  runs = Store::Open((dir_ / "crawl.db").string(), &error)->Runs();
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[1].command, "crawl --resume");
  if (const std::string missing = NodeCheckMissing("warcio"); !missing.empty()) {
    GTEST_SKIP() << missing;
  }
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(dir_ / "warc")) {
    files.push_back(entry.path().string());
  }
  std::string output;
  EXPECT_EQ(RunNode("verify.mjs", files, dir_ / "verify.log", &output), 0) << output;
}

TEST_F(EvidenceTest, ADirectoryHoldingACrawlIsOnlyContinuedWithResume) {
  TestServer server(EvidenceSite);
  CrawlOptions options = BaseOptions(server.connect_to());
  options.seeds = {"http://hub.test/"};
  CrawlSummary summary;
  ASSERT_EQ(RunCrawl(options, *signatures_, &summary), "");
  const std::string error = RunCrawl(options, *signatures_, &summary);
  EXPECT_NE(error.find("holds a crawl already"), std::string::npos) << error;
  EXPECT_NE(error.find("--resume"), std::string::npos) << error;

  options.resume = true;
  ASSERT_EQ(RunCrawl(options, *signatures_, &summary), "");
  EXPECT_EQ(summary.pages, 0) << "everything was fetched: nothing to do";
  EXPECT_EQ(Findings().size(), 2u) << "findings.jsonl rebuilt from the store, not doubled";

  CrawlOptions fresh = BaseOptions(server.connect_to());
  fresh.out_dir = (dir_ / "never-crawled").string();
  fresh.seeds = {"http://hub.test/"};
  fresh.resume = true;
  EXPECT_NE(RunCrawl(fresh, *signatures_, &summary).find("nothing to resume"), std::string::npos);
  fresh.resume = false;
  fresh.store = "none";
  fresh.warc = false;
  ASSERT_EQ(RunCrawl(fresh, *signatures_, &summary), "");
  EXPECT_FALSE(fs::exists(fs::path(fresh.out_dir) / "crawl.db"));
  EXPECT_FALSE(fs::exists(fs::path(fresh.out_dir) / "warc"));
  EXPECT_EQ(summary.flagged_pages, 2);
}

}  // namespace
}  // namespace mw::testing
