// The frontier: which URL to fetch next, with per-host queues and politeness.
#ifndef MIRRORWATCH_CRAWLER_FRONTIER_H_
#define MIRRORWATCH_CRAWLER_FRONTIER_H_

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "parsers/url.h"

namespace mw {

using SteadyTime = std::chrono::steady_clock::time_point;
using SteadyClock = std::function<SteadyTime()>;

struct FrontierEntry {
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
// An interface so that a shared store (Redis, SQLite) can replace the in-process one.
// Implementations are not thread-safe: the crawl loop calls them from one thread.
class Frontier {
 public:
  virtual ~Frontier() = default;

  // Queues a URL unless it was seen before; returns true when it was new.
  virtual bool Add(const Url& url, int depth, const std::string& via, int redirects = 0) = 0;
  // Records a URL as seen without queueing it (where a redirect ended, a skipped URL). True
  // when it was new.
  virtual bool MarkSeen(const std::string& spec) = 0;
  // The next URL to fetch, or nullopt when no group may start one now. The caller must
  // Release() the entry's host_key once the fetch is over.
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

// An in-memory frontier. REQUIRES: per_group >= 1. `clock` tells the time (tests pass a fake).
std::unique_ptr<Frontier> NewMemoryFrontier(
    int per_group, SteadyClock clock = [] { return std::chrono::steady_clock::now(); });

}  // namespace mw

#endif  // MIRRORWATCH_CRAWLER_FRONTIER_H_
