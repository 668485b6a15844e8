// URL parsing, resolution and normalisation, built on libcurl's URL API (curl_url).
#ifndef MIRRORWATCH_PARSERS_URL_H_
#define MIRRORWATCH_PARSERS_URL_H_

#include <optional>
#include <string>
#include <string_view>

namespace mw {

// An absolute, normalised http(s) URL. Two URLs that name the same resource after
// normalisation have equal `spec`, so `spec` is the de-duplication key.
//
// Normalisation: scheme and host lower-cased; default port (80/443) dropped; fragment dropped;
// dot-segments removed; an empty path becomes "/"; percent-encoding normalised (unreserved
// characters decoded, other escapes upper-case hex, raw non-ASCII bytes (IRIs) and spaces
// percent-encoded as UTF-8). Also: an empty query ("?") is dropped, user name and password are
// dropped, and internationalised host names become punycode (UTS #46, as browsers do).
struct Url {
  std::string spec;    // "http://host.test/a/b?q=1"
  std::string scheme;  // "http" or "https"
  std::string host;    // lower-case; IPv6 literals keep their brackets
  int port = 0;        // effective port (80 or 443 when none was given)
  std::string path;    // "/a/b" (always starts with '/')
  std::string query;   // "q=1" without '?', empty when none

  // "host" or "host:port" when the port is not the scheme's default; the politeness key.
  std::string Authority() const;
};

// Parses an absolute URL and normalises it. Returns nullopt for anything that is not a valid
// absolute http:// or https:// URL (other schemes, relative references, garbage).
// Never throws; thread-safe.
std::optional<Url> ParseUrl(std::string_view text);

// Resolves a reference as found in an href (relative, root-relative, protocol-relative or
// absolute; surrounding whitespace ignored, tabs and newlines inside removed, as browsers do)
// against `base` per RFC 3986, then normalises. An empty or fragment-only reference yields
// `base` itself; with an empty `base` only absolute references resolve.
// Returns nullopt when the result is not http(s) (javascript:, mailto:, data:, ftp: ...) or invalid.
// Never throws; thread-safe.
std::optional<Url> ResolveUrl(const Url& base, std::string_view ref);

}  // namespace mw

#endif  // MIRRORWATCH_PARSERS_URL_H_
