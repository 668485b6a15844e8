#include "parsers/url.h"

#include <curl/curl.h>
#include <unicode/uidna.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "parsers/url_chars.h"

namespace mw {
namespace {

using namespace url_chars;  // NOLINT(build/namespaces): the shared URL character helpers

struct CurlUrlDeleter {
  void operator()(CURLU* handle) const { curl_url_cleanup(handle); }
};
using CurlUrlPtr = std::unique_ptr<CURLU, CurlUrlDeleter>;

struct CurlStringDeleter {
  void operator()(char* text) const { curl_free(text); }
};
using CurlString = std::unique_ptr<char, CurlStringDeleter>;

// One spelling per resource: unreserved escapes decoded, other escapes upper-case, raw bytes
// that need it escaped, and a '%' that starts no escape written as %25.
std::string NormalizeEscapes(std::string_view in) {
  std::string out;
  out.reserve(in.size() + 8);
  for (std::size_t i = 0; i < in.size(); ++i) {
    const auto c = static_cast<unsigned char>(in[i]);
    if (c == '%') {
      const int hi = i + 2 < in.size() ? HexValue(static_cast<unsigned char>(in[i + 1])) : -1;
      const int lo = hi >= 0 ? HexValue(static_cast<unsigned char>(in[i + 2])) : -1;
      if (lo < 0) {
        out.append("%25");
        continue;
      }
      const auto decoded = static_cast<unsigned char>(hi * 16 + lo);
      if (IsUnreserved(decoded)) {
        out.push_back(static_cast<char>(decoded));
      } else {
        AppendEscaped(decoded, &out);
      }
      i += 2;
    } else if (NeedsEscaping(c)) {
      AppendEscaped(c, &out);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

// RFC 3986 section 5.2.4. curl already removes literal dot-segments, but "%2e%2e" only becomes
// ".." after NormalizeEscapes, so this runs again on the normalised path.
std::string RemoveDotSegments(std::string_view path) {
  std::vector<std::string_view> segments;
  bool trailing_slash = false;
  std::size_t start = 1;  // path[0] is '/'
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    const std::string_view segment = path.substr(start, end - start);
    const bool last = end == path.size();
    if (segment == "." || segment == "..") {
      if (segment == ".." && !segments.empty()) segments.pop_back();
      trailing_slash = last;
    } else {
      segments.push_back(segment);
    }
    start = end + 1;
  }
  std::string out;
  out.reserve(path.size());
  for (std::string_view segment : segments) {
    out.push_back('/');
    out.append(segment);
  }
  if (trailing_slash || segments.empty()) out.push_back('/');
  return out;
}

bool HasDotSegment(std::string_view path) {
  for (std::size_t i = path.find("/."); i != std::string_view::npos; i = path.find("/.", i + 1)) {
    const std::string_view rest = path.substr(i + 2);
    if (rest.empty() || rest[0] == '/' ||
        (rest[0] == '.' && (rest.size() == 1 || rest[1] == '/'))) {
      return true;
    }
  }
  return false;
}

// UTS #46 with the WHATWG URL standard's settings. The ICU object is immutable once opened,
// so one instance serves every thread.
const UIDNA* Idna() {
  static const UIDNA* const idna = [] {
    UErrorCode status = U_ZERO_ERROR;
    UIDNA* created = uidna_openUTS46(
        UIDNA_CHECK_BIDI | UIDNA_CHECK_CONTEXTJ | UIDNA_NONTRANSITIONAL_TO_ASCII, &status);
    return U_SUCCESS(status) ? created : nullptr;
  }();
  return idna;
}

// Host as curl returns it (percent-decoded, case kept) -> lower-case ASCII (punycode for IDNs).
// curl could do the punycode itself (CURLU_PUNYCODE) but goes through libidn2's locale-dependent
// entry point, which fails for every non-ASCII host under the "C" locale a daemon runs in.
std::optional<std::string> NormalizeHost(std::string_view host) {
  bool ascii = true;
  for (char c : host) ascii &= static_cast<unsigned char>(c) < 0x80;
  if (ascii) {
    std::string out(host);
    for (char& c : out) c = AsciiLower(c);
    return out;
  }
  const UIDNA* idna = Idna();
  if (idna == nullptr || host.size() > 1024) return std::nullopt;
  char buffer[1024];
  UIDNAInfo info = UIDNA_INFO_INITIALIZER;
  UErrorCode status = U_ZERO_ERROR;
  const int32_t length = uidna_nameToASCII_UTF8(
      idna, host.data(), static_cast<int32_t>(host.size()), buffer, sizeof(buffer), &info, &status);
  // The URL standard does not check hyphens or DNS lengths (CheckHyphens, VerifyDnsLength off).
  constexpr uint32_t kIgnored = UIDNA_ERROR_LEADING_HYPHEN | UIDNA_ERROR_TRAILING_HYPHEN |
                                UIDNA_ERROR_HYPHEN_3_4 | UIDNA_ERROR_EMPTY_LABEL |
                                UIDNA_ERROR_LABEL_TOO_LONG | UIDNA_ERROR_DOMAIN_NAME_TOO_LONG;
  if (U_FAILURE(status) || (info.errors & ~kIgnored) != 0 || length <= 0) return std::nullopt;
  std::string out(buffer, static_cast<std::size_t>(length));
  for (char& c : out) c = AsciiLower(c);
  return out;
}

// Whether a normalised host may stand in a URL: no forbidden domain code point of the URL
// standard (controls, space, DEL, "#%/:<>?@[\\]^|"), checked after the UTS #46 mapping, which
// can produce one (U+FF0F FULLWIDTH SOLIDUS maps to '/'). IPv6 literals come bracketed and
// checked by curl. Found by fuzz/url_fuzzer.cc (fuzz/regressions/url).
bool IsValidHost(std::string_view host) {
  if (host.empty()) return false;
  if (host.front() == '[') return host.size() > 2 && host.back() == ']';
  for (const unsigned char c : host) {
    if (c <= 0x20 || c >= 0x7f) return false;
    switch (c) {
      case '#': case '%': case '/': case ':': case '<': case '>': case '?': case '@':
      case '[': case '\\': case ']': case '^': case '|':
        return false;
      default:
        break;
    }
  }
  return true;
}

int DefaultPort(std::string_view scheme) { return scheme == "https" ? 443 : 80; }

CurlString GetPart(CURLU* handle, CURLUPart part, unsigned int flags) {
  char* text = nullptr;
  if (curl_url_get(handle, part, &text, flags) != CURLUE_OK) {
    curl_free(text);
    return nullptr;
  }
  return CurlString(text);
}

// Reads the parts curl parsed and builds the normalised Url from them.
std::optional<Url> UrlFromHandle(CURLU* handle) {
  Url url;
  CurlString scheme = GetPart(handle, CURLUPART_SCHEME, 0);
  if (!scheme) return std::nullopt;
  url.scheme = scheme.get();
  for (char& c : url.scheme) c = AsciiLower(c);
  if (url.scheme != "http" && url.scheme != "https") return std::nullopt;

  CurlString host = GetPart(handle, CURLUPART_HOST, 0);
  if (!host || *host == '\0') return std::nullopt;
  std::optional<std::string> normalized_host = NormalizeHost(host.get());
  if (!normalized_host || !IsValidHost(*normalized_host)) return std::nullopt;
  url.host = std::move(*normalized_host);

  CurlString port = GetPart(handle, CURLUPART_PORT, CURLU_DEFAULT_PORT);
  if (!port) return std::nullopt;
  url.port = 0;
  for (const char* p = port.get(); *p != '\0'; ++p) {
    if (!IsAsciiDigit(static_cast<unsigned char>(*p)) || url.port > 65535) return std::nullopt;
    url.port = url.port * 10 + (*p - '0');
  }
  if (url.port <= 0 || url.port > 65535) return std::nullopt;

  CurlString path = GetPart(handle, CURLUPART_PATH, 0);
  url.path = NormalizeEscapes(path ? std::string_view(path.get()) : std::string_view());
  if (url.path.empty() || url.path[0] != '/') url.path.insert(url.path.begin(), '/');
  if (HasDotSegment(url.path)) url.path = RemoveDotSegments(url.path);

  // Absent (CURLUE_NO_QUERY) and empty ("?") queries both normalise to none.
  CurlString query = GetPart(handle, CURLUPART_QUERY, 0);
  if (query) url.query = NormalizeEscapes(query.get());

  // User name and password are left out on purpose: they do not name a different resource,
  // and specs end up in logs and reports.
  url.spec.reserve(url.scheme.size() + url.host.size() + url.path.size() + url.query.size() + 16);
  url.spec.append(url.scheme).append("://").append(url.Authority()).append(url.path);
  if (!url.query.empty()) url.spec.append("?").append(url.query);
  return url;
}

// Prepares an href for curl the way browsers read one: surrounding whitespace and controls
// trimmed, tabs and newlines inside removed, and the fragment dropped (we never keep one, and
// curl 7.88 resolves a bare "#frag" against the base's directory instead of the base itself).
// Other controls and spaces are escaped, since curl rejects them raw and C strings stop at NUL.
std::string CleanReference(std::string_view ref) {
  while (!ref.empty() && static_cast<unsigned char>(ref.front()) <= 0x20) ref.remove_prefix(1);
  while (!ref.empty() && static_cast<unsigned char>(ref.back()) <= 0x20) ref.remove_suffix(1);
  std::string out;
  out.reserve(ref.size());
  for (char ch : ref) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '#') break;
    if (c == '\t' || c == '\n' || c == '\r') continue;
    if (c <= 0x20 || c == 0x7F) {
      AppendEscaped(c, &out);
    } else {
      out.push_back(ch);
    }
  }
  return out;
}

enum class RefScheme { kNone, kHttp, kOther };

// Classifies the scheme of a cleaned reference (RFC 3986: ALPHA *( ALPHA / DIGIT / "+" / "-" /
// "." ) ":"), so javascript:, mailto:, data: and friends are rejected without calling curl.
RefScheme ClassifyScheme(std::string_view ref) {
  if (ref.empty() || !IsAsciiAlpha(static_cast<unsigned char>(ref[0]))) return RefScheme::kNone;
  std::size_t i = 1;
  while (i < ref.size()) {
    const auto c = static_cast<unsigned char>(ref[i]);
    if (!(IsAsciiAlpha(c) || IsAsciiDigit(c) || c == '+' || c == '-' || c == '.')) break;
    ++i;
  }
  if (i == ref.size() || ref[i] != ':') return RefScheme::kNone;
  std::string scheme(ref.substr(0, i));
  for (char& c : scheme) c = AsciiLower(c);
  return (scheme == "http" || scheme == "https") ? RefScheme::kHttp : RefScheme::kOther;
}

// Parses a cleaned reference (resolved against `base_spec` unless that is empty) with curl, and
// normalises the result.
std::optional<Url> ParseCleaned(const std::string& base_spec, const std::string& cleaned) {
  if (cleaned.empty() || ClassifyScheme(cleaned) == RefScheme::kOther) return std::nullopt;
  CurlUrlPtr handle(curl_url());
  if (!handle) return std::nullopt;
  if (!base_spec.empty() &&
      curl_url_set(handle.get(), CURLUPART_URL, base_spec.c_str(), 0) != CURLUE_OK) {
    return std::nullopt;
  }
  if (curl_url_set(handle.get(), CURLUPART_URL, cleaned.c_str(), 0) != CURLUE_OK) {
    return std::nullopt;
  }
  return UrlFromHandle(handle.get());
}

// Characters that normalisation leaves as they are and that mean nothing to the resolver
// beyond what ResolvePlain handles: no '%', no backslash, nothing that needs escaping.
bool IsPlainChar(unsigned char c) {
  return IsAsciiAlpha(c) || IsAsciiDigit(c) ||
         std::string_view("-._~!$&'()*+,;=:@/").find(static_cast<char>(c)) !=
             std::string_view::npos;
}

// Resolves the references most links are -- root-relative, relative or same-origin absolute,
// in plain characters and without dot-segments -- without curl, which costs ~20,000
// instructions a link (two full parses and five allocating gets) and dominates extraction on
// link-heavy pages. Returns nullopt whenever curl must decide; for everything it accepts the
// result is the one curl's path would give (url_test checks the two against each other).
std::optional<Url> ResolvePlain(const Url& base, std::string_view ref) {
  if (base.spec.empty() || base.path.empty() || base.path[0] != '/') return std::nullopt;
  enum class Kind { kRoot, kRelative, kQueryOnly } kind;
  const std::string origin = base.scheme + "://" + base.Authority();
  if (!base.spec.starts_with(origin)) return std::nullopt;  // not a Url we built
  if (ref.starts_with(origin) &&
      (ref.size() == origin.size() || ref[origin.size()] == '/' || ref[origin.size()] == '?')) {
    kind = Kind::kRoot;
    ref.remove_prefix(origin.size());
  } else if (ref.starts_with("//")) {
    return std::nullopt;
  } else if (ref.starts_with('/')) {
    kind = Kind::kRoot;
  } else if (ref.starts_with('?')) {
    kind = Kind::kQueryOnly;
  } else {
    kind = Kind::kRelative;
  }
  const std::size_t question = ref.find('?');
  const std::string_view path_part = ref.substr(0, question);
  const std::string_view query_part =
      question == std::string_view::npos ? std::string_view() : ref.substr(question + 1);
  for (char c : path_part) {
    if (!IsPlainChar(static_cast<unsigned char>(c))) return std::nullopt;
  }
  for (char c : query_part) {
    if (!IsPlainChar(static_cast<unsigned char>(c)) && c != '?') return std::nullopt;
  }
  // A colon in a relative reference's first segment would make it a scheme to some parsers.
  if (kind == Kind::kRelative &&
      path_part.substr(0, path_part.find('/')).find(':') != std::string_view::npos) {
    return std::nullopt;
  }

  Url url;
  switch (kind) {
    case Kind::kRoot:
      url.path = path_part.empty() ? std::string("/") : std::string(path_part);
      break;
    case Kind::kQueryOnly:
      url.path = base.path;
      break;
    case Kind::kRelative:
      url.path.reserve(base.path.size() + path_part.size());
      url.path.append(base.path, 0, base.path.rfind('/') + 1).append(path_part);
      break;
  }
  if (HasDotSegment(url.path)) return std::nullopt;
  url.scheme = base.scheme;
  url.host = base.host;
  url.port = base.port;
  url.query = query_part;
  url.spec.reserve(origin.size() + url.path.size() + url.query.size() + 1);
  url.spec.append(origin).append(url.path);
  if (!url.query.empty()) url.spec.append("?").append(url.query);
  return url;
}

}  // namespace

std::string Url::Authority() const {
  if (port == 0 || port == DefaultPort(scheme)) return host;
  return host + ":" + std::to_string(port);
}

std::optional<Url> ParseUrl(std::string_view text) {
  // Without a base curl rejects relative references itself (no scheme, no guessing flags).
  return ParseCleaned(std::string(), CleanReference(text));
}

std::optional<Url> ResolveUrl(const Url& base, std::string_view ref) {
  // An empty or fragment-only reference names the base document itself (RFC 3986 5.2.2).
  const std::string cleaned = CleanReference(ref);
  if (cleaned.empty()) {
    if (base.spec.empty()) return std::nullopt;
    return base;
  }
  if (std::optional<Url> plain = ResolvePlain(base, cleaned)) return plain;
  return ParseCleaned(base.spec, cleaned);
}

}  // namespace mw
