// Character set detection and transcoding to UTF-8 (ICU converters, uchardet detection).
#ifndef MIRRORWATCH_PARSERS_CHARSET_H_
#define MIRRORWATCH_PARSERS_CHARSET_H_

#include <string>
#include <string_view>

namespace mw {

struct DecodedBody {
  std::string utf8;     // the body as valid UTF-8 (invalid sequences replaced by U+FFFD)
  std::string charset;  // the charset used, canonical lower-case name ("utf-8", "windows-1256")
  std::string source;   // where it came from: "bom", "header", "meta", "detected" or "default"
};

// Decides a body's charset -- BOM, then the Content-Type header's charset parameter, then a
// <meta charset> / <meta http-equiv=Content-Type> prescan of the first 4 KiB, then uchardet,
// then UTF-8 -- and transcodes the body to UTF-8. Labels are resolved as the WHATWG Encoding
// standard does (e.g. "iso-8859-1" and "latin1" mean windows-1252, "iso-8859-6" is Arabic).
// Never throws; thread-safe.
DecodedBody DecodeToUtf8(std::string_view body, std::string_view content_type);

}  // namespace mw

#endif  // MIRRORWATCH_PARSERS_CHARSET_H_
