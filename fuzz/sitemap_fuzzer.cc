// Sitemap parsing: the input as it is, and the input gzipped, which must read the same (gzip is
// recognised by its magic bytes and inflated before parsing).
#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "parsers/sitemap.h"

namespace {

std::string Gzip(std::string_view data) {
  z_stream stream{};
  MW_FUZZ_CHECK(deflateInit2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
                             Z_DEFAULT_STRATEGY) == Z_OK);
  std::string out(deflateBound(&stream, data.size()) + 32, '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  MW_FUZZ_CHECK(deflate(&stream, Z_FINISH) == Z_STREAM_END);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return out;
}

bool IsTrimmed(const std::string& s) {
  constexpr std::string_view kSpace = " \t\r\n";
  return !s.empty() && kSpace.find(s.front()) == std::string_view::npos &&
         kSpace.find(s.back()) == std::string_view::npos;
}

void CheckSitemap(const mw::Sitemap& sitemap, const mw::SitemapLimits& limits) {
  MW_FUZZ_CHECK(sitemap.urls.size() + sitemap.sitemaps.size() <= limits.max_urls);
  for (const std::string& url : sitemap.urls) MW_FUZZ_CHECK(IsTrimmed(url));
  for (const std::string& url : sitemap.sitemaps) MW_FUZZ_CHECK(IsTrimmed(url));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  // Small limits so that the fuzzer reaches them.
  mw::SitemapLimits limits;
  limits.max_urls = 64;
  limits.max_decoded_bytes = 1 << 20;
  const mw::Sitemap plain = mw::ParseSitemap(body, limits);
  CheckSitemap(plain, limits);

  const bool is_gzip = size >= 2 && data[0] == 0x1f && data[1] == 0x8b;
  if (is_gzip || size > limits.max_decoded_bytes) return 0;
  const mw::Sitemap gzipped = mw::ParseSitemap(Gzip(body), limits);
  CheckSitemap(gzipped, limits);
  MW_FUZZ_CHECK(gzipped.urls == plain.urls);
  MW_FUZZ_CHECK(gzipped.sitemaps == plain.sitemaps);
  MW_FUZZ_CHECK(gzipped.truncated == plain.truncated);
  MW_FUZZ_CHECK(gzipped.error.empty() == plain.error.empty());
  return 0;
}
