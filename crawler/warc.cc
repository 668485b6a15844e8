#include "crawler/warc.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <unistd.h>
#include <zlib.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <initializer_list>
#include <mutex>
#include <string_view>

namespace mw {
namespace {

using Fields = std::vector<std::pair<std::string, std::string>>;

constexpr std::string_view kCrlf = "\r\n";
constexpr std::string_view kRecordEnd = "\r\n\r\n";

std::string ErrnoText(const std::string& what) { return what + ": " + std::strerror(errno); }

WarcRecordRef RefError(std::string error) {
  WarcRecordRef ref;
  ref.error = std::move(error);
  return ref;
}

// True when `text` could break a header line: a control character, and, unless allowed,
// white space.
bool HasControl(std::string_view text, bool allow_space) {
  for (unsigned char c : text) {
    if (c == 0x7f || (c < 0x20 && !(allow_space && c == '\t')) || (c == ' ' && !allow_space)) {
      return true;
    }
  }
  return false;
}

bool IsIpAddress(const std::string& ip) {
  unsigned char buffer[sizeof(in6_addr)];
  return inet_pton(AF_INET, ip.c_str(), buffer) == 1 ||
         inet_pton(AF_INET6, ip.c_str(), buffer) == 1;
}

std::tm UtcFields(std::chrono::system_clock::time_point when) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(when);
  std::tm fields{};
  gmtime_r(&seconds, &fields);
  return fields;
}

// W3C-ISO8601 with microseconds, which WARC/1.1 allows: records of one second keep their order.
std::string WarcDate(std::chrono::system_clock::time_point when) {
  const auto since_epoch = when.time_since_epoch();
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
      since_epoch - std::chrono::floor<std::chrono::seconds>(since_epoch));
  const std::tm t = UtcFields(when);
  char text[96];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", t.tm_year + 1900,
                t.tm_mon + 1, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec,
                static_cast<int>(micros.count()));
  return text;
}

std::string FileName(const std::string& prefix, std::chrono::system_clock::time_point when,
                     unsigned serial) {
  const std::tm t = UtcFields(when);
  char text[64];
  std::snprintf(text, sizeof text, "-%04d%02d%02d%02d%02d%02d-%05u.warc.gz", t.tm_year + 1900,
                t.tm_mon + 1, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec, serial);
  return prefix + text;
}

const char* TruncationName(WarcTruncation truncated) {
  switch (truncated) {
    case WarcTruncation::kNone:
      return "";
    case WarcTruncation::kLength:
      return "length";
    case WarcTruncation::kTime:
      return "time";
    case WarcTruncation::kDisconnect:
      return "disconnect";
    case WarcTruncation::kUnspecified:
      return "unspecified";
  }
  return "unspecified";
}

// RFC 4648 base32, upper case, no padding (a sha1 is 32 characters exactly).
std::string Base32(const unsigned char* data, std::size_t size) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  for (std::size_t i = 0; i < size; ++i) {
    buffer = (buffer << 8) | data[i];
    bits += 8;
    while (bits >= 5) {
      out += kAlphabet[(buffer >> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += kAlphabet[(buffer << (5 - bits)) & 31];
  return out;
}

std::string Hex(const unsigned char* data, std::size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < size; ++i) {
    out += kDigits[data[i] >> 4];
    out += kDigits[data[i] & 15];
  }
  return out;
}

// sha1 and sha256 of the same bytes, as WARC field values.
class DigestPair {
 public:
  DigestPair() {
    ok_ = sha1_ && sha256_ && EVP_DigestInit_ex(sha1_.get(), EVP_sha1(), nullptr) == 1 &&
          EVP_DigestInit_ex(sha256_.get(), EVP_sha256(), nullptr) == 1;
  }
  void Update(std::string_view bytes) {
    ok_ = ok_ && EVP_DigestUpdate(sha1_.get(), bytes.data(), bytes.size()) == 1 &&
          EVP_DigestUpdate(sha256_.get(), bytes.data(), bytes.size()) == 1;
  }
  // False when OpenSSL failed at any step.
  bool Finish(std::string* sha1_base32, std::string* sha256_hex) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (!ok_ || EVP_DigestFinal_ex(sha1_.get(), digest, &length) != 1) return false;
    *sha1_base32 = Base32(digest, length);
    if (EVP_DigestFinal_ex(sha256_.get(), digest, &length) != 1) return false;
    *sha256_hex = Hex(digest, length);
    return true;
  }

 private:
  using Context = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;
  Context sha1_{EVP_MD_CTX_new(), &EVP_MD_CTX_free};
  Context sha256_{EVP_MD_CTX_new(), &EVP_MD_CTX_free};
  bool ok_ = false;
};

bool NewRecordId(std::string* id) {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return false;
  bytes[6] = (bytes[6] & 0x0f) | 0x40;  // version 4: random
  bytes[8] = (bytes[8] & 0x3f) | 0x80;  // RFC 4122 variant
  const std::string hex = Hex(bytes, sizeof bytes);
  *id = "<urn:uuid:" + hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
        hex.substr(16, 4) + "-" + hex.substr(20) + ">";
  return true;
}

bool EqualsNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  return text;
}

// True when the last transfer coding named by the header block's Transfer-Encoding fields
// (several fields count as one comma-separated list) is `chunked`.
bool EndsChunked(std::string_view header_block) {
  std::string_view last_coding;
  std::size_t start = header_block.find('\n');  // skip the status line
  while (start != std::string_view::npos && start + 1 < header_block.size()) {
    const std::size_t end = header_block.find('\n', start + 1);
    const std::string_view line = header_block.substr(start + 1, end - start - 1);
    start = end;
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos ||
        !EqualsNoCase(Trim(line.substr(0, colon)), "transfer-encoding")) {
      continue;
    }
    std::string_view codings = line.substr(colon + 1);
    const std::size_t comma = codings.rfind(',');
    if (comma != std::string_view::npos) codings.remove_prefix(comma + 1);
    if (!Trim(codings).empty()) last_coding = Trim(codings);
  }
  return EqualsNoCase(last_coding, "chunked");
}

// Parses a chunk-size line: hex digits, then nothing, chunk extensions or white space.
bool ParseChunkSize(std::string_view line, std::uint64_t* size) {
  std::size_t digits = 0;
  *size = 0;
  for (; digits < line.size() && std::isxdigit(static_cast<unsigned char>(line[digits]));
       ++digits) {
    if (digits == 15) return false;  // larger than any body we could hold
    const char c = static_cast<char>(std::tolower(static_cast<unsigned char>(line[digits])));
    *size = *size * 16 + static_cast<std::uint64_t>(c <= '9' ? c - '0' : c - 'a' + 10);
  }
  return digits > 0 && (digits == line.size() || line[digits] == ';' || line[digits] == ' ' ||
                        line[digits] == '\t');
}

// Calls `sink` with each piece of the HTTP message's payload, as defined in warc.h.
template <typename Sink>
void VisitHttpPayload(std::string_view message, Sink&& sink) {
  const std::size_t header_end = message.find(kRecordEnd);
  if (header_end == std::string_view::npos) return;  // cut off inside the headers: no payload
  const std::string_view body = message.substr(header_end + kRecordEnd.size());
  if (!EndsChunked(message.substr(0, header_end))) {
    sink(body);
    return;
  }
  std::string_view rest = body;
  for (bool first = true;; first = false) {
    const std::size_t line_end = rest.find(kCrlf);
    std::uint64_t size = 0;
    if (!ParseChunkSize(rest.substr(0, line_end), &size)) {
      if (first) sink(body);  // not chunk-framed after all: stored de-chunked
      return;
    }
    if (line_end == std::string_view::npos || size == 0) return;
    rest.remove_prefix(line_end + kCrlf.size());
    const std::string_view data = rest.substr(0, size);
    sink(data);
    if (data.size() < size || rest.substr(size, kCrlf.size()) != kCrlf) return;
    rest.remove_prefix(size + kCrlf.size());
  }
}

// Deflates `pieces`, in order, into one gzip member appended to *out. False when zlib fails.
bool AppendGzipMember(std::initializer_list<std::string_view> pieces, std::string* out) {
  z_stream stream{};
  // Level 1: about three times the speed of the default level for output ~10% larger; a
  // crawl archives every page it fetches on its worker threads.
  if (deflateInit2(&stream, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
      Z_OK) {
    return false;
  }
  constexpr std::size_t kStep = 1 << 30;  // avail_in is 32 bits wide
  bool ok = true;
  const std::string_view* last = pieces.end() - 1;
  for (const std::string_view* piece = pieces.begin(); ok && piece != pieces.end(); ++piece) {
    std::string_view rest = *piece;
    do {
      const std::string_view step = rest.substr(0, kStep);
      rest.remove_prefix(step.size());
      const int flush = (piece == last && rest.empty()) ? Z_FINISH : Z_NO_FLUSH;
      stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(step.data()));
      stream.avail_in = static_cast<uInt>(step.size());
      int status = Z_OK;
      do {
        const std::size_t used = out->size();
        out->resize(used + (1 << 16));
        stream.next_out = reinterpret_cast<Bytef*>(out->data() + used);
        stream.avail_out = 1 << 16;
        status = deflate(&stream, flush);
        out->resize(out->size() - stream.avail_out);
      } while (status == Z_OK && (stream.avail_in > 0 || flush == Z_FINISH));
      ok = flush == Z_FINISH ? status == Z_STREAM_END : (status == Z_OK || status == Z_BUF_ERROR);
    } while (ok && !rest.empty());
  }
  deflateEnd(&stream);
  return ok;
}

// One record, compressed, ready to be written.
struct Member {
  std::string gzip;
  std::string record_id;
  std::string payload_sha256;  // of the payload, or of the block when it has no payload
};

// Renders `fields`, the digests and Content-Length, then `block`, into a gzip member.
// `http` adds the payload digests of an application/http block.
bool BuildMember(Fields fields, std::string_view block, bool http, Member* member,
                 std::string* error) {
  std::string block_sha1, block_sha256, payload_sha1, payload_sha256;
  DigestPair block_digests;
  block_digests.Update(block);
  bool ok = block_digests.Finish(&block_sha1, &block_sha256);
  if (http) {
    DigestPair payload_digests;
    VisitHttpPayload(block, [&](std::string_view piece) { payload_digests.Update(piece); });
    ok = ok && payload_digests.Finish(&payload_sha1, &payload_sha256);
  }
  if (!ok) {
    *error = "OpenSSL could not compute a digest";
    return false;
  }
  fields.emplace_back("WARC-Block-Digest", "sha1:" + block_sha1);
  if (http) fields.emplace_back("WARC-Payload-Digest", "sha1:" + payload_sha1);
  fields.emplace_back("Mirrorwatch-Block-Digest", "sha256:" + block_sha256);
  if (http) fields.emplace_back("Mirrorwatch-Payload-Digest", "sha256:" + payload_sha256);
  fields.emplace_back("Content-Length", std::to_string(block.size()));

  std::string head = "WARC/1.1\r\n";
  for (const auto& [name, value] : fields) head += name + ": " + value + "\r\n";
  head += kCrlf;
  member->gzip.clear();
  if (!AppendGzipMember({head, block, kRecordEnd}, &member->gzip)) {
    *error = "zlib could not compress a record";
    return false;
  }
  member->payload_sha256 = http ? payload_sha256 : block_sha256;
  return true;
}

// write(2) until all of `data` is written. False with errno set on failure.
bool WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t written = ::write(fd, data.data(), data.size());
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(written));
  }
  return true;
}

// fsyncs a directory so that a file just created in it survives a crash.
bool SyncDirectory(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

class WarcWriter::Impl {
 public:
  Impl(std::string dir, WarcOptions options) : dir_(std::move(dir)), options_(std::move(options)) {}
  ~Impl() { CloseFile(); }

  // Starts the next file and writes its warcinfo record.
  bool StartFile(std::string* error);

  // Writes the members that `build` makes (given the current warcinfo record id) into one file,
  // starting a new file first when they would not fit. Returns the ref of member `index`.
  using Build = std::function<bool(const std::string& warcinfo_id, std::vector<Member>* members,
                                   std::string* error)>;
  WarcRecordRef Write(const Build& build, std::size_t index);

  bool Flush(std::string* error);
  const std::string& dir() const { return dir_; }
  std::chrono::system_clock::time_point Now() const { return options_.clock(); }
  std::vector<std::string> files() {
    std::lock_guard lock(mutex_);
    return files_;
  }
  std::vector<std::string> warcinfo_ids() {
    std::lock_guard lock(mutex_);
    return warcinfo_ids_;
  }

 private:
  // fsyncs and closes the current file, if any. False with errno set when fsync failed.
  bool CloseFile();
  WarcRecordRef Fail(std::string error) {
    failure_ = std::move(error);
    return RefError(failure_);
  }

  const std::string dir_;
  const WarcOptions options_;
  std::mutex mutex_;
  // Everything below is guarded by mutex_.
  int fd_ = -1;
  std::string file_;                // name of the file being written
  std::uint64_t size_ = 0;          // its length
  bool holds_records_ = false;      // it holds more than its warcinfo
  std::string warcinfo_id_;         // its warcinfo's record id
  unsigned serial_ = 0;             // NNNNN of the next file
  std::vector<std::string> files_;  // every file started
  std::vector<std::string> warcinfo_ids_;  // their warcinfo records' ids
  std::string failure_;             // the I/O error that failed the writer; empty while fine
};

bool WarcWriter::Impl::CloseFile() {
  if (fd_ < 0) return true;
  const bool synced = ::fdatasync(fd_) == 0;
  const int saved = errno;
  ::close(fd_);
  fd_ = -1;
  errno = saved;
  return synced;
}

bool WarcWriter::Impl::StartFile(std::string* error) {
  const std::chrono::system_clock::time_point now = options_.clock();
  std::string name;
  int fd = -1;
  while (fd < 0) {
    name = FileName(options_.prefix, now, serial_++);
    fd = ::open((dir_ + "/" + name).c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0 && errno != EEXIST) {
      *error = ErrnoText("creating " + dir_ + "/" + name);
      return false;
    }
  }
  std::string info =
      "software: mirrorwatch/" MW_VERSION
      "\r\nformat: WARC File Format 1.1"
      "\r\nconformsTo: http://iipc.github.io/warc-specifications/specifications/warc-format/"
      "warc-1.1/"
      "\r\nmirrorwatch-digests: WARC-Block-Digest and WARC-Payload-Digest are sha1 in base32,"
      " Mirrorwatch-Block-Digest and Mirrorwatch-Payload-Digest are sha256 in hex, of the same"
      " bytes"
      "\r\nmirrorwatch-payload: the HTTP body as received with chunked transfer coding removed"
      " and content coding kept\r\n";
  for (const auto& [field, value] : options_.warcinfo) info += field + ": " + value + "\r\n";
  Member member;
  bool ok = NewRecordId(&member.record_id);
  if (!ok) *error = "no random bytes for a record id";
  ok = ok && BuildMember({{"WARC-Type", "warcinfo"},
                          {"WARC-Record-ID", member.record_id},
                          {"WARC-Date", WarcDate(now)},
                          {"WARC-Filename", name},
                          {"Content-Type", "application/warc-fields"}},
                         info, false, &member, error);
  if (ok && !(WriteAll(fd, member.gzip) && SyncDirectory(dir_))) {
    *error = ErrnoText("writing " + dir_ + "/" + name);
    ok = false;
  }
  if (!ok) {
    ::close(fd);
    ::unlink((dir_ + "/" + name).c_str());
    return false;
  }
  fd_ = fd;
  file_ = name;
  size_ = member.gzip.size();
  holds_records_ = false;
  warcinfo_id_ = member.record_id;
  files_.push_back(name);
  warcinfo_ids_.push_back(member.record_id);
  return true;
}

WarcRecordRef WarcWriter::Impl::Write(const Build& build, std::size_t index) {
  // Records are built (digested and deflated: the costly part) outside the lock, so that
  // workers archiving pages at once do not queue behind each other; they are made again under
  // the lock only when the file changed meanwhile, since they name its warcinfo.
  std::string warcinfo_id;
  {
    std::lock_guard lock(mutex_);
    if (!failure_.empty()) return RefError(failure_);
    warcinfo_id = warcinfo_id_;
  }
  std::vector<Member> members;
  std::string error;
  if (!build(warcinfo_id, &members, &error)) return RefError(error);
  std::lock_guard lock(mutex_);
  if (!failure_.empty()) return RefError(failure_);
  if (warcinfo_id != warcinfo_id_) {
    members.clear();
    if (!build(warcinfo_id_, &members, &error)) return RefError(error);
  }
  std::uint64_t total = 0;
  for (const Member& member : members) total += member.gzip.size();
  if (holds_records_ && size_ + total > options_.max_file_bytes) {
    if (!CloseFile()) return Fail(ErrnoText("syncing " + dir_ + "/" + file_));
    if (!StartFile(&error)) return Fail(error);
    // The records name the file's warcinfo, so they are made again for the new file.
    members.clear();
    if (!build(warcinfo_id_, &members, &error)) return RefError(error);
  }
  WarcRecordRef ref;
  const std::uint64_t start = size_;
  for (std::size_t i = 0; i < members.size(); ++i) {
    if (!WriteAll(fd_, members[i].gzip)) {
      std::string message = ErrnoText("writing " + dir_ + "/" + file_);
      if (::ftruncate(fd_, static_cast<off_t>(start)) != 0 ||
          ::lseek(fd_, static_cast<off_t>(start), SEEK_SET) < 0) {
        message += "; cutting it back to its last whole record failed too";
      }
      return Fail(message);
    }
    if (i == index) {
      ref.file = file_;
      ref.offset = size_;
      ref.length = members[i].gzip.size();
      ref.record_id = members[i].record_id;
      ref.payload_sha256 = members[i].payload_sha256;
    }
    size_ += members[i].gzip.size();
  }
  holds_records_ = true;
  return ref;
}

bool WarcWriter::Impl::Flush(std::string* error) {
  std::lock_guard lock(mutex_);
  std::string message = failure_;
  if (message.empty() && ::fdatasync(fd_) != 0) {
    message = ErrnoText("syncing " + dir_ + "/" + file_);
    failure_ = message;
  }
  if (!message.empty() && error != nullptr) *error = message;
  return message.empty();
}

WarcWriter::WarcWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
WarcWriter::~WarcWriter() = default;

std::unique_ptr<WarcWriter> WarcWriter::Open(const std::string& dir, const WarcOptions& options,
                                             std::string* error) {
  if (options.prefix.empty() || options.prefix.find('/') != std::string::npos ||
      HasControl(options.prefix, false)) {
    *error =
        "WARC file prefix '" + options.prefix + "' is empty or holds '/' or control characters";
    return nullptr;
  }
  for (const auto& [name, value] : options.warcinfo) {
    if (name.empty() || name.find(':') != std::string::npos || HasControl(name, false) ||
        HasControl(value, true)) {
      *error = "warcinfo field '" + name +
               "': names must be non-empty without ':', white space or control characters, "
               "values must be one line";
      return nullptr;
    }
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    *error = "creating " + dir + ": " + ec.message();
    return nullptr;
  }
  auto impl = std::make_unique<Impl>(dir, options);
  if (!impl->StartFile(error)) return nullptr;
  return std::unique_ptr<WarcWriter>(new WarcWriter(std::move(impl)));
}

WarcRecordRef WarcWriter::WriteExchange(const WarcExchange& exchange) {
  if (exchange.target_uri.empty() || HasControl(exchange.target_uri, false)) {
    return RefError("target URI is empty or holds white space or control characters");
  }
  if (!exchange.ip.empty() && !IsIpAddress(exchange.ip)) {
    return RefError("'" + exchange.ip + "' is not an IP address");
  }
  if (exchange.response.empty()) return RefError("no response bytes to store");
  const std::string date = WarcDate(exchange.fetched_at);
  auto build = [&](const std::string& warcinfo_id, std::vector<Member>* members,
                   std::string* error) {
    Member request, response;
    if (!NewRecordId(&request.record_id) || !NewRecordId(&response.record_id)) {
      *error = "no random bytes for a record id";
      return false;
    }
    auto fields = [&](const char* type, const Member& self, const Member& concurrent) {
      Fields list = {{"WARC-Type", type},
                     {"WARC-Record-ID", self.record_id},
                     {"WARC-Date", date},
                     {"WARC-Target-URI", exchange.target_uri}};
      if (!exchange.ip.empty()) list.emplace_back("WARC-IP-Address", exchange.ip);
      list.emplace_back("WARC-Concurrent-To", concurrent.record_id);
      list.emplace_back("WARC-Warcinfo-ID", warcinfo_id);
      list.emplace_back("Content-Type", std::string("application/http;msgtype=") + type);
      return list;
    };
    Fields response_fields = fields("response", response, request);
    if (exchange.truncated != WarcTruncation::kNone) {
      response_fields.emplace_back("WARC-Truncated", TruncationName(exchange.truncated));
    }
    if (!BuildMember(fields("request", request, response), exchange.request, true, &request,
                     error) ||
        !BuildMember(std::move(response_fields), exchange.response, true, &response, error)) {
      return false;
    }
    members->push_back(std::move(request));
    members->push_back(std::move(response));
    return true;
  };
  return impl_->Write(build, 1);
}

WarcRecordRef WarcWriter::WriteMetadata(const std::string& target_uri,
                                        const std::string& concurrent_to, const std::string& json) {
  if (target_uri.empty() || HasControl(target_uri, false)) {
    return RefError("target URI is empty or holds white space or control characters");
  }
  if (concurrent_to.empty() || HasControl(concurrent_to, false)) {
    return RefError("WARC-Concurrent-To '" + concurrent_to + "' is not a record id");
  }
  const std::string date = WarcDate(impl_->Now());
  auto build = [&](const std::string& warcinfo_id, std::vector<Member>* members,
                   std::string* error) {
    Member metadata;
    if (!NewRecordId(&metadata.record_id)) {
      *error = "no random bytes for a record id";
      return false;
    }
    if (!BuildMember({{"WARC-Type", "metadata"},
                      {"WARC-Record-ID", metadata.record_id},
                      {"WARC-Date", date},
                      {"WARC-Target-URI", target_uri},
                      {"WARC-Concurrent-To", concurrent_to},
                      {"WARC-Warcinfo-ID", warcinfo_id},
                      {"Content-Type", "application/json"}},
                     json, false, &metadata, error)) {
      return false;
    }
    members->push_back(std::move(metadata));
    return true;
  };
  return impl_->Write(build, 0);
}

bool WarcWriter::Flush(std::string* error) { return impl_->Flush(error); }
const std::string& WarcWriter::dir() const { return impl_->dir(); }
std::vector<std::string> WarcWriter::files() const { return impl_->files(); }
std::vector<std::string> WarcWriter::warcinfo_ids() const { return impl_->warcinfo_ids(); }

std::string WarcinfoMember(const std::string& filename, const std::string& warc_date,
                           const std::string& fields, std::string* record_id, std::string* error) {
  Member member;
  if (!NewRecordId(&member.record_id)) {
    *error = "no random bytes for a record id";
    return "";
  }
  if (!BuildMember({{"WARC-Type", "warcinfo"},
                    {"WARC-Record-ID", member.record_id},
                    {"WARC-Date", warc_date},
                    {"WARC-Filename", filename},
                    {"Content-Type", "application/warc-fields"}},
                   fields, false, &member, error)) {
    return "";
  }
  *record_id = member.record_id;
  return std::move(member.gzip);
}

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr);
  return Hex(digest, length);
}

WarcMember ReadRecordAt(const std::string& path, std::uint64_t offset) {
  WarcMember member;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    member.error = ErrnoText("opening " + path);
    return member;
  }
  z_stream stream{};
  if (inflateInit2(&stream, 15 + 16) != Z_OK) {
    ::close(fd);
    member.error = "zlib could not start";
    return member;
  }
  std::string in(1 << 16, '\0');
  std::uint64_t position = offset;
  int status = Z_OK;
  while (status != Z_STREAM_END && member.error.empty()) {
    if (stream.avail_in == 0) {
      const ssize_t got = ::pread(fd, in.data(), in.size(), static_cast<off_t>(position));
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) {
        member.error = ErrnoText("reading " + path);
        break;
      }
      if (got == 0) {
        member.error = path + " ends inside the gzip member at offset " + std::to_string(offset);
        break;
      }
      position += static_cast<std::uint64_t>(got);
      stream.next_in = reinterpret_cast<Bytef*>(in.data());
      stream.avail_in = static_cast<uInt>(got);
    }
    const std::size_t used = member.record.size();
    member.record.resize(used + (1 << 16));
    stream.next_out = reinterpret_cast<Bytef*>(member.record.data() + used);
    stream.avail_out = 1 << 16;
    status = inflate(&stream, Z_NO_FLUSH);
    member.record.resize(member.record.size() - stream.avail_out);
    if (status != Z_OK && status != Z_STREAM_END && status != Z_BUF_ERROR) {
      member.error = "no gzip member at offset " + std::to_string(offset) + " of " + path + ": " +
                     (stream.msg != nullptr ? stream.msg : "zlib error " + std::to_string(status));
    }
  }
  member.length = stream.total_in;
  inflateEnd(&stream);
  ::close(fd);
  if (!member.error.empty()) member.record.clear();
  return member;
}

}  // namespace mw
