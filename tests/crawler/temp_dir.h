// A fresh directory per test: TMPDIR/mw-SUITE-TEST-PID, emptied and created.
#ifndef MIRRORWATCH_TESTS_CRAWLER_TEMP_DIR_H_
#define MIRRORWATCH_TESTS_CRAWLER_TEMP_DIR_H_

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

namespace mw::testing {

inline std::filesystem::path FreshTestDir() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() /
      ("mw-" + std::string(info->test_suite_name()) + "-" + info->name() + "-" +
       std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace mw::testing

#endif  // MIRRORWATCH_TESTS_CRAWLER_TEMP_DIR_H_
