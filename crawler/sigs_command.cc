#include "crawler/sigs_command.h"

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <cctype>
#include <cstdarg>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "crawler/address_guard.h"
#include "crawler/fetch_pool.h"
#include "parsers/charset.h"
#include "parsers/document.h"
#include "parsers/html.h"
#include "parsers/url.h"
#include "signatures/signature_set.h"

namespace mw {
namespace {

namespace fs = std::filesystem;
// Keys stay in the order written, so a report reads top-down like the text output.
using Json = nlohmann::ordered_json;

constexpr int kExitOk = 0;
constexpr int kExitCheckFailed = 1;
constexpr int kExitUsage = 2;

// =============================================================================================
// Options: one table feeds parsing and --help, as crawler/options.cc does for crawl.

struct SigsOptions {
  std::string command;                // check | test | eval
  std::vector<std::string> operands;  // signature files, pages
  bool help = false;
  bool json = false;
  bool strict = false;
  std::string url;                         // test: the URL a PAGE file is scored as
  std::string content_type = "text/html";  // test: the Content-Type a PAGE file is decoded as
  std::vector<std::string> connect_to;
  std::vector<std::string> allow_net;
  std::string user_agent = "mirrorwatch/" MW_VERSION " (sigs test)";
  long timeout_ms = 30'000;
  std::string labels;
  std::string pages;
  std::string crawl;
  std::string compare;
  std::string write_findings;
  long list = 20;  // entries per list of false positives and misses; 0 = all
};

struct SigsOptionSpec {
  std::string_view name;      // without "--"
  std::string_view value;     // placeholder for --help; empty for a flag
  std::string_view commands;  // the subcommands that take it ("check test eval")
  std::string_view help;
  std::function<std::string(SigsOptions&, std::string_view)> set;
};

std::string ParseLong(std::string_view text, long min, long* out) {
  long value = 0;
  std::size_t used = 0;
  try {
    value = std::stol(std::string(text), &used);
  } catch (const std::exception&) {
    return "not a whole number";
  }
  if (used != text.size()) return "not a whole number";
  if (value < min) return "must be at least " + std::to_string(min);
  *out = value;
  return "";
}

const std::vector<SigsOptionSpec>& SigsOptionSpecs() {
  static const std::vector<SigsOptionSpec> specs = {
      {"json", "", "check test eval",
       "machine-readable output (test: one JSON document per line, one per page)",
       [](SigsOptions& o, std::string_view) {
         o.json = true;
         return std::string();
       }},
      {"strict", "", "check", "warnings fail the check too (exit status 1)",
       [](SigsOptions& o, std::string_view) {
         o.strict = true;
         return std::string();
       }},
      {"url", "URL", "test",
       "the URL a PAGE file is scored as: its url and host fields and the base of its links "
       "(default: http://local.test/FILE-NAME)",
       [](SigsOptions& o, std::string_view v) {
         if (!ParseUrl(v)) return std::string("not an absolute http(s) URL");
         o.url = std::string(v);
         return std::string();
       }},
      {"content-type", "TYPE", "test",
       "the Content-Type a PAGE file is decoded as; its charset parameter counts as an HTTP "
       "header's would (default: text/html)",
       [](SigsOptions& o, std::string_view v) {
         o.content_type = std::string(v);
         return std::string();
       }},
      {"connect-to", "HOST:PORT:CHOST:CPORT", "test",
       "fetch URL pages from CHOST:CPORT instead of HOST:PORT, as crawl does; repeatable",
       [](SigsOptions& o, std::string_view v) {
         o.connect_to.emplace_back(v);
         return std::string();
       }},
      {"allow-net", "CIDR", "test",
       "let the SSRF guard connect to this network (non-global addresses are refused by "
       "default, as in crawl); repeatable",
       [](SigsOptions& o, std::string_view v) {
         Cidr cidr;
         if (std::string error = Cidr::Parse(v, &cidr); !error.empty()) return error;
         o.allow_net.emplace_back(v);
         return std::string();
       }},
      {"user-agent", "TEXT", "test", "User-Agent request header for URL pages",
       [](SigsOptions& o, std::string_view v) {
         o.user_agent = std::string(v);
         return std::string();
       }},
      {"timeout-ms", "N", "test", "give up fetching a URL page after N ms (default: 30000)",
       [](SigsOptions& o, std::string_view v) { return ParseLong(v, 1, &o.timeout_ms); }},
      {"labels", "FILE", "eval",
       "labels.json as the corpus writes it (default: DIR/labels.json when --pages names a "
       "corpus root)",
       [](SigsOptions& o, std::string_view v) {
         o.labels = std::string(v);
         return std::string();
       }},
      {"pages", "DIR", "eval",
       "score every page under DIR offline: DIR/<host>/<path> as the corpus's sites/ "
       "(index.html is the folder's URL, _q/p/q.html is /p?q), or a corpus root holding sites/; "
       "charsets.tsv beside or inside it gives the served charsets",
       [](SigsOptions& o, std::string_view v) {
         o.pages = std::string(v);
         return std::string();
       }},
      {"crawl", "DIR", "eval",
       "evaluate a crawl's output as it is: DIR/findings.jsonl are the verdicts (not re-scored) "
       "and DIR/pages.jsonl, when present, tells which misses were never fetched",
       [](SigsOptions& o, std::string_view v) {
         o.crawl = std::string(v);
         return std::string();
       }},
      {"compare", "OLD.yaml", "eval",
       "also score the pages with OLD.yaml and show the per-outlet deltas and the hosts and "
       "pages whose verdict changed (--pages only)",
       [](SigsOptions& o, std::string_view v) {
         o.compare = std::string(v);
         return std::string();
       }},
      {"write-findings", "FILE", "eval",
       "also write FILE's verdicts as findings.jsonl lines, as a crawl would (for score.py); "
       "--pages only",
       [](SigsOptions& o, std::string_view v) {
         o.write_findings = std::string(v);
         return std::string();
       }},
      {"list", "N", "eval",
       "show at most N entries of each list of false positives, misses and changes; 0 shows "
       "all (default: 20; --json always has all)",
       [](SigsOptions& o, std::string_view v) { return ParseLong(v, 0, &o.list); }},
  };
  return specs;
}

bool TakesOption(const SigsOptionSpec& spec, std::string_view command) {
  std::string_view rest = spec.commands;
  while (!rest.empty()) {
    const std::size_t space = rest.find(' ');
    if (rest.substr(0, space) == command) return true;
    rest = space == std::string_view::npos ? "" : rest.substr(space + 1);
  }
  return false;
}

constexpr std::string_view kSynopsis =
    "usage: mirrorwatch sigs check [--strict] [--json] FILE...\n"
    "       mirrorwatch sigs test [OPTIONS] FILE PAGE.html|URL...\n"
    "       mirrorwatch sigs eval [OPTIONS] FILE --labels labels.json --pages DIR|--crawl DIR\n";

std::string_view CommandSummary(std::string_view command) {
  if (command == "check") {
    return "Loads and compiles each signature file and prints every error and warning as\n"
           "file:line:col: error|warning: message, then one line per file: its outlets, rules\n"
           "and sha256. Exit status 1 when a file has an error (--strict: or a warning).\n";
  }
  if (command == "test") {
    return "Explains the verdict on each page: every rule that fired (field, weight, count,\n"
           "snippet), each outlet's score against its threshold, and whether it is flagged.\n"
           "A PAGE that is a file is read from disk; one starting with http:// or https:// is\n"
           "fetched (redirects followed). Exit status 0 whatever the verdict.\n";
  }
  return "Scores a labelled set of pages (--pages) or takes a crawl's findings (--crawl) and\n"
         "reports precision, recall and F1 per outlet at host and page level, exactly as\n"
         "corpus/score.py defines them, then the false-positive hosts and pages and the missed\n"
         "hosts and pages with the rules responsible.\n";
}

// `text` as lines of at most `width` characters, each starting with `indent`.
std::string Wrap(std::string_view text, std::string_view indent, std::size_t width = 80) {
  std::string out, line(indent);
  while (!text.empty()) {
    const std::size_t space = text.find(' ');
    const std::string_view word = text.substr(0, space);
    text = space == std::string_view::npos ? "" : text.substr(space + 1);
    if (line.size() > indent.size() && line.size() + 1 + word.size() > width) {
      out += line + "\n";
      line = indent;
    }
    if (line.size() > indent.size()) line += ' ';
    line += word;
  }
  return out + line + "\n";
}

std::string SigsHelp(std::string_view command) {
  std::ostringstream out;
  out << kSynopsis << "\n";
  if (command.empty()) {
    out << "Operator tools for signature files (docs/operators.md).\n\n";
    for (std::string_view c : {"check", "test", "eval"}) {
      out << "sigs " << c << ":\n" << CommandSummary(c) << "\n";
    }
    out << "mirrorwatch sigs COMMAND --help lists a command's options.\n";
    return out.str();
  }
  out << CommandSummary(command) << "\noptions:\n";
  for (const SigsOptionSpec& spec : SigsOptionSpecs()) {
    if (!TakesOption(spec, command)) continue;
    out << "  --" << spec.name;
    if (!spec.value.empty()) out << " " << spec.value;
    out << "\n" << Wrap(spec.help, "      ");
  }
  out << "  --help\n      this text\n";
  return out.str();
}

// Returns an error message, empty on success.
std::string ParseSigsArgs(const std::vector<std::string>& args, SigsOptions* options) {
  if (args.empty()) return "give a command: check, test or eval";
  options->command = args[0];
  if (options->command == "--help" || options->command == "-h" || options->command == "help") {
    options->command.clear();
    options->help = true;
    return "";
  }
  if (options->command != "check" && options->command != "test" && options->command != "eval") {
    return "unknown command '" + options->command + "' (commands: check, test, eval)";
  }
  for (std::size_t i = 1; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (arg == "--help" || arg == "-h") {
      options->help = true;
      continue;
    }
    if (arg.substr(0, 2) != "--") {
      options->operands.emplace_back(arg);
      continue;
    }
    std::string_view name = arg.substr(2);
    std::string_view value;
    bool has_value = false;
    if (const auto eq = name.find('='); eq != std::string_view::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    const SigsOptionSpec* spec = nullptr;
    for (const SigsOptionSpec& s : SigsOptionSpecs()) {
      if (s.name == name) spec = &s;
    }
    if (spec == nullptr) return "unknown option --" + std::string(name);
    if (!TakesOption(*spec, options->command)) {
      return "--" + std::string(name) + " is not an option of sigs " + options->command;
    }
    if (spec->value.empty()) {
      if (has_value) return "--" + std::string(name) + " takes no value";
    } else if (!has_value) {
      if (i + 1 >= args.size()) return "--" + std::string(name) + " needs a value";
      value = args[++i];
    }
    if (std::string error = spec->set(*options, value); !error.empty()) {
      return "--" + std::string(name) + " " + std::string(value) + ": " + error;
    }
  }
  return "";
}

int UsageError(std::ostream& err, std::string_view command, std::string_view message) {
  err << "mirrorwatch sigs" << (command.empty() ? "" : " ") << command << ": " << message
      << "\n(see mirrorwatch sigs " << command << (command.empty() ? "" : " ") << "--help)\n";
  return kExitUsage;
}

// =============================================================================================
// Small helpers.

// 17, 0.5, -25: weights and scores as an operator wrote them.
std::string Num(double value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

std::string Signed(double value) { return (value >= 0 ? "+" : "") + Num(value); }

std::string Plural(std::size_t n, std::string_view one, std::string_view many = "") {
  std::string word = n == 1         ? std::string(one)
                     : many.empty() ? std::string(one) + "s"
                                    : std::string(many);
  return std::to_string(n) + " " + word;
}

std::string ReadFile(const std::string& path, std::string* content) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "cannot read " + path;
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return "cannot read " + path;
  *content = buffer.str();
  return "";
}

bool StartsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

bool EndsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

std::string AsciiLower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool IsSpace(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

std::string_view Trim(std::string_view text) {
  while (!text.empty() && IsSpace(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsSpace(text.back())) text.remove_suffix(1);
  return text;
}

// Percent-encodes every byte but ASCII letters, digits, "_.-~" and `safe`, with upper-case hex,
// as Python's urllib.parse.quote does.
std::string Quote(std::string_view bytes, std::string_view safe) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : bytes) {
    const auto byte = static_cast<unsigned char>(c);
    const bool keep = (byte >= 'a' && byte <= 'z') || (byte >= 'A' && byte <= 'Z') ||
                      (byte >= '0' && byte <= '9') || c == '_' || c == '.' || c == '-' ||
                      c == '~' || (byte < 0x80 && safe.find(c) != std::string_view::npos);
    if (keep) {
      out += c;
    } else {
      out += '%';
      out += kHex[byte >> 4];
      out += kHex[byte & 15];
    }
  }
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes %XX escapes to bytes and leaves anything else as it is (Python's unquote).
std::string Unquote(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && HexValue(text[i + 1]) >= 0 &&
        HexValue(text[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(text[i + 1]) * 16 + HexValue(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

// =============================================================================================
// score.py's definitions (/work/shared/corpus/score.py), so that `sigs eval` agrees with it to
// the last digit: URL and host canonicalisation, outlet aliases, the page index and P/R/F1.

constexpr std::string_view kScoreSafePath = "/-._~!$&'()*+,;=:@";
constexpr std::string_view kScoreSafeQuery = "-._~!$&'()*+,;=:@/?";

// posixpath.normpath on an absolute path, plus score.py's _remove_dot_segments: "." and empty
// segments dropped, ".." pops (never above the root), a trailing slash kept.
std::string RemoveDotSegments(std::string_view path) {
  const bool trailing = EndsWith(path, "/") || EndsWith(path, "/.") || EndsWith(path, "/..");
  std::vector<std::string_view> segments;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    const std::string_view segment = path.substr(start, end - start);
    if (segment == "..") {
      if (!segments.empty()) segments.pop_back();
    } else if (!segment.empty() && segment != ".") {
      segments.push_back(segment);
    }
    start = end + 1;
  }
  std::string out;
  for (const std::string_view segment : segments) {
    out += '/';
    out += segment;
  }
  if (out.empty()) out = "/";
  if (trailing && out.back() != '/') out += '/';
  return out;
}

// score.py's normalize_host.
std::string NormalizeHost(std::string_view text) {
  std::string host = AsciiLower(Trim(text));
  while (!host.empty() && host.back() == '.') host.pop_back();
  if (host.find(':') != std::string::npos && !StartsWith(host, "[")) {
    host.resize(host.rfind(':'));
  }
  if (std::any_of(host.begin(), host.end(), [](char c) { return (c & 0x80) != 0; })) {
    // Python's "idna" codec; the URL parser's UTS #46 mapping agrees on ordinary names.
    if (std::optional<Url> url = ParseUrl("http://" + host + "/")) host = url->host;
  }
  return host;
}

struct SplitUrl {
  std::string base;   // "scheme://host[:port]/path", canonical
  std::string query;  // canonical, without '?'
  std::string Key() const { return query.empty() ? base : base + "?" + query; }
  // The host name, as urlsplit(base).hostname gives it.
  std::string Host() const {
    const std::size_t start = base.find("://") + 3;
    std::string netloc = base.substr(start, base.find('/', start) - start);
    if (StartsWith(netloc, "[")) return netloc.substr(1, netloc.find(']') - 1);
    return netloc.substr(0, netloc.find(':'));
  }
};

// score.py's split_url (with urllib.parse.urlsplit's rules for the parts).
SplitUrl SplitUrlAsScorePy(std::string_view text) {
  std::string url;
  for (const char c : Trim(text)) {
    if (c != '\t' && c != '\r' && c != '\n') url += c;  // urlsplit drops these anywhere
  }
  if (url.find("://") == std::string::npos && !StartsWith(url, "//")) url = "http://" + url;
  if (StartsWith(url, "//")) url = "http:" + url;
  std::string scheme;
  std::string_view rest = url;
  if (const std::size_t colon = rest.find(':'); colon != std::string_view::npos && colon > 0 &&
                                                std::isalpha(static_cast<unsigned char>(rest[0]))) {
    const std::string_view candidate = rest.substr(0, colon);
    if (std::all_of(candidate.begin(), candidate.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
        })) {
      scheme = AsciiLower(candidate);
      rest.remove_prefix(colon + 1);
    }
  }
  std::string_view netloc;
  if (StartsWith(rest, "//")) {
    rest.remove_prefix(2);
    const std::size_t end = std::min(rest.find_first_of("/?#"), rest.size());
    netloc = rest.substr(0, end);
    rest.remove_prefix(end);
  }
  if (const std::size_t hash = rest.find('#'); hash != std::string_view::npos) {
    rest = rest.substr(0, hash);
  }
  std::string_view query;
  if (const std::size_t question = rest.find('?'); question != std::string_view::npos) {
    query = rest.substr(question + 1);
    rest = rest.substr(0, question);
  }
  const std::string_view path = rest;

  // hostname and port as urlsplit parses them from the netloc.
  std::string_view hostinfo = netloc;
  if (const std::size_t at = hostinfo.rfind('@'); at != std::string_view::npos) {
    hostinfo.remove_prefix(at + 1);
  }
  std::string_view hostname, port_text;
  if (const std::size_t bracket = hostinfo.find('['); bracket != std::string_view::npos) {
    const std::string_view bracketed = hostinfo.substr(bracket + 1);
    const std::size_t close = bracketed.find(']');
    hostname = bracketed.substr(0, close);
    if (close != std::string_view::npos) {
      const std::string_view after = bracketed.substr(close + 1);
      if (const std::size_t colon = after.find(':'); colon != std::string_view::npos) {
        port_text = after.substr(colon + 1);
      }
    }
  } else {
    const std::size_t colon = hostinfo.find(':');
    hostname = hostinfo.substr(0, colon);
    if (colon != std::string_view::npos) port_text = hostinfo.substr(colon + 1);
  }
  std::optional<long> port;  // an invalid port counts as none, as score.py's except does
  if (!port_text.empty() && port_text.size() <= 9 &&
      std::all_of(port_text.begin(), port_text.end(),
                  [](char c) { return c >= '0' && c <= '9'; })) {
    const long value = std::stol(std::string(port_text));
    if (value <= 65535) port = value;
  }
  if (scheme.empty()) scheme = "http";
  const std::string host = NormalizeHost(AsciiLower(hostname));
  std::optional<long> default_port;
  if (scheme == "http") default_port = 80;
  if (scheme == "https") default_port = 443;
  std::string netloc_out = host;
  if (port && port != default_port) netloc_out += ":" + std::to_string(*port);

  std::string decoded = Unquote(path.empty() ? "/" : path);
  if (!StartsWith(decoded, "/")) decoded = "/" + decoded;
  std::string canonical_path = Quote(RemoveDotSegments(decoded), kScoreSafePath);
  if (EndsWith(canonical_path, "/index.html")) {
    canonical_path.resize(canonical_path.size() - std::string_view("index.html").size());
  }
  return {scheme + "://" + netloc_out + canonical_path, Quote(Unquote(query), kScoreSafeQuery)};
}

// score.py's normalize_outlet: the outlet id, or nullopt when the name is not a flag.
std::optional<std::string> NormalizeOutlet(std::string_view name) {
  static const std::unordered_map<std::string, std::string> kAliases = {
      {"amaq", "amaq"},
      {"a'maq", "amaq"},
      {"a3maq", "amaq"},
      {"aamaq", "amaq"},
      {"'amaq", "amaq"},
      {"amaq agency", "amaq"},
      {"amaq news agency", "amaq"},
      {"amaq news", "amaq"},
      {"a'maq news agency", "amaq"},
      {"أعماق", "amaq"},
      {"وكالة أعماق", "amaq"},
      {"وكالة أعماق الإخبارية", "amaq"},
      {"al-bayan", "al-bayan"},
      {"albayan", "al-bayan"},
      {"al bayan", "al-bayan"},
      {"bayan", "al-bayan"},
      {"al-bayan radio", "al-bayan"},
      {"al bayan radio", "al-bayan"},
      {"albayan radio", "al-bayan"},
      {"bayan radio", "al-bayan"},
      {"al-bayan-radio", "al-bayan"},
      {"إذاعة البيان", "al-bayan"},
      {"البيان", "al-bayan"},
      {"halumu", "halumu"},
      {"hallumu", "halumu"},
      {"هلموا", "halumu"},
      {"nashir", "nashir"},
      {"nashir news", "nashir"},
      {"nashir-news", "nashir"},
      {"nashir news agency", "nashir"},
      {"nasher", "nashir"},
      {"nasher news", "nashir"},
      {"ناشر", "nashir"},
      {"ناشر نيوز", "nashir"},
      {"وكالة ناشر", "nashir"},
  };
  std::string cleaned;
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (name.compare(i, 3, "\u2019") == 0 || name.compare(i, 3, "\u2018") == 0) {
      cleaned += '\'';
      i += 2;
    } else {
      cleaned += name[i] == '_' ? ' ' : name[i];
    }
  }
  std::string s;  // lower case, whitespace runs as one space, trimmed
  for (const char c : AsciiLower(cleaned)) {
    if (IsSpace(c)) {
      if (!s.empty() && s.back() != ' ') s += ' ';
    } else {
      s += c;
    }
  }
  if (!s.empty() && s.back() == ' ') s.pop_back();
  if (s.empty() || s == "none" || s == "null" || s == "no" || s == "negative" || s == "false") {
    return std::nullopt;
  }
  if (const auto it = kAliases.find(s); it != kAliases.end()) return it->second;
  std::string dashed = s;
  std::replace(dashed.begin(), dashed.end(), ' ', '-');
  if (const auto it = kAliases.find(dashed); it != kAliases.end()) return it->second;
  return s;
}

// labels.json: host and page labels, and score.py's PageIndex over the pages.
class LabelSet {
 public:
  std::string Load(const std::string& path) {
    std::string text;
    if (std::string error = ReadFile(path, &text); !error.empty()) return error;
    Json labels;
    try {
      labels = Json::parse(text);
      for (const auto& [host, label] : labels.at("hosts").items()) {
        hosts_[NormalizeHost(host)] = label.get<std::string>();
      }
      for (const auto& [url, label] : labels.at("pages").items()) {
        pages_[url] = label.get<std::string>();
        const SplitUrl split = SplitUrlAsScorePy(url);
        const std::string key = split.Key();
        if (!exact_.count(key) && !split.query.empty()) {
          query_pages_[split.base].push_back(split.query);
        }
        exact_[key] = url;
      }
      if (labels.contains("meta") && labels["meta"].contains("host_kind")) {
        for (const auto& [host, kind] : labels["meta"]["host_kind"].items()) {
          if (kind.is_string()) kinds_[NormalizeHost(host)] = kind.get<std::string>();
        }
      }
    } catch (const Json::exception& e) {
      return "cannot read labels " + path + ": " + e.what();
    }
    return "";
  }

  const std::map<std::string, std::string>& hosts() const { return hosts_; }
  const std::map<std::string, std::string>& pages() const { return pages_; }
  // meta.host_kind ("mirror", "encyclopedia" ...), empty when the labels do not say.
  std::string Kind(const std::string& host) const {
    const auto it = kinds_.find(host);
    return it == kinds_.end() ? "" : it->second;
  }
  std::string HostLabel(const std::string& host) const {
    const auto it = hosts_.find(host);
    return it == hosts_.end() ? "none" : it->second;
  }
  std::string PageLabel(const std::string& key) const {
    const auto it = pages_.find(key);
    return it == pages_.end() ? "none" : it->second;
  }

  // The labelled URL `url` names (score.py's PageIndex.lookup): the same canonical URL, or a
  // labelled query page whose parameters are all present (tracking parameters added), or the
  // page without its query, or with a trailing slash. nullopt when none.
  std::optional<std::string> Lookup(std::string_view url) const {
    const SplitUrl split = SplitUrlAsScorePy(url);
    if (!split.query.empty()) {
      if (const auto it = exact_.find(split.Key()); it != exact_.end()) return it->second;
      const std::set<std::string_view> want = Params(split.query);
      if (const auto it = query_pages_.find(split.base); it != query_pages_.end()) {
        for (const std::string& candidate : it->second) {
          const std::set<std::string_view> need = Params(candidate);
          if (std::includes(want.begin(), want.end(), need.begin(), need.end())) {
            return exact_.at(split.base + "?" + candidate);
          }
        }
      }
    }
    if (const auto it = exact_.find(split.base); it != exact_.end()) return it->second;
    if (!EndsWith(split.base, "/")) {
      if (const auto it = exact_.find(split.base + "/"); it != exact_.end()) return it->second;
    }
    return std::nullopt;
  }

  // Whether `url` is, canonically, exactly a labelled URL (no fallbacks).
  bool IsExactlyLabelled(std::string_view url) const {
    return exact_.count(SplitUrlAsScorePy(url).Key()) > 0;
  }

  // The key score.py files a flag under: the labelled URL, or "unlabelled:" + canonical URL.
  std::string PageKey(std::string_view url) const {
    if (std::optional<std::string> page = Lookup(url)) return *page;
    return "unlabelled:" + SplitUrlAsScorePy(url).Key();
  }

 private:
  static std::set<std::string_view> Params(std::string_view query) {
    std::set<std::string_view> params;
    std::size_t start = 0;
    while (start <= query.size()) {
      std::size_t end = query.find('&', start);
      if (end == std::string_view::npos) end = query.size();
      params.insert(query.substr(start, end - start));
      start = end + 1;
    }
    return params;
  }

  std::map<std::string, std::string> hosts_;
  std::map<std::string, std::string> pages_;
  std::map<std::string, std::string> kinds_;
  std::unordered_map<std::string, std::string> exact_;  // canonical URL -> labelled URL
  std::unordered_map<std::string, std::vector<std::string>> query_pages_;  // base -> queries
};

struct Tally {
  int tp = 0;
  int fp = 0;
  int fn = 0;
  // score.py's prf(): precision 1 when nothing was flagged and nothing was to be found.
  double precision() const {
    return tp + fp > 0 ? static_cast<double>(tp) / (tp + fp) : (tp + fn == 0 ? 1.0 : 0.0);
  }
  double recall() const { return tp + fn > 0 ? static_cast<double>(tp) / (tp + fn) : 1.0; }
  double f1() const {
    const double p = precision(), r = recall();
    return p + r > 0 ? 2 * p * r / (p + r) : 0.0;
  }
};

// =============================================================================================
// Loading signature files and pages.

std::unique_ptr<SignatureSet> LoadSignatures(const std::string& path, std::string_view command,
                                             std::ostream& err) {
  std::vector<SignatureDiagnostic> diagnostics;
  std::unique_ptr<SignatureSet> set = SignatureSet::LoadFile(path, &diagnostics);
  for (const SignatureDiagnostic& d : diagnostics) err << d.ToString() << "\n";
  if (!set) {
    err << "mirrorwatch sigs " << command << ": " << path
        << " does not load (mirrorwatch sigs check " << path << ")\n";
  }
  return set;
}

// A page's bytes and how they were served.
struct RawPage {
  std::string url;           // the URL it is scored as: after redirects for a fetched page
  std::string content_type;  // as served (or --content-type for a file)
  std::string body;
  long status = 0;  // HTTP status; 0 for a file
  int redirects = 0;
  std::string error;  // why the page could not be read or fetched; empty when it was
};

// Decodes and extracts, as the crawl's workers do; says which charset was used and why.
Document ParsePage(const RawPage& page, const Url& url, std::string* charset,
                   std::string* charset_source) {
  DecodedBody decoded = DecodeToUtf8(page.body, page.content_type);
  *charset = decoded.charset;
  *charset_source = decoded.source;
  return ExtractDocument(decoded.utf8, url);
}

// Fetches every URL at once on one io_context; results in the order of `urls`.
std::vector<RawPage> FetchPages(const std::vector<std::string>& urls, const SigsOptions& options) {
  std::vector<Cidr> allowed;
  for (const std::string& text : options.allow_net) {
    Cidr cidr;
    Cidr::Parse(text, &cidr);  // validated when the option was parsed
    allowed.push_back(cidr);
  }
  FetchOptions fetch;
  fetch.connect_to = options.connect_to;
  fetch.user_agent = options.user_agent;
  fetch.timeout_ms = options.timeout_ms;
  fetch.guard = AddressGuard(std::move(allowed));
  std::vector<FetchResult> results(urls.size());
  {
    boost::asio::io_context io;
    FetchPool pool(io, std::move(fetch));  // declared after io: destroyed first, after run()
    for (std::size_t i = 0; i < urls.size(); ++i) {
      FetchRequest request;
      request.url = urls[i];
      request.follow_redirects = true;
      request.html_only = false;  // an operator asking about a URL wants its verdict anyway
      pool.Fetch(std::move(request),
                 [&results, i](FetchResult result) { results[i] = std::move(result); });
    }
    io.run();
  }
  std::vector<RawPage> pages;
  for (FetchResult& result : results) {
    RawPage page;
    page.url = result.final_url.empty() ? result.url : result.final_url;
    page.content_type = result.content_type;
    page.status = result.status;
    page.redirects = result.redirects;
    if (!result.ok()) {
      page.error = std::string("fetch failed (") + FetchErrorName(result.error) + ")" +
                   (result.error_text.empty() ? "" : ": " + result.error_text);
    }
    page.body = std::move(result.body);
    pages.push_back(std::move(page));
  }
  return pages;
}

// =============================================================================================
// Explaining a verdict (sigs test, and the false positives and misses of sigs eval).

std::string_view Verdict(const OutletScore& score) {
  return score.flagged ? "FLAGGED" : "not flagged";
}

// "score 12 / 10 but require_any: none of identity fired": why an outlet is not flagged.
std::string WhyNotFlagged(const OutletScore& score) {
  std::string why = "score " + Num(score.score) + " / " + Num(score.threshold);
  return score.unmet_condition.empty() ? why : why + " but " + score.unmet_condition;
}

// "amaq.id.name +5 [title], amaq.report -20 [headings]"
std::string HitSummary(const OutletScore& score) {
  std::string out;
  for (const RuleHit& hit : score.hits) {
    if (!out.empty()) out += ", ";
    out += hit.rule_id + " " + Signed(hit.weight) + " [" + std::string(FieldName(hit.field)) + "]";
    if (hit.experimental) out += " (experimental)";
  }
  return out.empty() ? "no rule fired" : out;
}

// The sigs test view of one outlet: the score line, then one line per rule that fired.
void PrintOutletScore(const OutletScore& score, std::ostream& out) {
  out << score.outlet << ": score " << Num(score.score) << " / threshold " << Num(score.threshold)
      << " (stable " << Num(score.stable_score) << ") -> " << Verdict(score);
  if (!score.flagged && !score.unmet_condition.empty()) out << " (" << score.unmet_condition << ")";
  out << "\n";
  for (const RuleHit& hit : score.hits) {
    out << "  " << Signed(hit.weight) << " " << hit.rule_id << " [" << FieldName(hit.field)
        << "] \u00D7" << hit.count << " \"" << hit.snippet << "\""
        << (hit.experimental ? " (experimental)" : "") << "\n";
  }
}

Json HitJson(const RuleHit& hit) {
  return {{"rule", hit.rule_id},  {"field", std::string(FieldName(hit.field))},
          {"weight", hit.weight}, {"experimental", hit.experimental},
          {"count", hit.count},   {"snippet", hit.snippet}};
}

Json OutletScoreJson(const OutletScore& score) {
  Json hits = Json::array();
  for (const RuleHit& hit : score.hits) hits.push_back(HitJson(hit));
  return {{"outlet", score.outlet},       {"score", score.score},
          {"threshold", score.threshold}, {"stable_score", score.stable_score},
          {"flagged", score.flagged},     {"unmet_condition", score.unmet_condition},
          {"hits", std::move(hits)}};
}

std::string Dump(const Json& json, int indent = -1) {
  return json.dump(indent, ' ', false, Json::error_handler_t::replace);
}

// =============================================================================================
// sigs check

int RunCheck(const SigsOptions& options, std::ostream& out, std::ostream& err) {
  if (options.operands.empty())
    return UsageError(err, "check", "give the signature files to check");
  bool failed = false;
  Json report = Json::array();
  for (const std::string& path : options.operands) {
    std::vector<SignatureDiagnostic> diagnostics;
    const std::unique_ptr<SignatureSet> set = SignatureSet::LoadFile(path, &diagnostics);
    const auto warnings = static_cast<std::size_t>(
        std::count_if(diagnostics.begin(), diagnostics.end(),
                      [](const SignatureDiagnostic& d) { return d.warning; }));
    const std::size_t errors = diagnostics.size() - warnings;
    const bool loaded = set != nullptr && errors == 0;
    failed = failed || !loaded || (options.strict && warnings > 0);

    // Each outlet with its rule count and threshold, in file order.
    std::vector<SignatureSet::OutletInfo> outlets;
    std::vector<std::size_t> rule_counts;
    std::size_t experimental = 0;
    if (set) {
      outlets = set->outlet_info();
      rule_counts.assign(outlets.size(), 0);
      for (const SignatureSet::RuleInfo& rule : set->rules()) {
        experimental += rule.experimental ? 1 : 0;
        for (std::size_t o = 0; o < outlets.size(); ++o) {
          rule_counts[o] += outlets[o].id == rule.outlet ? 1 : 0;
        }
      }
    }
    if (options.json) {
      Json entry = {{"file", path}, {"ok", loaded}, {"errors", errors}, {"warnings", warnings}};
      if (set) {
        Json list = Json::array();
        for (std::size_t o = 0; o < outlets.size(); ++o) {
          list.push_back({{"id", outlets[o].id},
                          {"name", outlets[o].name},
                          {"threshold", outlets[o].threshold},
                          {"rules", rule_counts[o]}});
        }
        entry["outlets"] = std::move(list);
        entry["rules"] = set->rule_count();
        entry["experimental_rules"] = experimental;
        entry["sha256"] = set->sha256();
      }
      Json list = Json::array();
      for (const SignatureDiagnostic& d : diagnostics) {
        list.push_back({{"file", d.file},
                        {"line", d.line},
                        {"column", d.column},
                        {"severity", d.warning ? "warning" : "error"},
                        {"message", d.message}});
      }
      entry["diagnostics"] = std::move(list);
      report.push_back(std::move(entry));
      continue;
    }
    for (const SignatureDiagnostic& d : diagnostics) out << d.ToString() << "\n";
    if (loaded) {
      out << path << ": ok: " << Plural(outlets.size(), "outlet") << " (";
      for (std::size_t o = 0; o < outlets.size(); ++o) {
        out << (o ? "; " : "") << outlets[o].id << ": " << Plural(rule_counts[o], "rule")
            << ", threshold " << Num(outlets[o].threshold);
      }
      out << "), " << Plural(set->rule_count(), "rule") << " (" << experimental
          << " experimental), " << Plural(warnings, "warning") << ", sha256 " << set->sha256()
          << "\n";
    } else {
      out << path << ": FAILED: " << Plural(errors, "error") << ", " << Plural(warnings, "warning")
          << "\n";
    }
  }
  if (options.json) out << Dump(report, 2) << "\n";
  return failed ? kExitCheckFailed : kExitOk;
}

// =============================================================================================
// sigs test

// Encodes a file name as one URL path segment.
std::string FileNameUrl(const std::string& path) {
  return "http://local.test/" + Quote(fs::path(path).filename().string(), "!$&'()*+,;=:@");
}

int RunTest(const SigsOptions& options, std::ostream& out, std::ostream& err) {
  if (options.operands.size() < 2) {
    return UsageError(err, "test", "give a signature file and at least one page (a file or a URL)");
  }
  const std::unique_ptr<SignatureSet> set = LoadSignatures(options.operands[0], "test", err);
  if (!set) return kExitUsage;

  // Read the files, then fetch every URL at once.
  const std::vector<std::string> arguments(options.operands.begin() + 1, options.operands.end());
  std::vector<RawPage> pages(arguments.size());
  std::vector<std::string> urls;
  std::vector<std::size_t> url_slots;
  for (std::size_t i = 0; i < arguments.size(); ++i) {
    const std::string& argument = arguments[i];
    std::error_code ec;
    if (fs::is_regular_file(argument, ec)) {
      pages[i].url = options.url.empty() ? FileNameUrl(argument) : options.url;
      pages[i].content_type = options.content_type;
      pages[i].error = ReadFile(argument, &pages[i].body);
    } else if (StartsWith(argument, "http://") || StartsWith(argument, "https://")) {
      urls.push_back(argument);
      url_slots.push_back(i);
    } else if (fs::exists(argument, ec)) {
      pages[i].error = "not a regular file";
    } else {
      pages[i].error = "no such file, and not an http:// or https:// URL";
    }
  }
  if (!urls.empty()) {
    std::vector<RawPage> fetched = FetchPages(urls, options);
    for (std::size_t j = 0; j < fetched.size(); ++j) pages[url_slots[j]] = std::move(fetched[j]);
  }

  bool any_failed = false;
  for (std::size_t i = 0; i < pages.size(); ++i) {
    const RawPage& page = pages[i];
    std::optional<Url> url;
    std::string error = page.error;
    if (error.empty()) {
      url = ParseUrl(page.url);
      if (!url) error = "not an absolute http(s) URL: " + page.url;
    }
    if (!error.empty()) {
      any_failed = true;
      err << arguments[i] << ": " << error << "\n";
      if (options.json) out << Dump({{"page", arguments[i]}, {"error", error}}) << "\n";
      continue;
    }
    std::string charset, charset_source;
    const Document doc = ParsePage(page, *url, &charset, &charset_source);
    const std::vector<OutletScore> scores = set->Score(doc);
    std::vector<std::string> flagged;
    for (const OutletScore& score : scores) {
      if (score.flagged) flagged.push_back(score.outlet);
    }
    if (options.json) {
      Json outlets = Json::array();
      for (const OutletScore& score : scores) outlets.push_back(OutletScoreJson(score));
      Json line = {{"page", arguments[i]},
                   {"url", url->spec},
                   {"status", page.status == 0 ? Json(nullptr) : Json(page.status)},
                   {"content_type", page.content_type},
                   {"charset", charset},
                   {"charset_source", charset_source},
                   {"bytes", page.body.size()},
                   {"signatures", {{"file", options.operands[0]}, {"sha256", set->sha256()}}},
                   {"flagged", flagged},
                   {"outlets", std::move(outlets)}};
      out << Dump(line) << "\n";
      continue;
    }
    if (i > 0) out << "\n";
    out << "== " << arguments[i] << "  ";
    if (page.status == 0) {
      out << "(scored as " << url->spec << ", " << page.content_type << ", ";
    } else {
      out << "(" << url->spec << ", HTTP " << page.status;
      if (page.redirects > 0) out << " after " << Plural(page.redirects, "redirect");
      out << ", " << (page.content_type.empty() ? "no Content-Type" : page.content_type) << ", ";
    }
    out << charset << " from " << charset_source << ", " << page.body.size() << " bytes)\n";
    if (scores.empty()) out << "no rule fired\n";
    for (const OutletScore& score : scores) PrintOutletScore(score, out);
    out << "verdict: ";
    if (flagged.empty()) {
      out << "not flagged\n";
    } else {
      out << "FLAGGED as";
      for (const std::string& outlet : flagged) out << " " << outlet;
      out << "\n";
    }
  }
  return any_failed ? kExitUsage : kExitOk;
}

// =============================================================================================
// sigs eval

// One page's verdicts: every outlet with a hit when scored offline, or the flagged outlets a
// crawl wrote to findings.jsonl. Outlet ids are canonical (score.py's aliases applied).
struct PageVerdicts {
  std::string url;
  std::string host;  // normalised as score.py does
  std::vector<OutletScore> scores;
  bool flagged(const std::string& outlet) const {
    return std::any_of(scores.begin(), scores.end(),
                       [&](const OutletScore& s) { return s.flagged && s.outlet == outlet; });
  }
  const OutletScore* Find(const std::string& outlet) const {
    for (const OutletScore& score : scores) {
      if (score.outlet == outlet) return &score;
    }
    return nullptr;
  }
};

// Where the verdicts came from and what else is known about the pages that have none.
struct EvalSource {
  std::vector<PageVerdicts> pages;
  // --pages: every page was scored, so a labelled page without verdicts is not on disk.
  bool scored_offline = false;
  // --crawl with pages.jsonl: labelled pages fetched, and pages fetched per host.
  bool has_fetch_log = false;
  std::set<std::string> fetched_pages;  // labelled URLs
  std::map<std::string, int> fetched_per_host;
  int unreadable = 0;  // --pages: files that could not be read or named by a URL
};

// Everything score.py computes, plus the page index behind each flag for explanations.
struct Evaluation {
  std::vector<std::string> outlets;         // table rows, in signature file order, then others
  std::map<std::string, Tally> host, page;  // by outlet; "micro" is the sum
  std::map<std::string, std::set<std::string>> host_flags;        // host -> outlets
  std::map<std::string, std::set<std::string>> page_flags;        // page key -> outlets
  std::map<std::string, std::vector<std::size_t>> pages_of_host;  // into EvalSource::pages
  std::map<std::string, std::size_t> page_index;                  // page key -> its first entry
  int unlabelled_flagged = 0;  // flagged pages whose URL names no labelled page
};

Evaluation Evaluate(const LabelSet& labels, const EvalSource& source,
                    const std::vector<std::string>& file_outlets) {
  Evaluation eval;
  for (std::size_t i = 0; i < source.pages.size(); ++i) {
    const PageVerdicts& page = source.pages[i];
    const std::string key = labels.PageKey(page.url);
    eval.page_index.emplace(key, i);
    eval.pages_of_host[page.host].push_back(i);
    bool flagged = false;
    for (const OutletScore& score : page.scores) {
      if (!score.flagged) continue;
      flagged = true;
      eval.host_flags[page.host].insert(score.outlet);
      eval.page_flags[key].insert(score.outlet);
    }
    if (flagged && StartsWith(key, "unlabelled:")) ++eval.unlabelled_flagged;
  }
  // Rows: the file's outlets, then any other outlet that is labelled or flagged.
  std::set<std::string> extra;
  for (const auto& [host, label] : labels.hosts()) extra.insert(label);
  for (const auto& [page, label] : labels.pages()) extra.insert(label);
  for (const auto& [host, outlets] : eval.host_flags) extra.insert(outlets.begin(), outlets.end());
  extra.erase("none");
  for (const std::string& outlet : file_outlets) {
    if (std::find(eval.outlets.begin(), eval.outlets.end(), outlet) == eval.outlets.end()) {
      eval.outlets.push_back(outlet);
    }
    extra.erase(outlet);
  }
  eval.outlets.insert(eval.outlets.end(), extra.begin(), extra.end());

  // score.py's confusion(): per outlet, then the micro sum.
  auto confusion = [&](const std::map<std::string, std::string>& truth,
                       const std::map<std::string, std::set<std::string>>& flags,
                       std::map<std::string, Tally>* tallies) {
    Tally& micro = (*tallies)["micro"];
    for (const std::string& outlet : eval.outlets) {
      Tally& tally = (*tallies)[outlet];
      for (const auto& [key, label] : truth) {
        if (label != outlet) continue;
        const auto it = flags.find(key);
        ++(it != flags.end() && it->second.count(outlet) ? tally.tp : tally.fn);
      }
      for (const auto& [key, outlets] : flags) {
        const auto it = truth.find(key);
        if (outlets.count(outlet) && (it == truth.end() ? "none" : it->second) != outlet) {
          ++tally.fp;
        }
      }
      micro.tp += tally.tp;
      micro.fp += tally.fp;
      micro.fn += tally.fn;
    }
  };
  confusion(labels.hosts(), eval.host_flags, &eval.host);
  confusion(labels.pages(), eval.page_flags, &eval.page);
  return eval;
}

std::string FormatLine(const char* format, ...) __attribute__((format(printf, 1, 2)));
std::string FormatLine(const char* format, ...) {
  char buffer[512];
  va_list args;
  va_start(args, format);
  std::vsnprintf(buffer, sizeof buffer, format, args);
  va_end(args);
  return buffer;
}

// score.py's table and its last line, character for character.
void PrintTable(const Evaluation& eval, std::ostream& out) {
  out << FormatLine("%-9s | %-34s | %-34s\n", "", "host level", "page level");
  out << FormatLine("%-9s | %4s %4s %4s %6s %6s %6s | %5s %5s %5s %6s %6s %6s\n", "outlet", "tp",
                    "fp", "fn", "prec", "rec", "f1", "tp", "fp", "fn", "prec", "rec", "f1");
  std::vector<std::string> rows = eval.outlets;
  rows.push_back("micro");
  for (const std::string& row : rows) {
    const Tally& h = eval.host.at(row);
    const Tally& p = eval.page.at(row);
    out << FormatLine("%-9s | %4d %4d %4d %6.3f %6.3f %6.3f | %5d %5d %5d %6.3f %6.3f %6.3f\n",
                      row.c_str(), h.tp, h.fp, h.fn, h.precision(), h.recall(), h.f1(), p.tp, p.fp,
                      p.fn, p.precision(), p.recall(), p.f1());
  }
}

std::string LastLine(const Evaluation& eval) {
  const Tally& h = eval.host.at("micro");
  const Tally& p = eval.page.at("micro");
  return FormatLine(
      "host_f1=%.4f host_precision=%.4f host_recall=%.4f page_f1=%.4f page_precision=%.4f "
      "page_recall=%.4f",
      h.f1(), h.precision(), h.recall(), p.f1(), p.precision(), p.recall());
}

Json TallyJson(const std::map<std::string, Tally>& tallies) {
  Json json = Json::object();
  for (const auto& [outlet, t] : tallies) {
    json[outlet] = {{"tp", t.tp},           {"fp", t.fp},
                    {"fn", t.fn},           {"precision", t.precision()},
                    {"recall", t.recall()}, {"f1", t.f1()}};
  }
  return json;
}

// One false positive or miss, with what explains it; the text and JSON forms of the lists.
struct Finding {
  std::string text;
  Json json;
};

// Rules that fired on a host's pages for one outlet, each with its weight and page count.
std::string RulesAcrossPages(const std::vector<const OutletScore*>& scores, Json* json) {
  std::vector<std::pair<const RuleHit*, int>> rules;  // first hit of each rule, pages
  for (const OutletScore* score : scores) {
    for (const RuleHit& hit : score->hits) {
      auto it = std::find_if(rules.begin(), rules.end(),
                             [&](const auto& r) { return r.first->rule_id == hit.rule_id; });
      if (it == rules.end()) {
        rules.emplace_back(&hit, 1);
      } else {
        ++it->second;
      }
    }
  }
  std::string text;
  for (const auto& [hit, pages] : rules) {
    if (!text.empty()) text += ", ";
    text += hit->rule_id + " " + Signed(hit->weight) + " (" + Plural(pages, "page") + ")";
    json->push_back({{"rule", hit->rule_id}, {"weight", hit->weight}, {"pages", pages}});
  }
  return text;
}

std::vector<Finding> FalsePositiveHosts(const LabelSet& labels, const EvalSource& source,
                                        const Evaluation& eval) {
  std::vector<Finding> list;
  for (const auto& [host, outlets] : eval.host_flags) {
    const std::string label = labels.HostLabel(host);
    for (const std::string& outlet : outlets) {
      if (label == outlet) continue;
      std::vector<const OutletScore*> scores;
      std::vector<std::string> urls;
      std::set<std::string> keys;  // a crawl may flag one page under several spellings
      for (const std::size_t i : eval.pages_of_host.at(host)) {
        const PageVerdicts& page = source.pages[i];
        const OutletScore* score = page.Find(outlet);
        if (score == nullptr || !score->flagged || !keys.insert(labels.PageKey(page.url)).second) {
          continue;
        }
        scores.push_back(score);
        urls.push_back(page.url);
      }
      Finding finding;
      Json rules = Json::array();
      const std::string kind = labels.Kind(host);
      finding.text = host + "  flagged " + outlet + ", label " + label +
                     (kind.empty() ? "" : " (" + kind + ")") + ", on " +
                     Plural(scores.size(), "page") + ": " + RulesAcrossPages(scores, &rules) +
                     "\n      e.g. " + urls.front();
      finding.json = {{"host", host}, {"outlet", outlet}, {"label", label},
                      {"kind", kind}, {"pages", urls},    {"rules", std::move(rules)}};
      list.push_back(std::move(finding));
    }
  }
  return list;
}

std::vector<Finding> FalsePositivePages(const LabelSet& labels, const EvalSource& source,
                                        const Evaluation& eval) {
  std::vector<Finding> list;
  for (const auto& [key, outlets] : eval.page_flags) {
    const std::string label = labels.PageLabel(key);
    const PageVerdicts& page = source.pages[eval.page_index.at(key)];
    for (const std::string& outlet : outlets) {
      if (label == outlet) continue;
      // A page may be listed more than once (a crawl's redirect hops): explain with the
      // first entry that flagged this outlet.
      const OutletScore* score = nullptr;
      for (const std::size_t i : eval.pages_of_host.at(page.host)) {
        const PageVerdicts& candidate = source.pages[i];
        if (labels.PageKey(candidate.url) == key && candidate.flagged(outlet)) {
          score = candidate.Find(outlet);
          break;
        }
      }
      const bool labelled = !StartsWith(key, "unlabelled:");
      Finding finding;
      finding.text = page.url + "  flagged " + outlet + " (" +
                     (score ? Num(score->score) + " / " + Num(score->threshold) : "?") + "), " +
                     (labelled ? "label " + label : "not labelled") + ": " +
                     (score ? HitSummary(*score) : "");
      finding.json = {{"url", page.url},
                      {"outlet", outlet},
                      {"label", labelled ? Json(label) : Json(nullptr)},
                      {"verdict", score ? OutletScoreJson(*score) : Json(nullptr)}};
      list.push_back(std::move(finding));
    }
  }
  return list;
}

std::vector<Finding> MissedHosts(const LabelSet& labels, const EvalSource& source,
                                 const Evaluation& eval) {
  std::vector<Finding> list;
  for (const auto& [host, label] : labels.hosts()) {
    if (label == "none") continue;
    const auto flags = eval.host_flags.find(host);
    if (flags != eval.host_flags.end() && flags->second.count(label)) continue;
    // The page of this host that came closest: the highest score for the right outlet.
    const PageVerdicts* best_page = nullptr;
    const OutletScore* best = nullptr;
    std::size_t pages = 0;
    if (const auto it = eval.pages_of_host.find(host); it != eval.pages_of_host.end()) {
      pages = it->second.size();
      for (const std::size_t i : it->second) {
        const OutletScore* score = source.pages[i].Find(label);
        if (score != nullptr && (best == nullptr || score->score > best->score)) {
          best = score;
          best_page = &source.pages[i];
        }
      }
    }
    std::string why;
    Json json = {{"host", host}, {"label", label}};
    if (flags != eval.host_flags.end()) {
      std::string wrong;
      for (const std::string& outlet : flags->second) wrong += (wrong.empty() ? "" : ",") + outlet;
      why = "flagged " + wrong + " instead; ";
      json["flagged"] = flags->second;
    }
    if (best != nullptr) {
      why += "best page " + best_page->url + " " + WhyNotFlagged(*best) + ": " + HitSummary(*best);
      json["best_page"] = best_page->url;
      json["verdict"] = OutletScoreJson(*best);
    } else if (source.scored_offline) {
      why += pages == 0 ? "no page of it under the pages directory"
                        : "no " + label + " rule fired on any of its " + Plural(pages, "page");
    } else if (source.has_fetch_log) {
      const auto fetched = source.fetched_per_host.find(host);
      why += fetched == source.fetched_per_host.end()
                 ? "never reached by the crawl"
                 : Plural(fetched->second, "page") + " fetched, none flagged " + label;
    } else {
      why += "no finding on it";
    }
    json["reason"] = why;
    list.push_back({host + "  label " + label + ": " + why, std::move(json)});
  }
  return list;
}

std::vector<Finding> MissedPages(const LabelSet& labels, const EvalSource& source,
                                 const Evaluation& eval) {
  std::vector<Finding> list;
  for (const auto& [url, label] : labels.pages()) {
    if (label == "none") continue;
    const auto flags = eval.page_flags.find(url);
    if (flags != eval.page_flags.end() && flags->second.count(label)) continue;
    std::string why;
    Json json = {{"url", url}, {"label", label}};
    if (flags != eval.page_flags.end()) {
      std::string wrong;
      for (const std::string& outlet : flags->second) wrong += (wrong.empty() ? "" : ",") + outlet;
      why = "flagged " + wrong + " instead; ";
      json["flagged"] = flags->second;
    }
    const auto index = eval.page_index.find(url);
    const OutletScore* score =
        index == eval.page_index.end() ? nullptr : source.pages[index->second].Find(label);
    if (score != nullptr) {
      why += WhyNotFlagged(*score) + ": " + HitSummary(*score);
      json["verdict"] = OutletScoreJson(*score);
    } else if (source.scored_offline) {
      why += index == eval.page_index.end() ? "no file for it under the pages directory"
                                            : "no " + label + " rule fired";
    } else if (source.has_fetch_log) {
      why += source.fetched_pages.count(url) ? "fetched, not flagged" : "not fetched by the crawl";
    } else {
      why += "no finding for it";
    }
    json["reason"] = why;
    list.push_back({url + "  label " + label + ": " + why, std::move(json)});
  }
  return list;
}

void PrintList(std::string_view title, const std::vector<Finding>& list, long limit,
               std::ostream& out) {
  // A list of changes says up front what they add up to: "(410: 406 new false positive, ...)".
  std::map<std::string, int> effects;
  for (const Finding& finding : list) {
    if (finding.json.contains("effect")) ++effects[finding.json["effect"].get<std::string>()];
  }
  out << "\n" << title << " (" << list.size();
  const char* separator = ": ";
  for (const char* effect :
       {"new false positive", "now missed", "now found", "false positive gone"}) {
    if (effects.count(effect)) out << separator << effects[effect] << " " << effect;
    if (effects.count(effect)) separator = ", ";
  }
  out << ")" << (list.empty() ? ": none" : ":") << "\n";
  const std::size_t shown =
      limit == 0 ? list.size() : std::min(list.size(), static_cast<std::size_t>(limit));
  for (std::size_t i = 0; i < shown; ++i) out << "  " << list[i].text << "\n";
  if (shown < list.size()) {
    out << "  ... and " << list.size() - shown << " more (--list 0 shows all)\n";
  }
}

Json ListJson(const std::vector<Finding>& list) {
  Json json = Json::array();
  for (const Finding& finding : list) json.push_back(finding.json);
  return json;
}

// The pages under a corpus-style directory: DIR/<host>/<path>, or DIR/sites/<host>/<path>.
struct PageFile {
  std::string path;          // on disk
  std::string url;           // the URL it is served at
  std::string content_type;  // as the corpus server would send it
};

// Reads charsets.tsv: "host<TAB>path<TAB>charset" (empty charset: the header names none).
std::map<std::string, std::string> LoadCharsets(const fs::path& file) {
  std::map<std::string, std::string> charsets;
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const std::size_t tab1 = line.find('\t');
    if (tab1 == std::string::npos) continue;
    const std::size_t tab2 = line.find('\t', tab1 + 1);
    const std::string path =
        line.substr(tab1 + 1, tab2 == std::string::npos ? std::string::npos : tab2 - tab1 - 1);
    charsets[line.substr(0, tab1) + path] =
        tab2 == std::string::npos ? "" : std::string(Trim(line.substr(tab2 + 1)));
  }
  return charsets;
}

// What the corpus server answers a file with; empty for files that are not pages.
std::string ServedType(const fs::path& file) {
  const std::string ext = AsciiLower(file.extension().string());
  static const std::set<std::string> kNotPages = {".txt",  ".xml", ".pdf",  ".css", ".js",
                                                  ".json", ".png", ".gif",  ".jpg", ".jpeg",
                                                  ".svg",  ".ico", ".webp", ".gz",  ".tsv"};
  return kNotPages.count(ext) ? "" : "text/html";
}

std::string ListPageFiles(const std::string& dir, const LabelSet& labels,
                          std::vector<PageFile>* files, fs::path* sites_out) {
  std::error_code ec;
  fs::path sites = dir;
  fs::path charsets_file;
  if (fs::is_directory(sites / "sites", ec)) {
    sites /= "sites";
    charsets_file = fs::path(dir) / "charsets.tsv";
  } else if (fs::exists(sites / "charsets.tsv", ec)) {
    charsets_file = sites / "charsets.tsv";
  } else {
    charsets_file = fs::absolute(sites, ec).parent_path() / "charsets.tsv";
  }
  if (!fs::is_directory(sites, ec)) return dir + " is not a directory";
  *sites_out = sites;
  const std::map<std::string, std::string> charsets = LoadCharsets(charsets_file);

  std::vector<fs::path> hosts;
  for (const auto& entry : fs::directory_iterator(sites, ec)) {
    if (entry.is_directory(ec)) hosts.push_back(entry.path());
  }
  if (ec) return "cannot list " + sites.string() + ": " + ec.message();
  std::sort(hosts.begin(), hosts.end());
  for (const fs::path& host_dir : hosts) {
    const std::string host = host_dir.filename().string();
    std::vector<fs::path> paths;
    for (auto it = fs::recursive_directory_iterator(host_dir, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (it->is_regular_file(ec) && !ServedType(it->path()).empty()) paths.push_back(it->path());
    }
    if (ec) return "cannot list " + host_dir.string() + ": " + ec.message();
    std::sort(paths.begin(), paths.end());
    for (const fs::path& file : paths) {
      const std::string rel = fs::relative(file, host_dir, ec).generic_string();
      std::string path, query;
      if (StartsWith(rel, "_q/") && EndsWith(rel, ".html")) {
        // _q/p/q.html is /p?q; /p/?q is stored there too, so prefer whichever is labelled.
        const fs::path stored = rel.substr(3, rel.size() - 3 - 5);
        query = stored.filename().string();
        const std::string parent = stored.parent_path().generic_string();
        path = "/" + parent;
        const std::string folder = parent.empty() ? "/" : path + "/";
        if (folder != path && labels.IsExactlyLabelled(
                                  "http://" + host + Quote(folder, kScoreSafePath) + "?" + query)) {
          path = folder;
        }
      } else if (rel == "index.html" || EndsWith(rel, "/index.html")) {
        path = "/" + rel.substr(0, rel.size() - std::string_view("index.html").size());
      } else {
        path = "/" + rel;
      }
      const auto served = charsets.find(host + path);
      std::string content_type = ServedType(file);
      if (served == charsets.end()) {
        content_type += "; charset=utf-8";
      } else if (!served->second.empty()) {
        content_type += "; charset=" + served->second;
      }
      files->push_back({file.string(),
                        "http://" + host + Quote(path, kScoreSafePath) +
                            (query.empty() ? "" : "?" + Quote(query, kScoreSafeQuery)),
                        content_type});
    }
  }
  return "";
}

// The verdicts of each set on every page under --pages (one parse per page for both sets).
void ScorePageFiles(const std::vector<PageFile>& files,
                    const std::vector<const SignatureSet*>& sets,
                    std::vector<EvalSource>* sources) {
  sources->assign(sets.size(), EvalSource{});
  for (EvalSource& source : *sources) source.scored_offline = true;
  for (const PageFile& file : files) {
    RawPage page;
    page.content_type = file.content_type;
    const std::optional<Url> url = ParseUrl(file.url);
    if (!url || !ReadFile(file.path, &page.body).empty()) {
      for (EvalSource& source : *sources) ++source.unreadable;
      continue;
    }
    std::string charset, charset_source;
    const Document doc = ParsePage(page, *url, &charset, &charset_source);
    for (std::size_t s = 0; s < sets.size(); ++s) {
      PageVerdicts verdicts;
      verdicts.url = url->spec;
      verdicts.host = NormalizeHost(url->host);
      for (OutletScore& score : sets[s]->Score(doc)) {
        const std::optional<std::string> outlet = NormalizeOutlet(score.outlet);
        if (!outlet) continue;
        score.outlet = *outlet;
        verdicts.scores.push_back(std::move(score));
      }
      (*sources)[s].pages.push_back(std::move(verdicts));
    }
  }
}

std::string ReadJsonLines(const std::string& path, std::vector<Json>* rows) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "cannot read " + path;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (Trim(line).empty()) continue;
    try {
      Json row = Json::parse(line);
      if (!row.is_object() || !row.contains("url") || !row["url"].is_string() ||
          row["url"].get<std::string>().empty()) {
        return path + ":" + std::to_string(number) + ": a line needs an object with \"url\"";
      }
      rows->push_back(std::move(row));
    } catch (const Json::exception& e) {
      return path + ":" + std::to_string(number) + ": not JSON (" + e.what() + ")";
    }
  }
  return "";
}

// A finding's outlet as score.py reads it: null and false are not flags, others are names.
std::optional<std::string> FindingOutlet(const Json& value) {
  if (value.is_null() || (value.is_boolean() && !value.get<bool>())) return std::nullopt;
  return NormalizeOutlet(value.is_string() ? value.get<std::string>() : value.dump());
}

std::string LoadCrawl(const std::string& dir, const LabelSet& labels, EvalSource* source) {
  std::vector<Json> findings;
  if (std::string error = ReadJsonLines(dir + "/findings.jsonl", &findings); !error.empty()) {
    return error;
  }
  for (const Json& row : findings) {
    const std::optional<std::string> outlet = FindingOutlet(row.value("outlet", Json()));
    if (!outlet) continue;
    PageVerdicts page;
    page.url = row["url"].get<std::string>();
    const Json host = row.value("host", Json());
    page.host = NormalizeHost(host.is_string() && !host.get<std::string>().empty()
                                  ? host.get<std::string>()
                                  : SplitUrlAsScorePy(page.url).Host());
    OutletScore score;
    score.outlet = *outlet;
    score.flagged = true;
    score.score = row.value("score", 0.0);
    score.threshold = row.value("threshold", 0.0);
    score.stable_score = row.value("stable_score", score.score);
    if (row.contains("rules") && row["rules"].is_array()) {
      for (const Json& rule : row["rules"]) {
        if (!rule.is_object()) continue;
        RuleHit hit;
        hit.rule_id = rule.value("id", rule.value("rule", std::string()));
        hit.field = FieldFromName(rule.value("field", std::string())).value_or(Field::kBody);
        hit.weight = rule.value("weight", 0.0);
        hit.experimental = rule.value("experimental", false);
        hit.count = rule.value("count", 0);
        hit.snippet = rule.value("snippet", std::string());
        score.hits.push_back(std::move(hit));
      }
    }
    page.scores.push_back(std::move(score));
    source->pages.push_back(std::move(page));
  }
  // pages.jsonl is optional: it only sharpens the reasons given for misses.
  std::vector<Json> fetches;
  if (std::error_code ec; !fs::exists(dir + "/pages.jsonl", ec)) return "";
  if (std::string error = ReadJsonLines(dir + "/pages.jsonl", &fetches); !error.empty()) {
    return error;
  }
  source->has_fetch_log = true;
  for (const Json& row : fetches) {
    if (row.value("kind", std::string("page")) != "page") continue;
    if (row.contains("skipped") || row.value("fetched_at", Json()).is_null()) continue;
    const std::string url = row["url"].get<std::string>();
    ++source->fetched_per_host[NormalizeHost(SplitUrlAsScorePy(url).Host())];
    if (std::optional<std::string> page = labels.Lookup(url)) source->fetched_pages.insert(*page);
  }
  return "";
}

std::string WriteFindings(const std::string& path, const EvalSource& source,
                          const std::string& sha256) {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  if (!file) return "cannot write " + path;
  for (const PageVerdicts& page : source.pages) {
    for (const OutletScore& score : page.scores) {
      if (!score.flagged) continue;
      Json rules = Json::array();
      for (const RuleHit& hit : score.hits) {
        rules.push_back({{"id", hit.rule_id},
                         {"field", std::string(FieldName(hit.field))},
                         {"weight", hit.weight},
                         {"count", hit.count},
                         {"snippet", hit.snippet}});
      }
      file << Dump({{"url", page.url},
                    {"host", page.host},
                    {"outlet", score.outlet},
                    {"score", score.score},
                    {"threshold", score.threshold},
                    {"rules", std::move(rules)},
                    {"signatures_sha256", sha256}})
           << "\n";
    }
  }
  file.flush();
  return file ? "" : "cannot write " + path;
}

std::vector<std::string> CanonicalOutlets(const SignatureSet& set) {
  std::vector<std::string> outlets;
  for (const std::string& outlet : set.outlets()) {
    if (std::optional<std::string> name = NormalizeOutlet(outlet)) outlets.push_back(*name);
  }
  return outlets;
}

// Hosts or pages whose flags differ between two evaluations: "+" gained, "-" lost.
std::vector<Finding> Changes(
    const std::map<std::string, std::set<std::string>>& before,
    const std::map<std::string, std::set<std::string>>& after,
    const std::function<std::string(const std::string&)>& label_of,
    const std::function<std::string(const std::string&, const std::string&)>& scores_of) {
  std::set<std::string> keys;
  for (const auto& [key, outlets] : before) keys.insert(key);
  for (const auto& [key, outlets] : after) keys.insert(key);
  static const std::set<std::string> kNone;
  std::vector<Finding> list;
  for (const std::string& key : keys) {
    const auto b = before.find(key);
    const auto a = after.find(key);
    const std::set<std::string>& old_flags = b == before.end() ? kNone : b->second;
    const std::set<std::string>& new_flags = a == after.end() ? kNone : a->second;
    const std::string label = label_of(key);
    std::set<std::string> outlets = old_flags;
    outlets.insert(new_flags.begin(), new_flags.end());
    for (const std::string& outlet : outlets) {
      const bool was = old_flags.count(outlet) > 0, is = new_flags.count(outlet) > 0;
      if (was == is) continue;
      const bool right = label == outlet;
      const std::string effect = is ? (right ? "now found" : "new false positive")
                                    : (right ? "now missed" : "false positive gone");
      const std::string display = StartsWith(key, "unlabelled:") ? key.substr(11) : key;
      const std::string detail = scores_of(key, outlet);
      Finding finding;
      finding.text = std::string(is ? "+ " : "- ") + display + "  " + outlet + "  (label " + label +
                     ": " + effect + (detail.empty() ? "" : "; " + detail) + ")";
      finding.json = {{"key", display},
                      {"outlet", outlet},
                      {"change", is ? "gained" : "lost"},
                      {"label", label},
                      {"effect", effect}};
      list.push_back(std::move(finding));
    }
  }
  return list;
}

void PrintDeltaTable(const Evaluation& before, const Evaluation& after, std::ostream& out) {
  // The new figures, each rate followed by its change ("chg") from the old file.
  out << FormatLine("%-9s | %-55s | %-58s\n", "", "host level", "page level");
  out << FormatLine(
      "%-9s | %4s %4s %4s %6s %6s %6s %6s %6s %6s | %5s %5s %5s %6s %6s %6s %6s %6s %6s\n",
      "outlet", "tp", "fp", "fn", "prec", "chg", "rec", "chg", "f1", "chg", "tp", "fp", "fn",
      "prec", "chg", "rec", "chg", "f1", "chg");
  std::vector<std::string> rows = after.outlets;
  for (const std::string& outlet : before.outlets) {
    if (std::find(rows.begin(), rows.end(), outlet) == rows.end()) rows.push_back(outlet);
  }
  rows.push_back("micro");
  auto get = [](const std::map<std::string, Tally>& tallies, const std::string& row) {
    const auto it = tallies.find(row);
    return it == tallies.end() ? Tally{} : it->second;
  };
  for (const std::string& row : rows) {
    const Tally h = get(after.host, row), h0 = get(before.host, row);
    const Tally p = get(after.page, row), p0 = get(before.page, row);
    out << FormatLine(
        "%-9s | %4d %4d %4d %6.3f %+6.3f %6.3f %+6.3f %6.3f %+6.3f | %5d %5d %5d %6.3f %+6.3f "
        "%6.3f %+6.3f %6.3f %+6.3f\n",
        row.c_str(), h.tp, h.fp, h.fn, h.precision(), h.precision() - h0.precision(), h.recall(),
        h.recall() - h0.recall(), h.f1(), h.f1() - h0.f1(), p.tp, p.fp, p.fn, p.precision(),
        p.precision() - p0.precision(), p.recall(), p.recall() - p0.recall(), p.f1(),
        p.f1() - p0.f1());
  }
}

int RunEval(const SigsOptions& options, std::ostream& out, std::ostream& err) {
  const bool crawl = !options.crawl.empty();
  if (crawl == !options.pages.empty()) {
    return UsageError(err, "eval", "give either --pages DIR or --crawl DIR");
  }
  if (crawl && !options.compare.empty()) {
    return UsageError(err, "eval",
                      "--compare needs --pages: a crawl's findings are the verdicts of the rules "
                      "it ran with and cannot be re-scored; evaluate both files with --pages");
  }
  if (crawl && !options.write_findings.empty()) {
    return UsageError(err, "eval", "--write-findings needs --pages (a crawl wrote its own)");
  }
  if (options.operands.size() > 1 || (!crawl && options.operands.empty())) {
    return UsageError(err, "eval",
                      crawl ? "give at most one signature file" : "give one signature file");
  }
  std::string labels_path = options.labels;
  if (labels_path.empty() && !crawl) {
    std::error_code ec;
    if (fs::is_regular_file(fs::path(options.pages) / "labels.json", ec)) {
      labels_path = (fs::path(options.pages) / "labels.json").string();
    }
  }
  if (labels_path.empty()) return UsageError(err, "eval", "give --labels labels.json");

  std::unique_ptr<SignatureSet> set, old_set;
  if (!options.operands.empty()) {
    set = LoadSignatures(options.operands[0], "eval", err);
    if (!set) return kExitUsage;
  }
  if (!options.compare.empty()) {
    old_set = LoadSignatures(options.compare, "eval", err);
    if (!old_set) return kExitUsage;
  }
  LabelSet labels;
  if (std::string error = labels.Load(labels_path); !error.empty()) {
    err << "mirrorwatch sigs eval: " << error << "\n";
    return kExitUsage;
  }

  // Verdicts: sources[0] from FILE (or the crawl), sources[1] from OLD.yaml.
  std::vector<EvalSource> sources;
  std::string where;
  std::size_t page_files = 0;
  if (crawl) {
    sources.resize(1);
    if (std::string error = LoadCrawl(options.crawl, labels, &sources[0]); !error.empty()) {
      err << "mirrorwatch sigs eval: " << error << "\n";
      return kExitUsage;
    }
    where = "crawl    " + options.crawl +
            "/findings.jsonl: " + Plural(sources[0].pages.size(), "finding") +
            (sources[0].has_fetch_log ? ", pages.jsonl read" : ", no pages.jsonl");
  } else {
    std::vector<PageFile> files;
    fs::path sites;
    if (std::string error = ListPageFiles(options.pages, labels, &files, &sites); !error.empty()) {
      err << "mirrorwatch sigs eval: " << error << "\n";
      return kExitUsage;
    }
    std::vector<const SignatureSet*> sets = {set.get()};
    if (old_set) sets.push_back(old_set.get());
    ScorePageFiles(files, sets, &sources);
    page_files = files.size();
    where =
        "pages    " + sites.string() + ": " + Plural(page_files, "page") + " scored" +
        (sources[0].unreadable ? ", " + std::to_string(sources[0].unreadable) + " unreadable" : "");
  }
  const std::vector<std::string> file_outlets =
      set ? CanonicalOutlets(*set) : std::vector<std::string>{};
  const Evaluation eval = Evaluate(labels, sources[0], file_outlets);

  // With --crawl and a FILE: say when the findings name rules the file does not have.
  std::set<std::string> foreign_rules;
  if (crawl && set) {
    std::set<std::string> known;
    for (const SignatureSet::RuleInfo& rule : set->rules()) known.insert(rule.id);
    for (const PageVerdicts& page : sources[0].pages) {
      for (const OutletScore& score : page.scores) {
        for (const RuleHit& hit : score.hits) {
          if (!known.count(hit.rule_id)) foreign_rules.insert(hit.rule_id);
        }
      }
    }
  }
  if (!options.write_findings.empty()) {
    if (std::string error = WriteFindings(options.write_findings, sources[0], set->sha256());
        !error.empty()) {
      err << "mirrorwatch sigs eval: " << error << "\n";
      return kExitUsage;
    }
  }

  std::size_t branded_hosts = 0, branded_pages = 0, labelled_pages_scored = 0;
  for (const auto& [host, label] : labels.hosts()) branded_hosts += label != "none";
  for (const auto& [url, label] : labels.pages()) {
    branded_pages += label != "none";
    labelled_pages_scored += eval.page_index.count(url);
  }
  const std::vector<Finding> fp_hosts = FalsePositiveHosts(labels, sources[0], eval);
  const std::vector<Finding> fp_pages = FalsePositivePages(labels, sources[0], eval);
  const std::vector<Finding> missed_hosts = MissedHosts(labels, sources[0], eval);
  const std::vector<Finding> missed_pages = MissedPages(labels, sources[0], eval);

  std::optional<Evaluation> old_eval;
  std::vector<Finding> host_changes, page_changes;
  if (old_set) {
    old_eval = Evaluate(labels, sources[1], CanonicalOutlets(*old_set));
    host_changes = Changes(
        old_eval->host_flags, eval.host_flags,
        [&](const std::string& host) { return labels.HostLabel(host); },
        [&](const std::string& host, const std::string& outlet) {
          // The rules behind the flag, from whichever file flags the host.
          const bool gained = eval.host_flags.count(host) && eval.host_flags.at(host).count(outlet);
          const EvalSource& source = sources[gained ? 0 : 1];
          std::vector<const OutletScore*> scores;
          for (const std::size_t i : eval.pages_of_host.at(host)) {
            const OutletScore* score = source.pages[i].Find(outlet);
            if (score != nullptr && score->flagged) scores.push_back(score);
          }
          Json ignored = Json::array();
          return std::string(gained ? "flagged by " : "was flagged by ") +
                 RulesAcrossPages(scores, &ignored);
        });
    auto page_scores = [&](const std::string& key, const std::string& outlet) {
      const auto index = eval.page_index.find(key);
      if (index == eval.page_index.end()) return std::string();
      const OutletScore* before = sources[1].pages[index->second].Find(outlet);
      const OutletScore* after = sources[0].pages[index->second].Find(outlet);
      return "score " + (before ? Num(before->score) : "no hit") + " -> " +
             (after ? Num(after->score) : "no hit");
    };
    page_changes = Changes(
        old_eval->page_flags, eval.page_flags,
        [&](const std::string& key) {
          return StartsWith(key, "unlabelled:") ? std::string("none (not labelled)")
                                                : labels.PageLabel(key);
        },
        page_scores);
  }

  if (options.json) {
    Json report;
    if (set) {
      report["signatures"] = {
          {"file", options.operands[0]}, {"sha256", set->sha256()}, {"rules", set->rule_count()}};
    }
    report["labels"] = {{"file", labels_path},
                        {"hosts", labels.hosts().size()},
                        {"branded_hosts", branded_hosts},
                        {"pages", labels.pages().size()},
                        {"branded_pages", branded_pages}};
    if (crawl) {
      report["crawl"] = {{"dir", options.crawl},
                         {"findings", sources[0].pages.size()},
                         {"pages_jsonl", sources[0].has_fetch_log},
                         {"rules_not_in_file", foreign_rules}};
    } else {
      report["pages"] = {{"dir", options.pages},
                         {"scored", page_files - static_cast<std::size_t>(sources[0].unreadable)},
                         {"unreadable", sources[0].unreadable},
                         {"labelled_pages_scored", labelled_pages_scored}};
    }
    report["host"] = TallyJson(eval.host);
    report["page"] = TallyJson(eval.page);
    report["unlabelled_flagged_pages"] = eval.unlabelled_flagged;
    report["false_positive_hosts"] = ListJson(fp_hosts);
    report["false_positive_pages"] = ListJson(fp_pages);
    report["missed_hosts"] = ListJson(missed_hosts);
    report["missed_pages"] = ListJson(missed_pages);
    if (old_eval) {
      report["compare"] = {{"old",
                            {{"file", options.compare},
                             {"sha256", old_set->sha256()},
                             {"host", TallyJson(old_eval->host)},
                             {"page", TallyJson(old_eval->page)}}},
                           {"changed_hosts", ListJson(host_changes)},
                           {"changed_pages", ListJson(page_changes)}};
    }
    out << Dump(report, 2) << "\n";
    return kExitOk;
  }

  if (set) {
    out << "rules    " << options.operands[0] << ": " << Plural(set->rule_count(), "rule")
        << ", sha256 " << set->sha256() << "\n";
  }
  if (old_set) {
    out << "old      " << options.compare << ": " << Plural(old_set->rule_count(), "rule")
        << ", sha256 " << old_set->sha256() << "\n";
  }
  out << "labels   " << labels_path << ": " << Plural(labels.hosts().size(), "host") << " ("
      << branded_hosts << " branded), " << Plural(labels.pages().size(), "page") << " ("
      << branded_pages << " branded)\n";
  out << where << "; " << labelled_pages_scored << " of the labelled pages "
      << (crawl ? "flagged" : "scored") << ", " << eval.unlabelled_flagged
      << " flagged pages not labelled\n";
  if (!foreign_rules.empty()) {
    out << "note: the findings name " << Plural(foreign_rules.size(), "rule") << " that "
        << options.operands[0] << " does not have (e.g. " << *foreign_rules.begin()
        << "): the crawl ran with other signatures\n";
  }
  out << "\n";
  if (old_eval) {
    PrintDeltaTable(*old_eval, eval, out);
    PrintList("hosts whose verdict changed", host_changes, options.list, out);
    PrintList("pages whose verdict changed", page_changes, options.list, out);
    out << "\nold: " << LastLine(*old_eval) << "\nnew: " << LastLine(eval) << "\n";
    return kExitOk;
  }
  PrintTable(eval, out);
  PrintList("false-positive hosts", fp_hosts, options.list, out);
  PrintList("false-positive pages", fp_pages, options.list, out);
  PrintList("missed hosts", missed_hosts, options.list, out);
  PrintList("missed pages", missed_pages, options.list, out);
  out << "\n" << LastLine(eval) << "\n";
  return kExitOk;
}

}  // namespace

int RunSigsCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  SigsOptions options;
  if (std::string error = ParseSigsArgs(args, &options); !error.empty()) {
    return UsageError(err, options.command, error);
  }
  if (options.help) {
    out << SigsHelp(options.command);
    return kExitOk;
  }
  try {
    if (options.command == "check") return RunCheck(options, out, err);
    if (options.command == "test") return RunTest(options, out, err);
    return RunEval(options, out, err);
  } catch (const std::exception& e) {  // allocation failure, a filesystem error mid-walk
    err << "mirrorwatch sigs " << options.command << ": " << e.what() << "\n";
    return kExitUsage;
  }
}

}  // namespace mw
