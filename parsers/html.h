// HTML field extraction with Gumbo.
#ifndef MIRRORWATCH_PARSERS_HTML_H_
#define MIRRORWATCH_PARSERS_HTML_H_

#include <string_view>

#include "parsers/document.h"
#include "parsers/url.h"

namespace mw {

// Extracts the fields that signatures match against, and the outgoing links.
// `base` is the URL the body was fetched from (after redirects); <base href> overrides it.
// Fields kUrl and kHost are filled from `base` (the fetched URL, not <base href>).
// REQUIRES: `html` is UTF-8 (see charset.h). Never throws; thread-safe (no shared state).
// Invalid UTF-8 does no harm (it comes out as U+FFFD). Memory: the parse tree lives in an arena
// of roughly 13-16 bytes per input byte until the call returns, so callers cap page size.
// Time is linear in practice but Gumbo's tree builder is quadratic in nesting depth: 20,000
// nested <div>s take ~0.4 s, 100,000 take ~12 s.
Document ExtractDocument(std::string_view html, const Url& base);

}  // namespace mw

#endif  // MIRRORWATCH_PARSERS_HTML_H_
