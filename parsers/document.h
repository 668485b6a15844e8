// What the parse stage hands to the match stage: a page's text, split into the fields where
// branding lives, plus its outgoing links.
#ifndef MIRRORWATCH_PARSERS_DOCUMENT_H_
#define MIRRORWATCH_PARSERS_DOCUMENT_H_

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mw {

// The parts of a page a signature rule can look at. Where a name appears is what separates a
// site branded as an outlet (title, masthead, logo, footer) from a report that mentions it (body).
enum class Field : int {
  kUrl = 0,   // the page URL (final, after redirects)
  kHost,      // the host name
  kTitle,     // <title>
  kSiteName,  // og:site_name, application-name, twitter:site
  kMeta,      // meta description / keywords / og:title / og:description
  kHeadings,  // h1-h3 text
  kMasthead,  // <header>, elements whose id/class mention header/masthead/brand/logo/banner
  kFooter,    // <footer>, elements whose id/class mention footer/copyright
  kLogo,      // img alt text and src file names (one per line: "alt\nfile.png")
  kLinks,     // link hrefs and link texts (one per line)
  kBody,      // visible text of the whole body (no script/style/noscript/template)
  kQuote,     // text inside blockquote and q (reporting often quotes)
};
inline constexpr std::size_t kFieldCount = 12;

// Stable lower-case names used in signature files and findings ("site_name", "masthead" ...).
std::string_view FieldName(Field field);
// Inverse of FieldName; nullopt for an unknown name.
std::optional<Field> FieldFromName(std::string_view name);

struct Link {
  std::string url;   // absolute, normalised (Url::spec); only http(s) links are kept
  std::string text;  // visible text of the <a>, whitespace collapsed
};

struct Document {
  // Text per field, indexed by Field. Whitespace is collapsed; separate elements are joined by
  // '\n'. All UTF-8, HTML entities decoded.
  std::array<std::string, kFieldCount> fields;
  std::vector<Link> links;  // <a href> and <area href>, in document order, duplicates kept
  std::string canonical;    // <link rel=canonical>, resolved; empty when absent
  std::string base_href;    // the effective base URL links were resolved against

  const std::string& text(Field f) const { return fields[static_cast<std::size_t>(f)]; }
  std::string& text(Field f) { return fields[static_cast<std::size_t>(f)]; }
};

}  // namespace mw

#endif  // MIRRORWATCH_PARSERS_DOCUMENT_H_
