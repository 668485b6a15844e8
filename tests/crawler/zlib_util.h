// Compressed bodies for the tests' servers: gzip, zlib and raw deflate, and gzip bombs.
#ifndef MIRRORWATCH_TESTS_CRAWLER_ZLIB_UTIL_H_
#define MIRRORWATCH_TESTS_CRAWLER_ZLIB_UTIL_H_

#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>

namespace mw::testing {

inline constexpr int kGzipWindow = 15 + 16;  // a gzip header and trailer around the deflate data

// `text` compressed by zlib in one go: window_bits kGzipWindow gzip, 15 zlib, -15 raw deflate.
inline std::string Compress(std::string_view text, int window_bits = kGzipWindow) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, window_bits, 9, Z_DEFAULT_STRATEGY),
            Z_OK);
  std::string out(deflateBound(&z, text.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  z.avail_in = static_cast<uInt>(text.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

// `size` zero bytes as a gzip stream, built a MiB at a time: deflate shrinks zeros about
// 1000:1, so 1 GiB decoded is ~1 MB on the wire.
inline std::string GzipOfZeros(std::size_t size) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, kGzipWindow, 9, Z_DEFAULT_STRATEGY),
            Z_OK);
  const std::string zeros(std::size_t{1} << 20, '\0');
  std::string out;
  char buffer[1 << 16];
  std::size_t fed = 0;
  int flush = Z_NO_FLUSH;
  do {
    const std::size_t n = std::min(zeros.size(), size - fed);
    fed += n;
    flush = fed == size ? Z_FINISH : Z_NO_FLUSH;
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(zeros.data()));
    z.avail_in = static_cast<uInt>(n);
    do {
      z.next_out = reinterpret_cast<Bytef*>(buffer);
      z.avail_out = sizeof buffer;
      deflate(&z, flush);
      out.append(buffer, sizeof buffer - z.avail_out);
    } while (z.avail_out == 0);
  } while (flush != Z_FINISH);
  deflateEnd(&z);
  return out;
}

}  // namespace mw::testing

#endif  // MIRRORWATCH_TESTS_CRAWLER_ZLIB_UTIL_H_
