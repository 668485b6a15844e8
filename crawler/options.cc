#include "crawler/options.h"

#include <charconv>
#include <sstream>

namespace mw {
namespace {

template <typename Int>
std::string ParseInt(std::string_view text, Int min, Int* out) {
  Int value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return "not a whole number";
  if (value < min) return "must be at least " + std::to_string(min);
  *out = value;
  return "";
}

// Sizes accept a K/M/G suffix (powers of 1024).
std::string ParseSize(std::string_view text, std::int64_t* out) {
  std::int64_t scale = 1;
  if (!text.empty()) {
    switch (text.back()) {
      case 'k': case 'K': scale = 1 << 10; break;
      case 'm': case 'M': scale = 1 << 20; break;
      case 'g': case 'G': scale = 1 << 30; break;
      default: break;
    }
    if (scale != 1) text.remove_suffix(1);
  }
  std::int64_t value = 0;
  std::string error = ParseInt<std::int64_t>(text, 1, &value);
  if (error.empty()) *out = value * scale;
  return error;
}

std::string Join(const std::vector<std::string>& values) {
  std::string out;
  for (const std::string& v : values) out += (out.empty() ? "" : ", ") + v;
  return out.empty() ? "none" : out;
}

// Field accessors for the table: each option names its member once.
template <typename Int>
OptionSpec IntOption(std::string_view name, std::string_view help, Int CrawlOptions::*member,
                     Int min) {
  return {name, "N", help,
          [member, min](CrawlOptions& o, std::string_view v) {
            return ParseInt<Int>(v, min, &(o.*member));
          },
          [member](const CrawlOptions& o) { return std::to_string(o.*member); }};
}

OptionSpec StringOption(std::string_view name, std::string_view value, std::string_view help,
                        std::string CrawlOptions::*member) {
  return {name, value, help,
          [member](CrawlOptions& o, std::string_view v) {
            o.*member = std::string(v);
            return std::string();
          },
          [member](const CrawlOptions& o) {
            return (o.*member).empty() ? std::string("none") : o.*member;
          }};
}

OptionSpec ListOption(std::string_view name, std::string_view value, std::string_view help,
                      std::vector<std::string> CrawlOptions::*member) {
  return {name, value, help,
          [member](CrawlOptions& o, std::string_view v) {
            (o.*member).emplace_back(v);
            return std::string();
          },
          [member](const CrawlOptions& o) { return Join(o.*member); }, true};
}

// A flag takes no value; it sets the member to true.
OptionSpec FlagOption(std::string_view name, std::string_view help, bool CrawlOptions::*member) {
  return {name, "", help,
          [member](CrawlOptions& o, std::string_view) {
            o.*member = true;
            return std::string();
          },
          [member](const CrawlOptions& o) { return std::string(o.*member ? "on" : "off"); }};
}

// One of a fixed set of words.
OptionSpec ChoiceOption(std::string_view name, std::string_view choices, std::string_view help,
                        std::string CrawlOptions::*member) {
  return {name, choices, help,
          [member, choices](CrawlOptions& o, std::string_view v) {
            std::string_view rest = choices;
            while (!rest.empty()) {
              const auto bar = rest.find('|');
              if (rest.substr(0, bar) == v) {
                o.*member = std::string(v);
                return std::string();
              }
              rest = bar == std::string_view::npos ? "" : rest.substr(bar + 1);
            }
            return "must be one of " + std::string(choices);
          },
          [member](const CrawlOptions& o) { return o.*member; }};
}

std::vector<OptionSpec> MakeSpecs() {
  std::vector<OptionSpec> specs;
  specs.push_back(StringOption("seeds", "FILE",
                               "read seed URLs from FILE, one per line ('#' comments)",
                               &CrawlOptions::seeds_file));
  specs.push_back(StringOption("out", "DIR",
                               "write crawl.db, warc/, findings.jsonl and pages.jsonl to DIR; "
                               "a DIR that holds a crawl is only continued with --resume",
                               &CrawlOptions::out_dir));
  specs.push_back({"resume", "DIR",
                   "continue the crawl in DIR (after kill -9, a crash, a reboot) from its "
                   "crawl.db: nothing fetched and recorded is fetched again",
                   [](CrawlOptions& o, std::string_view v) {
                     o.resume = true;
                     o.out_dir = std::string(v);
                     return std::string();
                   },
                   [](const CrawlOptions& o) { return std::string(o.resume ? o.out_dir : "none"); }});
  specs.push_back(StringOption("case", "REF",
                               "case reference recorded in the audit record and every WARC file",
                               &CrawlOptions::case_ref));
  specs.push_back(ChoiceOption("store", "sqlite|none",
                               "keep crawl state in DIR/crawl.db (none: in memory only, no "
                               "--resume, no report)",
                               &CrawlOptions::store));
  specs.push_back({"warc", "on|off",
                   "write every response, as received, to DIR/warc/*.warc.gz (WARC/1.1)",
                   [](CrawlOptions& o, std::string_view v) {
                     if (v != "on" && v != "off") return std::string("must be on or off");
                     o.warc = v == "on";
                     return std::string();
                   },
                   [](const CrawlOptions& o) { return std::string(o.warc ? "on" : "off"); }});
  specs.push_back({"warc-file-size", "BYTES",
                   "start a new WARC file when one would grow past BYTES (K/M/G suffixes)",
                   [](CrawlOptions& o, std::string_view v) {
                     return ParseSize(v, &o.warc_file_bytes);
                   },
                   [](const CrawlOptions& o) { return std::to_string(o.warc_file_bytes); }});
  specs.push_back(IntOption<long>("commit-ms",
                                  "commit batched crawl.db writes at least every N ms (what "
                                  "kill -9 can cost: URLs fetched in that window are refetched)",
                                  &CrawlOptions::commit_ms, 1));
  specs.push_back(IntOption<long>("shutdown-grace-ms",
                                  "after SIGINT or SIGTERM, how long fetches in flight get to "
                                  "finish before they are abandoned (a second signal: at once)",
                                  &CrawlOptions::shutdown_grace_ms, 0));
  specs.push_back(StringOption("signatures", "FILE",
                               "signature file (none = the stock signatures/rules/outlets.yaml)",
                               &CrawlOptions::signatures));
  specs.push_back(FlagOption("watch",
                             "reload the signature file when it changes (SIGHUP always does); "
                             "a broken file is refused and the running one kept",
                             &CrawlOptions::watch));
  specs.push_back(ListOption(
      "connect-to", "HOST:PORT:CHOST:CPORT",
      "connect to CHOST:CPORT instead of HOST:PORT, as curl does; '::127.0.0.1:8080' maps "
      "every host; repeatable",
      &CrawlOptions::connect_to));
  specs.push_back(ListOption("header", "'NAME: VALUE'", "extra request header; repeatable",
                             &CrawlOptions::headers));
  specs.push_back(StringOption("user-agent", "TEXT", "User-Agent request header",
                               &CrawlOptions::user_agent));
  specs.push_back(IntOption<std::int64_t>("max-pages", "stop after fetching N URLs",
                                          &CrawlOptions::max_pages, 1));
  specs.push_back(IntOption<int>("max-depth", "follow links at most N hops from a seed",
                                 &CrawlOptions::max_depth, 0));
  specs.push_back(StringOption(
      "scope", "SCOPE",
      "which hosts to follow links to: 'any', 'same-host' (the seeds' hosts) or a host regex",
      &CrawlOptions::scope));
  specs.push_back(StringOption(
      "accept", "REGEX",
      "follow only links whose normalised URL matches REGEX (RE2, unanchored); seeds always",
      &CrawlOptions::accept));
  specs.push_back(StringOption("reject", "REGEX",
                               "never follow links whose normalised URL matches REGEX (RE2)",
                               &CrawlOptions::reject));
  specs.push_back(IntOption<int>("concurrency", "transfers in flight at most, in total",
                                 &CrawlOptions::concurrency, 1));
  specs.push_back(IntOption<int>("per-host", "transfers in flight at most, per host",
                                 &CrawlOptions::per_host, 1));
  specs.push_back(IntOption<int>("workers", "parse/match threads (0 = one per core)",
                                 &CrawlOptions::workers, 0));
  specs.push_back(IntOption<long>("connect-timeout-ms", "give up connecting after N ms",
                                  &CrawlOptions::connect_timeout_ms, 1));
  specs.push_back(IntOption<long>("timeout-ms", "give up a transfer after N ms in all",
                                  &CrawlOptions::timeout_ms, 1));
  specs.push_back(IntOption<long>("low-speed-bytes",
                                  "cut off a transfer slower than N bytes/s for --low-speed-s",
                                  &CrawlOptions::low_speed_bytes, 1));
  specs.push_back(IntOption<long>("low-speed-s", "see --low-speed-bytes",
                                  &CrawlOptions::low_speed_s, 1));
  specs.push_back({"max-body", "BYTES",
                   "largest (decoded) body kept; a larger one fails (K/M/G suffixes)",
                   [](CrawlOptions& o, std::string_view v) { return ParseSize(v, &o.max_body); },
                   [](const CrawlOptions& o) { return std::to_string(o.max_body); }});
  specs.push_back(IntOption<long>("max-redirects", "follow at most N redirects per URL",
                                  &CrawlOptions::max_redirects, 0));
  specs.push_back(ChoiceOption("progress", "auto|always|never",
                               "live progress line on stdout (auto: only when stdout is a terminal)",
                               &CrawlOptions::progress));
  specs.push_back(ListOption(
      "allow-net", "CIDR",
      "let the SSRF guard connect to this network (loopback, private, link-local and other "
      "non-global addresses are refused by default); repeatable",
      &CrawlOptions::allow_net));
  specs.push_back(IntOption<long>("delay-ms", "least time between the starts of two fetches to "
                                  "one host (or IP, see --politeness-key)",
                                  &CrawlOptions::delay_ms, 0));
  specs.push_back(ChoiceOption("politeness-key", "host|ip",
                               "what --per-host and --delay-ms count per: the host name, or the "
                               "IP address it resolves to (mirrors often share a server)",
                               &CrawlOptions::politeness_key));
  specs.push_back(ChoiceOption("robots", "obey|ignore",
                               "obey robots.txt (RFC 9309) or ignore it", &CrawlOptions::robots));
  specs.push_back(IntOption<long>("robots-ttl-s", "how long a host's robots.txt is trusted",
                                  &CrawlOptions::robots_ttl_s, 1));
  specs.push_back(IntOption<long>("max-crawl-delay-ms",
                                  "the longest robots.txt Crawl-delay honoured (longer is capped)",
                                  &CrawlOptions::max_crawl_delay_ms, 0));
  specs.push_back({"sitemaps", "on|off",
                   "queue the URLs of sitemaps named in robots.txt and at /sitemap.xml",
                   [](CrawlOptions& o, std::string_view v) {
                     if (v != "on" && v != "off") return std::string("must be on or off");
                     o.sitemaps = v == "on";
                     return std::string();
                   },
                   [](const CrawlOptions& o) { return std::string(o.sitemaps ? "on" : "off"); }});
  specs.push_back(IntOption<int>("retries",
                                 "retries per URL after a connect error, timeout, 429 or 5xx",
                                 &CrawlOptions::retries, 0));
  specs.push_back(IntOption<long>("retry-base-ms",
                                  "first retry backoff; doubles per attempt, with jitter",
                                  &CrawlOptions::retry_base_ms, 1));
  specs.push_back(IntOption<long>("max-retry-after-s",
                                  "a longer Retry-After is not waited for: the URL fails",
                                  &CrawlOptions::max_retry_after_s, 0));
  specs.push_back(IntOption<int>("host-max-failures",
                                 "consecutive failures after which a host's remaining URLs are "
                                 "given up (each recorded)",
                                 &CrawlOptions::host_max_failures, 1));
  specs.push_back(IntOption<int>("max-url-length", "longer links are not followed (spider trap)",
                                 &CrawlOptions::max_url_length, 16));
  specs.push_back(IntOption<int>("max-query-params",
                                 "links with more query parameters are not followed",
                                 &CrawlOptions::max_query_params, 0));
  specs.push_back(IntOption<std::int64_t>("max-pages-per-host",
                                          "URLs queued at most per host",
                                          &CrawlOptions::max_pages_per_host, 1));
  specs.push_back(IntOption<int>("max-query-variants",
                                 "URLs queued at most per host and path that differ only in "
                                 "their query string (calendars, session ids)",
                                 &CrawlOptions::max_query_variants, 1));
  specs.push_back(IntOption<int>("max-links-per-page",
                                 "links followed at most from one page (the first N distinct "
                                 "ones; the page's line says how many were not)",
                                 &CrawlOptions::max_links_per_page, 0));
  specs.push_back(StringOption("proxy", "URL",
                               "send requests through this proxy: http://, https:// or "
                               "socks5h:// (e.g. Tor for .onion mirrors)",
                               &CrawlOptions::proxy));
  specs.push_back(FlagOption("insecure", "do not verify TLS certificates (logged loudly)",
                             &CrawlOptions::insecure));
  return specs;
}

}  // namespace

const std::vector<OptionSpec>& CrawlOptionSpecs() {
  static const std::vector<OptionSpec> specs = MakeSpecs();
  return specs;
}

std::string ParseCrawlArgs(const std::vector<std::string>& args, CrawlOptions* options,
                           HelpRequest* help) {
  *help = HelpRequest::kNone;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (arg == "--help" || arg == "-h") {
      *help = HelpRequest::kText;
      continue;
    }
    if (arg == "--help-markdown") {
      *help = HelpRequest::kMarkdown;
      continue;
    }
    if (arg.substr(0, 2) != "--") {
      options->seeds.emplace_back(arg);
      continue;
    }
    std::string_view name = arg.substr(2);
    std::string_view value;
    bool has_value = false;
    if (auto eq = name.find('='); eq != std::string_view::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    const OptionSpec* spec = nullptr;
    for (const OptionSpec& s : CrawlOptionSpecs()) {
      if (s.name == name) spec = &s;
    }
    if (spec == nullptr) return "unknown option --" + std::string(name);
    if (spec->value.empty()) {
      if (has_value) return "--" + std::string(name) + " takes no value";
    } else if (!has_value) {
      if (i + 1 >= args.size()) return "--" + std::string(name) + " needs a value";
      value = args[++i];
    }
    const std::string error = spec->set(*options, value);
    if (!error.empty()) {
      return "--" + std::string(name) + " " + std::string(value) + ": " + error;
    }
  }
  return "";
}

std::string CrawlHelp() {
  std::ostringstream out;
  const CrawlOptions defaults;
  out << "usage: mirrorwatch crawl [OPTIONS] [SEED-URL...]\n\n"
         "Crawls from the seed URLs, scores every HTML page against the signature file and\n"
         "writes DIR/findings.jsonl (flagged pages) and DIR/pages.jsonl (every URL fetched).\n\n"
         "options:\n";
  for (const OptionSpec& spec : CrawlOptionSpecs()) {
    std::string head = "  --" + std::string(spec.name);
    if (!spec.value.empty()) head += " " + std::string(spec.value);
    out << head << "\n      " << spec.help << " (default: " << spec.show(defaults) << ")\n";
  }
  out << "  --help\n      this text\n";
  return out.str();
}

std::string CrawlOptionsMarkdown() {
  std::ostringstream out;
  const CrawlOptions defaults;
  out << "| option | default | what it does |\n|---|---|---|\n";
  for (const OptionSpec& spec : CrawlOptionSpecs()) {
    auto cell = [](std::string text) {
      for (std::size_t at = 0; (at = text.find('|', at)) != std::string::npos; at += 2) {
        text.replace(at, 1, "\\|");
      }
      return text;
    };
    std::string name = "--" + std::string(spec.name);
    if (!spec.value.empty()) name += " " + std::string(spec.value);
    out << "| `" << cell(name) << "` | `" << cell(spec.show(defaults)) << "` | "
        << cell(std::string(spec.help)) << " |\n";
  }
  return out.str();
}

}  // namespace mw
