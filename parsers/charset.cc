#include "parsers/charset.h"

#include <uchardet/uchardet.h>
#include <unicode/ucnv.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <memory>
#include <optional>

#include "parsers/utf8.h"

namespace mw {
namespace {

constexpr std::size_t kMetaPrescanBytes = 4 * 1024;
constexpr std::size_t kDetectionBytes = 64 * 1024;

struct Label {
  std::string_view label;
  std::string_view encoding;  // WHATWG encoding name, lower-cased
};

// The WHATWG Encoding standard's label table (https://encoding.spec.whatwg.org/#names-and-labels),
// sorted by label for binary search.
constexpr Label kLabels[] = {
    {"866", "ibm866"},
    {"ansi_x3.4-1968", "windows-1252"},
    {"arabic", "iso-8859-6"},
    {"ascii", "windows-1252"},
    {"asmo-708", "iso-8859-6"},
    {"big5", "big5"},
    {"big5-hkscs", "big5"},
    {"chinese", "gbk"},
    {"cn-big5", "big5"},
    {"cp1250", "windows-1250"},
    {"cp1251", "windows-1251"},
    {"cp1252", "windows-1252"},
    {"cp1253", "windows-1253"},
    {"cp1254", "windows-1254"},
    {"cp1255", "windows-1255"},
    {"cp1256", "windows-1256"},
    {"cp1257", "windows-1257"},
    {"cp1258", "windows-1258"},
    {"cp819", "windows-1252"},
    {"cp866", "ibm866"},
    {"csbig5", "big5"},
    {"cseuckr", "euc-kr"},
    {"cseucpkdfmtjapanese", "euc-jp"},
    {"csgb2312", "gbk"},
    {"csibm866", "ibm866"},
    {"csiso2022jp", "iso-2022-jp"},
    {"csiso2022kr", "replacement"},
    {"csiso58gb231280", "gbk"},
    {"csiso88596e", "iso-8859-6"},
    {"csiso88596i", "iso-8859-6"},
    {"csiso88598e", "iso-8859-8"},
    {"csiso88598i", "iso-8859-8-i"},
    {"csisolatin1", "windows-1252"},
    {"csisolatin2", "iso-8859-2"},
    {"csisolatin3", "iso-8859-3"},
    {"csisolatin4", "iso-8859-4"},
    {"csisolatin5", "windows-1254"},
    {"csisolatin6", "iso-8859-10"},
    {"csisolatin9", "iso-8859-15"},
    {"csisolatinarabic", "iso-8859-6"},
    {"csisolatincyrillic", "iso-8859-5"},
    {"csisolatingreek", "iso-8859-7"},
    {"csisolatinhebrew", "iso-8859-8"},
    {"cskoi8r", "koi8-r"},
    {"csksc56011987", "euc-kr"},
    {"csmacintosh", "macintosh"},
    {"csshiftjis", "shift_jis"},
    {"csunicode", "utf-16le"},
    {"cyrillic", "iso-8859-5"},
    {"dos-874", "windows-874"},
    {"ecma-114", "iso-8859-6"},
    {"ecma-118", "iso-8859-7"},
    {"elot_928", "iso-8859-7"},
    {"euc-jp", "euc-jp"},
    {"euc-kr", "euc-kr"},
    {"gb18030", "gb18030"},
    {"gb2312", "gbk"},
    {"gb_2312", "gbk"},
    {"gb_2312-80", "gbk"},
    {"gbk", "gbk"},
    {"greek", "iso-8859-7"},
    {"greek8", "iso-8859-7"},
    {"hebrew", "iso-8859-8"},
    {"hz-gb-2312", "replacement"},
    {"ibm819", "windows-1252"},
    {"ibm866", "ibm866"},
    {"iso-10646-ucs-2", "utf-16le"},
    {"iso-2022-cn", "replacement"},
    {"iso-2022-cn-ext", "replacement"},
    {"iso-2022-jp", "iso-2022-jp"},
    {"iso-2022-kr", "replacement"},
    {"iso-8859-1", "windows-1252"},
    {"iso-8859-10", "iso-8859-10"},
    {"iso-8859-11", "windows-874"},
    {"iso-8859-13", "iso-8859-13"},
    {"iso-8859-14", "iso-8859-14"},
    {"iso-8859-15", "iso-8859-15"},
    {"iso-8859-16", "iso-8859-16"},
    {"iso-8859-2", "iso-8859-2"},
    {"iso-8859-3", "iso-8859-3"},
    {"iso-8859-4", "iso-8859-4"},
    {"iso-8859-5", "iso-8859-5"},
    {"iso-8859-6", "iso-8859-6"},
    {"iso-8859-6-e", "iso-8859-6"},
    {"iso-8859-6-i", "iso-8859-6"},
    {"iso-8859-7", "iso-8859-7"},
    {"iso-8859-8", "iso-8859-8"},
    {"iso-8859-8-e", "iso-8859-8"},
    {"iso-8859-8-i", "iso-8859-8-i"},
    {"iso-8859-9", "windows-1254"},
    {"iso-ir-100", "windows-1252"},
    {"iso-ir-101", "iso-8859-2"},
    {"iso-ir-109", "iso-8859-3"},
    {"iso-ir-110", "iso-8859-4"},
    {"iso-ir-126", "iso-8859-7"},
    {"iso-ir-127", "iso-8859-6"},
    {"iso-ir-138", "iso-8859-8"},
    {"iso-ir-144", "iso-8859-5"},
    {"iso-ir-148", "windows-1254"},
    {"iso-ir-149", "euc-kr"},
    {"iso-ir-157", "iso-8859-10"},
    {"iso-ir-58", "gbk"},
    {"iso8859-1", "windows-1252"},
    {"iso8859-10", "iso-8859-10"},
    {"iso8859-11", "windows-874"},
    {"iso8859-13", "iso-8859-13"},
    {"iso8859-14", "iso-8859-14"},
    {"iso8859-15", "iso-8859-15"},
    {"iso8859-2", "iso-8859-2"},
    {"iso8859-3", "iso-8859-3"},
    {"iso8859-4", "iso-8859-4"},
    {"iso8859-5", "iso-8859-5"},
    {"iso8859-6", "iso-8859-6"},
    {"iso8859-7", "iso-8859-7"},
    {"iso8859-8", "iso-8859-8"},
    {"iso8859-9", "windows-1254"},
    {"iso88591", "windows-1252"},
    {"iso885910", "iso-8859-10"},
    {"iso885911", "windows-874"},
    {"iso885913", "iso-8859-13"},
    {"iso885914", "iso-8859-14"},
    {"iso885915", "iso-8859-15"},
    {"iso88592", "iso-8859-2"},
    {"iso88593", "iso-8859-3"},
    {"iso88594", "iso-8859-4"},
    {"iso88595", "iso-8859-5"},
    {"iso88596", "iso-8859-6"},
    {"iso88597", "iso-8859-7"},
    {"iso88598", "iso-8859-8"},
    {"iso88599", "windows-1254"},
    {"iso_8859-1", "windows-1252"},
    {"iso_8859-15", "iso-8859-15"},
    {"iso_8859-1:1987", "windows-1252"},
    {"iso_8859-2", "iso-8859-2"},
    {"iso_8859-2:1987", "iso-8859-2"},
    {"iso_8859-3", "iso-8859-3"},
    {"iso_8859-3:1988", "iso-8859-3"},
    {"iso_8859-4", "iso-8859-4"},
    {"iso_8859-4:1988", "iso-8859-4"},
    {"iso_8859-5", "iso-8859-5"},
    {"iso_8859-5:1988", "iso-8859-5"},
    {"iso_8859-6", "iso-8859-6"},
    {"iso_8859-6:1987", "iso-8859-6"},
    {"iso_8859-7", "iso-8859-7"},
    {"iso_8859-7:1987", "iso-8859-7"},
    {"iso_8859-8", "iso-8859-8"},
    {"iso_8859-8:1988", "iso-8859-8"},
    {"iso_8859-9", "windows-1254"},
    {"iso_8859-9:1989", "windows-1254"},
    {"koi", "koi8-r"},
    {"koi8", "koi8-r"},
    {"koi8-r", "koi8-r"},
    {"koi8-ru", "koi8-u"},
    {"koi8-u", "koi8-u"},
    {"koi8_r", "koi8-r"},
    {"korean", "euc-kr"},
    {"ks_c_5601-1987", "euc-kr"},
    {"ks_c_5601-1989", "euc-kr"},
    {"ksc5601", "euc-kr"},
    {"ksc_5601", "euc-kr"},
    {"l1", "windows-1252"},
    {"l2", "iso-8859-2"},
    {"l3", "iso-8859-3"},
    {"l4", "iso-8859-4"},
    {"l5", "windows-1254"},
    {"l6", "iso-8859-10"},
    {"l9", "iso-8859-15"},
    {"latin1", "windows-1252"},
    {"latin2", "iso-8859-2"},
    {"latin3", "iso-8859-3"},
    {"latin4", "iso-8859-4"},
    {"latin5", "windows-1254"},
    {"latin6", "iso-8859-10"},
    {"logical", "iso-8859-8-i"},
    {"mac", "macintosh"},
    {"macintosh", "macintosh"},
    {"ms932", "shift_jis"},
    {"ms_kanji", "shift_jis"},
    {"shift-jis", "shift_jis"},
    {"shift_jis", "shift_jis"},
    {"sjis", "shift_jis"},
    {"sun_eu_greek", "iso-8859-7"},
    {"tis-620", "windows-874"},
    {"ucs-2", "utf-16le"},
    {"unicode", "utf-16le"},
    {"unicode-1-1-utf-8", "utf-8"},
    {"unicode11utf8", "utf-8"},
    {"unicode20utf8", "utf-8"},
    {"unicodefeff", "utf-16le"},
    {"unicodefffe", "utf-16be"},
    {"us-ascii", "windows-1252"},
    {"utf-16", "utf-16le"},
    {"utf-16be", "utf-16be"},
    {"utf-16le", "utf-16le"},
    {"utf-8", "utf-8"},
    {"utf8", "utf-8"},
    {"visual", "iso-8859-8"},
    {"windows-1250", "windows-1250"},
    {"windows-1251", "windows-1251"},
    {"windows-1252", "windows-1252"},
    {"windows-1253", "windows-1253"},
    {"windows-1254", "windows-1254"},
    {"windows-1255", "windows-1255"},
    {"windows-1256", "windows-1256"},
    {"windows-1257", "windows-1257"},
    {"windows-1258", "windows-1258"},
    {"windows-31j", "shift_jis"},
    {"windows-874", "windows-874"},
    {"windows-949", "euc-kr"},
    {"x-cp1250", "windows-1250"},
    {"x-cp1251", "windows-1251"},
    {"x-cp1252", "windows-1252"},
    {"x-cp1253", "windows-1253"},
    {"x-cp1254", "windows-1254"},
    {"x-cp1255", "windows-1255"},
    {"x-cp1256", "windows-1256"},
    {"x-cp1257", "windows-1257"},
    {"x-cp1258", "windows-1258"},
    {"x-euc-jp", "euc-jp"},
    {"x-gbk", "gbk"},
    {"x-mac-cyrillic", "x-mac-cyrillic"},
    {"x-mac-roman", "macintosh"},
    {"x-mac-ukrainian", "x-mac-cyrillic"},
    {"x-sjis", "shift_jis"},
    {"x-unicode20utf8", "utf-8"},
    {"x-user-defined", "x-user-defined"},
    {"x-x-big5", "big5"},
};
static_assert(std::is_sorted(std::begin(kLabels), std::end(kLabels),
                             [](const Label& a, const Label& b) { return a.label < b.label; }));

bool IsAsciiSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }
char AsciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }
bool IsAsciiAlpha(char c) { return AsciiLower(c) >= 'a' && AsciiLower(c) <= 'z'; }

bool StartsWithIgnoreCase(std::string_view text, std::string_view lower_prefix) {
  if (text.size() < lower_prefix.size()) return false;
  for (std::size_t i = 0; i < lower_prefix.size(); ++i) {
    if (AsciiLower(text[i]) != lower_prefix[i]) return false;
  }
  return true;
}

// WHATWG "get an encoding": trims ASCII whitespace, lower-cases, looks the label up.
std::optional<std::string_view> EncodingForLabel(std::string_view label) {
  while (!label.empty() && IsAsciiSpace(label.front())) label.remove_prefix(1);
  while (!label.empty() && IsAsciiSpace(label.back())) label.remove_suffix(1);
  if (label.empty() || label.size() > 32) return std::nullopt;
  char lower[32];
  for (std::size_t i = 0; i < label.size(); ++i) lower[i] = AsciiLower(label[i]);
  const std::string_view key(lower, label.size());
  const auto* it = std::lower_bound(std::begin(kLabels), std::end(kLabels), key,
                                    [](const Label& a, std::string_view k) { return a.label < k; });
  if (it == std::end(kLabels) || it->label != key) return std::nullopt;
  return it->encoding;
}

// --- ICU ---------------------------------------------------------------------------------

struct ConverterCloser {
  void operator()(UConverter* converter) const { ucnv_close(converter); }
};
using ConverterPtr = std::unique_ptr<UConverter, ConverterCloser>;

// ICU's name for a WHATWG encoding, or empty when we cannot decode it. WHATWG's euc-kr is
// Microsoft's superset of it and iso-8859-8-i decodes as iso-8859-8; ICU lacks iso-8859-16 and
// x-user-defined, and "replacement" deliberately decodes nothing, so those fall through to the
// next source.
std::string IcuName(std::string_view encoding) {
  if (encoding == "euc-kr") return "windows-949";
  if (encoding == "iso-8859-8-i") return "iso-8859-8";
  if (encoding == "replacement" || encoding == "x-user-defined" || encoding == "iso-8859-16") {
    return std::string();
  }
  return std::string(encoding);
}

ConverterPtr OpenConverter(std::string_view encoding) {
  const std::string name = IcuName(encoding);
  if (name.empty()) return nullptr;
  UErrorCode status = U_ZERO_ERROR;
  ConverterPtr converter(ucnv_open(name.c_str(), &status));
  if (U_FAILURE(status)) return nullptr;
  return converter;
}

// Transcodes with ICU. The to-Unicode default callback substitutes U+FFFD for bytes a charset
// does not map, which is what we want.
std::optional<std::string> IcuToUtf8(UConverter* from, std::string_view bytes) {
  UErrorCode status = U_ZERO_ERROR;
  ConverterPtr to(ucnv_open("utf-8", &status));
  if (U_FAILURE(status)) return std::nullopt;
  std::string out;
  out.resize(bytes.size() * 2 + 64);  // Arabic and Latin single-byte text: at most 2 bytes each
  char* target = out.data();
  const char* source = bytes.data();
  UChar pivot[1024];
  UChar* pivot_source = pivot;
  UChar* pivot_target = pivot;
  bool reset = true;
  for (;;) {
    status = U_ZERO_ERROR;
    ucnv_convertEx(to.get(), from, &target, out.data() + out.size(), &source,
                   bytes.data() + bytes.size(), pivot, &pivot_source, &pivot_target,
                   pivot + std::size(pivot), reset, /*flush=*/true, &status);
    reset = false;
    if (status != U_BUFFER_OVERFLOW_ERROR) break;
    const std::size_t written = static_cast<std::size_t>(target - out.data());
    out.resize(out.size() * 2);
    target = out.data() + written;
  }
  if (U_FAILURE(status)) return std::nullopt;
  out.resize(static_cast<std::size_t>(target - out.data()));
  return out;
}

// --- Sources -------------------------------------------------------------------------------

// The charset value inside "text/html; charset=..." or a meta content attribute: the HTML
// standard's "extracting a character encoding from a meta element", which also reads headers.
std::optional<std::string_view> ExtractCharsetParameter(std::string_view text) {
  std::size_t pos = 0;
  for (;;) {
    std::size_t found = std::string_view::npos;
    for (std::size_t i = pos; i + 7 <= text.size(); ++i) {
      if (StartsWithIgnoreCase(text.substr(i), "charset")) {
        found = i;
        break;
      }
    }
    if (found == std::string_view::npos) return std::nullopt;
    pos = found + 7;
    while (pos < text.size() && IsAsciiSpace(text[pos])) ++pos;
    if (pos >= text.size() || text[pos] != '=') continue;
    ++pos;
    while (pos < text.size() && IsAsciiSpace(text[pos])) ++pos;
    if (pos >= text.size()) return std::nullopt;
    if (text[pos] == '"' || text[pos] == '\'') {
      const std::size_t close = text.find(text[pos], pos + 1);
      if (close == std::string_view::npos) return std::nullopt;
      return text.substr(pos + 1, close - pos - 1);
    }
    std::size_t end = pos;
    while (end < text.size() && !IsAsciiSpace(text[end]) && text[end] != ';') ++end;
    return text.substr(pos, end - pos);
  }
}

// One attribute read by the prescan; values are lower-cased as the algorithm prescribes.
struct PrescanAttribute {
  std::string name;
  std::string value;
};

// The HTML standard's "get an attribute" step of the prescan. Returns false when there is no
// further attribute (at '>' or at the end of the window).
bool GetAttribute(std::string_view s, std::size_t* pos, PrescanAttribute* attr) {
  std::size_t& i = *pos;
  attr->name.clear();
  attr->value.clear();
  while (i < s.size() && (IsAsciiSpace(s[i]) || s[i] == '/')) ++i;
  if (i >= s.size() || s[i] == '>') return false;
  for (;; ++i) {
    if (i >= s.size()) return false;
    const char c = s[i];
    if (c == '=' && !attr->name.empty()) {
      ++i;
      break;
    }
    if (IsAsciiSpace(c)) {
      while (i < s.size() && IsAsciiSpace(s[i])) ++i;
      if (i >= s.size()) return false;
      if (s[i] != '=') return true;
      ++i;
      break;
    }
    if (c == '/' || c == '>') return true;
    attr->name.push_back(AsciiLower(c));
  }
  while (i < s.size() && IsAsciiSpace(s[i])) ++i;
  if (i >= s.size()) return false;
  if (s[i] == '"' || s[i] == '\'') {
    const char quote = s[i];
    for (++i; i < s.size(); ++i) {
      if (s[i] == quote) {
        ++i;
        return true;
      }
      attr->value.push_back(AsciiLower(s[i]));
    }
    return false;
  }
  if (s[i] == '>') return true;
  for (; i < s.size(); ++i) {
    if (IsAsciiSpace(s[i]) || s[i] == '>') return true;
    attr->value.push_back(AsciiLower(s[i]));
  }
  return false;
}

// Handles one <meta ...> whose attributes start at *pos; returns the encoding it declares.
std::optional<std::string_view> ReadMeta(std::string_view s, std::size_t* pos) {
  bool got_pragma = false;
  std::optional<bool> need_pragma;
  std::optional<std::string_view> encoding;
  std::string seen_names;  // "\n"-joined, the algorithm ignores repeated attributes
  PrescanAttribute attr;
  while (GetAttribute(s, pos, &attr)) {
    const std::string key = "\n" + attr.name + "\n";
    if (seen_names.find(key) != std::string::npos) continue;
    seen_names.append(key);
    if (attr.name == "http-equiv") {
      got_pragma |= attr.value == "content-type";
    } else if (attr.name == "content" && !encoding) {
      if (auto label = ExtractCharsetParameter(attr.value)) {
        if (auto found = EncodingForLabel(*label)) {
          encoding = found;
          need_pragma = true;
        }
      }
    } else if (attr.name == "charset") {
      encoding = EncodingForLabel(attr.value);
      need_pragma = false;
    }
  }
  if (!need_pragma || (*need_pragma && !got_pragma) || !encoding) return std::nullopt;
  // A document that declares UTF-16 in ASCII-compatible bytes is not UTF-16 (HTML standard).
  if (*encoding == "utf-16be" || *encoding == "utf-16le") return "utf-8";
  if (*encoding == "x-user-defined") return "windows-1252";
  return encoding;
}

// The HTML standard's "prescan a byte stream to determine its encoding", over `window`.
// Only a declaration ICU can decode counts; an unusable one lets the scan go on.
std::optional<std::string_view> PrescanMeta(std::string_view s) {
  std::size_t i = 0;
  PrescanAttribute ignored;
  while (i < s.size()) {
    if (s[i] != '<') {
      const std::size_t next = s.find('<', i + 1);
      if (next == std::string_view::npos) break;
      i = next;
      continue;
    }
    const std::string_view rest = s.substr(i);
    if (rest.starts_with("<!--")) {
      const std::size_t end = s.find("-->", i + 2);
      if (end == std::string_view::npos) break;
      i = end + 3;
    } else if (StartsWithIgnoreCase(rest, "<meta") && rest.size() > 5 &&
               (IsAsciiSpace(rest[5]) || rest[5] == '/')) {
      i += 5;
      if (auto encoding = ReadMeta(s, &i)) {
        if (*encoding == "utf-8" || OpenConverter(*encoding)) return encoding;
      }
    } else if (rest.size() > 1 && (IsAsciiAlpha(rest[1]) ||
                                   (rest[1] == '/' && rest.size() > 2 && IsAsciiAlpha(rest[2])))) {
      // Another tag: skip its attributes, so "<meta" inside a value is not read as a tag.
      while (i < s.size() && !IsAsciiSpace(s[i]) && s[i] != '>') ++i;
      while (GetAttribute(s, &i, &ignored)) {
      }
      ++i;
    } else if (rest.starts_with("<!") || rest.starts_with("</") || rest.starts_with("<?")) {
      const std::size_t end = s.find('>', i + 2);
      if (end == std::string_view::npos) break;
      i = end + 1;
    } else {
      ++i;
    }
  }
  return std::nullopt;
}

enum class SampleKind { kAscii, kUtf8, kOther };

// Is the detection window ASCII, UTF-8, or something else? When the body goes on past the
// window (`truncated`), a multi-byte sequence the window cuts in two is left out.
SampleKind ClassifySample(std::string_view sample, bool truncated) {
  if (truncated) {
    std::size_t start = sample.size();  // start of the last sequence
    while (start > 0 && sample.size() - start < 3 &&
           (static_cast<unsigned char>(sample[start - 1]) & 0xC0) == 0x80) {
      --start;
    }
    if (start > 0) {
      const auto lead = static_cast<unsigned char>(sample[start - 1]);
      const std::size_t needed = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
      if (needed > sample.size() - (start - 1)) sample = sample.substr(0, start - 1);
    }
  }
  if (ValidUtf8Prefix(sample) != sample.size()) return SampleKind::kOther;
  for (char c : sample) {
    if (static_cast<unsigned char>(c) >= 0x80) return SampleKind::kUtf8;
  }
  return SampleKind::kAscii;
}

// Names uchardet reports that are not WHATWG labels but name a WHATWG encoding.
std::optional<std::string_view> EncodingForDetectorName(std::string_view name) {
  std::string lower(name);
  for (char& c : lower) c = AsciiLower(c);
  if (lower == "mac-cyrillic") return "x-mac-cyrillic";
  if (lower == "uhc") return "euc-kr";
  return EncodingForLabel(lower);
}

// The charset of a body with no usable label. Valid UTF-8 is recognised without uchardet, which
// would say the same thing slower; ASCII yields nothing, so the default (UTF-8) applies.
std::optional<std::string_view> DetectEncoding(std::string_view body) {
  const std::string_view sample = body.substr(0, kDetectionBytes);
  switch (ClassifySample(sample, sample.size() < body.size())) {
    case SampleKind::kAscii:
      return std::nullopt;
    case SampleKind::kUtf8:
      return "utf-8";
    case SampleKind::kOther:
      break;
  }
  uchardet_t detector = uchardet_new();
  if (detector == nullptr) return std::nullopt;
  std::optional<std::string_view> encoding;
  if (uchardet_handle_data(detector, sample.data(), sample.size()) == 0) {
    uchardet_data_end(detector);
    const char* name = uchardet_get_charset(detector);
    if (name != nullptr && *name != '\0' && std::string_view(name) != "ASCII") {
      encoding = EncodingForDetectorName(name);
    }
  }
  uchardet_delete(detector);
  return encoding;
}

// Decodes with `encoding`; nullopt when ICU cannot (the caller moves on to the next source).
std::optional<DecodedBody> DecodeAs(std::string_view encoding, std::string_view bytes,
                                    std::string_view source) {
  DecodedBody decoded;
  if (encoding == "utf-8") {
    decoded.utf8 = ToValidUtf8(bytes);
  } else {
    ConverterPtr converter = OpenConverter(encoding);
    if (!converter) return std::nullopt;
    std::optional<std::string> utf8 = IcuToUtf8(converter.get(), bytes);
    if (!utf8) return std::nullopt;
    decoded.utf8 = std::move(*utf8);
  }
  decoded.charset = encoding;
  decoded.source = source;
  return decoded;
}

}  // namespace

DecodedBody DecodeToUtf8(std::string_view body, std::string_view content_type) {
  // A byte order mark beats every label (WHATWG "decode"), and is not part of the text.
  if (body.starts_with("\xEF\xBB\xBF")) {
    if (auto decoded = DecodeAs("utf-8", body.substr(3), "bom")) return std::move(*decoded);
  }
  if (body.starts_with("\xFE\xFF")) {
    if (auto decoded = DecodeAs("utf-16be", body.substr(2), "bom")) return std::move(*decoded);
  }
  if (body.starts_with("\xFF\xFE")) {
    if (auto decoded = DecodeAs("utf-16le", body.substr(2), "bom")) return std::move(*decoded);
  }
  if (auto label = ExtractCharsetParameter(content_type)) {
    if (auto encoding = EncodingForLabel(*label)) {
      if (auto decoded = DecodeAs(*encoding, body, "header")) return std::move(*decoded);
    }
  }
  if (auto encoding = PrescanMeta(body.substr(0, kMetaPrescanBytes))) {
    if (auto decoded = DecodeAs(*encoding, body, "meta")) return std::move(*decoded);
  }
  if (auto encoding = DetectEncoding(body)) {
    if (auto decoded = DecodeAs(*encoding, body, "detected")) return std::move(*decoded);
  }
  DecodedBody decoded;
  decoded.utf8 = ToValidUtf8(body);
  decoded.charset = "utf-8";
  decoded.source = "default";
  return decoded;
}

}  // namespace mw
