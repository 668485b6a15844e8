// URL parsing and resolution. The input is "BASE\nREF": ParseUrl reads the whole input and BASE;
// ResolveUrl resolves REF against BASE (when it parses), a fixed base and an empty base.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "parsers/url.h"

namespace {

// What url.h promises of every Url it returns.
void CheckUrl(const mw::Url& url) {
  MW_FUZZ_CHECK(url.scheme == "http" || url.scheme == "https");
  MW_FUZZ_CHECK(!url.host.empty());
  MW_FUZZ_CHECK(url.port > 0 && url.port <= 65535);
  MW_FUZZ_CHECK(url.path.starts_with("/"));
  // Normalised: no fragment, and everything outside printable ASCII percent-encoded.
  for (const char c : url.spec) MW_FUZZ_CHECK(c > ' ' && c < 0x7f && c != '#');
  for (const char c : url.host) MW_FUZZ_CHECK(!(c >= 'A' && c <= 'Z'));
  const bool default_port = url.port == (url.scheme == "https" ? 443 : 80);
  MW_FUZZ_CHECK(url.Authority() ==
                (default_port ? url.host : url.host + ":" + std::to_string(url.port)));
  MW_FUZZ_CHECK(url.spec.starts_with(url.scheme + "://" + url.Authority() + url.path));
  // Normalisation is idempotent: the spec is the de-duplication key.
  const std::optional<mw::Url> again = mw::ParseUrl(url.spec);
  MW_FUZZ_CHECK(again.has_value());
  MW_FUZZ_CHECK(again->spec == url.spec && again->host == url.host && again->port == url.port &&
                again->path == url.path && again->query == url.query);
}

void CheckResolved(const mw::Url& base, std::string_view ref) {
  const std::optional<mw::Url> resolved = mw::ResolveUrl(base, ref);
  if (resolved) CheckUrl(*resolved);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  if (const std::optional<mw::Url> url = mw::ParseUrl(input)) CheckUrl(*url);

  static const mw::Url fixed_base = *mw::ParseUrl("http://host.test/a/b/c.html?x=1");
  const std::size_t newline = input.find('\n');
  const std::string_view ref = newline == std::string_view::npos ? input : input.substr(newline + 1);
  CheckResolved(fixed_base, ref);
  CheckResolved(mw::Url{}, ref);
  if (newline != std::string_view::npos) {
    if (const std::optional<mw::Url> base = mw::ParseUrl(input.substr(0, newline))) {
      CheckUrl(*base);
      CheckResolved(*base, ref);
      // An empty or fragment-only reference yields the base itself.
      const std::optional<mw::Url> self = mw::ResolveUrl(*base, "#frag");
      MW_FUZZ_CHECK(self.has_value() && self->spec == base->spec);
    }
  }
  return 0;
}
