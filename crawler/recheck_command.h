// `mirrorwatch recheck DIR [--every 6h]`: are the flagged hosts still up?
//
// Re-fetches every flagged URL of every flagged host in DIR/crawl.db, politely and with
// conditional requests (If-None-Match / If-Modified-Since from the last response), scores what
// comes back with the signature file, writes new responses to DIR/warc/, and records per host
// a status history: live (still branded), changed (up, no longer flagged), gone (404/410, DNS
// failure, connection refused for --gone-after consecutive checks). `mirrorwatch report`
// shows the history and the time from first flag to gone.
//
//   recheck DIR [--every DURATION] [--rounds N] [--gone-after N] [CRAWL-OPTIONS...]
//
// --every 90s|30m|6h|1d starts a round every DURATION (start to start; a round that overran is
// followed at once) until --rounds N rounds are done (default: 1 without --every, no limit
// with it) or SIGINT/SIGTERM: a signal during a wait ends the command at once; during a round
// it lets the fetches in flight land, records them and ends (hosts left unfinished keep their
// status). --gone-after N (default 3): rounds in a row in which every URL of a host was gone.
// CRAWL-OPTIONS: those of the crawl's options that say how to reach a host, how hard to press
// it and what to record (--connect-to, --allow-net, --proxy, --insecure, --user-agent,
// --header, --*timeout*, --low-speed-*, --max-body, --max-redirects, --concurrency,
// --delay-ms, --signatures, --case, --warc-file-size), parsed by ParseCrawlArgs; the crawl's
// other options are refused.
//
// Politeness: one request at a time per host, their starts --delay-ms apart -- 1000 ms by
// default here (the crawl's default is 0): a re-check is in no hurry. Hosts are checked in
// parallel, --concurrency at most. robots.txt is not fetched: a re-check follows no links and
// fetches only URLs already flagged, once per round, to gather evidence about those URLs.
//
// Outcome per URL: 304 repeats the outcome of the response its validators came from (a
// flagged fetch: live); 2xx HTML flagged by any outlet: live, else changed (a redirect is
// followed, so a parking page is "changed"; a 2xx that is not HTML is "changed" too); 404,
// 410, DNS failure, connection refused: gone; anything else (timeouts, 5xx, 403, the SSRF
// guard): error. Every response goes to DIR/warc/ (mirrorwatch-recheck-*.warc.gz), plus a
// metadata record with the outcome for a live URL.
//
// Audit: each round is one run in the store (command "recheck", a summary JSON) with WARC
// files of its own (mirrorwatch-recheck-*, their warcinfo naming the run), because
// Store::SetHostStatusFromChecks judges a host by the checks of one run.
#ifndef MIRRORWATCH_CRAWLER_RECHECK_COMMAND_H_
#define MIRRORWATCH_CRAWLER_RECHECK_COMMAND_H_

#include <iosfwd>
#include <string>
#include <vector>

namespace mw {

// Runs `mirrorwatch recheck ARGS...` (without "recheck"). A summary per round goes to `out`;
// usage errors and unreadable input to `err`. Returns 0 when done (whatever the hosts' state),
// 2 on a usage error or a store that cannot be opened. main() has called curl_global_init().
// Also returns 1 when the rounds ran but something could not be recorded (a store commit or a
// WARC write failed; each failure is on `err`). Per round `out` gets a header line, then one
// line per host: "  HOST  STATUS  live=N changed=N gone=N error=N", followed, for a host that
// became gone in that round, by "gone 3d 04h 05m after it was first flagged (FIRST_SEEN)",
// or, for one on its way there, by "gone 1 of 3 rounds in a row".
// Never throws. Blocks; handles SIGINT and SIGTERM while it runs (see above).
int RunRecheckCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace mw

#endif  // MIRRORWATCH_CRAWLER_RECHECK_COMMAND_H_
