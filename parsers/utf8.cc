#include "parsers/utf8.h"

#include <cstdint>
#include <cstring>

namespace mw {
namespace {

// Length of the well-formed sequence at p[0] (a non-ASCII lead byte) if there is one; otherwise
// minus the length of its maximal subpart, the bytes one U+FFFD replaces.
int SequenceLength(const unsigned char* p, std::size_t available) {
  const unsigned char lead = p[0];
  int continuation;
  unsigned char low = 0x80;
  unsigned char high = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    continuation = 1;
  } else if (lead == 0xE0) {
    continuation = 2;
    low = 0xA0;  // no overlong forms
  } else if (lead == 0xED) {
    continuation = 2;
    high = 0x9F;  // no surrogates
  } else if (lead >= 0xE1 && lead <= 0xEF) {
    continuation = 2;
  } else if (lead == 0xF0) {
    continuation = 3;
    low = 0x90;  // no overlong forms
  } else if (lead >= 0xF1 && lead <= 0xF3) {
    continuation = 3;
  } else if (lead == 0xF4) {
    continuation = 3;
    high = 0x8F;  // nothing above U+10FFFF
  } else {
    return -1;
  }
  for (int k = 1; k <= continuation; ++k) {
    if (static_cast<std::size_t>(k) >= available || p[k] < low || p[k] > high) return -k;
    low = 0x80;
    high = 0xBF;
  }
  return continuation + 1;
}

}  // namespace

std::size_t ValidUtf8Prefix(std::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  std::size_t i = 0;
  while (i < n) {
    // Eight ASCII bytes at a time: most of a page is markup.
    while (i + 8 <= n) {
      std::uint64_t word;
      std::memcpy(&word, p + i, sizeof(word));
      if ((word & 0x8080808080808080ULL) != 0) break;
      i += 8;
    }
    if (i >= n) break;
    if (p[i] < 0x80) {
      ++i;
      continue;
    }
    const int length = SequenceLength(p + i, n - i);
    if (length < 0) return i;
    i += static_cast<std::size_t>(length);
  }
  return n;
}

std::string ToValidUtf8(std::string_view text) {
  std::size_t valid = ValidUtf8Prefix(text);
  if (valid == text.size()) return std::string(text);
  std::string out;
  out.reserve(text.size() + 16);
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  std::size_t i = 0;
  for (;;) {
    out.append(text.substr(i, valid));
    i += valid;
    if (i >= text.size()) break;
    out.append("\xEF\xBF\xBD");
    i += static_cast<std::size_t>(-SequenceLength(p + i, text.size() - i));
    valid = ValidUtf8Prefix(text.substr(i));
  }
  return out;
}

}  // namespace mw
