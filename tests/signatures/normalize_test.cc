#include "signatures/normalize.h"

#include <gtest/gtest.h>
#include <unicode/uchar.h>
#include <unicode/uspoof.h>
#include <unicode/utf16.h>
#include <unicode/utf8.h>

#include <string>
#include <thread>
#include <vector>

namespace mw {
namespace {

struct Case {
  std::string input;
  std::string expected;
  const char* why;
};

void ExpectNormalizes(const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    EXPECT_EQ(NormalizeForMatch(c.input).text, c.expected) << c.why;
  }
}

TEST(NormalizeForMatch, Latin) {
  ExpectNormalizes({
      {"Amaq News AGENCY", "amaq news agency", "ASCII is lower-cased"},
      {"al-Bayan_radio.mp3", "al-bayan_radio.mp3", "ASCII punctuation is kept"},
      {"\uFF21\uFF2D\uFF21\uFF31", "amaq", "fullwidth letters fold by NFKC"},
      {"Stra\u00DFe", "strasse", "full case folding, not just lower-casing"},
      {"\U0001D400\U0001D426\U0001D41A\U0001D42A", "amaq",
       "mathematical bold letters (outside the cached ranges) fold by NFKC"},
      {"a\u00B4maq", "a\u0301maq",
       "a spacing accent becomes its combining mark, not a space that splits the word"},
      {"", "", "empty text"},
  });
}

TEST(NormalizeForMatch, ArabicDiacriticsAndTatweel) {
  ExpectNormalizes({
      {"\u0623\u064E\u0639\u0652\u0645\u064E\u0627\u0642", "\u0627\u0639\u0645\u0627\u0642",
       "tashkeel (fatha, sukun) is dropped: أَعْمَاق -> اعماق"},
      {"\u0647\u064E\u0644\u064F\u0651\u0645\u0648\u0627\u064B\u064C\u064D\u0650\u0652",
       "\u0647\u0644\u0645\u0648\u0627", "every harakah, shadda and tanween is dropped"},
      {"\u0639\u0644\u0670\u0645", "\u0639\u0644\u0645", "superscript alef U+0670 is dropped"},
      {"\u0627\uFE76\u0644", "\u0627\u0644",
       "an isolated-form fatha (NFKC: space + fatha) vanishes without splitting the word"},
      {"\u0623\u0639\u0645\u0640\u0640\u0640\u0627\u0642", "\u0627\u0639\u0645\u0627\u0642",
       "tatweel is dropped: أعمـــاق -> اعماق"},
  });
}

TEST(NormalizeForMatch, ZeroWidthAndBidiControlsInsideAName) {
  const char* const invisible[] = {
      "\u200B", "\u200C", "\u200D", "\u200E", "\u200F", "\u202A", "\u202B", "\u202C", "\u202D",
      "\u202E", "\u2060", "\u2066", "\u2067", "\u2068", "\u2069", "\uFEFF", "\u00AD", "\u061C",
  };
  for (const char* mark : invisible) {
    const std::string arabic = std::string("\u0647\u0644") + mark + "\u0645\u0648\u0627";
    EXPECT_EQ(NormalizeForMatch(arabic).text, "\u0647\u0644\u0645\u0648\u0627")
        << "invisible character inside هلموا must vanish";
    const std::string latin = std::string("Nas") + mark + "hir";
    EXPECT_EQ(NormalizeForMatch(latin).text, "nashir") << "invisible character inside Nashir";
  }
}

TEST(NormalizeForMatch, PresentationForms) {
  ExpectNormalizes({
      {"\uFEE3\uFECC", "\u0645\u0639", "initial meem + medial ain -> مع"},
      {"\uFE8D\uFECB\uFEE4\uFE8E\uFED5", "\u0627\u0639\u0645\u0627\u0642",
       "اعماق written in presentation forms"},
      {"\uFEFB", "\u0644\u0627", "lam-alef ligature expands to two letters"},
      {"\uFEF7", "\u0644\u0627", "lam-alef-with-hamza ligature expands, then the alef folds"},
      {"\uFEF5", "\u0644\u0627", "lam-alef-with-madda ligature expands, then the alef folds"},
  });
}

TEST(NormalizeForMatch, ArabicLetterFolding) {
  ExpectNormalizes({
      {"\u0623 \u0625 \u0622 \u0671 \u0627", "\u0627 \u0627 \u0627 \u0627 \u0627",
       "alef with hamza above/below, madda, wasla -> bare alef"},
      {"\u0627\u0654\u0627\u0655\u0627\u0653", "\u0627\u0627\u0627",
       "decomposed hamza/madda marks are dropped"},
      {"\u0648\u0643\u0627\u0644\u0629", "\u0648\u0643\u0627\u0644\u0647",
       "teh marbuta -> heh: وكالة -> وكاله"},
      {"\u0639\u0644\u0649", "\u0639\u0644\u064A", "alef maksura -> yeh: على -> علي"},
      {"\u0633\u0624\u0627\u0644", "\u0633\u0648\u0627\u0644", "waw with hamza -> waw"},
      {"\u0631\u0626\u064A\u0633", "\u0631\u064A\u064A\u0633", "yeh with hamza -> yeh"},
  });
}

TEST(NormalizeForMatch, LatinHomoglyphs) {
  ExpectNormalizes({
      {"\u0410maq", "amaq", "Cyrillic capital A in Аmaq"},
      {"N\u0430shir", "nashir", "Cyrillic small a"},
      {"\u041Dalumu", "halumu", "Cyrillic capital EN looks like H"},
      {"\u0440\u0435\u0441\u043E\u0443\u0445\u0456\u0458\u0455", "pecoyxijs",
       "Cyrillic р е с о у х і ј ѕ"},
      {"\u041A\u041C\u0422\u0412", "kmtb", "Cyrillic capitals К М Т В"},
      {"l\u03BFg\u03BF", "logo", "Greek small omicron"},
      {"\u0391\u0392\u0395\u0396\u0397\u0399\u039A\u039C\u039D\u039F\u03A1\u03A4\u03A5\u03A7",
       "abezhikmnoptyx", "Greek capitals that look like Latin ones"},
      {"\u03B1\u03C1", "ap", "Greek small alpha and rho"},
  });
}

// Every look-alike the normaliser folds, small and capital (capitals fold to the small letter
// first). The list is the contract: kLetterFolds in normalize.cc must match it.
struct Homoglyph {
  UChar32 small;
  UChar32 capital;  // 0 when it has none, or its capital is the ASCII letter itself
  char latin;
  const char* name;
};
constexpr Homoglyph kHomoglyphs[] = {
    {0x0430, 0x0410, 'a', "CYRILLIC SMALL LETTER A"},
    {0x0432, 0x0412, 'b', "CYRILLIC SMALL LETTER VE"},
    {0x0435, 0x0415, 'e', "CYRILLIC SMALL LETTER IE"},
    {0x0456, 0x0406, 'i', "CYRILLIC SMALL LETTER BYELORUSSIAN-UKRAINIAN I"},
    {0x0458, 0x0408, 'j', "CYRILLIC SMALL LETTER JE"},
    {0x043A, 0x041A, 'k', "CYRILLIC SMALL LETTER KA"},
    {0x043C, 0x041C, 'm', "CYRILLIC SMALL LETTER EM"},
    {0x043D, 0x041D, 'h', "CYRILLIC SMALL LETTER EN"},
    {0x043E, 0x041E, 'o', "CYRILLIC SMALL LETTER O"},
    {0x0440, 0x0420, 'p', "CYRILLIC SMALL LETTER ER"},
    {0x0441, 0x0421, 'c', "CYRILLIC SMALL LETTER ES"},
    {0x0442, 0x0422, 't', "CYRILLIC SMALL LETTER TE"},
    {0x0443, 0x0423, 'y', "CYRILLIC SMALL LETTER U"},
    {0x0445, 0x0425, 'x', "CYRILLIC SMALL LETTER HA"},
    {0x0455, 0x0405, 's', "CYRILLIC SMALL LETTER DZE"},
    {0x04AF, 0x04AE, 'y', "CYRILLIC SMALL LETTER STRAIGHT U"},
    {0x04BB, 0x04BA, 'h', "CYRILLIC SMALL LETTER SHHA"},
    {0x04CF, 0x04C0, 'l', "CYRILLIC SMALL LETTER PALOCHKA"},
    {0x0501, 0x0500, 'd', "CYRILLIC SMALL LETTER KOMI DE"},
    {0x051B, 0x051A, 'q', "CYRILLIC SMALL LETTER QA"},
    {0x051D, 0x051C, 'w', "CYRILLIC SMALL LETTER WE"},
    {0x03B1, 0x0391, 'a', "GREEK SMALL LETTER ALPHA"},
    {0x03B2, 0x0392, 'b', "GREEK SMALL LETTER BETA"},
    {0x03B5, 0x0395, 'e', "GREEK SMALL LETTER EPSILON"},
    {0x03B6, 0x0396, 'z', "GREEK SMALL LETTER ZETA"},
    {0x03B7, 0x0397, 'h', "GREEK SMALL LETTER ETA"},
    {0x03B9, 0x0399, 'i', "GREEK SMALL LETTER IOTA"},
    {0x03BA, 0x039A, 'k', "GREEK SMALL LETTER KAPPA"},
    {0x03BC, 0x039C, 'm', "GREEK SMALL LETTER MU"},
    {0x03BD, 0x039D, 'n', "GREEK SMALL LETTER NU"},
    {0x03BF, 0x039F, 'o', "GREEK SMALL LETTER OMICRON"},
    {0x03C1, 0x03A1, 'p', "GREEK SMALL LETTER RHO"},
    {0x03C4, 0x03A4, 't', "GREEK SMALL LETTER TAU"},
    {0x03C5, 0x03A5, 'y', "GREEK SMALL LETTER UPSILON"},
    {0x03C7, 0x03A7, 'x', "GREEK SMALL LETTER CHI"},
    {0x03F2, 0x03F9, 'c', "GREEK LUNATE SIGMA SYMBOL"},
    {0x03F3, 0x037F, 'j', "GREEK LETTER YOT"},
    {0x0131, 0, 'i', "LATIN SMALL LETTER DOTLESS I"},
    {0x0251, 0x2C6D, 'a', "LATIN SMALL LETTER ALPHA"},
    {0x0261, 0xA7AC, 'g', "LATIN SMALL LETTER SCRIPT G"},
};

std::string Utf8(UChar32 c) {
  std::string out;
  char buf[U8_MAX_LENGTH];
  std::size_t len = 0;
  U8_APPEND_UNSAFE(buf, len, c);
  return out.assign(buf, len);
}

TEST(NormalizeForMatch, EveryLatinHomoglyphFolds) {
  for (const Homoglyph& h : kHomoglyphs) {
    EXPECT_EQ(NormalizeForMatch("x" + Utf8(h.small) + "x").text, std::string("x") + h.latin + "x")
        << h.name;
    if (h.capital != 0) {
      EXPECT_EQ(NormalizeForMatch(Utf8(h.capital)).text, std::string(1, h.latin))
          << "capital of " << h.name;
    }
  }
}

// Each fold is a pair Unicode's confusables data (UTS #39, ICU's spoof checker) lists: the small
// letter or its capital has the same skeleton as the Latin small letter or its capital. Greek
// eta folds to 'h' and nu to 'n' by their capitals (Η, Ν), since case folding comes first.
TEST(NormalizeForMatch, HomoglyphFoldsAreUnicodeConfusables) {
  UErrorCode status = U_ZERO_ERROR;
  USpoofChecker* checker = uspoof_open(&status);
  ASSERT_TRUE(U_SUCCESS(status)) << u_errorName(status);
  const auto skeleton = [&](UChar32 c) {
    UChar in[2];
    int32_t in_length = 0;
    U16_APPEND_UNSAFE(in, in_length, c);
    UChar out[16];
    UErrorCode error = U_ZERO_ERROR;
    const int32_t length = uspoof_getSkeleton(checker, 0, in, in_length, out, 16, &error);
    return U_SUCCESS(error) ? std::u16string(out, out + length) : std::u16string();
  };
  for (const Homoglyph& h : kHomoglyphs) {
    const UChar32 latin_capital = h.latin - 'a' + 'A';
    const std::u16string latin[] = {skeleton(h.latin), skeleton(latin_capital)};
    const UChar32 capital = h.capital != 0 ? h.capital : u_toupper(h.small);
    bool confusable = false;
    for (const UChar32 form : {h.small, capital}) {
      for (const std::u16string& target : latin)
        confusable = confusable || skeleton(form) == target;
    }
    EXPECT_TRUE(confusable) << h.name << " is not confusable with '" << h.latin << "'";
  }
  uspoof_close(checker);
}

TEST(NormalizeForMatch, EveryArabicDiacriticIsDropped) {
  std::vector<UChar32> marks;
  for (UChar32 c = 0x064B; c <= 0x065F; ++c) marks.push_back(c);  // tanween ... wavy hamza
  marks.push_back(0x0670);                                        // superscript alef
  for (const UChar32 mark : marks) {
    EXPECT_EQ(NormalizeForMatch("\u0628" + Utf8(mark) + "\u062A").text, "\u0628\u062A")
        << "U+" << std::hex << mark << " between beh and teh";
  }
}

TEST(NormalizeForMatch, EveryArabicIndicAndPersianDigit) {
  for (UChar32 d = 0; d <= 9; ++d) {
    const std::string ascii(1, static_cast<char>('0' + d));
    EXPECT_EQ(NormalizeForMatch(Utf8(0x0660 + d)).text, ascii) << "ARABIC-INDIC DIGIT " << d;
    EXPECT_EQ(NormalizeForMatch(Utf8(0x06F0 + d)).text, ascii)
        << "EXTENDED ARABIC-INDIC DIGIT " << d;
  }
}

TEST(NormalizeForMatch, AlefWaslaFoldsToAlef) {
  ExpectNormalizes({
      {"\u0671\u0644\u0633\u0648\u0642", "\u0627\u0644\u0633\u0648\u0642",
       "U+0671 ARABIC LETTER ALEF WASLA: ٱلسوق -> السوق"},
      {"\uFB50\uFB51", "\u0627\u0627", "its presentation forms (NFKC, then the fold)"},
  });
}

TEST(NormalizeForMatch, Digits) {
  ExpectNormalizes({
      {"\u0662\u0660\u0662\u0664", "2024", "Arabic-Indic digits"},
      {"\u06F2\u06F0\u06F2\u06F4", "2024", "Extended Arabic-Indic (Persian) digits"},
      {"\uFF12\uFF10", "20", "fullwidth digits fold by NFKC"},
  });
}

TEST(NormalizeForMatch, Whitespace) {
  ExpectNormalizes({
      {"Amaq \t\n  News", "amaq news", "ASCII whitespace run -> one space"},
      {"a\u00A0\u00A0b\u2003c\u3000d\u2028e\r\nf", "a b c d e f",
       "NBSP, em space, ideographic space, line separator, CRLF"},
      {"a \u200B b", "a b", "a run stays one space across a dropped character"},
      {"  a  ", " a ", "leading and trailing runs are collapsed, not trimmed"},
  });
}

TEST(NormalizeForMatch, InvalidUtf8IsDropped) {
  ExpectNormalizes({
      {"am\xFF"
       "aq",
       "amaq", "stray 0xFF byte"},
      {"amaq\xD8", "amaq", "truncated two-byte sequence at the end"},
      {"am\xC0\xAF"
       "aq",
       "amaq", "overlong encoding of '/'"},
      {"am\xED\xA0\x80"
       "aq",
       "amaq", "encoded surrogate"},
      {"\x80\x80\u0639", "\u0639", "lone continuation bytes"},
  });
}

TEST(NormalizeForMatch, OriginHasOneEntryPerByteAndPointsAtCharacterStarts) {
  const std::string input = "Q\u0623\u064E\uFEFB \t\xFF\U0001D400\u0430\u200B\u0629.";
  const NormalizedText n = NormalizeForMatch(input);
  ASSERT_EQ(n.origin.size(), n.text.size() + 1);
  EXPECT_EQ(n.origin.back(), input.size());
  for (std::size_t i = 0; i < n.text.size(); ++i) {
    if (i > 0) {
      EXPECT_LE(n.origin[i - 1], n.origin[i]) << "origin never goes back";
    }
    EXPECT_LT(n.origin[i], input.size());
    EXPECT_FALSE(U8_IS_TRAIL(static_cast<std::uint8_t>(input[n.origin[i]])))
        << "origin " << i << " must start a character";
  }
  // The ligature's two output letters (four bytes) both come from its one source character.
  const std::size_t lam = n.text.find("\u0644\u0627");
  ASSERT_NE(lam, std::string::npos);
  for (std::size_t i = lam; i < lam + 4; ++i) EXPECT_EQ(n.origin[i], 5u);
}

TEST(NormalizeForMatch, OriginRecoversTheOriginalTextOfAMatch) {
  const struct {
    std::string original;
    std::string needle;  // normalised
    std::string recovered;
    const char* why;
  } cases[] = {
      {"\u0642\u0627\u0644 \u0623\u064E\u0639\u0652\u0645\u064E\u0640\u0627\u0642 "
       "\u0627\u0644\u064A\u0648\u0645",
       "\u0627\u0639\u0645\u0627\u0642", "\u0623\u064E\u0639\u0652\u0645\u064E\u0640\u0627\u0642",
       "tashkeel and tatweel inside the match come back"},
      {"Visit \u0410MAQ\u200B now", "amaq", "\u0410MAQ\u200B",
       "homoglyph and case come back; a dropped character before the next one belongs to the "
       "match"},
      {"x  \n Nashir", "nashir", "Nashir", "collapsed whitespace before the match is not included"},
  };
  for (const auto& c : cases) {
    const NormalizedText n = NormalizeForMatch(c.original);
    const std::size_t begin = n.text.find(c.needle);
    ASSERT_NE(begin, std::string::npos) << c.why;
    const std::size_t end = begin + c.needle.size();
    const std::string recovered =
        c.original.substr(n.origin[begin], n.origin[end] - n.origin[begin]);
    EXPECT_EQ(recovered, c.recovered) << c.why;
  }
}

TEST(NormalizeForMatch, ConcurrentCallsAgree) {
  const std::string input = "\u0623\u064E\u0639\u0652\u0645\u064E\u0627\u0642 \u0410maq \uFEFB";
  const std::string expected = NormalizeForMatch(input).text;
  std::vector<std::thread> threads;
  std::vector<std::string> results(8);
  for (std::size_t t = 0; t < results.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) results[t] = NormalizeForMatch(input).text;
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (const std::string& result : results) EXPECT_EQ(result, expected);
}

}  // namespace
}  // namespace mw
