#include "crawler/crawl.h"

#include <re2/re2.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <algorithm>
#include <atomic>
#include <csignal>
#include <chrono>
#include <functional>
#include <random>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <thread>
#include <unordered_set>
#include <utility>
#include <vector>

#include "crawler/address_guard.h"
#include "crawler/fetch_pool.h"
#include "crawler/frontier.h"
#include "crawler/recorder.h"
#include "crawler/warc_json.h"
#include "parsers/charset.h"
#include "parsers/html.h"
#include "parsers/robots.h"
#include "parsers/sitemap.h"
#include "parsers/url.h"

namespace mw {
namespace {

namespace asio = boost::asio;
using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

// When a fetch happened, as its evidence says: the moment its request went out.
std::string FetchedAt(const FetchResult& result) {
  const bool sent = result.sent_at.time_since_epoch().count() != 0;
  return UtcIso(sent ? result.sent_at : std::chrono::system_clock::now());
}

std::string TrimLine(std::string line) {
  const auto first = line.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return "";
  line.erase(0, first);
  line.erase(line.find_last_not_of(" \t\r\n") + 1);
  return line;
}

// Which links are followed: a host scope plus optional URL accept/reject patterns. Immutable
// once built, so workers read it without locks.
class Scope {
 public:
  static std::string Make(const CrawlOptions& options, const std::vector<Url>& seeds,
                          std::unique_ptr<Scope>* out) {
    auto scope = std::make_unique<Scope>();
    if (options.scope == "any") {
      scope->kind_ = Kind::kAny;
    } else if (options.scope == "same-host") {
      scope->kind_ = Kind::kSeedHosts;
      for (const Url& seed : seeds) scope->hosts_.insert(seed.host);
    } else {
      scope->kind_ = Kind::kHostRegex;
      if (std::string e = Compile("--scope", options.scope, &scope->host_regex_); !e.empty()) {
        return e;
      }
    }
    if (std::string e = Compile("--accept", options.accept, &scope->accept_); !e.empty()) {
      return e;
    }
    if (std::string e = Compile("--reject", options.reject, &scope->reject_); !e.empty()) {
      return e;
    }
    *out = std::move(scope);
    return "";
  }

  bool Allows(const Url& url) const {
    if (accept_ && !RE2::PartialMatch(url.spec, *accept_)) return false;
    if (reject_ && RE2::PartialMatch(url.spec, *reject_)) return false;
    switch (kind_) {
      case Kind::kAny: return true;
      case Kind::kSeedHosts: return hosts_.count(url.host) > 0;
      case Kind::kHostRegex: return RE2::PartialMatch(url.host, *host_regex_);
    }
    return false;
  }

 private:
  enum class Kind { kAny, kSeedHosts, kHostRegex };

  // Leaves *regex null for an empty pattern.
  static std::string Compile(const char* option, const std::string& pattern,
                             std::unique_ptr<RE2>* regex) {
    if (pattern.empty()) return "";
    RE2::Options re_options;
    re_options.set_log_errors(false);
    *regex = std::make_unique<RE2>(pattern, re_options);
    if (!(*regex)->ok()) return std::string(option) + " " + pattern + ": " + (*regex)->error();
    return "";
  }

  Kind kind_ = Kind::kAny;
  std::unordered_set<std::string> hosts_;
  std::unique_ptr<RE2> host_regex_;
  std::unique_ptr<RE2> accept_;
  std::unique_ptr<RE2> reject_;
};

// What a worker hands back to the loop for one page.
struct ParsedPage {
  std::vector<Url> links;                 // in scope, de-duplicated within the page
  std::size_t links_dropped = 0;          // beyond --max-links-per-page
  std::vector<FindingRecord> findings;    // one per flagged outlet, archived
  WarcRef warc;                           // the page's response record
};

// What the loop knows about one host (Url::Authority()).
struct HostState {
  enum class Robots { kUnknown, kFetching, kReady };
  bool introduced = false;  // has had a URL queued (and so its robots.txt asked for)
  Robots robots = Robots::kUnknown;
  RobotsRules rules = RobotsRules::AllowAll();
  std::string robots_problem;  // why the rules are DisallowAll, when they are for an error
  SteadyTime robots_expire{};
  int robots_attempts = 0;
  int depth = 0;              // depth of the first URL seen on the host
  std::string scheme;         // of that URL: where robots.txt is fetched from
  int failures = 0;           // consecutive failed fetches
  bool abandoned = false;
  bool regrouped = false;     // moved to its IP's politeness group
  std::int64_t admitted = 0;  // URLs queued
  int sitemaps = 0;           // sitemap files fetched
  std::unordered_map<std::string, int> query_variants;  // path -> URLs with a query
  std::string observed;       // address, server and certificate last recorded
};

bool IsRetryable(const FetchResult& result) {
  switch (result.error) {
    case FetchError::kTimeout:
    case FetchError::kConnect:
    case FetchError::kProtocol: return true;
    case FetchError::kNone:
    case FetchError::kNotHtml:  // a response arrived: its status decides, whatever the body is
      break;
    default: return false;
  }
  return result.status == 429 || (result.status >= 500 && result.status <= 504);
}

std::size_t CountQueryParams(std::string_view query) {
  if (query.empty()) return 0;
  return static_cast<std::size_t>(std::count(query.begin(), query.end(), '&')) + 1;
}

constexpr int kMaxSitemapsPerHost = 20;
constexpr int kMaxSitemapNesting = 2;
constexpr std::int64_t kRobotsMaxBytes = 512'000;   // RFC 9309: at least 500 KiB are parsed
constexpr std::int64_t kSitemapMaxBytes = 50 << 20;  // the sitemaps.org cap

class CrawlLoop {
 public:
  CrawlLoop(const CrawlOptions& options, std::shared_ptr<const SignatureSet> signatures,
            const Scope& scope, FetchOptions fetch, Recorder& recorder)
      : options_(options),
        signatures_(std::move(signatures)),
        scope_(scope),
        workers_(WorkerCount(options)),
        max_parsing_(4 * WorkerCount(options)),
        fetch_(io_, std::move(fetch)),
        recorder_(recorder),
        frontier_(MakeFrontier(options, recorder)),
        wake_timer_(io_),
        progress_timer_(io_),
        hangup_(io_, SIGHUP),
        stop_signals_(io_, SIGINT, SIGTERM),
        grace_timer_(io_),
        watch_timer_(io_),
        commit_timer_(io_),
        keep_running_(io_.get_executor()),
        random_(std::random_device{}()) {}

  ~CrawlLoop() { workers_.join(); }

  void Run(const std::vector<Url>& seeds, CrawlSummary* summary) {
    start_ = Clock::now();
    show_progress_ = options_.progress == "always" ||
                     (options_.progress == "auto" && ::isatty(STDOUT_FILENO));
    asio::post(io_, [this, &seeds] {
      if (recorder_.resuming()) ReintroduceQueuedHosts();
      for (const Url& seed : seeds) Admit(seed, 0, "", 0, 0, /*check_traps=*/false);
      Pump();
    });
    ScheduleCommit();
    if (show_progress_) ScheduleProgress();
    WaitForHangup();
    WaitForStop();
    if (options_.watch) {
      watched_mtime_ = SignatureFileTime();
      ScheduleWatch();
    }
    io_.run();
    workers_.join();
    if (show_progress_) std::fputs("\r\033[K", stdout);
    summary_.hosts = frontier_->hosts();
    summary_.left_queued = static_cast<std::int64_t>(frontier_->queued()) + in_flight_;
    summary_.seconds = std::chrono::duration<double>(Clock::now() - start_).count();
    *summary = std::move(summary_);
  }

 private:
  static int WorkerCount(const CrawlOptions& options) {
    return options.workers > 0 ? options.workers
                               : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  }

  static std::unique_ptr<Frontier> MakeFrontier(const CrawlOptions& options,
                                                Recorder& recorder) {
    FrontierConfig config;
    config.per_group = options.per_host;
    config.log = recorder.store();
    return recorder.resuming() ? RestoreFrontier(std::move(config))
                               : NewFrontier(std::move(config));
  }

  // On --resume: each host with URLs still queued gets its robots.txt, delay and sitemaps
  // again, as when its first URL was queued.
  void ReintroduceQueuedHosts() {
    Store& store = *recorder_.store();
    for (const auto& [key, count] : store.QueuedHosts()) {
      HostState& host = hosts_[key];
      if (host.introduced) continue;
      const std::vector<FrontierEntry> first = store.LoadQueued(key, 0, 1);
      std::optional<Url> url = first.empty() ? std::nullopt : ParseUrl(first.front().url);
      if (!url) continue;
      host.admitted = count;
      Introduce(key, host, *url, first.front().depth);
    }
  }

  // ---- admission: every URL enters the frontier through here ----

  // Queues a URL after the trap limits; a URL refused is recorded once. Returns true if queued.
  bool Admit(const Url& url, int depth, const std::string& via, std::int64_t via_id, int redirects,
             bool check_traps) {
    const std::string key = url.Authority();
    HostState& host = hosts_[key];
    if (check_traps) {
      std::string trap;
      if (url.spec.size() > static_cast<std::size_t>(options_.max_url_length)) {
        trap = "URL longer than --max-url-length";
      } else if (CountQueryParams(url.query) >
                 static_cast<std::size_t>(options_.max_query_params)) {
        trap = "more query parameters than --max-query-params";
      } else if (host.admitted >= options_.max_pages_per_host) {
        trap = "host reached --max-pages-per-host";
      } else if (!url.query.empty() &&
                 host.query_variants[url.path] >= options_.max_query_variants) {
        trap = "path reached --max-query-variants";
      }
      if (!trap.empty()) {
        if (frontier_->MarkSeen(url.spec, via_id)) WriteSkip(url.spec, depth, via, "trap", trap);
        return false;
      }
    }
    if (host.abandoned) {
      if (frontier_->MarkSeen(url.spec, via_id)) {
        WriteSkip(url.spec, depth, via, "host_abandoned", "the host failed too often");
      }
      return false;
    }
    if (!frontier_->Add(url, depth, via, redirects, via_id)) return false;
    ++host.admitted;
    if (!url.query.empty()) ++host.query_variants[url.path];
    if (!host.introduced) Introduce(key, host, url, depth);
    return true;
  }

  // First URL of a host in the frontier: its politeness delay, its robots.txt (the host waits
  // for it), its sitemaps.
  void Introduce(const std::string& key, HostState& host, const Url& url, int depth) {
    host.introduced = true;
    host.depth = depth;
    host.scheme = url.scheme;
    if (options_.delay_ms > 0) {
      frontier_->SetDelay(key, std::chrono::milliseconds(options_.delay_ms));
    }
    if (options_.robots == "obey") {
      frontier_->Block(key);
      FetchRobots(key, host);  // its sitemaps follow from OnRobots
    } else if (options_.sitemaps) {
      FetchDefaultSitemaps(key, host, {});
    }
  }

  // ---- robots.txt ----

  void FetchRobots(const std::string& key, HostState& host) {
    host.robots = HostState::Robots::kFetching;
    ++aux_in_flight_;
    FetchRequest request;
    request.url = host.scheme + "://" + key + "/robots.txt";
    request.follow_redirects = true;  // RFC 9309 2.3.1.2: follow at least five
    request.html_only = false;
    request.max_body = kRobotsMaxBytes;
    request.capture = recorder_.archiving();
    fetch_.Fetch(std::move(request), [this, key](FetchResult result) {
      --aux_in_flight_;
      OnRobots(key, std::move(result));
    });
  }

  void OnRobots(const std::string& key, FetchResult result) {
    HostState& host = hosts_[key];
    WriteFetch(result, "robots", host.depth, "", 0, "", "", 0, recorder_.Archive(result));
    Regroup(key, host, result);
    const auto now = SteadyClockNow();
    const bool unreachable = !result.ok() && result.error != FetchError::kTooLarge;
    if (unreachable || result.status >= 500 || result.status == 429) {
      // RFC 9309 2.3.1.3-4: an unreachable or failing robots.txt disallows everything. Try
      // again with backoff before concluding so for this crawl.
      if (host.robots_attempts++ < options_.retries) {
        const auto wait = Backoff(host.robots_attempts, result.retry_after);
        After(wait, [this, key] { FetchRobots(key, hosts_[key]); });
        return;
      }
      host.rules = RobotsRules::DisallowAll();
      host.robots_problem = "robots.txt unavailable (" +
                            (unreachable ? result.error_text
                                         : "HTTP " + std::to_string(result.status)) +
                            "): everything disallowed";
    } else if (result.status >= 400) {
      host.rules = RobotsRules::AllowAll();  // RFC 9309 2.3.1.3: "unavailable" means allowed
      host.robots_problem.clear();
    } else {
      host.rules = RobotsRules::Parse(result.body, "mirrorwatch");
      host.robots_problem.clear();
    }
    host.robots = HostState::Robots::kReady;
    host.robots_attempts = 0;
    host.robots_expire = now + std::chrono::seconds(options_.robots_ttl_s);
    if (auto delay = host.rules.crawl_delay()) {
      const long ms = std::min<long>(static_cast<long>(*delay * 1000), options_.max_crawl_delay_ms);
      frontier_->SetDelay(key, std::chrono::milliseconds(std::max(ms, options_.delay_ms)));
    }
    if (options_.sitemaps && host.sitemaps == 0) FetchDefaultSitemaps(key, host, host.rules.sitemaps());
    frontier_->Unblock(key);
    Pump();
  }

  // ---- sitemaps ----

  void FetchDefaultSitemaps(const std::string& key, HostState& host,
                            std::vector<std::string> listed) {
    const std::string conventional = host.scheme + "://" + key + "/sitemap.xml";
    // Guessing /sitemap.xml is crawling the host, so robots.txt must allow it (a Sitemap: line
    // is the site's own invitation, and a robots.txt that failed allows nothing).
    const bool may_guess = options_.robots != "obey" || host.rules.Allows("/sitemap.xml");
    if (may_guess && std::find(listed.begin(), listed.end(), conventional) == listed.end()) {
      listed.push_back(conventional);
    }
    for (const std::string& text : listed) {
      std::optional<Url> url = ParseUrl(text);
      if (url && scope_.Allows(*url)) FetchSitemap(*url, key, 0);
    }
  }

  void FetchSitemap(const Url& url, const std::string& key, int nesting) {
    HostState& host = hosts_[key];
    if (host.sitemaps >= kMaxSitemapsPerHost || !sitemaps_seen_.insert(url.spec).second) return;
    ++host.sitemaps;
    ++aux_in_flight_;
    FetchRequest request;
    request.url = url.spec;
    request.follow_redirects = true;
    request.html_only = false;
    request.max_body = kSitemapMaxBytes;
    request.capture = recorder_.archiving();
    fetch_.Fetch(std::move(request), [this, key, nesting](FetchResult result) {
      WriteFetch(result, "sitemap", hosts_[key].depth, "", 0, "", "", 0,
                 recorder_.Archive(result));
      if (!result.ok() || result.status < 200 || result.status >= 300) {
        --aux_in_flight_;
        Pump();
        return;
      }
      asio::post(workers_, [this, key, nesting, body = std::move(result.body)] {
        Sitemap sitemap = ParseSitemap(body);
        asio::post(io_, [this, key, nesting, sitemap = std::move(sitemap)] {
          --aux_in_flight_;
          OnSitemap(key, nesting, sitemap);
        });
      });
    });
  }

  void OnSitemap(const std::string& key, int nesting, const Sitemap& sitemap) {
    const int depth = hosts_[key].depth + 1;
    for (const std::string& text : sitemap.urls) {
      std::optional<Url> url = ParseUrl(text);
      if (url && scope_.Allows(*url)) Admit(*url, depth, "sitemap", 0, 0, true);
    }
    if (nesting < kMaxSitemapNesting) {
      for (const std::string& text : sitemap.sitemaps) {
        std::optional<Url> url = ParseUrl(text);
        if (url && scope_.Allows(*url)) FetchSitemap(*url, key, nesting + 1);
      }
    }
    Pump();
  }

  // ---- the fetch loop ----

  // Starts as many fetches as the caps allow; ends the crawl when nothing is left to do.
  void Pump() {
    while (!stopping_ && in_flight_ < options_.concurrency && parsing_ < max_parsing_ &&
           started_ < options_.max_pages) {
      std::optional<FrontierEntry> entry = frontier_->Next();
      if (!entry) break;
      if (!MayFetch(*entry)) continue;
      ++in_flight_;
      ++started_;
      FetchRequest request;
      request.url = entry->url;
      request.capture = recorder_.archiving();
      request.on_sent = [this, key = entry->host_key](SteadyTime at) {
        if (!finished_) frontier_->Sent(key, at);
      };
      fetch_.Fetch(std::move(request),
                   [this, entry = std::move(*entry)](FetchResult result) mutable {
                     OnFetched(std::move(entry), std::move(result));
                   });
    }
    const bool exhausted =
        stopping_ || frontier_->queued() == 0 || started_ >= options_.max_pages;
    // Pending retries and robots.txt backoffs do not hold up a stop: their URLs stay queued.
    const bool waiting = timers_ > 0 && !stopping_;
    if (in_flight_ == 0 && parsing_ == 0 && aux_in_flight_ == 0 && !waiting && exhausted) {
      Finish();
      return;
    }
    ArmWake();
  }

  // Robots rules, checked when a URL is about to be fetched (they may have changed since it
  // was queued). False when the entry was dealt with here.
  bool MayFetch(const FrontierEntry& entry) {
    if (options_.robots != "obey") return true;
    HostState& host = hosts_[entry.host_key];
    if (host.robots == HostState::Robots::kReady && SteadyClockNow() >= host.robots_expire) {
      frontier_->Release(entry.host_key);
      FrontierEntry again = entry;
      --again.attempts;  // Retry() counts a try, and this URL was not tried
      frontier_->Retry(std::move(again));  // back at the front, fetched once the rules are fresh
      frontier_->Block(entry.host_key);
      FetchRobots(entry.host_key, host);
      return false;
    }
    std::optional<Url> url = ParseUrl(entry.url);
    const std::string path = url ? url->path + (url->query.empty() ? "" : "?" + url->query) : "/";
    if (host.rules.Allows(path)) return true;
    frontier_->Release(entry.host_key);
    WriteSkip(entry.url, entry.depth, entry.via, "robots",
              host.robots_problem.empty() ? "disallowed by robots.txt" : host.robots_problem,
              entry.id);
    recorder_.Done(entry.id);
    return false;
  }

  void OnFetched(FrontierEntry entry, FetchResult result) {
    --in_flight_;
    frontier_->Release(entry.host_key);
    HostState& host = hosts_[entry.host_key];
    Regroup(entry.host_key, host, result);
    Observe(host, result);
    if (IsRetryable(result)) {
      if (result.error == FetchError::kNotHtml) {  // a failure status: the body's type is moot
        result.error = FetchError::kNone;
        result.error_text.clear();
      }
      const WarcRef warc = recorder_.Archive(result);
      ++host.failures;
      if (host.failures >= options_.host_max_failures) {
        WriteFinalFailure(entry, result, "the host failed too often", warc);
        // Fetches in flight when the host was given up land here too: give it up once.
        if (!host.abandoned) AbandonHost(entry.host_key, host);
        Pump();
        return;
      }
      const bool too_long = result.retry_after > options_.max_retry_after_s;
      if (entry.attempts < options_.retries && !too_long) {
        const auto wait = Backoff(entry.attempts + 1, result.retry_after);
        WriteFetch(result, "page", entry.depth, entry.via, entry.attempts,
                   "retrying in " + std::to_string(wait.count()) + " ms", "", entry.id, warc);
        ++summary_.retries;
        frontier_->Defer(entry.host_key, SteadyClockNow() + wait);
        frontier_->Retry(std::move(entry));
        Pump();
        return;
      }
      WriteFinalFailure(entry, result,
                        too_long ? "Retry-After longer than --max-retry-after-s"
                                 : "retries exhausted",
                        warc);
      Pump();
      return;
    }
    host.failures = 0;
    ++summary_.pages;
    summary_.bytes += static_cast<std::int64_t>(result.body.size());
    std::optional<Url> final_url;
    if (!result.ok()) {
      CountError(result);
    } else if (result.status >= 300 && result.status < 400 && !result.redirect_url.empty()) {
      FollowRedirect(entry, result, recorder_.Archive(result));
      recorder_.Done(entry.id);
      Pump();
      return;
    } else if (result.status >= 200 && result.status < 300) {
      final_url = ParseUrl(result.final_url);
    }
    if (!final_url) {  // nothing to parse: the record is the whole story
      WriteFetch(result, "page", entry.depth, entry.via, entry.attempts, "", "", entry.id,
                 recorder_.Archive(result));
      recorder_.Done(entry.id);
      Pump();
      return;
    }
    ++parsing_;
    asio::post(workers_, [this, entry = std::move(entry), result = std::move(result),
                          final_url = std::move(*final_url)]() mutable {
      ParsedPage page = Parse(entry, result, final_url);
      result.raw_request = {};  // archived: the loop needs only the record's fields
      result.raw_response = {};
      asio::post(io_, [this, entry = std::move(entry), result = std::move(result),
                       page = std::move(page)]() mutable {
        OnParsed(entry, result, std::move(page));
      });
    });
    Pump();
  }

  // Records a retryable failure that will not be tried again, and why.
  void WriteFinalFailure(const FrontierEntry& entry, const FetchResult& result,
                         const std::string& why, const WarcRef& warc) {
    if (result.ok()) {
      // The server answered with a failure status (429, 5xx): that is the error.
      WriteFetch(result, "page", entry.depth, entry.via, entry.attempts,
                 "HTTP " + std::to_string(result.status) + ": " + why, "http_status", entry.id,
                 warc);
    } else {
      CountError(result);
      WriteFetch(result, "page", entry.depth, entry.via, entry.attempts, why, "", entry.id, warc);
    }
    recorder_.Done(entry.id);
  }

  // A redirect is a new URL like any link: it goes through the scope, the trap limits, the
  // seen set, robots.txt and politeness. Every hop is its own pages.jsonl line.
  void FollowRedirect(const FrontierEntry& entry, const FetchResult& result, const WarcRef& warc) {
    std::optional<Url> target = ParseUrl(result.redirect_url);
    std::string problem;
    std::string kind;
    if (!target) {
      problem = "redirect to a URL that is not http(s): " + result.redirect_url;
      kind = "redirect_refused";
    } else if (target->spec == entry.url) {
      problem = "redirect loop";
      kind = "redirect_loop";
    } else if (entry.redirects + 1 > options_.max_redirects) {
      problem = "more than --max-redirects redirects";
      kind = "too_many_redirects";
    } else if (!scope_.Allows(*target)) {
      problem = "redirect leaves the scope";
      kind = "redirect_refused";
    }
    WriteFetch(result, "page", entry.depth, entry.via, entry.attempts, problem, kind, entry.id,
               warc);
    if (problem.empty()) Admit(*target, entry.depth, entry.url, entry.id, entry.redirects + 1, true);
  }

  void AbandonHost(const std::string& key, HostState& host) {
    host.abandoned = true;
    ++summary_.errors_by_kind["host_abandoned"];
    for (const FrontierEntry& dropped : frontier_->Drop(key)) {
      WriteSkip(dropped.url, dropped.depth, dropped.via, "host_abandoned",
                "the host failed " + std::to_string(host.failures) + " times in a row",
                dropped.id);
    }
  }

  // What a response tells about its host (address, server, certificate), recorded when it
  // differs from what was recorded last.
  void Observe(HostState& host, const FetchResult& result) {
    if (result.ip.empty()) return;
    std::string seen = result.ip + '\n' + result.server + '\n' + result.cert_json;
    if (seen == host.observed) return;
    std::optional<Url> url = ParseUrl(result.final_url.empty() ? result.url : result.final_url);
    if (!url) return;
    host.observed = std::move(seen);
    recorder_.Host({url->host, FetchedAt(result), result.ip, result.server, result.cert_json});
  }

  void Regroup(const std::string& key, HostState& host, const FetchResult& result) {
    if (options_.politeness_key != "ip" || host.regrouped || result.ip.empty()) return;
    host.regrouped = true;
    frontier_->Regroup(key, result.ip);
  }

  // Exponential backoff with jitter; a Retry-After wins when it asks for longer.
  std::chrono::milliseconds Backoff(int attempt, long retry_after_s) {
    const long base = options_.retry_base_ms << std::min(attempt - 1, 16);
    std::uniform_real_distribution<double> jitter(0.5, 1.5);
    long ms = std::min<long>(static_cast<long>(base * jitter(random_)), 300'000);
    if (retry_after_s > 0) ms = std::max(ms, retry_after_s * 1000);
    return std::chrono::milliseconds(ms);
  }

  // Runs `fn` on the loop after `wait`; the crawl does not end while it is pending.
  void After(std::chrono::milliseconds wait, std::function<void()> fn) {
    auto timer = std::make_shared<asio::steady_timer>(io_, wait);
    ++timers_;
    timer->async_wait([this, timer, fn = std::move(fn)](boost::system::error_code ec) {
      --timers_;
      if (!ec && !finished_) fn();
    });
  }

  // Wakes the loop when a deferred or delayed host may start again.
  void ArmWake() {
    std::optional<SteadyTime> wake = frontier_->NextWake();
    if (!wake || stopping_ || in_flight_ >= options_.concurrency || started_ >= options_.max_pages) return;
    if (wake_armed_ && *wake >= wake_at_) return;
    wake_armed_ = true;
    wake_at_ = *wake;
    wake_timer_.expires_at(*wake);
    wake_timer_.async_wait([this](boost::system::error_code ec) {
      if (ec) return;  // replaced by an earlier wake, or the crawl ended
      wake_armed_ = false;
      Pump();
    });
  }

  // Runs on a worker thread: archive, decode, extract, score. Touches no loop state.
  ParsedPage Parse(const FrontierEntry& entry, const FetchResult& result,
                   const Url& final_url) const {
    ParsedPage page;
    page.warc = recorder_.Archive(result);
    DecodedBody decoded = DecodeToUtf8(result.body, result.content_type);
    Document doc = ExtractDocument(decoded.utf8, final_url);
    if (entry.depth < options_.max_depth) {
      std::unordered_set<std::string> unique;
      const auto cap = static_cast<std::size_t>(options_.max_links_per_page);
      for (const Link& link : doc.links) {
        if (!unique.insert(link.url).second) continue;
        if (page.links.size() >= cap) {  // a page of a million links cannot flood the frontier
          ++page.links_dropped;
          continue;
        }
        std::optional<Url> url = ParseUrl(link.url);
        if (url && scope_.Allows(*url)) page.links.push_back(std::move(*url));
      }
    }
    std::string sha256;
    const std::string fetched_at = FetchedAt(result);
    // One whole set per page: a reload swaps the pointer, never the set under a page.
    const std::shared_ptr<const SignatureSet> signatures = signatures_.load();
    for (const OutletScore& score : signatures->Score(doc)) {
      if (!score.flagged) continue;
      if (sha256.empty()) sha256 = Sha256Hex(result.body);
      Json rules = Json::array();
      for (const RuleHit& hit : score.hits) {
        rules.push_back({{"id", hit.rule_id},
                         {"field", std::string(FieldName(hit.field))},
                         {"weight", hit.weight},
                         {"count", hit.count},
                         {"experimental", hit.experimental},
                         {"snippet", hit.snippet},
                         {"match", hit.match}});
      }
      Json line = {{"url", entry.url},
                   {"final_url", final_url.spec},
                   {"host", final_url.host},
                   {"outlet", score.outlet},
                   {"score", score.score},
                   {"stable_score", score.stable_score},
                   {"threshold", score.threshold},
                   {"signatures_sha256", signatures->sha256()},
                   {"rules", std::move(rules)},
                   {"status", result.status},
                   {"fetched_at", fetched_at},
                   {"sha256", sha256},
                   {"ip", result.ip},
                   {"depth", entry.depth},
                   {"via", entry.via},
                   {"warc", WarcRefJson(page.warc)}};
      FindingRecord& finding = page.findings.emplace_back();
      finding.url_id = entry.id;
      finding.url = entry.url;
      finding.final_url = final_url.spec;
      finding.host = final_url.host;
      finding.outlet = score.outlet;
      finding.score = score.score;
      finding.fetched_at = fetched_at;
      finding.sha256 = sha256;
      finding.warc = page.warc;
      finding.etag = result.etag;
      finding.last_modified = result.last_modified;
      finding.json = line.dump(-1, ' ', false, Json::error_handler_t::replace);
      // The finding itself goes into the evidence, beside the response it is about.
      finding.metadata = recorder_.ArchiveMetadata(final_url.spec, page.warc, finding.json);
    }
    return page;
  }

  void OnParsed(const FrontierEntry& entry, const FetchResult& result, ParsedPage page) {
    --parsing_;
    ++summary_.html_pages;
    const std::string note =
        page.links_dropped == 0
            ? ""
            : std::to_string(page.links_dropped) + " links beyond --max-links-per-page not followed";
    WriteFetch(result, "page", entry.depth, entry.via, entry.attempts, note, "", entry.id,
               page.warc);
    std::optional<Url> from = ParseUrl(entry.url);
    std::unordered_set<std::string> linked_hosts;  // other hosts this page links to
    for (const Url& link : page.links) {
      Admit(link, entry.depth + 1, entry.url, entry.id, 0, true);
      if (from && link.host != from->host && linked_hosts.insert(link.host).second) {
        recorder_.Link(link.host, entry.id);
      }
    }
    for (const FindingRecord& finding : page.findings) {
      recorder_.Finding(finding);
      summary_.flagged_hosts[finding.outlet].insert(finding.host);
    }
    if (!page.findings.empty()) ++summary_.flagged_pages;
    // Last: once this is committed, so is everything the page led to.
    recorder_.Done(entry.id);
    Pump();
  }

  // ---- records ----

  void CountError(const FetchResult& result) {
    ++summary_.errors;
    ++summary_.errors_by_kind[FetchErrorName(result.error)];
  }

  // One pages.jsonl line for a fetch. `problem`, when given, is the error of a response that
  // was received but not used (kind `problem_kind`). `url_id`: the frontier's id (0 for
  // robots.txt and sitemaps); `warc`: where the response went.
  void WriteFetch(const FetchResult& result, const char* kind, int depth, const std::string& via,
                  int attempts, const std::string& note, const std::string& problem_kind,
                  std::int64_t url_id, const WarcRef& warc) {
    PageRecord record;
    record.url_id = url_id;
    record.url = result.url;
    record.fetched_at = FetchedAt(result);
    record.status = result.status;
    record.warc = warc;
    Json line = {{"url", result.url},
                 {"kind", kind},
                 {"final_url", result.final_url},
                 {"status", result.status},
                 {"content_type", result.content_type},
                 {"bytes", result.body.size()},
                 {"depth", depth},
                 {"fetched_at", record.fetched_at},
                 {"ip", result.ip},
                 {"seconds", result.seconds},
                 {"attempt", attempts + 1},
                 {"error", nullptr},
                 {"error_kind", nullptr}};
    if (!via.empty()) line["via"] = via;
    if (!result.redirect_url.empty()) line["redirect_to"] = result.redirect_url;
    if (!result.ok()) {
      line["error"] = result.error_text;
      record.error_kind = FetchErrorName(result.error);
      line["error_kind"] = record.error_kind;
    } else if (!problem_kind.empty()) {
      line["error"] = note;
      line["error_kind"] = problem_kind;
      record.error_kind = problem_kind;
      ++summary_.errors;
      ++summary_.errors_by_kind[problem_kind];
    }
    if (!note.empty() && problem_kind.empty()) line["note"] = note;
    if (!warc.file.empty()) line["warc"] = WarcRefJson(warc);
    WriteLine(line, std::move(record));
  }

  // One pages.jsonl line for a URL that was not fetched, and why.
  void WriteSkip(const std::string& url, int depth, const std::string& via,
                 const std::string& kind, const std::string& reason, std::int64_t url_id = 0) {
    ++summary_.skipped;
    ++summary_.skipped_by_kind[kind];
    Json line = {{"url", url},        {"kind", "page"},       {"depth", depth},
                 {"skipped", kind},   {"error_kind", kind},   {"error", reason},
                 {"fetched_at", nullptr}};
    if (!via.empty()) line["via"] = via;
    PageRecord record;
    record.url_id = url_id;
    record.url = url;
    record.error_kind = kind;
    WriteLine(line, std::move(record));
  }

  void WriteLine(const Json& line, PageRecord record) {
    record.json = line.dump(-1, ' ', false, Json::error_handler_t::replace);
    if (std::optional<Url> url = ParseUrl(record.url)) record.host = url->host;
    recorder_.Page(record);
  }

  // Commits the store's batched writes every --commit-ms: what a kill -9 can cost.
  void ScheduleCommit() {
    commit_timer_.expires_after(std::chrono::milliseconds(options_.commit_ms));
    commit_timer_.async_wait([this](boost::system::error_code ec) {
      if (ec || finished_) return;
      recorder_.Commit();
      ScheduleCommit();
    });
  }

  void ScheduleProgress() {
    progress_timer_.expires_after(std::chrono::milliseconds(250));
    progress_timer_.async_wait([this](boost::system::error_code ec) {
      if (ec || finished_) return;
      const double seconds = std::chrono::duration<double>(Clock::now() - start_).count();
      std::size_t flagged_hosts = 0;
      for (const auto& [outlet, hosts] : summary_.flagged_hosts) flagged_hosts += hosts.size();
      std::fprintf(stdout,
                   "\r\033[Kpages %lld  queue %zu  in-flight %d  %.0f pages/s  errors %lld  "
                   "flagged %lld pages / %zu hosts",
                   static_cast<long long>(summary_.pages), frontier_->queued(), in_flight_,
                   seconds > 0 ? summary_.pages / seconds : 0.0,
                   static_cast<long long>(summary_.errors),
                   static_cast<long long>(summary_.flagged_pages), flagged_hosts);
      std::fflush(stdout);
      ScheduleProgress();
    });
  }

  // ---- signature reloads ----

  void WaitForHangup() {
    hangup_.async_wait([this](boost::system::error_code ec, int) {
      if (ec || finished_) return;
      ReloadSignatures("SIGHUP");
      WaitForHangup();
    });
  }

  // SIGINT or SIGTERM: no new fetches; what is in flight gets --shutdown-grace-ms to finish
  // and be recorded, then the crawl ends as usual (store committed, audit record closed, the
  // summary printed, exit 0). URLs not fetched stay queued for --resume. A second signal
  // kills the process at once (the default action): the store stays consistent, as after
  // kill -9, losing at most the last --commit-ms of writes.
  void WaitForStop() {
    stop_signals_.async_wait([this](boost::system::error_code ec, int signal) {
      if (ec || finished_) return;
      stopping_ = true;
      summary_.stopped_by = signal == SIGINT ? "SIGINT" : "SIGTERM";
      boost::system::error_code ignored;
      stop_signals_.clear(ignored);
      std::signal(SIGINT, SIG_DFL);
      std::signal(SIGTERM, SIG_DFL);
      std::fprintf(stderr,
                   "mirrorwatch: %s: stopping: no new fetches; %d in flight get up to %ld ms "
                   "to finish; the rest stays queued for crawl --resume (a second signal stops "
                   "at once)\n",
                   summary_.stopped_by.c_str(), in_flight_ + aux_in_flight_,
                   options_.shutdown_grace_ms);
      recorder_.Commit();
      grace_timer_.expires_after(std::chrono::milliseconds(options_.shutdown_grace_ms));
      grace_timer_.async_wait([this](boost::system::error_code wait_ec) {
        if (wait_ec || finished_) return;
        std::fprintf(stderr,
                     "mirrorwatch: --shutdown-grace-ms is over: %d transfers abandoned (queued "
                     "again by crawl --resume)\n",
                     in_flight_ + aux_in_flight_);
        Finish();
      });
      Pump();
    });
  }

  std::filesystem::file_time_type SignatureFileTime() const {
    std::error_code ec;
    return std::filesystem::last_write_time(SignatureFilePath(options_), ec);
  }

  void ScheduleWatch() {
    watch_timer_.expires_after(std::chrono::seconds(1));
    watch_timer_.async_wait([this](boost::system::error_code ec) {
      if (ec || finished_) return;
      const auto mtime = SignatureFileTime();
      if (mtime != watched_mtime_) {
        watched_mtime_ = mtime;
        ReloadSignatures("the file changed");
      }
      ScheduleWatch();
    });
  }

  // Loads and compiles the signature file on a worker; the loop swaps it in only when it
  // compiled. Reloads asked for meanwhile are folded into one more.
  void ReloadSignatures(const char* why) {
    if (reloading_) {
      reload_again_ = true;
      return;
    }
    reloading_ = true;
    const std::string path = SignatureFilePath(options_);
    std::fprintf(stderr, "mirrorwatch: %s: reloading signatures from %s\n", why, path.c_str());
    asio::post(workers_, [this, path] {
      auto diagnostics = std::make_shared<std::vector<SignatureDiagnostic>>();
      std::shared_ptr<const SignatureSet> loaded = SignatureSet::LoadFile(path, diagnostics.get());
      asio::post(io_, [this, path, loaded, diagnostics] {
        reloading_ = false;
        for (const SignatureDiagnostic& d : *diagnostics) {
          std::fprintf(stderr, "%s\n", d.ToString().c_str());
        }
        if (loaded) {
          signatures_.store(loaded);
          ++summary_.signature_reloads;
          std::fprintf(stderr, "mirrorwatch: signatures reloaded: %zu rules\n",
                       loaded->rule_count());
        } else {
          ++summary_.signature_reload_failures;
          std::fprintf(stderr,
                       "mirrorwatch: %s refused; the previous signatures stay in service\n",
                       path.c_str());
        }
        if (reload_again_) {
          reload_again_ = false;
          ReloadSignatures("a reload asked for during the last one");
        }
      });
    });
  }

  void Finish() {
    if (finished_) return;
    finished_ = true;
    progress_timer_.cancel();
    wake_timer_.cancel();
    watch_timer_.cancel();
    commit_timer_.cancel();
    grace_timer_.cancel();
    boost::system::error_code ignored;
    hangup_.cancel(ignored);
    stop_signals_.cancel(ignored);
    keep_running_.reset();
    io_.stop();
  }

  static SteadyTime SteadyClockNow() { return std::chrono::steady_clock::now(); }

  const CrawlOptions& options_;
  std::atomic<std::shared_ptr<const SignatureSet>> signatures_;
  const Scope& scope_;
  asio::io_context io_;
  asio::thread_pool workers_;
  const int max_parsing_;  // pages waiting for or in a worker: back-pressure on fetching
  FetchPool fetch_;
  Recorder& recorder_;
  std::unique_ptr<Frontier> frontier_;
  std::unordered_map<std::string, HostState> hosts_;
  std::unordered_set<std::string> sitemaps_seen_;
  asio::steady_timer wake_timer_;
  bool wake_armed_ = false;
  SteadyTime wake_at_{};
  asio::steady_timer progress_timer_;
  asio::signal_set hangup_;
  asio::signal_set stop_signals_;  // SIGINT, SIGTERM
  asio::steady_timer grace_timer_;
  bool stopping_ = false;
  asio::steady_timer watch_timer_;
  asio::steady_timer commit_timer_;
  std::filesystem::file_time_type watched_mtime_{};
  bool reloading_ = false;
  bool reload_again_ = false;
  // The loop has work while pages are in the worker pool, which io_context cannot see.
  asio::executor_work_guard<asio::io_context::executor_type> keep_running_;
  std::mt19937 random_;
  Clock::time_point start_;
  CrawlSummary summary_;
  int in_flight_ = 0;      // page fetches
  int aux_in_flight_ = 0;  // robots.txt and sitemap fetches and parses
  int timers_ = 0;         // pending After() calls
  int parsing_ = 0;
  std::int64_t started_ = 0;
  bool finished_ = false;
  bool show_progress_ = false;
};

std::string LoadSeeds(const CrawlOptions& options, std::vector<Url>* seeds) {
  std::vector<std::string> texts = options.seeds;
  if (!options.seeds_file.empty()) {
    std::ifstream in(options.seeds_file);
    if (!in) return "cannot read seed file " + options.seeds_file;
    std::string line;
    int number = 0;
    while (std::getline(in, line)) {
      ++number;
      line = TrimLine(line.substr(0, line.find('#')));
      if (line.empty()) continue;
      if (!ParseUrl(line)) {
        return options.seeds_file + ":" + std::to_string(number) +
               ": not an absolute http(s) URL: " + line;
      }
      texts.push_back(line);
    }
  }
  for (const std::string& text : texts) {
    std::optional<Url> url = ParseUrl(text);
    if (!url) return "not an absolute http(s) URL: " + text;
    seeds->push_back(std::move(*url));
  }
  if (seeds->empty()) return "no seeds: give seed URLs or --seeds FILE";
  return "";
}

// The run's outcome for its audit record.
std::string SummaryJson(const CrawlSummary& s) {
  Json summary = {{"pages", s.pages},           {"html_pages", s.html_pages},
                  {"errors", s.errors},         {"bytes", s.bytes},
                  {"flagged_pages", s.flagged_pages}, {"retries", s.retries},
                  {"skipped", s.skipped},       {"hosts", s.hosts},
                  {"seconds", s.seconds},       {"errors_by_kind", s.errors_by_kind},
                  {"flagged_hosts", s.flagged_hosts},
                  {"stopped_by", s.stopped_by.empty() ? Json(nullptr) : Json(s.stopped_by)}};
  return summary.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace

std::string MakeFetchOptions(const CrawlOptions& options, FetchOptions* fetch) {
  std::vector<Cidr> allowed;
  for (const std::string& text : options.allow_net) {
    Cidr cidr;
    if (std::string error = Cidr::Parse(text, &cidr); !error.empty()) {
      return "--allow-net " + text + ": " + error;
    }
    allowed.push_back(cidr);
  }
  fetch->connect_to = options.connect_to;
  fetch->headers = options.headers;
  fetch->user_agent = options.user_agent;
  fetch->connect_timeout_ms = options.connect_timeout_ms;
  fetch->timeout_ms = options.timeout_ms;
  fetch->low_speed_bytes = options.low_speed_bytes;
  fetch->low_speed_seconds = options.low_speed_s;
  fetch->max_body = options.max_body;
  fetch->max_redirects = options.max_redirects;
  fetch->max_connections = options.concurrency;
  fetch->guard = AddressGuard(std::move(allowed));
  fetch->proxy = options.proxy;
  fetch->insecure = options.insecure;
  return "";
}

std::string SignatureFilePath(const CrawlOptions& options) {
  return options.signatures.empty() ? MW_STOCK_SIGNATURES : options.signatures;
}

std::string RunCrawl(const CrawlOptions& options, const SignatureSet& signatures,
                     CrawlSummary* summary) {
  // Not owned: the caller keeps `signatures` alive until RunCrawl returns.
  return RunCrawl(options, std::shared_ptr<const SignatureSet>(&signatures, [](auto*) {}),
                  summary);
}

std::string RunCrawl(const CrawlOptions& options, std::shared_ptr<const SignatureSet> signatures,
                     CrawlSummary* summary) {
  std::vector<Url> seeds;
  if (std::string error = LoadSeeds(options, &seeds); !error.empty()) return error;
  std::unique_ptr<Scope> scope;
  if (std::string error = Scope::Make(options, seeds, &scope); !error.empty()) {
    return error;
  }
  FetchOptions fetch;
  if (std::string error = MakeFetchOptions(options, &fetch); !error.empty()) return error;
  if (options.insecure) {
    std::fputs("mirrorwatch: WARNING: --insecure: TLS certificates are NOT verified; evidence "
               "from https:// pages cannot be tied to the site's certificate\n",
               stderr);
  }
  std::unique_ptr<Recorder> recorder;
  const RunIdentity identity{SignatureFilePath(options), signatures->sha256()};
  if (std::string error = Recorder::Open(options, identity, &recorder); !error.empty()) {
    return error;
  }
  {
    CrawlLoop loop(options, std::move(signatures), *scope, std::move(fetch), *recorder);
    loop.Run(seeds, summary);
  }
  return recorder->Finish(SummaryJson(*summary));
}

std::string FormatSummary(const CrawlSummary& s) {
  std::ostringstream out;
  char rate[32];
  std::snprintf(rate, sizeof rate, "%.1f", s.seconds > 0 ? s.pages / s.seconds : 0.0);
  char secs[32];
  std::snprintf(secs, sizeof secs, "%.2f", s.seconds);
  out << "fetched " << s.pages << " URLs (" << s.html_pages << " HTML pages parsed, "
      << s.errors << " errors) from " << s.hosts << " hosts in " << secs << " s: " << rate
      << " pages/s\n";
  if (!s.errors_by_kind.empty()) {
    out << "errors:";
    for (const auto& [kind, count] : s.errors_by_kind) out << " " << kind << "=" << count;
    out << "\n";
  }
  std::size_t hosts = 0;
  for (const auto& [outlet, set] : s.flagged_hosts) hosts += set.size();
  if (s.signature_reloads + s.signature_reload_failures > 0) {
    out << "signatures reloaded " << s.signature_reloads << " times, refused "
        << s.signature_reload_failures << " times\n";
  }
  if (!s.stopped_by.empty()) {
    out << "stopped by " << s.stopped_by << ": " << s.left_queued
        << " URLs left queued (mirrorwatch crawl --resume DIR goes on)\n";
  }
  out << "flagged " << s.flagged_pages << " pages on " << hosts << " hosts\n";
  for (const auto& [outlet, set] : s.flagged_hosts) {
    out << "  " << outlet << " (" << set.size() << "):";
    for (const std::string& host : set) out << " " << host;
    out << "\n";
  }
  return out.str();
}

}  // namespace mw
