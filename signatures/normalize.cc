#include "signatures/normalize.h"

#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/utf8.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <utility>

namespace mw {
namespace {

// Characters that carry no identity for matching. NFKC_Casefold already removes the default
// ignorables among them (measured with ICU 72: U+00AD, U+061C, U+200B-200F, U+202A-202E,
// U+2060-2069, U+FEFF all map to nothing), but not tashkeel or tatweel; the explicit list keeps
// the contract independent of the ICU version.
bool IsDropped(UChar32 c) {
  return (c >= 0x064B && c <= 0x065F) || c == 0x0670 || c == 0x0640 || c == 0x061C || c == 0x00AD ||
         (c >= 0x200B && c <= 0x200F) || (c >= 0x202A && c <= 0x202E) ||
         (c >= 0x2060 && c <= 0x2069) || c == 0xFEFF;
}

struct LetterFold {
  UChar32 from;
  UChar32 to;
};

// Applied to NFKC_Casefold output, so the Cyrillic and Greek look-alikes are listed lower-case
// (their capitals fold to these first). Greek nu folds to 'n' because its capital is the exact
// twin of 'N'.
// clang-format off
constexpr LetterFold kLetterFolds[] = {
    // Arabic letter variants: آ أ إ ٱ -> ا, ى ئ -> ي, ة -> ه, ؤ -> و.
    {0x0622, 0x0627}, {0x0623, 0x0627}, {0x0625, 0x0627}, {0x0671, 0x0627}, {0x0649, 0x064A},
    {0x0626, 0x064A}, {0x0629, 0x0647}, {0x0624, 0x0648},
    // Cyrillic а в е і ј к м н о р с т у х ѕ ү һ ӏ ԁ ԛ ԝ.
    {0x0430, 'a'}, {0x0432, 'b'}, {0x0435, 'e'}, {0x0456, 'i'}, {0x0458, 'j'}, {0x043A, 'k'},
    {0x043C, 'm'}, {0x043D, 'h'}, {0x043E, 'o'}, {0x0440, 'p'}, {0x0441, 'c'}, {0x0442, 't'},
    {0x0443, 'y'}, {0x0445, 'x'}, {0x0455, 's'}, {0x04AF, 'y'}, {0x04BB, 'h'}, {0x04CF, 'l'},
    {0x0501, 'd'}, {0x051B, 'q'}, {0x051D, 'w'},
    // Greek α β ε ζ η ι κ μ ν ο ρ τ υ χ ϳ (lunate sigma: see kFoldsBeforeNfkc).
    {0x03B1, 'a'}, {0x03B2, 'b'}, {0x03B5, 'e'}, {0x03B6, 'z'}, {0x03B7, 'h'}, {0x03B9, 'i'},
    {0x03BA, 'k'}, {0x03BC, 'm'}, {0x03BD, 'n'}, {0x03BF, 'o'}, {0x03C1, 'p'}, {0x03C4, 't'},
    {0x03C5, 'y'}, {0x03C7, 'x'}, {0x03F3, 'j'},
    // Latin letters that pass for plain ASCII ones: dotless i, script a, script g.
    {0x0131, 'i'}, {0x0251, 'a'}, {0x0261, 'g'},
};
// Look-alikes that NFKC would turn into a letter that looks like something else: the lunate
// sigmas ϲ Ϲ (twins of c C) are compatibility forms of σ Σ. Folded before NFKC.
constexpr LetterFold kFoldsBeforeNfkc[] = {{0x03F2, 'c'}, {0x03F9, 'c'}};
// clang-format on

// Folds one code point of NFKC_Casefold output: Arabic letter variants, Arabic-Indic digits and
// look-alikes of Latin letters. Runs only while building the table or for rare code points.
UChar32 FoldLetter(UChar32 c) {
  if (c >= 0x0660 && c <= 0x0669) return '0' + (c - 0x0660);
  if (c >= 0x06F0 && c <= 0x06F9) return '0' + (c - 0x06F0);
  for (const LetterFold& fold : kLetterFolds) {
    if (fold.from == c) return fold.to;
  }
  return c;
}

void AppendUtf8(UChar32 c, std::string* out) {
  char buf[U8_MAX_LENGTH];
  std::size_t len = 0;
  U8_APPEND_UNSAFE(buf, len, c);
  out->append(buf, len);
}

bool OnlyMarksFrom(const icu::UnicodeString& text, int32_t start) {
  for (int32_t i = start; i < text.length();) {
    const UChar32 c = text.char32At(i);
    if ((U_GET_GC_MASK(c) & U_GC_M_MASK) == 0) return false;
    i += U16_LENGTH(c);
  }
  return true;
}

// Appends the normalised form of one code point; whitespace becomes ' ' (runs are collapsed by
// the caller, since a run may span several code points).
void AppendExpansion(UChar32 c, std::string* out) {
  if (IsDropped(c)) return;
  for (const LetterFold& fold : kFoldsBeforeNfkc) {
    if (fold.from == c) {
      out->push_back(static_cast<char>(fold.to));
      return;
    }
  }
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* nfkc_cf = icu::Normalizer2::getNFKCCasefoldInstance(status);
  icu::UnicodeString expanded;
  if (U_SUCCESS(status)) expanded = nfkc_cf->normalize(icu::UnicodeString(c), status);
  if (U_FAILURE(status)) expanded = icu::UnicodeString(c);
  int32_t i = 0;
  if (expanded.length() > 1 && expanded.charAt(0) == u' ' && OnlyMarksFrom(expanded, 1)) {
    // NFKC spells spacing accents (´ ¨) and the isolated tashkeel forms (U+FE70-FE7F) as a
    // space plus a combining mark; a space there would split the word they sit in.
    i = 1;
  }
  while (i < expanded.length()) {
    const UChar32 d = expanded.char32At(i);
    i += U16_LENGTH(d);
    if (IsDropped(d)) continue;
    if (u_isUWhiteSpace(d)) {
      out->push_back(' ');
      continue;
    }
    AppendUtf8(FoldLetter(d), out);
  }
}

// Precomputed expansions for the code points most pages are made of: Latin, Greek, Cyrillic,
// Arabic (U+0000-07FF), general punctuation (zero-width and bidi controls, spaces) and the
// presentation forms / fullwidth block (U+FB00-FFFF). Everything else calls ICU.
class ExpansionTable {
 public:
  ExpansionTable() {
    for (std::size_t index = 0; index < kSize; ++index) {
      bounds_[index] = static_cast<std::uint32_t>(pool_.size());
      AppendExpansion(CodePointAt(index), &pool_);
    }
    bounds_[kSize] = static_cast<std::uint32_t>(pool_.size());
  }

  // The expansion of `c`, or false when `c` is outside the cached ranges.
  bool Lookup(UChar32 c, std::string_view* expansion) const {
    std::size_t index;
    if (c < static_cast<UChar32>(kRange2Start)) {
      index = static_cast<std::size_t>(c);
    } else if (c >= kRange2First && c < kRange2End) {
      index = kRange2Start + static_cast<std::size_t>(c - kRange2First);
    } else if (c >= kRange3First && c < kRange3End) {
      index = kRange3Start + static_cast<std::size_t>(c - kRange3First);
    } else {
      return false;
    }
    *expansion =
        std::string_view(pool_).substr(bounds_[index], bounds_[index + 1] - bounds_[index]);
    return true;
  }

 private:
  static constexpr UChar32 kRange2First = 0x2000, kRange2End = 0x2070;
  static constexpr UChar32 kRange3First = 0xFB00, kRange3End = 0x10000;
  static constexpr std::size_t kRange2Start = 0x800;
  static constexpr std::size_t kRange3Start = kRange2Start + (kRange2End - kRange2First);
  static constexpr std::size_t kSize = kRange3Start + (kRange3End - kRange3First);

  static UChar32 CodePointAt(std::size_t index) {
    if (index < kRange2Start) return static_cast<UChar32>(index);
    if (index < kRange3Start) return kRange2First + static_cast<UChar32>(index - kRange2Start);
    return kRange3First + static_cast<UChar32>(index - kRange3Start);
  }

  std::string pool_;
  std::array<std::uint32_t, kSize + 1> bounds_{};
};

const ExpansionTable& Table() {
  static const ExpansionTable* const table = new ExpansionTable();  // never destroyed
  return *table;
}

// ASCII needs no ICU: letters are lower-cased and every White_Space byte (HT, LF, VT, FF, CR,
// space) becomes ' '.
constexpr std::array<char, 128> kAsciiFold = [] {
  std::array<char, 128> fold{};
  for (int c = 0; c < 128; ++c) {
    fold[c] = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    if ((c >= 0x09 && c <= 0x0D) || c == ' ') fold[c] = ' ';
  }
  return fold;
}();

// Normalised bytes and their origins, written into buffers grown ahead of need so the inner
// loops store into arrays instead of calling push_back twice per byte (measured: ~4x faster on
// ASCII text, ~1.3x on Arabic).
class Output {
 public:
  explicit Output(std::size_t expected_size) : text_(expected_size, '\0'), origin_(expected_size) {}

  // Makes room for `count` more bytes.
  void Reserve(std::size_t count) {
    if (size_ + count <= text_.size()) return;
    const std::size_t capacity = std::max(text_.size() * 2, size_ + count);
    text_.resize(capacity);
    origin_.resize(capacity);
  }

  // Appends one byte that came from the character at `from`; a space after a space is dropped,
  // which collapses whitespace runs even across characters that normalise to nothing.
  // REQUIRES: Reserve() made room for it.
  void Put(char byte, std::uint32_t from) {
    if (byte == ' ' && size_ > 0 && text_[size_ - 1] == ' ') return;
    text_[size_] = byte;
    origin_[size_] = from;
    ++size_;
  }

  // Appends bytes[begin, end), all ASCII: the fast path for the bulk of most pages.
  void PutAscii(const std::uint8_t* bytes, std::size_t begin, std::size_t end) {
    Reserve(end - begin);
    char* text = text_.data();
    std::uint32_t* origin = origin_.data();
    std::size_t size = size_;
    bool after_space = size > 0 && text[size - 1] == ' ';
    for (std::size_t i = begin; i < end; ++i) {
      const char c = kAsciiFold[bytes[i]];
      if (c == ' ' && after_space) continue;
      after_space = c == ' ';
      text[size] = c;
      origin[size] = static_cast<std::uint32_t>(i);
      ++size;
    }
    size_ = size;
  }

  NormalizedText Finish(std::uint32_t end_origin) && {
    text_.resize(size_);
    origin_.resize(size_);
    origin_.push_back(end_origin);
    return NormalizedText{std::move(text_), std::move(origin_)};
  }

 private:
  std::string text_;
  std::vector<std::uint32_t> origin_;
  std::size_t size_ = 0;
};

}  // namespace

NormalizedText NormalizeForMatch(std::string_view utf8) {
  const ExpansionTable& table = Table();
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(utf8.data());
  const std::size_t length = utf8.size();
  Output output(length);
  std::string scratch;
  std::size_t i = 0;
  while (i < length) {
    if (bytes[i] < 0x80) {
      std::size_t run_end = i + 1;
      while (run_end < length && bytes[run_end] < 0x80) ++run_end;
      output.PutAscii(bytes, i, run_end);
      i = run_end;
      continue;
    }
    const auto start = static_cast<std::uint32_t>(i);
    UChar32 c;
    U8_NEXT(bytes, i, length, c);
    if (c < 0) continue;  // ill-formed sequence: U8_NEXT skipped its bytes
    std::string_view expansion;
    if (!table.Lookup(c, &expansion)) {
      scratch.clear();
      AppendExpansion(c, &scratch);
      expansion = scratch;
    }
    output.Reserve(expansion.size());
    for (const char byte : expansion) output.Put(byte, start);
  }
  return std::move(output).Finish(static_cast<std::uint32_t>(length));
}

}  // namespace mw
