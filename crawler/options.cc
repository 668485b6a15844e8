#include "crawler/options.h"

#include <charconv>
#include <sstream>

namespace mw {
namespace {

template <typename Int>
std::string ParseInt(std::string_view text, Int min, Int* out) {
  Int value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return "not a whole number";
  if (value < min) return "must be at least " + std::to_string(min);
  *out = value;
  return "";
}

// Sizes accept a K/M/G suffix (powers of 1024).
std::string ParseSize(std::string_view text, std::int64_t* out) {
  std::int64_t scale = 1;
  if (!text.empty()) {
    switch (text.back()) {
      case 'k': case 'K': scale = 1 << 10; break;
      case 'm': case 'M': scale = 1 << 20; break;
      case 'g': case 'G': scale = 1 << 30; break;
      default: break;
    }
    if (scale != 1) text.remove_suffix(1);
  }
  std::int64_t value = 0;
  std::string error = ParseInt<std::int64_t>(text, 1, &value);
  if (error.empty()) *out = value * scale;
  return error;
}

std::string Join(const std::vector<std::string>& values) {
  std::string out;
  for (const std::string& v : values) out += (out.empty() ? "" : ", ") + v;
  return out.empty() ? "none" : out;
}

// Field accessors for the table: each option names its member once.
template <typename Int>
OptionSpec IntOption(std::string_view name, std::string_view help, Int CrawlOptions::*member,
                     Int min) {
  return {name, "N", help,
          [member, min](CrawlOptions& o, std::string_view v) {
            return ParseInt<Int>(v, min, &(o.*member));
          },
          [member](const CrawlOptions& o) { return std::to_string(o.*member); }};
}

OptionSpec StringOption(std::string_view name, std::string_view value, std::string_view help,
                        std::string CrawlOptions::*member) {
  return {name, value, help,
          [member](CrawlOptions& o, std::string_view v) {
            o.*member = std::string(v);
            return std::string();
          },
          [member](const CrawlOptions& o) {
            return (o.*member).empty() ? std::string("none") : o.*member;
          }};
}

OptionSpec ListOption(std::string_view name, std::string_view value, std::string_view help,
                      std::vector<std::string> CrawlOptions::*member) {
  return {name, value, help,
          [member](CrawlOptions& o, std::string_view v) {
            (o.*member).emplace_back(v);
            return std::string();
          },
          [member](const CrawlOptions& o) { return Join(o.*member); }, true};
}

std::vector<OptionSpec> MakeSpecs() {
  std::vector<OptionSpec> specs;
  specs.push_back(StringOption("seeds", "FILE",
                               "read seed URLs from FILE, one per line ('#' comments)",
                               &CrawlOptions::seeds_file));
  specs.push_back(StringOption("out", "DIR", "write findings.jsonl and pages.jsonl to DIR",
                               &CrawlOptions::out_dir));
  specs.push_back(StringOption("signatures", "FILE",
                               "signature file (none = the stock signatures/rules/outlets.yaml)",
                               &CrawlOptions::signatures));
  specs.push_back(ListOption(
      "connect-to", "HOST:PORT:CHOST:CPORT",
      "connect to CHOST:CPORT instead of HOST:PORT, as curl does; '::127.0.0.1:8080' maps "
      "every host; repeatable",
      &CrawlOptions::connect_to));
  specs.push_back(ListOption("header", "'NAME: VALUE'", "extra request header; repeatable",
                             &CrawlOptions::headers));
  specs.push_back(StringOption("user-agent", "TEXT", "User-Agent request header",
                               &CrawlOptions::user_agent));
  specs.push_back(IntOption<std::int64_t>("max-pages", "stop after fetching N URLs",
                                          &CrawlOptions::max_pages, 1));
  specs.push_back(IntOption<int>("max-depth", "follow links at most N hops from a seed",
                                 &CrawlOptions::max_depth, 0));
  specs.push_back(StringOption(
      "scope", "SCOPE",
      "which hosts to follow links to: 'any', 'same-host' (the seeds' hosts) or a host regex",
      &CrawlOptions::scope));
  specs.push_back(StringOption(
      "accept", "REGEX",
      "follow only links whose normalised URL matches REGEX (RE2, unanchored); seeds always",
      &CrawlOptions::accept));
  specs.push_back(StringOption("reject", "REGEX",
                               "never follow links whose normalised URL matches REGEX (RE2)",
                               &CrawlOptions::reject));
  specs.push_back(IntOption<int>("concurrency", "transfers in flight at most, in total",
                                 &CrawlOptions::concurrency, 1));
  specs.push_back(IntOption<int>("per-host", "transfers in flight at most, per host",
                                 &CrawlOptions::per_host, 1));
  specs.push_back(IntOption<int>("workers", "parse/match threads (0 = one per core)",
                                 &CrawlOptions::workers, 0));
  specs.push_back(IntOption<long>("connect-timeout-ms", "give up connecting after N ms",
                                  &CrawlOptions::connect_timeout_ms, 1));
  specs.push_back(IntOption<long>("timeout-ms", "give up a transfer after N ms in all",
                                  &CrawlOptions::timeout_ms, 1));
  specs.push_back({"max-body", "BYTES",
                   "largest (decoded) body kept; a larger one fails (K/M/G suffixes)",
                   [](CrawlOptions& o, std::string_view v) { return ParseSize(v, &o.max_body); },
                   [](const CrawlOptions& o) { return std::to_string(o.max_body); }});
  specs.push_back(IntOption<long>("max-redirects", "follow at most N redirects per URL",
                                  &CrawlOptions::max_redirects, 0));
  specs.push_back({"progress", "auto|always|never",
                   "live progress line on stdout (auto: only when stdout is a terminal)",
                   [](CrawlOptions& o, std::string_view v) {
                     if (v != "auto" && v != "always" && v != "never") {
                       return std::string("must be auto, always or never");
                     }
                     o.progress = std::string(v);
                     return std::string();
                   },
                   [](const CrawlOptions& o) { return o.progress; }});
  return specs;
}

}  // namespace

const std::vector<OptionSpec>& CrawlOptionSpecs() {
  static const std::vector<OptionSpec> specs = MakeSpecs();
  return specs;
}

std::string ParseCrawlArgs(const std::vector<std::string>& args, CrawlOptions* options,
                           HelpRequest* help) {
  *help = HelpRequest::kNone;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (arg == "--help" || arg == "-h") {
      *help = HelpRequest::kText;
      continue;
    }
    if (arg == "--help-markdown") {
      *help = HelpRequest::kMarkdown;
      continue;
    }
    if (arg.substr(0, 2) != "--") {
      options->seeds.emplace_back(arg);
      continue;
    }
    std::string_view name = arg.substr(2);
    std::string_view value;
    bool has_value = false;
    if (auto eq = name.find('='); eq != std::string_view::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    const OptionSpec* spec = nullptr;
    for (const OptionSpec& s : CrawlOptionSpecs()) {
      if (s.name == name) spec = &s;
    }
    if (spec == nullptr) return "unknown option --" + std::string(name);
    if (!has_value) {
      if (i + 1 >= args.size()) return "--" + std::string(name) + " needs a value";
      value = args[++i];
    }
    std::string error = spec->set(*options, value);
    if (!error.empty()) {
      return "--" + std::string(name) + " " + std::string(value) + ": " + error;
    }
  }
  return "";
}

std::string CrawlHelp() {
  std::ostringstream out;
  const CrawlOptions defaults;
  out << "usage: mirrorwatch crawl [OPTIONS] [SEED-URL...]\n\n"
         "Crawls from the seed URLs, scores every HTML page against the signature file and\n"
         "writes DIR/findings.jsonl (flagged pages) and DIR/pages.jsonl (every URL fetched).\n\n"
         "options:\n";
  for (const OptionSpec& spec : CrawlOptionSpecs()) {
    std::string head = "  --" + std::string(spec.name);
    if (!spec.value.empty()) head += " " + std::string(spec.value);
    out << head << "\n      " << spec.help << " (default: " << spec.show(defaults) << ")\n";
  }
  out << "  --help\n      this text\n";
  return out.str();
}

std::string CrawlOptionsMarkdown() {
  std::ostringstream out;
  const CrawlOptions defaults;
  out << "| option | default | what it does |\n|---|---|---|\n";
  for (const OptionSpec& spec : CrawlOptionSpecs()) {
    auto cell = [](std::string text) {
      for (std::size_t at = 0; (at = text.find('|', at)) != std::string::npos; at += 2) {
        text.replace(at, 1, "\\|");
      }
      return text;
    };
    std::string name = "--" + std::string(spec.name);
    if (!spec.value.empty()) name += " " + std::string(spec.value);
    out << "| `" << cell(name) << "` | `" << cell(spec.show(defaults)) << "` | "
        << cell(std::string(spec.help)) << " |\n";
  }
  return out.str();
}

}  // namespace mw
