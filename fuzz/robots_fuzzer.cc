// robots.txt parsing, then Allows on paths taken from the input itself (every value after a
// ':' that starts with '/'), so the paths tried resemble the rules.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_check.h"
#include "parsers/robots.h"

namespace {

std::vector<std::string_view> PathsIn(std::string_view body) {
  std::vector<std::string_view> paths = {"/", "/robots.txt", "/a/b?q=1", "/%7Euser/"};
  std::size_t at = 0;
  while ((at = body.find(':', at)) != std::string_view::npos && paths.size() < 64) {
    std::size_t start = at + 1;
    while (start < body.size() && body[start] == ' ') ++start;
    std::size_t end = start;
    while (end < body.size() && body[end] != '\n' && body[end] != '\r' && body[end] != ' ') ++end;
    if (start < body.size() && body[start] == '/') paths.push_back(body.substr(start, end - start));
    at = start;
  }
  return paths;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const mw::RobotsRules rules = mw::RobotsRules::Parse(body, "mirrorwatch");
  // The product token matches case-insensitively: another spelling reads the same group.
  const mw::RobotsRules upper = mw::RobotsRules::Parse(body, "MirrorWatch");
  MW_FUZZ_CHECK(rules.Allows("/robots.txt"));
  if (const std::optional<double> delay = rules.crawl_delay()) {
    MW_FUZZ_CHECK(std::isfinite(*delay) && *delay >= 0);
  }
  MW_FUZZ_CHECK(rules.sitemaps() == upper.sitemaps());
  for (const std::string_view path : PathsIn(body)) {
    MW_FUZZ_CHECK(rules.Allows(path) == upper.Allows(path));
    MW_FUZZ_CHECK(mw::RobotsRules::AllowAll().Allows(path));
  }
  return 0;
}
