// Matching throughput: mirrorwatch's SignatureSet against Hyperscan and YARA on the same pages
// and equivalent rules, in one run. See bench/README.md and docs/benchmarks.md.
//
//   match_bench [--benchmark_...] --corpus=DIR     (or MW_BENCH_CORPUS=DIR)
//
// DIR is a dev corpus (python3 ../shared/corpus/generate.py --out DIR --seed 1). Every HTML page
// is decoded (mw::DecodeToUtf8) and extracted (mw::ExtractDocument) once, before timing; the
// Hyperscan/YARA/"pre-normalised" rows also get their text through mw::NormalizeForMatch before
// timing. MB/s always counts the bytes of the extracted field text (the sum of Document::fields
// sizes, all 12 fields) per iteration, per CPU second of the one benchmark thread, so every row
// is measured against the same number whatever it scans.
#include <benchmark/benchmark.h>
#include <re2/re2.h>
#include <re2/set.h>
#include <unicode/utf8.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "parsers/charset.h"
#include "parsers/document.h"
#include "parsers/html.h"
#include "parsers/url.h"
#include "signatures/normalize.h"
#include "signatures/signature_set.h"

#ifdef MW_BENCH_HAVE_HYPERSCAN
#include <hs/hs.h>
#endif
#ifdef MW_BENCH_HAVE_YARA
#include <yara.h>
#endif

namespace {

constexpr std::size_t kFields = mw::kFieldCount;
using FieldTexts = std::array<std::string, kFields>;

// ---------------------------------------------------------------------------------------------
// Pages
// ---------------------------------------------------------------------------------------------

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

bool LooksLikeHtml(std::string_view body) {
  std::string head(body.substr(0, 1024));
  std::transform(head.begin(), head.end(), head.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return head.find("<!doctype html") != std::string::npos ||
         head.find("<html") != std::string::npos;
}

struct Corpus {
  std::vector<mw::Document> docs;
  std::vector<FieldTexts> normalized;  // NormalizeForMatch(field).text, per doc and field
  std::size_t pages_bytes = 0;         // HTML as served
  std::size_t text_bytes = 0;          // sum of Document::fields sizes: the MB/s numerator
  std::array<std::size_t, kFields> field_bytes{};
};

// Every HTML page under DIR/sites, in path order, with the Content-Type the corpus serves it
// with (DIR/charsets.tsv) and its URL (a query /p?q is stored as _q/p/q.html).
Corpus LoadCorpus(const std::filesystem::path& dir) {
  std::map<std::string, std::string> charsets;  // "host\tpath" -> charset ("" = none given)
  {
    std::ifstream in(dir / "charsets.tsv");
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty() || line[0] == '#') continue;
      const std::size_t a = line.find('\t');
      const std::size_t b = line.find('\t', a + 1);
      if (a == std::string::npos || b == std::string::npos) continue;
      charsets[line.substr(0, b)] = line.substr(b + 1);
    }
  }
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir / "sites")) {
    if (entry.is_regular_file()) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  Corpus corpus;
  for (const auto& file : files) {
    const std::string body = ReadFile(file);
    if (!LooksLikeHtml(body)) continue;
    const std::string rel = std::filesystem::relative(file, dir / "sites").generic_string();
    const std::size_t slash = rel.find('/');
    const std::string host = rel.substr(0, slash);
    std::string path = rel.substr(slash);  // "/a/b.html"
    if (path.rfind("/_q/", 0) == 0) {
      const std::size_t last = path.rfind('/');
      std::string query = path.substr(last + 1);
      if (query.size() > 5 && query.ends_with(".html")) query.resize(query.size() - 5);
      path = path.substr(3, last - 3) + "?" + query;
    }
    std::string content_type = "text/html; charset=utf-8";
    if (const auto it = charsets.find(host + "\t" + path); it != charsets.end()) {
      content_type = it->second.empty() ? "text/html" : "text/html; charset=" + it->second;
    }
    const std::optional<mw::Url> url = mw::ParseUrl("http://" + host + path);
    if (!url) continue;
    const mw::DecodedBody decoded = mw::DecodeToUtf8(body, content_type);
    mw::Document doc = mw::ExtractDocument(decoded.utf8, *url);
    corpus.pages_bytes += body.size();
    FieldTexts normalized;
    for (std::size_t f = 0; f < kFields; ++f) {
      corpus.text_bytes += doc.fields[f].size();
      corpus.field_bytes[f] += doc.fields[f].size();
      normalized[f] = mw::NormalizeForMatch(doc.fields[f]).text;
    }
    corpus.docs.push_back(std::move(doc));
    corpus.normalized.push_back(std::move(normalized));
  }
  return corpus;
}

// ---------------------------------------------------------------------------------------------
// Rules: the bench's own reading of a signature file, so each engine gets the same rule
// ---------------------------------------------------------------------------------------------

// The options signature_set.cc compiles with (MatchOptions there); case is handled by "(?i)" in
// each expression, as SignatureSet::RuleInfo::pattern spells it.
RE2::Options MatchOptions() {
  RE2::Options options;
  options.set_encoding(RE2::Options::EncodingUTF8);
  options.set_case_sensitive(true);
  options.set_max_mem(std::int64_t{64} << 20);
  options.set_log_errors(false);
  options.set_longest_match(false);
  return options;
}

constexpr std::string_view kWordBefore = R"((?:^|[^\p{L}\p{N}\p{M}]))";
constexpr std::string_view kWordAfter = R"((?:[^\p{L}\p{N}\p{M}]|$))";

bool IsAscii(char c) { return static_cast<unsigned char>(c) < 0x80; }

// A copy of signature_set.cc's pattern normalisation (AppendClassMember / NormalizePattern),
// which is private there: non-ASCII normalised as page text is, ASCII syntax left alone, spaces
// collapsed outside classes. Checked against SignatureSet::rules() when that is available.
void AppendClassMember(std::string_view pattern, std::size_t* i, std::string* out) {
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(pattern.data());
  const std::size_t start = *i;
  UChar32 c;
  U8_NEXT(bytes, *i, pattern.size(), c);
  if (c < 0) return;
  const std::string normalized = mw::NormalizeForMatch(pattern.substr(start, *i - start)).text;
  std::size_t code_points = 0;
  for (const char byte : normalized) code_points += !U8_IS_TRAIL(static_cast<std::uint8_t>(byte));
  if (code_points > 1) {
    out->append(pattern.substr(start, *i - start));
  } else {
    *out += RE2::QuoteMeta(normalized);
  }
}

std::string NormalizePattern(std::string_view pattern) {
  const std::size_t n = pattern.size();
  std::string out;
  bool in_class = false;
  std::size_t i = 0;
  while (i < n) {
    const char c = pattern[i];
    if (!IsAscii(c)) {
      if (in_class) {
        AppendClassMember(pattern, &i, &out);
      } else {
        std::size_t end = i;
        while (end < n && !IsAscii(pattern[end])) ++end;
        out += RE2::QuoteMeta(mw::NormalizeForMatch(pattern.substr(i, end - i)).text);
        i = end;
      }
    } else if (c == '\\' && i + 1 < n && pattern[i + 1] == 'Q' && !in_class) {
      const std::size_t end = std::min(pattern.find("\\E", i + 2), n);
      out += "\\Q" + mw::NormalizeForMatch(pattern.substr(i + 2, end - (i + 2))).text;
      if (end < n) out += "\\E";
      i = std::min(end + 2, n);
    } else if (c == '\\' && i + 1 < n) {
      std::size_t next = i + 1;
      U8_FWD_1(reinterpret_cast<const std::uint8_t*>(pattern.data()), next, n);
      out += pattern.substr(i, next - i);
      i = next;
    } else if (in_class && c == '[' && i + 1 < n && pattern[i + 1] == ':' &&
               pattern.find(":]", i + 2) != std::string_view::npos) {
      const std::size_t end = pattern.find(":]", i + 2) + 2;
      out += pattern.substr(i, end - i);
      i = end;
    } else if (!in_class && c == '[') {
      in_class = true;
      out += c;
      ++i;
      if (i < n && pattern[i] == '^') out += pattern[i++];
      if (i < n && pattern[i] == ']') out += pattern[i++];
    } else if (!in_class && (c == ' ' || (c >= '\t' && c <= '\r'))) {
      if (out.empty() || out.back() != ' ') out += ' ';
      ++i;
    } else {
      if (in_class && c == ']') in_class = false;
      out += c;
      ++i;
    }
  }
  return out;
}

struct RuleSpec {
  std::string id;
  std::array<bool, kFields> fields{};
  bool is_literal = false;
  std::vector<std::string> literals;  // normalised, when is_literal
  bool word = false;
  bool nocase = true;
  // The RE2 text signature_set.cc compiles: ["(?i)"] [boundary] "(inner)" [boundary].
  std::string expression;
};

std::vector<RuleSpec> ReadRules(const std::string& path) {
  std::vector<RuleSpec> rules;
  const YAML::Node root = YAML::LoadFile(path);
  for (const auto& outlet : root["outlets"]) {
    for (const auto& node : outlet["rules"]) {
      RuleSpec rule;
      rule.id = node["id"].as<std::string>();
      std::vector<std::string> fields;
      if (node["fields"].IsScalar()) {
        fields.push_back(node["fields"].as<std::string>());
      } else {
        fields = node["fields"].as<std::vector<std::string>>();
      }
      for (const std::string& name : fields) {
        if (name == "any") {
          rule.fields.fill(true);
        } else if (const auto field = mw::FieldFromName(name)) {
          rule.fields[static_cast<std::size_t>(*field)] = true;
        }
      }
      rule.word = node["word"] && node["word"].as<bool>();
      rule.nocase = !node["nocase"] || node["nocase"].as<bool>();
      if (node["normalize"] && !node["normalize"].as<bool>()) {
        // Every engine here scans normalised text; a raw-text rule would need a second scan.
        throw std::runtime_error(rule.id + ": 'normalize: false' is not supported by the bench");
      }
      std::string inner;
      if (node["pattern"]) {
        inner = NormalizePattern(node["pattern"].as<std::string>());
      } else {
        rule.is_literal = true;
        std::vector<std::string> literals;
        if (node["literal"].IsScalar()) {
          literals.push_back(node["literal"].as<std::string>());
        } else {
          literals = node["literal"].as<std::vector<std::string>>();
        }
        for (const std::string& text : literals) {
          rule.literals.push_back(mw::NormalizeForMatch(text).text);
          if (!inner.empty()) inner += '|';
          inner += RE2::QuoteMeta(rule.literals.back());
        }
      }
      rule.expression = "(" + inner + ")";
      if (rule.word) {
        rule.expression = std::string(kWordBefore) + rule.expression + std::string(kWordAfter);
      }
      if (rule.nocase) rule.expression = "(?i)" + rule.expression;
      rules.push_back(std::move(rule));
    }
  }
  return rules;
}

// One (doc, field, rule) that an engine reported. Used only outside the timed loops, to check
// that the engines agree.
using Hit = std::tuple<std::size_t, std::size_t, std::size_t>;

// Over the rules the other engine compiled; `lost` counts RE2's hits of the rules it skipped.
struct Agreement {
  std::size_t both = 0, only_re2 = 0, only_other = 0, lost = 0;
};

Agreement Compare(const std::set<Hit>& re2, const std::set<Hit>& other,
                  const std::map<std::size_t, std::string>& skipped) {
  Agreement a;
  for (const Hit& h : re2) {
    if (skipped.count(std::get<2>(h))) {
      ++a.lost;
    } else {
      (other.count(h) ? a.both : a.only_re2) += 1;
    }
  }
  for (const Hit& h : other) a.only_other += !re2.count(h);
  return a;
}

// ---------------------------------------------------------------------------------------------
// RE2 (what SignatureSet runs, rebuilt here from the same patterns so that it can scan
// pre-normalised text: Score() always normalises)
// ---------------------------------------------------------------------------------------------

struct Re2Engine {
  std::array<std::unique_ptr<RE2::Set>, kFields> sets;
  std::array<std::vector<std::size_t>, kFields> ids;  // set index -> rule index
  std::vector<std::unique_ptr<RE2>> singles;          // per rule, for the counting pass

  bool Build(const std::vector<RuleSpec>& rules) {
    for (const RuleSpec& rule : rules) {
      singles.push_back(std::make_unique<RE2>(rule.expression, MatchOptions()));
      if (!singles.back()->ok()) {
        std::fprintf(stderr, "RE2 rejects %s: %s\n", rule.id.c_str(),
                     singles.back()->error().c_str());
        return false;
      }
    }
    for (std::size_t f = 0; f < kFields; ++f) {
      for (std::size_t r = 0; r < rules.size(); ++r) {
        if (!rules[r].fields[f]) continue;
        if (!sets[f]) sets[f] = std::make_unique<RE2::Set>(MatchOptions(), RE2::UNANCHORED);
        if (sets[f]->Add(rules[r].expression, nullptr) < 0) return false;
        ids[f].push_back(r);
      }
      if (sets[f] && !sets[f]->Compile()) return false;
    }
    return true;
  }

  // Which rules fire in one field (the set pass). Appends rule indices.
  void Scan(std::size_t f, std::string_view text, std::vector<int>* matched) const {
    matched->clear();
    RE2::Set::ErrorInfo info{RE2::Set::kNoError};
    if (!sets[f]->Match(text, matched, &info) && info.kind != RE2::Set::kNoError) {
      std::fprintf(stderr, "RE2::Set error %d\n", static_cast<int>(info.kind));
      std::abort();  // out of memory would be a broken measurement, not a result
    }
  }

  // The second pass of Score(): a fired rule's own RE2 counts its matches (up to 100), as
  // DescribeHit does, without the snippet.
  int Count(std::size_t rule, std::string_view text) const {
    const re2::StringPiece piece(text.data(), text.size());
    re2::StringPiece group[2];
    int count = 0;
    std::size_t pos = 0;
    while (count < 100 && pos <= piece.size() &&
           singles[rule]->Match(piece, pos, piece.size(), RE2::UNANCHORED, group, 2)) {
      ++count;
      const auto end = static_cast<std::size_t>(group[1].data() - piece.data()) + group[1].size();
      pos = end > pos ? end : pos + 1;
    }
    return count;
  }
};

// ---------------------------------------------------------------------------------------------
// Hyperscan
// ---------------------------------------------------------------------------------------------

#ifdef MW_BENCH_HAVE_HYPERSCAN
constexpr unsigned kHsFlags = HS_FLAG_UTF8 | HS_FLAG_UCP | HS_FLAG_CASELESS | HS_FLAG_SINGLEMATCH;

struct HsEngine {
  std::array<hs_database_t*, kFields> dbs{};
  std::array<std::vector<std::size_t>, kFields> ids;  // hs id -> rule index
  hs_scratch_t* scratch = nullptr;
  std::map<std::size_t, std::string> skipped;  // rule index -> Hyperscan's reason
  std::size_t without_ucp = 0;
  double compile_seconds = 0;

  HsEngine() = default;
  HsEngine(const HsEngine&) = delete;
  HsEngine& operator=(const HsEngine&) = delete;
  ~HsEngine() {
    for (hs_database_t* db : dbs) hs_free_database(db);
    hs_free_scratch(scratch);
  }

  // RE2's \b \w \d \s are ASCII-only, which is what they mean in Hyperscan WITHOUT
  // HS_FLAG_UCP (and Hyperscan rejects \b under UCP), so the patterns using them are compiled
  // without it; for every other pattern UCP changes nothing.
  static unsigned FlagsFor(const RuleSpec& rule) {
    unsigned flags = rule.nocase ? kHsFlags : kHsFlags & ~HS_FLAG_CASELESS;
    const std::string& expression = rule.expression;
    for (std::size_t i = 0; i + 1 < expression.size(); ++i) {
      if (expression[i] == '\\') {
        if (std::strchr("bBwWdDsS", expression[i + 1]) != nullptr) return flags & ~HS_FLAG_UCP;
        ++i;
      }
    }
    return flags;
  }

  // One database per field. When a field's patterns do not compile together, each is tried
  // alone (once) and those Hyperscan rejects are dropped and counted.
  void Build(const std::vector<RuleSpec>& rules) {
    const auto start = std::chrono::steady_clock::now();
    std::vector<unsigned> flags(rules.size());
    std::vector<bool> tested(rules.size());
    for (std::size_t r = 0; r < rules.size(); ++r) {
      flags[r] = FlagsFor(rules[r]);
      without_ucp += (flags[r] & HS_FLAG_UCP) == 0;
    }
    for (std::size_t f = 0; f < kFields; ++f) {
      for (int attempt = 0;; ++attempt) {
        std::vector<std::size_t> members;
        for (std::size_t r = 0; r < rules.size(); ++r) {
          if (rules[r].fields[f] && !skipped.count(r)) members.push_back(r);
        }
        if (members.empty()) break;
        std::vector<const char*> expressions;
        std::vector<unsigned> member_flags, hs_ids;
        for (std::size_t i = 0; i < members.size(); ++i) {
          expressions.push_back(rules[members[i]].expression.c_str());
          member_flags.push_back(flags[members[i]]);
          hs_ids.push_back(static_cast<unsigned>(i));
        }
        hs_compile_error_t* error = nullptr;
        if (hs_compile_multi(expressions.data(), member_flags.data(), hs_ids.data(),
                             static_cast<unsigned>(members.size()), HS_MODE_BLOCK, nullptr, &dbs[f],
                             &error) == HS_SUCCESS) {
          ids[f] = members;
          if (hs_alloc_scratch(dbs[f], &scratch) != HS_SUCCESS) std::abort();
          break;
        }
        if (attempt > 0) {
          std::fprintf(stderr, "Hyperscan cannot compile field %s: %s\n",
                       std::string(mw::FieldName(static_cast<mw::Field>(f))).c_str(),
                       error->message);
          std::abort();
        }
        hs_free_compile_error(error);
        for (const std::size_t r : members) {
          if (tested[r]) continue;
          tested[r] = true;
          hs_database_t* db = nullptr;
          if (hs_compile(rules[r].expression.c_str(), flags[r], HS_MODE_BLOCK, nullptr, &db,
                         &error) == HS_SUCCESS) {
            hs_free_database(db);
            continue;
          }
          std::string message = error->message;
          if (const std::size_t at = message.find(" at index "); at != std::string::npos) {
            message.resize(at);
          }
          skipped.emplace(r, message);
          hs_free_compile_error(error);
        }
      }
    }
    compile_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }

  struct Matches {
    const std::vector<std::size_t>* ids;
    std::vector<std::size_t>* out;
  };
  static int OnMatch(unsigned id, unsigned long long, unsigned long long, unsigned, void* ctx) {
    auto* m = static_cast<Matches*>(ctx);
    m->out->push_back((*m->ids)[id]);
    return 0;
  }
  void Scan(std::size_t f, std::string_view text, std::vector<std::size_t>* out) const {
    out->clear();
    Matches m{&ids[f], out};
    if (hs_scan(dbs[f], text.data(), static_cast<unsigned>(text.size()), 0, scratch, OnMatch, &m) !=
        HS_SUCCESS) {
      std::abort();
    }
  }
};
#endif

// ---------------------------------------------------------------------------------------------
// YARA
// ---------------------------------------------------------------------------------------------

#ifdef MW_BENCH_HAVE_YARA

void AppendHexBytes(std::string_view bytes, std::string* out) {
  static const char* kHex = "0123456789abcdef";
  for (const char ch : bytes) {
    const auto b = static_cast<unsigned char>(ch);
    *out += "\\x";
    *out += kHex[b >> 4];
    *out += kHex[b & 15];
  }
}

std::string Utf8(UChar32 c) {
  char buf[4];
  std::size_t n = 0;
  bool error = false;
  U8_APPEND(reinterpret_cast<std::uint8_t*>(buf), n, 4, c, error);
  return error ? std::string() : std::string(buf, n);
}

// One non-ASCII character, as YARA (a byte matcher) sees it.
constexpr std::string_view kAnyMultibyte = R"([\xc2-\xf4][\x80-\xbf]{1,3})";

// RE2 -> YARA regex. YARA matches bytes, knows no Unicode classes and has no non-capturing
// groups, so: a non-ASCII character becomes its byte sequence (grouped before a quantifier); '.'
// and negated classes match one whole character; a class with non-ASCII members becomes an
// alternation; \p{L} is [a-z] or any non-ASCII character, \p{N} is [0-9], \p{M} any non-ASCII
// character ("approximate": Arabic punctuation, —, «», © count as letters, so boundaries are
// looser or stricter than RE2's there; a negated class lets every non-ASCII character through).
struct YaraRegex {
  std::string text;
  bool approximate = false;
  std::string error;
};

class YaraTranslator {
 public:
  explicit YaraTranslator(std::string_view re) : re_(re) {}

  YaraRegex Run() {
    while (i_ < re_.size() && out_.error.empty()) Atom();
    return std::move(out_);
  }

 private:
  bool QuantifierNext() const {
    return i_ < re_.size() &&
           (re_[i_] == '?' || re_[i_] == '*' || re_[i_] == '+' || re_[i_] == '{');
  }

  UChar32 NextCodePoint() {
    UChar32 c;
    U8_NEXT(reinterpret_cast<const std::uint8_t*>(re_.data()), i_, re_.size(), c);
    return c;
  }

  void Literal(UChar32 c) {
    std::string& t = out_.text;
    if (c < 0x80) {
      const char ch = static_cast<char>(c);
      if (std::isalnum(static_cast<unsigned char>(ch)) || ch == '_') {
        t += ch;
      } else if (ch == ' ' || ch == '"' || ch == '\'' || c < 0x20) {
        AppendHexBytes(std::string(1, ch), &t);
      } else {
        t += '\\';
        t += ch;
      }
      return;
    }
    const std::string bytes = Utf8(c);
    const bool group = QuantifierNext();
    if (group) t += '(';
    AppendHexBytes(bytes, &t);
    if (group) t += ')';
  }

  // \p{X} outside a class.
  void Property(bool negated, const std::string& name) {
    out_.approximate = true;
    if (name == "L" || name == "M") {
      out_.text += negated ? "[^a-z\\x80-\\xff]" : "([a-z]|" + std::string(kAnyMultibyte) + ")";
    } else if (name == "N") {
      out_.text += negated ? "([^0-9\\x80-\\xff]|" + std::string(kAnyMultibyte) + ")" : "[0-9]";
    } else {
      out_.error = "unsupported property \\p{" + name + "}";
    }
  }

  std::string PropertyName() {
    if (i_ < re_.size() && re_[i_] == '{') {
      const std::size_t end = re_.find('}', i_);
      if (end == std::string_view::npos) return "";
      std::string name(re_.substr(i_ + 1, end - i_ - 1));
      i_ = end + 1;
      return name;
    }
    return i_ < re_.size() ? std::string(1, re_[i_++]) : "";
  }

  // An escape; re_[i_] is just past the backslash. In a class, `members`/`props` collect.
  void Escape() {
    if (i_ >= re_.size()) {
      out_.error = "trailing backslash";
      return;
    }
    const char c = re_[i_];
    if (!IsAscii(c)) {
      Literal(NextCodePoint());
      return;
    }
    ++i_;
    switch (c) {
      case 'p':
      case 'P':
        Property(c == 'P', PropertyName());
        return;
      case 'd':
      case 'D':
      case 's':
      case 'S':
      case 'w':
      case 'W':
      case 'b':
      case 'B':
      case 't':
      case 'n':
      case 'r':
      case 'f':
        out_.text += '\\';
        out_.text += c;
        return;
      case 'A':
        out_.text += '^';
        return;
      case 'z':
        out_.text += '$';
        return;
      case 'x': {
        UChar32 cp = 0;
        if (i_ < re_.size() && re_[i_] == '{') {
          const std::size_t end = re_.find('}', i_);
          cp = static_cast<UChar32>(
              std::strtol(std::string(re_.substr(i_ + 1, end - i_ - 1)).c_str(), nullptr, 16));
          i_ = end + 1;
        } else {
          cp = static_cast<UChar32>(
              std::strtol(std::string(re_.substr(i_, 2)).c_str(), nullptr, 16));
          i_ += 2;
        }
        Literal(cp);
        return;
      }
      case 'Q': {
        const std::size_t end = std::min(re_.find("\\E", i_), re_.size());
        while (i_ < end) Literal(NextCodePoint());
        i_ = std::min(end + 2, re_.size());
        return;
      }
      default:
        if (std::isalnum(static_cast<unsigned char>(c))) {
          out_.error = std::string("unsupported escape \\") + c;
          return;
        }
        Literal(static_cast<unsigned char>(c));
    }
  }

  // A class; re_[i_] is just past '['.
  void Class() {
    bool negated = false;
    if (i_ < re_.size() && re_[i_] == '^') {
      negated = true;
      ++i_;
    }
    std::string ascii;                                // YARA class body, ASCII members only
    std::vector<std::pair<UChar32, UChar32>> ranges;  // non-ASCII members
    bool any_non_ascii = false;                       // \p{L} / \p{M}: every non-ASCII char
    bool first = true;
    auto add_ascii = [&](UChar32 c) {
      const char ch = static_cast<char>(c);
      if (std::strchr("\\]^-[/", ch) != nullptr || ch == ' ' || c < 0x20) {
        if (ch == ' ' || c < 0x20) {
          AppendHexBytes(std::string(1, ch), &ascii);
        } else {
          ascii += '\\';
          ascii += ch;
        }
      } else {
        ascii += ch;
      }
    };
    auto add = [&](UChar32 lo, UChar32 hi) {
      if (hi < 0x80) {
        add_ascii(lo);
        if (hi != lo) {
          ascii += '-';
          add_ascii(hi);
        }
      } else if (lo >= 0x80) {
        ranges.emplace_back(lo, hi);
      } else {
        out_.error = "class range across ASCII";
      }
    };
    while (out_.error.empty()) {
      if (i_ >= re_.size()) {
        out_.error = "unterminated class";
        return;
      }
      if (re_[i_] == ']' && !first) {
        ++i_;
        break;
      }
      first = false;
      UChar32 lo;
      if (re_[i_] == '[' && re_.substr(i_, 2) == "[:") {
        const std::size_t end = re_.find(":]", i_);
        const std::string name(re_.substr(i_ + 2, end - i_ - 2));
        i_ = end + 2;
        if (name == "alpha")
          ascii += "a-zA-Z";
        else if (name == "digit")
          ascii += "0-9";
        else if (name == "alnum")
          ascii += "a-zA-Z0-9";
        else if (name == "space")
          ascii += "\\s";
        else
          out_.error = "unsupported [:" + name + ":]";
        continue;
      }
      if (re_[i_] == '\\') {
        ++i_;
        if (i_ >= re_.size()) {
          out_.error = "trailing backslash";
          return;
        }
        const char c = re_[i_];
        if (c == 'p' || c == 'P') {
          ++i_;
          const std::string name = PropertyName();
          if (c == 'P') {
            out_.error = "\\P in a class";
            return;
          }
          out_.approximate = true;
          if (name == "L") {
            ascii += "a-zA-Z";
            any_non_ascii = true;
          } else if (name == "N") {
            ascii += "0-9";
          } else if (name == "M") {
            any_non_ascii = true;
          } else {
            out_.error = "unsupported property \\p{" + name + "}";
          }
          continue;
        }
        if (std::strchr("dswDSW", c) != nullptr) {
          ascii += '\\';
          ascii += c;
          ++i_;
          continue;
        }
        if (c == 'x') {
          ++i_;
          if (i_ < re_.size() && re_[i_] == '{') {
            const std::size_t end = re_.find('}', i_);
            lo = static_cast<UChar32>(
                std::strtol(std::string(re_.substr(i_ + 1, end - i_ - 1)).c_str(), nullptr, 16));
            i_ = end + 1;
          } else {
            lo = static_cast<UChar32>(
                std::strtol(std::string(re_.substr(i_, 2)).c_str(), nullptr, 16));
            i_ += 2;
          }
        } else if (c == 't' || c == 'n' || c == 'r' || c == 'f') {
          lo = c == 't' ? '\t' : c == 'n' ? '\n' : c == 'r' ? '\r' : '\f';
          ++i_;
        } else if (!IsAscii(c)) {
          lo = NextCodePoint();
        } else if (std::isalnum(static_cast<unsigned char>(c))) {
          out_.error = std::string("unsupported escape \\") + c + " in a class";
          return;
        } else {
          lo = static_cast<unsigned char>(c);
          ++i_;
        }
      } else {
        lo = NextCodePoint();
      }
      UChar32 hi = lo;
      if (i_ + 1 < re_.size() && re_[i_] == '-' && re_[i_ + 1] != ']') {
        ++i_;
        if (re_[i_] == '\\') {
          ++i_;
          hi = IsAscii(re_[i_]) ? static_cast<unsigned char>(re_[i_++]) : NextCodePoint();
        } else {
          hi = NextCodePoint();
        }
      }
      if (lo < 0 || hi < lo) {
        out_.error = "bad class member";
        return;
      }
      add(lo, hi);
    }
    if (!out_.error.empty()) return;
    std::string& t = out_.text;
    if (negated) {
      // One character outside the class: an ASCII byte not listed, or (approximate when the
      // class lists some) any non-ASCII character unless \p{L}/\p{M} excluded them all.
      if (!ranges.empty()) out_.approximate = true;
      if (any_non_ascii) {
        t += "[^" + ascii + "\\x80-\\xff]";
      } else {
        t += "([^" + ascii + "\\x80-\\xff]|" + std::string(kAnyMultibyte) + ")";
      }
      return;
    }
    if (ranges.empty() && !any_non_ascii) {
      t += "[" + ascii + "]";
      return;
    }
    std::vector<std::string> alternatives;
    if (!ascii.empty()) alternatives.push_back("[" + ascii + "]");
    if (any_non_ascii) {
      alternatives.emplace_back(kAnyMultibyte);
    } else {
      for (const auto& [lo, hi] : ranges) {
        if (hi - lo > 255) {
          out_.approximate = true;
          alternatives.emplace_back(kAnyMultibyte);
          continue;
        }
        for (UChar32 c = lo; c <= hi; ++c) {
          std::string bytes;
          AppendHexBytes(Utf8(c), &bytes);
          alternatives.push_back(bytes);
        }
      }
    }
    t += '(';
    for (std::size_t k = 0; k < alternatives.size(); ++k) {
      if (k > 0) t += '|';
      t += alternatives[k];
    }
    t += ')';
  }

  void Atom() {
    const char c = re_[i_];
    const bool after_quantifier = after_quantifier_;
    after_quantifier_ = false;
    if (!IsAscii(c)) {
      Literal(NextCodePoint());
      return;
    }
    ++i_;
    switch (c) {
      case '*':
      case '+':
      case '?':
        // A lazy quantifier: YARA cannot mix lazy and greedy ones, and laziness never changes
        // WHETHER a pattern matches, only where, so it is dropped.
        if (c == '?' && after_quantifier) return;
        out_.text += c;
        after_quantifier_ = true;
        return;
      case '{': {
        const std::size_t end = re_.find('}', i_);
        const std::string_view body =
            end == std::string_view::npos ? std::string_view() : re_.substr(i_, end - i_);
        if (!body.empty() && std::isdigit(static_cast<unsigned char>(body[0])) &&
            body.find_first_not_of("0123456789,") == std::string_view::npos) {
          out_.text += "{" + std::string(body) + "}";
          i_ = end + 1;
          after_quantifier_ = true;
        } else {
          out_.text += "\\{";
        }
        return;
      }
      case '\\':
        Escape();
        return;
      case '[':
        Class();
        return;
      case '.':
        out_.text += "([\\x01-\\x7f]|" + std::string(kAnyMultibyte) + ")";
        return;
      case '/':
        out_.text += "\\/";
        return;
      case ' ':
        out_.text += "\\x20";
        return;
      case '(':
        out_.text += '(';
        if (i_ < re_.size() && re_[i_] == '?') {
          if (re_.substr(i_, 2) == "?:") {
            i_ += 2;
          } else if (re_.substr(i_, 3) == "?P<") {
            i_ = re_.find('>', i_) + 1;
          } else if (re_.substr(i_, 3) == "?i)") {
            out_.text.pop_back();
            i_ += 3;
          } else {
            out_.error = "unsupported group flags";
          }
        }
        return;
      default:
        out_.text += c;
    }
  }

  std::string_view re_;
  std::size_t i_ = 0;
  bool after_quantifier_ = false;
  YaraRegex out_;
};

std::string YaraText(std::string_view text) {
  std::string out = "\"";
  for (const char ch : text) {
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (IsAscii(ch) && ch >= 0x20) {
      out += ch;
    } else {
      AppendHexBytes(std::string(1, ch), &out);
    }
  }
  return out + "\"";
}

// The strings of the YARA rule equivalent to `rule`: text strings `nocase` (and `fullword` for
// whole-word literals: YARA's word test is ASCII-alphanumeric, so an Arabic literal inside a
// longer Arabic word still matches) or one regex `nocase`.
struct YaraStrings {
  std::string strings;
  bool approximate = false;
  std::string error;
};

YaraStrings ToYara(const RuleSpec& rule) {
  YaraStrings y;
  if (rule.is_literal) {
    for (std::size_t k = 0; k < rule.literals.size(); ++k) {
      y.strings += "    $s" + std::to_string(k) + " = " + YaraText(rule.literals[k]) +
                   (rule.nocase ? " nocase" : "") + (rule.word ? " fullword" : "") + "\n";
    }
    y.approximate = rule.word;
    return y;
  }
  YaraRegex re = YaraTranslator(rule.expression).Run();
  y.approximate = re.approximate;
  y.error = re.error;
  y.strings = "    $r = /" + re.text + "/" + (rule.nocase ? " nocase" : "") + "\n";
  return y;
}

std::string YaraRuleSource(std::size_t index, const YaraStrings& y) {
  return "rule r" + std::to_string(index) + " {\n  strings:\n" + y.strings +
         "  condition:\n    any of them\n}\n";
}

struct CompileLog {
  int errors = 0, warnings = 0;
  std::string first_error;
};

void OnCompileMessage(int level, const char*, int, const YR_RULE*, const char* message,
                      void* user) {
  auto* log = static_cast<CompileLog*>(user);
  if (level == YARA_ERROR_LEVEL_ERROR) {
    if (log->errors++ == 0) log->first_error = message;
  } else {
    ++log->warnings;
  }
}

YR_RULES* CompileYara(const std::string& source, CompileLog* log) {
  YR_COMPILER* compiler = nullptr;
  if (yr_compiler_create(&compiler) != ERROR_SUCCESS) std::abort();
  yr_compiler_set_callback(compiler, OnCompileMessage, log);
  YR_RULES* rules = nullptr;
  if (yr_compiler_add_string(compiler, source.c_str(), nullptr) == 0) {
    if (yr_compiler_get_rules(compiler, &rules) != ERROR_SUCCESS) rules = nullptr;
  }
  yr_compiler_destroy(compiler);
  return rules;
}

constexpr int kYaraScanFlags = SCAN_FLAGS_FAST_MODE | SCAN_FLAGS_REPORT_RULES_MATCHING;

struct YaraEngine {
  std::array<YR_RULES*, kFields> rules{};
  std::map<std::size_t, std::string> skipped;  // rule index -> reason
  std::size_t approximate = 0, warnings = 0;
  double compile_seconds = 0;

  YaraEngine() = default;
  YaraEngine(const YaraEngine&) = delete;
  YaraEngine& operator=(const YaraEngine&) = delete;
  ~YaraEngine() {
    for (YR_RULES* r : rules) {
      if (r) yr_rules_destroy(r);
    }
  }

  void Build(const std::vector<RuleSpec>& specs) {
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::string> sources(specs.size());
    for (std::size_t r = 0; r < specs.size(); ++r) {
      const YaraStrings y = ToYara(specs[r]);
      if (!y.error.empty()) {
        skipped.emplace(r, "translation: " + y.error);
        continue;
      }
      sources[r] = YaraRuleSource(r, y);
      CompileLog log;  // each rule alone first, so one bad rule does not sink a field
      YR_RULES* alone = CompileYara(sources[r], &log);
      if (!alone) {
        skipped.emplace(r, log.first_error);
        continue;
      }
      yr_rules_destroy(alone);
      warnings += static_cast<std::size_t>(log.warnings);
      approximate += y.approximate;
    }
    for (std::size_t f = 0; f < kFields; ++f) {
      std::string source;
      for (std::size_t r = 0; r < specs.size(); ++r) {
        if (specs[r].fields[f] && !skipped.count(r)) source += sources[r];
      }
      if (source.empty()) continue;
      CompileLog log;
      rules[f] = CompileYara(source, &log);
      if (!rules[f]) {
        std::fprintf(stderr, "YARA cannot compile field %s: %s\n",
                     std::string(mw::FieldName(static_cast<mw::Field>(f))).c_str(),
                     log.first_error.c_str());
      }
    }
    compile_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }

  static int OnScan(YR_SCAN_CONTEXT*, int message, void* data, void* user) {
    if (message == CALLBACK_MSG_RULE_MATCHING) {
      const auto* rule = static_cast<const YR_RULE*>(data);
      static_cast<std::vector<std::size_t>*>(user)->push_back(
          static_cast<std::size_t>(std::strtoul(rule->identifier + 1, nullptr, 10)));
    }
    return CALLBACK_CONTINUE;
  }

  void Scan(std::size_t f, std::string_view text, std::vector<std::size_t>* out) const {
    out->clear();
    if (yr_rules_scan_mem(rules[f], reinterpret_cast<const std::uint8_t*>(text.data()), text.size(),
                          kYaraScanFlags, OnScan, out, 0) != ERROR_SUCCESS) {
      std::abort();
    }
  }
};

// YARA's lower-level API: one scanner per field, created once and reused for every page.
struct YaraScanners {
  std::array<YR_SCANNER*, kFields> scanners{};
  std::vector<std::size_t>* out = nullptr;

  explicit YaraScanners(const YaraEngine& engine) {
    for (std::size_t f = 0; f < kFields; ++f) {
      if (!engine.rules[f]) continue;
      if (yr_scanner_create(engine.rules[f], &scanners[f]) != ERROR_SUCCESS) std::abort();
      yr_scanner_set_flags(scanners[f], kYaraScanFlags);
      yr_scanner_set_callback(scanners[f], YaraScanners::OnScan, &out);
    }
  }
  YaraScanners(const YaraScanners&) = delete;
  YaraScanners& operator=(const YaraScanners&) = delete;
  ~YaraScanners() {
    for (YR_SCANNER* s : scanners) {
      if (s) yr_scanner_destroy(s);
    }
  }
  static int OnScan(YR_SCAN_CONTEXT* context, int message, void* data, void* user) {
    return YaraEngine::OnScan(context, message, data,
                              *static_cast<std::vector<std::size_t>**>(user));
  }
  void Scan(std::size_t f, std::string_view text, std::vector<std::size_t>* matched) {
    matched->clear();
    out = matched;
    if (yr_scanner_scan_mem(scanners[f], reinterpret_cast<const std::uint8_t*>(text.data()),
                            text.size()) != ERROR_SUCCESS) {
      std::abort();
    }
  }
};
#endif

// ---------------------------------------------------------------------------------------------
// One rule file, loaded for every engine
// ---------------------------------------------------------------------------------------------

struct RuleFile {
  std::string name;
  std::string path;
  std::unique_ptr<mw::SignatureSet> set;
  std::vector<RuleSpec> rules;
  std::array<bool, kFields> used{};  // fields that some rule looks at (Score scans only these)
  Re2Engine re2;
#ifdef MW_BENCH_HAVE_HYPERSCAN
  HsEngine hs;
#endif
#ifdef MW_BENCH_HAVE_YARA
  YaraEngine yara;
#endif
};

std::string Reasons(const std::map<std::size_t, std::string>& skipped,
                    const std::vector<RuleSpec>& rules) {
  std::map<std::string, int> by_reason;
  for (const auto& [r, why] : skipped) ++by_reason[why];
  std::string out;
  for (const auto& [why, n] : by_reason) {
    out += "      " + std::to_string(n) + "x " + why + " (e.g. ";
    for (const auto& [r, w] : skipped) {
      if (w == why) {
        out += rules[r].id;
        break;
      }
    }
    out += ")\n";
  }
  return out;
}

bool g_peers = true;  // --no-peers: mirrorwatch rows only (quick runs, profiling)

std::unique_ptr<RuleFile> LoadRuleFile(const std::string& name, const std::string& path,
                                       const Corpus& corpus) {
  auto file = std::make_unique<RuleFile>();
  file->name = name;
  file->path = path;
  std::vector<mw::SignatureDiagnostic> errors;
  file->set = mw::SignatureSet::LoadFile(path, &errors);
  if (!file->set) {
    for (const auto& e : errors) std::fprintf(stderr, "%s\n", e.ToString().c_str());
    return nullptr;
  }
  try {
    file->rules = ReadRules(path);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", path.c_str(), e.what());
    return nullptr;
  }
  if (file->rules.size() != file->set->rule_count()) {
    std::fprintf(stderr, "%s: the bench read %zu rules, SignatureSet %zu\n", path.c_str(),
                 file->rules.size(), file->set->rule_count());
    return nullptr;
  }
#ifdef MW_BENCH_HAVE_RULES_API
  {
    // The authoritative compiled patterns; the bench's own reading must agree.
    const std::vector<mw::SignatureSet::RuleInfo> infos = file->set->rules();
    std::size_t differ = 0;
    for (std::size_t r = 0; r < infos.size() && r < file->rules.size(); ++r) {
      if (infos[r].pattern != file->rules[r].expression) {
        if (differ++ == 0) {
          std::fprintf(stderr, "  %s: pattern differs from rules(): bench '%s' vs '%s'\n",
                       infos[r].id.c_str(), file->rules[r].expression.c_str(),
                       infos[r].pattern.c_str());
        }
        file->rules[r].expression = infos[r].pattern;
        file->rules[r].nocase = infos[r].pattern.rfind("(?i)", 0) == 0;
      }
    }
    std::fprintf(stderr, "%s: %zu of %zu bench patterns differ from SignatureSet::rules()%s\n",
                 name.c_str(), differ, infos.size(), differ ? " (rules() used)" : "");
  }
#endif
  for (const RuleSpec& rule : file->rules) {
    for (std::size_t f = 0; f < kFields; ++f) file->used[f] = file->used[f] || rule.fields[f];
  }
  if (!file->re2.Build(file->rules)) return nullptr;

  // Agreement checks, untimed: Score() against the bench's RE2 (same rules fire per page?), then
  // every other engine against the bench's RE2 per (page, field, rule).
  std::set<Hit> re2_hits;
  std::size_t score_pages_differ = 0;
  std::vector<int> matched;
  std::map<std::string, std::size_t> index_of;
  for (std::size_t r = 0; r < file->rules.size(); ++r) index_of[file->rules[r].id] = r;
  for (std::size_t d = 0; d < corpus.docs.size(); ++d) {
    std::set<std::size_t> fired;
    for (std::size_t f = 0; f < kFields; ++f) {
      if (!file->used[f] || corpus.normalized[d][f].empty()) continue;
      file->re2.Scan(f, corpus.normalized[d][f], &matched);
      for (const int m : matched) {
        const std::size_t r = file->re2.ids[f][static_cast<std::size_t>(m)];
        re2_hits.emplace(d, f, r);
        fired.insert(r);
      }
    }
    std::set<std::size_t> scored;
    for (const mw::OutletScore& score : file->set->Score(corpus.docs[d])) {
      for (const mw::RuleHit& hit : score.hits) scored.insert(index_of[hit.rule_id]);
    }
    score_pages_differ += fired != scored;
  }
  std::fprintf(stderr,
               "%s (%s): %zu rules; %zu (page, field, rule) hits in the corpus; Score() and the "
               "bench's RE2 disagree on %zu of %zu pages\n",
               name.c_str(), path.c_str(), file->rules.size(), re2_hits.size(), score_pages_differ,
               corpus.docs.size());

  if (!g_peers) return file;
#ifdef MW_BENCH_HAVE_HYPERSCAN
  file->hs.Build(file->rules);
  {
    std::set<Hit> hits;
    std::vector<std::size_t> out;
    for (std::size_t d = 0; d < corpus.docs.size(); ++d) {
      for (std::size_t f = 0; f < kFields; ++f) {
        if (!file->hs.dbs[f] || corpus.normalized[d][f].empty()) continue;
        file->hs.Scan(f, corpus.normalized[d][f], &out);
        for (const std::size_t r : out) hits.emplace(d, f, r);
      }
    }
    const Agreement a = Compare(re2_hits, hits, file->hs.skipped);
    std::fprintf(stderr,
                 "  hyperscan: compiled %zu of %zu rules in %.1f s (%zu skipped, %zu without UCP); "
                 "hits of the compiled rules: %zu as RE2, %zu only RE2, %zu only Hyperscan; "
                 "%zu RE2 hits lost with the skipped rules\n%s",
                 file->rules.size() - file->hs.skipped.size(), file->rules.size(),
                 file->hs.compile_seconds, file->hs.skipped.size(), file->hs.without_ucp, a.both,
                 a.only_re2, a.only_other, a.lost, Reasons(file->hs.skipped, file->rules).c_str());
  }
#else
  std::fprintf(stderr, "  hyperscan: not built (Debian: libhyperscan-dev)\n");
#endif
#ifdef MW_BENCH_HAVE_YARA
  file->yara.Build(file->rules);
  {
    std::set<Hit> hits;
    std::vector<std::size_t> out;
    for (std::size_t d = 0; d < corpus.docs.size(); ++d) {
      for (std::size_t f = 0; f < kFields; ++f) {
        if (!file->yara.rules[f] || corpus.normalized[d][f].empty()) continue;
        file->yara.Scan(f, corpus.normalized[d][f], &out);
        for (const std::size_t r : out) hits.emplace(d, f, r);
      }
    }
    const Agreement a = Compare(re2_hits, hits, file->yara.skipped);
    std::fprintf(
        stderr,
        "  yara: compiled %zu of %zu rules in %.1f s (%zu skipped, %zu approximate, "
        "%zu compiler warnings); hits of the compiled rules: %zu as RE2, %zu only RE2, %zu "
        "only YARA; %zu RE2 hits lost with the skipped rules\n%s",
        file->rules.size() - file->yara.skipped.size(), file->rules.size(),
        file->yara.compile_seconds, file->yara.skipped.size(), file->yara.approximate,
        file->yara.warnings, a.both, a.only_re2, a.only_other, a.lost,
        Reasons(file->yara.skipped, file->rules).c_str());
  }
#else
  std::fprintf(stderr, "  yara: not built (Debian: libyara-dev)\n");
#endif
  return file;
}

// ---------------------------------------------------------------------------------------------
// Benchmarks
// ---------------------------------------------------------------------------------------------

void Account(benchmark::State& state, const Corpus& corpus, std::size_t hits) {
  const auto bytes = static_cast<double>(corpus.text_bytes);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * corpus.text_bytes));
  state.counters["MB/s"] = benchmark::Counter(bytes * static_cast<double>(state.iterations()) / 1e6,
                                              benchmark::Counter::kIsRate);
  state.counters["hits"] =
      benchmark::Counter(static_cast<double>(hits), benchmark::Counter::kAvgIterations);
}

void Register(const std::string& name, std::function<void(benchmark::State&)> fn) {
  benchmark::RegisterBenchmark(name.c_str(), std::move(fn))->Unit(benchmark::kMillisecond);
}

void RegisterAll(const Corpus& corpus, const RuleFile& file) {
  const Corpus* c = &corpus;
  const RuleFile* rf = &file;
  const std::string prefix = file.name + "/";

  // The product: what the crawler calls per page (normalise, RE2::Set, per-rule RE2 for the
  // rules that fired, snippets, scoring).
  Register(prefix + "mirrorwatch_Score/norm+match", [c, rf](benchmark::State& state) {
    std::size_t hits = 0;
    for (auto _ : state) {
      for (const mw::Document& doc : c->docs) {
        for (const mw::OutletScore& s : rf->set->Score(doc)) hits += s.hits.size();
      }
    }
    Account(state, *c, hits);
  });
  // Normalisation alone, of the fields Score() scans.
  Register(prefix + "NormalizeForMatch/norm", [c, rf](benchmark::State& state) {
    for (auto _ : state) {
      for (const mw::Document& doc : c->docs) {
        for (std::size_t f = 0; f < kFields; ++f) {
          if (!rf->used[f] || doc.fields[f].empty()) continue;
          const mw::NormalizedText n = mw::NormalizeForMatch(doc.fields[f]);
          benchmark::DoNotOptimize(n.text.data());
        }
      }
    }
    Account(state, *c, 0);
  });
  // Score()'s matching without its normalisation: the same RE2::Set per field on pre-normalised
  // text, then each fired rule's own RE2 counting its matches once per page.
  Register(prefix + "mirrorwatch_RE2_set+count/match", [c, rf](benchmark::State& state) {
    std::size_t hits = 0;
    std::vector<int> matched;
    std::vector<char> seen(rf->rules.size());
    for (auto _ : state) {
      for (std::size_t d = 0; d < c->docs.size(); ++d) {
        std::fill(seen.begin(), seen.end(), 0);
        for (std::size_t f = 0; f < kFields; ++f) {
          const std::string& text = c->normalized[d][f];
          if (!rf->used[f] || text.empty()) continue;
          rf->re2.Scan(f, text, &matched);
          for (const int m : matched) {
            const std::size_t r = rf->re2.ids[f][static_cast<std::size_t>(m)];
            if (seen[r]) continue;
            seen[r] = 1;
            hits += rf->re2.Count(r, text) > 0;
          }
        }
      }
    }
    Account(state, *c, hits);
  });
  // The set pass alone (which rules fire per field): the same question Hyperscan and YARA
  // answer below.
  Register(prefix + "mirrorwatch_RE2_set/match", [c, rf](benchmark::State& state) {
    std::size_t hits = 0;
    std::vector<int> matched;
    for (auto _ : state) {
      for (std::size_t d = 0; d < c->docs.size(); ++d) {
        for (std::size_t f = 0; f < kFields; ++f) {
          const std::string& text = c->normalized[d][f];
          if (!rf->used[f] || text.empty()) continue;
          rf->re2.Scan(f, text, &matched);
          hits += matched.size();
        }
      }
    }
    Account(state, *c, hits);
  });
  if (!g_peers) return;
#ifdef MW_BENCH_HAVE_HYPERSCAN
  for (const bool normalise : {false, true}) {
    Register(prefix + (normalise ? "hyperscan/norm+match" : "hyperscan/match"),
             [c, rf, normalise](benchmark::State& state) {
               std::size_t hits = 0;
               std::vector<std::size_t> out;
               for (auto _ : state) {
                 for (std::size_t d = 0; d < c->docs.size(); ++d) {
                   for (std::size_t f = 0; f < kFields; ++f) {
                     if (!rf->hs.dbs[f] || c->docs[d].fields[f].empty()) continue;
                     if (normalise) {
                       const mw::NormalizedText n = mw::NormalizeForMatch(c->docs[d].fields[f]);
                       rf->hs.Scan(f, n.text, &out);
                     } else {
                       rf->hs.Scan(f, c->normalized[d][f], &out);
                     }
                     hits += out.size();
                   }
                 }
               }
               Account(state, *c, hits);
             });
  }
#endif
#ifdef MW_BENCH_HAVE_YARA
  for (const bool normalise : {false, true}) {
    Register(prefix + (normalise ? "yara_scan_mem/norm+match" : "yara_scan_mem/match"),
             [c, rf, normalise](benchmark::State& state) {
               std::size_t hits = 0;
               std::vector<std::size_t> out;
               for (auto _ : state) {
                 for (std::size_t d = 0; d < c->docs.size(); ++d) {
                   for (std::size_t f = 0; f < kFields; ++f) {
                     if (!rf->yara.rules[f] || c->docs[d].fields[f].empty()) continue;
                     if (normalise) {
                       const mw::NormalizedText n = mw::NormalizeForMatch(c->docs[d].fields[f]);
                       rf->yara.Scan(f, n.text, &out);
                     } else {
                       rf->yara.Scan(f, c->normalized[d][f], &out);
                     }
                     hits += out.size();
                   }
                 }
               }
               Account(state, *c, hits);
             });
  }
  Register(prefix + "yara_scanner_reused/match", [c, rf](benchmark::State& state) {
    std::size_t hits = 0;
    std::vector<std::size_t> out;
    YaraScanners scanners(rf->yara);
    for (auto _ : state) {
      for (std::size_t d = 0; d < c->docs.size(); ++d) {
        for (std::size_t f = 0; f < kFields; ++f) {
          if (!scanners.scanners[f] || c->normalized[d][f].empty()) continue;
          scanners.Scan(f, c->normalized[d][f], &out);
          hits += out.size();
        }
      }
    }
    Account(state, *c, hits);
  });
#endif
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  std::string corpus_dir;
  if (const char* env = std::getenv("MW_BENCH_CORPUS")) corpus_dir = env;
  std::string stock = MW_BENCH_STOCK_RULES, generated = MW_BENCH_GEN_RULES;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg.rfind("--corpus=", 0) == 0) {
      corpus_dir = arg.substr(9);
    } else if (arg.rfind("--stock-rules=", 0) == 0) {
      stock = arg.substr(14);
    } else if (arg.rfind("--gen-rules=", 0) == 0) {
      generated = arg.substr(12);
    } else if (arg == "--no-peers") {
      g_peers = false;
    } else {
      std::fprintf(stderr, "unknown argument %s\n", argv[i]);
      return 2;
    }
  }
  if (corpus_dir.empty() || !std::filesystem::is_directory(corpus_dir + "/sites")) {
    std::fprintf(stderr,
                 "usage: match_bench [--benchmark_...] --corpus=DIR [--stock-rules=FILE] "
                 "[--gen-rules=FILE] [--no-peers]\n  (or MW_BENCH_CORPUS=DIR); DIR from "
                 "python3 ../shared/corpus/generate.py --out DIR --seed 1\n");
    return 2;
  }
#ifdef MW_BENCH_HAVE_YARA
  if (yr_initialize() != ERROR_SUCCESS) return 1;
#endif
  const Corpus corpus = LoadCorpus(corpus_dir);
  std::fprintf(
      stderr,
      "corpus %s: %zu HTML pages, %.1f MB of HTML, %.2f MB of extracted field "
      "text (the MB/s unit) of which body %.2f MB\n",
      corpus_dir.c_str(), corpus.docs.size(), static_cast<double>(corpus.pages_bytes) / 1e6,
      static_cast<double>(corpus.text_bytes) / 1e6,
      static_cast<double>(corpus.field_bytes[static_cast<std::size_t>(mw::Field::kBody)]) / 1e6);
  std::vector<std::unique_ptr<RuleFile>> files;
  for (const auto& [name, path] : {std::pair<std::string, std::string>{"stock", stock},
                                   std::pair<std::string, std::string>{"gen2000", generated}}) {
    auto file = LoadRuleFile(name, path, corpus);
    if (!file) return 1;
    std::size_t scanned = 0;
    for (std::size_t f = 0; f < kFields; ++f) scanned += file->used[f] ? corpus.field_bytes[f] : 0;
    std::fprintf(stderr, "  %s: rules look at %.2f MB of the %.2f MB\n", name.c_str(),
                 static_cast<double>(scanned) / 1e6, static_cast<double>(corpus.text_bytes) / 1e6);
    RegisterAll(corpus, *file);
    files.push_back(std::move(file));
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  files.clear();
#ifdef MW_BENCH_HAVE_YARA
  yr_finalize();
#endif
  return 0;
}
