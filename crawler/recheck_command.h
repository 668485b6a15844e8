// `mirrorwatch recheck DIR [--every 6h]`: are the flagged hosts still up?
//
// Re-fetches every flagged URL of every flagged host in DIR/crawl.db, politely and with
// conditional requests (If-None-Match / If-Modified-Since from the last response), scores what
// comes back with the signature file, writes new responses to DIR/warc/, and records per host
// a status history: live (still branded), changed (up, no longer flagged), gone (404/410, DNS
// failure, connection refused for --gone-after consecutive checks). `mirrorwatch report`
// shows the history and the time from first flag to gone.
#ifndef MIRRORWATCH_CRAWLER_RECHECK_COMMAND_H_
#define MIRRORWATCH_CRAWLER_RECHECK_COMMAND_H_

#include <iosfwd>
#include <string>
#include <vector>

namespace mw {

// Runs `mirrorwatch recheck ARGS...` (without "recheck"). A summary per round goes to `out`;
// usage errors and unreadable input to `err`. Returns 0 when done (whatever the hosts' state),
// 2 on a usage error or a store that cannot be opened. main() has called curl_global_init().
int RunRecheckCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace mw

#endif  // MIRRORWATCH_CRAWLER_RECHECK_COMMAND_H_
