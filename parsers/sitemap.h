// Sitemaps (sitemaps.org protocol): XML urlset and sitemapindex, gzipped or not, and plain-text
// sitemaps (one URL per line).
#ifndef MIRRORWATCH_PARSERS_SITEMAP_H_
#define MIRRORWATCH_PARSERS_SITEMAP_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace mw {

struct SitemapLimits {
  std::size_t max_urls = 50'000;               // per file, as the protocol caps it
  std::size_t max_decoded_bytes = 50u << 20;   // after gunzip, as the protocol caps it
};

struct Sitemap {
  std::vector<std::string> urls;      // <urlset><url><loc> (or text lines), trimmed, as written
  std::vector<std::string> sitemaps;  // <sitemapindex><sitemap><loc>: further sitemaps to fetch
  bool truncated = false;             // a limit was hit; what came before it is kept
  std::string error;                  // empty when the file parsed; otherwise why not (what was
                                      // read before the error is kept)
};

// Parses a sitemap body. Gzip is recognised by its magic bytes (whatever the URL or the
// Content-Type say) and inflated up to limits.max_decoded_bytes, so a gzip bomb stops there.
// XML is parsed without network access and without entity expansion (no XXE); anything that is
// not XML is read as a text sitemap, keeping only lines that start with http:// or https://.
// Never throws; thread-safe.
Sitemap ParseSitemap(std::string_view body, const SitemapLimits& limits = {});

}  // namespace mw

#endif  // MIRRORWATCH_PARSERS_SITEMAP_H_
