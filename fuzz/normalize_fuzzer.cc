// Text normalisation for matching: any bytes in, valid lower-case UTF-8 out, with an origin for
// every output byte.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "signatures/normalize.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const mw::NormalizedText normalized = mw::NormalizeForMatch(input);
  const std::string& text = normalized.text;
  MW_FUZZ_CHECK(mw::fuzz::IsValidUtf8(text));
  MW_FUZZ_CHECK(normalized.origin.size() == text.size() + 1);
  for (std::size_t i = 0; i < normalized.origin.size(); ++i) {
    MW_FUZZ_CHECK(normalized.origin[i] <= size);
    if (i > 0) MW_FUZZ_CHECK(normalized.origin[i - 1] <= normalized.origin[i]);
  }
  for (std::size_t i = 0; i < text.size(); ++i) {
    // Case folded; whitespace runs are one space.
    MW_FUZZ_CHECK(!(text[i] >= 'A' && text[i] <= 'Z'));
    MW_FUZZ_CHECK(text[i] != '\t' && text[i] != '\n' && text[i] != '\r');
    if (i > 0) MW_FUZZ_CHECK(!(text[i - 1] == ' ' && text[i] == ' '));
  }
  return 0;
}
