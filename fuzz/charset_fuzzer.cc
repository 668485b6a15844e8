// Charset detection and transcoding. The input is "CONTENT-TYPE\nBODY" (no newline: all body,
// no header), so the header's charset parameter is fuzzed along with the bytes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "parsers/charset.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string_view content_type;
  std::string_view body = input;
  if (const std::size_t newline = input.find('\n');
      newline != std::string_view::npos && newline <= 256) {
    content_type = input.substr(0, newline);
    body = input.substr(newline + 1);
  }
  const mw::DecodedBody decoded = mw::DecodeToUtf8(body, content_type);
  MW_FUZZ_CHECK(mw::fuzz::IsValidUtf8(decoded.utf8));
  MW_FUZZ_CHECK(!decoded.charset.empty());
  for (const char c : decoded.charset) MW_FUZZ_CHECK(!(c >= 'A' && c <= 'Z'));
  MW_FUZZ_CHECK(decoded.source == "bom" || decoded.source == "header" ||
                decoded.source == "meta" || decoded.source == "detected" ||
                decoded.source == "default");

  // Valid UTF-8 declared as UTF-8 (and no BOM to overrule the header) comes out unchanged.
  if (mw::fuzz::IsValidUtf8(body) && !body.starts_with("\xEF\xBB\xBF") &&
      !body.starts_with("\xFE\xFF") && !body.starts_with("\xFF\xFE")) {
    const mw::DecodedBody utf8 = mw::DecodeToUtf8(body, "text/html; charset=utf-8");
    MW_FUZZ_CHECK(utf8.charset == "utf-8");
    MW_FUZZ_CHECK(utf8.utf8 == body);
  }
  return 0;
}
