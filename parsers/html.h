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
Document ExtractDocument(std::string_view html, const Url& base);

}  // namespace mw

#endif  // MIRRORWATCH_PARSERS_HTML_H_
