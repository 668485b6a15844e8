#include "parsers/url.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

namespace mw {
namespace {

struct ParseCase {
  std::string input;
  std::string spec;  // empty: expect rejection
  const char* why;
};

TEST(ParseUrl, NormalisesAndRejects) {
  const ParseCase cases[] = {
      {"http://host.test/", "http://host.test/", "already normal"},
      {"HTTP://HOST.test:80/a/./b/../c#f", "http://host.test/a/c",
       "scheme and host lower-cased, default port, dot-segments and fragment dropped"},
      {"https://host.test:443/x", "https://host.test/x", "https default port dropped"},
      {"https://host.test:80/x", "https://host.test:80/x", "80 is not https's default"},
      {"http://host.test:8080/x", "http://host.test:8080/x", "non-default port kept"},
      {"http://host.test", "http://host.test/", "empty path becomes /"},
      {"http://host.test?q=1", "http://host.test/?q=1", "query without a path"},
      {"http://host.test/p?b=2&a=1", "http://host.test/p?b=2&a=1", "query kept as is"},
      {"http://host.test/p?", "http://host.test/p", "empty query dropped"},
      {"http://host.test/%7euser/%7E", "http://host.test/~user/~", "unreserved escapes decoded"},
      {"http://host.test/a%2fb", "http://host.test/a%2Fb", "reserved escape kept, upper hex"},
      {"http://host.test/a%3f?q=%3d%e2%82%ac", "http://host.test/a%3F?q=%3D%E2%82%AC",
       "escapes upper-cased in path and query"},
      {"http://host.test/%41%2D%5F", "http://host.test/A-_", "letters and marks decoded"},
      {"http://host.test/%zz%", "http://host.test/%25zz%25", "stray percent signs escaped"},
      {"http://x.test/أخبار/", "http://x.test/%D8%A3%D8%AE%D8%A8%D8%A7%D8%B1/",
       "IRI path percent-encoded as UTF-8"},
      {"http://x.test/?q=وكالة", "http://x.test/?q=%D9%88%D9%83%D8%A7%D9%84%D8%A9",
       "IRI query percent-encoded"},
      {"http://x.test/a b?c d", "http://x.test/a%20b?c%20d", "spaces escaped"},
      {"http://x.test/a\"<>`{}|^\\", "http://x.test/a%22%3C%3E%60%7B%7D%7C%5E%5C",
       "characters RFC 3986 forbids escaped"},
      {"http://x.test/a/%2e%2e/b", "http://x.test/b", "escaped dot-segments removed too"},
      {"http://x.test/a/b/..", "http://x.test/a/", "trailing .. keeps the slash"},
      {"http://x.test/../../a", "http://x.test/a", ".. beyond the root stops there"},
      {"http://مثال.test/", "http://xn--mgbh0fb.test/", "IDN host to punycode"},
      {"http://MÜNCHEN.test/", "http://xn--mnchen-3ya.test/", "IDN host case-folded"},
      {"http://ex%41mple.test/", "http://example.test/", "escaped host decoded, lower-cased"},
      {"http://user:pw@host.test/p", "http://host.test/p", "credentials are not kept"},
      {"http://[::1]:8080/", "http://[::1]:8080/", "IPv6 literal keeps brackets"},
      {"  http://host.test/p \n", "http://host.test/p", "surrounding whitespace trimmed"},
      {"ht\ttp://host.\ntest/p\r", "http://host.test/p", "tabs and newlines removed"},
      {"http:/host.test/p", "http://host.test/p", "one slash is enough, as in browsers"},
      {"http://host.test/a\x01z", "http://host.test/a%01z", "control byte escaped"},
      {std::string("http://host.test/a\0z", 20), "http://host.test/a%00z", "NUL escaped"},
      {"http://host.test/\xff\xfe", "http://host.test/%FF%FE", "invalid UTF-8 escaped bytewise"},
      {"ftp://host.test/file", "", "only http(s)"},
      {"javascript:alert(1)", "", "javascript: rejected"},
      {"mailto:someone@host.test", "", "mailto: rejected"},
      {"data:text/html,hello", "", "data: rejected"},
      {"/relative/path", "", "relative reference is not a URL"},
      {"host.test/path", "", "no scheme guessing"},
      {"", "", "empty"},
      {"http://", "", "no host"},
      {"http://host.test:99999/", "", "port out of range"},
      {"http://host.test:0/", "", "port zero"},
      {"http://ho st.test/", "", "space in host"},
      {"http://\xff\xfe.test/", "", "invalid UTF-8 host"},
      // Found by fuzz/url_fuzzer.cc (reproducers in fuzz/regressions/url): a host must hold no
      // forbidden domain code point, before or after the IDNA mapping.
      {"http://a\x7f/", "", "DEL in the host"},
      {"http://\x7f/", "", "a host of DEL alone"},
      {"http://a\xef\xbc\x8f" "b.test/", "", "U+FF0F maps to '/': it would move the host"},
      {"http://a\xcb\x9c.test/", "", "U+02DC maps to a space"},
      {"http://a|b.test/", "", "'|' in the host"},
      {"http:host.test", "", "http: without slashes"},
      {"::::", "", "garbage"},
      {std::string(100000, 'a'), "", "long garbage"},
      {"http://host.test/" + std::string(100000, 'a'),
       "http://host.test/" + std::string(100000, 'a'), "long but valid"},
  };
  for (const ParseCase& c : cases) {
    SCOPED_TRACE(c.why);
    const std::optional<Url> url = ParseUrl(c.input);
    if (c.spec.empty()) {
      EXPECT_FALSE(url.has_value()) << url->spec;
    } else {
      ASSERT_TRUE(url.has_value());
      EXPECT_EQ(url->spec, c.spec);
    }
  }
}

TEST(ParseUrl, FillsParts) {
  const std::optional<Url> url = ParseUrl("HTTPS://News.Host.TEST:8443/a/b?x=1#top");
  ASSERT_TRUE(url.has_value());
  EXPECT_EQ(url->spec, "https://news.host.test:8443/a/b?x=1");
  EXPECT_EQ(url->scheme, "https");
  EXPECT_EQ(url->host, "news.host.test");
  EXPECT_EQ(url->port, 8443);
  EXPECT_EQ(url->path, "/a/b");
  EXPECT_EQ(url->query, "x=1");
  EXPECT_EQ(url->Authority(), "news.host.test:8443");

  const std::optional<Url> plain = ParseUrl("http://host.test");
  ASSERT_TRUE(plain.has_value());
  EXPECT_EQ(plain->port, 80);
  EXPECT_EQ(plain->path, "/");
  EXPECT_EQ(plain->query, "");
  EXPECT_EQ(plain->Authority(), "host.test");
}

struct ResolveCase {
  std::string ref;
  std::string spec;  // empty: expect rejection
  const char* why;
};

TEST(ResolveUrl, ResolvesAgainstBase) {
  const std::optional<Url> base = ParseUrl("http://host.test/news/2024/item.html?id=7");
  ASSERT_TRUE(base.has_value());
  const ResolveCase cases[] = {
      {"other.html", "http://host.test/news/2024/other.html", "relative"},
      {"./other.html", "http://host.test/news/2024/other.html", "dot relative"},
      {"../archive/", "http://host.test/news/archive/", "parent directory"},
      {"../../../../../x", "http://host.test/x", ".. beyond the root"},
      {"/about", "http://host.test/about", "root-relative"},
      {"//mirror.test/p", "http://mirror.test/p", "protocol-relative keeps the scheme"},
      {"https://Mirror.TEST:443/p", "https://mirror.test/p", "absolute, normalised"},
      {"?page=2", "http://host.test/news/2024/item.html?page=2", "query-only replaces query"},
      {"#comments", "http://host.test/news/2024/item.html?id=7",
       "fragment-only names the page itself"},
      {"", "http://host.test/news/2024/item.html?id=7", "empty names the page itself"},
      {"other.html#top", "http://host.test/news/2024/other.html", "fragment dropped"},
      {".", "http://host.test/news/2024/", "current directory"},
      {"..", "http://host.test/news/", "parent without slash"},
      {"  /about \n", "http://host.test/about", "whitespace around href trimmed"},
      {"/ab\tout", "http://host.test/about", "tab inside href removed"},
      {"أخبار/اليوم",
       "http://host.test/news/2024/%D8%A3%D8%AE%D8%A8%D8%A7%D8%B1/%D8%A7%D9%84%D9%8A%D9%88%D9%85",
       "raw Arabic path encoded"},
      {"a b.html", "http://host.test/news/2024/a%20b.html", "space in relative href"},
      {"/x?a=../b", "http://host.test/x?a=../b", "dots in the query are not segments"},
      {"javascript:void(0)", "", "javascript: rejected"},
      {" JavaScript:void(0)", "", "javascript: in any case, after whitespace"},
      {"java\nscript:alert(1)", "", "newline inside the scheme is removed first"},
      {"mailto:desk@host.test", "", "mailto: rejected"},
      {"tel:+100", "", "tel: rejected"},
      {"ftp://host.test/f", "", "ftp: rejected"},
      {"data:image/png;base64,AAAA", "", "data: rejected"},
      {"//", "", "no host"},
      {"http://", "", "no host, absolute"},
  };
  for (const ResolveCase& c : cases) {
    SCOPED_TRACE(c.why);
    const std::optional<Url> url = ResolveUrl(*base, c.ref);
    if (c.spec.empty()) {
      EXPECT_FALSE(url.has_value()) << url->spec;
    } else {
      ASSERT_TRUE(url.has_value());
      EXPECT_EQ(url->spec, c.spec);
    }
  }
}

TEST(ResolveUrl, DirectoryBaseAndHttpsBase) {
  const std::optional<Url> base = ParseUrl("https://host.test/dir/");
  ASSERT_TRUE(base.has_value());
  EXPECT_EQ(ResolveUrl(*base, "a")->spec, "https://host.test/dir/a");
  EXPECT_EQ(ResolveUrl(*base, "//cdn.test/x")->spec, "https://cdn.test/x");
  EXPECT_EQ(ResolveUrl(*base, "http://host.test:80/")->spec, "http://host.test/");
}

TEST(ResolveUrl, RelativeWithoutBaseIsRejected) {
  EXPECT_FALSE(ResolveUrl(Url(), "/about").has_value());
  EXPECT_EQ(ResolveUrl(Url(), "http://host.test/a")->spec, "http://host.test/a");
}

TEST(ParseUrl, SpecIsAFixedPoint) {
  // A spec parsed again must come out unchanged, or de-duplication by spec breaks.
  for (const char* input : {"http://x.test/أخبار/?q=a b", "http://HOST.test:80/a/./b/../c#f",
                            "http://x.test/%7e%2f%zz", "http://مثال.test/p"}) {
    const std::optional<Url> once = ParseUrl(input);
    ASSERT_TRUE(once.has_value()) << input;
    const std::optional<Url> twice = ParseUrl(once->spec);
    ASSERT_TRUE(twice.has_value()) << input;
    EXPECT_EQ(once->spec, twice->spec);
  }
}

TEST(ResolveUrl, PlainReferencesMatchTheGeneralPath) {
  // Plain references (no escapes, no dot-segments) are resolved without curl. Escaping one
  // unreserved letter sends the same reference down the general path, which decodes it again,
  // so the two must agree.
  for (const char* base_text : {"http://host.test/news/2024/item.html?id=7",
                                "https://host.test:8443/", "http://host.test/dir/"}) {
    const std::optional<Url> base = ParseUrl(base_text);
    ASSERT_TRUE(base.has_value());
    for (const std::string ref :
         {"other.html", "a/b/c", "/about", "/a//b", "/p?x=1&y=2", "/p?", "?page=2", "?a?b",
          "g;x=1/y", "/x:y", "/~user/", "http://host.test/p?q=z", "https://host.test:8443/secure",
          "http://host.test?x=y", "/a@b!$&'()*+,;=c", "/q?x=/a/../b"}) {
      SCOPED_TRACE(std::string(base_text) + " + " + ref);
      std::string escaped = ref;
      const std::size_t last =
          escaped.find_last_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ");
      ASSERT_NE(last, std::string::npos);
      char hex[4];
      std::snprintf(hex, sizeof(hex), "%%%02X", static_cast<unsigned char>(escaped[last]));
      escaped.replace(last, 1, hex);
      const std::optional<Url> plain = ResolveUrl(*base, ref);
      const std::optional<Url> general = ResolveUrl(*base, escaped);
      ASSERT_EQ(plain.has_value(), general.has_value());
      if (!plain) continue;
      EXPECT_EQ(plain->spec, general->spec);
      EXPECT_EQ(plain->scheme, general->scheme);
      EXPECT_EQ(plain->host, general->host);
      EXPECT_EQ(plain->port, general->port);
      EXPECT_EQ(plain->path, general->path);
      EXPECT_EQ(plain->query, general->query);
    }
  }
}

}  // namespace
}  // namespace mw
