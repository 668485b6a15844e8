#include "parsers/robots.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <system_error>
#include <unordered_set>
#include <utility>

#include "parsers/url_chars.h"

namespace mw {
namespace {

using namespace url_chars;  // NOLINT(build/namespaces): the shared URL character helpers

// RFC 9309 2.5: a parser may stop after 500 KiB, and must read at least that much.
constexpr std::size_t kMaxBodyBytes = 500 * 1024;
constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";
constexpr std::string_view kLineBreaks = "\r\n";
constexpr std::string_view kBlanks = " \t";
bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(),
                    [](char x, char y) { return AsciiLower(x) == AsciiLower(y); });
}

std::string_view Trim(std::string_view s) {
  const std::size_t first = s.find_first_not_of(kBlanks);
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(kBlanks) - first + 1);
}

enum class Side { kPattern, kPath };

// Puts a rule's pattern or a URL's path into the one spelling both are compared in
// (RFC 9309 2.2.2): unreserved escapes decoded, other escapes with upper-case hex, raw bytes that
// need it escaped (so "/ä" in the file meets "/%C3%A4" in the URL), a '%' that starts no escape
// written as %25. In a pattern `*` and a final `$` keep their special meaning; everywhere else
// (a path, or a `$` inside a pattern) they are literal characters and are written %2A/%24, which
// is how RFC 9309 2.2.3 says a file names them literally.
std::string NormalizeForMatch(std::string_view in, Side side) {
  std::string out;
  out.reserve(in.size() + 8);
  for (std::size_t i = 0; i < in.size(); ++i) {
    const auto c = static_cast<unsigned char>(in[i]);
    if (c == '%') {
      const int high = i + 2 < in.size() ? HexValue(in[i + 1]) : -1;
      const int low = high >= 0 ? HexValue(in[i + 2]) : -1;
      if (low < 0) {
        AppendEscaped('%', &out);
        continue;
      }
      const auto decoded = static_cast<unsigned char>(high * 16 + low);
      if (IsUnreserved(decoded)) {
        out.push_back(static_cast<char>(decoded));
      } else {
        AppendEscaped(decoded, &out);
      }
      i += 2;
    } else if (side == Side::kPattern && (c == '*' || (c == '$' && i + 1 == in.size()))) {
      out.push_back(static_cast<char>(c));
    } else if (NeedsEscaping(c) || c == '*' || c == '$') {
      AppendEscaped(c, &out);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

// Matching starts at the path's first octet, so a pattern that starts with neither '/' nor '*'
// ("Disallow: private/", common in hand-written files) could never match as written; we read it
// as root-relative, which is what its author meant, rather than drop it.
std::string NormalizePattern(std::string_view value) {
  std::string pattern = NormalizeForMatch(value, Side::kPattern);
  if (pattern.front() != '/' && pattern.front() != '*') pattern.insert(pattern.begin(), '/');
  return pattern;
}

// Whether `pattern` (normalised: `*` any run of octets, a final `$` anchors the end) matches the
// start of `path` (normalised), or all of it when anchored. Each literal piece between stars is
// taken at its leftmost occurrence: a later occurrence could only leave less room for the pieces
// after it, and the star before it absorbs whatever is skipped. So there is no backtracking and
// the cost is at most O(|path| * |pattern|), even for "/*a*a*a*...*b" against a long run of 'a's.
bool PatternMatches(std::string_view pattern, std::string_view path) {
  const bool anchored = !pattern.empty() && pattern.back() == '$';
  if (anchored) pattern.remove_suffix(1);
  std::size_t star = pattern.find('*');
  const std::string_view head = pattern.substr(0, star);
  if (!path.starts_with(head)) return false;
  if (star == std::string_view::npos) return !anchored || path.size() == head.size();
  std::size_t pos = head.size();
  pattern.remove_prefix(star + 1);
  while ((star = pattern.find('*')) != std::string_view::npos) {
    const std::size_t found = path.find(pattern.substr(0, star), pos);
    if (found == std::string_view::npos) return false;
    pos = found + star;
    pattern.remove_prefix(star + 1);
  }
  if (anchored) return path.size() - pos >= pattern.size() && path.ends_with(pattern);
  return path.find(pattern, pos) != std::string_view::npos;
}

// The product token at the start of a user-agent value: its leading run of [a-zA-Z_-]
// (RFC 9309 2.2.1), so "mirrorwatch/1.0 (+https://...)" names "mirrorwatch".
std::string_view ProductToken(std::string_view value) {
  const auto end = std::find_if_not(value.begin(), value.end(), [](char c) {
    return IsAsciiAlpha(static_cast<unsigned char>(c)) || c == '-' || c == '_';
  });
  return value.substr(0, static_cast<std::size_t>(end - value.begin()));
}

// "*", alone or followed by words (as Google's parser reads it); "*bot" is not a wildcard.
bool IsGlobalAgent(std::string_view value) {
  return value.starts_with('*') && (value.size() == 1 || kBlanks.find(value[1]) != kBlanks.npos);
}

enum class Key { kUnknown, kUserAgent, kAllow, kDisallow, kCrawlDelay, kSitemap };

// Exact, case-insensitive spellings. Besides the standard keys we take the misspellings Google's
// reference parser accepts (useragent, user agent; dissallow, dissalow, disalow, diasllow,
// disallaw; site-map), plus crawldelay. Unlike Google we do not accept any key that merely
// starts with one of these ("allowance"), which would read unknown records as rules.
Key ClassifyKey(std::string_view key) {
  struct Spelling {
    std::string_view text;
    Key key;
  };
  static constexpr Spelling kSpellings[] = {
      {"user-agent", Key::kUserAgent}, {"useragent", Key::kUserAgent},
      {"user agent", Key::kUserAgent}, {"allow", Key::kAllow},
      {"disallow", Key::kDisallow},    {"dissallow", Key::kDisallow},
      {"dissalow", Key::kDisallow},    {"disalow", Key::kDisallow},
      {"diasllow", Key::kDisallow},    {"disallaw", Key::kDisallow},
      {"crawl-delay", Key::kCrawlDelay}, {"crawldelay", Key::kCrawlDelay},
      {"sitemap", Key::kSitemap},      {"site-map", Key::kSitemap},
  };
  for (const Spelling& spelling : kSpellings) {
    if (EqualsIgnoreCase(key, spelling.text)) return spelling.key;
  }
  return Key::kUnknown;
}

struct KeyValue {
  std::string_view key;
  std::string_view value;
};

// "key: value # comment" -> {"key", "value"}; nullopt for blank and comment-only lines. Like
// Google's parser we also read a line with no colon when it is exactly two words
// ("Disallow /tmp"), a common slip; more words than that are too ambiguous to guess at.
std::optional<KeyValue> SplitKeyValue(std::string_view line) {
  line = Trim(line.substr(0, line.find('#')));
  std::size_t separator = line.find(':');
  if (separator != std::string_view::npos) {
    return KeyValue{Trim(line.substr(0, separator)), Trim(line.substr(separator + 1))};
  }
  separator = line.find_first_of(kBlanks);
  if (separator == std::string_view::npos) return std::nullopt;
  const std::string_view value = Trim(line.substr(separator));
  if (value.find_first_of(kBlanks) != std::string_view::npos) return std::nullopt;
  return KeyValue{line.substr(0, separator), value};
}

// Seconds, as a plain non-negative decimal ("10", "2.5"); anything else (negative, NaN, inf,
// "10s", "1,5") is not a delay we can trust, so it is ignored.
std::optional<double> ParseCrawlDelay(std::string_view value) {
  double seconds = 0;
  const char* const end = value.data() + value.size();
  const auto [stop, error] = std::from_chars(value.data(), end, seconds);
  if (error != std::errc() || stop != end || !std::isfinite(seconds) || seconds < 0) {
    return std::nullopt;
  }
  return seconds;
}

// The part of the body that is read: the first kMaxBodyBytes, less a line the cut falls inside
// (a half-read "Allow: /private/public-page" would allow all of /private/), less a UTF-8 BOM.
std::string_view ReadablePart(std::string_view body) {
  if (body.size() > kMaxBodyBytes) {
    const bool cut_at_line_end = kLineBreaks.find(body[kMaxBodyBytes]) != kLineBreaks.npos;
    body = body.substr(0, kMaxBodyBytes);
    if (!cut_at_line_end) {
      const std::size_t last_break = body.find_last_of(kLineBreaks);
      body = last_break == std::string_view::npos ? std::string_view()
                                                  : body.substr(0, last_break + 1);
    }
  }
  if (body.starts_with(kUtf8Bom)) body.remove_prefix(kUtf8Bom.size());
  return body;
}

// Calls `visit` with each line of `text`; lines end at CR, LF or CRLF.
template <typename Visit>
void ForEachLine(std::string_view text, Visit&& visit) {
  while (!text.empty()) {
    const std::size_t end = text.find_first_of(kLineBreaks);
    visit(text.substr(0, end));
    if (end == std::string_view::npos) return;
    const bool crlf = text[end] == '\r' && end + 1 < text.size() && text[end + 1] == '\n';
    text.remove_prefix(end + (crlf ? 2 : 1));
  }
}

}  // namespace

RobotsRules RobotsRules::Parse(std::string_view body, std::string_view product) {
  product = ProductToken(product);

  // Rules are gathered for both candidates as we go; which one applies is known only at the end.
  struct Candidate {
    bool seen = false;  // some group names it, even one with no rules (then everything is allowed)
    std::vector<Rule> rules;
    std::optional<double> crawl_delay;  // the first valid one
  };
  Candidate ours;      // groups naming our product token
  Candidate wildcard;  // "*" groups

  // Which candidates the current group's lines go to. Consecutive user-agent lines open one group;
  // only an allow/disallow line ends its agent list (RFC 9309 2.2.4: other records, sitemaps and
  // crawl-delay included, must not), so the next user-agent line after a rule opens a new group.
  bool group_is_ours = false;
  bool group_is_wildcard = false;
  bool group_has_rules = false;

  RobotsRules result;
  std::unordered_set<std::string_view> sitemaps_seen;  // views into `body`; a repeat is kept once
  ForEachLine(ReadablePart(body), [&](std::string_view line) {
    const std::optional<KeyValue> field = SplitKeyValue(line);
    if (!field) return;
    const Key key = ClassifyKey(field->key);
    if (key == Key::kUserAgent) {
      if (group_has_rules) group_is_ours = group_is_wildcard = group_has_rules = false;
      if (IsGlobalAgent(field->value)) {
        group_is_wildcard = wildcard.seen = true;
      } else if (!product.empty() && EqualsIgnoreCase(ProductToken(field->value), product)) {
        group_is_ours = ours.seen = true;
      }
    } else if (key == Key::kAllow || key == Key::kDisallow) {
      group_has_rules = true;
      // An empty pattern matches nothing (RFC 9309: "Disallow:" allows everything), but the line
      // still ends the agent list above.
      if (field->value.empty() || !(group_is_ours || group_is_wildcard)) return;
      const Rule rule{NormalizePattern(field->value), key == Key::kAllow};
      if (group_is_ours) ours.rules.push_back(rule);
      if (group_is_wildcard) wildcard.rules.push_back(rule);
    } else if (key == Key::kCrawlDelay) {
      const std::optional<double> delay = ParseCrawlDelay(field->value);
      if (group_is_ours && !ours.crawl_delay) ours.crawl_delay = delay;
      if (group_is_wildcard && !wildcard.crawl_delay) wildcard.crawl_delay = delay;
    } else if (key == Key::kSitemap) {
      if (!field->value.empty() && sitemaps_seen.insert(field->value).second) {
        result.sitemaps_.emplace_back(field->value);
      }
    }
  });

  // With neither candidate seen, `wildcard` is empty: no rules, everything allowed.
  Candidate& applicable = ours.seen ? ours : wildcard;
  result.rules_ = std::move(applicable.rules);
  result.crawl_delay_ = applicable.crawl_delay;
  // Longest pattern first, Allow before Disallow at equal length: the first rule that matches a
  // path is then the one RFC 9309 2.2.2 says decides.
  std::stable_sort(result.rules_.begin(), result.rules_.end(), [](const Rule& a, const Rule& b) {
    if (a.pattern.size() != b.pattern.size()) return a.pattern.size() > b.pattern.size();
    return a.allow && !b.allow;
  });
  return result;
}

RobotsRules RobotsRules::AllowAll() { return RobotsRules(); }

RobotsRules RobotsRules::DisallowAll() {
  RobotsRules rules;
  rules.disallow_all_ = true;
  return rules;
}

bool RobotsRules::Allows(std::string_view path) const {
  std::string normalised = NormalizeForMatch(path, Side::kPath);
  // Every path starts with '/'; an empty one ("http://host" has no path) is the root.
  if (!normalised.starts_with('/')) normalised.insert(normalised.begin(), '/');
  if (normalised == "/robots.txt") return true;
  if (disallow_all_) return false;
  for (const Rule& rule : rules_) {
    if (PatternMatches(rule.pattern, normalised)) return rule.allow;
  }
  return true;
}

}  // namespace mw
