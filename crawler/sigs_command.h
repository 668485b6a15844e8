// `mirrorwatch sigs`: the operator tools for signature files.
//
//   sigs check FILE...                       validate and compile; every error and warning
//   sigs test FILE PAGE.html|URL...          explain one page's verdict, rule by rule
//   sigs eval FILE --labels L --pages DIR    precision/recall per outlet on a labelled set,
//                          |--crawl DIR      the false positives and misses with their rules,
//             [--compare OLD.yaml]           and what changes against an older file
//
// docs/operators.md is the walk-through; `mirrorwatch sigs --help` lists every option.
#ifndef MIRRORWATCH_CRAWLER_SIGS_COMMAND_H_
#define MIRRORWATCH_CRAWLER_SIGS_COMMAND_H_

#include <iosfwd>
#include <string>
#include <vector>

namespace mw {

// Runs `mirrorwatch sigs ARGS...` (`args` starts with the subcommand, without "sigs").
// Results go to `out`; usage errors and input that cannot be read go to `err`.
// Returns the process exit status:
//   0  done (whatever the verdicts and scores are);
//   1  `check` found an error in a file (with --strict, also a warning);
//   2  a usage error, or input that cannot be used: a signature file that does not load
//      (test, eval), a page that cannot be read or fetched (test; the other pages are still
//      reported), unreadable labels, findings or pages.
// Fetching a URL page uses libcurl; main() has called curl_global_init() before.
// Never throws. Not thread-safe with respect to `out`/`err` only.
int RunSigsCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace mw

#endif  // MIRRORWATCH_CRAWLER_SIGS_COMMAND_H_
