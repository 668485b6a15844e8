#include "crawler/frontier.h"

#include <algorithm>
#include <cstdint>
#include <deque>
#include <list>
#include <map>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace mw {
namespace {

class MemoryFrontier final : public Frontier {
 public:
  MemoryFrontier(int per_group, SteadyClock clock)
      : per_group_(per_group), clock_(std::move(clock)) {}

  bool Add(const Url& url, int depth, const std::string& via, int redirects,
           std::int64_t via_id) override {
    if (!seen_.insert(url.spec).second) return false;
    std::string key = url.Authority();
    Host& host = HostFor(key);
    host.entries.push_back(
        FrontierEntry{++last_id_, via_id, url.spec, std::move(key), depth, via, 0, redirects});
    ++queued_;
    List(host);
    Schedule(*host.group);
    return true;
  }

  bool MarkSeen(const std::string& spec, std::int64_t /*via_id*/) override {
    if (!seen_.insert(spec).second) return false;
    ++last_id_;
    return true;
  }

  std::optional<FrontierEntry> Next() override {
    const SteadyTime now = clock_();
    while (!sleeping_.empty() && sleeping_.begin()->first <= now) {
      Schedule(*sleeping_.begin()->second);
    }
    if (ready_.empty()) return std::nullopt;
    Group& group = *ready_.begin()->second;
    ready_.erase(ready_.begin());
    group.ready = false;
    Host& host = *group.hosts.front();
    group.hosts.pop_front();
    FrontierEntry entry = std::move(host.entries.front());
    host.entries.pop_front();
    --queued_;
    host.listed = false;
    List(host);  // to the back of the group's round-robin, if it has more
    ++host.in_flight;
    ++group.in_flight;
    group.next_start = now + group.delay;
    Schedule(group);
    return entry;
  }

  void Release(const std::string& host_key) override {
    auto it = hosts_.find(host_key);
    if (it == hosts_.end() || it->second.in_flight == 0) return;
    Host& host = it->second;
    --host.in_flight;
    --host.group->in_flight;
    Schedule(*host.group);
  }

  void Retry(FrontierEntry entry) override {
    Host& host = HostFor(entry.host_key);
    ++entry.attempts;
    host.entries.push_front(std::move(entry));
    ++queued_;
    List(host);
    Schedule(*host.group);
  }

  void Block(const std::string& host_key) override {
    Host& host = HostFor(host_key);
    host.blocked = true;
    Unlist(host);
    Schedule(*host.group);
  }

  void Unblock(const std::string& host_key) override {
    Host& host = HostFor(host_key);
    host.blocked = false;
    List(host);
    Schedule(*host.group);
  }

  void SetDelay(const std::string& host_key, std::chrono::milliseconds delay) override {
    Group& group = *HostFor(host_key).group;
    group.delay = std::max<SteadyTime::duration>(group.delay, delay);
  }

  void Defer(const std::string& host_key, SteadyTime until) override {
    Group& group = *HostFor(host_key).group;
    group.next_start = std::max(group.next_start, until);
    Schedule(group);
  }

  void Sent(const std::string& host_key, SteadyTime at) override {
    Group& group = *HostFor(host_key).group;
    group.next_start = std::max(group.next_start, at + group.delay);
    Schedule(group);
  }

  void Regroup(const std::string& host_key, const std::string& group_key) override {
    Host& host = HostFor(host_key);
    Group& to = groups_[group_key];
    if (host.group == &to) return;
    Group& from = *host.group;
    Unlist(host);
    from.in_flight -= host.in_flight;
    to.in_flight += host.in_flight;
    to.delay = std::max(to.delay, from.delay);
    host.group = &to;
    List(host);
    Schedule(from);
    Schedule(to);
  }

  std::vector<FrontierEntry> Drop(const std::string& host_key) override {
    Host& host = HostFor(host_key);
    std::vector<FrontierEntry> dropped(std::make_move_iterator(host.entries.begin()),
                                       std::make_move_iterator(host.entries.end()));
    queued_ -= host.entries.size();
    host.entries.clear();
    Unlist(host);
    Schedule(*host.group);
    return dropped;
  }

  std::optional<SteadyTime> NextWake() const override {
    if (sleeping_.empty()) return std::nullopt;
    return sleeping_.begin()->first;
  }

  std::size_t queued() const override { return queued_; }
  std::size_t seen() const override { return seen_.size(); }
  std::size_t hosts() const override { return hosts_.size(); }

 private:
  struct Host;
  // Ready groups by (depth of their next URL, sequence): shallowest first, then round-robin.
  using ReadyKey = std::pair<int, std::uint64_t>;

  struct Group {
    std::list<Host*> hosts;  // hosts with URLs that may be handed out, round-robin
    int in_flight = 0;
    SteadyTime::duration delay{};
    SteadyTime next_start{};
    bool ready = false;  // in ready_ under ready_key
    ReadyKey ready_key{};
    bool sleeping = false;  // in sleeping_ at sleep_slot
    std::multimap<SteadyTime, Group*>::iterator sleep_slot;
  };

  struct Host {
    std::deque<FrontierEntry> entries;
    Group* group = nullptr;
    int in_flight = 0;
    bool blocked = false;
    bool listed = false;  // in group->hosts
  };

  Host& HostFor(const std::string& key) {
    auto [it, inserted] = hosts_.try_emplace(key);
    if (inserted) it->second.group = &groups_[key];
    return it->second;
  }

  void List(Host& host) {
    if (host.listed || host.blocked || host.entries.empty()) return;
    host.group->hosts.push_back(&host);
    host.listed = true;
  }

  void Unlist(Host& host) {
    if (!host.listed) return;
    host.group->hosts.remove(&host);
    host.listed = false;
  }

  // Puts a group where its state says it belongs: ready, sleeping until next_start, or idle.
  void Schedule(Group& group) {
    if (group.ready) {
      ready_.erase(group.ready_key);
      group.ready = false;
    }
    if (group.sleeping) {
      sleeping_.erase(group.sleep_slot);
      group.sleeping = false;
    }
    if (group.hosts.empty() || group.in_flight >= per_group_) return;
    if (group.next_start > clock_()) {
      group.sleep_slot = sleeping_.emplace(group.next_start, &group);
      group.sleeping = true;
      return;
    }
    group.ready_key = {group.hosts.front()->entries.front().depth, next_sequence_++};
    ready_.emplace(group.ready_key, &group);
    group.ready = true;
  }

  const int per_group_;
  const SteadyClock clock_;
  std::unordered_set<std::string> seen_;
  // Node-based maps: Host* and Group* stay valid as they grow.
  std::unordered_map<std::string, Host> hosts_;
  std::unordered_map<std::string, Group> groups_;
  std::map<ReadyKey, Group*> ready_;
  std::multimap<SteadyTime, Group*> sleeping_;
  std::uint64_t next_sequence_ = 0;
  std::int64_t last_id_ = 0;
  std::size_t queued_ = 0;
};

}  // namespace

std::unique_ptr<Frontier> NewMemoryFrontier(int per_group, SteadyClock clock) {
  return std::make_unique<MemoryFrontier>(per_group, std::move(clock));
}

}  // namespace mw
