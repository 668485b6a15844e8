// Character classes and percent-encoding shared by the URL normaliser and the robots.txt
// matcher, which must spell a path the same way to compare them. Internal to mw_parsers.
#ifndef MIRRORWATCH_PARSERS_URL_CHARS_H_
#define MIRRORWATCH_PARSERS_URL_CHARS_H_

#include <string>
#include <string_view>

namespace mw::url_chars {

inline constexpr char kUpperHex[] = "0123456789ABCDEF";

inline bool IsAsciiAlpha(unsigned char c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }
inline bool IsAsciiDigit(unsigned char c) { return c >= '0' && c <= '9'; }
inline char AsciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

// The value of a hex digit, or -1.
inline int HexValue(unsigned char c) {
  if (IsAsciiDigit(c)) return c - '0';
  c |= 0x20;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// RFC 3986 unreserved characters: they never need escaping, so %XX of one is decoded.
inline bool IsUnreserved(unsigned char c) {
  return IsAsciiAlpha(c) || IsAsciiDigit(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

// Bytes that may not appear raw in a path or query: controls, space, non-ASCII (IRIs, UTF-8 in
// robots.txt) and the delimiters RFC 3986 excludes.
inline bool NeedsEscaping(unsigned char c) {
  return c <= 0x20 || c >= 0x7F ||
         std::string_view("\"<>\\^`{|}").find(static_cast<char>(c)) != std::string_view::npos;
}

// Appends %XX with upper-case hex.
inline void AppendEscaped(unsigned char c, std::string* out) {
  out->push_back('%');
  out->push_back(kUpperHex[c >> 4]);
  out->push_back(kUpperHex[c & 0xF]);
}

}  // namespace mw::url_chars

#endif  // MIRRORWATCH_PARSERS_URL_CHARS_H_
