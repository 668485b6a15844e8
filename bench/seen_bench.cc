// The frontier's memory and the store's size per URL: how many URLs a crawl can hold.
// See bench/README.md; the figures are in docs/storage.md and docs/benchmarks.md.
//
//   seen_bench --mode=log     --urls=10000000   NewFrontier with a Store as its log
//   seen_bench --mode=memory  --urls=2000000    NewMemoryFrontier (everything in memory)
//   seen_bench --mode=store   --urls=10000000   Store::Queued alone, no frontier
//   seen_bench --mode=restore --dir=DIR         RestoreFrontier from DIR/crawl.db (a log run's)
//
// Other flags: --hosts=10000, --links-per-page=1 (runs of this many consecutive URLs share a
// host, as the links found on one page mostly do; the runs go round-robin over the hosts, so 1
// is the worst case for the store's per-host index), --commit-every=10000,
// --drain=N (after adding, hand out N URLs with Next() and mark them Done in the log),
// --dir=DIR (default: a new directory under $TMPDIR, removed at the end unless --keep).
//
// The URLs are normalised specs like the crawl loop's after ParseUrl, 63 bytes on average
// ("http://mirror-00042.example.org/section-17/article-1234567.html"), built directly as Url
// values so that URL parsing is not timed. Each links from an earlier one (via, via_id). Peak
// RSS is the process's (getrusage); "per URL" is the growth over the RSS before the first Add.
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>

#include "crawler/frontier.h"
#include "crawler/store.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Flags {
  std::string mode = "log";
  std::int64_t urls = 10'000'000;
  std::int64_t hosts = 10'000;
  std::int64_t links_per_page = 1;
  std::int64_t commit_every = 10'000;
  std::int64_t drain = 0;
  std::string dir;
  bool keep = false;
};

bool ParseFlags(int argc, char** argv, Flags* flags) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    auto value = [&](std::string_view name) -> const char* {
      return arg.substr(0, name.size()) == name ? argv[i] + name.size() : nullptr;
    };
    if (const char* v = value("--mode=")) {
      flags->mode = v;
    } else if (const char* v = value("--urls=")) {
      flags->urls = std::atoll(v);
    } else if (const char* v = value("--hosts=")) {
      flags->hosts = std::atoll(v);
    } else if (const char* v = value("--links-per-page=")) {
      flags->links_per_page = std::atoll(v);
    } else if (const char* v = value("--commit-every=")) {
      flags->commit_every = std::atoll(v);
    } else if (const char* v = value("--drain=")) {
      flags->drain = std::atoll(v);
    } else if (const char* v = value("--dir=")) {
      flags->dir = v;
    } else if (arg == "--keep") {
      flags->keep = true;
    } else {
      std::fprintf(stderr, "seen_bench: unknown flag %s\n", argv[i]);
      return false;
    }
  }
  const bool known_mode = flags->mode == "log" || flags->mode == "memory" ||
                          flags->mode == "store" || flags->mode == "restore";
  if (!known_mode || flags->urls < 1 || flags->hosts < 1 || flags->links_per_page < 1 ||
      flags->commit_every < 1) {
    std::fprintf(stderr, "seen_bench: bad --mode or count\n");
    return false;
  }
  return true;
}

double PeakRssMiB() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024.0;  // ru_maxrss is in KiB on Linux
}

double CurrentRssMiB() {
  std::ifstream statm("/proc/self/statm");
  long pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<double>(sysconf(_SC_PAGESIZE)) / (1024.0 * 1024.0);
}

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

// URL number i (0-based): host (i / links_per_page) % hosts, and a path unique to i.
mw::Url MakeUrl(std::int64_t i, const Flags& flags) {
  const std::int64_t host_number = (i / flags.links_per_page) % flags.hosts;
  char host[48], path[80];
  std::snprintf(host, sizeof host, "mirror-%05lld.example.org",
                static_cast<long long>(host_number));
  std::snprintf(path, sizeof path, "/section-%02lld/article-%lld.html",
                static_cast<long long>(i % 97), static_cast<long long>(i));
  mw::Url url;
  url.scheme = "http";
  url.host = host;
  url.port = 80;
  url.path = path;
  url.spec = "http://" + url.host + url.path;
  return url;
}

// The URL number i links from: the first 20 (seeds) from nothing, the others from a URL added
// earlier; -1 for none.
std::int64_t ViaOf(std::int64_t i) { return i < 20 ? -1 : i / 20; }

bool CommitOrSay(mw::Store& store) {
  std::string error;
  if (store.Commit(&error) && (error = store.TakeError()).empty()) return true;
  std::fprintf(stderr, "seen_bench: %s\n", error.c_str());
  return false;
}

std::int64_t FileSize(const std::filesystem::path& path) {
  std::error_code error;
  const auto size = std::filesystem::file_size(path, error);
  return error ? 0 : static_cast<std::int64_t>(size);
}

void Progress(std::int64_t done, Clock::time_point start) {
  std::fprintf(stderr, "  %lld URLs, %.0f/s, RSS %.0f MiB\n", static_cast<long long>(done),
               done / Seconds(start), CurrentRssMiB());
}

// Adds the URLs through the frontier (mode log or memory) or the store alone (mode store).
bool Fill(const Flags& flags, mw::Frontier* frontier, mw::Store* store) {
  const auto start = Clock::now();
  for (std::int64_t i = 0; i < flags.urls; ++i) {
    const mw::Url url = MakeUrl(i, flags);
    const std::int64_t via = ViaOf(i);
    const std::string via_spec = via < 0 ? std::string() : MakeUrl(via, flags).spec;
    if (frontier != nullptr) {
      if (!frontier->Add(url, via < 0 ? 0 : 1, via_spec, 0, via + 1)) {
        std::fprintf(stderr, "seen_bench: URL %lld taken as seen\n", static_cast<long long>(i));
        return false;
      }
    } else {
      store->Queued(mw::FrontierEntry{i + 1, via + 1, url.spec, url.Authority(), via < 0 ? 0 : 1,
                                      via_spec, 0, 0});
    }
    if (store != nullptr && (i + 1) % flags.commit_every == 0 && !CommitOrSay(*store)) {
      return false;
    }
    if ((i + 1) % 1'000'000 == 0) Progress(i + 1, start);
  }
  if (store != nullptr && !CommitOrSay(*store)) return false;
  const double seconds = Seconds(start);
  std::printf("add: %lld URLs in %.1f s, %.0f URLs/s\n", static_cast<long long>(flags.urls),
              seconds, flags.urls / seconds);
  return true;
}

// Hands out URLs as the crawl loop would (Next, Release) and marks them done in the log.
bool Drain(const Flags& flags, mw::Frontier& frontier, mw::Store* store) {
  const auto start = Clock::now();
  std::int64_t drained = 0;
  while (drained < flags.drain) {
    auto entry = frontier.Next();
    if (!entry) break;
    frontier.Release(entry->host_key);
    if (store != nullptr) store->Done(entry->id);
    if (++drained % flags.commit_every == 0 && store != nullptr && !CommitOrSay(*store)) {
      return false;
    }
  }
  if (store != nullptr && !CommitOrSay(*store)) return false;
  const double seconds = Seconds(start);
  std::printf("drain: %lld URLs in %.1f s, %.0f URLs/s\n", static_cast<long long>(drained), seconds,
              drained / seconds);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  if (!ParseFlags(argc, argv, &flags)) return 2;
  const bool own_dir = flags.dir.empty();
  if (own_dir) {
    flags.dir =
        (std::filesystem::temp_directory_path() / ("mw-seen-bench-" + std::to_string(getpid())))
            .string();
  }
  std::filesystem::create_directories(flags.dir);
  const std::filesystem::path db = std::filesystem::path(flags.dir) / "crawl.db";

  std::unique_ptr<mw::Store> store;
  if (flags.mode != "memory") {
    std::string error;
    store = mw::Store::Open(db.string(), &error, static_cast<int>(flags.commit_every));
    if (!store) {
      std::fprintf(stderr, "seen_bench: %s\n", error.c_str());
      return 1;
    }
  }
  const double rss_before = CurrentRssMiB();
  std::int64_t urls = flags.urls;
  bool ok = true;
  if (flags.mode == "restore") {
    const auto start = Clock::now();
    auto frontier = mw::RestoreFrontier(mw::FrontierConfig{.log = store.get()});
    urls = static_cast<std::int64_t>(frontier->seen());
    std::printf("restore: %lld URLs (%zu queued, %zu hosts) in %.1f s\n",
                static_cast<long long>(urls), frontier->queued(), frontier->hosts(),
                Seconds(start));
    if (flags.drain > 0) ok = Drain(flags, *frontier, store.get());
  } else if (flags.mode == "store") {
    ok = Fill(flags, nullptr, store.get());
  } else {
    auto frontier =
        flags.mode == "log"
            ? mw::NewFrontier(mw::FrontierConfig{.per_group = 1 << 20, .log = store.get()})
            : mw::NewMemoryFrontier(1 << 20);
    ok = Fill(flags, frontier.get(), store.get());
    std::printf("frontier: %zu seen, %zu queued, %zu hosts\n", frontier->seen(), frontier->queued(),
                frontier->hosts());
    if (ok && flags.drain > 0) ok = Drain(flags, *frontier, store.get());
  }
  const double peak = PeakRssMiB();
  std::printf("rss: %.0f MiB before, %.0f MiB peak, %.1f bytes per URL\n", rss_before, peak,
              (peak - rss_before) * 1024 * 1024 / static_cast<double>(urls));
  store.reset();  // the last connection's close checkpoints the WAL into crawl.db
  if (flags.mode != "memory") {
    const std::int64_t bytes = FileSize(db) + FileSize(db.string() + "-wal");
    std::printf("crawl.db: %.0f MiB, %.1f bytes per URL\n", bytes / (1024.0 * 1024.0),
                bytes / static_cast<double>(urls));
  }
  if (own_dir && !flags.keep) std::filesystem::remove_all(flags.dir);
  return ok ? 0 : 1;
}
