#include "crawler/warc.h"
#include "tests/crawler/node_tools.h"
#include "tests/crawler/temp_dir.h"
#include "tests/crawler/zlib_util.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <regex>
#include <sstream>
#include <thread>

namespace mw {
namespace {

using testing::Compress;

namespace fs = std::filesystem;
using std::chrono::system_clock;
using testing::NodeCheckMissing;
using testing::RunNode;

// 2026-11-28 12:53:55 UTC: file names and warcinfo dates come from this fake clock.
const system_clock::time_point kNow = std::chrono::sys_days{std::chrono::year{2026} / 11 / 28} +
                                      std::chrono::hours{12} + std::chrono::minutes{53} +
                                      std::chrono::seconds{55};
constexpr char kFirstFile[] = "case-20261128125355-00000.warc.gz";

// --- Independent helpers: digests and gzip as a reader would compute them. -----------------

std::string Digest(const EVP_MD* md, std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &length, md, nullptr);
  return std::string(reinterpret_cast<char*>(digest), length);
}

std::string Sha256Hex(std::string_view bytes) {
  std::string hex;
  char two[3];
  for (unsigned char c : Digest(EVP_sha256(), bytes)) {
    std::snprintf(two, sizeof two, "%02x", c);
    hex += two;
  }
  return hex;
}

// RFC 4648 base32 of a sha1 (160 bits: 32 characters, no padding), bit by bit.
std::string Sha1Base32(std::string_view bytes) {
  const std::string digest = Digest(EVP_sha1(), bytes);
  std::string out;
  for (std::size_t bit = 0; bit < digest.size() * 8; bit += 5) {
    int value = 0;
    for (std::size_t i = bit; i < bit + 5; ++i) {
      value = value * 2 + ((static_cast<unsigned char>(digest[i / 8]) >> (7 - i % 8)) & 1);
    }
    out += "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"[value];
  }
  return out;
}


std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// --- A WARC record taken apart. -------------------------------------------------------------

struct Record {
  std::string version;
  std::map<std::string, std::string> fields;
  std::string block;
  std::string error;  // why it is not a well-formed record

  std::string operator[](const std::string& name) const {
    auto it = fields.find(name);
    return it == fields.end() ? "" : it->second;
  }
};

Record Malformed(std::string why) {
  Record record;
  record.error = std::move(why);
  return record;
}

Record ParseRecord(const std::string& text) {
  Record record;
  const std::size_t head_end = text.find("\r\n\r\n");
  if (head_end == std::string::npos) return Malformed("no end of headers");
  std::istringstream head(text.substr(0, head_end + 2));
  std::string line;
  std::getline(head, line);
  record.version = line.substr(0, line.size() - 1);
  while (std::getline(head, line)) {
    const std::size_t colon = line.find(": ");
    if (colon == std::string::npos || line.back() != '\r') return Malformed("bad line " + line);
    if (!record.fields
             .emplace(line.substr(0, colon), line.substr(colon + 2, line.size() - colon - 3))
             .second) {
      return Malformed("repeated field " + line);
    }
  }
  const std::size_t length = std::stoull(record["Content-Length"]);
  record.block = text.substr(head_end + 4, length);
  if (record.block.size() != length || text.substr(head_end + 4 + length) != "\r\n\r\n") {
    record.error = "block is not Content-Length bytes followed by CRLF CRLF";
  }
  return record;
}

struct Located {
  std::uint64_t offset;
  std::uint64_t length;
  Record record;
};

// Every record of a file, walking its gzip members from offset 0.
std::vector<Located> ReadAll(const fs::path& path) {
  std::vector<Located> records;
  const std::uint64_t size = fs::file_size(path);
  for (std::uint64_t offset = 0; offset < size;) {
    WarcMember member = ReadRecordAt(path.string(), offset);
    EXPECT_TRUE(member.ok()) << member.error;
    if (!member.ok()) break;
    records.push_back({offset, member.length, ParseRecord(member.record)});
    EXPECT_EQ(records.back().record.error, "") << path << "@" << offset;
    offset += member.length;
  }
  return records;
}

// --- The exchanges every test writes. --------------------------------------------------------

const std::string kRequest =
    "GET /page HTTP/1.1\r\nHost: mirror.test\r\nUser-Agent: mirrorwatch/test\r\n"
    "Accept: */*\r\n\r\n";

std::string Binary() {
  std::string body("\x89PNG\r\n\x1a\n", 8);
  body += std::string("\0\0\0\r\n\r\n\xff\xfe\0", 10);  // NULs and a blank line inside the body
  for (int i = 0; i < 256; ++i) body += static_cast<char>(i);
  return body;
}

// At least one header field: warcio 2.4 looks for CRLF CRLF after the status line, so it takes
// a body that follows the status line and a bare CRLF for more headers.
const std::string kOctetStream =
    "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n\r\n";

// Bytes that deflate cannot shrink, the same on every run.
std::string Incompressible(std::size_t size) {
  std::mt19937 random(17);
  std::string bytes(size, '\0');
  for (char& c : bytes) c = static_cast<char>(random());
  return bytes;
}

struct ExchangeCase {
  const char* name;
  std::string response;  // as received
  std::string payload;   // what WARC-Payload-Digest must cover
  WarcTruncation truncated;
};

std::vector<ExchangeCase> ExchangeCases() {
  const std::string html = "<html><title>Example Agency</title>mirror</html>\n";
  const std::string gzipped = Compress(html);
  const std::string half = gzipped.substr(0, gzipped.size() / 2);
  const std::string rest = gzipped.substr(gzipped.size() / 2);
  char sizes[64];
  std::snprintf(sizes, sizeof sizes, "%zx", half.size());
  const std::string first_size = sizes;
  std::snprintf(sizes, sizeof sizes, "%zX", rest.size());
  const std::string second_size = sizes;
  return {
      {"plain HTML with Content-Length",
       "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: " +
           std::to_string(html.size()) + "\r\n\r\n" + html,
       html, WarcTruncation::kNone},
      {"gzip content coding is kept: the payload is the gzip bytes",
       "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: gzip\r\n"
       "Content-Length: " +
           std::to_string(gzipped.size()) + "\r\n\r\n" + gzipped,
       gzipped, WarcTruncation::kNone},
      {"chunked transfer coding is removed, extensions and trailers dropped",
       "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"
       "5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nX-Trailer: t\r\n\r\n",
       "hello, world", WarcTruncation::kNone},
      {"chunked and gzip: de-chunked, still gzip; header names and values in any case",
       "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\ntransfer-encoding: Chunked\r\n\r\n" +
           first_size + "\r\n" + half + "\r\n" + second_size + "\r\n" + rest + "\r\n0\r\n\r\n",
       gzipped, WarcTruncation::kNone},
      {"no body", "HTTP/1.1 204 No Content\r\nServer: test\r\n\r\n", "", WarcTruncation::kNone},
      {"binary body with NULs and CRLF CRLF inside",
       "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\n\r\n" + Binary(), Binary(),
       WarcTruncation::kNone},
      {"cut short inside a chunk (max-body): the payload is cut at the same place",
       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\na\r\n0123456789\r\n10\r\nabcdef",
       "0123456789abcdef", WarcTruncation::kLength},
      {"says chunked but was stored de-chunked: the body as it is",
       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n<html>plain</html>",
       "<html>plain</html>", WarcTruncation::kNone},
  };
}

WarcExchange MakeExchange(const std::string& response, int n,
                          WarcTruncation truncated = WarcTruncation::kNone) {
  WarcExchange exchange;
  exchange.target_uri = "https://mirror.test/page?n=" + std::to_string(n);
  exchange.ip = n % 2 == 0 ? "192.0.2.7" : "2001:db8::7";
  exchange.request = kRequest;
  exchange.response = response;
  exchange.fetched_at = kNow + std::chrono::milliseconds(250);
  exchange.truncated = truncated;
  return exchange;
}

class WarcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::FreshTestDir();
    fs::remove_all(dir_);  // the writer creates it: a test checks that it does
  }
  void TearDown() override { fs::remove_all(dir_); }

  WarcOptions Options(std::uint64_t max_file_bytes = std::uint64_t{1} << 30) const {
    WarcOptions options;
    options.prefix = "case";
    options.max_file_bytes = max_file_bytes;
    options.clock = [] { return kNow; };
    options.warcinfo = {{"hostname", "crawler-1"},
                        {"case", "MW-2026-17"},
                        {"configuration", R"({"concurrency":8,"robots":"obey"})"}};
    return options;
  }

  std::unique_ptr<WarcWriter> Open(const WarcOptions& options) {
    std::string error;
    auto writer = WarcWriter::Open((dir_ / "warc").string(), options, &error);
    EXPECT_NE(writer, nullptr) << error;
    return writer;
  }

  fs::path Path(const std::string& file) const { return dir_ / "warc" / file; }

  fs::path dir_;
};

TEST(WarcDigests, KnownAnswers) {
  // The empty payload's sha1 that every WARC with a bodiless response carries.
  EXPECT_EQ(Sha1Base32(""), "3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ");
  EXPECT_EQ(Sha1Base32("abc"), "VGMT4NSHA2AWVOR6EVYXQUGCNSONBWE5");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_F(WarcTest, ExchangesReadBackWhereTheRefSays) {
  auto writer = Open(Options());
  ASSERT_NE(writer, nullptr);
  const std::regex record_id(
      "<urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}>");
  int n = 0;
  for (const ExchangeCase& c : ExchangeCases()) {
    SCOPED_TRACE(c.name);
    const WarcExchange exchange = MakeExchange(c.response, n++, c.truncated);
    const WarcRecordRef ref = writer->WriteExchange(exchange);
    ASSERT_TRUE(ref.ok()) << ref.error;
    EXPECT_EQ(ref.file, kFirstFile);
    EXPECT_TRUE(std::regex_match(ref.record_id, record_id)) << ref.record_id;
    EXPECT_EQ(ref.payload_sha256, Sha256Hex(c.payload));

    const WarcMember member = ReadRecordAt(Path(ref.file).string(), ref.offset);
    ASSERT_TRUE(member.ok()) << member.error;
    EXPECT_EQ(member.length, ref.length);
    const Record response = ParseRecord(member.record);
    ASSERT_EQ(response.error, "");
    EXPECT_EQ(response.version, "WARC/1.1");
    EXPECT_EQ(response["WARC-Type"], "response");
    EXPECT_EQ(response["WARC-Record-ID"], ref.record_id);
    EXPECT_EQ(response["WARC-Date"], "2026-11-28T12:53:55.250000Z");
    EXPECT_EQ(response["WARC-Target-URI"], exchange.target_uri);
    EXPECT_EQ(response["WARC-IP-Address"], exchange.ip);
    EXPECT_EQ(response["Content-Type"], "application/http;msgtype=response");
    EXPECT_EQ(response.block, c.response) << "the bytes as received, undecoded";
    EXPECT_EQ(response["WARC-Block-Digest"], "sha1:" + Sha1Base32(c.response));
    EXPECT_EQ(response["Mirrorwatch-Block-Digest"], "sha256:" + Sha256Hex(c.response));
    EXPECT_EQ(response["WARC-Payload-Digest"], "sha1:" + Sha1Base32(c.payload));
    EXPECT_EQ(response["Mirrorwatch-Payload-Digest"], "sha256:" + Sha256Hex(c.payload));
    EXPECT_EQ(response["WARC-Truncated"], c.truncated == WarcTruncation::kLength ? "length" : "");

    // The request is the member just before, and the two name each other.
    const std::vector<Located> records = ReadAll(Path(ref.file));
    ASSERT_GE(records.size(), 3u);
    const Located& request = records[records.size() - 2];
    EXPECT_EQ(request.offset + request.length, ref.offset);
    EXPECT_EQ(request.record["WARC-Type"], "request");
    EXPECT_TRUE(std::regex_match(request.record["WARC-Record-ID"], record_id));
    EXPECT_EQ(request.record["WARC-Concurrent-To"], ref.record_id);
    EXPECT_EQ(response["WARC-Concurrent-To"], request.record["WARC-Record-ID"]);
    EXPECT_EQ(request.record["Content-Type"], "application/http;msgtype=request");
    EXPECT_EQ(request.record.block, kRequest);
    EXPECT_EQ(request.record["WARC-Block-Digest"], "sha1:" + Sha1Base32(kRequest));
    EXPECT_EQ(request.record["WARC-Payload-Digest"], "sha1:" + Sha1Base32(""));
    EXPECT_EQ(request.record["WARC-Warcinfo-ID"], records[0].record["WARC-Record-ID"]);
    EXPECT_EQ(response["WARC-Warcinfo-ID"], records[0].record["WARC-Record-ID"]);
  }
}

TEST_F(WarcTest, FileStartsWithWarcinfoNamingSoftwareAndCallerFields) {
  auto writer = Open(Options());
  ASSERT_NE(writer, nullptr);
  ASSERT_EQ(writer->files(), std::vector<std::string>{kFirstFile});
  const std::vector<Located> records = ReadAll(Path(kFirstFile));
  ASSERT_EQ(records.size(), 1u);
  const Record& info = records[0].record;
  EXPECT_EQ(info["WARC-Type"], "warcinfo");
  EXPECT_EQ(info["WARC-Filename"], kFirstFile);
  EXPECT_EQ(info["WARC-Date"], "2026-11-28T12:53:55.000000Z");
  EXPECT_EQ(info["Content-Type"], "application/warc-fields");
  EXPECT_EQ(info["WARC-Block-Digest"], "sha1:" + Sha1Base32(info.block));
  EXPECT_EQ(info.block.rfind(
                "software: mirrorwatch/" MW_VERSION "\r\nformat: WARC File Format 1.1\r\n", 0),
            0u)
      << info.block;
  const std::string caller_fields =
      "hostname: crawler-1\r\ncase: MW-2026-17\r\n"
      "configuration: {\"concurrency\":8,\"robots\":\"obey\"}\r\n";
  EXPECT_TRUE(info.block.ends_with(caller_fields)) << info.block;
  EXPECT_NE(info.block.find("mirrorwatch-payload: "), std::string::npos) << "conventions stated";
}

TEST_F(WarcTest, MetadataNamesTheResponse) {
  auto writer = Open(Options());
  ASSERT_NE(writer, nullptr);
  const WarcRecordRef response =
      writer->WriteExchange(MakeExchange(ExchangeCases()[0].response, 0));
  ASSERT_TRUE(response.ok()) << response.error;
  const std::string json = R"({"outlet":"example","score":7,"rules":["example.title"]})";
  const WarcRecordRef ref =
      writer->WriteMetadata("https://mirror.test/page?n=0", response.record_id, json);
  ASSERT_TRUE(ref.ok()) << ref.error;
  EXPECT_EQ(ref.offset, response.offset + response.length);
  EXPECT_EQ(ref.payload_sha256, Sha256Hex(json));
  const WarcMember member = ReadRecordAt(Path(ref.file).string(), ref.offset);
  ASSERT_TRUE(member.ok()) << member.error;
  const Record metadata = ParseRecord(member.record);
  EXPECT_EQ(metadata["WARC-Type"], "metadata");
  EXPECT_EQ(metadata["WARC-Record-ID"], ref.record_id);
  EXPECT_EQ(metadata["WARC-Concurrent-To"], response.record_id);
  EXPECT_EQ(metadata["WARC-Target-URI"], "https://mirror.test/page?n=0");
  EXPECT_EQ(metadata["WARC-Date"], "2026-11-28T12:53:55.000000Z");
  EXPECT_EQ(metadata["Content-Type"], "application/json");
  EXPECT_EQ(metadata.block, json);
  EXPECT_EQ(metadata["Mirrorwatch-Block-Digest"], "sha256:" + Sha256Hex(json));
  EXPECT_EQ(metadata["WARC-Payload-Digest"], "") << "a JSON block has no HTTP payload";
}

TEST_F(WarcTest, RotatesBeforeAFileWouldPassTheLimit) {
  constexpr std::uint64_t kLimit = 64 << 10;
  auto writer = Open(Options(kLimit));
  ASSERT_NE(writer, nullptr);
  const std::string small = ExchangeCases()[0].response;
  const std::string big = kOctetStream + Incompressible(200 << 10);
  std::vector<WarcRecordRef> refs;
  for (const std::string* response : {&small, &small, &big, &small, &small}) {
    refs.push_back(writer->WriteExchange(MakeExchange(*response, static_cast<int>(refs.size()))));
    ASSERT_TRUE(refs.back().ok()) << refs.back().error;
  }
  const std::vector<std::string> files = {kFirstFile, "case-20261128125355-00001.warc.gz",
                                          "case-20261128125355-00002.warc.gz"};
  EXPECT_EQ(writer->files(), files);
  const std::vector<std::string> where = {files[0], files[0], files[1], files[2], files[2]};
  for (std::size_t i = 0; i < refs.size(); ++i) EXPECT_EQ(refs[i].file, where[i]) << i;

  for (const std::string& file : files) {
    SCOPED_TRACE(file);
    const std::vector<Located> records = ReadAll(Path(file));
    ASSERT_FALSE(records.empty());
    EXPECT_EQ(records[0].record["WARC-Type"], "warcinfo");
    EXPECT_EQ(records[0].record["WARC-Filename"], file);
    for (std::size_t i = 1; i < records.size(); ++i) {
      EXPECT_EQ(records[i].record["WARC-Warcinfo-ID"], records[0].record["WARC-Record-ID"]);
      EXPECT_EQ(records[i].record["WARC-Type"], i % 2 == 1 ? "request" : "response");
    }
    const bool one_exchange = records.size() == 3;
    EXPECT_TRUE(fs::file_size(Path(file)) <= kLimit || one_exchange) << fs::file_size(Path(file));
  }
}

TEST_F(WarcTest, ConcurrentWritersNeverInterleaveAPair) {
  auto writer = Open(Options());
  ASSERT_NE(writer, nullptr);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        EXPECT_TRUE(
            writer->WriteExchange(MakeExchange(ExchangeCases()[2].response, t * 100 + i)).ok());
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  const std::vector<Located> records = ReadAll(Path(kFirstFile));
  ASSERT_EQ(records.size(), 1u + 4 * 25 * 2);
  for (std::size_t i = 1; i < records.size(); i += 2) {
    EXPECT_EQ(records[i].record["WARC-Concurrent-To"], records[i + 1].record["WARC-Record-ID"]);
    EXPECT_EQ(records[i].record["WARC-Target-URI"], records[i + 1].record["WARC-Target-URI"]);
  }
}

TEST_F(WarcTest, RejectsWhatWouldBreakARecordAndWritesNothing) {
  auto writer = Open(Options());
  ASSERT_NE(writer, nullptr);
  const std::uintmax_t before = fs::file_size(Path(kFirstFile));
  struct Case {
    std::function<void(WarcExchange*)> change;
    const char* why;
  } cases[] = {
      {[](WarcExchange* e) { e->target_uri = "http://a.test/\r\nWARC-Type: revisit"; },
       "CRLF in the URI would inject a header field"},
      {[](WarcExchange* e) { e->target_uri = "http://a.test/a b"; },
       "white space is no part of a URI"},
      {[](WarcExchange* e) { e->target_uri = ""; }, "no URI"},
      {[](WarcExchange* e) { e->ip = "192.0.2.7\r\nX: y"; }, "not an IP address"},
      {[](WarcExchange* e) { e->response = ""; }, "no response bytes: nothing was received"},
  };
  for (const Case& c : cases) {
    WarcExchange exchange = MakeExchange("HTTP/1.1 200 OK\r\n\r\n", 0);
    c.change(&exchange);
    EXPECT_FALSE(writer->WriteExchange(exchange).ok()) << c.why;
  }
  EXPECT_FALSE(writer->WriteMetadata("http://a.test/", "<urn:uuid:x>\r\nX: y", "{}").ok());
  EXPECT_FALSE(writer->WriteMetadata("http://a.test/\n", "<urn:uuid:x>", "{}").ok());
  EXPECT_EQ(fs::file_size(Path(kFirstFile)), before);
  EXPECT_TRUE(writer->WriteExchange(MakeExchange("HTTP/1.1 200 OK\r\n\r\n", 0)).ok())
      << "a rejected call does not fail the writer";
}

TEST_F(WarcTest, DiskFullLeavesNoTornRecordAndFailsTheWriter) {
  auto writer = Open(Options());
  ASSERT_NE(writer, nullptr);
  ASSERT_TRUE(writer->WriteExchange(MakeExchange(ExchangeCases()[0].response, 0)).ok());
  const std::uintmax_t before = fs::file_size(Path(kFirstFile));
  // A file size limit just past the current end: the next record is written in part, then
  // write(2) fails with EFBIG, as it would with ENOSPC on a full disk.
  rlimit saved{};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &saved), 0);
  const auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  rlimit limited = saved;
  limited.rlim_cur = before + 100;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &limited), 0);
  const WarcRecordRef failed =
      writer->WriteExchange(MakeExchange(kOctetStream + Incompressible(4096), 1));
  setrlimit(RLIMIT_FSIZE, &saved);
  std::signal(SIGXFSZ, old_handler);

  EXPECT_FALSE(failed.ok());
  EXPECT_EQ(fs::file_size(Path(kFirstFile)), before) << "cut back to its last whole record";
  EXPECT_EQ(ReadAll(Path(kFirstFile)).size(), 3u);
  const WarcRecordRef after = writer->WriteExchange(MakeExchange(ExchangeCases()[0].response, 2));
  EXPECT_EQ(after.error, failed.error) << "a failed writer stays failed";
  std::string error;
  EXPECT_FALSE(writer->Flush(&error));
  EXPECT_EQ(error, failed.error);
}

TEST_F(WarcTest, OpenRejectsBadOptions) {
  struct Case {
    std::string prefix;
    std::pair<std::string, std::string> field;
    const char* why;
  } cases[] = {
      {"", {"a", "b"}, "empty prefix"},
      {"a/b", {"a", "b"}, "a prefix is no path"},
      {"case", {"has space", "b"}, "field names are tokens"},
      {"case", {"a:b", "b"}, "':' ends a field name"},
      {"case", {"a", "two\r\nlines"}, "a value is one line"},
  };
  for (const Case& c : cases) {
    WarcOptions options = Options();
    options.prefix = c.prefix;
    options.warcinfo = {c.field};
    std::string error;
    EXPECT_EQ(WarcWriter::Open((dir_ / "warc").string(), options, &error), nullptr) << c.why;
    EXPECT_NE(error, "") << c.why;
  }
}

TEST_F(WarcTest, NeverOverwritesAFile) {
  fs::create_directories(dir_ / "warc");
  std::ofstream(Path(kFirstFile)) << "precious";
  auto writer = Open(Options());
  ASSERT_NE(writer, nullptr);
  EXPECT_EQ(writer->files(), std::vector<std::string>{"case-20261128125355-00001.warc.gz"});
  EXPECT_EQ(ReadFile(Path(kFirstFile)), "precious");
}

TEST_F(WarcTest, ReadRecordAtRefusesWhatIsNoWholeMember) {
  auto writer = Open(Options());
  ASSERT_NE(writer, nullptr);
  const WarcRecordRef ref = writer->WriteExchange(MakeExchange(ExchangeCases()[0].response, 0));
  ASSERT_TRUE(ref.ok()) << ref.error;
  const std::string path = Path(ref.file).string();
  EXPECT_FALSE(ReadRecordAt(path, ref.offset + 1).ok()) << "inside a member";
  EXPECT_FALSE(ReadRecordAt(path, ref.offset + ref.length).ok()) << "at the end of the file";
  EXPECT_FALSE(ReadRecordAt(path + ".missing", 0).ok()) << "no file";
  std::string bytes = ReadFile(path);
  bytes.resize(ref.offset + ref.length - 5);
  std::ofstream(dir_ / "cut.warc.gz", std::ios::binary) << bytes;
  const WarcMember cut = ReadRecordAt((dir_ / "cut.warc.gz").string(), ref.offset);
  EXPECT_FALSE(cut.ok());
  EXPECT_NE(cut.error.find("ends inside"), std::string::npos) << cut.error;
}

// --- The independent reader: warcio, from the npm registry, run by tests/warc/verify.mjs. ---

// Runs verify.mjs; returns its exit code and puts what it printed in *output.
int RunVerifier(const std::vector<fs::path>& files, const fs::path& expect, const fs::path& log,
                std::string* output) {
  std::vector<std::string> args;
  if (!expect.empty()) args = {"--expect", expect.string()};
  for (const fs::path& file : files) args.push_back(file.string());
  return RunNode("verify.mjs", args, log, output);
}

TEST_F(WarcTest, IndependentReaderWarcioVerifiesEveryRecordAndDigest) {
  if (const std::string missing = NodeCheckMissing("warcio"); !missing.empty()) GTEST_SKIP() << missing;
  auto writer = Open(Options(16 << 10));
  ASSERT_NE(writer, nullptr);
  nlohmann::json refs = nlohmann::json::array();
  auto expect = [&](const WarcRecordRef& ref, const char* type) {
    ASSERT_TRUE(ref.ok()) << ref.error;
    refs.push_back({{"file", ref.file},
                    {"offset", ref.offset},
                    {"length", ref.length},
                    {"record_id", ref.record_id},
                    {"payload_sha256", ref.payload_sha256},
                    {"type", type}});
  };
  int n = 0;
  for (const ExchangeCase& c : ExchangeCases()) {
    const WarcRecordRef response =
        writer->WriteExchange(MakeExchange(c.response, n++, c.truncated));
    expect(response, "response");
    expect(writer->WriteMetadata("https://mirror.test/page?n=" + std::to_string(n - 1),
                                 response.record_id, R"({"finding":)" + std::to_string(n) + "}"),
           "metadata");
  }
  expect(writer->WriteExchange(MakeExchange(kOctetStream + Incompressible(40 << 10), n++)),
         "response");
  ASSERT_TRUE(writer->Flush(nullptr));
  const std::vector<std::string> names = writer->files();
  ASSERT_GE(names.size(), 2u) << "the 16 KiB limit makes it rotate";
  const nlohmann::json expected = {
      {"counts",
       {{"warcinfo", names.size()}, {"request", n}, {"response", n}, {"metadata", n - 1}}},
      {"refs", refs}};
  std::ofstream(dir_ / "expect.json") << expected.dump(1);
  std::vector<fs::path> files;
  for (const std::string& name : names) files.push_back(Path(name));

  std::string output;
  const int status = RunVerifier(files, dir_ / "expect.json", dir_ / "verify.log", &output);
  std::printf("%s", output.c_str());  // warcio's verdict, for the test log
  EXPECT_EQ(status, 0) << output;
  EXPECT_NE(output.find(", 0 problems"), std::string::npos) << output;
}

TEST_F(WarcTest, IndependentReaderCatchesATamperedBody) {
  if (const std::string missing = NodeCheckMissing("warcio"); !missing.empty()) GTEST_SKIP() << missing;
  auto writer = Open(Options());
  ASSERT_NE(writer, nullptr);
  const WarcRecordRef ref = writer->WriteExchange(MakeExchange(ExchangeCases()[0].response, 0));
  ASSERT_TRUE(ref.ok()) << ref.error;
  ASSERT_TRUE(writer->Flush(nullptr));
  // The same file, with one letter of the response body changed and the member re-compressed.
  std::string tampered;
  for (const Located& located : ReadAll(Path(ref.file))) {
    std::string record = ReadRecordAt(Path(ref.file).string(), located.offset).record;
    if (located.offset == ref.offset) {
      const std::size_t at = record.find("Example Agency");
      ASSERT_NE(at, std::string::npos);
      record[at] = 'e';
    }
    tampered += Compress(record);
  }
  const fs::path path = dir_ / ref.file;
  std::ofstream(path, std::ios::binary) << tampered;

  std::string output;
  EXPECT_EQ(RunVerifier({path}, "", dir_ / "verify.log", &output), 1) << output;
  EXPECT_NE(output.find("(response): WARC-Block-Digest is"), std::string::npos) << output;
  EXPECT_NE(output.find("(response): WARC-Payload-Digest is"), std::string::npos) << output;
}

}  // namespace
}  // namespace mw
