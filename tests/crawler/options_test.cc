#include "crawler/options.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace mw {
namespace {

TEST(Options, HelpListsEveryOptionWithItsDefault) {
  const std::string help = CrawlHelp();
  const CrawlOptions defaults;
  for (const OptionSpec& spec : CrawlOptionSpecs()) {
    EXPECT_NE(help.find("--" + std::string(spec.name)), std::string::npos) << spec.name;
    EXPECT_NE(help.find("(default: " + spec.show(defaults) + ")"), std::string::npos)
        << spec.name;
  }
}

TEST(Options, DocsTableMatchesTheDeclarations) {
  std::ifstream in(std::string(MW_SOURCE_DIR) + "/docs/options.md");
  std::stringstream docs;
  docs << in.rdbuf();
  EXPECT_NE(docs.str().find(CrawlOptionsMarkdown()), std::string::npos)
      << "docs/options.md is out of date: paste the output of "
         "`mirrorwatch crawl --help-markdown` into it";
}

TEST(Options, ParsesValuesAndRejectsBadOnes) {
  struct Case {
    std::vector<std::string> args;
    std::string error_part;  // empty: accepted
    const char* why;
  } cases[] = {
      {{"--concurrency", "8", "http://a.test/"}, "", "value as next argument"},
      {{"--per-host=3"}, "", "value after '='"},
      {{"--max-body", "2M"}, "", "size suffix"},
      {{"--concurrency", "0"}, "at least 1", "zero concurrency would never fetch"},
      {{"--concurrency", "many"}, "not a whole number", "not a number"},
      {{"--no-such-option"}, "unknown option", "typo"},
      {{"--out"}, "needs a value", "missing value"},
      {{"--progress", "sometimes"}, "must be one of auto|always|never", "enum"},
      {{"--insecure=yes"}, "takes no value", "a flag"},
      {{"--robots", "maybe"}, "must be one of obey|ignore", "enum"},
  };
  for (const Case& c : cases) {
    CrawlOptions options;
    HelpRequest help = HelpRequest::kNone;
    const std::string error = ParseCrawlArgs(c.args, &options, &help);
    if (c.error_part.empty()) {
      EXPECT_EQ(error, "") << c.why;
    } else {
      EXPECT_NE(error.find(c.error_part), std::string::npos) << c.why << ": " << error;
    }
  }
  CrawlOptions options;
  HelpRequest help = HelpRequest::kNone;
  ASSERT_EQ(ParseCrawlArgs({"--connect-to", "::127.0.0.1:1", "--connect-to", "a:80:b:81",
                            "--max-body", "2M", "http://x.test/"},
                           &options, &help),
            "");
  EXPECT_EQ(options.connect_to.size(), 2u) << "--connect-to repeats";
  EXPECT_EQ(options.max_body, 2 << 20);
  EXPECT_EQ(options.seeds, std::vector<std::string>{"http://x.test/"});
}

}  // namespace
}  // namespace mw
