#include "crawler/crawl.h"

#include <openssl/evp.h>
#include <re2/re2.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
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

#include "crawler/fetch_pool.h"
#include "crawler/frontier.h"
#include "parsers/charset.h"
#include "parsers/html.h"
#include "parsers/url.h"

namespace mw {
namespace {

namespace asio = boost::asio;
using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

std::string UtcTimestamp() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() %
      1000;
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[64];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(millis));
  return text;
}

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr);
  static const char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 15];
  }
  return hex;
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
  std::vector<Url> links;                  // in scope, de-duplicated within the page
  std::vector<std::string> finding_lines;  // findings.jsonl lines (flagged outlets)
  std::vector<std::pair<std::string, std::string>> flags;  // (outlet, host)
  std::string charset;
};

class CrawlLoop {
 public:
  CrawlLoop(const CrawlOptions& options, const SignatureSet& signatures, const Scope& scope,
            std::FILE* pages_out, std::FILE* findings_out)
      : options_(options),
        signatures_(signatures),
        scope_(scope),
        workers_(options.workers > 0 ? options.workers
                                     : std::max(1u, std::thread::hardware_concurrency())),
        max_parsing_(4 * (options.workers > 0 ? options.workers
                                               : std::max(1u, std::thread::hardware_concurrency()))),
        fetch_(io_, MakeFetchOptions(options)),
        frontier_(NewMemoryFrontier(options.per_host)),
        progress_timer_(io_),
        keep_running_(io_.get_executor()),
        pages_out_(pages_out),
        findings_out_(findings_out) {}

  ~CrawlLoop() { workers_.join(); }

  void Run(const std::vector<Url>& seeds, CrawlSummary* summary) {
    start_ = Clock::now();
    for (const Url& seed : seeds) frontier_->Add(seed, 0, "");
    show_progress_ = options_.progress == "always" ||
                     (options_.progress == "auto" && ::isatty(STDOUT_FILENO));
    asio::post(io_, [this] { Pump(); });
    if (show_progress_) ScheduleProgress();
    io_.run();
    workers_.join();
    if (show_progress_) std::fputs("\r\033[K", stdout);
    summary_.hosts = frontier_->hosts();
    summary_.seconds = std::chrono::duration<double>(Clock::now() - start_).count();
    *summary = std::move(summary_);
  }

 private:
  static FetchOptions MakeFetchOptions(const CrawlOptions& options) {
    FetchOptions fetch;
    fetch.connect_to = options.connect_to;
    fetch.headers = options.headers;
    fetch.user_agent = options.user_agent;
    fetch.connect_timeout_ms = options.connect_timeout_ms;
    fetch.timeout_ms = options.timeout_ms;
    fetch.max_body = options.max_body;
    fetch.max_redirects = options.max_redirects;
    fetch.max_connections = options.concurrency;
    return fetch;
  }

  // Starts as many fetches as the caps allow; ends the crawl when nothing is left to do.
  void Pump() {
    while (in_flight_ < options_.concurrency && parsing_ < max_parsing_ &&
           started_ < options_.max_pages) {
      std::optional<FrontierEntry> entry = frontier_->Next();
      if (!entry) break;
      ++in_flight_;
      ++started_;
      std::string url = entry->url;
      fetch_.Fetch(url, [this, entry = std::move(*entry)](FetchResult result) mutable {
        OnFetched(std::move(entry), std::move(result));
      });
    }
    const bool exhausted = frontier_->queued() == 0 || started_ >= options_.max_pages;
    if (in_flight_ == 0 && parsing_ == 0 && exhausted) Finish();
  }

  void OnFetched(FrontierEntry entry, FetchResult result) {
    --in_flight_;
    frontier_->Release(entry.host_key);
    ++summary_.pages;
    summary_.bytes += static_cast<std::int64_t>(result.body.size());
    const std::string fetched_at = UtcTimestamp();

    bool parse = result.ok() && result.status >= 200 && result.status < 300;
    std::optional<Url> final_url = ParseUrl(result.final_url);
    std::string note;
    if (final_url && final_url->spec != entry.url && !frontier_->MarkSeen(final_url->spec)) {
      // A redirect ended on a URL that is (or will be) fetched on its own.
      parse = false;
      note = "redirected to a URL already seen";
    }
    if (!result.ok()) {
      ++summary_.errors;
      ++summary_.errors_by_kind[FetchErrorName(result.error)];
    }
    WritePage(entry, result, fetched_at, note);
    if (!parse || !final_url) {
      Pump();
      return;
    }
    ++parsing_;
    asio::post(workers_, [this, entry = std::move(entry), result = std::move(result),
                          final_url = std::move(*final_url), fetched_at]() mutable {
      ParsedPage page = Parse(entry, result, final_url, fetched_at);
      asio::post(io_, [this, entry = std::move(entry), page = std::move(page)]() mutable {
        OnParsed(entry, std::move(page));
      });
    });
    Pump();
  }

  // Runs on a worker thread: decode, extract, score. Touches no loop state.
  ParsedPage Parse(const FrontierEntry& entry, const FetchResult& result, const Url& final_url,
                   const std::string& fetched_at) const {
    ParsedPage page;
    DecodedBody decoded = DecodeToUtf8(result.body, result.content_type);
    page.charset = decoded.charset;
    Document doc = ExtractDocument(decoded.utf8, final_url);
    if (entry.depth < options_.max_depth) {
      std::unordered_set<std::string> unique;
      for (const Link& link : doc.links) {
        if (!unique.insert(link.url).second) continue;
        std::optional<Url> url = ParseUrl(link.url);
        if (url && scope_.Allows(*url)) page.links.push_back(std::move(*url));
      }
    }
    std::string sha256;
    for (const OutletScore& score : signatures_.Score(doc)) {
      if (!score.flagged) continue;
      if (sha256.empty()) sha256 = Sha256Hex(result.body);
      Json rules = Json::array();
      for (const RuleHit& hit : score.hits) {
        rules.push_back({{"id", hit.rule_id},
                         {"field", std::string(FieldName(hit.field))},
                         {"weight", hit.weight},
                         {"count", hit.count},
                         {"snippet", hit.snippet}});
      }
      Json line = {{"url", entry.url},
                   {"final_url", final_url.spec},
                   {"host", final_url.host},
                   {"outlet", score.outlet},
                   {"score", score.score},
                   {"threshold", score.threshold},
                   {"rules", std::move(rules)},
                   {"status", result.status},
                   {"fetched_at", fetched_at},
                   {"sha256", sha256},
                   {"ip", result.ip},
                   {"depth", entry.depth},
                   {"via", entry.via}};
      page.finding_lines.push_back(line.dump(-1, ' ', false, Json::error_handler_t::replace));
      page.flags.emplace_back(score.outlet, final_url.host);
    }
    return page;
  }

  void OnParsed(const FrontierEntry& entry, ParsedPage page) {
    --parsing_;
    ++summary_.html_pages;
    for (const Url& link : page.links) frontier_->Add(link, entry.depth + 1, entry.url);
    for (const std::string& line : page.finding_lines) {
      std::fputs(line.c_str(), findings_out_);
      std::fputc('\n', findings_out_);
    }
    if (!page.finding_lines.empty()) {
      std::fflush(findings_out_);  // a finding is the product: don't leave it in a buffer
      ++summary_.flagged_pages;
    }
    for (auto& [outlet, host] : page.flags) summary_.flagged_hosts[outlet].insert(host);
    Pump();
  }

  void WritePage(const FrontierEntry& entry, const FetchResult& result,
                 const std::string& fetched_at, const std::string& note) {
    Json line = {{"url", entry.url},
                 {"final_url", result.final_url},
                 {"status", result.status},
                 {"content_type", result.content_type},
                 {"bytes", result.body.size()},
                 {"depth", entry.depth},
                 {"fetched_at", fetched_at},
                 {"ip", result.ip},
                 {"redirects", result.redirects},
                 {"seconds", result.seconds},
                 {"error", result.ok() ? Json(nullptr) : Json(result.error_text)},
                 {"error_kind", result.ok() ? Json(nullptr)
                                            : Json(FetchErrorName(result.error))}};
    if (!note.empty()) line["note"] = note;
    const std::string text = line.dump(-1, ' ', false, Json::error_handler_t::replace);
    std::fputs(text.c_str(), pages_out_);
    std::fputc('\n', pages_out_);
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

  void Finish() {
    if (finished_) return;
    finished_ = true;
    progress_timer_.cancel();
    keep_running_.reset();
    io_.stop();
  }

  const CrawlOptions& options_;
  const SignatureSet& signatures_;
  const Scope& scope_;
  asio::io_context io_;
  asio::thread_pool workers_;
  const int max_parsing_;  // pages waiting for or in a worker: back-pressure on fetching
  FetchPool fetch_;
  std::unique_ptr<Frontier> frontier_;
  asio::steady_timer progress_timer_;
  // The loop has work while pages are in the worker pool, which io_context cannot see.
  asio::executor_work_guard<asio::io_context::executor_type> keep_running_;
  std::FILE* pages_out_;
  std::FILE* findings_out_;
  Clock::time_point start_;
  CrawlSummary summary_;
  int in_flight_ = 0;
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

struct FileCloser {
  void operator()(std::FILE* f) const {
    if (f) std::fclose(f);
  }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

}  // namespace

std::string RunCrawl(const CrawlOptions& options, const SignatureSet& signatures,
                     CrawlSummary* summary) {
  std::vector<Url> seeds;
  if (std::string error = LoadSeeds(options, &seeds); !error.empty()) return error;
  std::unique_ptr<Scope> scope;
  if (std::string error = Scope::Make(options, seeds, &scope); !error.empty()) {
    return error;
  }
  std::error_code ec;
  std::filesystem::create_directories(options.out_dir, ec);
  if (ec) return "cannot create " + options.out_dir + ": " + ec.message();
  const std::string pages_path = options.out_dir + "/pages.jsonl";
  const std::string findings_path = options.out_dir + "/findings.jsonl";
  File pages(std::fopen(pages_path.c_str(), "w"));
  File findings(std::fopen(findings_path.c_str(), "w"));
  if (!pages) return "cannot write " + pages_path;
  if (!findings) return "cannot write " + findings_path;
  std::setvbuf(pages.get(), nullptr, _IOFBF, 1 << 16);
  {
    CrawlLoop loop(options, signatures, *scope, pages.get(), findings.get());
    loop.Run(seeds, summary);
  }
  if (std::fflush(pages.get()) != 0 || std::fflush(findings.get()) != 0) {
    return "write error in " + options.out_dir;
  }
  return "";
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
  out << "flagged " << s.flagged_pages << " pages on " << hosts << " hosts\n";
  for (const auto& [outlet, set] : s.flagged_hosts) {
    out << "  " << outlet << " (" << set.size() << "):";
    for (const std::string& host : set) out << " " << host;
    out << "\n";
  }
  return out.str();
}

}  // namespace mw
