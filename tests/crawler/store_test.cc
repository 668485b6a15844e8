#include "crawler/store.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/crawler/temp_dir.h"

namespace mw {
namespace {

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::FreshTestDir();
    path_ = (dir_ / "crawl.db").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<Store> Open(int batch_writes = 2000) {
    std::string error;
    auto store = Store::Open(path_, &error, batch_writes);
    EXPECT_NE(store, nullptr) << error;
    return store;
  }

  // Runs `sql` on the file through a connection of its own; returns the first column of the
  // first row as text ("" when no row).
  std::string RawQuery(const std::string& sql) const {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    std::string value;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db);
    const int code = sqlite3_step(stmt);
    EXPECT_TRUE(code == SQLITE_ROW || code == SQLITE_DONE) << sqlite3_errmsg(db);
    if (code == SQLITE_ROW && sqlite3_column_text(stmt, 0) != nullptr) {
      value = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return value;
  }

  std::filesystem::path dir_;
  std::string path_;
};

FrontierEntry Entry(std::int64_t id, const std::string& url, const std::string& host_key,
                    std::int64_t via_id = 0, int depth = 0) {
  FrontierEntry entry;
  entry.id = id;
  entry.via_id = via_id;
  entry.url = url;
  entry.host_key = host_key;
  entry.depth = depth;
  return entry;
}

WarcRef Warc(const std::string& file, std::int64_t offset) {
  return WarcRef{file, offset, 100 + offset, "<urn:uuid:" + std::to_string(offset) + ">",
                 std::string(64, 'a')};
}

FindingRecord Finding(std::int64_t url_id, const std::string& final_url, const std::string& host,
                      const std::string& outlet, double score, const std::string& fetched_at) {
  FindingRecord finding;
  finding.url_id = url_id;
  finding.url = final_url;
  finding.final_url = final_url;
  finding.host = host;
  finding.outlet = outlet;
  finding.score = score;
  finding.fetched_at = fetched_at;
  finding.sha256 = std::string(64, 'b');
  finding.warc = Warc("crawl-00001.warc.gz", 10);
  finding.metadata = Warc("crawl-00001.warc.gz", 20);
  finding.json = R"({"url":")" + final_url + R"(","outlet":")" + outlet + R"("})";
  return finding;
}

CheckRecord Check(std::int64_t run_id, const std::string& host, const std::string& url,
                  const std::string& outcome, const std::string& checked_at) {
  CheckRecord check;
  check.run_id = run_id;
  check.host = host;
  check.url = url;
  check.checked_at = checked_at;
  check.outcome = outcome;
  check.status = outcome == "error" ? 0 : outcome == "gone" ? 404 : 200;
  check.error_kind = outcome == "error" ? "timeout" : "";
  return check;
}

std::vector<std::int64_t> UrlIds(Store& store) {
  std::vector<std::int64_t> ids;
  store.ForEachUrl([&](std::int64_t id, std::string_view) { ids.push_back(id); });
  return ids;
}

TEST_F(StoreTest, ReopenKeepsEverything) {
  {
    auto store = Open();
    RunRecord run;
    run.command = "crawl";
    run.started_at = "2026-12-01T10:00:00.000Z";
    const std::int64_t run_id = store->BeginRun(run);
    store->AddWarcFile(run_id, "crawl-00001.warc.gz", "<urn:uuid:info>");
    store->Queued(Entry(1, "http://seed.test/", "seed.test"));
    store->Seen(2, "http://seed.test/skipped", "seed.test", 1);
    PageRecord page;
    page.url_id = 1;
    page.url = "http://seed.test/";
    page.host = "seed.test";
    page.fetched_at = "2026-12-01T10:00:01.000Z";
    page.status = 200;
    page.warc = Warc("crawl-00001.warc.gz", 0);
    page.json = R"({"url":"http://seed.test/"})";
    store->RecordPage(page);
    store->RecordFinding(
        Finding(1, "http://seed.test/", "seed.test", "example", 7, "2026-12-01T10:00:01.000Z"));
    store->RecordHost({"seed.test", "2026-12-01T10:00:01.000Z", "192.0.2.1", "nginx", ""});
    store->RecordCheck(Check(run_id, "seed.test", "http://seed.test/", "live", "2026-12-02"));
    store->EndRun(run_id, "2026-12-01T11:00:00.000Z", R"({"pages":1})");
    EXPECT_EQ(store->TakeError(), "");
  }  // the destructor commits
  auto store = Open();
  EXPECT_EQ(UrlIds(*store), (std::vector<std::int64_t>{1, 2}));
  EXPECT_EQ(store->queued_count(), 1);
  EXPECT_EQ(store->page_count(), 1);
  EXPECT_EQ(store->finding_count(), 1);
  ASSERT_EQ(store->Runs().size(), 1u);
  EXPECT_EQ(store->Runs()[0].warc_files, std::vector<std::string>{"crawl-00001.warc.gz"});
  auto verdict = store->Verdict("seed.test");
  ASSERT_TRUE(verdict);
  EXPECT_EQ(verdict->ips, std::vector<std::string>{"192.0.2.1"});
  EXPECT_EQ(verdict->checks.size(), 1u);
  EXPECT_EQ(verdict->top_evidence.at(0).warc.offset, 10);
  EXPECT_EQ(store->TakeError(), "");
}

TEST_F(StoreTest, NewStoreIsAtTheCurrentSchemaInWalMode) {
  auto store = Open();
  EXPECT_EQ(store->schema_version(), Store::kSchemaVersion);
  EXPECT_EQ(store->path(), path_);
  EXPECT_EQ(RawQuery("PRAGMA user_version"), std::to_string(Store::kSchemaVersion));
  EXPECT_EQ(RawQuery("PRAGMA application_id"), std::to_string(0x4D575443));
  EXPECT_EQ(RawQuery("PRAGMA journal_mode"), "wal");
  EXPECT_EQ(RawQuery("SELECT value FROM meta WHERE key = 'application'"), "mirrorwatch");
}

TEST_F(StoreTest, RefusesAnotherProgramsSqliteFile) {
  RawQuery("CREATE TABLE contacts (name TEXT)");
  std::string error;
  EXPECT_EQ(Store::Open(path_, &error), nullptr);
  EXPECT_NE(error.find(path_ + ": not a mirrorwatch store"), std::string::npos) << error;
  EXPECT_EQ(RawQuery("PRAGMA journal_mode"), "delete") << "the file was left as it was";
  EXPECT_EQ(RawQuery("SELECT count(*) FROM sqlite_schema"), "1");
}

TEST_F(StoreTest, RefusesANewerSchema) {
  Open().reset();
  RawQuery("PRAGMA user_version = " + std::to_string(Store::kSchemaVersion + 1));
  std::string error;
  EXPECT_EQ(Store::Open(path_, &error), nullptr);
  const std::string newer = std::to_string(Store::kSchemaVersion + 1);
  const std::string ours = std::to_string(Store::kSchemaVersion);
  EXPECT_NE(error.find("schema version " + newer + " is newer than this mirrorwatch understands (" +
                       ours + ")"),
            std::string::npos)
      << error;
}

// A store written by an older mirrorwatch (schema 1: findings without validators) opens, is
// migrated forward with everything in it, and works as a current one.
TEST_F(StoreTest, MigratesAVersion1Store) {
  std::ifstream in(std::string(MW_SOURCE_DIR) + "/tests/crawler/data/store-v1.sql");
  std::stringstream dump;
  dump << in.rdbuf();
  ASSERT_FALSE(dump.str().empty());
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  char* message = nullptr;
  const std::string load =
      dump.str() + "\nPRAGMA application_id = 1297568835;\nPRAGMA user_version = 1;";
  ASSERT_EQ(sqlite3_exec(db, load.c_str(), nullptr, nullptr, &message), SQLITE_OK)
      << (message ? message : "");
  sqlite3_close(db);

  std::unique_ptr<Store> store = Open();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->schema_version(), Store::kSchemaVersion);
  EXPECT_EQ(RawQuery("PRAGMA user_version"), std::to_string(Store::kSchemaVersion));
  // What the old crawl recorded is all there.
  EXPECT_EQ(store->page_count(), 2);
  EXPECT_EQ(store->finding_count(), 1);
  ASSERT_EQ(store->Runs().size(), 1u);
  EXPECT_EQ(store->Runs()[0].case_ref, "FIXTURE-V1");
  EXPECT_EQ(store->FlaggedHosts(), std::vector<std::string>{"v1.test"});
  // Its finding has no validators (schema 1 had none): the first re-check asks outright.
  const std::vector<RecheckTarget> old_targets = store->RecheckTargets();
  ASSERT_EQ(old_targets.size(), 1u);
  EXPECT_EQ(old_targets[0].url, "http://v1.test/");
  EXPECT_EQ(old_targets[0].etag, "");
  // A finding recorded now keeps them, and the first re-check can ask conditionally.
  FindingRecord finding;
  finding.url_id = 99;
  finding.url = finding.final_url = "http://v2.test/";
  finding.host = "v2.test";
  finding.outlet = "example";
  finding.score = 5;
  finding.fetched_at = "2026-11-28T15:00:00.000Z";
  finding.sha256 = std::string(64, 'a');
  finding.json = "{}";
  finding.etag = "\"v2\"";
  finding.last_modified = "Sat, 28 Nov 2026 15:00:00 GMT";
  store->RecordFinding(finding);
  std::string error;
  ASSERT_TRUE(store->Commit(&error)) << error;
  const std::vector<RecheckTarget> targets = store->RecheckTargets();
  ASSERT_EQ(targets.size(), 2u);
  EXPECT_EQ(targets[1].url, "http://v2.test/");
  EXPECT_EQ(targets[1].etag, "\"v2\"");
  EXPECT_EQ(targets[1].last_modified, "Sat, 28 Nov 2026 15:00:00 GMT");
}

TEST_F(StoreTest, RefusesAFileThatIsNotADatabase) {
  std::ofstream(path_) << "{\"url\": \"http://a.test/\"}\n" << std::string(4096, 'x');
  std::string error;
  EXPECT_EQ(Store::Open(path_, &error), nullptr);
  EXPECT_NE(error.find(path_), std::string::npos) << error;
  EXPECT_NE(error.find("file is not a database"), std::string::npos) << error;
}

TEST_F(StoreTest, OpenInAMissingDirectorySaysWhichFile) {
  const std::string path = (dir_ / "no-such-dir" / "crawl.db").string();
  std::string error;
  EXPECT_EQ(Store::Open(path, &error), nullptr);
  EXPECT_EQ(error, path + ": open: unable to open database file (No such file or directory)");
}

// A child process writes rows, commits some of them, and is killed with SIGKILL (no destructor,
// no commit). The parent opens the store only once the child is dead: an SQLite connection
// must not cross a fork().
TEST_F(StoreTest, KillNineKeepsExactlyTheCommittedPrefix) {
  struct Case {
    const char* why;
    int batch_writes;
    int writes;
    int commit_every;  // 0: only the batch commits
    std::int64_t survivors;
  };
  const Case cases[] = {
      {"explicit commits every 100; the last 50 writes are not committed", 1000000, 750, 100, 700},
      {"the batch of 64 commits by itself; the last 40 are in the open transaction", 64, 1000, 0,
       960},
  };
  for (const Case& c : cases) {
    std::filesystem::remove(path_);
    std::filesystem::remove(path_ + "-wal");
    std::filesystem::remove(path_ + "-shm");
    const pid_t child = fork();
    ASSERT_NE(child, -1);
    if (child == 0) {
      std::string error;
      auto store = Store::Open(path_, &error, c.batch_writes);
      if (!store) _exit(1);
      for (int i = 1; i <= c.writes; ++i) {
        store->Queued(Entry(i, "http://a.test/" + std::to_string(i), "a.test"));
        if (c.commit_every != 0 && i % c.commit_every == 0 && !store->Commit(&error)) _exit(2);
      }
      if (!store->TakeError().empty()) _exit(3);
      kill(getpid(), SIGKILL);
      _exit(4);
    }
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << c.why << ": the child exited with " << WEXITSTATUS(status);
    auto store = Open();
    const auto ids = UrlIds(*store);
    ASSERT_EQ(static_cast<std::int64_t>(ids.size()), c.survivors) << c.why;
    for (std::size_t i = 0; i < ids.size(); ++i) {
      ASSERT_EQ(ids[i], static_cast<std::int64_t>(i + 1)) << c.why;
    }
  }
}

TEST_F(StoreTest, AnotherProcessReadsTheLastCommitWhileATransactionIsOpen) {
  // The reader is forked before this process opens the store (an SQLite connection must not
  // cross a fork()), and reads when told to through a pipe.
  int go[2];
  ASSERT_EQ(pipe(go), 0);
  const pid_t child = fork();
  ASSERT_NE(child, -1);
  if (child == 0) {
    close(go[1]);
    char byte;
    if (read(go[0], &byte, 1) != 1) _exit(254);
    std::string error;
    auto reader = Store::Open(path_, &error);
    _exit(reader ? static_cast<int>(reader->queued_count()) : 255);
  }
  close(go[0]);
  auto writer = Open();
  for (int i = 1; i <= 20; ++i) {
    writer->Queued(Entry(i, "http://a.test/" + std::to_string(i), "a.test"));
    std::string error;
    if (i == 10) {
      ASSERT_TRUE(writer->Commit(&error)) << error;
    }
  }
  EXPECT_EQ(writer->queued_count(), 20) << "a store reads its own uncommitted writes";
  ASSERT_EQ(write(go[1], "r", 1), 1);
  close(go[1]);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 10) << "the reader process sees the committed rows only";

  auto reader = Open();  // a second connection in this process
  EXPECT_EQ(UrlIds(*reader).size(), 10u);
  std::string error;
  ASSERT_TRUE(writer->Commit(&error)) << error;
  EXPECT_EQ(UrlIds(*reader).size(), 20u);
}

TEST_F(StoreTest, LoadQueuedReturnsAHostsQueueInIdOrderWithVia) {
  auto store = Open();
  store->Queued(Entry(1, "http://seed.test/", "seed.test"));
  for (int i = 2; i <= 7; ++i) {
    store->Queued(Entry(i, "http://a.test/" + std::to_string(i), "a.test", 1, 1));
  }
  store->Queued(Entry(8, "http://b.test/", "b.test", 2, 2));
  store->Seen(9, "http://a.test/seen", "a.test", 1);
  store->Done(3);
  store->Retried(4, 2);

  auto first = store->LoadQueued("a.test", 0, 2);
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[0].id, 2) << "in id order";
  EXPECT_EQ(first[1].id, 4) << "3 is done";
  EXPECT_EQ(first[1].attempts, 2);
  EXPECT_EQ(first[0].via, "http://seed.test/");
  EXPECT_EQ(first[0].via_id, 1);
  EXPECT_EQ(first[0].depth, 1);
  EXPECT_EQ(first[0].host_key, "a.test");

  auto rest = store->LoadQueued("a.test", 4, 100);
  ASSERT_EQ(rest.size(), 3u) << "5, 6, 7; the seen URL 9 is not queued";
  EXPECT_EQ(rest[0].id, 5);
  EXPECT_EQ(rest[2].id, 7);

  auto b = store->LoadQueued("b.test", 0, 10);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].via, "http://a.test/2");
  auto seed = store->LoadQueued("seed.test", 0, 10);
  ASSERT_EQ(seed.size(), 1u);
  EXPECT_EQ(seed[0].via, "") << "a seed has no via";
  EXPECT_TRUE(store->LoadQueued("nobody.test", 0, 10).empty());
}

TEST_F(StoreTest, DoneHostEmptiesOneHostsQueue) {
  auto store = Open();
  for (int i = 1; i <= 3; ++i)
    store->Queued(Entry(i, "http://a.test/" + std::to_string(i), "a.test"));
  for (int i = 4; i <= 5; ++i)
    store->Queued(Entry(i, "http://b.test/" + std::to_string(i), "b.test"));
  EXPECT_EQ(store->QueuedHosts(),
            (std::vector<std::pair<std::string, std::int64_t>>{{"a.test", 3}, {"b.test", 2}}));
  store->DoneHost("a.test");
  EXPECT_TRUE(store->LoadQueued("a.test", 0, 10).empty());
  EXPECT_EQ(store->QueuedHosts(),
            (std::vector<std::pair<std::string, std::int64_t>>{{"b.test", 2}}));
  EXPECT_EQ(store->queued_count(), 2);
  EXPECT_EQ(UrlIds(*store).size(), 5u) << "done URLs stay in the seen set";
}

TEST_F(StoreTest, ForEachUrlStreamsEveryUrlInIdOrder) {
  auto store = Open();
  store->Seen(3, "http://a.test/3", "a.test", 0);
  store->Queued(Entry(1, "http://a.test/1", "a.test"));
  store->Queued(Entry(2, "http://b.test/2", "b.test"));
  std::vector<std::string> urls;
  store->ForEachUrl([&](std::int64_t id, std::string_view spec) {
    urls.push_back(std::to_string(id) + " " + std::string(spec));
    // The callback may use the store, even start the same read.
    EXPECT_EQ(UrlIds(*store).size(), 3u);
  });
  EXPECT_EQ(urls, (std::vector<std::string>{"1 http://a.test/1", "2 http://b.test/2",
                                            "3 http://a.test/3"}));
}

TEST_F(StoreTest, PagesAndFindingsComeBackInTheOrderRecorded) {
  auto store = Open();
  for (const char* json : {R"({"n":1})", R"({"n":2})", R"({"n":3})"}) {
    PageRecord page;
    page.url = "http://a.test/";
    page.host = "a.test";
    page.json = json;
    store->RecordPage(page);
  }
  store->RecordFinding(Finding(1, "http://a.test/", "a.test", "z", 5, "t1"));
  store->RecordFinding(Finding(1, "http://a.test/", "a.test", "a", 5, "t1"));
  std::vector<std::string> pages, findings;
  store->ForEachPageJson([&](std::string_view json) { pages.emplace_back(json); });
  store->ForEachFindingJson([&](std::string_view json) { findings.emplace_back(json); });
  EXPECT_EQ(pages, (std::vector<std::string>{R"({"n":1})", R"({"n":2})", R"({"n":3})"}));
  ASSERT_EQ(findings.size(), 2u);
  EXPECT_NE(findings[0].find("\"z\""), std::string::npos);
  EXPECT_EQ(store->page_count(), 3);
  EXPECT_EQ(store->finding_count(), 2);
  EXPECT_EQ(RawQuery("SELECT count(*) FROM pages WHERE error_kind IS NULL"), "0")
      << "not committed yet: another connection sees nothing";
  std::string error;
  ASSERT_TRUE(store->Commit(&error)) << error;
  EXPECT_EQ(RawQuery("SELECT count(*) FROM pages WHERE error_kind IS NULL AND warc_file IS NULL"),
            "3")
      << "an empty optional field is stored as NULL";
}

// The crawl went seed.test/ -> hub.test/list -> mirror.test/a; mirror.test/b was linked from
// mirror.test/a. Both mirror pages are flagged.
TEST_F(StoreTest, VerdictGathersWhatIsKnownOfAHost) {
  auto store = Open();
  store->Queued(Entry(1, "http://seed.test/", "seed.test"));
  store->Queued(Entry(2, "http://hub.test/list", "hub.test", 1, 1));
  store->Queued(Entry(3, "http://mirror.test/a", "mirror.test", 2, 2));
  store->Queued(Entry(4, "http://mirror.test/b", "mirror.test", 3, 3));
  store->Queued(Entry(5, "http://other.test/", "other.test", 1, 1));
  store->RecordFinding(
      Finding(3, "http://mirror.test/a", "mirror.test", "rt", 6, "2026-12-01T10:00:03Z"));
  store->RecordFinding(
      Finding(3, "http://mirror.test/a", "mirror.test", "bbc", 9, "2026-12-01T10:00:03Z"));
  store->RecordFinding(
      Finding(4, "http://mirror.test/b", "mirror.test", "rt", 7, "2026-12-01T10:00:09Z"));
  store->RecordFinding(
      Finding(5, "http://other.test/", "other.test", "rt", 5, "2026-12-01T10:00:05Z"));
  store->RecordLink("mirror.test", 2);
  store->RecordLink("mirror.test", 5);
  store->RecordLink("mirror.test", 2);  // recorded once
  store->RecordHost({"mirror.test", "2026-12-01T10:00:03Z", "198.51.100.7", "nginx",
                     R"({"subject":"CN=mirror.test"})"});
  store->RecordHost({"mirror.test", "2026-12-01T10:00:09Z", "192.0.2.9", "Apache", ""});
  store->RecordHost({"mirror.test", "2026-12-01T10:00:01Z", "198.51.100.7", "old", ""});

  EXPECT_EQ(store->FlaggedHosts(), (std::vector<std::string>{"mirror.test", "other.test"}));
  EXPECT_FALSE(store->Verdict("seed.test")) << "not flagged";
  auto verdict = store->Verdict("mirror.test");
  ASSERT_TRUE(verdict);
  EXPECT_EQ(verdict->host, "mirror.test");
  EXPECT_EQ(verdict->outlets, (std::vector<std::string>{"bbc", "rt"}));
  EXPECT_EQ(verdict->first_seen, "2026-12-01T10:00:03Z");
  EXPECT_EQ(verdict->last_seen, "2026-12-01T10:00:09Z");
  EXPECT_EQ(verdict->flagged_pages, 2) << "distinct URLs, not findings";
  EXPECT_EQ(verdict->best_score, 9);
  ASSERT_EQ(verdict->top_evidence.size(), 3u);
  EXPECT_EQ(verdict->top_evidence[0].outlet, "bbc");
  EXPECT_EQ(verdict->top_evidence[1].final_url, "http://mirror.test/b");
  EXPECT_EQ(verdict->top_evidence[2].score, 6);
  EXPECT_EQ(verdict->top_evidence[0].metadata.offset, 20);
  EXPECT_EQ(verdict->top_evidence[0].finding_json,
            R"({"url":"http://mirror.test/a","outlet":"bbc"})");
  EXPECT_EQ(verdict->discovery_path,
            (std::vector<std::string>{"http://seed.test/", "http://hub.test/list",
                                      "http://mirror.test/a"}));
  EXPECT_EQ(verdict->linked_from,
            (std::vector<std::string>{"http://hub.test/list", "http://other.test/"}));
  EXPECT_EQ(verdict->ips, (std::vector<std::string>{"192.0.2.9", "198.51.100.7"}));
  EXPECT_EQ(verdict->server, "Apache") << "the latest observation";
  EXPECT_EQ(verdict->cert_json, R"({"subject":"CN=mirror.test"})")
      << "a plain-HTTP fetch does not erase the certificate";
  EXPECT_EQ(verdict->status.status, "flagged");
  EXPECT_EQ(verdict->status.since, verdict->first_seen);
  EXPECT_TRUE(verdict->checks.empty());
  EXPECT_EQ(RawQuery("SELECT count(*) FROM links"), "0") << "uncommitted";

  const auto verdicts = store->Verdicts();
  ASSERT_EQ(verdicts.size(), 2u);
  EXPECT_EQ(verdicts[1].host, "other.test");
  EXPECT_EQ(verdicts[1].discovery_path,
            (std::vector<std::string>{"http://seed.test/", "http://other.test/"}));
  EXPECT_EQ(store->TakeError(), "");
}

TEST_F(StoreTest, TopEvidencePrefersDistinctPages) {
  auto store = Open();
  // One page scores high with four outlets; three other pages score low.
  for (const char* outlet : {"a", "b", "c", "d"}) {
    store->RecordFinding(Finding(1, "http://m.test/top", "m.test", outlet, 10, "t"));
  }
  store->RecordFinding(Finding(2, "http://m.test/x", "m.test", "a", 3, "t"));
  store->RecordFinding(Finding(3, "http://m.test/y", "m.test", "a", 2, "t"));
  store->RecordFinding(Finding(4, "http://m.test/z", "m.test", "a", 1, "t"));
  auto verdict = store->Verdict("m.test");
  ASSERT_TRUE(verdict);
  std::vector<std::string> shown;
  for (const Evidence& e : verdict->top_evidence) shown.push_back(e.final_url + " " + e.outlet);
  EXPECT_EQ(shown, (std::vector<std::string>{"http://m.test/top a", "http://m.test/top b",
                                             "http://m.test/x a", "http://m.test/y a",
                                             "http://m.test/z a"}))
      << "all four pages, then the top page's second-best finding; best score first";
}

TEST_F(StoreTest, DiscoveryPathSurvivesACycleInTheLog) {
  auto store = Open();
  store->Queued(Entry(1, "http://a.test/", "a.test", 2));
  store->Queued(Entry(2, "http://b.test/", "b.test", 1));
  store->RecordFinding(Finding(2, "http://b.test/", "b.test", "rt", 5, "t"));
  auto verdict = store->Verdict("b.test");
  ASSERT_TRUE(verdict);
  EXPECT_EQ(verdict->discovery_path.size(), 65u) << "the walk stops after 64 hops";
  EXPECT_EQ(verdict->discovery_path.back(), "http://b.test/");
}

TEST_F(StoreTest, RecheckTargetsCarryTheLatestValidators) {
  auto store = Open();
  FindingRecord redirected = Finding(1, "http://m.test/new", "m.test", "rt", 5, "t");
  redirected.url = "http://m.test/old";
  store->RecordFinding(redirected);
  store->RecordFinding(Finding(1, "http://m.test/new", "m.test", "bbc", 5, "t"));
  store->RecordFinding(Finding(2, "http://m.test/a", "m.test", "rt", 5, "t"));
  store->RecordFinding(Finding(3, "http://b.test/", "b.test", "rt", 5, "t"));

  auto targets = store->RecheckTargets();
  ASSERT_EQ(targets.size(), 3u) << "one per distinct flagged page";
  EXPECT_EQ(targets[0].host, "b.test");
  EXPECT_EQ(targets[1].url, "http://m.test/a");
  EXPECT_EQ(targets[2].url, "http://m.test/new") << "the page that was scored";
  EXPECT_EQ(targets[2].etag, "") << "the first re-check is unconditional";

  CheckRecord first = Check(1, "m.test", "http://m.test/new", "live", "2026-12-02");
  first.etag = "\"v1\"";
  first.last_modified = "Tue, 01 Dec 2026 10:00:00 GMT";
  store->RecordCheck(first);
  store->RecordCheck(Check(2, "m.test", "http://m.test/new", "error", "2026-12-03"));
  targets = store->RecheckTargets();
  EXPECT_EQ(targets[2].etag, "\"v1\"") << "a check without validators keeps the last ones";
  EXPECT_EQ(targets[2].last_modified, "Tue, 01 Dec 2026 10:00:00 GMT");
  EXPECT_EQ(targets[1].etag, "");

  CheckRecord third = Check(3, "m.test", "http://m.test/new", "live", "2026-12-04");
  third.etag = "\"v2\"";
  store->RecordCheck(third);
  targets = store->RecheckTargets();
  EXPECT_EQ(targets[2].etag, "\"v2\"");
  EXPECT_EQ(targets[2].last_modified, "") << "validators come from one response";
  EXPECT_EQ(store->Checks("m.test").size(), 3u);
  EXPECT_EQ(store->Checks("m.test")[0].etag, "\"v1\"");
}

TEST_F(StoreTest, HostStatusFollowsTheRechecks) {
  struct Step {
    std::vector<std::string> outcomes;  // one per flagged URL of the host, in this run
    std::string status;
    int consecutive_gone;
    std::string gone_at;
    std::string since;
    const char* why;
  };
  const Step steps[] = {
      {{"error", "error"}, "flagged", 0, "", "", "only errors: unchanged"},
      {{"gone", "gone"}, "flagged", 1, "run2", "", "gone once of three"},
      {{"gone", "error"}, "flagged", 1, "run2", "", "an error breaks nothing, counts nothing"},
      {{"gone", "gone"}, "flagged", 2, "run2", "", "gone twice"},
      {{"gone", "live"}, "live", 0, "", "run5", "one live URL makes the host live"},
      {{"gone", "gone"}, "live", 1, "run6", "run5", "a new run of gone starts"},
      {{"gone", "gone"}, "live", 2, "run6", "run5", ""},
      {{"gone", "gone"}, "gone", 3, "run6", "run8", "the third gone in a row"},
      {{"gone", "gone"}, "gone", 4, "run6", "run8", "still gone"},
      {{"changed", "gone"}, "changed", 0, "", "run10", "back, no longer flagged"},
      {{"changed", "live"}, "live", 0, "", "run11", "live wins over changed"},
  };
  auto store = Open();
  store->RecordFinding(Finding(1, "http://m.test/1", "m.test", "rt", 5, "first"));
  store->RecordFinding(Finding(2, "http://m.test/2", "m.test", "rt", 5, "first"));
  std::int64_t run_id = 0;
  for (const Step& step : steps) {
    ++run_id;
    const std::string at = "run" + std::to_string(run_id);
    int n = 0;
    for (const std::string& outcome : step.outcomes) {
      store->RecordCheck(
          Check(run_id, "m.test", "http://m.test/" + std::to_string(++n), outcome, at));
    }
    store->SetHostStatusFromChecks("m.test", run_id, 3, at);
    store->SetHostStatusFromChecks("m.test", 999, 3, "never");  // no checks in that run
    const HostStatusRecord status = store->Verdict("m.test")->status;
    EXPECT_EQ(status.status, step.status) << at << ": " << step.why;
    EXPECT_EQ(status.consecutive_gone, step.consecutive_gone) << at << ": " << step.why;
    EXPECT_EQ(status.gone_at, step.gone_at) << at << ": " << step.why;
    EXPECT_EQ(status.since, step.since.empty() ? "first" : step.since) << at << ": " << step.why;
    EXPECT_EQ(status.last_checked, at) << step.why;
  }
  EXPECT_EQ(store->Verdict("m.test")->checks.size(), 22u);
  EXPECT_EQ(store->TakeError(), "");
}

TEST_F(StoreTest, RunsKeepTheirWarcFilesOldestFirst) {
  auto store = Open();
  RunRecord run;
  run.command = "crawl";
  run.case_ref = "CASE-1";
  run.version = "0.1.0";
  run.config_json = R"({"max_pages":10})";
  run.signatures_path = "rules.yaml";
  run.signatures_sha256 = std::string(64, 'c');
  run.hostname = "crawler-1";
  run.started_at = "2026-12-01T10:00:00.000Z";
  const std::int64_t first = store->BeginRun(run);
  run.command = "recheck";
  const std::int64_t second = store->BeginRun(run);
  EXPECT_GT(second, first);
  store->AddWarcFile(second, "recheck-00001.warc.gz", "<urn:uuid:2>");
  store->AddWarcFile(first, "crawl-00001.warc.gz", "<urn:uuid:1a>");
  store->AddWarcFile(first, "crawl-00002.warc.gz", "<urn:uuid:1b>");
  store->EndRun(first, "2026-12-01T11:00:00.000Z", R"({"pages":10})");

  const auto runs = store->Runs();
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].id, first);
  EXPECT_EQ(runs[0].command, "crawl");
  EXPECT_EQ(runs[0].case_ref, "CASE-1");
  EXPECT_EQ(runs[0].config_json, R"({"max_pages":10})");
  EXPECT_EQ(runs[0].hostname, "crawler-1");
  EXPECT_EQ(runs[0].ended_at, "2026-12-01T11:00:00.000Z");
  EXPECT_EQ(runs[0].summary_json, R"({"pages":10})");
  EXPECT_EQ(runs[0].warc_files,
            (std::vector<std::string>{"crawl-00001.warc.gz", "crawl-00002.warc.gz"}));
  EXPECT_EQ(runs[0].warcinfo_ids, (std::vector<std::string>{"<urn:uuid:1a>", "<urn:uuid:1b>"}));
  EXPECT_EQ(runs[1].command, "recheck");
  EXPECT_EQ(runs[1].ended_at, "") << "still running (or killed)";
  EXPECT_EQ(runs[1].warc_files, std::vector<std::string>{"recheck-00001.warc.gz"});
}

TEST_F(StoreTest, AFailedWriteIsKeptNotThrownAndTheStoreGoesOn) {
  auto store = Open();
  store->Queued(Entry(1, "http://a.test/", "a.test"));
  store->Queued(Entry(1, "http://a.test/again", "a.test"));  // the frontier never does this
  store->RecordCheck(Check(1, "a.test", "http://a.test/", "maybe", "t"));
  const std::string error = store->TakeError();
  EXPECT_EQ(error, path_ + ": Queued: UNIQUE constraint failed: urls.id") << "the first error";
  EXPECT_EQ(store->TakeError(), "");
  store->Queued(Entry(2, "http://a.test/2", "a.test"));
  std::string commit_error;
  ASSERT_TRUE(store->Commit(&commit_error)) << commit_error;
  EXPECT_EQ(RawQuery("SELECT group_concat(url, ' ') FROM urls"), "http://a.test/ http://a.test/2")
      << "the failed writes left the rest of the transaction alone";
}

}  // namespace
}  // namespace mw
