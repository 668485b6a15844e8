#include "parsers/robots.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mw {
namespace {

using std::string_literals::operator""s;

constexpr std::string_view kProduct = "mirrorwatch";
constexpr std::size_t kParsedBytes = 500 * 1024;

struct AgentCase {
  std::string product;
  std::string path;
  bool allowed;
  const char* why;
};

// RFC 9309 5.1, verbatim.
constexpr std::string_view kSimpleExample =
    "User-Agent: *\n"
    "Disallow: *.gif$\n"
    "Disallow: /example/\n"
    "Allow: /publications/\n"
    "\n"
    "User-Agent: foobot\n"
    "Disallow:/\n"
    "Allow:/example/page.html\n"
    "Allow:/example/allowed.gif\n"
    "\n"
    "User-Agent: barbot\n"
    "User-Agent: bazbot\n"
    "Disallow: /example/page.html\n"
    "\n"
    "User-Agent: quxbot\n"
    "\n"
    "EOF\n";

TEST(RobotsRfc9309, SimpleExample) {
  const AgentCase cases[] = {
      {"ExampleBot", "/example/page.html", false, "no group of its own: the * group's /example/"},
      {"ExampleBot", "/images/cat.gif", false, "* group: *.gif$"},
      {"ExampleBot", "/images/cat.gif?size=2", true, "$ anchors: a query after .gif escapes it"},
      {"ExampleBot", "/publications/", true, "* group: Allow /publications/"},
      {"ExampleBot", "/publications/cover.gif", true,
       "/publications/ (14 octets) is longer than *.gif$ (6)"},
      {"ExampleBot", "/", true, "no rule matches"},
      {"foobot", "/", false, "Disallow:/ without the optional space"},
      {"foobot", "/anything", false, "Disallow:/ covers everything"},
      {"foobot", "/example/page.html", true, "Allow is longer than Disallow:/"},
      {"foobot", "/example/allowed.gif", true, "its own group: the * group's *.gif$ is not merged"},
      {"foobot", "/example/other.html", false, "only the two allowed prefixes"},
      {"FOOBOT", "/", false, "product token matched case-insensitively"},
      {"barbot", "/example/page.html", false, "a group naming two agents"},
      {"bazbot", "/example/page.html", false, "the second agent of that group"},
      {"bazbot", "/example/page.html.bak", false, "rules match prefixes"},
      {"bazbot", "/example/other.html", true, "the * group's /example/ does not apply to bazbot"},
      {"bazbot", "/cat.gif", true, "nor does its *.gif$"},
      {"quxbot", "/example/page.html", true, "an empty group at the end allows everything"},
      {"quxbot", "/cat.gif", true, "and shadows the * group"},
  };
  for (const AgentCase& c : cases) {
    SCOPED_TRACE(c.why);
    EXPECT_EQ(RobotsRules::Parse(kSimpleExample, c.product).Allows(c.path), c.allowed)
        << c.product << " " << c.path;
  }
}

TEST(RobotsRfc9309, LongestMatch) {
  const std::string_view robots =
      "User-Agent: foobot\n"
      "Allow: /example/page/\n"
      "Disallow: /example/page/disallowed.gif\n";
  const AgentCase cases[] = {
      {"foobot", "/example/page/disallowed.gif", false, "RFC 9309 5.2: the longer Disallow wins"},
      {"foobot", "/example/page/", true, "only the Allow matches"},
      {"foobot", "/example/page/allowed.gif", true, "only the Allow matches"},
      {"foobot", "/example/", true, "neither matches"},
  };
  for (const AgentCase& c : cases) {
    SCOPED_TRACE(c.why);
    EXPECT_EQ(RobotsRules::Parse(robots, c.product).Allows(c.path), c.allowed) << c.path;
  }
}

struct RobotsCase {
  std::string robots;
  std::string path;
  bool allowed;
  const char* why;
};

void ExpectAllows(const RobotsCase& c, std::string_view product = kProduct) {
  SCOPED_TRACE(c.why);
  EXPECT_EQ(RobotsRules::Parse(c.robots, product).Allows(c.path), c.allowed)
      << "robots.txt:\n"
      << c.robots << "\npath: " << c.path;
}

TEST(RobotsRfc9309, GroupSelectionExamples) {
  const RobotsCase cases[] = {
      {"user-agent: ExampleBot\ndisallow: /foo\ndisallow: /bar\n\n"
       "user-agent: ExampleBot\ndisallow: /baz\n",
       "/baz", false, "2.2.1: two groups for the same token are merged (second group's rule)"},
      {"user-agent: ExampleBot\ndisallow: /foo\ndisallow: /bar\n\n"
       "user-agent: ExampleBot\ndisallow: /baz\n",
       "/foo", false, "2.2.1: merged (first group's rule)"},
      {"user-agent: ExampleBot\ndisallow: /foo\n\nuser-agent: ExampleBot\ndisallow: /baz\n", "/qux",
       true, "2.2.1: merged group, no rule matches"},
      {"user-agent: *\ndisallow: /foo\ndisallow: /bar\n\nuser-agent: BazBot\ndisallow: /baz\n",
       "/bar", false, "2.2.1: no ExampleBot group, the * group applies"},
      {"user-agent: *\ndisallow: /foo\ndisallow: /bar\n\nuser-agent: BazBot\ndisallow: /baz\n",
       "/baz", true, "2.2.1: BazBot's rules are not ExampleBot's"},
      {"user-agent: BazBot\ndisallow: /\n", "/x", true,
       "2.2.1: no matching group and no * group: no rules apply"},
      {"", "/x", true, "2.2.1: no groups at all"},
  };
  for (const RobotsCase& c : cases) ExpectAllows(c, "ExampleBot");
}

// Each pattern is put in "User-agent: *\nDisallow: <pattern>"; a match means the path is refused.
struct PatternCase {
  std::string pattern;
  std::string path;
  bool matches;
  const char* why;
};

void ExpectMatches(const PatternCase& c) {
  SCOPED_TRACE(c.why);
  const RobotsRules rules = RobotsRules::Parse("User-agent: *\nDisallow: " + c.pattern, kProduct);
  EXPECT_EQ(!rules.Allows(c.path), c.matches) << "pattern " << c.pattern << " path " << c.path;
}

TEST(RobotsRfc9309, PercentEncodingExamples) {
  const PatternCase cases[] = {
      {"/foo/bar?baz=quz", "/foo/bar?baz=quz", true, "2.2.2 row 1: nothing to encode"},
      {"/foo/bar?baz=https%3A%2F%2Ffoo.bar", "/foo/bar?baz=https%3A%2F%2Ffoo.bar", true,
       "2.2.2 row 2: reserved escapes stay encoded on both sides"},
      {"/foo/bar?baz=https%3a%2f%2ffoo.bar", "/foo/bar?baz=https%3A%2F%2Ffoo.bar", true,
       "2.2.2 row 2: escape hex compares case-insensitively"},
      {"/foo/bar?baz=https://foo.bar", "/foo/bar?baz=https%3A%2F%2Ffoo.bar", false,
       "reserved escapes are not decoded (RFC 3986 6.2.2.2): %2F is not /"},
      {"/foo/bar/\xE3\x83\x84", "/foo/bar/%E3%83%84", true,
       "2.2.2 row 3: UTF-8 in the file is percent-encoded before comparing"},
      {"/foo/bar/%E3%83%84", "/foo/bar/%E3%83%84", true, "2.2.2 row 4: already encoded"},
      {"/foo/bar/%e3%83%84", "/foo/bar/%E3%83%84", true, "2.2.2 row 4: lower-case hex"},
      {"/foo/bar/%62%61%7A", "/foo/bar/baz", true, "2.2.2 row 5: unreserved escapes decoded"},
      {"/foo/bar/baz", "/foo/bar/%62%61%7A", true, "2.2.2 row 5: in the path too"},
      {"/\xC3\xA4", "/%C3%A4", true, "ä in the file matches its escape in the URL"},
      {"/\xC3\xA4", "/%c3%a4", true, "whatever the case of the URL's hex"},
      {"/%C3%A4", "/\xC3\xA4", true, "and a raw UTF-8 path matches an escaped pattern"},
      {"/a b", "/a%20b", true, "a space inside a pattern is escaped"},
      {"/100%", "/100%25", true, "a stray % is a literal percent sign"},
      {"/path/file-with-a-%2A.html", "/path/file-with-a-*.html", true,
       "2.2.3: %2A names a literal * in the URL"},
      {"/path/file-with-a-%2A.html", "/path/file-with-a-x.html", false,
       "2.2.3: %2A is not a wildcard"},
      {"/path/foo-%24", "/path/foo-$", true, "2.2.3: %24 names a literal $"},
      {"/path/foo-%24", "/path/foo-", false, "2.2.3: %24 is not an anchor"},
  };
  for (const PatternCase& c : cases) ExpectMatches(c);
}

TEST(RobotsRfc9309, SpecialCharacters) {
  const PatternCase cases[] = {
      {"/this/path/exactly$", "/this/path/exactly", true, "2.2.3: $ ends the match"},
      {"/this/path/exactly$", "/this/path/exactly/more", false, "2.2.3: nothing may follow"},
      {"/this/path/exactly$", "/this/path/exactly?q=1", false, "not even a query"},
      {"/this/*/exactly", "/this/a/exactly", true, "2.2.3: * matches one segment"},
      {"/this/*/exactly", "/this/a/b/c/exactly", true, "* matches across slashes"},
      {"/this/*/exactly", "/this//exactly", true, "* matches nothing"},
      {"/this/*/exactly", "/this/exactly", false, "both slashes around * are still required"},
      {"/this/*/exactly", "/this/a/exactly/and/more", true, "without $ the rest is free"},
      {"*.gif$", "/a/b.gif", true, "a pattern may start with *"},
      {"*.gif$", "/a/b.gifs", false, "anchored suffix"},
      {"*.gif$", "/a.gif/b.gif", true, "the last occurrence may be the one that ends the path"},
      {"/a*b*c$", "/abcbc", true, "pieces placed leftmost, the last one at the end"},
      {"/a*b*c$", "/abcbd", false, "no c at the end"},
      {"/*", "/", true, "a trailing * matches nothing"},
      {"/**$", "/x", true, "consecutive stars are one star"},
      {"/a$b", "/a$b", true, "$ before the end is a literal dollar"},
      {"/a$b", "/a%24b", true, "which the URL may spell %24"},
      {"/a$b", "/ab", false, "and it is not an anchor"},
      {"/$", "/", true, "only the root"},
      {"/$", "/index.html", false, "only the root, nothing under it"},
      {"/Fish", "/fish", false, "matching is case-sensitive"},
      {"/fish", "/fish.html", true, "prefix match"},
      {"/fish/", "/fish", false, "the pattern's slash is required"},
      {"/fish", "/Fish.asp", false, "case-sensitive again"},
  };
  for (const PatternCase& c : cases) ExpectMatches(c);
}

TEST(Robots, GroupSelection) {
  const RobotsCase cases[] = {
      {"User-agent: mirrorwatch/1.0\nDisallow: /\n", "/x", false,
       "a version after the token still names us"},
      {"User-agent: mirrorwatch (+https://example.test/bot)\nDisallow: /\n", "/x", false,
       "so does a comment-like tail"},
      {"User-agent: MirrorWatch\nDisallow: /\n", "/x", false, "case-insensitive"},
      {"User-agent: mirrorwatchbot\nDisallow: /\n", "/x", true, "a longer token is another bot"},
      {"User-agent: mirror\nDisallow: /\n", "/x", true, "a prefix of our token is another bot"},
      {"User-agent: *bot\nDisallow: /\n", "/x", true, "*bot is neither us nor the wildcard"},
      {"User-agent: * \nDisallow: /\n", "/x", false, "* with trailing blanks"},
      {"User-agent: *\nDisallow: /a\n\nUser-agent: mirrorwatch\nDisallow: /b\n", "/a", true,
       "our group shadows the * group"},
      {"User-agent: *\nDisallow: /a\n\nUser-agent: mirrorwatch\nDisallow: /b\n", "/b", false,
       "our group's own rule"},
      {"User-agent: *\nDisallow: /\n\nUser-agent: mirrorwatch\n", "/x", true,
       "our group with no rules allows everything, * notwithstanding"},
      {"User-agent: *\nDisallow: /a\n\nUser-agent: other\nDisallow: /\n\n"
       "User-agent: *\nDisallow: /b\n",
       "/b", false, "* groups are merged too"},
      {"User-agent: mirrorwatch\nDisallow: /a\n\nUser-agent: *\nDisallow: /b\n\n"
       "User-agent: mirrorwatch\nAllow: /a/ok\n",
       "/a/ok", true, "our groups merged across the file, longest match across them"},
      {"User-agent: other\nUser-agent: mirrorwatch\nUser-agent: third\nDisallow: /x\n", "/x", false,
       "one group, several agents"},
      {"User-agent: mirrorwatch\nDisallow: /a\nUser-agent: other\nDisallow: /b\n", "/b", true,
       "a user-agent line after a rule opens a new group"},
      {"User-agent: mirrorwatch\nDisallow:\nUser-agent: other\nDisallow: /\n", "/x", true,
       "an empty Disallow still ends the agent list"},
      {"User-agent: mirrorwatch\nSitemap: https://x.test/s.xml\nUser-agent: other\n"
       "Disallow: /x\n",
       "/x", false, "a Sitemap line does not end the agent list (RFC 9309 2.2.4)"},
      {"User-agent: mirrorwatch\nCrawl-delay: 1\nUser-agent: other\nDisallow: /x\n", "/x", false,
       "nor does Crawl-delay"},
      {"User-agent: mirrorwatch\nNoindex: /\nUser-agent: other\nDisallow: /x\n", "/x", false,
       "nor an unknown record"},
      {"Disallow: /\nUser-agent: *\nDisallow: /a\n", "/x", true,
       "rules before the first user-agent line belong to no group"},
      {"User-agent: other\nDisallow: /\n", "/x", true, "no group for us and no *: allow all"},
      {"User-agent:\nDisallow: /\n", "/x", true, "an empty user-agent names nobody"},
  };
  for (const RobotsCase& c : cases) ExpectAllows(c);
}

TEST(Robots, EmptyOrOddProductMatchesOnlyTheWildcard) {
  const std::string robots =
      "User-agent: *\nDisallow: /star\n\nUser-agent: mirrorwatch\nDisallow: /ours\n";
  EXPECT_FALSE(RobotsRules::Parse(robots, "").Allows("/star"));
  EXPECT_TRUE(RobotsRules::Parse(robots, "").Allows("/ours"));
  EXPECT_FALSE(RobotsRules::Parse(robots, "mirrorwatch/0.1").Allows("/ours"))
      << "the token is the leading [a-zA-Z_-] run of what we are given";
}

TEST(Robots, Precedence) {
  const RobotsCase cases[] = {
      {"User-agent: *\nDisallow: /a\nAllow: /a/b\n", "/a/b/c", true, "longer Allow wins"},
      {"User-agent: *\nAllow: /a/b\nDisallow: /a\n", "/a/b/c", true, "whatever the order"},
      {"User-agent: *\nAllow: /a\nDisallow: /a/b\n", "/a/b/c", false, "longer Disallow wins"},
      {"User-agent: *\nDisallow: /a/b\nAllow: /a\n", "/a/b/c", false, "whatever the order"},
      {"User-agent: *\nDisallow: /page\nAllow: /page\n", "/page", true, "a tie goes to Allow"},
      {"User-agent: *\nAllow: /\nDisallow: /\n", "/x", true, "a tie at the root too"},
      {"User-agent: *\nDisallow: /pa*\nAllow: /page\n", "/page", true,
       "length is the pattern's octets, stars included: 4 and 5"},
      {"User-agent: *\nDisallow: /pag*\nAllow: /page\n", "/page", true, "tie of 5 octets: Allow"},
      {"User-agent: *\nDisallow: /page$\nAllow: /page\n", "/page", false,
       "$ counts: 6 octets beat 5"},
      {"User-agent: *\nDisallow: /%61bc\nAllow: /abc\n", "/abc", true,
       "lengths compare after normalisation: /%61bc is /abc, a tie"},
      {"User-agent: *\nDisallow:\n", "/x", true, "an empty Disallow is no rule"},
      {"User-agent: *\nDisallow: /\nAllow:\n", "/x", false, "an empty Allow is no rule either"},
      {"User-agent: *\nDisallow: /\nDisallow:\n", "/x", false, "nor does it cancel others"},
      {"User-agent: *\nAllow: /x\n", "/y", true, "nothing matches: allowed"},
  };
  for (const RobotsCase& c : cases) ExpectAllows(c);
}

TEST(Robots, LineSyntax) {
  const RobotsCase cases[] = {
      {"User-agent: *\r\nDisallow: /a\r\n", "/a", false, "CRLF"},
      {"User-agent: *\rDisallow: /a\r", "/a", false, "bare CR (old Mac files)"},
      {"User-agent: *\n\rDisallow: /a", "/a", false, "LF CR is two breaks; no final newline"},
      {"User-agent: *\r\n\r\nDisallow: /a\r\n", "/a", false,
       "a blank line inside a group does not end it"},
      {"\xEF\xBB\xBFUser-agent: *\nDisallow: /a\n", "/a", false, "UTF-8 BOM"},
      {"User-agent: * # everyone\nDisallow: /a # private\n", "/a", false, "trailing comments"},
      {"User-agent: *\nDisallow: /a$ # private\n", "/a", false,
       "the blank before a comment is not kept, so $ is still last"},
      {"# header\nUser-agent: *\n# Disallow: /a\n", "/a", true, "a commented-out rule"},
      {"User-agent: *\nDisallow: /a#b\n", "/ab", false, "# starts a comment even mid-pattern"},
      {"  User-agent :\t*\n\tDisallow\t:  /a  \n", "/a", false, "blanks around key, colon, value"},
      {"USER-AGENT: *\ndisALLOW: /a\n", "/a", false, "keys are case-insensitive"},
      {"useragent: *\nDisallow: /a\n", "/a", false, "typo Google accepts: useragent"},
      {"user agent: *\nDisallow: /a\n", "/a", false, "typo Google accepts: user agent"},
      {"User-agent: *\ndissallow: /a\n", "/a", false, "typo Google accepts: dissallow"},
      {"User-agent: *\ndissalow: /a\n", "/a", false, "typo Google accepts: dissalow"},
      {"User-agent: *\ndisalow: /a\n", "/a", false, "typo Google accepts: disalow"},
      {"User-agent: *\ndiasllow: /a\n", "/a", false, "typo Google accepts: diasllow"},
      {"User-agent: *\ndisallaw: /a\n", "/a", false, "typo Google accepts: disallaw"},
      {"User-agent: *\nDisallowed: /a\n", "/a", true, "other keys are unknown records"},
      {"User-agent *\nDisallow /a\n", "/a", false, "a missing colon, as Google tolerates"},
      {"User-agent: *\nDisallow /a /b\n", "/a", true, "but not with three words"},
      {"User-agent: *\nDisallow: private/\n", "/private/x", false,
       "a pattern without its leading / is read from the root"},
      {"User-agent: *\nDisallow: private/\n", "/x/private/", true, "and only from the root"},
      {"User-agent: *\nDisallow: /a\nAllow /a/b c\nDisallow: /b\n", "/b", false,
       "a malformed line is skipped, the next one read"},
      {"User-agent: *\nDisallow: /a\0b\n"s, "/a%00b", false,
       "a NUL byte is just another octet (escaped %00)"},
      {"User-agent: *\nDis\0allow: /\n"s, "/x", true, "a NUL in a key spoils it"},
  };
  for (const RobotsCase& c : cases) ExpectAllows(c);
}

struct CrawlDelayCase {
  std::string robots;
  std::optional<double> delay;
  const char* why;
};

TEST(Robots, CrawlDelay) {
  const CrawlDelayCase cases[] = {
      {"User-agent: *\nCrawl-delay: 10\n", 10, "an integer"},
      {"User-agent: *\nCrawl-delay: 2.5\n", 2.5, "a decimal"},
      {"User-agent: *\nCrawl-delay: .5\n", 0.5, "no leading digit"},
      {"User-agent: *\nCrawl-delay: 0\n", 0, "zero"},
      {"User-agent: *\ncrawl-DELAY:\t7 # be gentle\n", 7, "key case, blanks, comment"},
      {"User-agent: *\nCrawldelay: 4\n", 4, "crawldelay spelling"},
      {"User-agent: *\nCrawl-delay: -1\n", std::nullopt, "negative"},
      {"User-agent: *\nCrawl-delay: nan\n", std::nullopt, "NaN"},
      {"User-agent: *\nCrawl-delay: inf\n", std::nullopt, "infinity"},
      {"User-agent: *\nCrawl-delay: 10s\n", std::nullopt, "a unit"},
      {"User-agent: *\nCrawl-delay: 1,5\n", std::nullopt, "a decimal comma"},
      {"User-agent: *\nCrawl-delay: soon\n", std::nullopt, "a word"},
      {"User-agent: *\nCrawl-delay:\n", std::nullopt, "empty"},
      {"User-agent: *\nCrawl-delay: 0x10\n", std::nullopt, "hex"},
      {"User-agent: *\nCrawl-delay: x\nCrawl-delay: 3\nCrawl-delay: 7\n", 3,
       "the first valid value"},
      {"User-agent: *\nCrawl-delay: 5\n\nUser-agent: mirrorwatch\nCrawl-delay: 2\n", 2,
       "our group's, not *'s"},
      {"User-agent: *\nCrawl-delay: 5\n\nUser-agent: mirrorwatch\nDisallow: /x\n", std::nullopt,
       "our group has none: *'s does not apply"},
      {"User-agent: *\nCrawl-delay: 5\n\nUser-agent: other\nCrawl-delay: 9\n", 5,
       "fallback to * group's"},
      {"User-agent: other\nCrawl-delay: 9\n", std::nullopt, "only another bot's"},
      {"Crawl-delay: 9\nUser-agent: *\n", std::nullopt, "before any group"},
      {"", std::nullopt, "empty file"},
  };
  for (const CrawlDelayCase& c : cases) {
    SCOPED_TRACE(c.why);
    EXPECT_EQ(RobotsRules::Parse(c.robots, kProduct).crawl_delay(), c.delay) << c.robots;
  }
}

struct SitemapsCase {
  std::string robots;
  std::vector<std::string> sitemaps;
  const char* why;
};

TEST(Robots, SitemapsFromAnywhere) {
  const SitemapsCase cases[] = {
      {"Sitemap: https://x.test/a.xml\n", {"https://x.test/a.xml"}, "no groups at all"},
      {"Sitemap: https://x.test/a.xml\nUser-agent: other\nDisallow: /\n"
       "Sitemap: https://x.test/b.xml\nUser-agent: *\nsitemap:https://x.test/c.xml\n",
       {"https://x.test/a.xml", "https://x.test/b.xml", "https://x.test/c.xml"},
       "before, inside another bot's group and inside ours, in order"},
      {"Site-map: https://x.test/a.xml # the main one\n", {"https://x.test/a.xml"},
       "site-map spelling, comment dropped"},
      {"Sitemap: https://x.test/a.xml\nSitemap: https://x.test/a.xml\n", {"https://x.test/a.xml"},
       "a repeat is kept once"},
      {"Sitemap:\nSitemap:   \n", {}, "empty values"},
      {"Sitemap: /relative.xml\n", {"/relative.xml"}, "kept as written; resolving is the caller's"},
  };
  for (const SitemapsCase& c : cases) {
    SCOPED_TRACE(c.why);
    EXPECT_EQ(RobotsRules::Parse(c.robots, kProduct).sitemaps(), c.sitemaps);
  }
}

TEST(Robots, AllowAllAndDisallowAll) {
  const RobotsRules allow_all = RobotsRules::AllowAll();
  EXPECT_TRUE(allow_all.Allows("/"));
  EXPECT_TRUE(allow_all.Allows("/private/x?y=1"));
  EXPECT_FALSE(allow_all.crawl_delay().has_value());
  EXPECT_TRUE(allow_all.sitemaps().empty());

  const RobotsRules disallow_all = RobotsRules::DisallowAll();
  EXPECT_FALSE(disallow_all.Allows("/"));
  EXPECT_FALSE(disallow_all.Allows("/private/x?y=1"));
  EXPECT_FALSE(disallow_all.Allows(""));
  EXPECT_TRUE(disallow_all.Allows("/robots.txt")) << "so that it can be fetched again later";
  EXPECT_FALSE(disallow_all.crawl_delay().has_value());
  EXPECT_TRUE(disallow_all.sitemaps().empty());
}

TEST(Robots, RobotsTxtAlwaysAllowed) {
  const RobotsCase cases[] = {
      {"User-agent: *\nDisallow: /\n", "/robots.txt", true, "Disallow: / does not cover it"},
      {"User-agent: *\nDisallow: /robots.txt\n", "/robots.txt", true, "nor does naming it"},
      {"User-agent: *\nDisallow: /robots.txt$\n", "/robots%2Etxt", true,
       "nor does spelling the URL differently"},
      {"User-agent: *\nDisallow: /\n", "/robots.txt?x=1", false, "only /robots.txt itself"},
      {"User-agent: *\nDisallow: /\n", "/ROBOTS.TXT", false, "which is lower-case"},
      {"User-agent: *\nDisallow: /\n", "", false, "an empty path is the root"},
  };
  for (const RobotsCase& c : cases) ExpectAllows(c);
}

// Comment lines of exactly `line_bytes` bytes (newline included), `bytes` in all.
std::string CommentFiller(std::size_t bytes, std::size_t line_bytes = 100) {
  std::string filler;
  filler.reserve(bytes);
  while (filler.size() + line_bytes <= bytes) {
    filler += '#';
    filler.append(line_bytes - 2, '.');
    filler += '\n';
  }
  filler.append(bytes - filler.size(), '#');  // a short last comment line, without its newline
  if (!filler.empty() && filler.back() == '#') filler.back() = '\n';
  return filler;
}

struct LimitCase {
  std::size_t line_end;  // offset just past `line`
  std::string line;
  std::string after;
  std::string path;
  bool allowed;
  const char* why;
};

TEST(Robots, ReadsOnlyTheFirst500KiB) {
  const std::string head = "User-agent: *\n";
  const LimitCase cases[] = {
      {kParsedBytes, "Disallow: /x\n", "", "/x", false, "ends, newline included, at the limit"},
      {kParsedBytes, "Disallow: /x", "\n", "/x", false,
       "its newline is the first byte past the limit: the line itself is whole"},
      {kParsedBytes, "Disallow: /x", "yz\n", "/xa", true,
       "a line cut by the limit is dropped: half-read as /x it would refuse /xa"},
      {kParsedBytes + 100, "Disallow: /x\n", "", "/x", true, "a rule past the limit is not applied"},
      {kParsedBytes - 1, "Disallow: /x", "", "/x", false,
       "a body within the limit keeps its unterminated last line"},
  };
  for (const LimitCase& c : cases) {
    SCOPED_TRACE(c.why);
    const std::string body =
        head + CommentFiller(c.line_end - head.size() - c.line.size()) + c.line + c.after;
    ASSERT_EQ(body.find(c.line) + c.line.size(), c.line_end);
    EXPECT_EQ(RobotsRules::Parse(body, kProduct).Allows(c.path), c.allowed);
  }
}

TEST(Robots, SitemapPastTheLimitIsNotCollected) {
  const std::string body =
      CommentFiller(kParsedBytes) + "Sitemap: https://x.test/late.xml\n";
  EXPECT_TRUE(RobotsRules::Parse(body, kProduct).sitemaps().empty());
}

TEST(Robots, HostileWildcardPatternFinishes) {
  // A backtracking matcher tries every way to place eleven a's in 10,000 of them before
  // failing on the b: it would never return. The greedy matcher scans the path once per piece.
  const std::string path = "/" + std::string(10'000, 'a');
  const RobotsRules rules =
      RobotsRules::Parse("User-agent: *\nDisallow: /*a*a*a*a*a*a*a*a*a*a*a*b\n", kProduct);
  EXPECT_TRUE(rules.Allows(path)) << "no b anywhere";
  EXPECT_FALSE(rules.Allows(path + "b")) << "a b at the very end";

  const RobotsRules anchored =
      RobotsRules::Parse("User-agent: *\nDisallow: /*a*a*a*a*a*a*a*a*a*a*a*b$\n", kProduct);
  EXPECT_TRUE(anchored.Allows(path + "ba")) << "anchored: the b must end the path";
  EXPECT_FALSE(anchored.Allows(path + "b"));

  std::string many_stars = "User-agent: *\nDisallow: /";
  for (int i = 0; i < 20'000; ++i) many_stars += "*a";
  many_stars += "*b\n";
  EXPECT_TRUE(RobotsRules::Parse(many_stars, kProduct).Allows(path))
      << "20,000 stars against 10,000 a's";
}

TEST(Robots, TenMegabytesOfGarbageParseQuietly) {
  std::string garbage(10 << 20, '\0');
  std::uint32_t state = 12345;
  for (char& byte : garbage) {
    state = state * 1'103'515'245u + 12'345u;  // deterministic, so a failure reproduces
    byte = static_cast<char>(state >> 24);
  }
  const RobotsRules rules = RobotsRules::Parse(garbage, kProduct);
  EXPECT_TRUE(rules.Allows("/robots.txt"));
  rules.Allows("/some/path");  // whatever it says, it says it without crashing
  rules.Allows(garbage.substr(0, 10'000));
}

std::string Repeat(std::string_view text, std::size_t times) {
  std::string out;
  out.reserve(text.size() * times);
  for (std::size_t i = 0; i < times; ++i) out += text;
  return out;
}

TEST(Robots, RepetitiveMegabytesParseQuietly) {
  EXPECT_TRUE(RobotsRules::Parse(std::string(1 << 20, '\0'), kProduct).Allows("/x"))
      << "a megabyte of NUL bytes";
  EXPECT_TRUE(RobotsRules::Parse(Repeat("User-agent: *\n", 100'000), kProduct).Allows("/x"))
      << "agents and no rules";
  EXPECT_FALSE(
      RobotsRules::Parse(Repeat("User-agent: *\nDisallow: /*\n", 100'000), kProduct).Allows("/x"))
      << "tens of thousands of rules";
  EXPECT_EQ(RobotsRules::Parse(Repeat("Sitemap: https://x.test/s.xml\n", 100'000), kProduct)
                .sitemaps()
                .size(),
            1u)
      << "one sitemap, repeated";
}

TEST(Robots, ExtremelyLongLines) {
  const std::string long_pattern = "/" + std::string(400'000, 'a');
  const RobotsRules within =
      RobotsRules::Parse("User-agent: *\nDisallow: " + long_pattern + "\n", kProduct);
  EXPECT_FALSE(within.Allows(long_pattern + "/x")) << "a 400 KB pattern inside the limit is kept";
  EXPECT_TRUE(within.Allows("/aaa")) << "and matches only what it says";

  const RobotsRules beyond = RobotsRules::Parse(
      "User-agent: *\nDisallow: /" + std::string(10 << 20, 'a') + "\nDisallow: /b\n", kProduct);
  EXPECT_TRUE(beyond.Allows("/aaa")) << "a 10 MB line crosses the limit and is dropped";
  EXPECT_TRUE(beyond.Allows("/b")) << "and what follows it is past the limit";

  const RobotsRules long_agent = RobotsRules::Parse(
      "User-agent: " + std::string(300'000, 'x') + "\nUser-agent: mirrorwatch\nDisallow: /\n",
      kProduct);
  EXPECT_FALSE(long_agent.Allows("/x")) << "a huge user-agent line is just another agent";
}

}  // namespace
}  // namespace mw
