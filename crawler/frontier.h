// The frontier: which URL to fetch next, with per-host queues and politeness.
#ifndef MIRRORWATCH_CRAWLER_FRONTIER_H_
#define MIRRORWATCH_CRAWLER_FRONTIER_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "parsers/url.h"

namespace mw {

using SteadyTime = std::chrono::steady_clock::time_point;
using SteadyClock = std::function<SteadyTime()>;

struct FrontierEntry {
  std::int64_t id = 0;   // the frontier's sequence number for the URL (1, 2, ...); its row in a
                         // FrontierLog
  std::int64_t via_id = 0;  // id of the page that linked (or redirected) here; 0 for seeds
  std::string url;       // normalised spec
  std::string host_key;  // Url::Authority(): the host queue it sits in
  int depth = 0;         // link hops from a seed
  std::string via;       // the page that linked here (or redirected here); empty for seeds
  int attempts = 0;      // fetches tried so far (retries)
  int redirects = 0;     // redirect hops that led here
};

// Decides crawl order and enforces politeness.
//
// URLs queue per host. Hosts belong to a politeness group -- the host itself, or (after
// Regroup) the IP address it resolved to, so that many mirror hosts on one server share one
// budget. A group never has more than `per_group` entries handed out and not released, and
// never starts two fetches less than its delay apart. Among groups that may start a fetch, the
// one whose next URL is shallowest goes first (breadth-first; ties round-robin). Every URL is
// handed out at most once, except when given back with Retry().
//
// Where a frontier keeps its URLs so that they survive a crash, and where it keeps the part of
// a long host queue it does not hold in memory. The store (SQLite; Redis for a shared crawl)
// implements it. Calls come from the frontier's thread. Writes may be batched: a crash may
// lose the latest ones, but never reorders them (a prefix of the calls survives).
class FrontierLog {
 public:
  virtual ~FrontierLog() = default;
  // A new URL was queued (entry.id is set, attempts 0).
  virtual void Queued(const FrontierEntry& entry) = 0;
  // A new URL was recorded as seen without being queued (it will never be fetched).
  virtual void Seen(std::int64_t id, const std::string& spec, const std::string& host_key,
                    std::int64_t via_id) = 0;
  // A queued URL was given back after a failed try; `attempts` tries so far.
  virtual void Retried(std::int64_t id, int attempts) = 0;
  // The URL with this id leaves the queue for good (fetched and dealt with, or skipped).
  virtual void Done(std::int64_t id) = 0;
  // Every URL still queued for `host_key` (a host given up on) leaves the queue.
  virtual void DoneHost(const std::string& host_key) = 0;
  // Queued URLs of `host_key` with id > after_id, in id order, at most `limit` of them, with
  // `via` filled in from via_id.
  virtual std::vector<FrontierEntry> LoadQueued(const std::string& host_key,
                                                std::int64_t after_id, std::size_t limit) = 0;

  // For a frontier restarting from the log (crawl --resume):
  // every URL ever queued or seen, in id order.
  virtual void ForEachUrl(const std::function<void(std::int64_t id, std::string_view spec)>& fn) = 0;
  // Each host with queued URLs, and how many.
  virtual std::vector<std::pair<std::string, std::int64_t>> QueuedHosts() = 0;
};

// An interface so that a shared store (Redis, SQLite) can replace the in-process one.
// Implementations are not thread-safe: the crawl loop calls them from one thread.
class Frontier {
 public:
  virtual ~Frontier() = default;

  // Queues a URL unless it was seen before; returns true when it was new.
  virtual bool Add(const Url& url, int depth, const std::string& via, int redirects = 0,
                   std::int64_t via_id = 0) = 0;
  // Records a URL as seen without queueing it (where a redirect ended, a skipped URL). True
  // when it was new.
  virtual bool MarkSeen(const std::string& spec, std::int64_t via_id = 0) = 0;
  // The next URL to fetch, or nullopt when no group may start one now. The caller must
  // Release() the entry's host_key once the fetch is over. With a FrontierLog, the entry stays
  // queued in the log until the caller calls log->Done(entry.id) once the page is dealt with
  // (the frontier cannot tell when that is, nor does Release() say so); an entry never Done
  // is queued again by RestoreFrontier.
  virtual std::optional<FrontierEntry> Next() = 0;
  virtual void Release(const std::string& host_key) = 0;
  // Gives an entry back to be fetched again (first in its host's queue), attempts + 1.
  virtual void Retry(FrontierEntry entry) = 0;

  // A blocked host hands out nothing (e.g. until its robots.txt is known).
  virtual void Block(const std::string& host_key) = 0;
  virtual void Unblock(const std::string& host_key) = 0;
  // Minimum time between the starts of two fetches in the host's group (the largest delay any
  // of the group's hosts asked for wins).
  virtual void SetDelay(const std::string& host_key, std::chrono::milliseconds delay) = 0;
  // Starts nothing in the host's group before `until` (backoff after failures, Retry-After).
  virtual void Defer(const std::string& host_key, SteadyTime until) = 0;
  // The fetch of an entry of this host was sent at `at` (later than it was handed out, by
  // the connection set-up): the group's next start is at least `at` + its delay, so that
  // the delay holds between requests as the server sees them.
  virtual void Sent(const std::string& host_key, SteadyTime at) = 0;
  // Moves a host into politeness group `group_key` (e.g. its IP address).
  virtual void Regroup(const std::string& host_key, const std::string& group_key) = 0;
  // Removes and returns every URL still queued for a host (a host given up on).
  virtual std::vector<FrontierEntry> Drop(const std::string& host_key) = 0;

  // When the earliest deferred or delayed group may start again; nullopt when none waits.
  virtual std::optional<SteadyTime> NextWake() const = 0;
  virtual std::size_t queued() const = 0;  // URLs waiting
  virtual std::size_t seen() const = 0;    // distinct URLs ever added or marked
  virtual std::size_t hosts() const = 0;   // distinct hosts ever queued
};

struct FrontierConfig {
  int per_group = 4;  // REQUIRES: >= 1
  SteadyClock clock = [] { return std::chrono::steady_clock::now(); };  // tests pass a fake
  // Optional. With a log, every URL is written to it and a host queue keeps at most
  // `buffered_per_host` entries in memory, reading the rest back from the log as it drains;
  // the seen set is kept as 64-bit URL hashes. Without one, everything is in memory.
  // Either way the seen set holds hashes, not URLs: among n URLs, the odds that two share a
  // hash (and the second is taken as seen) are about n^2 / 2^65, 3e-6 at 10 million.
  FrontierLog* log = nullptr;
  std::size_t buffered_per_host = 32;  // REQUIRES: >= 1
};

std::unique_ptr<Frontier> NewFrontier(FrontierConfig config);
// Restarts from a log: the seen set and the queues are what the log holds; ids continue
// after the largest one. Entries that were handed out and not Done() are queued again.
// REQUIRES: config.log. Reads each queued host's first URL now, the rest as it drains;
// hosts() counts the hosts with queued URLs at the restart, and those added since.
std::unique_ptr<Frontier> RestoreFrontier(FrontierConfig config);

// An in-memory frontier. REQUIRES: per_group >= 1. `clock` tells the time (tests pass a fake).
std::unique_ptr<Frontier> NewMemoryFrontier(
    int per_group, SteadyClock clock = [] { return std::chrono::steady_clock::now(); });

}  // namespace mw

#endif  // MIRRORWATCH_CRAWLER_FRONTIER_H_
