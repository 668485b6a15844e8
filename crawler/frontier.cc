#include "crawler/frontier.h"

#include <cstdint>
#include <deque>
#include <map>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace mw {
namespace {

class MemoryFrontier final : public Frontier {
 public:
  explicit MemoryFrontier(int per_host) : per_host_(per_host) {}

  bool Add(const Url& url, int depth, const std::string& via) override {
    if (!seen_.insert(url.spec).second) return false;
    std::string key = url.Authority();
    HostQueue& host = hosts_[key];
    host.entries.push_back(FrontierEntry{url.spec, key, depth, via});
    ++queued_;
    if (!host.ready && host.in_flight < per_host_) MakeReady(key, host);
    return true;
  }

  bool MarkSeen(const std::string& spec) override { return seen_.insert(spec).second; }

  std::optional<FrontierEntry> Next() override {
    if (ready_.empty()) return std::nullopt;
    auto first = ready_.begin();
    std::string key = std::move(first->second);
    ready_.erase(first);
    HostQueue& host = hosts_[key];
    host.ready = false;
    FrontierEntry entry = std::move(host.entries.front());
    host.entries.pop_front();
    --queued_;
    ++host.in_flight;
    if (!host.entries.empty() && host.in_flight < per_host_) MakeReady(key, host);
    return entry;
  }

  void Release(const std::string& host_key) override {
    auto it = hosts_.find(host_key);
    if (it == hosts_.end() || it->second.in_flight == 0) return;
    HostQueue& host = it->second;
    --host.in_flight;
    if (!host.ready && !host.entries.empty()) MakeReady(host_key, host);
  }

  std::size_t queued() const override { return queued_; }
  std::size_t seen() const override { return seen_.size(); }
  std::size_t hosts() const override { return hosts_.size(); }

 private:
  struct HostQueue {
    std::deque<FrontierEntry> entries;  // FIFO: discovery order is already breadth-first
    int in_flight = 0;
    bool ready = false;  // has a slot in ready_
  };
  // Ready hosts by (depth of their next URL, sequence): shallowest first, then round-robin.
  using ReadyKey = std::pair<int, std::uint64_t>;

  void MakeReady(const std::string& key, HostQueue& host) {
    host.ready = true;
    ready_.emplace(ReadyKey{host.entries.front().depth, next_sequence_++}, key);
  }

  const int per_host_;
  std::unordered_set<std::string> seen_;
  std::unordered_map<std::string, HostQueue> hosts_;
  std::map<ReadyKey, std::string> ready_;
  std::uint64_t next_sequence_ = 0;
  std::size_t queued_ = 0;
};

}  // namespace

std::unique_ptr<Frontier> NewMemoryFrontier(int per_host) {
  return std::make_unique<MemoryFrontier>(per_host);
}

}  // namespace mw
