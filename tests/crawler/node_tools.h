// The checks that run in node (tests/warc, installed by `npm ci --prefix tests/warc`): the
// independent WARC reader (verify.mjs, on warcio) and the browser check of the HTML report
// (open-report.mjs, on playwright-core and Debian's chromium).
#ifndef MIRRORWATCH_TESTS_CRAWLER_NODE_TOOLS_H_
#define MIRRORWATCH_TESTS_CRAWLER_NODE_TOOLS_H_

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace mw::testing {

inline const std::string kNodeDir = std::string(MW_SOURCE_DIR) + "/tests/warc";

// Why a node check cannot run here; empty when it can. With CI set it always runs, so that a
// missing piece fails the build instead of skipping the check.
inline std::string NodeCheckMissing(const char* module, bool needs_chromium = false) {
  if (std::getenv("CI") != nullptr) return "";
  if (std::system("node --version > /dev/null 2>&1") != 0) return "node is not installed";
  if (!std::filesystem::exists(kNodeDir + "/node_modules/" + module + "/package.json")) {
    return std::string(module) + " is not installed: run `npm ci --prefix tests/warc`";
  }
  if (needs_chromium && !std::filesystem::exists("/usr/bin/chromium")) {
    return "chromium is not installed";
  }
  return "";
}

// Runs `node tests/warc/SCRIPT ARGS`; returns its exit code and puts what it printed (stdout
// and stderr, also left in `log`) in *output.
inline int RunNode(const std::string& script, const std::vector<std::string>& args,
                   const std::filesystem::path& log, std::string* output) {
  std::string command = "node '" + kNodeDir + "/" + script + "'";
  for (const std::string& arg : args) command += " '" + arg + "'";
  const int status = std::system((command + " > '" + log.string() + "' 2>&1").c_str());
  std::ifstream in(log, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  *output = text.str();
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace mw::testing

#endif  // MIRRORWATCH_TESTS_CRAWLER_NODE_TOOLS_H_
