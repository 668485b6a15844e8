// The crawl loop: the only place where frontier, fetch, parse, match and report are wired.
#ifndef MIRRORWATCH_CRAWLER_CRAWL_H_
#define MIRRORWATCH_CRAWLER_CRAWL_H_

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "crawler/fetch_pool.h"
#include "crawler/options.h"
#include "signatures/signature_set.h"

namespace mw {

struct CrawlSummary {
  std::int64_t pages = 0;        // URLs fetched (whatever the outcome)
  std::int64_t html_pages = 0;   // pages parsed and scored
  std::int64_t errors = 0;       // fetches that failed
  std::int64_t bytes = 0;        // body bytes received (decoded)
  std::int64_t flagged_pages = 0;
  std::int64_t retries = 0;      // fetches given another try
  std::int64_t skipped = 0;      // URLs not fetched (robots, traps, abandoned hosts)
  std::map<std::string, std::int64_t> skipped_by_kind;
  std::size_t hosts = 0;         // distinct hosts queued
  double seconds = 0;
  std::map<std::string, std::int64_t> errors_by_kind;
  std::map<std::string, std::set<std::string>> flagged_hosts;  // outlet -> hosts
  int signature_reloads = 0;          // new signature files put in service during the crawl
  int signature_reload_failures = 0;  // files refused (the previous set kept running)
  std::string stopped_by;        // "SIGINT" or "SIGTERM" when a signal ended the crawl early
  std::int64_t left_queued = 0;  // URLs not fetched when it ended (queued or abandoned)
};

// The fetch pool's options from a crawl's (or re-check's) transport options, the SSRF guard
// letting --allow-net through. Returns an error message (a bad --allow-net), empty on success.
std::string MakeFetchOptions(const CrawlOptions& options, FetchOptions* fetch);

// The signature file a crawl uses: --signatures, or the stock rules when it is empty.
std::string SignatureFilePath(const CrawlOptions& options);

// Crawls per `options`, scoring pages with `signatures`, and writes findings.jsonl and
// pages.jsonl under options.out_dir (created if missing). Blocks until the crawl ends: when
// the frontier is exhausted or max_pages URLs were fetched.
// On SIGHUP, and when options.watch sees SignatureFilePath(options) change, the file is loaded
// and compiled off the event loop; a broken file is refused (its diagnostics on stderr) and the
// running set stays. A page is always scored by one whole set, old or new.
// Returns an error message (bad seed, unwritable output, bad scope regex); empty on success,
// with *summary filled. Network failures are not errors: they are recorded per page.
std::string RunCrawl(const CrawlOptions& options, std::shared_ptr<const SignatureSet> signatures,
                     CrawlSummary* summary);
// The same with a set the caller keeps alive for the whole crawl (tests).
std::string RunCrawl(const CrawlOptions& options, const SignatureSet& signatures,
                     CrawlSummary* summary);

// A human-readable summary: pages, errors, rate, and the flagged hosts by outlet.
std::string FormatSummary(const CrawlSummary& summary);

}  // namespace mw

#endif  // MIRRORWATCH_CRAWLER_CRAWL_H_
