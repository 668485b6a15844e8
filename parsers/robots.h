// robots.txt per RFC 9309.
#ifndef MIRRORWATCH_PARSERS_ROBOTS_H_
#define MIRRORWATCH_PARSERS_ROBOTS_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mw {

// The rules of one robots.txt that apply to one crawler. Immutable, cheap to copy.
class RobotsRules {
 public:
  // Parses `body` (any bytes; at most the first 500 KiB are read, as RFC 9309 allows) and keeps
  // the group for `product` (our user-agent product token, e.g. "mirrorwatch", matched
  // case-insensitively against each group's user-agent lines; groups that name the same agent are
  // merged; with no matching group, the "*" group applies; with neither, everything is allowed).
  // Malformed lines are skipped. Never throws.
  static RobotsRules Parse(std::string_view body, std::string_view product);
  static RobotsRules AllowAll();     // e.g. robots.txt answered 4xx
  static RobotsRules DisallowAll();  // e.g. robots.txt answered 5xx or was unreachable

  // Whether `path` ("/a/b?q=1", percent-encoded as in the URL) may be fetched: the longest
  // matching Allow/Disallow rule wins, Allow on a tie; `*` matches any run of characters, a
  // trailing `$` anchors the end; patterns and paths compare with percent-encoding normalised
  // (RFC 9309 2.2.2). "/robots.txt" is always allowed.
  bool Allows(std::string_view path) const;

  // Crawl-delay of the applicable group, in seconds (non-standard but common); nullopt if none or
  // unparsable.
  std::optional<double> crawl_delay() const { return crawl_delay_; }
  // Every Sitemap: URL in the file, whatever group it stands in (absolute URLs as written).
  const std::vector<std::string>& sitemaps() const { return sitemaps_; }

 private:
  struct Rule {
    std::string pattern;  // normalised
    bool allow;
  };
  std::vector<Rule> rules_;
  std::optional<double> crawl_delay_;
  std::vector<std::string> sitemaps_;
  bool disallow_all_ = false;
};

}  // namespace mw

#endif  // MIRRORWATCH_PARSERS_ROBOTS_H_
