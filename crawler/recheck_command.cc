#include "crawler/recheck_command.h"

#include <unistd.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <deque>
#include <exception>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "crawler/address_guard.h"
#include "crawler/crawl.h"
#include "crawler/fetch_pool.h"
#include "crawler/options.h"
#include "crawler/recorder.h"
#include "crawler/store.h"
#include "crawler/warc.h"
#include "crawler/warc_json.h"
#include "parsers/charset.h"
#include "parsers/html.h"
#include "parsers/url.h"
#include "signatures/signature_set.h"

namespace mw {
namespace {

namespace asio = boost::asio;
using Json = nlohmann::json;
using Steady = std::chrono::steady_clock;

constexpr int kExitOk = 0;
constexpr int kExitIncomplete = 1;
constexpr int kExitUsage = 2;

constexpr long kDefaultDelayMs = 1'000;
constexpr int kDefaultGoneAfter = 3;

// The crawl options a re-check shares: how to reach a host, how hard to press it and what to
// record. The others (scope, depth, robots, retries, traps, resume ...) are about finding
// pages, not re-fetching known ones.
constexpr std::string_view kSharedOptions[] = {
    "signatures", "connect-to",      "header",
    "user-agent", "concurrency",     "connect-timeout-ms",
    "timeout-ms", "low-speed-bytes", "low-speed-s",
    "max-body",   "max-redirects",   "allow-net",
    "delay-ms",   "proxy",           "insecure",
    "case",       "warc-file-size",
};

bool IsSharedOption(std::string_view name) {
  return std::find(std::begin(kSharedOptions), std::end(kSharedOptions), name) !=
         std::end(kSharedOptions);
}

const OptionSpec* FindCrawlOption(std::string_view name) {
  for (const OptionSpec& spec : CrawlOptionSpecs()) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

struct RecheckOptions {
  CrawlOptions crawl;  // only the kSharedOptions fields are used
  std::string dir;
  std::chrono::seconds every{0};  // 0: rounds run back to back
  int rounds = 1;                 // 0: until SIGINT or SIGTERM
  bool rounds_given = false;
  int gone_after = kDefaultGoneAfter;
  bool help = false;
};

constexpr char kNotADuration[] = "not a duration (like 90s, 30m, 6h, 1d)";

// "90s", "30m", "6h", "2d": a whole number and one unit.
std::string ParseDuration(std::string_view text, std::chrono::seconds* out) {
  static const std::map<char, std::int64_t> kUnits = {
      {'s', 1}, {'m', 60}, {'h', 3'600}, {'d', 86'400}};
  if (text.empty() || kUnits.count(text.back()) == 0) return kNotADuration;
  const std::int64_t scale = kUnits.at(text.back());
  text.remove_suffix(1);
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 1 ||
      value > 10'000'000'000 / scale) {
    return kNotADuration;
  }
  *out = std::chrono::seconds(value * scale);
  return "";
}

std::string ParsePositive(std::string_view text, int* out) {
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 1) {
    return "must be a whole number of at least 1";
  }
  *out = value;
  return "";
}

// An option of recheck's own (the others are the crawl's, see kSharedOptions).
struct RecheckFlag {
  std::string_view name;
  std::string_view value;  // placeholder for --help
  std::string_view help;   // with its default
  std::function<std::string(RecheckOptions&, std::string_view)> set;
};

const std::vector<RecheckFlag>& RecheckFlags() {
  static const std::vector<RecheckFlag> flags = {
      {"every", "DURATION",
       "start a round every DURATION (90s, 30m, 6h, 1d; start to start) until --rounds, SIGINT "
       "or SIGTERM (default: one round)",
       [](RecheckOptions& o, std::string_view v) { return ParseDuration(v, &o.every); }},
      {"rounds", "N", "stop after N rounds (default: 1; with --every, no limit)",
       [](RecheckOptions& o, std::string_view v) {
         o.rounds_given = true;
         return ParsePositive(v, &o.rounds);
       }},
      {"gone-after", "N",
       "a host is gone after N rounds in a row in which every URL of it was gone (default: 3)",
       [](RecheckOptions& o, std::string_view v) { return ParsePositive(v, &o.gone_after); }},
  };
  return flags;
}

// Takes recheck's own options out of `args` and hands the shared options and DIR to
// ParseCrawlArgs, so that they parse (and are documented) exactly as for a crawl.
std::string ParseRecheckArgs(const std::vector<std::string>& args, RecheckOptions* options) {
  std::vector<std::string> crawl_args;
  bool delay_given = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--help" || arg == "-h") {
      options->help = true;
      continue;
    }
    if (arg.rfind("--", 0) != 0) {
      crawl_args.push_back(arg);  // DIR
      continue;
    }
    std::string name = arg.substr(2);
    std::optional<std::string> value;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
    }
    const RecheckFlag* own = nullptr;
    for (const RecheckFlag& flag : RecheckFlags()) {
      if (flag.name == name) own = &flag;
    }
    const OptionSpec* spec = own ? nullptr : FindCrawlOption(name);
    if (!own && !spec) return "unknown option --" + name;
    if (spec && !IsSharedOption(name)) {
      return "--" + name + " is a crawl option; recheck does not use it";
    }
    if ((own || !spec->value.empty()) && !value) {
      if (i + 1 >= args.size()) return "--" + name + " needs a value";
      value = args[++i];
    }
    if (spec) {
      delay_given |= name == "delay-ms";
      crawl_args.push_back("--" + name);
      if (value) crawl_args.push_back(*value);
    } else if (std::string error = own->set(*options, *value); !error.empty()) {
      return "--" + name + " " + *value + ": " + error;
    }
  }
  HelpRequest help = HelpRequest::kNone;
  if (std::string error = ParseCrawlArgs(crawl_args, &options->crawl, &help); !error.empty()) {
    return error;
  }
  if (options->help) return "";
  if (options->crawl.seeds.size() != 1) {
    return options->crawl.seeds.empty() ? "give the crawl's output DIR" : "give exactly one DIR";
  }
  options->dir = options->crawl.seeds.front();
  options->crawl.seeds.clear();
  if (!delay_given) options->crawl.delay_ms = kDefaultDelayMs;
  if (!options->rounds_given && options->every.count() > 0) options->rounds = 0;
  return "";
}

std::string RecheckHelp() {
  std::ostringstream out;
  out << "usage: mirrorwatch recheck DIR [OPTIONS]\n\n"
         "Re-fetches every flagged URL of every flagged host in DIR/crawl.db, scores it again,\n"
         "writes the responses to DIR/warc/ and records per host whether it is live (still\n"
         "branded), changed (up, no longer flagged) or gone (404/410, DNS failure, connection\n"
         "refused for --gone-after rounds in a row). Each host gets one request at a time,\n"
         "--delay-ms apart; robots.txt is not fetched (a re-check follows no links: it looks\n"
         "again at pages already flagged, as evidence).\n\n"
         "options:\n";
  for (const RecheckFlag& flag : RecheckFlags()) {
    out << "  --" << flag.name << " " << flag.value << "\n      " << flag.help << "\n";
  }
  CrawlOptions defaults;
  defaults.delay_ms = kDefaultDelayMs;
  for (const OptionSpec& spec : CrawlOptionSpecs()) {
    if (!IsSharedOption(spec.name)) continue;
    out << "  --" << spec.name << (spec.value.empty() ? "" : " ") << spec.value << "\n      "
        << spec.help << " (default: " << spec.show(defaults) << ")\n";
  }
  out << "  --help\n      this text\n";
  return out.str();
}

// ---- small helpers ----

std::string UtcNow() { return UtcIso(std::chrono::system_clock::now()); }

// Seconds since the epoch of a UtcIso() timestamp ("2026-01-02T03:04:05.678Z"); nullopt if it
// is not one.
std::optional<double> ParseTimestamp(const std::string& text) {
  std::tm tm{};
  int millis = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &tm.tm_year, &tm.tm_mon,
                  &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &millis) < 6) {
    return std::nullopt;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<double>(timegm(&tm)) + millis / 1000.0;
}

// "3d 04h 05m", "2h 03m 04s", "4m 05s", "12s".
std::string FormatElapsed(double seconds) {
  auto s = static_cast<long long>(std::max(0.0, seconds));
  const long long days = s / 86'400, hours = s / 3'600 % 24, minutes = s / 60 % 60;
  s %= 60;
  char text[64];
  if (days > 0) {
    std::snprintf(text, sizeof text, "%lldd %02lldh %02lldm", days, hours, minutes);
  } else if (hours > 0) {
    std::snprintf(text, sizeof text, "%lldh %02lldm %02llds", hours, minutes, s);
  } else if (minutes > 0) {
    std::snprintf(text, sizeof text, "%lldm %02llds", minutes, s);
  } else {
    std::snprintf(text, sizeof text, "%llds", s);
  }
  return text;
}

std::string Dump(const Json& json) {
  return json.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// What a 304 Not Modified for `target` means: the outcome of the response its validators came
// from -- the latest re-check that received them, or else the crawl's flagged fetch ("live").
std::string NotModifiedMeans(const RecheckTarget& target, const std::vector<CheckRecord>& checks) {
  std::string means = "live";
  for (const CheckRecord& check : checks) {  // oldest first: the last match wins
    if (check.url == target.url && check.etag == target.etag &&
        check.last_modified == target.last_modified &&
        (check.outcome == "live" || check.outcome == "changed")) {
      means = check.outcome;
    }
  }
  return means;
}

// One URL's verdict, with what the store keeps about it.
struct Judgement {
  std::string outcome;  // live | changed | gone | error
  Json detail;
};

// The one place where a fetch result becomes an outcome (CheckRecord::outcome).
Judgement Judge(const FetchResult& result, const std::string& not_modified_means,
                const SignatureSet& signatures) {
  Judgement j{"error", {{"status", result.status}, {"final_url", result.final_url}}};
  // A response whose body was not wanted (not HTML) still answered: its status decides.
  const bool answered = result.ok() || result.error == FetchError::kNotHtml;
  if (!answered) {
    j.detail["error_kind"] = FetchErrorName(result.error);
    j.detail["error"] = result.error_text;
    if (result.error == FetchError::kResolve || result.error == FetchError::kConnect) {
      j.outcome = "gone";
    }
    return j;
  }
  if (result.status == 304) {
    j.detail["not_modified"] = true;
    j.outcome = not_modified_means;
    return j;
  }
  if (result.status == 404 || result.status == 410) {
    j.outcome = "gone";
    return j;
  }
  if (result.status < 200 || result.status >= 300) {
    j.detail["error"] = "HTTP " + std::to_string(result.status);
    return j;
  }
  j.outcome = "changed";
  if (result.error == FetchError::kNotHtml) {
    j.detail["content_type"] = result.content_type;  // a page came, but nothing to score
    return j;
  }
  std::optional<Url> base = ParseUrl(result.final_url);
  if (!base) base = ParseUrl(result.url);
  if (!base) return j;
  const DecodedBody decoded = DecodeToUtf8(result.body, result.content_type);
  const Document doc = ExtractDocument(decoded.utf8, *base);
  Json outlets = Json::array();
  Json flagged = Json::array();
  for (const OutletScore& score : signatures.Score(doc)) {
    outlets.push_back({{"outlet", score.outlet},
                       {"score", score.score},
                       {"stable_score", score.stable_score},
                       {"threshold", score.threshold},
                       {"flagged", score.flagged}});
    if (score.flagged) flagged.push_back(score.outlet);
  }
  if (!flagged.empty()) j.outcome = "live";
  j.detail["flagged"] = std::move(flagged);
  j.detail["outlets"] = std::move(outlets);
  j.detail["signatures_sha256"] = signatures.sha256();
  j.detail["sha256"] = Sha256Hex(result.body);
  return j;
}

// A host's part of one round.
struct HostRound {
  std::deque<RecheckTarget> pending;
  std::map<std::string, std::string> not_modified_means;  // by URL
  bool busy = false;  // a fetch in flight: one at a time per host
  bool finished = false;
  std::map<std::string, int> outcomes;
  std::string status_before;
  std::string status_after;  // once finished
  std::string line;          // what the round prints for it, once finished
};

// The event loop of one `recheck` command: rounds of fetches, their records, the waits
// between rounds and the signals that end them. Everything runs on the io_context's thread.
//
// Each round is a run of its own in the store (`run`, with its own start and end time): the
// store sets a host's status from the checks of one run, so a round must not share its run
// with the rounds before it.
class RecheckLoop {
 public:
  RecheckLoop(const RecheckOptions& options, Store& store, const SignatureSet& signatures,
              FetchOptions fetch_options, RunRecord run, std::ostream& out, std::ostream& err)
      : options_(options),
        store_(store),
        signatures_(signatures),
        run_(std::move(run)),
        out_(out),
        err_(err),
        fetch_(io_, std::move(fetch_options)),
        wake_timer_(io_),
        round_timer_(io_),
        signals_(io_, SIGINT, SIGTERM) {}

  // Runs the rounds until --rounds, SIGINT or SIGTERM.
  void Run() {
    WaitForSignal();
    asio::post(io_, [this] { StartRound(); });
    io_.run();
  }

  // "N rounds; live=.. changed=.. ...": every check of every round, by outcome.
  std::string Totals() const {
    std::string text = std::to_string(rounds_done_) + (rounds_done_ == 1 ? " round;" : " rounds;");
    for (const auto& [outcome, count] : totals_) {
      text += " " + outcome + "=" + std::to_string(count);
    }
    return text + (stopping_ ? " (interrupted)" : "");
  }

  // Some result could not be recorded (store or WARC write): see err.
  bool incomplete() const { return problems_ > 0; }

 private:
  // ---- rounds ----

  void StartRound() {
    round_started_ = Steady::now();
    RunRecord run = run_;
    run.started_at = UtcNow();
    round_started_at_ = run.started_at;
    run_id_ = store_.BeginRun(run);
    Commit();
    round_totals_.clear();
    round_problems_from_ = problems_;
    hosts_.clear();
    std::size_t urls = 0;
    for (RecheckTarget& target : store_.RecheckTargets()) {
      hosts_[target.host].pending.push_back(std::move(target));
      ++urls;
    }
    for (auto& [name, host] : hosts_) {
      const std::vector<CheckRecord> checks = store_.Checks(name);
      for (const RecheckTarget& target : host.pending) {
        host.not_modified_means[target.url] = NotModifiedMeans(target, checks);
      }
      std::optional<HostVerdict> verdict = store_.Verdict(name);
      host.status_before = verdict ? verdict->status.status : "flagged";
    }
    out_ << "round " << rounds_done_ + 1 << " at " << round_started_at_ << ": " << urls
         << " URLs on " << hosts_.size() << " hosts\n";
    out_.flush();
    Pump();
  }

  // Starts what politeness allows; ends the round when nothing is left.
  void Pump() {
    if (!round_open_) return;
    const auto now = Steady::now();
    const auto delay = std::chrono::milliseconds(options_.crawl.delay_ms);
    std::optional<Steady::time_point> wake;
    bool left = false;
    for (auto& [name, host] : hosts_) {
      if (host.busy) left = true;
      if (host.busy || host.pending.empty()) continue;
      if (stopping_) continue;  // a signal: let what is in flight land, start nothing new
      left = true;
      if (in_flight_ >= options_.crawl.concurrency) continue;
      if (auto last = last_sent_.find(name); last != last_sent_.end()) {
        const Steady::time_point ready = last->second + delay;
        if (ready > now) {
          if (!wake || ready < *wake) wake = ready;
          continue;
        }
      }
      Start(name, host);
    }
    if (!left) {
      EndRound();
      return;
    }
    if (wake) {
      wake_timer_.expires_at(*wake);
      wake_timer_.async_wait([this](boost::system::error_code ec) {
        if (!ec) Pump();
      });
    }
  }

  void Start(const std::string& name, HostRound& host) {
    RecheckTarget target = std::move(host.pending.front());
    host.pending.pop_front();
    host.busy = true;
    ++in_flight_;
    last_sent_[name] = Steady::now();
    FetchRequest request;
    request.url = target.url;
    request.follow_redirects = true;  // a mirror that now redirects to a parking page changed
    request.capture = true;
    // --delay-ms counts from when a request went out, as in the crawl: connecting is not
    // pressing the host.
    request.on_sent = [this, name](Steady::time_point sent) { last_sent_[name] = sent; };
    if (!target.etag.empty()) request.headers.push_back("If-None-Match: " + target.etag);
    if (!target.last_modified.empty()) {
      request.headers.push_back("If-Modified-Since: " + target.last_modified);
    }
    fetch_.Fetch(std::move(request), [this, name, target = std::move(target)](FetchResult result) {
      OnFetched(name, target, std::move(result));
    });
  }

  void OnFetched(const std::string& name, const RecheckTarget& target, FetchResult result) {
    --in_flight_;
    HostRound& host = hosts_[name];
    host.busy = false;
    Judgement judgement = Judge(result, host.not_modified_means[target.url], signatures_);
    CheckRecord check;
    check.run_id = run_id_;
    check.host = name;
    check.url = target.url;
    check.checked_at = UtcNow();
    check.status = result.status;
    if (!result.ok() && result.error != FetchError::kNotHtml) {
      check.error_kind = FetchErrorName(result.error);
    }
    check.outcome = judgement.outcome;
    check.etag = result.etag;
    check.last_modified = result.last_modified;
    if (result.status == 304) {  // a 304 need not repeat the validators: keep asking with them
      if (check.etag.empty()) check.etag = target.etag;
      if (check.last_modified.empty()) check.last_modified = target.last_modified;
    }
    WriteEvidence(result, check, &judgement.detail, &check.warc);
    check.detail_json = Dump(judgement.detail);
    store_.RecordCheck(check);
    RecordHost(result, check.checked_at);
    ++host.outcomes[check.outcome];
    ++round_totals_[check.outcome];
    ++totals_[check.outcome];
    if (host.pending.empty()) FinishHost(name, host);
    Pump();
  }

  // The response (and, for a live URL, a metadata record with the outcome) into DIR/warc/.
  void WriteEvidence(const FetchResult& result, const CheckRecord& check, Json* detail,
                     WarcRef* ref) {
    if (result.raw_response.empty()) return;  // no response came (or none was captured)
    WarcWriter* warc = Warc();
    if (warc == nullptr) return;
    WarcExchange exchange;
    exchange.target_uri = result.final_url.empty() ? result.url : result.final_url;
    exchange.ip = result.ip;
    exchange.request = result.raw_request;
    exchange.response = result.raw_response;
    exchange.fetched_at = result.sent_at.time_since_epoch().count() != 0
                              ? result.sent_at
                              : std::chrono::system_clock::now();
    exchange.truncated = result.truncated;
    const WarcRecordRef response = warc->WriteExchange(exchange);
    if (!response.ok()) {
      Complain("WARC: " + check.url + ": " + response.error);
      return;
    }
    *ref = ToWarcRef(response);
    if (check.outcome != "live") return;
    const Json about = {{"recheck",
                         {{"url", check.url},
                          {"checked_at", check.checked_at},
                          {"outcome", check.outcome},
                          {"run_id", run_id_},
                          {"detail", *detail}}}};
    const WarcRecordRef metadata =
        warc->WriteMetadata(exchange.target_uri, response.record_id, Dump(about));
    if (!metadata.ok()) {
      Complain("WARC: " + check.url + ": " + metadata.error);
      return;
    }
    (*detail)["metadata"] = WarcRefJson(ToWarcRef(metadata));
  }

  // Where the host answered from, its Server header and certificate: a mirror that moved
  // to another hosting provider is referred there.
  void RecordHost(const FetchResult& result, const std::string& at) {
    std::optional<Url> final_url = ParseUrl(result.final_url);
    if (result.ip.empty() || !final_url) return;
    HostObservation seen;
    seen.host = final_url->host;
    seen.at = at;
    seen.ip = result.ip;
    seen.server = result.server;
    seen.cert_json = result.cert_json;
    store_.RecordHost(seen);
  }

  void FinishHost(const std::string& name, HostRound& host) {
    host.finished = true;
    store_.SetHostStatusFromChecks(name, run_id_, options_.gone_after, UtcNow());
    std::optional<HostVerdict> verdict = store_.Verdict(name);
    const std::string status = verdict ? verdict->status.status : "?";
    host.status_after = status;
    std::ostringstream line;
    line << "  " << name << "  " << status;
    const char* separator = "  ";
    for (const char* outcome : {"live", "changed", "gone", "error"}) {
      line << separator << outcome << "=" << host.outcomes[outcome];
      separator = " ";
    }
    if (verdict && status == "gone" && host.status_before != "gone") {
      const auto first = ParseTimestamp(verdict->first_seen);
      const auto gone = ParseTimestamp(verdict->status.gone_at);
      line << "  gone";
      if (first && gone) line << " " << FormatElapsed(*gone - *first);
      line << " after it was first flagged (" << verdict->first_seen << ")";
    } else if (verdict && status != "gone" && verdict->status.consecutive_gone > 0) {
      line << "  gone " << verdict->status.consecutive_gone << " of " << options_.gone_after
           << " rounds in a row";
    }
    host.line = line.str();
    Commit();
  }

  void EndRound() {
    round_open_ = false;
    wake_timer_.cancel();
    CloseWarc();
    Json hosts = Json::object();
    for (const auto& [name, host] : hosts_) {
      hosts[name] = host.finished ? Json(host.status_after) : Json("interrupted");
    }
    const Json summary = {{"round", rounds_done_ + 1},
                          {"interrupted", stopping_},
                          {"checks", round_totals_},
                          {"hosts", std::move(hosts)},
                          {"problems", problems_ - round_problems_from_}};
    store_.EndRun(run_id_, UtcNow(), Dump(summary));
    Commit();
    for (const auto& [name, host] : hosts_) {
      out_ << (host.finished ? host.line : "  " + name + "  interrupted: status unchanged") << "\n";
    }
    const double seconds = std::chrono::duration<double>(Steady::now() - round_started_).count();
    char took[32];
    std::snprintf(took, sizeof took, "%.1f", seconds);
    out_ << "round " << rounds_done_ + 1 << " done in " << took << " s\n";
    out_.flush();
    ++rounds_done_;
    if (stopping_ || (options_.rounds > 0 && rounds_done_ >= options_.rounds)) {
      Finish();
      return;
    }
    // Rounds start `every` apart (start to start); a round that ran longer is followed at once.
    round_timer_.expires_at(round_started_ + options_.every);
    round_timer_.async_wait([this](boost::system::error_code ec) {
      if (ec || stopping_) return;
      round_open_ = true;
      StartRound();
    });
  }

  void WaitForSignal() {
    signals_.async_wait([this](boost::system::error_code ec, int signal) {
      if (ec) return;
      stopping_ = true;
      err_ << "mirrorwatch recheck: " << (signal == SIGINT ? "SIGINT" : "SIGTERM")
           << (round_open_ ? ": finishing the fetches in flight" : ": stopping") << "\n";
      if (!round_open_) {
        Finish();
        return;
      }
      Pump();  // ends the round once nothing is in flight
    });
  }

  void Finish() {
    boost::system::error_code ignored;
    signals_.cancel(ignored);
    round_timer_.cancel();
    wake_timer_.cancel();
    // Idle connections in curl's cache keep sockets watched: stop the loop rather than wait.
    io_.stop();
  }

  // ---- records ----

  // This round's writer, opened on first use (a round that got no response leaves no file);
  // its warcinfo records name the round's run.
  WarcWriter* Warc() {
    if (!warc_ && !warc_failed_) {
      WarcOptions warc;
      warc.prefix = "mirrorwatch-recheck";
      warc.max_file_bytes = static_cast<std::uint64_t>(options_.crawl.warc_file_bytes);
      warc.warcinfo = {{"hostname", run_.hostname},
                       {"mirrorwatch-run", std::to_string(run_id_)},
                       {"mirrorwatch-run-started", round_started_at_},
                       {"case", run_.case_ref.empty() ? "none" : run_.case_ref},
                       {"signatures-file", run_.signatures_path},
                       {"signatures-sha256", run_.signatures_sha256},
                       {"configuration", run_.config_json}};
      std::string error;
      warc_ = WarcWriter::Open(options_.dir + "/warc", warc, &error);
      if (!warc_) {
        warc_failed_ = true;
        Complain("cannot write WARC files: " + error);
      }
    }
    return warc_.get();
  }

  // Makes the round's records durable and names its files, with their warcinfo ids, in the
  // round's run.
  void CloseWarc() {
    warc_failed_ = false;  // the next round tries again
    if (!warc_) return;
    std::string error;
    if (!warc_->Flush(&error)) Complain("WARC: " + error);
    const std::vector<std::string> files = warc_->files();
    const std::vector<std::string> warcinfo_ids = warc_->warcinfo_ids();
    for (std::size_t i = 0; i < files.size(); ++i) {
      store_.AddWarcFile(run_id_, files[i], i < warcinfo_ids.size() ? warcinfo_ids[i] : "");
    }
    warc_.reset();
  }

  void Commit() {
    std::string error = store_.TakeError();
    if (error.empty() && !store_.Commit(&error)) error = error.empty() ? "commit failed" : error;
    if (!error.empty()) Complain(store_.path() + ": " + error);
  }

  void Complain(const std::string& problem) {
    ++problems_;
    err_ << "mirrorwatch recheck: " << problem << "\n";
  }

  const RecheckOptions& options_;
  Store& store_;
  const SignatureSet& signatures_;
  const RunRecord run_;  // what every round's run record says, but for its times
  std::ostream& out_;
  std::ostream& err_;
  asio::io_context io_;
  FetchPool fetch_;
  asio::steady_timer wake_timer_;   // a host's --delay-ms is up
  asio::steady_timer round_timer_;  // the next round of --every
  asio::signal_set signals_;
  std::unique_ptr<WarcWriter> warc_;
  bool warc_failed_ = false;
  std::int64_t run_id_ = 0;                 // this round's
  std::string round_started_at_;            // UtcIso
  std::map<std::string, HostRound> hosts_;  // this round's, by host
  // When the last request to each host went out (when it was started, until then); across
  // rounds.
  std::map<std::string, Steady::time_point> last_sent_;
  std::map<std::string, std::int64_t> round_totals_;  // checks by outcome, this round
  std::map<std::string, std::int64_t> totals_;        // and every round
  Steady::time_point round_started_{};
  bool round_open_ = true;
  bool stopping_ = false;
  int in_flight_ = 0;
  int rounds_done_ = 0;
  int problems_ = 0;             // store and WARC write failures, every round
  int round_problems_from_ = 0;  // problems_ when this round started
};

// The effective configuration, one JSON object with every option by name (as the crawl's
// ConfigJson has them), for the audit record and the warcinfo records.
std::string RecheckConfigJson(const RecheckOptions& options) {
  nlohmann::ordered_json config;
  config["dir"] = options.dir;
  config["every"] = std::to_string(options.every.count()) + "s";
  config["rounds"] = options.rounds == 0 ? "until stopped" : std::to_string(options.rounds);
  config["gone-after"] = std::to_string(options.gone_after);
  config["robots"] = "not fetched: a re-check follows no links";
  for (const OptionSpec& spec : CrawlOptionSpecs()) {
    if (IsSharedOption(spec.name)) config[std::string(spec.name)] = spec.show(options.crawl);
  }
  return config.dump(-1, ' ', false, Json::error_handler_t::replace);
}

int Recheck(const RecheckOptions& options, std::ostream& out, std::ostream& err) {
  FetchOptions fetch;
  if (std::string error = MakeFetchOptions(options.crawl, &fetch); !error.empty()) {
    err << "mirrorwatch recheck: " << error << "\n";
    return kExitUsage;
  }
  const std::string signature_file = SignatureFilePath(options.crawl);
  std::vector<SignatureDiagnostic> diagnostics;
  std::unique_ptr<SignatureSet> signatures = SignatureSet::LoadFile(signature_file, &diagnostics);
  for (const SignatureDiagnostic& d : diagnostics) err << d.ToString() << "\n";
  if (!signatures) {
    err << "mirrorwatch recheck: cannot load signatures from " << signature_file << "\n";
    return kExitUsage;
  }
  const std::string db_path = options.dir + "/crawl.db";
  std::error_code ec;
  if (!std::filesystem::is_regular_file(db_path, ec)) {
    err << "mirrorwatch recheck: no crawl.db in " << options.dir
        << " (mirrorwatch crawl --out DIR makes one)\n";
    return kExitUsage;
  }
  std::string error;
  std::unique_ptr<Store> store = Store::Open(db_path, &error);
  if (!store) {
    err << "mirrorwatch recheck: " << error << "\n";
    return kExitUsage;
  }
  if (options.crawl.insecure) {
    err << "mirrorwatch recheck: WARNING: --insecure: TLS certificates are NOT verified\n";
  }
  RunRecord run;
  run.command = "recheck";
  run.case_ref = options.crawl.case_ref;
  run.version = MW_VERSION;
  run.config_json = RecheckConfigJson(options);
  run.signatures_path = signature_file;
  run.signatures_sha256 = signatures->sha256();
  run.hostname = HostName();
  RecheckLoop loop(options, *store, *signatures,
                   std::move(fetch),
                   std::move(run), out, err);
  loop.Run();
  out << "recheck: " << loop.Totals() << "\n";
  return loop.incomplete() ? kExitIncomplete : kExitOk;
}

}  // namespace

int RunRecheckCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  RecheckOptions options;
  if (std::string error = ParseRecheckArgs(args, &options); !error.empty()) {
    err << "mirrorwatch recheck: " << error << "\n(see mirrorwatch recheck --help)\n";
    return kExitUsage;
  }
  if (options.help) {
    out << RecheckHelp();
    return kExitOk;
  }
  try {
    return Recheck(options, out, err);
  } catch (const std::exception& e) {  // allocation failure, a filesystem error
    err << "mirrorwatch recheck: " << e.what() << "\n";
    return kExitUsage;
  }
}

}  // namespace mw
