#include "crawler/frontier.h"

#include <algorithm>
#include <cassert>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <list>
#include <map>
#include <random>
#include <unordered_map>
#include <utility>
#include <vector>

namespace mw {
namespace {

// XXH64 (https://github.com/Cyan4973/xxHash/blob/dev/doc/xxhash_spec.md), reading words in
// the machine's byte order: the hashes never leave the process. Not std::hash: libstdc++'s is
// a MurmurHash2 variant, which has collisions that hold whatever the seed.
constexpr std::uint64_t kPrime1 = 0x9E3779B185EBCA87ULL;
constexpr std::uint64_t kPrime2 = 0xC2B2AE3D27D4EB4FULL;
constexpr std::uint64_t kPrime3 = 0x165667B19E3779F9ULL;
constexpr std::uint64_t kPrime4 = 0x85EBCA77C2B2AE63ULL;
constexpr std::uint64_t kPrime5 = 0x27D4EB2F165667C5ULL;

std::uint64_t Rotl(std::uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

std::uint64_t Read64(const char* p) {
  std::uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

std::uint32_t Read32(const char* p) {
  std::uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

std::uint64_t Round(std::uint64_t acc, std::uint64_t input) {
  return Rotl(acc + input * kPrime2, 31) * kPrime1;
}

std::uint64_t MergeRound(std::uint64_t acc, std::uint64_t lane) {
  return (acc ^ Round(0, lane)) * kPrime1 + kPrime4;
}

std::uint64_t Xxh64(std::string_view data, std::uint64_t seed) {
  const char* p = data.data();
  const char* const end = p + data.size();
  std::uint64_t h;
  if (data.size() >= 32) {
    std::uint64_t v1 = seed + kPrime1 + kPrime2, v2 = seed + kPrime2, v3 = seed,
                  v4 = seed - kPrime1;
    for (; end - p >= 32; p += 32) {
      v1 = Round(v1, Read64(p));
      v2 = Round(v2, Read64(p + 8));
      v3 = Round(v3, Read64(p + 16));
      v4 = Round(v4, Read64(p + 24));
    }
    h = Rotl(v1, 1) + Rotl(v2, 7) + Rotl(v3, 12) + Rotl(v4, 18);
    h = MergeRound(MergeRound(MergeRound(MergeRound(h, v1), v2), v3), v4);
  } else {
    h = seed + kPrime5;
  }
  h += data.size();
  for (; end - p >= 8; p += 8) h = Rotl(h ^ Round(0, Read64(p)), 27) * kPrime1 + kPrime4;
  if (end - p >= 4) {
    h = Rotl(h ^ (Read32(p) * kPrime1), 23) * kPrime2 + kPrime3;
    p += 4;
  }
  for (; p < end; ++p) h = Rotl(h ^ (static_cast<unsigned char>(*p) * kPrime5), 11) * kPrime1;
  h = (h ^ (h >> 33)) * kPrime2;
  h = (h ^ (h >> 29)) * kPrime3;
  return h ^ (h >> 32);
}

// The URLs seen so far, as 64-bit hashes in an open-addressing table (linear probing, 0 marks
// an empty slot, doubled before it is 70% full): 8 bytes a slot, 11 to 23 bytes a URL, where
// a std::unordered_set<std::string> spends ~150 (a node, a bucket and a copy of the URL).
// Two URLs with the same hash count as one, so the second is never fetched: among n URLs the
// odds that any two collide are about n^2 / 2^65, 3e-6 at 10 million. The seed is drawn per
// frontier, so that a hostile page cannot compute a URL that hides another one.
class SeenSet {
 public:
  SeenSet() : seed_((std::uint64_t{std::random_device{}()} << 32) | std::random_device{}()) {}

  // True when `spec` was not in the set (it is now).
  bool Insert(std::string_view spec) {
    if ((size_ + 1) * 10 > slots_.size() * 7) Grow();
    std::uint64_t hash = Xxh64(spec, seed_);
    if (hash == 0) hash = 1;  // 0 marks an empty slot
    std::uint64_t& slot = SlotFor(hash);
    if (slot == hash) return false;
    slot = hash;
    ++size_;
    return true;
  }

  std::size_t size() const { return size_; }

 private:
  // The slot holding `hash`, or the empty one where it belongs.
  std::uint64_t& SlotFor(std::uint64_t hash) {
    const std::size_t mask = slots_.size() - 1;
    std::size_t i = hash & mask;
    while (slots_[i] != 0 && slots_[i] != hash) i = (i + 1) & mask;
    return slots_[i];
  }

  void Grow() {
    std::vector<std::uint64_t> old(std::max<std::size_t>(16, slots_.size() * 2), 0);
    old.swap(slots_);
    for (std::uint64_t hash : old) {
      if (hash != 0) SlotFor(hash) = hash;
    }
  }

  const std::uint64_t seed_;
  std::vector<std::uint64_t> slots_;  // size a power of two
  std::size_t size_ = 0;
};

// A host's URLs in memory, in the order they go out: a vector and the index of its front.
// Unlike a std::deque (which allocates over 500 bytes before the first element), it holds no
// memory while empty, and gives its memory back when it drains.
class EntryQueue {
 public:
  bool empty() const { return front_ == entries_.size(); }
  std::size_t size() const { return entries_.size() - front_; }
  const FrontierEntry& front() const { return entries_[front_]; }

  void PushBack(FrontierEntry entry) {
    // Rather than grow the vector, reuse the slots already handed out when they are half of
    // it: each entry is moved at most once per time the vector fills.
    if (entries_.size() == entries_.capacity() && front_ * 2 >= entries_.size()) {
      entries_.erase(entries_.begin(), entries_.begin() + front_);
      front_ = 0;
    }
    entries_.push_back(std::move(entry));
  }

  void PushFront(FrontierEntry entry) {
    if (front_ > 0) {
      entries_[--front_] = std::move(entry);
    } else {
      entries_.insert(entries_.begin(), std::move(entry));
    }
  }

  FrontierEntry PopFront() {
    FrontierEntry entry = std::move(entries_[front_++]);
    if (empty()) Clear();
    return entry;
  }

  // Every entry, front first; the queue is left empty.
  std::vector<FrontierEntry> TakeAll() {
    std::vector<FrontierEntry> all(std::make_move_iterator(entries_.begin() + front_),
                                   std::make_move_iterator(entries_.end()));
    Clear();
    return all;
  }

 private:
  void Clear() {
    std::vector<FrontierEntry>().swap(entries_);
    front_ = 0;
  }

  std::vector<FrontierEntry> entries_;
  std::size_t front_ = 0;
};

class HostQueueFrontier final : public Frontier {
 public:
  explicit HostQueueFrontier(FrontierConfig config)
      : per_group_(config.per_group),
        clock_(std::move(config.clock)),
        log_(config.log),
        buffered_(config.buffered_per_host) {}

  // Reads the seen set and the queued hosts back from the log. Each host's first queued URL
  // is read now (its depth places the host breadth-first); the rest as the host drains.
  void Restore() {
    log_->ForEachUrl([this](std::int64_t id, std::string_view spec) {
      seen_.Insert(spec);
      last_id_ = std::max(last_id_, id);
    });
    for (auto& [key, count] : log_->QueuedHosts()) {
      Host& host = HostFor(key);
      host.spilled = count;
      queued_ += count;
      Refill(key, host, 1);
      List(host);
      Schedule(*host.group);
    }
  }

  bool Add(const Url& url, int depth, const std::string& via, int redirects,
           std::int64_t via_id) override {
    if (!seen_.Insert(url.spec)) return false;
    std::string key = url.Authority();
    Host& host = HostFor(key);
    FrontierEntry entry{++last_id_, via_id, url.spec, std::move(key), depth, via, 0, redirects};
    ++queued_;
    if (log_ == nullptr) {
      host.entries.PushBack(std::move(entry));
    } else {
      log_->Queued(entry);
      // Behind URLs already spilled to the log, a new one waits there too: FIFO by id.
      if (host.spilled == 0 && host.entries.size() < buffered_) {
        host.last_loaded_id = entry.id;
        host.entries.PushBack(std::move(entry));
      } else {
        ++host.spilled;
      }
    }
    List(host);
    Schedule(*host.group);
    return true;
  }

  bool MarkSeen(const std::string& spec, std::int64_t via_id) override {
    if (!seen_.Insert(spec)) return false;
    ++last_id_;
    if (log_ != nullptr) {
      std::optional<Url> url = ParseUrl(spec);
      log_->Seen(last_id_, spec, url ? url->Authority() : std::string(), via_id);
    }
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
    FrontierEntry entry = host.entries.PopFront();
    --queued_;
    Refill(entry.host_key, host, buffered_);
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
    if (log_ != nullptr) log_->Retried(entry.id, entry.attempts);
    host.entries.PushFront(std::move(entry));
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
    queued_ -= host.entries.size() + host.spilled;
    std::vector<FrontierEntry> dropped = host.entries.TakeAll();
    if (log_ != nullptr) {
      // The log, not the count, says how many are left: read until it has no more.
      for (std::int64_t after = host.last_loaded_id;;) {
        std::vector<FrontierEntry> more = log_->LoadQueued(host_key, after, buffered_);
        if (!more.empty()) after = more.back().id;
        dropped.insert(dropped.end(), std::make_move_iterator(more.begin()),
                       std::make_move_iterator(more.end()));
        if (more.size() < buffered_) break;
      }
      host.spilled = 0;
      log_->DoneHost(host_key);
    }
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
    // The front of the host's queue. With a log, at most buffered_ entries (plus any given
    // back by Retry); never empty while `spilled` > 0.
    EntryQueue entries;
    // With a log: how many queued URLs are only in the log, all with ids > last_loaded_id.
    std::int64_t spilled = 0;
    std::int64_t last_loaded_id = 0;
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

  // Once a host's queue in memory is empty, reads up to `limit` of its spilled URLs back.
  void Refill(const std::string& key, Host& host, std::size_t limit) {
    if (host.spilled == 0 || !host.entries.empty()) return;
    std::vector<FrontierEntry> loaded = log_->LoadQueued(key, host.last_loaded_id, limit);
    queued_ -= host.spilled;
    // Fewer than asked for: the log has no more, whatever the count said.
    host.spilled =
        loaded.size() < limit ? 0 : std::max<std::int64_t>(0, host.spilled - std::ssize(loaded));
    queued_ += host.spilled + loaded.size();
    for (FrontierEntry& entry : loaded) {
      host.last_loaded_id = entry.id;
      host.entries.PushBack(std::move(entry));
    }
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
  FrontierLog* const log_;
  const std::size_t buffered_;
  SeenSet seen_;
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

std::unique_ptr<Frontier> NewFrontier(FrontierConfig config) {
  return std::make_unique<HostQueueFrontier>(std::move(config));
}

std::unique_ptr<Frontier> RestoreFrontier(FrontierConfig config) {
  assert(config.log != nullptr);
  auto frontier = std::make_unique<HostQueueFrontier>(std::move(config));
  frontier->Restore();
  return frontier;
}

std::unique_ptr<Frontier> NewMemoryFrontier(int per_group, SteadyClock clock) {
  return NewFrontier(FrontierConfig{.per_group = per_group, .clock = std::move(clock)});
}

}  // namespace mw
