// What every fuzz target uses to report a broken promise: libFuzzer treats abort() as a crash and
// saves the input, so a violated invariant is reported like a memory error.
#ifndef MIRRORWATCH_FUZZ_FUZZ_CHECK_H_
#define MIRRORWATCH_FUZZ_FUZZ_CHECK_H_

#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "parsers/utf8.h"

// Aborts with the failed condition and where it is when `cond` is false.
#define MW_FUZZ_CHECK(cond)                                                               \
  do {                                                                                    \
    if (!(cond)) {                                                                        \
      std::fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond);  \
      std::abort();                                                                       \
    }                                                                                     \
  } while (false)

namespace mw::fuzz {

inline bool IsValidUtf8(std::string_view text) { return ValidUtf8Prefix(text) == text.size(); }

}  // namespace mw::fuzz

#endif  // MIRRORWATCH_FUZZ_FUZZ_CHECK_H_
