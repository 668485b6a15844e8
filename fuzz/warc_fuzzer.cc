// WARC: an exchange built from the input is written with WarcWriter and read back with
// ReadRecordAt; the records must hold exactly what was written. Then ReadRecordAt reads the raw
// input as if it were a WARC file.
//
// One writer lives for the whole run in a temporary directory (opening one per input would
// fsync per input); its files are kept small, and every file but the one being written is
// deleted after each input, so a long run does not fill the disk.
#include <fuzzer/FuzzedDataProvider.h>
#include <stdlib.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>

#include "crawler/warc.h"
#include "fuzz/fuzz_check.h"

namespace {

std::string g_dir;
mw::WarcWriter* g_writer = nullptr;

// The value of header `name` in the header block `head`; empty when absent.
std::string_view HeaderValue(std::string_view head, std::string_view name) {
  const std::string key = "\r\n" + std::string(name) + ": ";
  const std::size_t at = head.find(key);
  if (at == std::string_view::npos) return {};
  const std::size_t start = at + key.size();
  return head.substr(start, head.find("\r\n", start) - start);
}

struct Record {
  std::string_view head;   // from "WARC/1.1" up to the CRLF ending the last header
  std::string_view block;  // Content-Length bytes after the blank line
};

// Splits a record read back into head and block, checking its framing.
Record SplitRecord(const std::string& record) {
  MW_FUZZ_CHECK(record.starts_with("WARC/1.1\r\n"));
  const std::size_t end_of_head = record.find("\r\n\r\n");
  MW_FUZZ_CHECK(end_of_head != std::string::npos);
  Record split;
  split.head = std::string_view(record).substr(0, end_of_head + 2);
  const std::string length(HeaderValue(split.head, "Content-Length"));
  MW_FUZZ_CHECK(!length.empty());
  const std::size_t block_size = std::stoull(length);
  MW_FUZZ_CHECK(record.size() == end_of_head + 4 + block_size + 4);
  split.block = std::string_view(record).substr(end_of_head + 4, block_size);
  MW_FUZZ_CHECK(record.ends_with("\r\n\r\n"));
  return split;
}

void CheckRecord(const Record& record, std::string_view type, const mw::WarcExchange& exchange,
                 std::string_view body) {
  MW_FUZZ_CHECK(HeaderValue(record.head, "WARC-Type") == type);
  MW_FUZZ_CHECK(HeaderValue(record.head, "WARC-Target-URI") == exchange.target_uri);
  MW_FUZZ_CHECK(HeaderValue(record.head, "WARC-IP-Address") == exchange.ip);
  MW_FUZZ_CHECK(record.block == body);
  MW_FUZZ_CHECK(HeaderValue(record.head, "Mirrorwatch-Block-Digest") ==
                "sha256:" + mw::Sha256Hex(body));
}

// Writes one exchange and checks both of its records by reading the file back from the start.
void WriteAndReadBack(const mw::WarcExchange& exchange) {
  const mw::WarcRecordRef ref = g_writer->WriteExchange(exchange);
  if (!ref.ok()) {
    // Invalid input fails that call only: a valid exchange still goes through.
    MW_FUZZ_CHECK(exchange.target_uri.empty() || !exchange.ip.empty() ||
                  exchange.response.empty() ||
                  exchange.target_uri.find_first_of(" \t\r\n") != std::string::npos ||
                  ref.error.find("target URI") != std::string::npos);
    mw::WarcExchange valid;
    valid.target_uri = "http://host.test/";
    valid.request = "GET / HTTP/1.1\r\nHost: host.test\r\n\r\n";
    valid.response = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    MW_FUZZ_CHECK(g_writer->WriteExchange(valid).ok());
    return;
  }
  MW_FUZZ_CHECK(ref.payload_sha256.size() == 64);
  const std::string path = g_dir + "/" + ref.file;
  // Walk the file member by member: warcinfo first, the request right before the response.
  std::uint64_t offset = 0;
  std::string previous;
  for (;;) {
    const mw::WarcMember member = mw::ReadRecordAt(path, offset);
    MW_FUZZ_CHECK(member.ok());
    MW_FUZZ_CHECK(member.length > 0);
    if (offset == 0) MW_FUZZ_CHECK(HeaderValue(SplitRecord(member.record).head, "WARC-Type") ==
                                   "warcinfo");
    if (offset == ref.offset) {
      MW_FUZZ_CHECK(member.length == ref.length);
      const Record response = SplitRecord(member.record);
      CheckRecord(response, "response", exchange, exchange.response);
      MW_FUZZ_CHECK(HeaderValue(response.head, "WARC-Record-ID") == ref.record_id);
      const Record request = SplitRecord(previous);
      CheckRecord(request, "request", exchange, exchange.request);
      MW_FUZZ_CHECK(HeaderValue(request.head, "WARC-Concurrent-To") == ref.record_id);
      MW_FUZZ_CHECK(HeaderValue(response.head, "WARC-Concurrent-To") ==
                    HeaderValue(request.head, "WARC-Record-ID"));
      MW_FUZZ_CHECK(offset + member.length == std::filesystem::file_size(path));
      return;
    }
    MW_FUZZ_CHECK(offset < ref.offset);
    previous = member.record;
    offset += member.length;
  }
}

void DeleteFinishedFiles() {
  const std::vector<std::string> files = g_writer->files();
  for (std::size_t i = 0; i + 1 < files.size(); ++i) std::filesystem::remove(g_dir + "/" + files[i]);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // Under $TMPDIR, which scripts/fuzz points at a directory it deletes afterwards.
  std::string dir = (std::filesystem::temp_directory_path() / "mw-fuzz-warc-XXXXXX").string();
  MW_FUZZ_CHECK(mkdtemp(dir.data()) != nullptr);
  g_dir = dir;
  mw::WarcOptions options;
  options.max_file_bytes = 64 << 10;
  options.warcinfo = {{"case", "fuzz"}};
  options.clock = [] { return std::chrono::system_clock::time_point(std::chrono::hours(490000)); };
  std::string error;
  g_writer = mw::WarcWriter::Open(g_dir, options, &error).release();
  MW_FUZZ_CHECK(g_writer != nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider input(data, size);
  mw::WarcExchange exchange;
  exchange.target_uri = input.ConsumeRandomLengthString(256);
  exchange.ip = input.ConsumeRandomLengthString(48);
  exchange.request = input.ConsumeRandomLengthString();
  exchange.truncated = input.PickValueInArray(
      {mw::WarcTruncation::kNone, mw::WarcTruncation::kLength, mw::WarcTruncation::kTime,
       mw::WarcTruncation::kDisconnect, mw::WarcTruncation::kUnspecified});
  // Fetch times from 1970 to 2255: system_clock counts nanoseconds in 64 bits (to 2262).
  exchange.fetched_at = std::chrono::system_clock::time_point(
      std::chrono::seconds(input.ConsumeIntegralInRange<std::int64_t>(0, 9'000'000'000)));
  exchange.response = input.ConsumeRemainingBytesAsString();
  WriteAndReadBack(exchange);
  DeleteFinishedFiles();

  // Any bytes as a WARC file: a member read back lies inside the file.
  const std::string raw_path = g_dir + "/raw.bin";
  {
    std::ofstream raw(raw_path, std::ios::binary | std::ios::trunc);
    raw.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  for (const std::uint64_t offset : {std::uint64_t{0}, std::uint64_t{size > 0 ? data[0] : 0u}}) {
    const mw::WarcMember member = mw::ReadRecordAt(raw_path, offset);
    if (member.ok()) MW_FUZZ_CHECK(member.length > 0 && offset + member.length <= size);
  }
  return 0;
}
