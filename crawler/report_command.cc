#include "crawler/report_command.h"


#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <set>
#include <sstream>
#include <string_view>

#include "crawler/recorder.h"
#include "crawler/store.h"
#include "crawler/warc.h"
#include "crawler/warc_json.h"

namespace mw {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;  // keys in the order written: "host" first

constexpr char kUsage[] =
    "usage: mirrorwatch report DIR [--format html|jsonl|csv] [--out FILE]\n"
    "       mirrorwatch report DIR --referral HOST [--out PACK-DIR]\n\n"
    "  --format F       html (default): one self-contained page; jsonl: one verdict per line;\n"
    "                   csv: one row per flagged host\n"
    "  --out PATH       write the report to FILE instead of standard output; with --referral,\n"
    "                   the pack directory (default DIR/referrals/HOST-<UTC time>); never\n"
    "                   overwrites a pack\n"
    "  --referral HOST  a referral pack for one flagged host: summary.json, report.html,\n"
    "                   evidence.warc.gz and manifest-sha256.txt\n"
    "docs/reports.md describes every format and the pack.\n";

struct ReportArgs {
  std::string dir;
  std::string format;  // empty: not given
  std::string out;
  std::string referral;
  bool help = false;
};

// Fills *parsed from `args`; returns the usage error, empty when there is none.
std::string ParseReportArgs(const std::vector<std::string>& args, ReportArgs* parsed) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--help" || arg == "-h") {
      parsed->help = true;
      return "";
    }
    std::string* value = arg == "--format"     ? &parsed->format
                         : arg == "--out"      ? &parsed->out
                         : arg == "--referral" ? &parsed->referral
                                               : nullptr;
    if (value != nullptr) {
      if (i + 1 == args.size() || args[i + 1].empty()) return arg + " needs a value";
      *value = args[++i];
    } else if (arg.size() > 1 && arg[0] == '-') {
      return "unknown option '" + arg + "'";
    } else if (parsed->dir.empty()) {
      parsed->dir = arg;
    } else {
      return "one DIR only ('" + parsed->dir + "', then '" + arg + "')";
    }
  }
  if (parsed->dir.empty()) return "no DIR given";
  if (!parsed->referral.empty() && !parsed->format.empty()) {
    return "--format does not apply to --referral (a pack holds every format it needs)";
  }
  if (parsed->format.empty()) parsed->format = "html";
  if (parsed->format != "html" && parsed->format != "jsonl" && parsed->format != "csv") {
    return "unknown --format '" + parsed->format + "' (html, jsonl or csv)";
  }
  return "";
}

// ---- time ----

// "20261128T134245Z": a time for a directory name.
std::string CompactUtc(std::chrono::system_clock::time_point when) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(when);
  std::tm t{};
  gmtime_r(&seconds, &t);
  char text[32];
  std::strftime(text, sizeof text, "%Y%m%dT%H%M%SZ", &t);
  return text;
}

// Seconds since the epoch of "YYYY-MM-DDThh:mm:ss[.fff]Z" (the store's timestamps).
std::optional<std::int64_t> ParseUtcSeconds(const std::string& text) {
  int year, month, day, hour, minute, second;
  if (text.size() < 20 || text.back() != 'Z' ||
      std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d", &year, &month, &day, &hour, &minute,
                  &second) != 6) {
    return std::nullopt;
  }
  const std::chrono::year_month_day date{std::chrono::year{year},
                                         std::chrono::month{static_cast<unsigned>(month)},
                                         std::chrono::day{static_cast<unsigned>(day)}};
  if (!date.ok()) return std::nullopt;
  return std::chrono::sys_days{date}.time_since_epoch() / std::chrono::seconds{1} + hour * 3600 +
         minute * 60 + second;
}

// From the first flagged fetch to the check that found the host gone; nullopt while not gone.
std::optional<std::int64_t> FirstFlagToGoneSeconds(const HostVerdict& verdict) {
  if (verdict.status.status != "gone") return std::nullopt;
  const auto flagged = ParseUtcSeconds(verdict.first_seen);
  const auto gone = ParseUtcSeconds(verdict.status.gone_at);
  if (!flagged || !gone) return std::nullopt;
  return *gone - *flagged;
}

// "2d 4h 5m", "3h 0m", "12m 30s".
std::string DurationText(std::int64_t seconds) {
  const char* sign = seconds < 0 ? "-" : "";
  seconds = seconds < 0 ? -seconds : seconds;
  const std::int64_t days = seconds / 86400, hours = seconds / 3600 % 24,
                     minutes = seconds / 60 % 60;
  char text[64];
  if (days > 0) {
    std::snprintf(text, sizeof text, "%s%lldd %lldh %lldm", sign, static_cast<long long>(days),
                  static_cast<long long>(hours), static_cast<long long>(minutes));
  } else if (hours > 0) {
    std::snprintf(text, sizeof text, "%s%lldh %lldm", sign, static_cast<long long>(hours),
                  static_cast<long long>(minutes));
  } else {
    std::snprintf(text, sizeof text, "%s%lldm %llds", sign, static_cast<long long>(minutes),
                  static_cast<long long>(seconds % 60));
  }
  return text;
}

std::string ScoreText(double score) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3f", score);
  std::string out = text;
  while (out.back() == '0') out.pop_back();
  if (out.back() == '.') out.pop_back();
  return out;
}

// ---- the verdict as JSON: jsonl lines, summary.json, and what the HTML and CSV show ----

// `text` parsed as JSON; null when empty; the string itself when it is not JSON.
Json ParseStored(const std::string& text) {
  if (text.empty()) return nullptr;
  Json parsed = Json::parse(text, nullptr, false);
  return parsed.is_discarded() ? Json(text) : parsed;
}

// The findings.jsonl line (rules, threshold, via ...) with the store's own fields over it.
Json EvidenceJson(const Evidence& evidence) {
  Json json = ParseStored(evidence.finding_json);
  if (!json.is_object()) json = Json::object();
  json["url"] = evidence.url;
  json["final_url"] = evidence.final_url;
  json["outlet"] = evidence.outlet;
  json["score"] = evidence.score;
  json["fetched_at"] = evidence.fetched_at;
  json["sha256"] = evidence.sha256;
  if (!json.contains("rules") || !json["rules"].is_array()) json["rules"] = Json::array();
  json["warc"] = WarcRefJson(evidence.warc);
  json["metadata"] = WarcRefJson(evidence.metadata);
  return json;
}

Json CheckJson(const CheckRecord& check) {
  return {{"run_id", check.run_id},
          {"checked_at", check.checked_at},
          {"url", check.url},
          {"status", check.status},
          {"error_kind", check.error_kind},
          {"outcome", check.outcome},
          {"warc", WarcRefJson(check.warc)},
          {"detail", ParseStored(check.detail_json)}};
}

Json VerdictJson(const HostVerdict& verdict) {
  Json evidence = Json::array();
  for (const Evidence& e : verdict.top_evidence) evidence.push_back(EvidenceJson(e));
  Json checks = Json::array();
  for (const CheckRecord& check : verdict.checks) checks.push_back(CheckJson(check));
  const std::optional<std::int64_t> to_gone = FirstFlagToGoneSeconds(verdict);
  const HostStatusRecord& status = verdict.status;
  return {{"host", verdict.host},
          {"outlets", verdict.outlets},
          {"first_seen", verdict.first_seen},
          {"last_seen", verdict.last_seen},
          {"flagged_pages", verdict.flagged_pages},
          {"best_score", verdict.best_score},
          {"status",
           {{"status", status.status},
            {"since", status.since},
            {"consecutive_gone", status.consecutive_gone},
            {"gone_at", status.gone_at.empty() ? Json(nullptr) : Json(status.gone_at)},
            {"last_checked", status.last_checked}}},
          {"first_flag_to_gone_seconds", to_gone ? Json(*to_gone) : Json(nullptr)},
          {"ips", verdict.ips},
          {"server", verdict.server},
          {"cert", ParseStored(verdict.cert_json)},
          {"discovery_path", verdict.discovery_path},
          {"linked_from", verdict.linked_from},
          {"evidence", std::move(evidence)},
          {"checks", std::move(checks)}};
}

Json RunJson(const RunRecord& run) {
  return {{"id", run.id},
          {"command", run.command},
          {"case", run.case_ref},
          {"version", run.version},
          {"configuration", ParseStored(run.config_json)},
          {"signatures_path", run.signatures_path},
          {"signatures_sha256", run.signatures_sha256},
          {"hostname", run.hostname},
          {"started_at", run.started_at},
          {"ended_at", run.ended_at.empty() ? Json(nullptr) : Json(run.ended_at)},
          {"summary", ParseStored(run.summary_json)},
          {"warc_files", run.warc_files},
          {"warcinfo_ids", run.warcinfo_ids}};
}

// Ill-formed UTF-8 from a page becomes U+FFFD rather than an exception.
std::string Dump(const Json& json, int indent = -1) {
  return json.dump(indent, ' ', false, Json::error_handler_t::replace);
}

// A string member of a parsed JSON object; empty when absent or not a string.
std::string StringAt(const Json& object, const char* key) {
  if (!object.is_object()) return "";
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

// ---- CSV ----

// One RFC 4180 field. A cell that a spreadsheet would read as a formula (it starts with = + -
// @, TAB or CR) gets a leading apostrophe, which spreadsheets show but do not evaluate.
std::string CsvCell(std::string_view text) {
  std::string cell;
  if (!text.empty() && std::string_view("=+-@\t\r").find(text[0]) != std::string_view::npos) {
    cell = "'";
  }
  cell += text;
  if (cell.find_first_of(",\"\r\n") == std::string::npos) return cell;
  std::string quoted = "\"";
  for (char c : cell) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

std::string Joined(const std::vector<std::string>& items, std::string_view separator) {
  std::string out;
  for (const std::string& item : items) {
    if (!out.empty()) out += separator;
    out += item;
  }
  return out;
}

void WriteCsv(const std::vector<HostVerdict>& verdicts, std::ostream& out) {
  static const char* const kColumns[] = {
      "host",           "outlets",     "status",         "status_since",
      "first_seen",     "last_seen",   "gone_at",        "first_flag_to_gone_seconds",
      "flagged_pages",  "best_score",  "best_url",       "best_outlet",
      "best_rules",     "ips",         "server",         "cert_subject",
      "cert_issuer",    "cert_sha256", "discovery_seed", "linked_from",
      "checks",         "warc_file",   "warc_offset",    "warc_length",
      "warc_record_id", "warc_sha256"};
  std::vector<std::string> header(std::begin(kColumns), std::end(kColumns));
  auto write_row = [&out](const std::vector<std::string>& cells) {
    for (std::size_t i = 0; i < cells.size(); ++i) out << (i ? "," : "") << CsvCell(cells[i]);
    out << "\r\n";
  };
  write_row(header);
  for (const HostVerdict& v : verdicts) {
    const Json cert = ParseStored(v.cert_json);
    const std::optional<std::int64_t> to_gone = FirstFlagToGoneSeconds(v);
    Evidence best;
    if (!v.top_evidence.empty()) best = v.top_evidence.front();
    const Json best_json = EvidenceJson(best);
    std::vector<std::string> rules;
    for (const Json& rule : best_json["rules"]) rules.push_back(StringAt(rule, "id"));
    write_row({v.host,
               Joined(v.outlets, " "),
               v.status.status,
               v.status.since,
               v.first_seen,
               v.last_seen,
               v.status.gone_at,
               to_gone ? std::to_string(*to_gone) : "",
               std::to_string(v.flagged_pages),
               ScoreText(v.best_score),
               best.final_url,
               best.outlet,
               Joined(rules, " "),
               Joined(v.ips, " "),
               v.server,
               StringAt(cert, "subject"),
               StringAt(cert, "issuer"),
               StringAt(cert, "sha256"),
               v.discovery_path.empty() ? "" : v.discovery_path.front(),
               Joined(v.linked_from, " "),
               std::to_string(v.checks.size()),
               best.warc.file,
               best.warc.file.empty() ? "" : std::to_string(best.warc.offset),
               best.warc.file.empty() ? "" : std::to_string(best.warc.length),
               best.warc.record_id,
               best.warc.sha256});
  }
}

// ---- HTML ----

// Builds the page. Markup comes only from string literals in this file (Tag() takes nothing
// else); everything else goes through Text(), which escapes it for text and for quoted
// attribute values alike, so no byte from a crawled page or the store can open a tag or an
// attribute.
class HtmlOut {
 public:
  template <std::size_t N>
  HtmlOut& Tag(const char (&markup)[N]) {
    html_.append(markup, N - 1);
    return *this;
  }
  HtmlOut& Text(std::string_view data) {
    for (const char& c : data) {
      html_ += c == '&'    ? "&amp;"
               : c == '<'  ? "&lt;"
               : c == '>'  ? "&gt;"
               : c == '"'  ? "&quot;"
               : c == '\'' ? "&#39;"
               : c == '\0' ? "\xEF\xBF\xBD"  // U+FFFD, as an HTML parser would make it
                           : std::string_view(&c, 1);
    }
    return *this;
  }
  // A link when `url` is http(s) (so never javascript:, data: ...), plain text otherwise.
  HtmlOut& Link(std::string_view url) {
    if (!IsWebUrl(url)) return Tag("<span class=\"url\" dir=\"ltr\">").Text(url).Tag("</span>");
    return Tag("<a class=\"url\" dir=\"ltr\" rel=\"noreferrer nofollow\" href=\"")
        .Text(url)
        .Tag("\">")
        .Text(url)
        .Tag("</a>");
  }
  // `snippet` with the first occurrence of `match` in <mark>; when the match is not in the
  // snippet, the snippet and then the match on its own.
  HtmlOut& Snippet(std::string_view snippet, std::string_view match) {
    const std::size_t at = match.empty() ? std::string_view::npos : snippet.find(match);
    Tag("<span class=\"snippet\" dir=\"auto\">");
    if (at == std::string_view::npos) {
      Text(snippet).Tag("</span>");
      if (!match.empty()) {
        Tag("<br><span class=\"note\">match:</span> <mark dir=\"auto\">")
            .Text(match)
            .Tag("</mark>");
      }
      return *this;
    }
    return Text(snippet.substr(0, at))
        .Tag("<mark>")
        .Text(match)
        .Tag("</mark>")
        .Text(snippet.substr(at + match.size()))
        .Tag("</span>");
  }
  HtmlOut& Cell(std::string_view text) { return Tag("<td>").Text(text).Tag("</td>"); }
  HtmlOut& TimeCell(std::string_view text) {
    return Tag("<td class=\"t\">").Text(text).Tag("</td>");
  }
  HtmlOut& Row(std::string_view name, std::string_view value) {
    return Tag("<dt>").Text(name).Tag("</dt><dd>").Text(value).Tag("</dd>");
  }

  std::string Take() { return std::move(html_); }

 private:
  static bool IsWebUrl(std::string_view url) {
    auto starts = [&](std::string_view scheme) {
      if (url.size() <= scheme.size()) return false;
      for (std::size_t i = 0; i < scheme.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(url[i])) != scheme[i]) return false;
      }
      return true;
    };
    return starts("http://") || starts("https://");
  }

  std::string html_;
};

constexpr char kStyle[] =
    "body{margin:0;background:#f4f5f7;color:#1c2228;font:14px/1.45 system-ui,'Segoe UI',"
    "Roboto,'Noto Sans','Noto Sans Arabic','DejaVu Sans',sans-serif}"
    "header{background:#17324d;color:#fff;padding:18px 28px}"
    "header h1{margin:0 0 4px;font-size:21px}header p{margin:0;color:#c9d6e3}"
    "main{max-width:1200px;margin:0 auto;padding:8px 28px 40px}"
    "h2{font-size:18px;margin:26px 0 8px}h3{font-size:15px;margin:18px 0 6px}"
    "h4{font-size:14px;margin:14px 0 6px}"
    "table{border-collapse:collapse;width:100%;background:#fff;margin:4px 0 12px}"
    "th,td{border:1px solid #d3d8de;padding:4px 8px;text-align:start;vertical-align:top}"
    "th{background:#e9edf1;font-weight:600}"
    ".url,code{font-family:ui-monospace,'DejaVu Sans Mono',Menlo,Consolas,monospace;"
    "font-size:12px;overflow-wrap:anywhere}"
    "a{color:#0b57a4}"
    "section.host{background:#fff;border:1px solid #d3d8de;border-radius:6px;"
    "padding:4px 18px 12px;margin:22px 0}"
    "section.host h2{font-family:ui-monospace,'DejaVu Sans Mono',monospace}"
    "dl{display:grid;grid-template-columns:max-content 1fr;gap:3px 18px;margin:8px 0}"
    "dt{font-weight:600;color:#4b5866}dd{margin:0;overflow-wrap:anywhere}"
    "ol,ul{margin:4px 0;padding-inline-start:22px}"
    ".snippet{font-size:15px}mark{background:#ffd43b;padding:0 2px}"
    ".note{color:#5b6672;font-size:12px}.t{white-space:nowrap}"
    ".badge{display:inline-block;padding:0 7px;border-radius:9px;font-size:12px;"
    "font-weight:600;background:#dde3e9}"
    ".s-flagged,.s-live{background:#ffd9d6;color:#8a1c12}"
    ".s-changed{background:#fff1c2;color:#6b5100}.s-gone{background:#d5f2dc;color:#175c2a}"
    ".evidence{border-inline-start:3px solid #c6cfd8;padding-inline-start:12px;margin:12px 0}";

// The CSS class for a host status; a fixed word, whatever the store holds.
const char* StatusClass(const std::string& status) {
  if (status == "flagged") return "s-flagged";
  if (status == "live") return "s-live";
  if (status == "changed") return "s-changed";
  if (status == "gone") return "s-gone";
  return "s-other";
}

// An id for the host's section: letters, digits, '.', '-' kept, anything else '_', made unique.
std::map<std::string, std::string> HostAnchors(const std::vector<HostVerdict>& verdicts) {
  std::map<std::string, std::string> anchors;
  std::set<std::string> used;
  for (const HostVerdict& v : verdicts) {
    std::string id = "host-";
    for (unsigned char c : v.host) id += (std::isalnum(c) || c == '.' || c == '-') ? c : '_';
    for (int n = 2; !used.insert(id).second; ++n) id += "-" + std::to_string(n);
    anchors[v.host] = id;
  }
  return anchors;
}

void RenderRuns(const std::vector<RunRecord>& runs, HtmlOut& h) {
  h.Tag("<section id=\"runs\"><h2>Audit record: the runs against this store</h2>");
  if (runs.empty()) {
    h.Tag("<p>No run is recorded.</p></section>");
    return;
  }
  h.Tag(
      "<table><thead><tr><th>Run</th><th>Command</th><th>Case</th><th>Version</th>"
      "<th>Signatures (sha256, file)</th><th>Machine</th><th>Started, ended (UTC)</th>"
      "<th>WARC files</th></tr></thead><tbody>");
  for (const RunRecord& run : runs) {
    h.Tag("<tr>").Cell(std::to_string(run.id)).Cell(run.command);
    h.Tag("<td dir=\"auto\">").Text(run.case_ref).Tag("</td>").Cell(run.version);
    h.Tag("<td><code>").Text(run.signatures_sha256).Tag("</code><br><span class=\"note\">");
    h.Text(run.signatures_path).Tag("</span></td>").Cell(run.hostname);
    h.Tag("<td class=\"t\">").Text(run.started_at).Tag("<br>");
    h.Text(run.ended_at.empty() ? "not ended (running, or killed)" : run.ended_at).Tag("</td><td>");
    for (const std::string& file : run.warc_files) h.Tag("<code>").Text(file).Tag("</code><br>");
    h.Tag("</td></tr>");
  }
  h.Tag("</tbody></table></section>");
}

void RenderOverview(const std::vector<HostVerdict>& verdicts,
                    const std::map<std::string, std::string>& anchors, HtmlOut& h) {
  std::map<std::string, std::vector<const HostVerdict*>> by_outlet;
  for (const HostVerdict& v : verdicts) {
    for (const std::string& outlet : v.outlets) by_outlet[outlet].push_back(&v);
  }
  h.Tag("<section id=\"hosts\"><h2>Flagged hosts by outlet</h2>");
  if (verdicts.empty()) h.Tag("<p>No host is flagged.</p>");
  for (const auto& [outlet, hosts] : by_outlet) {
    h.Tag("<h3>").Text(outlet).Tag(" <span class=\"note\">").Text(std::to_string(hosts.size()));
    h.Text(hosts.size() == 1 ? " host" : " hosts").Tag("</span></h3>");
    h.Tag(
        "<table><thead><tr><th>Host</th><th>Outlets</th><th>Flagged pages</th>"
        "<th>Best score</th><th>First seen (UTC)</th><th>Last seen (UTC)</th><th>Status</th>"
        "</tr></thead><tbody>");
    for (const HostVerdict* v : hosts) {
      h.Tag("<tr><td><a class=\"url\" dir=\"ltr\" href=\"#").Text(anchors.at(v->host));
      h.Tag("\">").Text(v->host).Tag("</a></td>").Cell(Joined(v->outlets, ", "));
      h.Cell(std::to_string(v->flagged_pages)).Cell(ScoreText(v->best_score));
      h.TimeCell(v->first_seen).TimeCell(v->last_seen);
      h.Tag("<td><span class=\"badge ").Text(StatusClass(v->status.status)).Tag("\">");
      h.Text(v->status.status).Tag("</span></td></tr>");
    }
    h.Tag("</tbody></table>");
  }
  h.Tag("</section>");
}

void RenderCert(const std::string& cert_json, HtmlOut& h) {
  const Json cert = ParseStored(cert_json);
  h.Tag("<dt>TLS certificate</dt><dd>");
  if (cert.is_null()) {
    h.Tag("none (plain HTTP)</dd>");
    return;
  }
  if (!cert.is_object()) {
    h.Tag("<code dir=\"auto\">").Text(cert_json).Tag("</code></dd>");
    return;
  }
  h.Tag("<dl>").Tag("<dt>Subject</dt><dd dir=\"auto\">").Text(StringAt(cert, "subject"));
  h.Tag("</dd><dt>Issuer</dt><dd dir=\"auto\">").Text(StringAt(cert, "issuer")).Tag("</dd>");
  h.Tag("<dt>SANs</dt><dd>");
  if (const auto sans = cert.find("sans"); sans != cert.end() && sans->is_array()) {
    for (const Json& san : *sans) {
      h.Tag("<code dir=\"ltr\">").Text(san.is_string() ? san.get<std::string>() : Dump(san));
      h.Tag("</code> ");
    }
  }
  h.Tag("</dd><dt>SHA-256</dt><dd><code>").Text(StringAt(cert, "sha256")).Tag("</code></dd>");
  h.Row("Valid", StringAt(cert, "not_before") + " to " + StringAt(cert, "not_after"));
  h.Tag("</dl></dd>");
}

void RenderWarcRef(const char* what, const WarcRef& ref, HtmlOut& h) {
  h.Tag("<dt>").Text(what).Tag("</dt><dd>");
  if (ref.file.empty()) {
    h.Tag("none</dd>");
    return;
  }
  h.Tag("<code>").Text(ref.file).Tag("</code> offset <code>").Text(std::to_string(ref.offset));
  h.Tag("</code> length <code>").Text(std::to_string(ref.length));
  h.Tag("</code><br>record <code>").Text(ref.record_id).Tag("</code><br>sha256 <code>");
  h.Text(ref.sha256).Tag("</code></dd>");
}

void RenderEvidence(const Evidence& evidence, HtmlOut& h) {
  const Json finding = EvidenceJson(evidence);
  h.Tag("<div class=\"evidence\"><h4>").Text(evidence.outlet).Tag(", score ");
  h.Text(ScoreText(evidence.score));
  if (const auto t = finding.find("threshold"); t != finding.end() && t->is_number()) {
    h.Tag(" (threshold ").Text(ScoreText(t->get<double>())).Tag(")");
  }
  h.Tag(", fetched ").Text(evidence.fetched_at).Tag("</h4><dl><dt>URL</dt><dd>");
  h.Link(evidence.url).Tag("</dd><dt>Final URL</dt><dd>").Link(evidence.final_url);
  h.Tag("</dd><dt>Body sha256</dt><dd><code>").Text(evidence.sha256).Tag("</code></dd>");
  h.Tag("<dt>Signatures sha256</dt><dd><code>").Text(StringAt(finding, "signatures_sha256"));
  h.Tag("</code></dd>");
  RenderWarcRef("WARC response", evidence.warc, h);
  RenderWarcRef("WARC metadata", evidence.metadata, h);
  h.Tag(
      "</dl><table><thead><tr><th>Rule</th><th>Field</th><th>Weight</th><th>Count</th>"
      "<th>Snippet (match highlighted)</th></tr></thead><tbody>");
  for (const Json& rule : finding["rules"]) {
    h.Tag("<tr><td><code>").Text(StringAt(rule, "id")).Tag("</code>");
    if (rule.is_object() && rule.value("experimental", false)) {
      h.Tag(" <span class=\"note\">experimental</span>");
    }
    h.Tag("</td>").Cell(StringAt(rule, "field"));
    const auto number = [&](const char* key) {
      const auto it = rule.is_object() ? rule.find(key) : rule.end();
      return it != rule.end() && it->is_number() ? ScoreText(it->get<double>()) : "";
    };
    h.Cell(number("weight")).Cell(number("count")).Tag("<td>");
    h.Snippet(StringAt(rule, "snippet"), StringAt(rule, "match")).Tag("</td></tr>");
  }
  h.Tag("</tbody></table></div>");
}

void RenderChecks(const HostVerdict& v, HtmlOut& h) {
  h.Tag("<h3>Re-checks</h3>");
  if (v.checks.empty()) {
    h.Tag("<p>Never re-checked.</p>");
    return;
  }
  h.Tag(
      "<table><thead><tr><th>Checked (UTC)</th><th>URL</th><th>HTTP</th><th>Outcome</th>"
      "<th>Detail</th><th>WARC</th></tr></thead><tbody>");
  for (const CheckRecord& check : v.checks) {
    h.Tag("<tr>").TimeCell(check.checked_at).Tag("<td>").Link(check.url).Tag("</td>");
    h.Cell(check.status != 0 ? std::to_string(check.status) : check.error_kind);
    h.Tag("<td><span class=\"badge ").Text(StatusClass(check.outcome)).Tag("\">");
    h.Text(check.outcome).Tag("</span></td><td><code dir=\"auto\">").Text(check.detail_json);
    h.Tag("</code></td><td>");
    if (!check.warc.file.empty()) {
      h.Tag("<code>").Text(check.warc.file).Tag("@").Text(std::to_string(check.warc.offset));
      h.Tag("</code>");
    }
    h.Tag("</td></tr>");
  }
  h.Tag("</tbody></table>");
}

void RenderHost(const HostVerdict& v, const std::string& anchor, HtmlOut& h) {
  h.Tag("<section class=\"host\" id=\"").Text(anchor).Tag("\"><h2 dir=\"ltr\">").Text(v.host);
  h.Tag(" <span class=\"badge ").Text(StatusClass(v.status.status)).Tag("\">");
  h.Text(v.status.status).Tag("</span></h2><dl>");
  h.Row("Outlets", Joined(v.outlets, ", "));
  h.Row("Flagged pages", std::to_string(v.flagged_pages))
      .Row("Best score", ScoreText(v.best_score));
  h.Row("First flagged (UTC)", v.first_seen).Row("Last flagged (UTC)", v.last_seen);
  h.Row("Status", v.status.status + (v.status.since.empty() ? "" : " since " + v.status.since));
  if (!v.status.last_checked.empty()) h.Row("Last checked (UTC)", v.status.last_checked);
  if (v.status.consecutive_gone > 0) {
    h.Row("Checks in a row gone", std::to_string(v.status.consecutive_gone));
  }
  if (const auto to_gone = FirstFlagToGoneSeconds(v)) {
    h.Row("Gone at (UTC)", v.status.gone_at);
    h.Row("Time from first flag to gone", DurationText(*to_gone));
  }
  h.Tag("<dt>IP addresses</dt><dd>");
  for (const std::string& ip : v.ips) h.Tag("<code>").Text(ip).Tag("</code> ");
  h.Tag("</dd><dt>Server header</dt><dd><code dir=\"auto\">")
      .Text(v.server.empty() ? "none" : v.server);
  h.Tag("</code></dd>");
  RenderCert(v.cert_json, h);
  h.Tag("</dl><h3>Discovery path</h3>");
  if (v.discovery_path.empty()) h.Tag("<p>Not recorded.</p>");
  h.Tag("<ol>");
  for (const std::string& url : v.discovery_path) h.Tag("<li>").Link(url).Tag("</li>");
  h.Tag("</ol><h3>Linked from other hosts</h3>");
  if (v.linked_from.empty()) h.Tag("<p>No page on another host linked to it.</p>");
  h.Tag("<ul>");
  for (const std::string& url : v.linked_from) h.Tag("<li>").Link(url).Tag("</li>");
  h.Tag("</ul><h3>Top evidence</h3>");
  for (const Evidence& evidence : v.top_evidence) RenderEvidence(evidence, h);
  RenderChecks(v, h);
  h.Tag("</section>");
}

// The whole page: audit record, overview grouped by outlet, then one section per host.
std::string RenderHtml(const std::string& title, const std::vector<RunRecord>& runs,
                       const std::vector<HostVerdict>& verdicts, const std::string& generated_at) {
  HtmlOut h;
  h.Tag(
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
      "style-src 'unsafe-inline'; img-src data:\">"
      "<meta name=\"referrer\" content=\"no-referrer\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>");
  h.Text(title).Tag("</title><style>").Tag(kStyle).Tag("</style></head><body><header><h1>");
  h.Text(title).Tag("</h1><p>");
  std::set<std::string> cases;
  for (const RunRecord& run : runs) {
    if (!run.case_ref.empty()) cases.insert(run.case_ref);
  }
  h.Tag("Case: <span dir=\"auto\">")
      .Text(cases.empty() ? "(none given)" : Joined({cases.begin(), cases.end()}, ", "));
  h.Tag("</span> &middot; ").Text(std::to_string(verdicts.size()));
  h.Text(verdicts.size() == 1 ? " flagged host" : " flagged hosts").Tag(" &middot; generated ");
  h.Text(generated_at).Tag(" by mirrorwatch ").Text(MW_VERSION);
  h.Tag("</p></header><main>");
  RenderRuns(runs, h);
  const std::map<std::string, std::string> anchors = HostAnchors(verdicts);
  RenderOverview(verdicts, anchors, h);
  for (const HostVerdict& v : verdicts) RenderHost(v, anchors.at(v.host), h);
  h.Tag("</main></body></html>\n");
  return h.Take();
}

// ---- the referral pack ----

// A WARC header field's value in an inflated record; empty when absent.
std::string WarcField(std::string_view record, std::string_view name) {
  const std::string_view head = record.substr(0, record.find("\r\n\r\n"));
  for (std::size_t start = 0; start < head.size();) {
    std::size_t end = head.find("\r\n", start);
    if (end == std::string_view::npos) end = head.size();
    const std::string_view line = head.substr(start, end - start);
    start = end + 2;
    if (line.size() <= name.size() || line[name.size()] != ':') continue;
    bool same = true;
    for (std::size_t i = 0; same && i < name.size(); ++i) {
      same = std::tolower(static_cast<unsigned char>(line[i])) ==
             std::tolower(static_cast<unsigned char>(name[i]));
    }
    if (!same) continue;
    std::string_view value = line.substr(name.size() + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
      value.remove_prefix(1);
    }
    return std::string(value);
  }
  return "";
}

// One record copied into the pack: the gzip member exactly as it is in the crawl's file.
struct CopiedRecord {
  std::string source_file;
  std::uint64_t offset = 0;
  std::string member;  // the gzip bytes
  std::string record_id;
  std::string type;
  std::string warcinfo_id;    // the WARC-Warcinfo-ID it names
  std::string concurrent_to;  // its WARC-Concurrent-To
};

std::string ReadBytes(const std::string& path, std::uint64_t offset, std::uint64_t length,
                      std::string* error) {
  std::ifstream in(path, std::ios::binary);
  std::string bytes(length, '\0');
  in.seekg(static_cast<std::streamoff>(offset));
  in.read(bytes.data(), static_cast<std::streamsize>(length));
  if (!in || static_cast<std::uint64_t>(in.gcount()) != length) {
    *error = "cannot read " + std::to_string(length) + " bytes at offset " +
             std::to_string(offset) + " of " + path;
    return "";
  }
  return bytes;
}

// Reads the member at `offset` of DIR/warc/`file` and checks that it is one whole WARC record
// whose block still matches its Mirrorwatch-Block-Digest (and, when given, that it is
// `record_id`), so that a pack never ships bytes that have changed since the crawl.
std::optional<CopiedRecord> CopyRecord(const fs::path& warc_dir, const std::string& file,
                                       std::uint64_t offset, const std::string& record_id,
                                       std::string* error) {
  if (file.empty() || file.find('/') != std::string::npos || file == "..") {
    *error = "WARC file name '" + file + "' is not a name inside warc/";
    return std::nullopt;
  }
  const std::string path = (warc_dir / file).string();
  const WarcMember read = ReadRecordAt(path, offset);
  if (!read.ok()) {
    *error = read.error;
    return std::nullopt;
  }
  CopiedRecord copy{file,
                    offset,
                    "",
                    WarcField(read.record, "WARC-Record-ID"),
                    WarcField(read.record, "WARC-Type"),
                    WarcField(read.record, "WARC-Warcinfo-ID"),
                    WarcField(read.record, "WARC-Concurrent-To")};
  const std::string where = file + " at offset " + std::to_string(offset);
  if (!record_id.empty() && copy.record_id != record_id) {
    *error = where + " holds " + copy.record_id + ", not " + record_id;
    return std::nullopt;
  }
  const std::size_t head_end = read.record.find("\r\n\r\n");
  const std::string length_field = WarcField(read.record, "Content-Length");
  const std::uint64_t block_length = std::strtoull(length_field.c_str(), nullptr, 10);
  if (head_end == std::string::npos || head_end + 4 + block_length > read.record.size()) {
    *error = where + " is not a whole WARC record";
    return std::nullopt;
  }
  const std::string digest = WarcField(read.record, "Mirrorwatch-Block-Digest");
  if (digest !=
      "sha256:" + Sha256Hex(std::string_view(read.record).substr(head_end + 4, block_length))) {
    *error = where + ": its block does not match its Mirrorwatch-Block-Digest";
    return std::nullopt;
  }
  copy.member = ReadBytes(path, offset, read.length, error);
  if (copy.member.empty()) return std::nullopt;
  return copy;
}

// The request record WarcWriter wrote just before `response`, in the same file. gzip members
// cannot be walked backwards, so this tries each gzip header (1f 8b 08) in the MiB before the
// response, nearest first, and takes the one that is the request the response names and ends
// exactly where the response starts. nullopt when there is none (the pack does without).
std::optional<CopiedRecord> FindRequest(const fs::path& warc_dir, const CopiedRecord& response) {
  constexpr std::uint64_t kWindow = 1 << 20;
  const std::uint64_t start = response.offset > kWindow ? response.offset - kWindow : 0;
  std::string error;
  const std::string before =
      ReadBytes((warc_dir / response.source_file).string(), start, response.offset - start, &error);
  for (std::size_t at = before.size(); at > 0;) {
    at = before.rfind("\x1f\x8b\x08", at - 1);
    if (at == std::string::npos) break;
    std::optional<CopiedRecord> request =
        CopyRecord(warc_dir, response.source_file, start + at, response.concurrent_to, &error);
    if (request && request->type == "request" &&
        start + at + request->member.size() == response.offset) {
      return request;
    }
  }
  return std::nullopt;
}

// The pack's own warcinfo record, as the first gzip member of evidence.warc.gz. Built here
// rather than by WarcWriter, which names its files itself (PREFIX-TIME-SERIAL.warc.gz) and
// would leave WARC-Filename naming a file that is not in the pack.
std::string PackWarcinfo(const std::string& host, const std::string& created_at,
                         const std::vector<std::string>& cases,
                         const std::vector<CopiedRecord>& copies, std::string* error) {
  auto one_line = [](std::string text) {
    for (char& c : text) {
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
    }
    return text;
  };
  std::string info =
      "software: mirrorwatch/" MW_VERSION
      "\r\nformat: WARC File Format 1.1"
      "\r\nconformsTo: http://iipc.github.io/warc-specifications/specifications/warc-format/"
      "warc-1.1/"
      "\r\ndescription: mirrorwatch referral pack. Every record after this one is a byte-exact"
      " copy of a gzip member of the crawl's WARC files (listed below as mirrorwatch-source:"
      " file, offset, length, record id); each crawl file's own warcinfo record is copied"
      " before its records, and states the digest conventions they follow\r\n";
  info += "mirrorwatch-referral-host: " + one_line(host) + "\r\n";
  info += "mirrorwatch-pack-created: " + created_at + "\r\n";
  for (const std::string& case_ref : cases) {
    info += "mirrorwatch-case: " + one_line(case_ref) + "\r\n";
  }
  for (const CopiedRecord& copy : copies) {
    info += "mirrorwatch-source: " + one_line(copy.source_file) + " " +
            std::to_string(copy.offset) + " " + std::to_string(copy.member.size()) + " " +
            one_line(copy.record_id) + "\r\n";
  }
  std::string record_id;
  return WarcinfoMember("evidence.warc.gz", created_at, info, &record_id, error);
}

// Every record the pack holds, in the order it holds them: per crawl file (by name), that
// file's warcinfo, then the host's evidence records from it by offset: each response with the
// request before it, and the metadata records of its findings.
std::optional<std::vector<CopiedRecord>> CollectEvidence(const fs::path& warc_dir,
                                                         const HostVerdict& verdict,
                                                         std::string* error) {
  std::map<std::pair<std::string, std::uint64_t>, CopiedRecord> records;
  auto copy = [&](const WarcRef& ref) {
    if (ref.file.empty() || records.count({ref.file, ref.offset})) return true;
    std::optional<CopiedRecord> record = CopyRecord(
        warc_dir, ref.file, static_cast<std::uint64_t>(ref.offset), ref.record_id, error);
    if (!record) return false;
    if (record->type == "response") {
      if (std::optional<CopiedRecord> request = FindRequest(warc_dir, *record)) {
        records[{request->source_file, request->offset}] = std::move(*request);
      }
    }
    records[{ref.file, ref.offset}] = std::move(*record);
    return true;
  };
  for (const Evidence& evidence : verdict.top_evidence) {
    if (!copy(evidence.warc) || !copy(evidence.metadata)) return std::nullopt;
  }
  std::map<std::string, std::string> warcinfo_of_file;  // the id its records name
  for (const auto& [key, record] : records) warcinfo_of_file[key.first] = record.warcinfo_id;
  for (const auto& [file, warcinfo_id] : warcinfo_of_file) {
    std::string ignored;
    std::optional<CopiedRecord> info = CopyRecord(warc_dir, file, 0, warcinfo_id, &ignored);
    if (info && info->type == "warcinfo") records[{file, 0}] = std::move(*info);
  }
  std::vector<CopiedRecord> ordered;
  for (auto& [key, record] : records) ordered.push_back(std::move(record));
  return ordered;
}

bool WriteFile(const fs::path& path, std::string_view bytes, std::string* error) {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  file.close();
  if (!file) *error = "cannot write " + path.string();
  return static_cast<bool>(file);
}

int WriteReferralPack(Store& store, const fs::path& dir, const ReportArgs& args, std::ostream& out,
                      std::ostream& err) {
  std::string host = args.referral;
  std::transform(host.begin(), host.end(), host.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const std::optional<HostVerdict> verdict = store.Verdict(host);
  if (!verdict) {
    err << "mirrorwatch report: unknown host '" << args.referral << "': it is not flagged in "
        << (dir / "crawl.db").string() << "\n";
    return 2;
  }
  const auto now = std::chrono::system_clock::now();
  const std::string created_at = UtcIso(now);
  std::string error;
  const std::optional<std::vector<CopiedRecord>> copies =
      CollectEvidence(dir / "warc", *verdict, &error);
  if (!copies) {
    err << "mirrorwatch report: the evidence of " << host << " cannot be read: " << error << "\n";
    return 2;
  }
  const std::vector<RunRecord> runs = store.Runs();
  std::vector<std::string> cases;
  for (const RunRecord& run : runs) {
    if (!run.case_ref.empty() &&
        std::find(cases.begin(), cases.end(), run.case_ref) == cases.end()) {
      cases.push_back(run.case_ref);
    }
  }
  std::string warc = PackWarcinfo(host, created_at, cases, *copies, &error);
  if (warc.empty()) {
    err << "mirrorwatch report: " << error << "\n";
    return 2;
  }
  Json records = Json::array();
  for (const CopiedRecord& copy : *copies) {
    records.push_back({{"type", copy.type},
                       {"record_id", copy.record_id},
                       {"source_file", copy.source_file},
                       {"source_offset", copy.offset},
                       {"length", copy.member.size()},
                       {"pack_offset", warc.size()},
                       {"member_sha256", Sha256Hex(copy.member)}});
    warc += copy.member;
  }
  const Json summary = {{"pack",
                         {{"host", host},
                          {"created_at", created_at},
                          {"created_by", "mirrorwatch/" MW_VERSION},
                          {"created_on", HostName()},
                          {"store", fs::absolute(dir / "crawl.db").lexically_normal().string()}}},
                        {"verdict", VerdictJson(*verdict)},
                        {"runs",
                         [&] {
                           Json list = Json::array();
                           for (const RunRecord& run : runs) list.push_back(RunJson(run));
                           return list;
                         }()},
                        {"evidence_records", std::move(records)}};
  const std::map<std::string, std::string> files = {
      {"evidence.warc.gz", std::move(warc)},
      {"report.html", RenderHtml("mirrorwatch referral: " + host, runs, {*verdict}, created_at)},
      {"summary.json", Dump(summary, 2) + "\n"}};

  fs::path pack = args.out;
  if (pack.empty()) {
    std::string name;
    for (unsigned char c : host) name += (std::isalnum(c) || c == '.' || c == '-') ? c : '_';
    pack = dir / "referrals" / (name + "-" + CompactUtc(now));
  }
  std::error_code ec;
  if (pack.has_parent_path()) fs::create_directories(pack.parent_path(), ec);
  if (ec || !fs::create_directory(pack, ec)) {
    err << "mirrorwatch report: " << pack.string()
        << (ec ? ": " + ec.message() : std::string(" already exists: refusing to overwrite it"))
        << "\n";
    return 2;
  }
  std::string manifest;
  for (const auto& [name, bytes] : files) {
    if (!WriteFile(pack / name, bytes, &error)) {
      fs::remove_all(pack, ec);  // no half-written pack that looks whole
      err << "mirrorwatch report: " << error << "\n";
      return 1;
    }
    manifest += Sha256Hex(bytes) + "  " + name + "\n";
  }
  if (!WriteFile(pack / "manifest-sha256.txt", manifest, &error)) {
    fs::remove_all(pack, ec);
    err << "mirrorwatch report: " << error << "\n";
    return 1;
  }
  out << "referral pack for " << host << ": " << pack.string() << "\n"
      << "  " << copies->size() << " WARC records copied from the crawl, "
      << verdict->top_evidence.size() << " pieces of evidence\n"
      << manifest;
  return 0;
}

int WriteReport(Store& store, const ReportArgs& args, std::ostream& out, std::ostream& err) {
  const std::vector<HostVerdict> verdicts = store.Verdicts();
  std::ostringstream text;
  if (args.format == "jsonl") {
    for (const HostVerdict& v : verdicts) text << Dump(VerdictJson(v)) << "\n";
  } else if (args.format == "csv") {
    WriteCsv(verdicts, text);
  } else {
    text << RenderHtml("mirrorwatch report", store.Runs(), verdicts,
                       UtcIso(std::chrono::system_clock::now()));
  }
  if (args.out.empty()) {
    out << text.str();
    return out ? 0 : 1;
  }
  std::string error;
  if (!WriteFile(args.out, text.str(), &error)) {
    err << "mirrorwatch report: " << error << "\n";
    return 1;
  }
  return 0;
}

}  // namespace

int RunReportCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  ReportArgs parsed;
  if (std::string error = ParseReportArgs(args, &parsed); !error.empty()) {
    err << "mirrorwatch report: " << error << "\n" << kUsage;
    return 2;
  }
  if (parsed.help) {
    out << kUsage;
    return 0;
  }
  const fs::path dir = parsed.dir;
  std::error_code ec;
  if (!fs::is_regular_file(dir / "crawl.db", ec)) {
    err << "mirrorwatch report: no crawl.db in " << dir.string() << "\n";
    return 2;
  }
  std::string error;
  std::unique_ptr<Store> store = Store::Open((dir / "crawl.db").string(), &error);
  if (!store) {
    err << "mirrorwatch report: " << error << "\n";
    return 2;
  }
  try {
    return parsed.referral.empty() ? WriteReport(*store, parsed, out, err)
                                   : WriteReferralPack(*store, dir, parsed, out, err);
  } catch (const std::exception& e) {  // std::bad_alloc, a filesystem error
    err << "mirrorwatch report: " << e.what() << "\n";
    return 2;
  }
}

}  // namespace mw
