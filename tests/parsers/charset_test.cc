#include "parsers/charset.h"

#include <gtest/gtest.h>

#include <string>

#include "parsers/utf8.h"

namespace mw {
namespace {

// Bytes from a hex string, so legacy-encoded text can be written down exactly.
std::string Hex(std::string_view hex) {
  std::string bytes;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    bytes.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return bytes;
}

// "وكالة" (agency) in windows-1256 and in iso-8859-6.
const std::string kAgency1256 = Hex("e6dfc7e1c9");
const std::string kAgency88596 = Hex("e8e3c7e4c9");
const std::string kAgency = "وكالة";

// A neutral paragraph (weather and library opening hours), long enough for detection.
const std::string kParagraph =
    "الطقس اليوم معتدل في معظم المناطق مع رياح خفيفة ودرجات حرارة مناسبة. تفتح المكتبة العامة "
    "أبوابها من الساعة التاسعة صباحا حتى الخامسة مساء، ويمكن للزوار استعارة الكتب وقراءة الصحف "
    "والمجلات.";
const std::string kParagraph1256 =
    Hex("c7e1d8ded320c7e1ede6e320e3dacacfe120dded20e3dad9e320c7e1e3e4c7d8de20e3da20d1edc7"
        "cd20ceddedddc920e6cfd1ccc7ca20cdd1c7d1c920e3e4c7d3c8c92e20caddcacd20c7e1e3dfcac8"
        "c920c7e1dac7e3c920c3c8e6c7c8e5c720e3e420c7e1d3c7dac920c7e1cac7d3dac920d5c8c7cdc7"
        "20cdcaec20c7e1cec7e3d3c920e3d3c7c1a120e6ede3dfe420e1e1d2e6c7d120c7d3cadac7d1c920"
        "c7e1dfcac820e6ded1c7c1c920c7e1d5cddd20e6c7e1e3cce1c7ca2e");

struct DecodeCase {
  const char* why;
  std::string content_type;
  std::string body;
  std::string utf8;
  std::string charset;
  std::string source;
};

TEST(DecodeToUtf8, Cases) {
  const std::string p = "<p>";
  const DecodeCase cases[] = {
      {"windows-1256 from the header", "text/html; charset=windows-1256", p + kAgency1256,
       p + kAgency, "windows-1256", "header"},
      {"quoted, upper-case header label alias", "text/html;Charset=\"CP1256\"", kAgency1256,
       kAgency, "windows-1256", "header"},
      {"iso-8859-6 from the header", "text/html; charset=iso-8859-6", kAgency88596, kAgency,
       "iso-8859-6", "header"},
      {"label 'arabic' means iso-8859-6", "text/html; charset=arabic", kAgency88596, kAgency,
       "iso-8859-6", "header"},
      {"latin1 means windows-1252", "text/html; charset=latin1", "caf\xe9 \x80", "café €",
       "windows-1252", "header"},
      {"utf8 label", "text/html; charset=utf8", "<p>" + kAgency, "<p>" + kAgency, "utf-8",
       "header"},
      {"<meta charset>", "text/html",
       "<html><head><meta charset=\"windows-1256\"></head>" + kAgency1256,
       "<html><head><meta charset=\"windows-1256\"></head>" + kAgency, "windows-1256", "meta"},
      {"<meta charset> unquoted, upper case, after other tags", "",
       "<!DOCTYPE html><HTML><HEAD><TITLE>x</TITLE><META CHARSET=Windows-1256>" + kAgency1256,
       "<!DOCTYPE html><HTML><HEAD><TITLE>x</TITLE><META CHARSET=Windows-1256>" + kAgency,
       "windows-1256", "meta"},
      {"http-equiv Content-Type", "",
       "<META HTTP-EQUIV='Content-Type' CONTENT='text/html; charset=windows-1256'>" + kAgency1256,
       "<META HTTP-EQUIV='Content-Type' CONTENT='text/html; charset=windows-1256'>" + kAgency,
       "windows-1256", "meta"},
      {"http-equiv after content", "",
       "<meta content=\"text/html;charset=ISO-8859-6\" http-equiv=\"content-type\"/>" +
           kAgency88596,
       "<meta content=\"text/html;charset=ISO-8859-6\" http-equiv=\"content-type\"/>" + kAgency,
       "iso-8859-6", "meta"},
      {"header wins over meta", "text/html; charset=windows-1256",
       "<meta charset=iso-8859-6>" + kAgency1256, "<meta charset=iso-8859-6>" + kAgency,
       "windows-1256", "header"},
      {"unknown header label falls through to meta", "text/html; charset=x-bogus",
       "<meta charset=windows-1256>" + kAgency1256, "<meta charset=windows-1256>" + kAgency,
       "windows-1256", "meta"},
      {"meta saying utf-16 means utf-8", "", "<meta charset=utf-16><p>" + kAgency,
       "<meta charset=utf-16><p>" + kAgency, "utf-8", "meta"},
      {"meta content without http-equiv is no declaration", "",
       "<meta content='text/html; charset=windows-1252'><p>ok",
       "<meta content='text/html; charset=windows-1252'><p>ok", "utf-8", "default"},
      {"meta inside a comment is ignored", "", "<!-- <meta charset=windows-1252> --><p>ok",
       "<!-- <meta charset=windows-1252> --><p>ok", "utf-8", "default"},
      {"meta inside another tag's attribute is ignored", "",
       "<div title='<meta charset=windows-1252>'>ok</div>",
       "<div title='<meta charset=windows-1252>'>ok</div>", "utf-8", "default"},
      {"meta after the first 4 KiB is not seen", "",
       std::string(5000, ' ') + "<meta charset=windows-1252>",
       std::string(5000, ' ') + "<meta charset=windows-1252>", "utf-8", "default"},
      {"no label: windows-1256 detected", "", "<html><body><p>" + kParagraph1256 + "</p>",
       "<html><body><p>" + kParagraph + "</p>", "windows-1256", "detected"},
      {"no label: UTF-8 recognised", "", "<p>" + kParagraph, "<p>" + kParagraph, "utf-8",
       "detected"},
      {"no label, pure ASCII: default", "text/html", "<p>plain</p>", "<p>plain</p>", "utf-8",
       "default"},
      {"UTF-8 BOM wins over the header, and is stripped", "text/html; charset=windows-1256",
       "\xEF\xBB\xBF<p>" + kAgency, "<p>" + kAgency, "utf-8", "bom"},
      {"UTF-16LE BOM", "", std::string("\xFF\xFEh\0i\0", 6), "hi", "utf-16le", "bom"},
      {"UTF-16BE BOM", "", std::string("\xFE\xFF\0h\0i", 6), "hi", "utf-16be", "bom"},
      {"invalid UTF-8 replaced by U+FFFD", "text/html; charset=utf-8",
       "a\xff"
       "b",
       "a\xEF\xBF\xBD"
       "b",
       "utf-8", "header"},
      {"one U+FFFD per maximal subpart", "text/html; charset=utf-8", "\xE2\x82x\xF0\x80\x80",
       "\xEF\xBF\xBDx\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD", "utf-8", "header"},
      {"surrogates and overlongs are invalid", "text/html; charset=utf-8", "\xED\xA0\x80\xC0\xAF",
       "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD", "utf-8", "header"},
      {"empty body", "", "", "", "utf-8", "default"},
  };
  for (const DecodeCase& c : cases) {
    SCOPED_TRACE(c.why);
    const DecodedBody decoded = DecodeToUtf8(c.body, c.content_type);
    EXPECT_EQ(decoded.utf8, c.utf8);
    EXPECT_EQ(decoded.charset, c.charset);
    EXPECT_EQ(decoded.source, c.source);
  }
}

TEST(DecodeToUtf8, Iso88596Detected) {
  const std::string paragraph = DecodeToUtf8(kParagraph1256, "text/html; charset=cp1256").utf8;
  ASSERT_EQ(paragraph, kParagraph);
  // The same paragraph in iso-8859-6: its letters sit at different byte values.
  const std::string iso =
      Hex("c7e4d7e2d320c7e4eae8e520e5d9cacfe420e1ea20e5d9d8e520c7e4e5e6c7d7e220e5d920d1eac7"
          "cd20cee1eae1c920e8cfd1ccc7ca20cdd1c7d1c920e5e6c7d3c8c92e20cae1cacd20c7e4e5e3cac8"
          "c920c7e4d9c7e5c920c3c8e8c7c8e7c720e5e620c7e4d3c7d9c920c7e4cac7d3d9c920d5c8c7cdc7"
          "20cdcae920c7e4cec7e5d3c920e5d3c7c1ac20e8eae5e3e620e4e4d2e8c7d120c7d3cad9c7d1c920"
          "c7e4e3cac820e8e2d1c7c1c920c7e4d5cde120e8c7e4e5cce4c7ca2e");
  const DecodedBody decoded = DecodeToUtf8(iso, "");
  EXPECT_EQ(decoded.charset, "iso-8859-6");
  EXPECT_EQ(decoded.source, "detected");
  EXPECT_EQ(decoded.utf8, kParagraph);
}

TEST(DecodeToUtf8, ValidUtf8PassesThroughUnchanged) {
  std::string page = "<html><body>";
  for (int i = 0; i < 2000; ++i) page += "<p>" + kParagraph + " lorem ipsum</p>\n";
  const DecodedBody decoded = DecodeToUtf8(page, "text/html; charset=UTF-8");
  EXPECT_EQ(decoded.utf8, page);
  EXPECT_EQ(decoded.source, "header");
}

TEST(DecodeToUtf8, Utf8CutByTheDetectionWindowIsStillUtf8) {
  // Put a two-byte letter across the 64 KiB boundary of the detection sample.
  std::string page = kAgency;
  page.resize(64 * 1024 - 1, 'a');
  page += kAgency + "</p>";
  const DecodedBody decoded = DecodeToUtf8(page, "");
  EXPECT_EQ(decoded.charset, "utf-8");
  EXPECT_EQ(decoded.source, "detected");
  EXPECT_EQ(decoded.utf8, page);
}

TEST(DecodeToUtf8, OutputIsAlwaysValidUtf8) {
  std::string noise;
  for (int i = 0; i < 4096; ++i) noise.push_back(static_cast<char>((i * 7919) & 0xFF));
  for (const char* content_type : {"", "text/html; charset=utf-8", "text/html; charset=shift_jis",
                                   "text/html; charset=utf-16le", "text/html; charset=gb18030"}) {
    SCOPED_TRACE(content_type);
    const DecodedBody decoded = DecodeToUtf8(noise, content_type);
    EXPECT_EQ(ValidUtf8Prefix(decoded.utf8), decoded.utf8.size());
    EXPECT_FALSE(decoded.charset.empty());
  }
}

}  // namespace
}  // namespace mw
