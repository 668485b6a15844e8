// The evidence store: what was fetched, written as WARC/1.1 (ISO 28500:2017) files.
//
// Each file is PREFIX-YYYYMMDDhhmmss-NNNNN.warc.gz (UTC time the file was started, then a
// serial) and holds a sequence of gzip members, exactly one WARC record per member, so that a
// record can be cut out of a file by (offset, length) and inflated on its own. The first record
// of every file is its `warcinfo`; every other record names it in WARC-Warcinfo-ID.
//
// Digests, on every record:
//   WARC-Block-Digest        sha1:BASE32  over the record block (RFC 4648 base32, no padding)
//   Mirrorwatch-Block-Digest sha256:HEX   the same bytes, lower-case hex
// and on `request` and `response` records:
//   WARC-Payload-Digest        sha1:BASE32  over the payload
//   Mirrorwatch-Payload-Digest sha256:HEX   the same bytes
// The payload is the HTTP body as received (Content-Encoding kept: a gzip body is digested as
// gzip bytes) with `chunked` transfer coding removed, as WARC/1.1 section 6.3.2 defines it: the
// same entity body digests the same however the server chunked it. (Some tools, the Python and
// JS warcio writers among them, digest the chunk framing too; their digests differ from ours
// for chunked responses only.) Precisely: the payload is what follows the first CRLFCRLF of the
// HTTP message; when the last coding in Transfer-Encoding is `chunked` it is the chunks' data,
// ending at the zero-size chunk (trailers dropped) or where the framing breaks off (a truncated
// body); when that body does not start with a chunk-size line (it was stored de-chunked) it is
// taken as it is. No other transfer coding is removed (we send no TE header, so servers may not
// apply one). The `warcinfo` record restates these conventions, so each file explains itself.
#ifndef MIRRORWATCH_CRAWLER_WARC_H_
#define MIRRORWATCH_CRAWLER_WARC_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mw {

struct WarcOptions {
  std::string prefix = "mirrorwatch";  // file name prefix; no '/' allowed
  // A file holding more than one exchange never grows past this: an exchange (or metadata
  // record) that would not fit starts a new file with its own warcinfo. A single exchange
  // larger than the limit gets a file of its own.
  std::uint64_t max_file_bytes = std::uint64_t{1} << 30;
  // Extra warcinfo fields, in order, after `software`, `format`, `conformsTo` and the digest
  // conventions: e.g. {"hostname", ...}, {"case", ...}, {"signatures-sha256", ...},
  // {"configuration", ...}. Names are non-empty and hold no ':', white space or control
  // characters; values hold no CR or LF (put JSON on one line).
  std::vector<std::pair<std::string, std::string>> warcinfo;
  // Tells the time for file names and for the WARC-Date of warcinfo and metadata records
  // (tests pass a fake). Exchanges carry their own time.
  std::function<std::chrono::system_clock::time_point()> clock = [] {
    return std::chrono::system_clock::now();
  };
};

// How a stored response falls short of what the server sent (the WARC-Truncated field).
enum class WarcTruncation { kNone, kLength, kTime, kDisconnect, kUnspecified };

// One HTTP exchange, bytes as they crossed the connection (after TLS, before any decoding).
struct WarcExchange {
  std::string target_uri;  // the URL requested; no control characters or spaces
  std::string ip;          // the address connected to (IPv4 or IPv6 text); empty: unknown
  std::string request;     // request line + headers (+ body) as sent
  // Status line + headers + body as received: still chunked if it came chunked, still
  // content-encoded (gzip, br...) if it came so. REQUIRES: not empty.
  std::string response;
  std::chrono::system_clock::time_point fetched_at;  // when the request was sent (WARC-Date)
  WarcTruncation truncated = WarcTruncation::kNone;  // the response was cut short (e.g. max-body)
};

// Where a record was written: enough for a finding to cite its evidence.
struct WarcRecordRef {
  std::string file;            // file name inside the writer's directory
  std::uint64_t offset = 0;    // byte offset of the record's gzip member in `file`
  std::uint64_t length = 0;    // compressed length of that member
  std::string record_id;       // WARC-Record-ID, "<urn:uuid:...>"
  std::string payload_sha256;  // lower-case hex: response payload; metadata: the JSON text
  std::string error;           // why the write failed; empty on success

  bool ok() const { return error.empty(); }
};

// Writes WARC files into one directory.
//
// Records reach the operating system before a Write* call returns (there is no user-space
// buffer); Flush() makes them durable. A record is written whole or not at all: after a failed
// write the file is cut back to its previous length. After any I/O error the writer is failed:
// that call and every later one returns the error. Invalid input (a control character in a
// URI, an empty response) fails that call only. Never overwrites a file.
//
// Thread-safe: calls are serialised by an internal mutex (records from concurrent calls never
// interleave, and a request/response pair is always adjacent in one file).
class WarcWriter {
 public:
  // Creates `dir` (and parents) if needed and starts the first file with its warcinfo record.
  // On failure returns nullptr and says why in *error.
  static std::unique_ptr<WarcWriter> Open(const std::string& dir, const WarcOptions& options,
                                          std::string* error);

  // Makes what was written durable (fsync) and closes the file; errors here are lost: call
  // Flush() first to see them.
  ~WarcWriter();
  WarcWriter(const WarcWriter&) = delete;
  WarcWriter& operator=(const WarcWriter&) = delete;

  // Writes a `request` record and then a `response` record, each naming the other in
  // WARC-Concurrent-To, into the same file. Returns where the response record went.
  WarcRecordRef WriteExchange(const WarcExchange& exchange);

  // Writes a `metadata` record (Content-Type application/json) about `target_uri`, with
  // WARC-Concurrent-To `concurrent_to` (the response's record_id; it may be in an earlier
  // file). REQUIRES: `json` is one JSON document in UTF-8.
  WarcRecordRef WriteMetadata(const std::string& target_uri, const std::string& concurrent_to,
                              const std::string& json);

  // fsyncs the current file. Returns false and says why in *error (error may be null).
  bool Flush(std::string* error);

  const std::string& dir() const;
  // Names of the files started so far, oldest first; the last is the one being written.
  std::vector<std::string> files() const;
  // The WARC-Record-ID of each file's warcinfo record, in the order of files().
  std::vector<std::string> warcinfo_ids() const;

 private:
  class Impl;
  explicit WarcWriter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// One `warcinfo` record (Content-Type application/warc-fields, with both block digests) as a
// gzip member, for a file assembled by hand from copied members (a referral pack's
// evidence.warc.gz), where WarcWriter's own file naming does not fit. `fields` is the block:
// "name: value\r\n" lines. Sets *record_id; returns empty and sets *error on failure.
std::string WarcinfoMember(const std::string& filename, const std::string& warc_date,
                           const std::string& fields, std::string* record_id, std::string* error);

// SHA-256 of `data`, lower-case hex: the digest every mirrorwatch record and report cites.
std::string Sha256Hex(std::string_view data);

// One record read back from a WARC file.
struct WarcMember {
  std::string record;        // the inflated record: headers, CRLF, block, CRLF CRLF
  std::uint64_t length = 0;  // compressed length of the member (offset + length: next member)
  std::string error;         // empty on success

  bool ok() const { return error.empty(); }
};

// Inflates the single gzip member that starts at `offset` in the file at `path` (the
// WarcRecordRef of a finding, say). Fails when there is no gzip member at that offset, or the
// file ends inside it. Thread-safe. The record is held in memory whole: WARC files from other
// writers may hold records of any size.
WarcMember ReadRecordAt(const std::string& path, std::uint64_t offset);

}  // namespace mw

#endif  // MIRRORWATCH_CRAWLER_WARC_H_
