// Durable crawl state: DIR/crawl.db, one SQLite file in WAL mode (schema: docs/storage.md).
//
// Holds the frontier and seen set (as a FrontierLog), every pages.jsonl line, the findings,
// what is known of each host (addresses, server, TLS certificate, who linked to it), the
// verdict on each flagged host, takedown re-checks, and one audit record per run.
//
// Writes are batched: the first write after a commit opens a transaction, and Commit() (or
// the batch filling up) ends it. A crash (kill -9) loses at most the writes since the last
// commit, and never reorders them: what survives is a prefix of the calls. Reads see the
// writes made so far, committed or not. Not thread-safe: one thread uses a Store. Other
// processes (mirrorwatch report while a crawl runs) may open the same file and read what is
// committed.
#ifndef MIRRORWATCH_CRAWLER_STORE_H_
#define MIRRORWATCH_CRAWLER_STORE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "crawler/frontier.h"

namespace mw {

// Where a record sits in the WARC files (see WarcRecordRef). Empty file: no WARC record.
struct WarcRef {
  std::string file;  // name inside DIR/warc/
  std::int64_t offset = 0;
  std::int64_t length = 0;
  std::string record_id;  // "<urn:uuid:...>"
  std::string sha256;     // lower-case hex of the payload the record holds
};

// The chain-of-custody record of one run of mirrorwatch against this store.
struct RunRecord {
  std::int64_t id = 0;
  std::string command;            // "crawl", "crawl --resume", "recheck"
  std::string case_ref;           // --case
  std::string version;            // mirrorwatch version
  std::string config_json;        // the full effective configuration, one JSON object
  std::string signatures_path;
  std::string signatures_sha256;  // of the signature file used
  std::string hostname;           // of the crawling machine
  std::string started_at;         // UTC, ISO 8601 with milliseconds ("...Z")
  std::string ended_at;           // empty while running, or when the run was killed
  std::string summary_json;       // set by EndRun
  std::vector<std::string> warc_files;        // WARC files this run wrote
  std::vector<std::string> warcinfo_ids;      // their warcinfo records' WARC-Record-IDs
};

// One pages.jsonl line: a fetch (of a page, robots.txt, a sitemap) or a URL not fetched.
struct PageRecord {
  std::int64_t url_id = 0;  // the URL's frontier id; 0 for robots.txt and sitemaps
  std::string url;
  std::string host;
  std::string fetched_at;   // empty for a skip
  long status = 0;
  std::string error_kind;   // empty on success
  WarcRef warc;             // the response record
  std::string json;         // the whole line, as written to pages.jsonl
};

// One findings.jsonl line: a page flagged as branded by one outlet.
struct FindingRecord {
  std::int64_t url_id = 0;
  std::string url;
  std::string final_url;
  std::string host;   // of final_url: the host the verdict is about
  std::string outlet;
  double score = 0;
  std::string fetched_at;
  std::string sha256;  // of the body as decoded
  WarcRef warc;        // the response record
  WarcRef metadata;    // the metadata record holding this finding
  std::string json;    // the whole line, as written to findings.jsonl: rules, snippets ...
  std::string etag;           // validators of the response, for re-checks; empty: none
  std::string last_modified;
};

// What a fetch told about a host (whether or not it is flagged).
struct HostObservation {
  std::string host;
  std::string at;      // when
  std::string ip;      // the address connected to
  std::string server;  // the Server header; empty: none
  // The TLS certificate of the leaf, one JSON object: {"subject", "issuer", "sans": [...],
  // "sha256": hex fingerprint, "not_before", "not_after"}; empty for plain HTTP.
  std::string cert_json;
};

// A takedown re-check of one flagged URL.
struct CheckRecord {
  std::int64_t run_id = 0;
  std::string host;
  std::string url;
  std::string checked_at;
  long status = 0;          // HTTP status; 0 when no response
  std::string error_kind;   // FetchErrorName, empty when a response came
  // "live": still flagged (or 304 Not Modified since a flagged fetch); "changed": a page came
  // but is no longer flagged; "gone": 404/410/DNS failure/connection refused; "error": any
  // other failure (timeout, 5xx): says nothing either way.
  std::string outcome;
  std::string etag;          // validators from the response, for the next conditional request
  std::string last_modified;
  WarcRef warc;              // the new response, when one came
  std::string detail_json;   // outlets and scores when flagged, error text ...
};

// The state of a flagged host as re-checks see it.
struct HostStatusRecord {
  std::string status = "flagged";  // flagged (never re-checked) | live | changed | gone
  std::string since;               // when it entered that status
  int consecutive_gone = 0;        // checks in a row where every URL was gone
  std::string gone_at;             // the first check of the run of "gone" that made it gone
  std::string last_checked;
};

// One piece of evidence: a flagged page, with where its bytes are.
struct Evidence {
  std::string url;
  std::string final_url;
  std::string outlet;
  double score = 0;
  std::string fetched_at;
  std::string sha256;
  WarcRef warc;
  WarcRef metadata;
  std::string finding_json;  // the findings.jsonl line (rules, fields, snippets)
};

// The verdict on a host: what a referral is about.
struct HostVerdict {
  std::string host;
  std::vector<std::string> outlets;  // sorted
  std::string first_seen;            // first and last flagged fetch
  std::string last_seen;
  std::int64_t flagged_pages = 0;    // distinct URLs flagged
  double best_score = 0;
  std::vector<Evidence> top_evidence;  // best score first, at most 5
  std::vector<std::string> ips;        // every address it was reached at, sorted
  std::string server;                  // the latest Server header
  std::string cert_json;               // the latest certificate (see HostObservation)
  // How the crawl reached the host: the seed, then each page that led to the next, ending
  // with the host's first flagged page.
  std::vector<std::string> discovery_path;
  std::vector<std::string> linked_from;  // pages on other hosts that linked to it, sorted
  HostStatusRecord status;
  std::vector<CheckRecord> checks;       // re-checks, oldest first
};

// A URL to re-check, with the validators of its last response (a re-check's, or the crawl's).
struct RecheckTarget {
  std::string host;
  std::string url;
  std::string etag;
  std::string last_modified;
};

class Store final : public FrontierLog {
 public:
  static constexpr int kSchemaVersion = 2;

  // Opens DIR/crawl.db (the path of the file itself), creating it, or migrating an older
  // schema forward. Refuses a file with a newer schema, or that is not a mirrorwatch store.
  // `batch_writes`: commit after this many writes even without Commit(). nullptr + *error
  // on failure (the SQLite message and the file).
  static std::unique_ptr<Store> Open(const std::string& path, std::string* error,
                                     int batch_writes = 2000);
  ~Store() override;  // commits
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  int schema_version() const;
  const std::string& path() const;

  // Ends the open transaction, if any. False + *error on failure (disk full ...); the
  // writes stay pending and the next Commit() tries again.
  bool Commit(std::string* error);
  // The first error a write met since the last call (writes never throw); empty: none.
  std::string TakeError();

  // ---- runs (audit) ----
  std::int64_t BeginRun(const RunRecord& run);  // run.id is ignored; returns the new id
  void AddWarcFile(std::int64_t run_id, const std::string& file, const std::string& warcinfo_id);
  void EndRun(std::int64_t run_id, const std::string& ended_at, const std::string& summary_json);
  std::vector<RunRecord> Runs();  // oldest first

  // ---- FrontierLog ----
  void Queued(const FrontierEntry& entry) override;
  void Seen(std::int64_t id, const std::string& spec, const std::string& host_key,
            std::int64_t via_id) override;
  void Retried(std::int64_t id, int attempts) override;
  void Done(std::int64_t id) override;
  void DoneHost(const std::string& host_key) override;
  std::vector<FrontierEntry> LoadQueued(const std::string& host_key, std::int64_t after_id,
                                        std::size_t limit) override;
  void ForEachUrl(const std::function<void(std::int64_t id, std::string_view spec)>& fn) override;
  std::vector<std::pair<std::string, std::int64_t>> QueuedHosts() override;
  std::int64_t queued_count();  // URLs still queued

  // ---- what the crawl saw ----
  void RecordPage(const PageRecord& page);
  void RecordFinding(const FindingRecord& finding);  // updates the host's verdict
  void RecordHost(const HostObservation& seen);
  // A page on another host (from_url_id) linked to `to_host`. Recorded once per pair.
  void RecordLink(const std::string& to_host, std::int64_t from_url_id);
  // The pages.jsonl and findings.jsonl lines, in the order they were recorded.
  void ForEachPageJson(const std::function<void(std::string_view json)>& fn);
  void ForEachFindingJson(const std::function<void(std::string_view json)>& fn);
  std::int64_t page_count();
  std::int64_t finding_count();

  // ---- verdicts ----
  std::vector<std::string> FlaggedHosts();  // sorted
  std::optional<HostVerdict> Verdict(const std::string& host);
  std::vector<HostVerdict> Verdicts();       // every flagged host, sorted by host

  // ---- re-checks ----
  // Each distinct flagged URL of each flagged host (hosts sorted, then URLs), with the
  // validators from its latest response (crawl or re-check).
  std::vector<RecheckTarget> RecheckTargets();
  void RecordCheck(const CheckRecord& check);
  // Ends a host's re-check: sets its status from the outcomes just recorded for `run_id`
  // (any live -> live; else any changed -> changed; all gone -> consecutive_gone + 1, and
  // gone once it reaches `gone_after`; only errors: unchanged).
  void SetHostStatusFromChecks(const std::string& host, std::int64_t run_id, int gone_after,
                               const std::string& at);
  std::vector<CheckRecord> Checks(const std::string& host);  // oldest first

 private:
  class Impl;
  explicit Store(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mw

#endif  // MIRRORWATCH_CRAWLER_STORE_H_
