// The frontier: which URL to fetch next, with per-host queues and politeness caps.
#ifndef MIRRORWATCH_CRAWLER_FRONTIER_H_
#define MIRRORWATCH_CRAWLER_FRONTIER_H_

#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include "parsers/url.h"

namespace mw {

struct FrontierEntry {
  std::string url;       // normalised spec
  std::string host_key;  // politeness key (Url::Authority())
  int depth = 0;         // link hops from a seed
  std::string via;       // the page that linked here; empty for seeds
};

// Decides crawl order. Breadth-first: among hosts that may take another request, the one whose
// next URL is shallowest goes first (ties round-robin). A host never has more than `per_host`
// entries handed out and not yet released. Every URL is handed out at most once.
//
// An interface so that a shared store (Redis, SQLite) can replace the in-process one.
// Implementations are not thread-safe: the crawl loop calls them from one thread.
class Frontier {
 public:
  virtual ~Frontier() = default;

  // Queues `url` unless it was seen before; returns true when it was new.
  virtual bool Add(const Url& url, int depth, const std::string& via) = 0;
  // Records a URL as seen without queueing it (e.g. where a redirect ended). True when new.
  virtual bool MarkSeen(const std::string& spec) = 0;
  // The next URL to fetch, or nullopt when every host with queued URLs is at its cap (or
  // nothing is queued). The caller must Release() the entry's host_key once done with it.
  virtual std::optional<FrontierEntry> Next() = 0;
  virtual void Release(const std::string& host_key) = 0;

  virtual std::size_t queued() const = 0;  // URLs waiting
  virtual std::size_t seen() const = 0;    // distinct URLs ever added or marked
  virtual std::size_t hosts() const = 0;   // distinct hosts ever queued
};

// An in-memory frontier. REQUIRES: per_host >= 1.
std::unique_ptr<Frontier> NewMemoryFrontier(int per_host);

}  // namespace mw

#endif  // MIRRORWATCH_CRAWLER_FRONTIER_H_
