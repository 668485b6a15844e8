// `mirrorwatch sigs check|test|eval` through RunSigsCommand, with captured output: broken
// signature files, hand-made pages read from disk and served on loopback, and a tiny labelled
// set whose precision and recall are worked out by hand below. Pages carry branding only (names,
// logo file names) and neutral filler.
#include "crawler/sigs_command.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "tests/crawler/test_server.h"

namespace mw {
namespace {

namespace fs = std::filesystem;
using testing::Reply;
using testing::TestServer;

struct Output {
  int status = -1;
  std::string out;
  std::string err;
};

Output RunSigs(const std::vector<std::string>& args) {
  std::ostringstream out, err;
  Output output;
  output.status = RunSigsCommand(args, out, err);
  output.out = out.str();
  output.err = err.str();
  return output;
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Two outlets. amaq needs an identity rule and 10 points: title 6 + masthead 4 + logo file 4;
// a report word in the title or a heading counts against it.
constexpr char kRules[] = R"(version: 1
outlets:
  - id: amaq
    name: Amaq News Agency
    threshold: 10
    require_any: [identity]
    rules:
      - id: amaq.title
        fields: [title]
        pattern: '^(amaq news agency|وكالة أعماق)'
        weight: 6
        tags: [identity]
      - id: amaq.masthead
        fields: [masthead]
        literal: [Amaq News Agency, وكالة أعماق]
        weight: 4
        tags: [identity]
      - id: amaq.logo
        fields: [logo]
        literal: amaq-logo
        weight: 4
      - id: amaq.report
        fields: [title, headings]
        literal: [report, takedown]
        word: true
        weight: -20
      - id: amaq.footer
        fields: [footer]
        literal: Amaq News Agency
        weight: 2
        status: experimental
  - id: nashir
    name: Nashir News
    threshold: 10
    rules:
      - id: nashir.title
        fields: [title]
        pattern: '^(nashir news|ناشر نيوز)'
        weight: 6
      - id: nashir.masthead
        fields: [masthead]
        literal: [Nashir News, ناشر نيوز]
        weight: 4
)";

// An older version: amaq needs 15 points, which no page reaches with stable rules.
std::string OldRules() {
  std::string rules = kRules;
  rules.replace(rules.find("threshold: 10"), 13, "threshold: 15");
  return rules;
}

constexpr char kBrandedPage[] = R"(<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Amaq News Agency | Home</title></head>
<body>
<header class="site-brand"><img src="/img/amaq-logo.png" alt=""> Amaq News Agency</header>
<main><h2>Latest</h2><p>Lorem ipsum dolor sit amet, garden coffee book.</p></main>
<footer>Amaq News Agency</footer>
</body></html>
)";

constexpr char kReportPage[] = R"(<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Report: the takedown of mirror sites</title></head>
<body>
<h1>Report on mirror sites</h1>
<p>Investigators listed sites that copied the Amaq News Agency name and its amaq-logo file.</p>
<p>Lorem ipsum dolor sit amet.</p>
</body></html>
)";

class SigsCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("mw-sigs-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    rules_ = Write("rules.yaml", kRules);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Writes `content` to dir_/relative (creating folders) and returns the path.
  std::string Write(const std::string& relative, const std::string& content) {
    const fs::path path = dir_ / relative;
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << content;
    return path.string();
  }

  fs::path dir_;
  std::string rules_;
};

// ------------------------------------------------------------------------------------ check

TEST_F(SigsCommandTest, SigsCheckReportsEveryProblemWithItsPosition) {
  struct Case {
    const char* why;
    std::string yaml;
    int status;
    std::vector<std::string> expected;  // substrings of the output, "bad.yaml" = the file
  } cases[] = {
      {"a clean file: a summary line with the outlets, rule counts and hash",
       kRules,
       0,
       {"bad.yaml: ok: 2 outlets (amaq: 5 rules, threshold 10; nashir: 2 rules, threshold 10), "
        "7 rules (1 experimental), 0 warnings, sha256 "}},
      {"RE2's reason, at the pattern",
       "version: 1\noutlets:\n  - id: amaq\n    threshold: 10\n    rules:\n"
       "      - id: amaq.title\n        fields: [title]\n        pattern: '(unclosed'\n"
       "        weight: 6\n",
       1,
       {"bad.yaml:8:18: error: invalid pattern: missing ): (unclosed", "FAILED: 1 error"}},
      {"an unknown field names the valid ones",
       "version: 1\noutlets:\n  - id: amaq\n    threshold: 10\n    rules:\n"
       "      - id: amaq.title\n        fields: [titel]\n        literal: Amaq\n"
       "        weight: 6\n",
       1,
       {"bad.yaml:7:18: error: unknown field 'titel'"}},
      {"a duplicate id names the line of the first",
       "version: 1\noutlets:\n  - id: amaq\n    threshold: 10\n    rules:\n"
       "      - id: amaq.title\n        fields: [title]\n        literal: Amaq\n        weight: 6\n"
       "      - id: amaq.title\n        fields: [masthead]\n        literal: Amaq\n"
       "        weight: 4\n",
       1,
       {"bad.yaml:10:13: error: duplicate rule id 'amaq.title' (first defined at line 6)"}},
      {"a missing threshold",
       "version: 1\noutlets:\n  - id: amaq\n    rules:\n"
       "      - id: amaq.title\n        fields: [title]\n        literal: Amaq\n        weight: "
       "6\n",
       1,
       {"bad.yaml:3:5: error: missing 'threshold'"}},
      {"a pattern that matches empty text would fire on every page",
       "version: 1\noutlets:\n  - id: amaq\n    threshold: 1\n    rules:\n"
       "      - id: amaq.x\n        fields: [body]\n        pattern: 'x*'\n        weight: 1\n",
       1,
       {"bad.yaml:8:18: error: pattern matches empty text"}},
      {"an unknown key (a typo would silently drop a setting)",
       "version: 1\noutlets:\n  - id: amaq\n    threshold: 6\n    rules:\n"
       "      - id: amaq.title\n        fields: [title]\n        literal: Amaq\n"
       "        weight: 6\n        colour: red\n",
       1,
       {"bad.yaml:10:9: error: unknown key 'colour'"}},
      {"every problem in one pass, not just the first",
       "version: 1\noutlets:\n  - id: amaq\n    rules:\n"
       "      - id: amaq.title\n        fields: [titel]\n        pattern: '(x'\n        weight: "
       "6\n",
       1,
       {"error: missing 'threshold'", "error: unknown field 'titel'", "error: invalid pattern",
        "FAILED: 3 errors"}},
      {"a warning alone does not fail: a pattern that matches most neutral text",
       "version: 1\noutlets:\n  - id: amaq\n    threshold: 1\n    rules:\n"
       "      - id: amaq.title\n        fields: [title]\n        literal: Amaq\n        weight: 1\n"
       "      - id: amaq.letters\n        fields: [body]\n        pattern: '\\p{L}+'\n"
       "        weight: 1\n",
       0,
       {"bad.yaml:12:18: warning: rule 'amaq.letters' is too broad", "1 warning"}},
      {"a rule too big for RE2's memory budget",
       "version: 1\noutlets:\n  - id: amaq\n    threshold: 1\n    rules:\n"
       "      - id: amaq.big\n        fields: [body]\n        pattern: '" +
           [] {
             std::string pattern;
             for (int i = 0; i < 5; ++i) pattern += "\\p{L}{1000}";
             return pattern;
           }() +
           "'\n        weight: 1\n",
       1,
       {"bad.yaml:8:18: error: rule 'amaq.big' alone exceeds RE2's memory budget"}},
      {"a rule that can never fire is a warning",
       "version: 1\noutlets:\n  - id: amaq\n    threshold: 1\n    rules:\n"
       "      - id: amaq.title\n        fields: [title]\n        literal: Amaq\n        weight: 1\n"
       "      - id: amaq.url\n        fields: [url]\n        literal: 'أعماق'\n        weight: 1\n",
       0,
       {"bad.yaml:12:18: warning: rule 'amaq.url' can never fire"}},
  };
  for (const Case& c : cases) {
    const std::string path = Write("bad.yaml", c.yaml);
    const Output output = RunSigs({"check", path});
    EXPECT_EQ(output.status, c.status) << c.why << "\n" << output.out << output.err;
    for (std::string expected : c.expected) {
      const auto at = expected.find("bad.yaml");
      if (at != std::string::npos) expected.replace(at, 8, path);
      EXPECT_TRUE(Contains(output.out, expected))
          << c.why << ": expected \"" << expected << "\" in\n"
          << output.out;
    }
  }
}

TEST_F(SigsCommandTest, SigsCheckStrictFailsOnWarningsAndEveryFileIsReported) {
  const std::string broad =
      Write("broad.yaml",
            "version: 1\noutlets:\n  - id: amaq\n    threshold: 1\n    rules:\n"
            "      - id: amaq.letters\n        fields: [body]\n        pattern: '\\p{L}+'\n"
            "        weight: 1\n");
  EXPECT_EQ(RunSigs({"check", broad}).status, 0);
  EXPECT_EQ(RunSigs({"check", "--strict", broad}).status, 1);
  EXPECT_EQ(RunSigs({"check", "--strict", rules_}).status, 0);

  const std::string missing = (dir_ / "missing.yaml").string();
  const Output output = RunSigs({"check", rules_, missing});
  EXPECT_EQ(output.status, 1);
  EXPECT_TRUE(Contains(output.out, rules_ + ": ok: ")) << output.out;
  EXPECT_TRUE(Contains(output.out, missing + ": error: cannot read")) << output.out;
  EXPECT_TRUE(Contains(output.out, missing + ": FAILED: 1 error")) << output.out;
}

TEST_F(SigsCommandTest, SigsCheckJsonListsDiagnosticsAndTheHash) {
  const std::string broad =
      Write("broad.yaml",
            "version: 1\noutlets:\n  - id: amaq\n    threshold: 1\n    rules:\n"
            "      - id: amaq.letters\n        fields: [body]\n        pattern: '\\p{L}+'\n"
            "        weight: 1\n");
  const Output output = RunSigs({"check", "--json", rules_, broad});
  ASSERT_EQ(output.status, 0) << output.err;
  const nlohmann::json report = nlohmann::json::parse(output.out);
  ASSERT_EQ(report.size(), 2u);
  EXPECT_EQ(report[0]["ok"], true);
  EXPECT_EQ(report[0]["rules"], 7);
  EXPECT_EQ(report[0]["experimental_rules"], 1);
  EXPECT_EQ(report[0]["sha256"].get<std::string>().size(), 64u);
  EXPECT_EQ(report[0]["outlets"][1]["id"], "nashir");
  EXPECT_EQ(report[0]["outlets"][1]["name"], "Nashir News");
  EXPECT_EQ(report[0]["outlets"][1]["threshold"], 10);
  EXPECT_EQ(report[0]["outlets"][1]["rules"], 2);
  EXPECT_EQ(report[1]["warnings"], 1);
  EXPECT_EQ(report[1]["diagnostics"][0]["severity"], "warning");
  EXPECT_EQ(report[1]["diagnostics"][0]["line"], 8);
}

// ------------------------------------------------------------------------------------- test

TEST_F(SigsCommandTest, SigsTestExplainsABrandedPageAndAReport) {
  const std::string branded = Write("branded.html", kBrandedPage);
  const std::string report = Write("report.html", kReportPage);
  const Output output = RunSigs({"test", rules_, branded, report});
  ASSERT_EQ(output.status, 0) << output.err;
  const struct {
    const char* expected;
    const char* why;
  } lines[] = {
      {"== ", "a header per page"},
      {"(scored as http://local.test/branded.html, text/html, utf-8 from meta,",
       "a file is scored as http://local.test/<file name>"},
      {"amaq: score 16 / threshold 10 (stable 14) -> FLAGGED\n",
       "score against threshold; the experimental rule scores but is not stable"},
      {"  +6 amaq.title [title] \u00D71 \"Amaq News Agency | Home\"\n", "each rule, field, count"},
      {"  +4 amaq.logo [logo] \u00D71 \"amaq-logo.png\"\n", "the logo file name"},
      {"  +2 amaq.footer [footer] \u00D71 \"Amaq News Agency\" (experimental)\n",
       "experimental rules are shown and marked"},
      {"verdict: FLAGGED as amaq\n", "the verdict"},
      {"amaq: score -20 / threshold 10 (stable -20) -> not flagged\n",
       "only evidence against on the report"},
      {"  -20 amaq.report [title]", "the negative rule is listed"},
      {"verdict: not flagged\n", "the report is not flagged"},
  };
  for (const auto& line : lines) {
    EXPECT_TRUE(Contains(output.out, line.expected))
        << line.why << ": expected \"" << line.expected << "\" in\n"
        << output.out;
  }
}

TEST_F(SigsCommandTest, SigsTestShowsTheUnmetCondition) {
  // The logo file alone reaches the threshold, but no identity rule fired.
  const std::string rules = Write("cond.yaml", R"(version: 1
outlets:
  - id: amaq
    threshold: 10
    require_any: [identity]
    rules:
      - id: amaq.title
        fields: [title]
        literal: Amaq News Agency
        weight: 6
        tags: [identity]
      - id: amaq.logo
        fields: [logo]
        literal: amaq-logo
        weight: 10
)");
  const std::string page =
      Write("logo.html",
            "<html><head><title>Lorem</title></head><body><img src='amaq-logo.png'>"
            "</body></html>");
  const Output output = RunSigs({"test", rules, page});
  ASSERT_EQ(output.status, 0) << output.err;
  EXPECT_TRUE(Contains(output.out,
                       "amaq: score 10 / threshold 10 (stable 10) -> not flagged "
                       "(require_any: none of identity fired)\n"))
      << output.out;
  EXPECT_TRUE(Contains(output.out, "verdict: not flagged")) << output.out;
}

TEST_F(SigsCommandTest, SigsTestJsonIsOneDocumentPerPage) {
  const std::string branded = Write("branded.html", kBrandedPage);
  const std::string report = Write("report.html", kReportPage);
  const Output output =
      RunSigs({"test", "--json", "--url", "http://mirror.test/home", rules_, branded, report});
  ASSERT_EQ(output.status, 0) << output.err;
  std::istringstream lines(output.out);
  std::vector<nlohmann::json> pages;
  for (std::string line; std::getline(lines, line);) pages.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(pages.size(), 2u);
  EXPECT_EQ(pages[0]["url"], "http://mirror.test/home") << "--url sets the page URL";
  EXPECT_EQ(pages[0]["flagged"], nlohmann::json::array({"amaq"}));
  EXPECT_EQ(pages[0]["outlets"][0]["score"], 16);
  EXPECT_EQ(pages[0]["outlets"][0]["stable_score"], 14);
  EXPECT_EQ(pages[0]["outlets"][0]["hits"][0]["rule"], "amaq.title");
  EXPECT_EQ(pages[0]["outlets"][0]["hits"][0]["field"], "title");
  EXPECT_EQ(pages[0]["outlets"][0]["hits"][3]["rule"], "amaq.footer");
  EXPECT_EQ(pages[0]["outlets"][0]["hits"][3]["experimental"], true);
  EXPECT_EQ(pages[0]["signatures"]["sha256"].get<std::string>().size(), 64u);
  EXPECT_EQ(pages[1]["flagged"], nlohmann::json::array());
  EXPECT_EQ(pages[1]["outlets"][0]["flagged"], false);
}

TEST_F(SigsCommandTest, SigsTestContentTypeDecidesTheCharset) {
  // وكالة أعماق in windows-1256, with no <meta charset>: only the Content-Type says how to read it.
  const std::string page =
      Write("cp1256.html",
            "<html><head><title>\xE6\xDF\xC7\xE1\xC9 \xC3\xDA\xE3\xC7\xDE</title></head>"
            "<body><header>\xE6\xDF\xC7\xE1\xC9 \xC3\xDA\xE3\xC7\xDE</header></body></html>");
  const Output output =
      RunSigs({"test", "--content-type", "text/html; charset=windows-1256", rules_, page});
  ASSERT_EQ(output.status, 0) << output.err;
  EXPECT_TRUE(Contains(output.out, "windows-1256 from header")) << output.out;
  EXPECT_TRUE(Contains(output.out, "verdict: FLAGGED as amaq")) << output.out;
}

TEST_F(SigsCommandTest, SigsTestFetchesAUrlThroughTheGuard) {
  TestServer server([](const std::string& host, const std::string& target) {
    if (host != "mirror.test") return Reply(404, "text/html", "no such host");
    if (target == "/old") return Reply(301, "text/html", "", {{"Location", "http://mirror.test/"}});
    if (target == "/") return Reply(200, "text/html; charset=utf-8", kBrandedPage);
    return Reply(404, "text/html", "not found");
  });
  const Output output = RunSigs({"test", rules_, "http://mirror.test/old", "--connect-to",
                                 server.connect_to(), "--allow-net", "127.0.0.1/32"});
  ASSERT_EQ(output.status, 0) << output.err;
  EXPECT_TRUE(Contains(output.out, "(http://mirror.test/, HTTP 200 after 1 redirect, "))
      << output.out;
  EXPECT_TRUE(Contains(output.out, "amaq: score 16 / threshold 10 (stable 14) -> FLAGGED"))
      << output.out;

  // Without --allow-net the SSRF guard refuses loopback, as it does for crawl.
  const int connections = server.connections();
  const Output blocked =
      RunSigs({"test", rules_, "http://mirror.test/", "--connect-to", server.connect_to()});
  EXPECT_EQ(blocked.status, 2);
  EXPECT_TRUE(Contains(blocked.err, "http://mirror.test/: fetch failed (blocked)")) << blocked.err;
  EXPECT_EQ(server.connections(), connections) << "a blocked fetch never connects";
}

TEST_F(SigsCommandTest, SigsTestReportsPagesItCannotRead) {
  const std::string branded = Write("branded.html", kBrandedPage);
  const Output output = RunSigs({"test", rules_, (dir_ / "nope.html").string(), branded});
  EXPECT_EQ(output.status, 2);
  EXPECT_TRUE(Contains(output.err, "nope.html: no such file, and not an http:// or https:// URL"))
      << output.err;
  EXPECT_TRUE(Contains(output.out, "verdict: FLAGGED as amaq")) << "the other pages still count";

  const std::string broken = Write("broken.yaml", "version: 1\noutlets: []\n");
  const Output unloadable = RunSigs({"test", broken, branded});
  EXPECT_EQ(unloadable.status, 2);
  EXPECT_TRUE(Contains(unloadable.err, "does not load")) << unloadable.err;
}

// ------------------------------------------------------------------------------------- eval

// A labelled set of 4 hosts and 7 pages, laid out as the corpus's sites/:
//
//   host                 label   page                      verdict with kRules
//   amaq-mirror.test     amaq    /                         amaq 16 (title, masthead, logo,
//                                                          experimental footer)             TP
//                                /news/item-1.html         amaq 4 (logo only)               miss
//   quiet-host.test      amaq    /                         amaq 6 (title only)              miss
//   news-site.test       none    /                         amaq -20 (a report)              -
//                                /tags/amaq/               amaq 10 (title, masthead)        FP
//   nashir-mirror.test   nashir  /                         nashir 10, windows-1256 named
//                                                          only by charsets.tsv             TP
//                                /?p=5 (_q/p=5.html)       nashir 10                        TP
//
// Host level: amaq tp 1 fp 1 fn 1, nashir tp 1; micro tp 2 fp 1 fn 1.
// Page level: amaq tp 1 fp 1 fn 2, nashir tp 2; micro tp 3 fp 1 fn 2.
class SigsEvalTest : public SigsCommandTest {
 protected:
  void SetUp() override {
    SigsCommandTest::SetUp();
    Write("corpus/sites/amaq-mirror.test/index.html", kBrandedPage);
    Write("corpus/sites/amaq-mirror.test/news/item-1.html",
          "<html><head><title>Item 1</title></head><body><img src='/img/amaq-logo.png'>"
          "<p>Lorem ipsum.</p></body></html>");
    Write("corpus/sites/quiet-host.test/index.html",
          "<html><head><title>Amaq News Agency</title></head><body><p>Lorem.</p></body></html>");
    Write("corpus/sites/news-site.test/index.html", kReportPage);
    Write("corpus/sites/news-site.test/tags/amaq/index.html",
          "<html><head><title>Amaq News Agency - tag</title></head><body>"
          "<header>Amaq News Agency</header><p>Lorem.</p></body></html>");
    // ناشر نيوز in windows-1256, no <meta charset>.
    Write("corpus/sites/nashir-mirror.test/index.html",
          "<html><head><title>\xE4\xC7\xD4\xD1 \xE4\xED\xE6\xD2</title></head><body><header>"
          "\xE4\xC7\xD4\xD1 \xE4\xED\xE6\xD2</header></body></html>");
    Write("corpus/sites/nashir-mirror.test/_q/p=5.html",
          "<html><head><title>Nashir News | post 5</title></head><body><header>Nashir News"
          "</header></body></html>");
    Write("corpus/sites/nashir-mirror.test/robots.txt", "User-agent: *\nDisallow:\n");
    Write("corpus/charsets.tsv",
          "# host\tpath\tcharset\nnashir-mirror.test\t/\twindows-1256\n"
          "nashir-mirror.test\t/index.html\twindows-1256\n");
    labels_ = Write("corpus/labels.json", R"({
 "hosts": {"amaq-mirror.test": "amaq", "quiet-host.test": "amaq", "news-site.test": "none",
           "nashir-mirror.test": "nashir"},
 "pages": {"http://amaq-mirror.test/": "amaq", "http://amaq-mirror.test/news/item-1.html": "amaq",
           "http://quiet-host.test/": "amaq", "http://news-site.test/": "none",
           "http://news-site.test/tags/amaq/": "none", "http://nashir-mirror.test/": "nashir",
           "http://nashir-mirror.test/?p=5": "nashir"},
 "meta": {"host_kind": {"news-site.test": "news"}}
})");
  }

  std::string labels_;
};

struct TallyCase {
  const char* level;  // "host" or "page"
  const char* outlet;
  int tp, fp, fn;
  double precision, recall;
};

void ExpectTallies(const nlohmann::json& report, const std::vector<TallyCase>& cases) {
  for (const TallyCase& c : cases) {
    const nlohmann::json& t = report[c.level][c.outlet];
    EXPECT_EQ(t["tp"], c.tp) << c.level << " " << c.outlet;
    EXPECT_EQ(t["fp"], c.fp) << c.level << " " << c.outlet;
    EXPECT_EQ(t["fn"], c.fn) << c.level << " " << c.outlet;
    EXPECT_NEAR(t["precision"].get<double>(), c.precision, 1e-9) << c.level << " " << c.outlet;
    EXPECT_NEAR(t["recall"].get<double>(), c.recall, 1e-9) << c.level << " " << c.outlet;
  }
}

TEST_F(SigsEvalTest, SigsEvalPagesGivesExactPrecisionAndRecall) {
  const Output json = RunSigs({"eval", rules_, "--pages", (dir_ / "corpus").string(), "--json"});
  ASSERT_EQ(json.status, 0) << json.err;
  const nlohmann::json report = nlohmann::json::parse(json.out);
  ExpectTallies(report, {
                            {"host", "amaq", 1, 1, 1, 0.5, 0.5},
                            {"host", "nashir", 1, 0, 0, 1.0, 1.0},
                            {"host", "micro", 2, 1, 1, 2.0 / 3, 2.0 / 3},
                            {"page", "amaq", 1, 1, 2, 0.5, 1.0 / 3},
                            {"page", "nashir", 2, 0, 0, 1.0, 1.0},
                            {"page", "micro", 3, 1, 2, 0.75, 0.6},
                        });
  EXPECT_EQ(report["pages"]["scored"], 7) << "robots.txt is not a page";
  EXPECT_EQ(report["labels"]["file"], (dir_ / "corpus" / "labels.json").string())
      << "a corpus root's labels.json is the default";
  ASSERT_EQ(report["false_positive_hosts"].size(), 1u);
  EXPECT_EQ(report["false_positive_hosts"][0]["host"], "news-site.test");
  EXPECT_EQ(report["false_positive_hosts"][0]["rules"][0]["rule"], "amaq.title");
  ASSERT_EQ(report["missed_hosts"].size(), 1u);
  EXPECT_EQ(report["missed_hosts"][0]["best_page"], "http://quiet-host.test/");

  // The same figures as text, with score.py's last line and the rules behind each error.
  const Output text = RunSigs(
      {"eval", rules_, "--pages", (dir_ / "corpus" / "sites").string(), "--labels", labels_});
  ASSERT_EQ(text.status, 0) << text.err;
  for (const char* expected : {
           "amaq      |    1    1    1  0.500  0.500  0.500 |     1     1     2  0.500  0.333  "
           "0.400\n",
           "micro     |    2    1    1  0.667  0.667  0.667 |     3     1     2  0.750  0.600  "
           "0.667\n",
           "false-positive hosts (1):\n  news-site.test  flagged amaq, label none (news), on 1 "
           "page: "
           "amaq.title +6 (1 page), amaq.masthead +4 (1 page)\n",
           "false-positive pages (1):\n  http://news-site.test/tags/amaq/  flagged amaq (10 / 10), "
           "label none: amaq.title +6 [title], amaq.masthead +4 [masthead]\n",
           "missed hosts (1):\n  quiet-host.test  label amaq: best page http://quiet-host.test/ "
           "score 6 / 10: amaq.title +6 [title]\n",
           "http://amaq-mirror.test/news/item-1.html  label amaq: score 4 / 10: amaq.logo +4 "
           "[logo]\n",
           "\nhost_f1=0.6667 host_precision=0.6667 host_recall=0.6667 page_f1=0.6667 "
           "page_precision=0.7500 page_recall=0.6000\n",
       }) {
    EXPECT_TRUE(Contains(text.out, expected)) << "expected \"" << expected << "\" in\n" << text.out;
  }
}

TEST_F(SigsEvalTest, SigsEvalCompareShowsAGainedHost) {
  const std::string old_rules = Write("old.yaml", OldRules());
  const Output output =
      RunSigs({"eval", rules_, "--pages", (dir_ / "corpus").string(), "--compare", old_rules});
  ASSERT_EQ(output.status, 0) << output.err;
  for (const char* expected : {
           "hosts whose verdict changed (2: 1 new false positive, 1 now found):\n"
           "  + amaq-mirror.test  amaq  (label amaq: now found; flagged by amaq.title +6 (1 page), "
           "amaq.masthead +4 (1 page), amaq.logo +4 (1 page), amaq.footer +2 (1 page))\n"
           "  + news-site.test  amaq  (label none: new false positive; flagged by amaq.title +6 "
           "(1 page), amaq.masthead +4 (1 page))\n",
           "  + http://amaq-mirror.test/  amaq  (label amaq: now found; score 16 -> 16)\n",
           "old: host_f1=0.5000 host_precision=1.0000 host_recall=0.3333",
           "new: host_f1=0.6667 host_precision=0.6667 host_recall=0.6667",
       }) {
    EXPECT_TRUE(Contains(output.out, expected)) << "expected \"" << expected << "\" in\n"
                                                << output.out;
  }
  const Output json = RunSigs(
      {"eval", rules_, "--pages", (dir_ / "corpus").string(), "--compare", old_rules, "--json"});
  const nlohmann::json report = nlohmann::json::parse(json.out);
  EXPECT_EQ(report["compare"]["old"]["host"]["amaq"]["tp"], 0);
  EXPECT_EQ(report["compare"]["changed_hosts"][0]["change"], "gained");
  EXPECT_EQ(report["compare"]["changed_hosts"][0]["key"], "amaq-mirror.test");
}

TEST_F(SigsEvalTest, SigsEvalCrawlReadsFindingsAsScorePyDoes) {
  // URL spellings score.py canonicalises: host case, default port, index.html, fragment,
  // a tracking parameter added to a labelled query page; outlet aliases; a null outlet.
  Write(
      "crawl/findings.jsonl",
      R"({"url": "http://AMAQ-MIRROR.test:80/index.html#top", "outlet": "amaq", "score": 14, "threshold": 10, "rules": [{"id": "amaq.title", "field": "title", "weight": 6, "count": 1, "snippet": "Amaq News Agency | Home"}]}
{"url": "http://nashir-mirror.test/?utm_source=feed&p=5", "host": "nashir-mirror.test", "outlet": "Nashir News", "score": 10, "threshold": 10, "rules": []}
{"url": "http://news-site.test/unknown.html", "outlet": "amaq", "score": 12, "threshold": 10, "rules": [{"id": "amaq.title", "field": "title", "weight": 6}]}
{"url": "http://quiet-host.test/", "outlet": null}
)");
  Write(
      "crawl/pages.jsonl",
      R"({"url": "http://amaq-mirror.test/", "kind": "page", "status": 200, "fetched_at": "2026-11-28T12:00:00.000Z"}
{"url": "http://quiet-host.test/", "kind": "page", "status": 200, "fetched_at": "2026-11-28T12:00:00.100Z"}
{"url": "http://quiet-host.test/robots.txt", "kind": "robots", "status": 404, "fetched_at": "2026-11-28T12:00:00.050Z"}
{"url": "http://nashir-mirror.test/?p=5", "kind": "page", "status": 200, "fetched_at": "2026-11-28T12:00:00.200Z"}
{"url": "http://nashir-mirror.test/", "kind": "page", "skipped": "robots", "fetched_at": null}
)");
  const std::string crawl = (dir_ / "crawl").string();
  const Output json = RunSigs({"eval", "--crawl", crawl, "--labels", labels_, "--json"});
  ASSERT_EQ(json.status, 0) << json.err;
  const nlohmann::json report = nlohmann::json::parse(json.out);
  ExpectTallies(report, {
                            {"host", "amaq", 1, 1, 1, 0.5, 0.5},
                            {"host", "nashir", 1, 0, 0, 1.0, 1.0},
                            {"host", "micro", 2, 1, 1, 2.0 / 3, 2.0 / 3},
                            {"page", "amaq", 1, 1, 2, 0.5, 1.0 / 3},
                            {"page", "nashir", 1, 0, 1, 1.0, 0.5},
                            {"page", "micro", 2, 1, 3, 2.0 / 3, 0.4},
                        });
  EXPECT_EQ(report["unlabelled_flagged_pages"], 1);

  const Output text = RunSigs({"eval", rules_, "--crawl", crawl, "--labels", labels_});
  ASSERT_EQ(text.status, 0) << text.err;
  for (const char* expected : {
           "http://news-site.test/unknown.html  flagged amaq (12 / 10), not labelled: "
           "amaq.title +6 [title]\n",
           "quiet-host.test  label amaq: 1 page fetched, none flagged amaq\n",
           "http://amaq-mirror.test/news/item-1.html  label amaq: not fetched by the crawl\n",
           "http://quiet-host.test/  label amaq: fetched, not flagged\n",
           "page_f1=0.5000 page_precision=0.6667 page_recall=0.4000\n",
       }) {
    EXPECT_TRUE(Contains(text.out, expected)) << "expected \"" << expected << "\" in\n" << text.out;
  }
}

// ------------------------------------------------------------------------------- arguments

TEST_F(SigsCommandTest, SigsArgumentsAreCheckedBeforeAnythingRuns) {
  const struct {
    std::vector<std::string> args;
    const char* error_part;
  } cases[] = {
      {{}, "give a command"},
      {{"lint"}, "unknown command 'lint'"},
      {{"check"}, "give the signature files"},
      {{"check", "--url", "http://x.test/", "f.yaml"}, "--url is not an option of sigs check"},
      {{"test", "f.yaml"}, "at least one page"},
      {{"test", "--url", "ftp://x.test/", "f.yaml", "p.html"}, "not an absolute http(s) URL"},
      {{"test", "--allow-net", "10.0.0.0/33", "f.yaml", "http://x.test/"}, "--allow-net"},
      {{"eval", "f.yaml", "--labels", "l.json"}, "either --pages DIR or --crawl DIR"},
      {{"eval", "f.yaml", "--pages", "d", "--crawl", "c"}, "either --pages DIR or --crawl DIR"},
      {{"eval", "f.yaml", "--crawl", "c", "--labels", "l.json", "--compare", "old.yaml"},
       "--compare needs --pages"},
      {{"eval", "f.yaml", "--list", "-1", "--pages", "d"}, "must be at least 0"},
      {{"eval", "f.yaml", "--json=yes"}, "--json takes no value"},
  };
  for (const auto& c : cases) {
    const Output output = RunSigs(c.args);
    EXPECT_EQ(output.status, 2) << c.error_part;
    EXPECT_TRUE(Contains(output.err, c.error_part))
        << "expected \"" << c.error_part << "\" in " << output.err;
  }
  const Output help = RunSigs({"eval", "--help"});
  EXPECT_EQ(help.status, 0);
  EXPECT_TRUE(Contains(help.out, "--compare OLD.yaml")) << help.out;
}

}  // namespace
}  // namespace mw
