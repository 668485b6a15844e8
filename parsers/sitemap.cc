#include "parsers/sitemap.h"

#include <libxml/SAX2.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/xmlerror.h>
// next_in is then `const Bytef*`, so the body need not be cast to mutable.
#define ZLIB_CONST
#include <zlib.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <memory>
#include <new>
#include <string>
#include <vector>

namespace mw {
namespace {

constexpr std::size_t kChunkBytes = 64 * 1024;

constexpr std::string_view kWhitespace = " \t\n\r\f\v";

std::string_view Trim(std::string_view s) {
  const std::size_t first = s.find_first_not_of(kWhitespace);
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(kWhitespace) - first + 1);
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

constexpr std::string_view kUtf8Bom = "\xef\xbb\xbf";

// The text from its first non-blank character, past a UTF-8 byte-order mark. Blank lines before
// the XML declaration are a well-formedness error PHP-generated sitemaps commit all the time;
// skipping them keeps `error` for real problems.
std::string_view SkipBomAndBlanks(std::string_view text) {
  if (StartsWith(text, kUtf8Bom)) text.remove_prefix(kUtf8Bom.size());
  return text.substr(std::min(text.find_first_not_of(kWhitespace), text.size()));
}

int CountLines(std::string_view text) {
  return static_cast<int>(std::count(text.begin(), text.end(), '\n'));
}

// ---------------------------------------------------------------------------------------------
// Gzip

bool IsGzip(std::string_view body) { return StartsWith(body, "\x1f\x8b"); }

// Appends `n` bytes, never letting std::string's geometric growth reserve more than `limit`.
// REQUIRES: text.size() + n <= limit.
void AppendWithin(std::string& text, const Bytef* data, std::size_t n, std::size_t limit) {
  if (text.size() + n > text.capacity()) {
    text.reserve(std::min(limit, std::max(text.size() + n, 2 * text.capacity())));
  }
  text.append(reinterpret_cast<const char*>(data), n);
}

// Inflates every member of a gzip `body` (RFC 1952 allows several; gunzip concatenates them),
// keeping at most `limit` decoded bytes. Hitting the limit sets sitemap.truncated; damaged or
// unfinished data sets sitemap.error. Either way, what was decoded before is returned.
std::string Gunzip(std::string_view body, std::size_t limit, Sitemap& sitemap) {
  std::string text;
  z_stream stream{};
  if (inflateInit2(&stream, 16 + MAX_WBITS) != Z_OK) {
    sitemap.error = "gzip: zlib could not start";
    return text;
  }
  const std::unique_ptr<z_stream, decltype(&inflateEnd)> end_stream(&stream, inflateEnd);
  const auto* const begin = reinterpret_cast<const Bytef*>(body.data());
  stream.next_in = begin;
  std::vector<Bytef> out(kChunkBytes);
  for (;;) {
    if (stream.avail_in == 0) {  // avail_in is 32 bits: a larger body is fed in parts
      const std::size_t consumed = static_cast<std::size_t>(stream.next_in - begin);
      stream.avail_in = static_cast<uInt>(std::min<std::size_t>(body.size() - consumed, UINT_MAX));
    }
    stream.next_out = out.data();
    stream.avail_out = static_cast<uInt>(out.size());
    const int status = inflate(&stream, Z_NO_FLUSH);
    const std::size_t produced = out.size() - stream.avail_out;
    if (produced > limit - text.size()) {
      AppendWithin(text, out.data(), limit - text.size(), limit);
      sitemap.truncated = true;
      return text;
    }
    AppendWithin(text, out.data(), produced, limit);
    if (status == Z_STREAM_END) {
      const std::string_view rest = body.substr(static_cast<std::size_t>(stream.next_in - begin));
      // Bytes after the last member are ignored, as gunzip does.
      if (!IsGzip(rest) || inflateReset(&stream) != Z_OK) return text;
    } else if (status == Z_BUF_ERROR) {
      // No progress is possible with a fresh output buffer: the input ran out mid-stream.
      sitemap.error = "gzip: unexpected end of data";
      return text;
    } else if (status != Z_OK) {
      sitemap.error = std::string("gzip: ") + (stream.msg ? stream.msg : "damaged data");
      return text;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// XML

// What an open element means to us, by local name: prefixes and namespace URIs are ignored
// because sitemaps in the wild use the sitemaps.org namespace with or without a prefix, no
// namespace at all, or an old Google one.
enum class Element : std::uint8_t { kOther, kUrl, kSitemap, kLoc };

// Sitemaps nest four or five deep. libxml2 2.9's push parser has no depth limit of its own (its
// pull parser stops at 256), and each level costs it ~45 bytes: 48 MB of `<a>` took 750 MB.
constexpr std::size_t kMaxDepth = 256;

// Past this many well-formedness errors the file is not a sitemap with a few flaws, and every
// error costs libxml2 a formatted message (16 M undeclared entities took 5 s).
constexpr int kMaxErrors = 1000;

// libxml2 2.9 compares each attribute of a start tag with every earlier one (namespace
// declarations likewise): one 800 KB tag of 80,000 attributes takes a second, a 10 MB one hours.
// An attribute value can't hold '<' (XML 1.0 WFC: No < in Attribute Values), so all of a tag's
// attributes lie between its '<' and the next, each with its '='. Stopping where such a stretch
// holds more than this many '=' bounds the cost; text and comments are counted too, and no
// sitemap needs that many there either.
constexpr std::size_t kMaxEqualsBetweenTags = 256;

struct XmlState {
  XmlState(std::size_t max_urls, Sitemap& sitemap) : max_urls(max_urls), sitemap(sitemap) {}

  std::size_t max_urls;
  Sitemap& sitemap;
  xmlParserCtxtPtr parser = nullptr;
  int lines_skipped = 0;      // before the text libxml2 was given, so its line numbers are ours
  std::vector<Element> open;  // at most kMaxDepth
  std::vector<std::string>* loc_list = nullptr;  // where the <loc> being read goes
  std::string loc;
  int errors = 0;  // well-formedness errors so far
  int errors_before_loc = 0;
  bool out_of_memory = false;
};

XmlState& StateOf(void* user_data) { return *static_cast<XmlState*>(user_data); }

std::string_view View(const xmlChar* s) { return reinterpret_cast<const char*>(s); }

// Keeps the first error only: later ones are often consequences of it.
void Fail(XmlState& state, int line, std::string_view what) {
  if (!state.sitemap.error.empty()) return;
  state.sitemap.error =
      "XML line " + std::to_string(line + state.lines_skipped) + ": " + std::string(what);
}

// libxml2 is C: an exception must not unwind through it. Running out of memory is noted instead,
// ParseXml stops feeding the parser and reports it once libxml2 has returned.
template <typename Body>
void Guarded(XmlState& state, Body body) {
  try {
    body();
  } catch (const std::bad_alloc&) {
    state.out_of_memory = true;
  }
}

void OnStartElement(void* user_data, const xmlChar* local_name, const xmlChar* /*prefix*/,
                    const xmlChar* /*uri*/, int /*namespace_count*/, const xmlChar** /*namespaces*/,
                    int /*attribute_count*/, int /*defaulted_count*/,
                    const xmlChar** /*attributes*/) {
  XmlState& state = StateOf(user_data);
  Guarded(state, [&] {
    const std::string_view name = View(local_name);
    if (state.open.size() == kMaxDepth) {
      Fail(state, xmlSAX2GetLineNumber(state.parser),
           "elements nested deeper than " + std::to_string(kMaxDepth));
      xmlStopParser(state.parser);
      return;
    }
    if (state.open.empty() && name != "urlset" && name != "sitemapindex") {
      Fail(state, xmlSAX2GetLineNumber(state.parser),
           "the root element is <" + std::string(name) + ">, not <urlset> or <sitemapindex>");
    }
    const Element parent = state.open.empty() ? Element::kOther : state.open.back();
    Element element = Element::kOther;
    if (name == "url") {
      element = Element::kUrl;
    } else if (name == "sitemap") {
      element = Element::kSitemap;
    } else if (name == "loc" && (parent == Element::kUrl || parent == Element::kSitemap)) {
      // Only a direct child: <url><image:image><image:loc> names an image, not a page.
      element = Element::kLoc;
      state.loc.clear();
      state.loc_list = parent == Element::kUrl ? &state.sitemap.urls : &state.sitemap.sitemaps;
      state.errors_before_loc = state.errors;
    }
    state.open.push_back(element);
  });
}

// Keeps the text directly inside <loc>; text inside markup nested in it (never valid) is not.
void OnCharacters(void* user_data, const xmlChar* text, int length) {
  XmlState& state = StateOf(user_data);
  Guarded(state, [&] {
    if (!state.open.empty() && state.open.back() == Element::kLoc) {
      state.loc.append(reinterpret_cast<const char*>(text), static_cast<std::size_t>(length));
    }
  });
}

void TakeLoc(XmlState& state) {
  // XML_PARSE_RECOVER skipped or guessed at something inside this <loc> (e.g. a bare `&` that
  // should have been `&amp;`): the text is not what was written, so it is not a URL to fetch.
  if (state.errors != state.errors_before_loc) return;
  const std::string_view url = Trim(state.loc);
  if (url.empty()) return;
  Sitemap& sitemap = state.sitemap;
  if (sitemap.urls.size() + sitemap.sitemaps.size() >= state.max_urls) {
    sitemap.truncated = true;
    xmlStopParser(state.parser);
    return;
  }
  state.loc_list->emplace_back(url);
}

void OnEndElement(void* user_data, const xmlChar* /*local_name*/, const xmlChar* /*prefix*/,
                  const xmlChar* /*uri*/) {
  XmlState& state = StateOf(user_data);
  Guarded(state, [&] {
    // libxml2 ends the element it has open, whatever the end tag says, so the stacks agree.
    if (state.open.empty()) return;
    const Element element = state.open.back();
    state.open.pop_back();
    if (element == Element::kLoc) TakeLoc(state);
  });
}

// Never calls xmlStopParser: libxml2 may still hold pointers into the input it would free.
void OnError(void* user_data, xmlErrorPtr error) {
  XmlState& state = StateOf(user_data);
  // Namespace errors (an undeclared `image:` prefix is common) leave the markup well formed.
  if (error->level < XML_ERR_ERROR || error->domain == XML_FROM_NAMESPACE) return;
  ++state.errors;
  Guarded(state, [&] {
    std::string message(Trim(error->message ? error->message : ""));
    std::replace(message.begin(), message.end(), '\n', ' ');  // e.g. "...encoding !\nBytes: 0xE9"
    Fail(state, error->line, message);
  });
}

void InitLibxml2Once() {
  // xmlInitParser is not safe to race with itself; a function-local static runs it once.
  [[maybe_unused]] static const bool initialised = (xmlInitParser(), true);
}

// Only the callbacks we need: with no entityDecl, getEntity, externalSubset or resolveEntity,
// libxml2 never resolves a declared entity, so `&e;` can neither load a file or URL (XXE) nor
// expand (billion laughs); it is reported as undeclared. The five predefined entities and
// character references are decoded by the parser itself.
xmlSAXHandler SitemapSaxHandler() {
  xmlSAXHandler sax{};
  sax.initialized = XML_SAX2_MAGIC;
  sax.startElementNs = OnStartElement;
  sax.endElementNs = OnEndElement;
  sax.characters = OnCharacters;
  sax.cdataBlock = OnCharacters;
  sax.serror = OnError;  // per parser, so the process-wide error handlers stay untouched
  return sax;
}

void FreeParser(xmlParserCtxtPtr parser) {
  // A DTD's <!ENTITY> declarations make libxml2 build a document to hold them even in SAX mode
  // ("for expat compatibility"); xmlFreeParserCtxt leaves it to the caller. They are never looked
  // up: libxml2 only does that itself when the SAX user data is the parser context.
  xmlFreeDoc(parser->myDoc);
  xmlFreeParserCtxt(parser);
}

// RECOVER keeps going after a malformed spot (a bare `&` in one URL is common) so the URLs after
// it are not lost; TakeLoc drops the <loc> it damaged. IGNORE_ENC reads the file as UTF-8, as
// the protocol requires, whatever its declaration says: UTF-7 or EBCDIC would hide '<' and '='
// from EndBeforeAttributeFlood. Never NOENT (entity substitution), DTDLOAD or HUGE (lifts
// libxml2's size limits).
constexpr int kXmlOptions = XML_PARSE_RECOVER | XML_PARSE_IGNORE_ENC | XML_PARSE_NONET |
                            XML_PARSE_NOERROR | XML_PARSE_NOWARNING;

// Where the first stretch between two '<' with more than kMaxEqualsBetweenTags '=' begins, or
// text.size().
std::size_t EndBeforeAttributeFlood(std::string_view text) {
  std::size_t stretch_begin = 0;
  std::size_t equals = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '<') {
      stretch_begin = i;
      equals = 0;
    } else if (text[i] == '=' && ++equals > kMaxEqualsBetweenTags) {
      return stretch_begin;
    }
  }
  return text.size();
}

bool KeepParsing(const XmlState& state) {
  // XML_PARSER_EOF: libxml2 has stopped, on our xmlStopParser or on one of its own limits.
  return state.parser->instate != XML_PARSER_EOF && state.errors <= kMaxErrors &&
         !state.out_of_memory;
}

// `xml` starts with '<'; `lines_skipped` newlines came before it. `cut`: the text stops before
// the document does (a limit, or damaged gzip), so reaching its end is not the document's error.
void ParseXml(std::string_view xml, int lines_skipped, bool cut, std::size_t max_urls,
              Sitemap& sitemap) {
  InitLibxml2Once();
  const std::size_t parsable = EndBeforeAttributeFlood(xml);
  const bool flooded = parsable < xml.size();
  xml = xml.substr(0, parsable);
  XmlState state{max_urls, sitemap};
  state.lines_skipped = lines_skipped;
  xmlSAXHandler sax = SitemapSaxHandler();
  // The push parser, fed in chunks, takes any size (xmlCreateMemoryParserCtxt takes an int).
  const std::unique_ptr<xmlParserCtxt, decltype(&FreeParser)> parser(
      xmlCreatePushParserCtxt(&sax, &state, nullptr, 0, nullptr), FreeParser);
  if (parser == nullptr) throw std::bad_alloc();
  state.parser = parser.get();
  xmlCtxtUseOptions(parser.get(), kXmlOptions);
  // Otherwise the parser guesses from the first bytes and may pick UTF-16 (see kXmlOptions).
  xmlSwitchEncoding(parser.get(), XML_CHAR_ENCODING_UTF8);
  for (std::size_t at = 0; at < xml.size() && KeepParsing(state);) {
    const std::size_t n = std::min(kChunkBytes, xml.size() - at);
    xmlParseChunk(parser.get(), xml.data() + at, static_cast<int>(n), /*terminate=*/0);
    at += n;
  }
  if (state.out_of_memory) throw std::bad_alloc();
  if (!KeepParsing(state)) return;
  if (flooded) {
    Fail(state, CountLines(xml) + 1,
         "more than " + std::to_string(kMaxEqualsBetweenTags) +
             " '=' before the next '<' (too many attributes for one tag?)");
  } else if (!cut) {
    // Only this call reports an element left open at the end; without it, every element the
    // parser completed has still been passed to the callbacks.
    xmlParseChunk(parser.get(), nullptr, 0, /*terminate=*/1);
  }
}

// ---------------------------------------------------------------------------------------------
// Text (the protocol requires UTF-8)

bool StartsWithIgnoringCase(std::string_view s, std::string_view lower_prefix) {
  const auto lower = [](char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  };
  return s.size() >= lower_prefix.size() &&
         std::equal(lower_prefix.begin(), lower_prefix.end(), s.begin(),
                    [&](char p, char c) { return p == lower(c); });
}

// Schemes are case-insensitive (RFC 3986 3.1); the line is still kept as written.
bool IsHttpUrl(std::string_view line) {
  return StartsWithIgnoringCase(line, "http://") || StartsWithIgnoringCase(line, "https://");
}

void ParseText(std::string_view text, bool cut, std::size_t max_urls, Sitemap& sitemap) {
  if (StartsWith(text, kUtf8Bom)) text.remove_prefix(kUtf8Bom.size());
  // After a cut the last line may be part of a URL; a line is only known whole once its
  // newline is seen.
  if (cut) {
    const std::size_t last_newline = text.rfind('\n');
    text = last_newline == std::string_view::npos ? std::string_view()
                                                  : text.substr(0, last_newline + 1);
  }
  while (!text.empty()) {
    const std::size_t end = std::min(text.find('\n'), text.size());
    const std::string_view line = Trim(text.substr(0, end));  // also strips CRLF's CR
    text.remove_prefix(std::min(end + 1, text.size()));
    if (!IsHttpUrl(line)) continue;
    if (sitemap.urls.size() >= max_urls) {
      sitemap.truncated = true;
      return;
    }
    sitemap.urls.emplace_back(line);
  }
}

}  // namespace

Sitemap ParseSitemap(std::string_view body, const SitemapLimits& limits) {
  Sitemap sitemap;
  try {
    std::string inflated;
    std::string_view text = body;
    if (IsGzip(body)) {
      inflated = Gunzip(body, limits.max_decoded_bytes, sitemap);
      text = inflated;
    } else if (body.size() > limits.max_decoded_bytes) {
      // The protocol's size cap is on the uncompressed file, so it applies here too.
      text = body.substr(0, limits.max_decoded_bytes);
      sitemap.truncated = true;
    }
    const bool cut = sitemap.truncated || !sitemap.error.empty();
    // XML or not is decided on the first character.
    const std::string_view xml = SkipBomAndBlanks(text);
    if (StartsWith(xml, "<")) {
      const int lines_skipped = CountLines(text.substr(0, text.size() - xml.size()));
      ParseXml(xml, lines_skipped, cut, limits.max_urls, sitemap);
    } else {
      ParseText(text, cut, limits.max_urls, sitemap);
    }
  } catch (const std::bad_alloc&) {
    sitemap.error = "out of memory";  // fits std::string's inline buffer: no allocation
  }
  return sitemap;
}

}  // namespace mw
