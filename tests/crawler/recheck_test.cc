// `mirrorwatch recheck` through RunRecheckCommand against a real HTTP server on loopback: a
// crawl flags a branded host, the server changes what it serves, and each round's outcome, the
// host's status history and the new evidence in DIR/warc/ are checked. Pages carry branding
// only (an outlet name in the title) and neutral filler; every host is under .test and every
// connection goes to 127.0.0.1.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "crawler/crawl.h"
#include "crawler/recheck_command.h"
#include "crawler/store.h"
#include "crawler/warc.h"
#include "tests/crawler/crawl_fixture.h"
#include "tests/crawler/test_server.h"

namespace mw {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using testing::Reply;
using testing::TestServer;

constexpr const char* kRules = testing::kTestRules;

const std::string kBranded =
    "<html><head><title>Example Agency</title></head><body><p>Lorem ipsum dolor sit amet."
    "</p></body></html>";
const std::string kNeutral =
    "<html><head><title>Garden notes</title></head><body><p>Lorem ipsum dolor sit amet."
    "</p></body></html>";

Reply Html(int status, const std::string& body,
           std::vector<std::pair<std::string, std::string>> headers = {}) {
  return {status, "text/html; charset=utf-8", body, std::move(headers)};
}

// A test server whose answers a test sets per "host/target": a list of replies, the n-th
// request getting the n-th (the last one repeats), so that one multi-round command sees the
// site change. Anything not listed is a 404. Like a real server it answers a conditional
// request whose validator matches the reply's ETag or Last-Modified with 304 Not Modified.
class Site {
 public:
  explicit Site(std::chrono::milliseconds delay = {})
      : server_(
            [this](const std::string& host, const std::string& target,
                   const testing::http::fields& headers) { return Answer(host, target, headers); },
            delay) {}

  void Serve(const std::string& url, std::vector<Reply> replies) {
    std::lock_guard<std::mutex> lock(mutex_);
    replies_.insert_or_assign(url, std::move(replies));
    served_[url] = 0;
  }
  TestServer& server() { return server_; }
  // "host/target" of each request answered 304, in order.
  std::vector<std::string> not_modified() {
    std::lock_guard<std::mutex> lock(mutex_);
    return not_modified_;
  }

 private:
  Reply Answer(const std::string& host, const std::string& target,
               const testing::http::fields& headers) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = replies_.find(host + target);
    if (it == replies_.end() || it->second.empty()) return Html(404, "");
    std::size_t& n = served_[host + target];
    Reply reply = it->second[std::min(n++, it->second.size() - 1)];
    namespace http = testing::http;
    for (const auto& [name, value] : reply.headers) {
      const bool matches =
          (name == "ETag" && headers[http::field::if_none_match] == value) ||
          (name == "Last-Modified" && headers[http::field::if_modified_since] == value);
      if (matches) {
        not_modified_.push_back(host + target);
        return Html(304, "", name == "ETag" ? reply.headers : decltype(reply.headers){});
      }
    }
    return reply;
  }

  std::mutex mutex_;
  std::map<std::string, std::vector<Reply>> replies_;
  std::map<std::string, std::size_t> served_;
  std::vector<std::string> not_modified_;
  TestServer server_;  // last: it stops before what it serves goes
};

struct Output {
  int status = -1;
  std::string out;
  std::string err;
};

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

class RecheckTest : public testing::CrawlFixture {
 protected:
  void SetUp() override {
    CrawlFixture::SetUp();
    signatures_path_ = dir_.string() + "-signatures.yaml";
    std::ofstream(signatures_path_) << kRules;
  }
  void TearDown() override {
    CrawlFixture::TearDown();
    fs::remove(signatures_path_);
  }

  // Crawls `urls` into DIR (as seeds; their pages carry the branding and link nowhere), so
  // that DIR/crawl.db holds them flagged by "example".
  void Flag(const std::vector<std::string>& urls) {
    TestServer origin([](const std::string&, const std::string&) { return Html(200, kBranded); });
    CrawlOptions options = BaseOptions(origin.connect_to());
    options.seeds = urls;
    options.signatures = signatures_path_;
    std::vector<SignatureDiagnostic> errors;
    std::unique_ptr<SignatureSet> rules = SignatureSet::LoadFile(signatures_path_, &errors);
    ASSERT_NE(rules, nullptr);
    CrawlSummary summary;
    ASSERT_EQ(RunCrawl(options, *rules, &summary), "");
    ASSERT_EQ(summary.flagged_pages, static_cast<std::int64_t>(urls.size()));
  }

  // The options every run needs: all hosts to `connect_to` on loopback, the test rules and
  // `delay_ms` (nullptr: the default).
  std::vector<std::string> Args(const std::string& connect_to, std::vector<std::string> extra = {},
                                const char* delay_ms = "0") const {
    std::vector<std::string> args = {dir_.string(),    "--connect-to", connect_to,
                                     "--allow-net",    "127.0.0.1/32", "--signatures",
                                     signatures_path_, "--timeout-ms", "5000"};
    if (delay_ms != nullptr) args.insert(args.end(), {"--delay-ms", delay_ms});
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }

  static Output Recheck(const std::vector<std::string>& args) {
    std::ostringstream out, err;
    Output output;
    output.status = RunRecheckCommand(args, out, err);
    output.out = out.str();
    output.err = err.str();
    return output;
  }

  std::unique_ptr<Store> OpenStore() const {
    std::string error;
    std::unique_ptr<Store> store = Store::Open((dir_ / "crawl.db").string(), &error);
    EXPECT_NE(store, nullptr) << error;
    return store;
  }

  HostStatusRecord Status(const std::string& host) const {
    std::optional<HostVerdict> verdict = OpenStore()->Verdict(host);
    EXPECT_TRUE(verdict.has_value()) << host;
    return verdict ? verdict->status : HostStatusRecord{};
  }

  std::vector<CheckRecord> Checks(const std::string& host) const {
    return OpenStore()->Checks(host);
  }

  std::vector<RunRecord> RecheckRuns() const {
    std::vector<RunRecord> runs = OpenStore()->Runs();
    std::erase_if(runs, [](const RunRecord& run) { return run.command != "recheck"; });
    return runs;
  }

  // The record a WarcRef points at, inflated.
  std::string Record(const WarcRef& ref) const {
    const WarcMember member =
        ReadRecordAt((dir_ / "warc" / ref.file).string(), static_cast<std::uint64_t>(ref.offset));
    EXPECT_TRUE(member.ok()) << member.error;
    return member.record;
  }

  // The request record of the exchange whose response is at `response`: the record in the
  // same file that names it in WARC-Concurrent-To.
  std::string RequestFor(const WarcRef& response) const {
    const std::string path = (dir_ / "warc" / response.file).string();
    for (std::uint64_t offset = 0;;) {
      const WarcMember member = ReadRecordAt(path, offset);
      if (!member.ok()) return "";
      if (Contains(member.record, "WARC-Type: request\r\n") &&
          Contains(member.record, "WARC-Concurrent-To: " + response.record_id)) {
        return member.record;
      }
      offset += member.length;
    }
  }

  std::string signatures_path_;
};

TEST_F(RecheckTest, EachKindOfResponseHasItsOutcome) {
  struct Case {
    std::vector<Reply> replies;  // for http://brand.test/
    std::string outcome;
    std::string status;  // the host's, after one round with --gone-after 1
    const char* why;
  } cases[] = {
      {{Html(200, kBranded)}, "live", "live", "still branded"},
      {{Html(200, kNeutral)}, "changed", "changed", "the branding was removed"},
      {{Html(302, "", {{"Location", "http://parking.test/"}})},
       "changed",
       "changed",
       "a redirect is followed, to a parking page"},
      {{Reply(200, "application/pdf", "%PDF-1.4")}, "changed", "changed", "not HTML any more"},
      {{Html(404, "")}, "gone", "gone", "404"},
      {{Html(410, "")}, "gone", "gone", "410"},
      {{Html(503, "")}, "error", "flagged", "a 5xx says nothing either way"},
      {{Html(403, "")}, "error", "flagged", "nor does a 403"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.why);
    fs::remove_all(dir_);
    Flag({"http://brand.test/"});
    Site site;
    site.Serve("brand.test/", c.replies);
    site.Serve("parking.test/", {Html(200, kNeutral)});
    const Output run = Recheck(Args(site.server().connect_to(), {"--gone-after", "1"}));
    ASSERT_EQ(run.status, 0) << run.err;
    const std::vector<CheckRecord> checks = Checks("brand.test");
    ASSERT_EQ(checks.size(), 1u);
    EXPECT_EQ(checks[0].outcome, c.outcome);
    EXPECT_EQ(checks[0].url, "http://brand.test/");
    EXPECT_EQ(Status("brand.test").status, c.status);
    EXPECT_TRUE(Contains(run.out, "  brand.test  " + c.status + "  ")) << run.out;
  }
}

TEST_F(RecheckTest, LiveCheckRecordsScoresAndEvidence) {
  Flag({"http://brand.test/"});
  Site site;
  site.Serve("brand.test/", {Html(200, kBranded, {{"Server", "neutral-httpd/2"}})});
  const Output run = Recheck(Args(site.server().connect_to(), {"--case", "CASE-7"}));
  ASSERT_EQ(run.status, 0) << run.err;
  EXPECT_TRUE(Contains(run.out, "  brand.test  live  live=1 changed=0 gone=0 error=0")) << run.out;

  EXPECT_EQ(OpenStore()->Verdict("brand.test")->server, "neutral-httpd/2")
      << "what the host answered with is kept, as the crawl keeps it";
  const std::vector<CheckRecord> checks = Checks("brand.test");
  ASSERT_EQ(checks.size(), 1u);
  const CheckRecord& check = checks[0];
  EXPECT_EQ(check.status, 200);
  EXPECT_EQ(check.error_kind, "");
  const Json detail = Json::parse(check.detail_json);
  EXPECT_EQ(detail["flagged"], Json::array({"example"}));
  EXPECT_EQ(detail["outlets"][0]["score"], 5);

  // The response, where the check says it is, and the metadata record beside it.
  ASSERT_NE(check.warc.file, "");
  EXPECT_TRUE(fs::exists(dir_ / "warc" / check.warc.file));
  const std::string response = Record(check.warc);
  EXPECT_TRUE(Contains(response, "WARC-Type: response\r\n")) << response;
  EXPECT_TRUE(Contains(response, "WARC-Target-URI: http://brand.test/\r\n"));
  EXPECT_TRUE(Contains(response, "WARC-IP-Address: 127.0.0.1\r\n"));
  EXPECT_TRUE(Contains(response, "<title>Example Agency</title>"));
  ASSERT_TRUE(detail.contains("metadata"));
  WarcRef metadata_ref;
  metadata_ref.file = detail["metadata"]["file"];
  metadata_ref.offset = detail["metadata"]["offset"];
  const std::string metadata = Record(metadata_ref);
  EXPECT_TRUE(Contains(metadata, "WARC-Type: metadata\r\n"));
  EXPECT_TRUE(Contains(metadata, "WARC-Concurrent-To: " + check.warc.record_id));
  EXPECT_TRUE(Contains(metadata, "\"outcome\":\"live\""));

  // The run's audit record names the file and its warcinfo.
  const std::vector<RunRecord> runs = RecheckRuns();
  ASSERT_EQ(runs.size(), 1u);
  const RunRecord& audit = runs.back();
  EXPECT_EQ(audit.id, check.run_id);
  EXPECT_EQ(audit.command, "recheck");
  EXPECT_EQ(audit.case_ref, "CASE-7");
  EXPECT_EQ(audit.signatures_path, signatures_path_);
  EXPECT_EQ(audit.signatures_sha256.size(), 64u);
  EXPECT_NE(audit.hostname, "");
  EXPECT_NE(audit.ended_at, "");
  EXPECT_EQ(Json::parse(audit.config_json)["case"], "CASE-7");
  EXPECT_EQ(Json::parse(audit.summary_json)["checks"]["live"], 1);
  ASSERT_EQ(audit.warc_files, std::vector<std::string>{check.warc.file});
  ASSERT_EQ(audit.warcinfo_ids.size(), 1u);
  EXPECT_TRUE(Contains(response, "WARC-Warcinfo-ID: " + audit.warcinfo_ids[0]));
  const std::string warcinfo = Record({check.warc.file, 0, 0, "", ""});
  EXPECT_TRUE(Contains(warcinfo, "case: CASE-7\r\n")) << warcinfo;
  EXPECT_TRUE(Contains(warcinfo, "signatures-sha256: " + audit.signatures_sha256));
}

TEST_F(RecheckTest, ValidatorsAreSentBackAndA304RepeatsTheirOutcome) {
  Flag({"http://brand.test/", "http://brand.test/notes"});
  // The pages have not changed since round 1, which gets their validators: rounds 2 and 3 are
  // answered 304. /notes lost its branding before round 1, so its 304s mean "still changed".
  const std::string modified = "Tue, 03 Mar 2026 10:00:00 GMT";
  Site site;
  site.Serve("brand.test/", {Html(200, kBranded, {{"ETag", "\"v1\""}})});
  site.Serve("brand.test/notes", {Html(200, kNeutral, {{"Last-Modified", modified}})});
  const Output run = Recheck(Args(site.server().connect_to(), {"--rounds", "3"}));
  ASSERT_EQ(run.status, 0) << run.err;
  EXPECT_EQ(site.not_modified(), (std::vector<std::string>{"brand.test/", "brand.test/notes",
                                                           "brand.test/", "brand.test/notes"}));

  std::map<std::string, std::vector<CheckRecord>> by_url;
  for (CheckRecord& check : Checks("brand.test")) by_url[check.url].push_back(std::move(check));
  struct Case {
    std::string url;
    std::string outcome;
    std::string header;  // the conditional request's header line
  } cases[] = {
      {"http://brand.test/", "live", "\r\nIf-None-Match: \"v1\"\r\n"},
      {"http://brand.test/notes", "changed", "\r\nIf-Modified-Since: " + modified + "\r\n"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.url);
    const std::vector<CheckRecord>& checks = by_url[c.url];
    ASSERT_EQ(checks.size(), 3u);
    EXPECT_EQ(checks[0].status, 200);
    for (const CheckRecord& check : checks) EXPECT_EQ(check.outcome, c.outcome);
    for (std::size_t round : {1, 2}) {
      EXPECT_EQ(checks[round].status, 304);
      // The 304 is evidence too, with the request that asked for it.
      ASSERT_NE(checks[round].warc.file, "");
      EXPECT_TRUE(Contains(Record(checks[round].warc), "\r\n\r\nHTTP/1.1 304"));
      EXPECT_TRUE(Contains(RequestFor(checks[round].warc), c.header));
    }
  }
  EXPECT_EQ(Status("brand.test").status, "live");
}

TEST_F(RecheckTest, NotFoundIsGoneOnlyAfterGoneAfterRoundsInARow) {
  Flag({"http://brand.test/"});
  Site site;
  // Branded, then 404 for three rounds, then back up (a mirror restored from a backup).
  site.Serve("brand.test/", {Html(200, kBranded), Html(404, ""), Html(404, ""), Html(404, ""),
                             Html(200, kBranded)});
  struct Round {
    std::string status;
    int consecutive_gone;
    const char* line;
  } rounds[] = {
      {"live", 0, "  brand.test  live  live=1 changed=0 gone=0 error=0"},
      {"live", 1, "  brand.test  live  live=0 changed=0 gone=1 error=0  gone 1 of 3 rounds"},
      {"live", 2, "  brand.test  live  live=0 changed=0 gone=1 error=0  gone 2 of 3 rounds"},
      {"gone", 3, "  brand.test  gone  live=0 changed=0 gone=1 error=0  gone "},
      {"live", 0, "  brand.test  live  live=1 changed=0 gone=0 error=0"},
  };
  std::vector<HostStatusRecord> history;
  for (const Round& round : rounds) {
    const Output run = Recheck(Args(site.server().connect_to(), {"--gone-after", "3"}));
    ASSERT_EQ(run.status, 0) << run.err;
    EXPECT_TRUE(Contains(run.out, round.line)) << run.out;
    history.push_back(Status("brand.test"));
    EXPECT_EQ(history.back().status, round.status) << history.size();
    EXPECT_EQ(history.back().consecutive_gone, round.consecutive_gone) << history.size();
  }
  const std::vector<CheckRecord> checks = Checks("brand.test");
  ASSERT_EQ(checks.size(), 5u);
  const char* outcomes[] = {"live", "gone", "gone", "gone", "live"};
  for (std::size_t i = 0; i < checks.size(); ++i) {
    EXPECT_EQ(checks[i].outcome, outcomes[i]) << i;
    if (i > 0) {
      EXPECT_LE(checks[i - 1].checked_at, checks[i].checked_at) << i;
    }
  }
  // Gone since the third 404, counted from the first.
  EXPECT_GE(history[3].gone_at, checks[1].checked_at);
  EXPECT_LT(history[3].gone_at, checks[2].checked_at);
  EXPECT_GE(history[3].since, checks[3].checked_at);
  EXPECT_EQ(history[4].gone_at, "");
  EXPECT_GE(history[4].since, checks[4].checked_at);
}

TEST_F(RecheckTest, RoundsOfOneCommandAreJudgedOneByOne) {
  Flag({"http://brand.test/"});
  Site site;
  site.Serve("brand.test/", {Html(200, kBranded), Html(404, ""), Html(404, "")});
  const Output run =
      Recheck(Args(site.server().connect_to(), {"--rounds", "3", "--gone-after", "2"}));
  ASSERT_EQ(run.status, 0) << run.err;
  EXPECT_TRUE(Contains(run.out, "round 3 done")) << run.out;
  EXPECT_TRUE(Contains(run.out, "  brand.test  gone  live=0 changed=0 gone=1 error=0  gone "))
      << run.out;
  EXPECT_TRUE(Contains(run.out, "after it was first flagged (" +
                                    OpenStore()->Verdict("brand.test")->first_seen + ")"))
      << run.out;
  EXPECT_TRUE(Contains(run.out, "recheck: 3 rounds; gone=2 live=1")) << run.out;
  EXPECT_EQ(Status("brand.test").status, "gone");
  // One audit record per round.
  const std::vector<RunRecord> runs = RecheckRuns();
  ASSERT_EQ(runs.size(), 3u);
  for (const RunRecord& r : runs) {
    EXPECT_EQ(r.command, "recheck");
    EXPECT_NE(r.ended_at, "");
  }
}

TEST_F(RecheckTest, ServiceUnavailableLeavesTheStatusAlone) {
  Flag({"http://brand.test/"});
  Site site;
  site.Serve("brand.test/", {Html(200, kBranded), Html(503, ""), Html(404, ""), Html(503, "")});
  const Output run =
      Recheck(Args(site.server().connect_to(), {"--rounds", "4", "--gone-after", "2"}));
  ASSERT_EQ(run.status, 0) << run.err;
  const std::vector<CheckRecord> checks = Checks("brand.test");
  ASSERT_EQ(checks.size(), 4u);
  EXPECT_EQ(checks[1].outcome, "error");
  EXPECT_EQ(checks[1].status, 503);
  EXPECT_EQ(Json::parse(checks[1].detail_json)["error"], "HTTP 503");
  const HostStatusRecord status = Status("brand.test");
  EXPECT_EQ(status.status, "live");
  EXPECT_EQ(status.consecutive_gone, 1) << "errors neither count as gone nor break the run";
}

TEST_F(RecheckTest, ConnectionRefusedIsGone) {
  Flag({"http://brand.test/"});
  int port = 0;
  {  // a port that was just free: nothing listens on it
    boost::asio::io_context io;
    boost::asio::ip::tcp::acceptor acceptor(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
    port = acceptor.local_endpoint().port();
  }
  const Output run = Recheck(Args("::127.0.0.1:" + std::to_string(port),
                                  {"--gone-after", "1", "--connect-timeout-ms", "2000"}));
  ASSERT_EQ(run.status, 0) << run.err;
  const std::vector<CheckRecord> checks = Checks("brand.test");
  ASSERT_EQ(checks.size(), 1u);
  EXPECT_EQ(checks[0].outcome, "gone");
  EXPECT_EQ(checks[0].error_kind, "connect");
  EXPECT_EQ(checks[0].status, 0);
  EXPECT_EQ(checks[0].warc.file, "") << "no response, no evidence";
  EXPECT_EQ(Status("brand.test").status, "gone");
}

TEST_F(RecheckTest, OneRequestAtATimePerHostDelayApartHostsInParallel) {
  Flag({"http://a.test/1", "http://a.test/2", "http://a.test/3", "http://b.test/1",
        "http://b.test/2", "http://b.test/3"});
  Site site(std::chrono::milliseconds(50));
  for (const char* url : {"a.test/1", "a.test/2", "a.test/3", "b.test/1", "b.test/2", "b.test/3"}) {
    site.Serve(url, {Html(200, kBranded)});
  }
  const Output run = Recheck(Args(site.server().connect_to(), {}, "300"));
  ASSERT_EQ(run.status, 0) << run.err;
  const auto arrivals = site.server().arrivals();
  for (const char* host : {"a.test", "b.test"}) {
    ASSERT_EQ(arrivals.at(host).size(), 3u) << host;
    for (std::size_t i = 1; i < 3; ++i) {
      EXPECT_GE(arrivals.at(host)[i] - arrivals.at(host)[i - 1], std::chrono::milliseconds(250))
          << host;
    }
    EXPECT_EQ(site.server().peak_per_host().at(host), 1) << host;
  }
  EXPECT_EQ(site.server().peak_total(), 2) << "the two hosts are checked in parallel";
  EXPECT_EQ(site.server().requests().count("a.test/robots.txt"), 0u) << "robots.txt is not fetched";
}

TEST_F(RecheckTest, DelayDefaultsToOneSecond) {
  Flag({"http://a.test/1", "http://a.test/2"});
  Site site;
  site.Serve("a.test/1", {Html(200, kBranded)});
  site.Serve("a.test/2", {Html(200, kBranded)});
  const Output run = Recheck(Args(site.server().connect_to(), {}, nullptr));
  ASSERT_EQ(run.status, 0) << run.err;
  const auto arrivals = site.server().arrivals().at("a.test");
  ASSERT_EQ(arrivals.size(), 2u);
  EXPECT_GE(arrivals[1] - arrivals[0], std::chrono::milliseconds(900));
}

TEST_F(RecheckTest, EveryStartsRoundsThatFarApart) {
  Flag({"http://brand.test/"});
  Site site;
  site.Serve("brand.test/", {Html(200, kBranded)});
  const auto start = std::chrono::steady_clock::now();
  const Output run = Recheck(Args(site.server().connect_to(), {"--every", "1s", "--rounds", "2"}));
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_EQ(run.status, 0) << run.err;
  const auto arrivals = site.server().arrivals().at("brand.test");
  ASSERT_EQ(arrivals.size(), 2u);
  EXPECT_GE(arrivals[1] - arrivals[0], std::chrono::milliseconds(900));
  EXPECT_LT(arrivals[1] - arrivals[0], std::chrono::milliseconds(1900));
  EXPECT_LT(took, std::chrono::seconds(5));
  EXPECT_TRUE(Contains(run.out, "round 2 done")) << run.out;
  EXPECT_EQ(RecheckRuns().size(), 2u);
}

TEST_F(RecheckTest, SigtermEndsTheWaitBetweenRounds) {
  Flag({"http://brand.test/"});
  Site site;
  site.Serve("brand.test/", {Html(200, kBranded)});
  // Once the first round has been served, the command waits an hour for the next one.
  std::thread signaller([&site] {
    for (int i = 0; i < 500 && site.server().requests().empty(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    ::kill(::getpid(), SIGTERM);
  });
  const auto start = std::chrono::steady_clock::now();
  const Output run = Recheck(Args(site.server().connect_to(), {"--every", "1h"}));
  const auto took = std::chrono::steady_clock::now() - start;
  signaller.join();
  ASSERT_EQ(run.status, 0) << run.err;
  EXPECT_LT(took, std::chrono::seconds(10));
  EXPECT_TRUE(Contains(run.err, "SIGTERM")) << run.err;
  EXPECT_TRUE(Contains(run.out, "recheck: 1 round; live=1 (interrupted)")) << run.out;
  const std::vector<RunRecord> runs = RecheckRuns();
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_NE(runs[0].ended_at, "");
  EXPECT_EQ(Status("brand.test").status, "live");
}

TEST_F(RecheckTest, BadArgumentsExitTwoWithAMessage) {
  Flag({"http://brand.test/"});
  const std::string dir = dir_.string();
  struct Case {
    std::vector<std::string> args;
    std::string message;
  } cases[] = {
      {{}, "give the crawl's output DIR"},
      {{dir, dir + "-other"}, "give exactly one DIR"},
      {{dir, "--every", "0s"}, "--every 0s: not a duration"},
      {{dir, "--every", "6 hours"}, "--every 6 hours: not a duration"},
      {{dir, "--every"}, "--every needs a value"},
      {{dir, "--rounds", "0"}, "--rounds 0: must be a whole number of at least 1"},
      {{dir, "--gone-after=-1"}, "--gone-after -1: must be a whole number"},
      {{dir, "--max-depth", "3"}, "--max-depth is a crawl option; recheck does not use it"},
      {{dir, "--no-such-option"}, "unknown option --no-such-option"},
      {{dir, "--delay-ms", "soon"}, "--delay-ms soon: not a whole number"},
      {{dir, "--allow-net", "300.1.2.3/8"}, "--allow-net 300.1.2.3/8"},
      {{dir, "--signatures", dir + "-missing.yaml"}, "cannot load signatures"},
      {{dir + "-missing"}, "no crawl.db in " + dir + "-missing"},
  };
  for (const Case& c : cases) {
    const Output run = Recheck(c.args);
    EXPECT_EQ(run.status, 2) << c.message;
    EXPECT_TRUE(Contains(run.err, c.message)) << "want: " << c.message << "\ngot: " << run.err;
    EXPECT_EQ(run.out, "") << c.message;
  }
  EXPECT_FALSE(fs::exists(dir + "-missing")) << "a missing DIR is not created";
  EXPECT_TRUE(RecheckRuns().empty()) << "nothing ran";

  const Output help = Recheck({"--help"});
  EXPECT_EQ(help.status, 0);
  for (const char* option : {"--every DURATION", "--rounds N", "--gone-after N", "--case REF",
                             "--connect-to", "--delay-ms N", "(default: 1000)"}) {
    EXPECT_TRUE(Contains(help.out, option)) << option;
  }
  EXPECT_FALSE(Contains(help.out, "--max-depth"));
}

}  // namespace
}  // namespace mw
