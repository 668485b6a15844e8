#include "parsers/sitemap.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#define ZLIB_CONST  // next_in is then `const Bytef*`
#include <zlib.h>

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace mw {
namespace {

using Urls = std::vector<std::string>;

constexpr std::size_t kMiB = std::size_t{1} << 20;

constexpr std::string_view kXmlDeclaration = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

std::string Urlset(std::string_view urls) {
  return "<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">" + std::string(urls) +
         "</urlset>";
}

std::string Url(std::string_view loc) { return "<url><loc>" + std::string(loc) + "</loc></url>"; }

void AppendLittleEndian32(std::string& out, std::uint32_t value) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

// Raw deflate of `text`, ended with Z_FULL_FLUSH: byte-aligned and referring to nothing before
// it, so it can follow any other such piece, or itself, in one deflate stream.
std::string DeflatePiece(std::string_view text) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, -MAX_WBITS, 9, Z_DEFAULT_STRATEGY),
            Z_OK);
  std::string out(deflateBound(&z, text.size()) + 64, '\0');
  z.next_in = reinterpret_cast<const Bytef*>(text.data());
  z.avail_in = static_cast<uInt>(text.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FULL_FLUSH), Z_OK);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

// A gzip file of `head` followed by `block` repeated `times` times, built without ever holding
// the decoded text: `block` is deflated once and its bytes repeated.
std::string GzipRepeated(std::string_view head, std::string_view block, std::size_t times) {
  std::string gzip("\x1f\x8b\x08\0\0\0\0\0\0\xff", 10);  // deflate, no name, no mtime
  gzip += DeflatePiece(head);
  const std::string deflated_block = DeflatePiece(block);
  for (std::size_t i = 0; i < times; ++i) gzip += deflated_block;
  gzip += std::string("\x03\x00", 2);  // the final block: empty, fixed Huffman codes
  const auto crc_of = [](std::string_view s) {
    return crc32(0, reinterpret_cast<const Bytef*>(s.data()), static_cast<uInt>(s.size()));
  };
  uLong crc = crc_of(head);
  const uLong block_crc = crc_of(block);
  for (std::size_t i = 0; i < times; ++i) {
    crc = crc32_combine(crc, block_crc, static_cast<z_off_t>(block.size()));
  }
  AppendLittleEndian32(gzip, static_cast<std::uint32_t>(crc));
  AppendLittleEndian32(gzip, static_cast<std::uint32_t>(head.size() + block.size() * times));
  return gzip;
}

std::string Gzip(std::string_view text) { return GzipRepeated(text, "", 0); }

// The defaults let a case leave out what it expects to be empty.
struct Case {
  const char* why = "";
  std::string body = {};
  Urls urls = {};
  Urls sitemaps = {};
  std::string error = {};  // a part of the expected error; empty: none expected
  bool truncated = false;
};

void ExpectParse(const Case& c, const SitemapLimits& limits = {}) {
  SCOPED_TRACE(c.why);
  const Sitemap sitemap = ParseSitemap(c.body, limits);
  EXPECT_EQ(sitemap.urls, c.urls);
  EXPECT_EQ(sitemap.sitemaps, c.sitemaps);
  EXPECT_EQ(sitemap.truncated, c.truncated);
  if (c.error.empty()) {
    EXPECT_EQ(sitemap.error, "");
  } else {
    EXPECT_NE(sitemap.error.find(c.error), std::string::npos) << sitemap.error;
  }
}

TEST(Sitemap, ReadsXml) {
  const Case cases[] = {
      {"urlset in the sitemaps.org namespace, other <url> children ignored",
       std::string(kXmlDeclaration) +
           Urlset("<url><loc>http://a.test/</loc><lastmod>2024-05-01</lastmod>"
                  "<changefreq>daily</changefreq><priority>0.8</priority></url>" +
                  Url("http://a.test/b")),
       {"http://a.test/", "http://a.test/b"}},
      {.why = "sitemapindex",
       .body = "<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">"
               "<sitemap><loc>http://a.test/s1.xml.gz</loc><lastmod>2024-05-01</lastmod>"
               "</sitemap><sitemap><loc>http://a.test/s2.xml</loc></sitemap></sitemapindex>",
       .sitemaps = {"http://a.test/s1.xml.gz", "http://a.test/s2.xml"}},
      {"namespace with a prefix",
       "<sm:urlset xmlns:sm=\"http://www.sitemaps.org/schemas/sitemap/0.9\">"
       "<sm:url><sm:loc>http://a.test/p</sm:loc></sm:url></sm:urlset>",
       {"http://a.test/p"}},
      {"no namespace", "<urlset>" + Url("http://a.test/n") + "</urlset>", {"http://a.test/n"}},
      {"old Google namespace",
       "<urlset xmlns=\"http://www.google.com/schemas/sitemap/0.84\">" + Url("http://a.test/g") +
           "</urlset>",
       {"http://a.test/g"}},
      {"&amp; and character references decoded",
       Urlset(Url("http://a.test/?a=1&amp;b=2") + Url("http://a.test/&#x41;&#66;")),
       {"http://a.test/?a=1&b=2", "http://a.test/AB"}},
      {"whitespace around <loc> text trimmed",
       Urlset("<url><loc>\n\t  http://a.test/w  \r\n</loc></url>"),
       {"http://a.test/w"}},
      {"CDATA", Urlset(Url("<![CDATA[http://a.test/?a=1&b=2]]>")), {"http://a.test/?a=1&b=2"}},
      {"empty and blank <loc> ignored", Urlset("<url><loc/></url>" + Url("  \n ")), {}},
      {"image:loc names an image, not a page",
       "<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\" "
       "xmlns:image=\"http://www.google.com/schemas/sitemap-image/1.1\"><url>"
       "<loc>http://a.test/page</loc><image:image><image:loc>http://a.test/i.jpg</image:loc>"
       "</image:image></url></urlset>",
       {"http://a.test/page"}},
      {"undeclared image: prefix is a namespace error only, not reported",
       "<urlset><url><loc>http://a.test/page</loc><image:image><image:loc>http://a.test/i.jpg"
       "</image:loc></image:image></url></urlset>",
       {"http://a.test/page"}},
      {"UTF-8 byte-order mark and blank lines before the declaration (PHP) are not an error",
       "\xef\xbb\xbf\r\n\n" + std::string(kXmlDeclaration) + Urlset(Url("http://a.test/bom")),
       {"http://a.test/bom"}},
      {"UTF-8 kept as written", Urlset(Url("http://a.test/أخبار")), {"http://a.test/أخبار"}},
      {"comments and processing instructions ignored",
       "<?xml-stylesheet href=\"s.xsl\"?><!-- generated --><urlset>" +
           Url("http://a.test/c<!-- x -->") + "</urlset>",
       {"http://a.test/c"}},
  };
  for (const Case& c : cases) ExpectParse(c);
}

TEST(Sitemap, MalformedXmlReportsTheFirstErrorAndKeepsWhatWasRead) {
  const Case cases[] = {
      {.why = "file ends inside a <loc>: the first URLs are kept, the partial one is not",
       .body =
           "<urlset>" + Url("http://a.test/1") + Url("http://a.test/2") + "<url><loc>http://a.te",
       .urls = {"http://a.test/1", "http://a.test/2"},
       .error = "XML line 1: "},
      {.why = "a bare & loses only its own <loc>",
       .body =
           Urlset(Url("http://a.test/1") + Url("http://a.test/?x=1&y=2") + Url("http://a.test/3")),
       .urls = {"http://a.test/1", "http://a.test/3"},
       .error = "EntityRef: expecting ';'"},
      {.why = "a <loc> closed by </url> is dropped",
       .body = Urlset("<url><loc>http://a.test/1</url>" + Url("http://a.test/2")),
       .urls = {"http://a.test/2"},
       .error = "Opening and ending tag mismatch"},
      {.why = "the error names its line",
       .body = "<urlset>\n" + Url("http://a.test/1") + "\n<url><loc>x</u>",
       .urls = {"http://a.test/1"},
       .error = "XML line 3: "},
      {.why = "an HTML page is not a sitemap",
       .body = "<html><body><p>Not found</p></body></html>",
       .error = "the root element is <html>"},
      {.why = "a lone <", .body = "<", .error = "XML line 1: "},
      {.why = "not UTF-8: the protocol requires it, the declaration is ignored",
       .body = "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>" +
               Urlset(Url("http://a.test/caf\xe9") + Url("http://a.test/2")),
       .urls = {"http://a.test/2"},
       .error = "not proper UTF-8"},
  };
  for (const Case& c : cases) ExpectParse(c);
}

TEST(Sitemap, ReadsText) {
  const Case cases[] = {
      {"CRLF line ends, junk lines skipped",
       "http://a.test/1\r\n# comment\r\n\r\nftp://a.test/f\r\n/relative\r\n"
       "https://a.test/2\r\nnot a url http://a.test/x\r\n",
       {"http://a.test/1", "https://a.test/2"}},
      {"last line without a newline",
       "http://a.test/1\nhttp://a.test/2",
       {"http://a.test/1", "http://a.test/2"}},
      {"lines trimmed", "  http://a.test/1 \t\n", {"http://a.test/1"}},
      {"scheme case-insensitive, kept as written",
       "HTTP://a.test/1\nHttps://a.test/2\n",
       {"HTTP://a.test/1", "Https://a.test/2"}},
      {"UTF-8 byte-order mark", "\xef\xbb\xbfhttp://a.test/1\n", {"http://a.test/1"}},
      {"empty body", "", {}},
      {"blank body", " \r\n\t\n", {}},
  };
  for (const Case& c : cases) ExpectParse(c);
}

TEST(Sitemap, GunzipsWhateverTheNameSays) {
  const Case cases[] = {
      {"gzipped urlset",
       Gzip(Urlset(Url("http://a.test/1") + Url("http://a.test/2"))),
       {"http://a.test/1", "http://a.test/2"}},
      {.why = "gzipped sitemapindex",
       .body = Gzip("<sitemapindex><sitemap><loc>http://a.test/s.xml</loc></sitemap>"
                    "</sitemapindex>"),
       .sitemaps = {"http://a.test/s.xml"}},
      {"gzipped text",
       Gzip("http://a.test/1\nhttp://a.test/2\n"),
       {"http://a.test/1", "http://a.test/2"}},
      {"several gzip members are one file (RFC 1952), as gunzip reads them",
       Gzip("<urlset>" + Url("http://a.test/1")) + Gzip(Url("http://a.test/2") + "</urlset>"),
       {"http://a.test/1", "http://a.test/2"}},
      {"bytes after the last member are ignored, as gunzip does",
       Gzip("http://a.test/1\n") + "trailing junk",
       {"http://a.test/1"}},
      {"the repeated-block builder of the bomb test makes valid gzip",
       GzipRepeated("<urlset>", Url("http://a.test/r"), 3) + Gzip("</urlset>"),
       {"http://a.test/r", "http://a.test/r", "http://a.test/r"}},
  };
  for (const Case& c : cases) ExpectParse(c);
}

TEST(Sitemap, DamagedGzipKeepsWhatWasDecoded) {
  const std::string gzip = Gzip("http://a.test/1\nhttp://a.test/2\nhttp://a.test/3");
  std::string bad_crc = gzip;
  bad_crc[bad_crc.size() - 8] ^= 0x01;
  std::string bad_block = gzip;
  bad_block[10] = '\x07';  // the first block header: final, of the reserved type 3
  const Case cases[] = {
      {.why = "stream cut short: the last line may be partial, so it is dropped",
       .body = gzip.substr(0, gzip.size() - 8 - 2),
       .urls = {"http://a.test/1", "http://a.test/2"},
       .error = "gzip: unexpected end of data"},
      {.why = "bad checksum: all was decoded, but the file is damaged",
       .body = bad_crc,
       .urls = {"http://a.test/1", "http://a.test/2"},
       .error = "gzip: incorrect data check"},
      {.why = "bad block type", .body = bad_block, .error = "gzip: invalid block type"},
      {.why = "magic bytes alone", .body = "\x1f\x8b", .error = "gzip: unexpected end of data"},
  };
  for (const Case& c : cases) ExpectParse(c);
}

TEST(Sitemap, MaxUrlsStopsAndSetsTruncated) {
  const Case cases[] = {
      {.why = "urlset over the cap",
       .body = Urlset(Url("http://a.test/1") + Url("http://a.test/2") + Url("http://a.test/3")),
       .urls = {"http://a.test/1", "http://a.test/2"},
       .truncated = true},
      {.why = "exactly at the cap is not truncated",
       .body = Urlset(Url("http://a.test/1") + Url("http://a.test/2")),
       .urls = {"http://a.test/1", "http://a.test/2"}},
      {.why = "empty <loc>s don't count",
       .body = Urlset(Url("") + Url("http://a.test/1") + Url(" ") + Url("http://a.test/2")),
       .urls = {"http://a.test/1", "http://a.test/2"}},
      {.why = "sitemapindex over the cap",
       .body = "<sitemapindex><sitemap><loc>http://a.test/1</loc></sitemap><sitemap>"
               "<loc>http://a.test/2</loc></sitemap><sitemap><loc>http://a.test/3</loc>"
               "</sitemap></sitemapindex>",
       .sitemaps = {"http://a.test/1", "http://a.test/2"},
       .truncated = true},
      {.why = "URLs and sitemaps count together: the cap is per file",
       .body = "<urlset><url><loc>http://a.test/1</loc></url><sitemap><loc>http://a.test/s"
               "</loc></sitemap><url><loc>http://a.test/2</loc></url></urlset>",
       .urls = {"http://a.test/1"},
       .sitemaps = {"http://a.test/s"},
       .truncated = true},
      {.why = "text over the cap",
       .body = "http://a.test/1\nhttp://a.test/2\nhttp://a.test/3\n",
       .urls = {"http://a.test/1", "http://a.test/2"},
       .truncated = true},
  };
  for (const Case& c : cases) ExpectParse(c, {.max_urls = 2});
}

TEST(Sitemap, MaxDecodedBytesCutsPlainBodiesToo) {
  const std::string xml =
      "<urlset>" + Url("http://a.test/1") + Url("http://a.test/2") + "</urlset>";
  const std::size_t inside_second_loc = xml.find("a.test/2");
  const std::string text = "http://a.test/1\nhttp://a.test/2\n";
  const std::size_t inside_second_line = text.find("a.test/2");
  struct CutCase {
    const char* why;
    std::string body;
    std::size_t max_decoded_bytes;
  };
  const CutCase cases[] = {
      {"XML: the cut is not an error of the file's; the partial <loc> is dropped", xml,
       inside_second_loc},
      {"gzipped XML, cut after inflating", Gzip(xml), inside_second_loc},
      {"text: the partial line is dropped", text, inside_second_line},
  };
  for (const CutCase& c : cases) {
    ExpectParse({.why = c.why, .body = c.body, .urls = {"http://a.test/1"}, .truncated = true},
                {.max_decoded_bytes = c.max_decoded_bytes});
  }
}

long PeakResidentKiB() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

TEST(Sitemap, GzipBombStopsAtDecodedLimit) {
  // 4 GiB of blanks inside a urlset, ~4 MB gzipped.
  const std::string head =
      "<urlset>" + Url("http://a.test/1") + Url("http://a.test/2") + Url("http://a.test/3");
  const std::string bomb = GzipRepeated(head, std::string(kMiB, ' '), 4096);
  const long peak_before = PeakResidentKiB();
  const Sitemap sitemap = ParseSitemap(bomb, {.max_decoded_bytes = kMiB});
  EXPECT_EQ(sitemap.urls, (Urls{"http://a.test/1", "http://a.test/2", "http://a.test/3"}));
  EXPECT_TRUE(sitemap.truncated);
  EXPECT_EQ(sitemap.error, "") << "stopping at our limit is not the file's error";
  // Not the wall clock: what inflating it all would cost, and what the limit promises, is memory.
  EXPECT_LT(PeakResidentKiB() - peak_before, 64 * 1024) << "KiB more at peak";
}

TEST(Sitemap, XxeIsNotExpanded) {
  const Case cases[] = {
      {.why = "external general entity",
       .body = "<!DOCTYPE urlset [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>" +
               Urlset(Url("http://a.test/&e;") + Url("http://a.test/2")),
       .urls = {"http://a.test/2"},
       .error = "Entity 'e' not defined"},
      {.why = "external parameter entity",
       .body = "<!DOCTYPE urlset [<!ENTITY % p SYSTEM \"file:///etc/passwd\"> %p;]>" +
               Urlset(Url("http://a.test/1")),
       .urls = {"http://a.test/1"},
       .error = "PEReference: %p; not found"},
      {.why = "entity declared by a parameter entity",
       .body = "<!DOCTYPE urlset [<!ENTITY % d \"<!ENTITY e SYSTEM 'file:///etc/passwd'>\"> "
               "%d;]>" +
               Urlset(Url("http://a.test/&e;")),
       .error = "PEReference: %d; not found"},
      {.why = "external DTD is not loaded",
       .body = "<!DOCTYPE urlset SYSTEM \"file:///etc/passwd\">" + Urlset(Url("http://a.test/1")),
       .urls = {"http://a.test/1"}},
      {.why = "internal entity is not expanded either",
       .body = "<!DOCTYPE urlset [<!ENTITY h \"http://evil.test/\">]>" + Urlset(Url("&h;")),
       .error = "Entity 'h' not defined"},
  };
  for (const Case& c : cases) ExpectParse(c);
}

TEST(Sitemap, BillionLaughsIsNotExpanded) {
  std::string dtd = "<!DOCTYPE urlset [<!ENTITY lol0 \"lol\">";
  for (int i = 1; i <= 9; ++i) {
    dtd += "<!ENTITY lol" + std::to_string(i) + " \"";
    for (int j = 0; j < 10; ++j) dtd += "&lol" + std::to_string(i - 1) + ";";
    dtd += "\">";
  }
  dtd += "]>";
  ExpectParse({.why = "10^9 lols",
               .body = dtd + Urlset(Url("http://a.test/&lol9;") + Url("http://a.test/2")),
               .urls = {"http://a.test/2"},
               .error = "Entity 'lol9' not defined"});
}

// Random bytes, `first` put in front.
std::string Garbage(std::string_view first) {
  std::mt19937 random(20240501);
  std::string bytes(first);
  while (bytes.size() < 64 * 1024) bytes.push_back(static_cast<char>(random()));
  return bytes;
}

TEST(Sitemap, BinaryGarbageYieldsNothing) {
  const Case cases[] = {
      {.why = "not XML, so a text sitemap without URL lines", .body = Garbage("\x01")},
      {.why = "starts like XML", .body = Garbage("<"), .error = "XML line "},
      {.why = "starts like gzip", .body = Garbage("\x1f\x8b"), .error = "gzip: "},
      {.why = "NUL bytes", .body = std::string(1000, '\0')},
      {.why = "UTF-16 with a byte-order mark is not XML: the protocol requires UTF-8",
       .body = std::string("\xff\xfe<\0u\0r\0l\0s\0e\0t\0>\0", 18)},
      {.why = "UTF-16 without one is read as UTF-8",
       .body = std::string("<\0?\0x\0m\0l\0", 10),
       .error = "XML line 1: "},
  };
  for (const Case& c : cases) ExpectParse(c);
}

TEST(Sitemap, DeepNestingStopsAt256Levels) {
  std::string nested = "<urlset>" + Url("http://a.test/1");
  for (int i = 0; i < 1'000'000; ++i) nested += "<a>";
  ExpectParse({.why = "a million open elements",
               .body = nested,
               .urls = {"http://a.test/1"},
               .error = "elements nested deeper than 256"});
}

TEST(Sitemap, AttributeFloodStopsBeforeTheTag) {
  std::string tag = "<url";
  for (int i = 0; i < 100'000; ++i) tag += " a" + std::to_string(i) + "=\"\"";
  tag += "/>";
  ExpectParse({.why = "100,000 attributes in one tag: libxml2 checks each against every other",
               .body = "<urlset>\n" + Url("http://a.test/1") + "\n" + tag + Url("http://a.test/2"),
               .urls = {"http://a.test/1"},
               .error = "XML line 3: more than 256 '='"});
}

TEST(Sitemap, EncodingDeclarationCannotHideMarkup) {
  // In UTF-7, "+ADw-" is '<' and "+AD4-" is '>'.
  ExpectParse({"UTF-7 declared, read as UTF-8",
               "<?xml version=\"1.0\" encoding=\"UTF-7\"?><urlset>"
               "+ADw-url+AD4-+ADw-loc+AD4-http://a.test/7+ADw-/loc+AD4-+ADw-/url+AD4-</urlset>",
               {}});
}

TEST(Sitemap, ParsesOnManyThreadsAtOnce) {
  // Each parse reports an error, so per-parser error handling is exercised too.
  const std::string body = Urlset(Url("http://a.test/1") + Url("http://a.test/&x;"));
  const Sitemap expected = ParseSitemap(body);
  ASSERT_NE(expected.error, "");
  std::vector<int> mismatches(4);
  std::vector<std::thread> threads;
  for (int& mismatch : mismatches) {
    threads.emplace_back([&body, &expected, count = &mismatch] {
      for (int i = 0; i < 500; ++i) {
        const Sitemap sitemap = ParseSitemap(body);
        *count += sitemap.urls != expected.urls || sitemap.error != expected.error;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(mismatches, std::vector<int>(4, 0));
}

}  // namespace
}  // namespace mw
