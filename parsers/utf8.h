// UTF-8 validation and repair shared by the parse stage (charset decoding, HTML field text).
#ifndef MIRRORWATCH_PARSERS_UTF8_H_
#define MIRRORWATCH_PARSERS_UTF8_H_

#include <cstddef>
#include <string>
#include <string_view>

namespace mw {

// Length of the longest prefix of `text` that is well-formed UTF-8 (Unicode 3.9: no overlong
// forms, no surrogates, nothing above U+10FFFF). Equals text.size() for valid text.
std::size_t ValidUtf8Prefix(std::string_view text);

// `text` with each maximal subpart of an ill-formed sequence replaced by U+FFFD, as the WHATWG
// UTF-8 decoder does. Returns a plain copy when `text` is already valid (the common case).
std::string ToValidUtf8(std::string_view text);

}  // namespace mw

#endif  // MIRRORWATCH_PARSERS_UTF8_H_
