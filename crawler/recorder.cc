#include "crawler/recorder.h"

#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <system_error>
#include <utility>

namespace mw {

namespace fs = std::filesystem;

WarcRef ToWarcRef(const WarcRecordRef& ref) {
  WarcRef out;
  out.file = ref.file;
  out.offset = static_cast<std::int64_t>(ref.offset);
  out.length = static_cast<std::int64_t>(ref.length);
  out.record_id = ref.record_id;
  out.sha256 = ref.payload_sha256;
  return out;
}

namespace {

// Rewrites `path` from the lines `each` gives, atomically (a crash leaves the old file).
template <typename ForEach>
std::string Rewrite(const std::string& path, ForEach each) {
  const std::string temp = path + ".tmp";
  std::FILE* out = std::fopen(temp.c_str(), "w");
  if (!out) return "cannot write " + temp;
  each([out](std::string_view line) {
    std::fwrite(line.data(), 1, line.size(), out);
    std::fputc('\n', out);
  });
  const bool ok = std::fflush(out) == 0 && ::fsync(::fileno(out)) == 0;
  std::fclose(out);
  std::error_code ec;
  if (ok) fs::rename(temp, path, ec);
  if (!ok || ec) return "cannot write " + path;
  return "";
}

// A WARC file that a killed run was writing may end inside a record. Every record that a
// stored finding or page points at was written whole before the store was told, so the torn
// tail is cut off: the file then ends after its last whole record.
void RepairWarcTail(const std::string& path) {
  std::error_code ec;
  const std::uint64_t size = fs::file_size(path, ec);
  if (ec) return;
  std::uint64_t offset = 0;
  while (offset < size) {
    const WarcMember member = ReadRecordAt(path, offset);
    if (!member.ok()) break;
    offset += member.length;
  }
  if (offset == size) return;
  fs::resize_file(path, offset, ec);
  std::fprintf(stderr,
               "mirrorwatch: %s ended inside a record (the crawl was killed while writing it): "
               "cut %llu bytes, the file now ends after its last whole record%s\n",
               path.c_str(), static_cast<unsigned long long>(size - offset),
               ec ? (" -- FAILED: " + ec.message()).c_str() : "");
}

}  // namespace

std::string UtcIso(std::chrono::system_clock::time_point at) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch());
  const std::time_t seconds = static_cast<std::time_t>(ms.count() / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[80];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms.count() % 1000));
  return text;
}

std::string HostName() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return "unknown";
  return name;
}

std::string ConfigJson(const CrawlOptions& options) {
  nlohmann::ordered_json config;
  config["seed_urls"] = options.seeds;  // "seeds" is --seeds FILE, in the table
  for (const OptionSpec& spec : CrawlOptionSpecs()) {
    config[std::string(spec.name)] = spec.show(options);
  }
  return config.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string Recorder::Open(const CrawlOptions& options, const RunIdentity& identity,
                           std::unique_ptr<Recorder>* out) {
  std::unique_ptr<Recorder> r(new Recorder());
  r->dir_ = options.out_dir;
  r->resuming_ = options.resume;
  std::error_code ec;
  fs::create_directories(r->dir_, ec);
  if (ec) return "cannot create " + r->dir_ + ": " + ec.message();

  const std::string db = r->dir_ + "/crawl.db";
  const bool exists = fs::exists(db, ec);
  const std::string started_at = UtcIso(std::chrono::system_clock::now());
  const std::string config = ConfigJson(options);
  if (options.store == "none") {
    if (options.resume) return "--resume needs the store: it continues from DIR/crawl.db";
  } else {
    if (options.resume && !exists) return "nothing to resume: there is no crawl.db in " + r->dir_;
    if (!options.resume && exists) {
      return r->dir_ + " holds a crawl already (crawl.db): continue it with --resume " + r->dir_ +
             ", or give another --out";
    }
    std::string error;
    r->store_ = Store::Open(db, &error);
    if (!r->store_) return error;
    if (options.resume) {
      // Runs that never ended were killed: their last WARC file may end inside a record.
      for (const RunRecord& run : r->store_->Runs()) {
        if (run.ended_at.empty() && !run.warc_files.empty()) {
          RepairWarcTail(r->dir_ + "/warc/" + run.warc_files.back());
        }
      }
    }
    RunRecord run;
    run.command = options.resume ? "crawl --resume" : "crawl";
    run.case_ref = options.case_ref;
    run.version = MW_VERSION;
    run.config_json = config;
    run.signatures_path = identity.signatures_path;
    run.signatures_sha256 = identity.signatures_sha256;
    run.hostname = HostName();
    run.started_at = started_at;
    r->run_id_ = r->store_->BeginRun(run);
    if (!r->store_->Commit(&error)) return error;
  }

  if (options.warc) {
    WarcOptions warc;
    warc.prefix = "mirrorwatch";
    warc.max_file_bytes = static_cast<std::uint64_t>(options.warc_file_bytes);
    warc.warcinfo = {{"hostname", HostName()},
                     {"mirrorwatch-run", std::to_string(r->run_id_)},
                     {"mirrorwatch-run-started", started_at},
                     {"case", options.case_ref.empty() ? "none" : options.case_ref},
                     {"signatures-file", identity.signatures_path},
                     {"signatures-sha256", identity.signatures_sha256},
                     {"configuration", config}};
    std::string error;
    r->warc_ = WarcWriter::Open(r->dir_ + "/warc", warc, &error);
    if (!r->warc_) return error;
    r->NoteWarcFiles();
  }
  if (std::string error = r->OpenFeeds(); !error.empty()) return error;
  *out = std::move(r);
  return "";
}

std::string Recorder::OpenFeeds() {
  const std::string pages = dir_ + "/pages.jsonl";
  const std::string findings = dir_ + "/findings.jsonl";
  if (resuming_) {
    // The feeds may hold lines the store lost in the kill: rebuild them from the store.
    std::string error = Rewrite(pages, [this](auto emit) { store_->ForEachPageJson(emit); });
    if (error.empty()) {
      error = Rewrite(findings, [this](auto emit) { store_->ForEachFindingJson(emit); });
    }
    if (!error.empty()) return error;
  }
  const char* mode = resuming_ ? "a" : "w";
  pages_ = std::fopen(pages.c_str(), mode);
  if (!pages_) return "cannot write " + pages;
  findings_ = std::fopen(findings.c_str(), mode);
  if (!findings_) return "cannot write " + findings;
  std::setvbuf(pages_, nullptr, _IOFBF, 1 << 16);
  return "";
}

Recorder::~Recorder() {
  if (pages_) std::fclose(pages_);
  if (findings_) std::fclose(findings_);
}

WarcRef Recorder::Archive(const FetchResult& result) {
  if (!warc_ || result.raw_response.empty()) return {};
  WarcExchange exchange;
  exchange.target_uri = result.final_url.empty() ? result.url : result.final_url;
  exchange.ip = result.ip;
  exchange.request = result.raw_request;
  exchange.response = result.raw_response;
  exchange.fetched_at = result.sent_at;
  exchange.truncated = result.truncated;
  const WarcRecordRef ref = warc_->WriteExchange(exchange);
  if (!ref.ok()) {
    std::lock_guard lock(warc_error_mutex_);
    if (warc_error_.empty()) warc_error_ = ref.error;
    return {};
  }
  return ToWarcRef(ref);
}

WarcRef Recorder::ArchiveMetadata(const std::string& uri, const WarcRef& response,
                                  const std::string& json) {
  if (!warc_ || response.record_id.empty()) return {};
  const WarcRecordRef ref = warc_->WriteMetadata(uri, response.record_id, json);
  if (!ref.ok()) {
    std::lock_guard lock(warc_error_mutex_);
    if (warc_error_.empty()) warc_error_ = ref.error;
    return {};
  }
  return ToWarcRef(ref);
}

void Recorder::Page(const PageRecord& page) {
  std::fwrite(page.json.data(), 1, page.json.size(), pages_);
  std::fputc('\n', pages_);
  if (store_) store_->RecordPage(page);
}

void Recorder::Finding(const FindingRecord& finding) {
  std::fwrite(finding.json.data(), 1, finding.json.size(), findings_);
  std::fputc('\n', findings_);
  std::fflush(findings_);  // a finding is the product: don't leave it in a buffer
  if (store_) store_->RecordFinding(finding);
}

void Recorder::Host(const HostObservation& seen) {
  if (store_) store_->RecordHost(seen);
}

void Recorder::Link(const std::string& to_host, std::int64_t from_url_id) {
  if (store_) store_->RecordLink(to_host, from_url_id);
}

void Recorder::Done(std::int64_t url_id) {
  if (store_ && url_id > 0) store_->Done(url_id);
}

void Recorder::NoteError(const std::string& error) {
  if (error_.empty() && !error.empty()) {
    error_ = error;
    std::fprintf(stderr, "mirrorwatch: %s\n", error.c_str());
  }
}

void Recorder::NoteWarcFiles() {
  if (!warc_ || !store_) return;
  const std::vector<std::string> files = warc_->files();
  const std::vector<std::string> ids = warc_->warcinfo_ids();
  for (; warc_files_noted_ < files.size() && warc_files_noted_ < ids.size(); ++warc_files_noted_) {
    store_->AddWarcFile(run_id_, files[warc_files_noted_], ids[warc_files_noted_]);
  }
}

bool Recorder::Commit() {
  std::fflush(pages_);
  {
    std::lock_guard lock(warc_error_mutex_);
    if (!warc_error_.empty()) NoteError("WARC: " + warc_error_);
  }
  if (!store_) return true;
  NoteWarcFiles();
  NoteError(store_->TakeError());
  std::string error;
  if (!store_->Commit(&error)) {
    NoteError(error);
    return false;
  }
  return true;
}

std::string Recorder::Finish(const std::string& summary_json) {
  Commit();
  if (warc_) {
    std::string error;
    if (!warc_->Flush(&error)) NoteError("WARC: " + error);
  }
  if (std::fflush(pages_) != 0 || std::fflush(findings_) != 0) {
    NoteError("write error in " + dir_);
  }
  if (store_) {
    store_->EndRun(run_id_, UtcIso(std::chrono::system_clock::now()), summary_json);
    Commit();
  }
  return error_;
}

}  // namespace mw
