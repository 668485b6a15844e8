#include "crawler/store.h"

#include <sqlite3.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <limits>
#include <map>

namespace mw {
namespace {

// PRAGMA application_id of every mirrorwatch store: "MWTC". A SQLite file without it is some
// other program's database, and is refused rather than written to.
constexpr int kApplicationId = 0x4D575443;

// Schema migrations, oldest first: kMigrations[i] takes a store from version i to i + 1. Each
// step runs in one transaction with its user_version bump, so a store is always at a version
// that some mirrorwatch wrote. To change the schema, append a step and bump kSchemaVersion;
// never edit a step that has shipped. Every table and column is described in docs/storage.md.
constexpr const char* kMigrations[] = {
    // 1: the first schema.
    R"sql(
CREATE TABLE meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;
INSERT INTO meta (key, value) VALUES
  ('application', 'mirrorwatch'),
  ('created_by', 'mirrorwatch )sql" MW_VERSION R"sql('),
  ('created_at', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));

CREATE TABLE runs (
  id INTEGER PRIMARY KEY,
  command TEXT NOT NULL,
  case_ref TEXT NOT NULL,
  version TEXT NOT NULL,
  config_json TEXT NOT NULL,
  signatures_path TEXT NOT NULL,
  signatures_sha256 TEXT NOT NULL,
  hostname TEXT NOT NULL,
  started_at TEXT NOT NULL,
  ended_at TEXT,
  summary_json TEXT
);
CREATE TABLE run_warc_files (
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL,
  file TEXT NOT NULL,
  warcinfo_id TEXT NOT NULL
);
CREATE INDEX run_warc_files_run ON run_warc_files (run_id, id);

CREATE TABLE urls (
  id INTEGER PRIMARY KEY,
  url TEXT NOT NULL,
  host_key TEXT NOT NULL,
  depth INTEGER NOT NULL,
  via_id INTEGER NOT NULL,
  redirects INTEGER NOT NULL,
  attempts INTEGER NOT NULL,
  state INTEGER NOT NULL CHECK (state IN (0, 1, 2))  -- 0 queued, 1 done, 2 seen
);
CREATE INDEX urls_queued ON urls (host_key, id) WHERE state = 0;

CREATE TABLE pages (
  id INTEGER PRIMARY KEY,
  url_id INTEGER NOT NULL,
  url TEXT NOT NULL,
  host TEXT NOT NULL,
  fetched_at TEXT,
  status INTEGER NOT NULL,
  error_kind TEXT,
  warc_file TEXT,
  warc_offset INTEGER,
  warc_length INTEGER,
  warc_record_id TEXT,
  warc_sha256 TEXT,
  json TEXT NOT NULL
);
CREATE INDEX pages_host ON pages (host);
CREATE INDEX pages_url_id ON pages (url_id);

CREATE TABLE findings (
  id INTEGER PRIMARY KEY,
  url_id INTEGER NOT NULL,
  url TEXT NOT NULL,
  final_url TEXT NOT NULL,
  host TEXT NOT NULL,
  outlet TEXT NOT NULL,
  score REAL NOT NULL,
  fetched_at TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  warc_file TEXT,
  warc_offset INTEGER,
  warc_length INTEGER,
  warc_record_id TEXT,
  warc_sha256 TEXT,
  meta_file TEXT,
  meta_offset INTEGER,
  meta_length INTEGER,
  meta_record_id TEXT,
  meta_sha256 TEXT,
  json TEXT NOT NULL
);
CREATE INDEX findings_host ON findings (host, final_url);

CREATE VIEW flagged_hosts AS
  SELECT host,
         group_concat(DISTINCT outlet) AS outlets,
         min(fetched_at) AS first_seen,
         max(fetched_at) AS last_seen,
         count(DISTINCT final_url) AS flagged_pages,
         max(score) AS best_score
  FROM findings GROUP BY host;

CREATE TABLE host_ips (
  host TEXT NOT NULL,
  ip TEXT NOT NULL,
  first_seen TEXT NOT NULL,
  last_seen TEXT NOT NULL,
  PRIMARY KEY (host, ip)
) WITHOUT ROWID;
CREATE TABLE host_info (
  host TEXT PRIMARY KEY,
  seen_at TEXT NOT NULL,
  server TEXT,
  cert_json TEXT,
  cert_seen_at TEXT
) WITHOUT ROWID;
CREATE TABLE links (
  to_host TEXT NOT NULL,
  from_url_id INTEGER NOT NULL,
  PRIMARY KEY (to_host, from_url_id)
) WITHOUT ROWID;

CREATE TABLE checks (
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL,
  host TEXT NOT NULL,
  url TEXT NOT NULL,
  checked_at TEXT NOT NULL,
  status INTEGER NOT NULL,
  error_kind TEXT,
  outcome TEXT NOT NULL CHECK (outcome IN ('live', 'changed', 'gone', 'error')),
  etag TEXT,
  last_modified TEXT,
  warc_file TEXT,
  warc_offset INTEGER,
  warc_length INTEGER,
  warc_record_id TEXT,
  warc_sha256 TEXT,
  detail_json TEXT
);
CREATE INDEX checks_host ON checks (host, run_id);
CREATE INDEX checks_url ON checks (url, id);
CREATE TABLE host_status (
  host TEXT PRIMARY KEY,
  status TEXT NOT NULL CHECK (status IN ('flagged', 'live', 'changed', 'gone')),
  since TEXT,
  consecutive_gone INTEGER NOT NULL,
  gone_at TEXT,
  last_checked TEXT NOT NULL
) WITHOUT ROWID;
)sql",
    // 2: a finding keeps its response's validators, so that the first re-check after a crawl
    // can already ask "has it changed?" (If-None-Match / If-Modified-Since).
    R"sql(
ALTER TABLE findings ADD COLUMN etag TEXT;
ALTER TABLE findings ADD COLUMN last_modified TEXT;
)sql",
};
static_assert(std::size(kMigrations) == Store::kSchemaVersion,
              "one migration step per schema version");

// Every statement the store runs more than once, prepared once (SQLITE_PREPARE_PERSISTENT).
enum Sql : int {
  kBeginSql,
  kCommitSql,
  kInsertRun,
  kInsertWarcFile,
  kEndRun,
  kSelectRuns,
  kSelectWarcFiles,
  kInsertQueued,
  kInsertSeen,
  kUpdateAttempts,
  kUpdateDone,
  kUpdateDoneHost,
  kSelectQueued,
  kSelectQueuedHosts,
  kCountQueued,
  kInsertPage,
  kInsertFinding,
  kUpsertHostIp,
  kUpsertHostInfo,
  kInsertLink,
  kCountPages,
  kCountFindings,
  kSelectFlaggedHosts,
  kSelectFlaggedHost,
  kSelectOutlets,
  kSelectTopEvidence,
  kSelectFirstFinding,
  kSelectDiscoveryPath,
  kSelectLinkedFrom,
  kSelectIps,
  kSelectHostInfo,
  kSelectRecheckTargets,
  kInsertCheck,
  kSelectChecks,
  kCountRunOutcomes,
  kSelectHostStatus,
  kUpsertHostStatus,
  kSqlCount,
};

// What each statement is for (in error messages), and its text; indexed by Sql.
struct StatementText {
  const char* what;
  const char* sql;
};
constexpr StatementText kStatements[] = {
    {"begin", "BEGIN IMMEDIATE"},
    {"commit", "COMMIT"},
    {"BeginRun",
     "INSERT INTO runs (command, case_ref, version, config_json, signatures_path, "
     "signatures_sha256, hostname, started_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"},
    {"AddWarcFile", "INSERT INTO run_warc_files (run_id, file, warcinfo_id) VALUES (?, ?, ?)"},
    {"EndRun", "UPDATE runs SET ended_at = ?, summary_json = ? WHERE id = ?"},
    {"Runs",
     "SELECT id, command, case_ref, version, config_json, signatures_path, signatures_sha256, "
     "hostname, started_at, ended_at, summary_json FROM runs ORDER BY id"},
    {"Runs", "SELECT run_id, file, warcinfo_id FROM run_warc_files ORDER BY run_id, id"},
    {"Queued",
     "INSERT INTO urls (id, url, host_key, depth, via_id, redirects, attempts, state) "
     "VALUES (?, ?, ?, ?, ?, ?, ?, 0)"},
    {"Seen",
     "INSERT INTO urls (id, url, host_key, depth, via_id, redirects, attempts, state) "
     "VALUES (?, ?, ?, 0, ?, 0, 0, 2)"},
    {"Retried", "UPDATE urls SET attempts = ? WHERE id = ?"},
    {"Done", "UPDATE urls SET state = 1 WHERE id = ? AND state = 0"},
    {"DoneHost", "UPDATE urls SET state = 1 WHERE host_key = ? AND state = 0"},
    {"LoadQueued",
     "SELECT u.id, u.via_id, u.url, u.host_key, u.depth, v.url, u.attempts, u.redirects "
     "FROM urls AS u LEFT JOIN urls AS v ON v.id = u.via_id "
     "WHERE u.host_key = ? AND u.state = 0 AND u.id > ? ORDER BY u.id LIMIT ?"},
    {"QueuedHosts",
     "SELECT host_key, count(*) FROM urls WHERE state = 0 GROUP BY host_key ORDER BY host_key"},
    {"queued_count", "SELECT count(*) FROM urls WHERE state = 0"},
    {"RecordPage",
     "INSERT INTO pages (url_id, url, host, fetched_at, status, error_kind, warc_file, "
     "warc_offset, warc_length, warc_record_id, warc_sha256, json) "
     "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"},
    {"RecordFinding",
     "INSERT INTO findings (url_id, url, final_url, host, outlet, score, fetched_at, sha256, "
     "warc_file, warc_offset, warc_length, warc_record_id, warc_sha256, "
     "meta_file, meta_offset, meta_length, meta_record_id, meta_sha256, json, etag, "
     "last_modified) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"},
    {"RecordHost",
     "INSERT INTO host_ips (host, ip, first_seen, last_seen) VALUES (?1, ?2, ?3, ?3) "
     "ON CONFLICT (host, ip) DO UPDATE SET first_seen = min(first_seen, excluded.first_seen), "
     "last_seen = max(last_seen, excluded.last_seen)"},
    // The latest observation's Server header wins; a certificate is kept until a newer one
    // comes, since a plain-HTTP fetch says nothing about the host's TLS certificate.
    {"RecordHost",
     "INSERT INTO host_info (host, seen_at, server, cert_json, cert_seen_at) "
     "VALUES (?1, ?2, ?3, ?4, CASE WHEN ?4 IS NULL THEN NULL ELSE ?2 END) "
     "ON CONFLICT (host) DO UPDATE SET "
     "server = CASE WHEN excluded.seen_at >= seen_at THEN excluded.server ELSE server END, "
     "cert_json = CASE WHEN excluded.cert_json IS NOT NULL AND (cert_seen_at IS NULL OR "
     "excluded.seen_at >= cert_seen_at) THEN excluded.cert_json ELSE cert_json END, "
     "cert_seen_at = CASE WHEN excluded.cert_json IS NOT NULL AND (cert_seen_at IS NULL OR "
     "excluded.seen_at >= cert_seen_at) THEN excluded.seen_at ELSE cert_seen_at END, "
     "seen_at = max(seen_at, excluded.seen_at)"},
    {"RecordLink", "INSERT OR IGNORE INTO links (to_host, from_url_id) VALUES (?, ?)"},
    {"page_count", "SELECT count(*) FROM pages"},
    {"finding_count", "SELECT count(*) FROM findings"},
    {"FlaggedHosts", "SELECT DISTINCT host FROM findings ORDER BY host"},
    {"Verdict",
     "SELECT first_seen, last_seen, flagged_pages, best_score FROM flagged_hosts WHERE host = ?"},
    {"Verdict", "SELECT DISTINCT outlet FROM findings WHERE host = ? ORDER BY outlet"},
    // The best finding of each URL first, then the second best of each ..., so that five
    // distinct pages are shown when there are five.
    {"Verdict",
     "SELECT url, final_url, outlet, score, fetched_at, sha256, "
     "warc_file, warc_offset, warc_length, warc_record_id, warc_sha256, "
     "meta_file, meta_offset, meta_length, meta_record_id, meta_sha256, json FROM ("
     "SELECT *, row_number() OVER (PARTITION BY final_url ORDER BY score DESC, id) AS nth "
     "FROM findings WHERE host = ? ORDER BY nth, score DESC, id LIMIT 5) "
     "ORDER BY score DESC, id"},
    {"Verdict", "SELECT url_id, url, final_url FROM findings WHERE host = ? ORDER BY id LIMIT 1"},
    // From a URL back to its seed through via_id; the hop cap ends a cycle, should a log ever
    // hold one.
    {"Verdict",
     "WITH RECURSIVE path (hop, id, url, via_id) AS ("
     "SELECT 0, id, url, via_id FROM urls WHERE id = ?1 "
     "UNION ALL SELECT path.hop + 1, urls.id, urls.url, urls.via_id FROM path "
     "JOIN urls ON urls.id = path.via_id WHERE path.via_id != 0 AND path.hop < 64) "
     "SELECT url FROM path ORDER BY hop DESC"},
    {"Verdict",
     "SELECT DISTINCT urls.url FROM links JOIN urls ON urls.id = links.from_url_id "
     "WHERE links.to_host = ? ORDER BY urls.url"},
    {"Verdict", "SELECT ip FROM host_ips WHERE host = ? ORDER BY ip"},
    {"Verdict", "SELECT server, cert_json FROM host_info WHERE host = ?"},
    // Validators come from the latest re-check that had any: sending stale ones is harmless
    // (the server answers 200 when they no longer match).
    // Validators from the latest re-check that received some, else from the latest finding.
    {"RecheckTargets",
     "SELECT t.host, t.final_url, "
     "CASE WHEN c.id IS NULL THEN f.etag ELSE c.etag END, "
     "CASE WHEN c.id IS NULL THEN f.last_modified ELSE c.last_modified END "
     "FROM (SELECT DISTINCT host, final_url FROM findings) AS t "
     "LEFT JOIN checks AS c ON c.id = (SELECT max(id) FROM checks WHERE url = t.final_url AND "
     "(etag IS NOT NULL OR last_modified IS NOT NULL)) "
     "LEFT JOIN findings AS f ON f.id = (SELECT max(id) FROM findings WHERE host = t.host AND "
     "final_url = t.final_url) "
     "ORDER BY t.host, t.final_url"},
    {"RecordCheck",
     "INSERT INTO checks (run_id, host, url, checked_at, status, error_kind, outcome, etag, "
     "last_modified, warc_file, warc_offset, warc_length, warc_record_id, warc_sha256, "
     "detail_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"},
    {"Checks",
     "SELECT run_id, host, url, checked_at, status, error_kind, outcome, etag, last_modified, "
     "warc_file, warc_offset, warc_length, warc_record_id, warc_sha256, detail_json "
     "FROM checks WHERE host = ? ORDER BY id"},
    {"SetHostStatusFromChecks",
     "SELECT count(*) FILTER (WHERE outcome = 'live'), "
     "count(*) FILTER (WHERE outcome = 'changed'), count(*) FILTER (WHERE outcome = 'gone'), "
     "count(*) FROM checks WHERE host = ? AND run_id = ?"},
    {"SetHostStatusFromChecks",
     "SELECT status, since, consecutive_gone, gone_at, last_checked FROM host_status "
     "WHERE host = ?"},
    {"SetHostStatusFromChecks",
     "INSERT OR REPLACE INTO host_status (host, status, since, consecutive_gone, gone_at, "
     "last_checked) VALUES (?, ?, ?, ?, ?, ?)"},
};
static_assert(std::size(kStatements) == kSqlCount, "one text per Sql");

// One use of a cached statement: bind left to right, step, read columns. Resets the statement
// when it goes out of scope, so that no read stays open and bound strings are not kept.
// Strings are bound without a copy: they must outlive the Statement.
class Statement {
 public:
  explicit Statement(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ~Statement() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& Int(std::int64_t value) {
    Check(sqlite3_bind_int64(stmt_, ++bound_, value));
    return *this;
  }
  Statement& Real(double value) {
    Check(sqlite3_bind_double(stmt_, ++bound_, value));
    return *this;
  }
  Statement& Text(std::string_view value) {
    Check(sqlite3_bind_text64(stmt_, ++bound_, value.data(), value.size(), SQLITE_STATIC,
                              SQLITE_UTF8));
    return *this;
  }
  // NULL for an empty string: the column's "none".
  Statement& TextOrNull(std::string_view value) {
    if (!value.empty()) return Text(value);
    Check(sqlite3_bind_null(stmt_, ++bound_));
    return *this;
  }
  // The five warc_* (or meta_*) columns: file, offset, length, record id, sha256; all NULL
  // when there is no record.
  Statement& Warc(const WarcRef& ref) {
    if (ref.file.empty()) {
      for (int i = 0; i < 5; ++i) Check(sqlite3_bind_null(stmt_, ++bound_));
      return *this;
    }
    return Text(ref.file).Int(ref.offset).Int(ref.length).Text(ref.record_id).Text(ref.sha256);
  }

  // SQLITE_ROW, SQLITE_DONE, or the error code of the bind or step that failed.
  int Step() { return bind_error_ != SQLITE_OK ? bind_error_ : sqlite3_step(stmt_); }

  std::int64_t ColumnInt(int column) const { return sqlite3_column_int64(stmt_, column); }
  double ColumnReal(int column) const { return sqlite3_column_double(stmt_, column); }
  std::string_view ColumnView(int column) const {
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
    if (text == nullptr) return {};
    return {text, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column))};
  }
  std::string ColumnText(int column) const { return std::string(ColumnView(column)); }
  WarcRef ColumnWarc(int first) const {
    return WarcRef{ColumnText(first), ColumnInt(first + 1), ColumnInt(first + 2),
                   ColumnText(first + 3), ColumnText(first + 4)};
  }

 private:
  void Check(int code) {
    if (code != SQLITE_OK && bind_error_ == SQLITE_OK) bind_error_ = code;
  }

  sqlite3_stmt* stmt_;
  int bound_ = 0;
  int bind_error_ = SQLITE_OK;
};

// "PATH: WHAT: the SQLite message", and the OS error after a failed system call (the SQLite
// message for those is generic: "disk I/O error", "unable to open database file").
std::string ErrorText(sqlite3* db, const std::string& path, std::string_view what) {
  std::string text = path + ": " + std::string(what) + ": ";
  if (db == nullptr) return text + "out of memory";
  text += sqlite3_errmsg(db);
  const int code = sqlite3_errcode(db);
  const int os_error = sqlite3_system_errno(db);
  if ((code == SQLITE_CANTOPEN || code == SQLITE_IOERR || code == SQLITE_FULL) && os_error != 0) {
    text += std::string(" (") + std::strerror(os_error) + ")";
  }
  return text;
}

// One integer from a statement run once (a PRAGMA); nullopt + *error on failure.
std::optional<std::int64_t> QueryInt(sqlite3* db, const std::string& path, const char* sql,
                                     std::string* error) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) != SQLITE_OK) {
    *error = ErrorText(db, path, sql);
    return std::nullopt;
  }
  std::optional<std::int64_t> value;
  const int code = sqlite3_step(stmt);
  if (code == SQLITE_ROW) {
    value = sqlite3_column_int64(stmt, 0);
  } else {
    *error = ErrorText(db, path, sql);
  }
  sqlite3_finalize(stmt);
  return value;
}

bool Exec(sqlite3* db, const std::string& path, const std::string& sql, std::string_view what,
          std::string* error) {
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK) return true;
  *error = ErrorText(db, path, what);
  return false;
}

std::string Hex(std::int64_t value) {
  char text[24];
  std::snprintf(text, sizeof text, "0x%08llX", static_cast<unsigned long long>(value));
  return text;
}

// Refuses what is not a mirrorwatch store, or one newer than this build. Sets *version to
// the store's schema version (0: an empty file, to be created).
bool CheckIdentity(sqlite3* db, const std::string& path, std::int64_t* version,
                   std::string* error) {
  const auto application_id = QueryInt(db, path, "PRAGMA application_id", error);
  const auto user_version =
      application_id ? QueryInt(db, path, "PRAGMA user_version", error) : std::nullopt;
  const auto objects =
      user_version ? QueryInt(db, path, "SELECT count(*) FROM sqlite_schema", error) : std::nullopt;
  if (!objects) return false;
  const bool empty = *application_id == 0 && *user_version == 0 && *objects == 0;
  if (!empty && *application_id != kApplicationId) {
    *error = path + ": not a mirrorwatch store (SQLite application_id " + Hex(*application_id) +
             ", expected " + Hex(kApplicationId) + ")";
    return false;
  }
  if (*user_version > Store::kSchemaVersion) {
    *error = path + ": schema version " + std::to_string(*user_version) +
             " is newer than this mirrorwatch understands (" +
             std::to_string(Store::kSchemaVersion) + "); use a newer mirrorwatch";
    return false;
  }
  *version = *user_version;
  return true;
}

// Brings the schema to kSchemaVersion, one step per transaction. The version is read again
// under the write lock, so that two processes opening a new store do not both create it.
bool Migrate(sqlite3* db, const std::string& path, std::int64_t* version, std::string* error) {
  while (*version < Store::kSchemaVersion) {
    if (!Exec(db, path, "BEGIN IMMEDIATE", "migrate", error)) return false;
    if (!CheckIdentity(db, path, version, error)) {
      sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
      return false;
    }
    if (*version == Store::kSchemaVersion) break;
    const std::int64_t next = *version + 1;
    std::string step = kMigrations[*version];
    step += "\nPRAGMA user_version = " + std::to_string(next) + ";";
    if (*version == 0) step += "\nPRAGMA application_id = " + std::to_string(kApplicationId) + ";";
    step += "\nCOMMIT;";
    if (!Exec(db, path, step, "migrate to schema version " + std::to_string(next), error)) {
      sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
      return false;
    }
    *version = next;
  }
  if (sqlite3_get_autocommit(db) == 0) return Exec(db, path, "COMMIT", "migrate", error);
  return true;
}

}  // namespace

class Store::Impl {
 public:
  Impl(sqlite3* db, std::string path, int batch_writes, int schema_version)
      : db_(db),
        path_(std::move(path)),
        batch_writes_(batch_writes),
        schema_version_(schema_version) {}
  ~Impl() {
    std::string ignored;
    Commit(&ignored);
    for (sqlite3_stmt* stmt : statements_) sqlite3_finalize(stmt);
    sqlite3_close_v2(db_);
  }

  bool Prepare(std::string* error) {
    for (int i = 0; i < kSqlCount; ++i) {
      if (sqlite3_prepare_v3(db_, kStatements[i].sql, -1, SQLITE_PREPARE_PERSISTENT,
                             &statements_[i], nullptr) != SQLITE_OK) {
        *error = ErrorText(db_, path_, std::string("prepare ") + kStatements[i].what);
        return false;
      }
    }
    return true;
  }

  const std::string& path() const { return path_; }
  int schema_version() const { return schema_version_; }

  Statement Use(Sql sql) { return Statement(statements_[sql]); }
  std::int64_t LastInsertId() const { return sqlite3_last_insert_rowid(db_); }

  // Runs a write in the open transaction, opening one if needed; commits when the batch is
  // full. False (and the error kept) on failure.
  bool Write(Sql sql, Statement& statement) {
    if (!in_transaction_) {
      Statement begin = Use(kBeginSql);
      if (begin.Step() != SQLITE_DONE) return Fail(kBeginSql);
      in_transaction_ = true;
    }
    if (statement.Step() != SQLITE_DONE) {
      // Some errors (disk full, I/O) roll the whole transaction back.
      Fail(sql);
      in_transaction_ = sqlite3_get_autocommit(db_) == 0;
      return false;
    }
    if (++pending_ >= batch_writes_) {
      std::string error;
      if (!Commit(&error)) Keep(std::move(error));
    }
    return true;
  }

  bool Commit(std::string* error) {
    if (!in_transaction_) return true;
    Statement commit = Use(kCommitSql);
    if (commit.Step() == SQLITE_DONE) {
      in_transaction_ = false;
      pending_ = 0;
      return true;
    }
    *error = ErrorText(db_, path_, "commit");
    if (sqlite3_get_autocommit(db_) != 0) {
      *error +=
          "; the transaction was rolled back: " + std::to_string(pending_) + " writes are lost";
      in_transaction_ = false;
      pending_ = 0;
    }
    return false;
  }

  // Keeps the error of a failed statement (the first one since TakeError). Returns false.
  bool Fail(Sql sql) {
    Keep(ErrorText(db_, path_, kStatements[sql].what));
    return false;
  }
  void Keep(std::string error) {
    if (error_.empty()) error_ = std::move(error);
  }
  std::string TakeError() { return std::exchange(error_, std::string()); }

  // Steps a read to its end, calling `row` on each row; false (error kept) on failure.
  template <typename Row>
  bool Read(Sql sql, Statement& statement, Row&& row) {
    int code;
    while ((code = statement.Step()) == SQLITE_ROW) row(statement);
    if (code == SQLITE_DONE) return true;
    return Fail(sql);
  }
  std::int64_t Count(Sql sql) {
    Statement statement = Use(sql);
    std::int64_t count = 0;
    Read(sql, statement, [&](const Statement& row) { count = row.ColumnInt(0); });
    return count;
  }
  std::vector<std::string> Strings(Sql sql, std::string_view key) {
    Statement statement = Use(sql);
    statement.Text(key);
    std::vector<std::string> values;
    Read(sql, statement, [&](const Statement& row) { values.push_back(row.ColumnText(0)); });
    return values;
  }

  // Fills *status from host_status; false (and *status untouched) when the host has no row.
  bool ReadHostStatus(const std::string& host, HostStatusRecord* status) {
    Statement select = Use(kSelectHostStatus);
    select.Text(host);
    bool found = false;
    Read(kSelectHostStatus, select, [&](const Statement& row) {
      found = true;
      *status =
          HostStatusRecord{row.ColumnText(0), row.ColumnText(1), static_cast<int>(row.ColumnInt(2)),
                           row.ColumnText(3), row.ColumnText(4)};
    });
    return found;
  }

  // The seed, each page that led to the next, and the host's first flagged page (its
  // final URL last, when a redirect moved it).
  std::vector<std::string> DiscoveryPath(const std::string& host) {
    std::int64_t url_id = 0;
    std::string url, final_url;
    {
      Statement first = Use(kSelectFirstFinding);
      first.Text(host);
      Read(kSelectFirstFinding, first, [&](const Statement& row) {
        url_id = row.ColumnInt(0);
        url = row.ColumnText(1);
        final_url = row.ColumnText(2);
      });
    }
    std::vector<std::string> path;
    if (url_id != 0) {
      Statement walk = Use(kSelectDiscoveryPath);
      walk.Int(url_id);
      Read(kSelectDiscoveryPath, walk,
           [&](const Statement& row) { path.push_back(row.ColumnText(0)); });
    }
    if (path.empty()) path.push_back(url);
    if (!final_url.empty() && final_url != path.back()) path.push_back(final_url);
    return path;
  }

  // A one-off statement, for reads that call back into the caller while they run: a callback
  // may use the Store, even start the same read again, without disturbing this one.
  template <typename Row>
  void Stream(const char* what, const char* sql, Row&& row) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, sql, -1, &stmt, nullptr) != SQLITE_OK) {
      Keep(ErrorText(db_, path_, what));
      return;
    }
    int code;
    while ((code = sqlite3_step(stmt)) == SQLITE_ROW) row(stmt);
    if (code != SQLITE_DONE) Keep(ErrorText(db_, path_, what));
    sqlite3_finalize(stmt);
  }

 private:
  sqlite3* db_;
  std::string path_;
  int batch_writes_;
  int schema_version_;
  sqlite3_stmt* statements_[kSqlCount] = {};
  bool in_transaction_ = false;
  int pending_ = 0;  // writes in the open transaction
  std::string error_;
};

std::unique_ptr<Store> Store::Open(const std::string& path, std::string* error, int batch_writes) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
      SQLITE_OK) {
    *error = ErrorText(db, path, "open");
    sqlite3_close_v2(db);
    return nullptr;
  }
  // Closes the connection on every early return below.
  auto fail = [&] {
    sqlite3_close_v2(db);
    return nullptr;
  };
  // A reader (mirrorwatch report) waits this long for a writer's lock instead of failing.
  sqlite3_busy_timeout(db, 5000);
  std::int64_t version = 0;
  if (!CheckIdentity(db, path, &version, error)) return fail();
  // WAL: readers in other processes see the last commit while a transaction is open.
  // synchronous=NORMAL: a commit survives the process being killed; a power cut may lose the
  // last commits (never corrupting the file).
  sqlite3_stmt* stmt = nullptr;
  std::string mode;
  if (sqlite3_prepare_v2(db, "PRAGMA journal_mode = WAL", -1, &stmt, nullptr) == SQLITE_OK &&
      sqlite3_step(stmt) == SQLITE_ROW) {
    mode = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
  }
  sqlite3_finalize(stmt);
  if (mode != "wal") {
    *error = mode.empty() ? ErrorText(db, path, "PRAGMA journal_mode = WAL")
                          : path + ": cannot use write-ahead logging (journal mode " + mode + ")";
    return fail();
  }
  if (!Exec(db, path, "PRAGMA synchronous = NORMAL", "PRAGMA synchronous = NORMAL", error) ||
      !Migrate(db, path, &version, error)) {
    return fail();
  }
  auto impl =
      std::make_unique<Impl>(db, path, std::max(batch_writes, 1), static_cast<int>(version));
  if (!impl->Prepare(error)) return nullptr;
  return std::unique_ptr<Store>(new Store(std::move(impl)));
}

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Store::~Store() = default;

int Store::schema_version() const { return impl_->schema_version(); }
const std::string& Store::path() const { return impl_->path(); }
bool Store::Commit(std::string* error) { return impl_->Commit(error); }
std::string Store::TakeError() { return impl_->TakeError(); }

// ---- runs ----

std::int64_t Store::BeginRun(const RunRecord& run) {
  Statement insert = impl_->Use(kInsertRun);
  insert.Text(run.command).Text(run.case_ref).Text(run.version).Text(run.config_json);
  insert.Text(run.signatures_path).Text(run.signatures_sha256).Text(run.hostname);
  insert.Text(run.started_at);
  if (!impl_->Write(kInsertRun, insert)) return 0;
  return impl_->LastInsertId();
}

void Store::AddWarcFile(std::int64_t run_id, const std::string& file,
                        const std::string& warcinfo_id) {
  Statement insert = impl_->Use(kInsertWarcFile);
  insert.Int(run_id).Text(file).Text(warcinfo_id);
  impl_->Write(kInsertWarcFile, insert);
}

void Store::EndRun(std::int64_t run_id, const std::string& ended_at,
                   const std::string& summary_json) {
  Statement update = impl_->Use(kEndRun);
  update.TextOrNull(ended_at).TextOrNull(summary_json).Int(run_id);
  impl_->Write(kEndRun, update);
}

std::vector<RunRecord> Store::Runs() {
  std::vector<RunRecord> runs;
  std::map<std::int64_t, std::size_t> index;  // run id -> position in runs
  Statement select = impl_->Use(kSelectRuns);
  impl_->Read(kSelectRuns, select, [&](const Statement& row) {
    RunRecord run;
    run.id = row.ColumnInt(0);
    run.command = row.ColumnText(1);
    run.case_ref = row.ColumnText(2);
    run.version = row.ColumnText(3);
    run.config_json = row.ColumnText(4);
    run.signatures_path = row.ColumnText(5);
    run.signatures_sha256 = row.ColumnText(6);
    run.hostname = row.ColumnText(7);
    run.started_at = row.ColumnText(8);
    run.ended_at = row.ColumnText(9);
    run.summary_json = row.ColumnText(10);
    index[run.id] = runs.size();
    runs.push_back(std::move(run));
  });
  Statement files = impl_->Use(kSelectWarcFiles);
  impl_->Read(kSelectWarcFiles, files, [&](const Statement& row) {
    auto run = index.find(row.ColumnInt(0));
    if (run == index.end()) return;
    runs[run->second].warc_files.push_back(row.ColumnText(1));
    runs[run->second].warcinfo_ids.push_back(row.ColumnText(2));
  });
  return runs;
}

// ---- FrontierLog ----

void Store::Queued(const FrontierEntry& entry) {
  Statement insert = impl_->Use(kInsertQueued);
  insert.Int(entry.id).Text(entry.url).Text(entry.host_key).Int(entry.depth).Int(entry.via_id);
  insert.Int(entry.redirects).Int(entry.attempts);
  impl_->Write(kInsertQueued, insert);
}

void Store::Seen(std::int64_t id, const std::string& spec, const std::string& host_key,
                 std::int64_t via_id) {
  Statement insert = impl_->Use(kInsertSeen);
  insert.Int(id).Text(spec).Text(host_key).Int(via_id);
  impl_->Write(kInsertSeen, insert);
}

void Store::Retried(std::int64_t id, int attempts) {
  Statement update = impl_->Use(kUpdateAttempts);
  update.Int(attempts).Int(id);
  impl_->Write(kUpdateAttempts, update);
}

void Store::Done(std::int64_t id) {
  Statement update = impl_->Use(kUpdateDone);
  update.Int(id);
  impl_->Write(kUpdateDone, update);
}

void Store::DoneHost(const std::string& host_key) {
  Statement update = impl_->Use(kUpdateDoneHost);
  update.Text(host_key);
  impl_->Write(kUpdateDoneHost, update);
}

std::vector<FrontierEntry> Store::LoadQueued(const std::string& host_key, std::int64_t after_id,
                                             std::size_t limit) {
  constexpr auto kMax = static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max());
  Statement select = impl_->Use(kSelectQueued);
  select.Text(host_key).Int(after_id).Int(static_cast<std::int64_t>(std::min(limit, kMax)));
  std::vector<FrontierEntry> entries;
  impl_->Read(kSelectQueued, select, [&](const Statement& row) {
    entries.push_back(FrontierEntry{row.ColumnInt(0), row.ColumnInt(1), row.ColumnText(2),
                                    row.ColumnText(3), static_cast<int>(row.ColumnInt(4)),
                                    row.ColumnText(5), static_cast<int>(row.ColumnInt(6)),
                                    static_cast<int>(row.ColumnInt(7))});
  });
  return entries;
}

void Store::ForEachUrl(const std::function<void(std::int64_t id, std::string_view spec)>& fn) {
  impl_->Stream("ForEachUrl", "SELECT id, url FROM urls ORDER BY id", [&](sqlite3_stmt* row) {
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(row, 1));
    fn(sqlite3_column_int64(row, 0),
       std::string_view(text, static_cast<std::size_t>(sqlite3_column_bytes(row, 1))));
  });
}

std::vector<std::pair<std::string, std::int64_t>> Store::QueuedHosts() {
  Statement select = impl_->Use(kSelectQueuedHosts);
  std::vector<std::pair<std::string, std::int64_t>> hosts;
  impl_->Read(kSelectQueuedHosts, select, [&](const Statement& row) {
    hosts.emplace_back(row.ColumnText(0), row.ColumnInt(1));
  });
  return hosts;
}

std::int64_t Store::queued_count() { return impl_->Count(kCountQueued); }

// ---- what the crawl saw ----

void Store::RecordPage(const PageRecord& page) {
  Statement insert = impl_->Use(kInsertPage);
  insert.Int(page.url_id).Text(page.url).Text(page.host).TextOrNull(page.fetched_at);
  insert.Int(page.status).TextOrNull(page.error_kind).Warc(page.warc).Text(page.json);
  impl_->Write(kInsertPage, insert);
}

void Store::RecordFinding(const FindingRecord& finding) {
  Statement insert = impl_->Use(kInsertFinding);
  insert.Int(finding.url_id).Text(finding.url).Text(finding.final_url).Text(finding.host);
  insert.Text(finding.outlet).Real(finding.score).Text(finding.fetched_at).Text(finding.sha256);
  insert.Warc(finding.warc).Warc(finding.metadata).Text(finding.json);
  insert.TextOrNull(finding.etag).TextOrNull(finding.last_modified);
  impl_->Write(kInsertFinding, insert);
}

void Store::RecordHost(const HostObservation& seen) {
  if (!seen.ip.empty()) {
    Statement ip = impl_->Use(kUpsertHostIp);
    ip.Text(seen.host).Text(seen.ip).Text(seen.at);
    impl_->Write(kUpsertHostIp, ip);
  }
  Statement info = impl_->Use(kUpsertHostInfo);
  info.Text(seen.host).Text(seen.at).TextOrNull(seen.server).TextOrNull(seen.cert_json);
  impl_->Write(kUpsertHostInfo, info);
}

void Store::RecordLink(const std::string& to_host, std::int64_t from_url_id) {
  Statement insert = impl_->Use(kInsertLink);
  insert.Text(to_host).Int(from_url_id);
  impl_->Write(kInsertLink, insert);
}

void Store::ForEachPageJson(const std::function<void(std::string_view json)>& fn) {
  impl_->Stream("ForEachPageJson", "SELECT json FROM pages ORDER BY id", [&](sqlite3_stmt* row) {
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(row, 0));
    fn(std::string_view(text, static_cast<std::size_t>(sqlite3_column_bytes(row, 0))));
  });
}

void Store::ForEachFindingJson(const std::function<void(std::string_view json)>& fn) {
  impl_->Stream(
      "ForEachFindingJson", "SELECT json FROM findings ORDER BY id", [&](sqlite3_stmt* row) {
        const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(row, 0));
        fn(std::string_view(text, static_cast<std::size_t>(sqlite3_column_bytes(row, 0))));
      });
}

std::int64_t Store::page_count() { return impl_->Count(kCountPages); }
std::int64_t Store::finding_count() { return impl_->Count(kCountFindings); }

// ---- verdicts ----

std::vector<std::string> Store::FlaggedHosts() {
  Statement select = impl_->Use(kSelectFlaggedHosts);
  std::vector<std::string> hosts;
  impl_->Read(kSelectFlaggedHosts, select,
              [&](const Statement& row) { hosts.push_back(row.ColumnText(0)); });
  return hosts;
}

std::optional<HostVerdict> Store::Verdict(const std::string& host) {
  HostVerdict verdict;
  bool flagged = false;
  {
    Statement select = impl_->Use(kSelectFlaggedHost);
    select.Text(host);
    impl_->Read(kSelectFlaggedHost, select, [&](const Statement& row) {
      flagged = true;
      verdict.first_seen = row.ColumnText(0);
      verdict.last_seen = row.ColumnText(1);
      verdict.flagged_pages = row.ColumnInt(2);
      verdict.best_score = row.ColumnReal(3);
    });
  }
  if (!flagged) return std::nullopt;
  verdict.host = host;
  verdict.outlets = impl_->Strings(kSelectOutlets, host);
  {
    Statement select = impl_->Use(kSelectTopEvidence);
    select.Text(host);
    impl_->Read(kSelectTopEvidence, select, [&](const Statement& row) {
      verdict.top_evidence.push_back(
          Evidence{row.ColumnText(0), row.ColumnText(1), row.ColumnText(2), row.ColumnReal(3),
                   row.ColumnText(4), row.ColumnText(5), row.ColumnWarc(6), row.ColumnWarc(11),
                   row.ColumnText(16)});
    });
  }
  verdict.discovery_path = impl_->DiscoveryPath(host);
  verdict.linked_from = impl_->Strings(kSelectLinkedFrom, host);
  verdict.ips = impl_->Strings(kSelectIps, host);
  {
    Statement select = impl_->Use(kSelectHostInfo);
    select.Text(host);
    impl_->Read(kSelectHostInfo, select, [&](const Statement& row) {
      verdict.server = row.ColumnText(0);
      verdict.cert_json = row.ColumnText(1);
    });
  }
  impl_->ReadHostStatus(host, &verdict.status);
  if (verdict.status.since.empty()) verdict.status.since = verdict.first_seen;
  verdict.checks = Checks(host);
  return verdict;
}

std::vector<HostVerdict> Store::Verdicts() {
  std::vector<HostVerdict> verdicts;
  for (const std::string& host : FlaggedHosts()) {
    if (auto verdict = Verdict(host)) verdicts.push_back(std::move(*verdict));
  }
  return verdicts;
}

// ---- re-checks ----

std::vector<RecheckTarget> Store::RecheckTargets() {
  Statement select = impl_->Use(kSelectRecheckTargets);
  std::vector<RecheckTarget> targets;
  impl_->Read(kSelectRecheckTargets, select, [&](const Statement& row) {
    targets.push_back(
        RecheckTarget{row.ColumnText(0), row.ColumnText(1), row.ColumnText(2), row.ColumnText(3)});
  });
  return targets;
}

void Store::RecordCheck(const CheckRecord& check) {
  Statement insert = impl_->Use(kInsertCheck);
  insert.Int(check.run_id).Text(check.host).Text(check.url).Text(check.checked_at);
  insert.Int(check.status).TextOrNull(check.error_kind).Text(check.outcome);
  insert.TextOrNull(check.etag).TextOrNull(check.last_modified).Warc(check.warc);
  insert.TextOrNull(check.detail_json);
  impl_->Write(kInsertCheck, insert);
}

void Store::SetHostStatusFromChecks(const std::string& host, std::int64_t run_id, int gone_after,
                                    const std::string& at) {
  std::int64_t live = 0, changed = 0, gone = 0, all = 0;
  {
    Statement count = impl_->Use(kCountRunOutcomes);
    count.Text(host).Int(run_id);
    impl_->Read(kCountRunOutcomes, count, [&](const Statement& row) {
      live = row.ColumnInt(0);
      changed = row.ColumnInt(1);
      gone = row.ColumnInt(2);
      all = row.ColumnInt(3);
    });
  }
  if (all == 0) return;  // not re-checked in this run
  HostStatusRecord status;
  impl_->ReadHostStatus(host, &status);
  const std::string before = status.status;
  if (live > 0 || changed > 0) {
    status.status = live > 0 ? "live" : "changed";
    status.consecutive_gone = 0;
    status.gone_at.clear();
  } else if (gone == all) {
    if (status.consecutive_gone++ == 0) status.gone_at = at;  // a run of "gone" starts
    if (status.consecutive_gone >= gone_after) status.status = "gone";
  }
  // Otherwise only errors, or gone and errors: an error says nothing either way, so the
  // status and the run of "gone" stay as they were.
  if (status.status != before) status.since = at;
  status.last_checked = at;
  Statement upsert = impl_->Use(kUpsertHostStatus);
  upsert.Text(host).Text(status.status).TextOrNull(status.since).Int(status.consecutive_gone);
  upsert.TextOrNull(status.gone_at).Text(status.last_checked);
  impl_->Write(kUpsertHostStatus, upsert);
}

std::vector<CheckRecord> Store::Checks(const std::string& host) {
  Statement select = impl_->Use(kSelectChecks);
  select.Text(host);
  std::vector<CheckRecord> checks;
  impl_->Read(kSelectChecks, select, [&](const Statement& row) {
    checks.push_back(CheckRecord{row.ColumnInt(0), row.ColumnText(1), row.ColumnText(2),
                                 row.ColumnText(3), static_cast<long>(row.ColumnInt(4)),
                                 row.ColumnText(5), row.ColumnText(6), row.ColumnText(7),
                                 row.ColumnText(8), row.ColumnWarc(9), row.ColumnText(14)});
  });
  return checks;
}

}  // namespace mw
