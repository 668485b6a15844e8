// Every crawl option, declared once: the command line, --help and docs/options.md come from here.
#ifndef MIRRORWATCH_CRAWLER_OPTIONS_H_
#define MIRRORWATCH_CRAWLER_OPTIONS_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace mw {

struct CrawlOptions {
  std::vector<std::string> seeds;       // seed URLs given as arguments
  std::string seeds_file;               // one seed URL per line; '#' starts a comment
  std::string out_dir = "mirrorwatch-out";
  bool resume = false;        // continue the crawl in out_dir from its crawl.db
  std::string case_ref;       // operator's case reference, in the audit record
  std::string store = "sqlite";  // sqlite | none: keep crawl state in out_dir/crawl.db
  bool warc = true;              // write every response to out_dir/warc/*.warc.gz
  std::int64_t warc_file_bytes = std::int64_t{1} << 30;  // rotate WARC files at this size
  long commit_ms = 250;          // commit the store's batched writes at least this often
  long shutdown_grace_ms = 10'000;  // after SIGINT/SIGTERM, how long fetches in flight get
  std::string signatures;               // signature file; empty = the stock rules
  bool watch = false;                   // reload the signature file when it changes
  std::vector<std::string> connect_to;  // curl-style HOST:PORT:CHOST:CPORT
  std::vector<std::string> headers;
  std::string user_agent = "mirrorwatch/" MW_VERSION " (+https://mirrorwatch.invalid/contact)";
  std::int64_t max_pages = 100'000;
  int max_depth = 12;
  std::string scope = "any";  // any | same-host | a host regex (RE2)
  std::string accept;         // follow only links whose URL matches this RE2 regex
  std::string reject;         // never follow links whose URL matches this RE2 regex
  int concurrency = 32;
  int per_host = 4;
  int workers = 0;  // parse/match threads; 0 = one per core
  long connect_timeout_ms = 10'000;
  long timeout_ms = 30'000;
  long low_speed_bytes = 512;  // a transfer slower than this many bytes/s ...
  long low_speed_s = 15;       // ... for this many seconds is cut off (slow drips)
  std::int64_t max_body = 8 << 20;
  long max_redirects = 10;
  std::string progress = "auto";  // auto | always | never
  // Safety and politeness.
  std::vector<std::string> allow_net;  // CIDRs the SSRF guard lets through
  long delay_ms = 0;                   // between the starts of two fetches to one host (or IP)
  std::string politeness_key = "host";  // host | ip
  std::string robots = "obey";          // obey | ignore
  long robots_ttl_s = 86'400;
  long max_crawl_delay_ms = 30'000;  // cap on a robots.txt Crawl-delay
  bool sitemaps = true;
  int retries = 3;              // per URL, for connect errors, timeouts, 429 and 5xx
  long retry_base_ms = 1'000;   // first backoff; doubles per attempt, with jitter
  long max_retry_after_s = 600;  // a longer Retry-After is not waited for
  int host_max_failures = 10;    // consecutive failures that make a host be given up
  // Spider traps.
  int max_url_length = 2'048;
  int max_query_params = 20;
  std::int64_t max_pages_per_host = 10'000;
  int max_query_variants = 50;  // URLs per host and path that differ only in their query
  int max_links_per_page = 10'000;  // links followed at most from one page
  // Transport.
  std::string proxy;
  bool insecure = false;
};

// One command-line option. `set` parses a value into the options and returns an error message
// (empty on success); `show` prints the current value, so show(CrawlOptions{}) is the default.
struct OptionSpec {
  std::string_view name;   // without the leading "--"
  std::string_view value;  // placeholder for --help ("N", "DIR"); empty for a flag
  std::string_view help;
  std::function<std::string(CrawlOptions&, std::string_view)> set;
  std::function<std::string(const CrawlOptions&)> show;
  bool repeatable = false;
};

// The crawl options, in --help order.
const std::vector<OptionSpec>& CrawlOptionSpecs();

enum class HelpRequest { kNone, kText, kMarkdown };

// Parses `crawl` arguments (options and seed URLs). Returns an error message, empty on success.
// Sets *help when --help (or --help-markdown) was given.
std::string ParseCrawlArgs(const std::vector<std::string>& args, CrawlOptions* options,
                           HelpRequest* help);

// The option table as --help text (each option with its default).
std::string CrawlHelp();
// The option table as a markdown table (docs/options.md embeds it verbatim).
std::string CrawlOptionsMarkdown();

}  // namespace mw

#endif  // MIRRORWATCH_CRAWLER_OPTIONS_H_
