// `mirrorwatch report DIR`: what a crawl found, for analysts and for referrals.
//
//   report DIR [--format jsonl|csv|html] [--out FILE]   flagged hosts with their verdicts
//   report DIR --referral HOST [--out DIR2]              a referral pack for one host
//
// Reads DIR/crawl.db (while a crawl runs, too: what is committed) and DIR/warc/. docs/reports.md
// describes every format and the pack.
#ifndef MIRRORWATCH_CRAWLER_REPORT_COMMAND_H_
#define MIRRORWATCH_CRAWLER_REPORT_COMMAND_H_

#include <iosfwd>
#include <string>
#include <vector>

namespace mw {

// Runs `mirrorwatch report ARGS...` (without "report"). Output goes to `out` (or --out);
// usage errors and unreadable input to `err`. Returns 0 on success, 2 on a usage error or
// input that cannot be read (no crawl.db, unknown host for --referral ...). Never throws.
// Also returns 2 when --referral's pack directory exists (a pack is never overwritten) or
// when an evidence record is not in DIR/warc/ as the store says (missing, another record id,
// a block that no longer matches its digest): no pack is written then. Returns 1 when the
// report or the pack cannot be written; a pack half written is removed. Never creates
// DIR/crawl.db.
int RunReportCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace mw

#endif  // MIRRORWATCH_CRAWLER_REPORT_COMMAND_H_
