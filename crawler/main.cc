// mirrorwatch: finds mirror websites branded as Amaq, al-Bayan radio, Halumu and Nashir.
#include <curl/curl.h>

#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "crawler/crawl.h"
#include "crawler/options.h"
#include "crawler/recheck_command.h"
#include "crawler/report_command.h"
#include "crawler/sigs_command.h"
#include "signatures/signature_set.h"

namespace {

constexpr char kUsage[] =
    "usage: mirrorwatch COMMAND [OPTIONS]\n\n"
    "commands:\n"
    "  crawl [OPTIONS] [SEED-URL...]   crawl from seeds and flag branded mirror sites\n"
    "                                  (mirrorwatch crawl --help lists every option)\n"
    "  crawl --resume DIR [OPTIONS]    continue a crawl that was stopped or killed\n"
    "  report DIR [--format F]         flagged hosts with their evidence: html, jsonl, csv\n"
    "  report DIR --referral HOST      a referral pack for one host (docs/reports.md)\n"
    "  recheck DIR [--every 6h]        are the flagged hosts still up? (takedown checks)\n"
    "  sigs check|test|eval ...        check, test and evaluate signature files\n"
    "                                  (mirrorwatch sigs --help; docs/operators.md)\n"
    "  --version                       print the version\n"
    "  --help                          this text\n";

int Crawl(const std::vector<std::string>& args) {
  mw::CrawlOptions options;
  mw::HelpRequest help = mw::HelpRequest::kNone;
  if (std::string error = mw::ParseCrawlArgs(args, &options, &help); !error.empty()) {
    std::fprintf(stderr, "mirrorwatch crawl: %s\n(see mirrorwatch crawl --help)\n",
                 error.c_str());
    return 2;
  }
  if (help != mw::HelpRequest::kNone) {
    std::fputs(help == mw::HelpRequest::kText ? mw::CrawlHelp().c_str()
                                              : mw::CrawlOptionsMarkdown().c_str(),
               stdout);
    return 0;
  }
  const std::string signature_file = mw::SignatureFilePath(options);
  std::vector<mw::SignatureDiagnostic> diagnostics;
  std::shared_ptr<const mw::SignatureSet> signatures =
      mw::SignatureSet::LoadFile(signature_file, &diagnostics);
  for (const mw::SignatureDiagnostic& d : diagnostics) {
    std::fprintf(stderr, "%s\n", d.ToString().c_str());
  }
  if (!signatures) {
    std::fprintf(stderr, "mirrorwatch crawl: cannot load signatures from %s\n",
                 signature_file.c_str());
    return 2;
  }
  mw::CrawlSummary summary;
  if (std::string error = mw::RunCrawl(options, signatures, &summary); !error.empty()) {
    std::fprintf(stderr, "mirrorwatch crawl: %s\n", error.c_str());
    return 2;
  }
  std::fputs(mw::FormatSummary(summary).c_str(), stdout);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::fputs(kUsage, args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "--version") {
    std::printf("mirrorwatch %s (%s)\n", MW_VERSION, curl_version());
    return 0;
  }
  if (args[0] == "crawl") {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int status = Crawl({args.begin() + 1, args.end()});
    curl_global_cleanup();
    return status;
  }
  if (args[0] == "report") {
    return mw::RunReportCommand({args.begin() + 1, args.end()}, std::cout, std::cerr);
  }
  if (args[0] == "recheck") {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int status = mw::RunRecheckCommand({args.begin() + 1, args.end()}, std::cout, std::cerr);
    curl_global_cleanup();
    return status;
  }
  if (args[0] == "sigs") {
    curl_global_init(CURL_GLOBAL_DEFAULT);  // sigs test fetches URL pages
    int status = mw::RunSigsCommand({args.begin() + 1, args.end()}, std::cout, std::cerr);
    curl_global_cleanup();
    return status;
  }
  std::fprintf(stderr, "mirrorwatch: unknown command '%s'\n%s", args[0].c_str(), kUsage);
  return 2;
}
