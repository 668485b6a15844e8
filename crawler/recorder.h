// Where a crawl's output goes: DIR/crawl.db (the Store), DIR/warc/*.warc.gz (the evidence),
// and DIR/pages.jsonl + DIR/findings.jsonl (live feeds, rewritten from the store on --resume).
//
// The crawl loop records through here and nowhere else, so the four stay consistent: a URL is
// marked done in the store after its page line, its findings and the links it queued, all in
// one ordered stream of batched writes, so that whatever a kill -9 leaves behind is a prefix
// of that stream.
#ifndef MIRRORWATCH_CRAWLER_RECORDER_H_
#define MIRRORWATCH_CRAWLER_RECORDER_H_

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "crawler/fetch_pool.h"
#include "crawler/options.h"
#include "crawler/store.h"
#include "crawler/warc.h"

namespace mw {

// What the audit record says about the run besides the options.
struct RunIdentity {
  std::string signatures_path;
  std::string signatures_sha256;
};

class Recorder {
 public:
  // Creates DIR and opens (or, with --resume, reopens) what `options` asks for. A DIR that
  // already holds a crawl is refused unless resuming; resuming a DIR without crawl.db is
  // refused. Returns an error message, empty on success.
  static std::string Open(const CrawlOptions& options, const RunIdentity& identity,
                          std::unique_ptr<Recorder>* out);
  ~Recorder();
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;

  Store* store() { return store_.get(); }  // null with --store none
  bool resuming() const { return resuming_; }
  bool archiving() const { return warc_ != nullptr; }

  // ---- WARC: thread-safe, called from worker threads too ----
  // Writes the exchange (request + response records) when the fetch captured one; an empty
  // ref otherwise, or when WARC writing failed (the error is kept for Finish()).
  WarcRef Archive(const FetchResult& result);
  // Writes a metadata record with `json` about `uri`, tied to the response record `response`.
  WarcRef ArchiveMetadata(const std::string& uri, const WarcRef& response, const std::string& json);

  // ---- the loop thread only ----
  void Page(const PageRecord& page);           // a pages.jsonl line (page.json) + the store
  void Finding(const FindingRecord& finding);  // a findings.jsonl line + the store
  void Host(const HostObservation& seen);
  void Link(const std::string& to_host, std::int64_t from_url_id);
  void Done(std::int64_t url_id);
  // Commits the store's batch. Returns false (and keeps the message) on a write error.
  bool Commit();
  // Commits, syncs the WARC files, closes the audit record with `summary_json`. Returns the
  // first error met during the crawl (a full disk ...), empty when all went well.
  std::string Finish(const std::string& summary_json);

 private:
  Recorder() = default;
  std::string OpenFeeds();  // pages.jsonl and findings.jsonl: fresh, or rebuilt from the store
  void NoteError(const std::string& error);
  void NoteWarcFiles();

  std::unique_ptr<Store> store_;
  std::unique_ptr<WarcWriter> warc_;
  std::FILE* pages_ = nullptr;
  std::FILE* findings_ = nullptr;
  std::string dir_;
  bool resuming_ = false;
  std::int64_t run_id_ = 0;
  std::size_t warc_files_noted_ = 0;
  std::string error_;       // the first error, loop thread
  std::mutex warc_error_mutex_;
  std::string warc_error_;  // the first WARC error, any thread; guarded by warc_error_mutex_
};

// The store's form of a WARC writer's record reference.
WarcRef ToWarcRef(const WarcRecordRef& ref);

// The effective configuration as one JSON object (every option by name, and "seed_urls"), for
// the audit record and the warcinfo records.
std::string ConfigJson(const CrawlOptions& options);
// UTC, ISO 8601 with milliseconds: "2026-11-28T13:42:45.123Z".
std::string UtcIso(std::chrono::system_clock::time_point at);
std::string HostName();

}  // namespace mw

#endif  // MIRRORWATCH_CRAWLER_RECORDER_H_
