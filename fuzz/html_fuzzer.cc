// The parse stage as the crawler runs it on a fetched body: DecodeToUtf8, then ExtractDocument
// against a fixed page URL. The first input byte picks the Content-Type header (none, text/html,
// a UTF-8, windows-1256 or garbage charset), the rest is the body.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "parsers/charset.h"
#include "parsers/html.h"
#include "parsers/url.h"

namespace {

constexpr std::string_view kContentTypes[] = {
    "", "text/html", "text/html; charset=utf-8", "text/html; charset=windows-1256",
    "text/html; charset=iso-8859-6", "text/html; charset=\"x-no-such\""};

// A normalised URL is a fixed point of ParseUrl: the spec the extractor stored is what the
// frontier will de-duplicate on.
void CheckNormalisedUrl(const std::string& spec) {
  const std::optional<mw::Url> again = mw::ParseUrl(spec);
  MW_FUZZ_CHECK(again.has_value());
  MW_FUZZ_CHECK(again->spec == spec);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  static const mw::Url base = *mw::ParseUrl("https://host.test/section/page.html?q=1");
  const std::string_view content_type =
      kContentTypes[data[0] % (sizeof kContentTypes / sizeof kContentTypes[0])];
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);

  const mw::DecodedBody decoded = mw::DecodeToUtf8(body, content_type);
  MW_FUZZ_CHECK(mw::fuzz::IsValidUtf8(decoded.utf8));
  MW_FUZZ_CHECK(!decoded.charset.empty());

  const mw::Document doc = mw::ExtractDocument(decoded.utf8, base);
  for (const std::string& text : doc.fields) MW_FUZZ_CHECK(mw::fuzz::IsValidUtf8(text));
  MW_FUZZ_CHECK(doc.text(mw::Field::kUrl) == base.spec);
  MW_FUZZ_CHECK(doc.text(mw::Field::kHost) == base.host);
  CheckNormalisedUrl(doc.base_href);
  if (!doc.canonical.empty()) CheckNormalisedUrl(doc.canonical);
  for (const mw::Link& link : doc.links) {
    MW_FUZZ_CHECK(link.url.starts_with("http://") || link.url.starts_with("https://"));
    CheckNormalisedUrl(link.url);
    MW_FUZZ_CHECK(mw::fuzz::IsValidUtf8(link.text));
  }
  return 0;
}
