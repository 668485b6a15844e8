#include "signatures/signature_set.h"

#include <openssl/evp.h>
#include <re2/re2.h>
#include <re2/set.h>
#include <unicode/uchar.h>
#include <unicode/utf8.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <tuple>
#include <utility>

#include "signatures/normalize.h"

namespace mw {
namespace {

// At RE2's default 8 MB the DFA cache of a 2,000-rule set resets silently on Arabic text and the
// scan rate falls ~12x; 64 MB is ample for 2,000 rules. It is a cap, not an allocation, so the
// single-rule RE2s get the same budget.
constexpr std::int64_t kMaxMem = std::int64_t{64} << 20;
constexpr int kMaxCountedMatches = 100;  // a rule's count stops here
constexpr int kSnippetContext = 40;      // code points of original text either side of a match
constexpr int kSnippetMaxMatch = 160;    // code points of a long match shown before cutting
// Absorbs rounding so decimal weights that add up to the threshold on paper reach it.
constexpr double kScoreEpsilon = 1e-9;

// Word boundaries from Unicode classes: RE2's \b only knows ASCII. Marks count as part of a
// word so a combining accent never splits one.
constexpr std::string_view kWordBefore = R"((?:^|[^\p{L}\p{N}\p{M}]))";
constexpr std::string_view kWordAfter = R"((?:[^\p{L}\p{N}\p{M}]|$))";
// A character class with no members: stands in for a character the text can never contain when
// checking whether a rule can fire at all.
constexpr std::string_view kNeverMatches = R"([^\x00-\x{10FFFF}])";

// Case-sensitive: a rule that ignores case carries "(?i)" in its expression, so the rules of a
// set can differ and each expression means the same on its own (RuleInfo::pattern).
RE2::Options MatchOptions() {
  RE2::Options options;
  options.set_encoding(RE2::Options::EncodingUTF8);
  options.set_case_sensitive(true);
  options.set_max_mem(kMaxMem);
  options.set_log_errors(false);
  options.set_longest_match(false);
  return options;
}

// Where a diagnostic points.
struct Position {
  std::string file;
  int line = 0;
  int column = 0;
};

struct Rule {
  std::string id;
  std::string outlet;  // the outlet's id
  Position position;   // of the rule's mapping
  Position source;     // of its pattern or literal
  std::string description;
  std::string author;
  std::string reference;
  std::string created;
  std::array<bool, kFieldCount> fields{};
  double weight = 0;
  std::vector<std::string> tags;
  bool experimental = false;
  bool normalize = true;
  bool nocase = true;
  bool word = false;
  int min_count = 1;
  std::size_t outlet_index = 0;  // into Signatures::outlets, set once outlets are known
  // The rule's full expression; capture group 1 is the rule's own match (without the word
  // boundary characters). Used only for the rules a set reports, to count and place matches.
  // Null when the rule has an error (the load fails then).
  std::unique_ptr<RE2> re;

  bool positive_stable() const { return weight > 0 && !experimental; }
  bool has_name(std::string_view name) const {
    return id == name || std::find(tags.begin(), tags.end(), name) != tags.end();
  }
};

// One condition of an outlet: at least one of `rules` must fire (as a stable rule). `require: [a,
// b]` makes two of them, `require_any: [a, b]` one, `any_of: [[a, b], [c]]` one per group.
struct ConditionGroup {
  std::string key;  // "require", "require_any" or "any_of"
  std::vector<std::string> names;
  std::vector<Position> name_positions;  // where each name is written
  std::vector<std::size_t> rules;        // the rules whose id or tag is in `names`
  Position position;
};

struct Outlet {
  std::string id;
  std::string name;
  std::vector<std::string> aliases;
  double threshold = 0;
  int min_rules = 0;
  std::vector<ConditionGroup> conditions;
  Position position;               // of its id
  std::vector<std::size_t> rules;  // indices into Signatures::rules, file order
};

struct FieldMatcher {
  std::unique_ptr<RE2::Set> set;   // null when no rule looks at this field
  std::vector<std::size_t> rules;  // set index -> index into Signatures::rules
};

// Loaded files, compiled; immutable once loaded.
struct Signatures {
  std::vector<Outlet> outlets;
  std::vector<Rule> rules;
  std::array<FieldMatcher, kFieldCount> normalized;  // rules matched against normalised text
  std::array<FieldMatcher, kFieldCount> raw;         // rules with normalize: false
  std::string sha256;
};

}  // namespace

struct SignatureSet::Impl {
  Signatures signatures;
  // Scans where a set's DFA ran out of memory and the field was re-scanned rule by rule.
  mutable std::atomic<std::uint64_t> set_fallbacks{0};
};

std::string SignatureDiagnostic::ToString() const {
  std::string out = file;
  if (line > 0) {
    out += ":" + std::to_string(line);
    if (column > 0) out += ":" + std::to_string(column);
  }
  return out + (warning ? ": warning: " : ": error: ") + message;
}

namespace {

bool IsAscii(char c) { return static_cast<unsigned char>(c) < 0x80; }

std::string Utf8(UChar32 c) {
  char buf[U8_MAX_LENGTH];
  std::size_t len = 0;
  U8_APPEND_UNSAFE(buf, len, c);
  return std::string(buf, len);
}

// "U+0640 ARABIC TATWEEL".
std::string DescribeCodePoint(UChar32 c) {
  char hex[16];
  std::snprintf(hex, sizeof hex, "U+%04X", static_cast<unsigned>(c));
  char name[128];
  UErrorCode status = U_ZERO_ERROR;
  const int32_t length = u_charName(c, U_UNICODE_CHAR_NAME, name, sizeof name, &status);
  if (U_FAILURE(status) || length <= 0) return hex;
  return std::string(hex) + " " + std::string(name, static_cast<std::size_t>(length));
}

// Numbers in messages as written in files: 10, 2.5, -0.5.
std::string FormatNumber(double value) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", value);
  return buf;
}

// Appends one non-ASCII member of a character class at pattern[*i], normalised, and advances
// *i past it. A class member must stay one character: one that normalises to nothing (tatweel,
// tashkeel) is removed; one that normalises to several (a ligature) can never occur in
// normalised text, so it is kept as written rather than spilling extra members into the class.
void AppendClassMember(std::string_view pattern, std::size_t* i, std::string* out) {
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(pattern.data());
  const std::size_t start = *i;
  UChar32 c;
  U8_NEXT(bytes, *i, pattern.size(), c);
  if (c < 0) return;
  const std::string normalized = NormalizeForMatch(pattern.substr(start, *i - start)).text;
  std::size_t code_points = 0;
  for (const char byte : normalized) code_points += !U8_IS_TRAIL(static_cast<std::uint8_t>(byte));
  if (code_points > 1) {
    out->append(pattern.substr(start, *i - start));
  } else {
    *out += RE2::QuoteMeta(normalized);  // fullwidth ］ normalises to a ']' that must stay literal
  }
}

// Normalises the non-ASCII characters of a pattern the way page text is normalised; its ASCII
// carries the regex syntax and is left alone (matching ignores case unless `nocase: false`)
// except that whitespace runs outside classes become one space, as on pages. Tracks escapes,
// \Q...\E and character classes so that normalising never changes the pattern's structure.
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
        // A run at once, so whitespace collapses across its characters as it does on pages;
        // quoted, since fullwidth （ normalises to an ASCII '(' that must stay literal.
        std::size_t end = i;
        while (end < n && !IsAscii(pattern[end])) ++end;
        out += RE2::QuoteMeta(NormalizeForMatch(pattern.substr(i, end - i)).text);
        i = end;
      }
    } else if (c == '\\' && i + 1 < n && pattern[i + 1] == 'Q' && !in_class) {
      const std::size_t end = std::min(pattern.find("\\E", i + 2), n);
      out += "\\Q" + NormalizeForMatch(pattern.substr(i + 2, end - (i + 2))).text;
      if (end < n) out += "\\E";
      i = std::min(end + 2, n);
    } else if (c == '\\' && i + 1 < n) {
      // An escape: the backslash and the whole character after it stay as written.
      std::size_t next = i + 1;
      U8_FWD_1(reinterpret_cast<const std::uint8_t*>(pattern.data()), next, n);
      out += pattern.substr(i, next - i);
      i = next;
    } else if (in_class && c == '[' && i + 1 < n && pattern[i + 1] == ':' &&
               pattern.find(":]", i + 2) != std::string_view::npos) {
      const std::size_t end = pattern.find(":]", i + 2) + 2;  // [:alpha:]
      out += pattern.substr(i, end - i);
      i = end;
    } else if (!in_class && c == '[') {
      in_class = true;
      out += c;
      ++i;
      if (i < n && pattern[i] == '^') out += pattern[i++];
      if (i < n && pattern[i] == ']') out += pattern[i++];  // a leading ']' is a member
    } else if (!in_class && (c == ' ' || (c >= '\t' && c <= '\r'))) {
      // Page text never holds two spaces in a row, so neither may a pattern.
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

// Whether an inline flag group such as "(?i)" or "(?si:" turns case-insensitivity on somewhere.
bool HasInlineNocase(std::string_view pattern) {
  for (std::size_t at = pattern.find("(?"); at != std::string_view::npos;
       at = pattern.find("(?", at + 2)) {
    if (at > 0 && pattern[at - 1] == '\\') continue;
    for (std::size_t i = at + 2; i < pattern.size() && pattern[i] != ')' && pattern[i] != ':';
         ++i) {
      if (pattern[i] == '-') break;
      if (pattern[i] == 'i') return true;
    }
  }
  return false;
}

// Rewrites a pattern for the "can this rule ever fire?" check: every literal character outside
// character classes (written as itself, as \x{...}, as \n, \t ... or inside \Q...\E) for which
// `possible` is false becomes kNeverMatches, and each such character is appended to
// `impossible`. Classes, class escapes (\d, \pL ...), flag groups and repetition counts are
// copied as written: they are alternatives the check leaves alone.
template <typename Possible>
std::string WithoutImpossibleCharacters(std::string_view pattern, Possible possible,
                                        std::vector<UChar32>* impossible) {
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(pattern.data());
  const std::size_t n = pattern.size();
  std::string out;
  auto atom = [&](UChar32 c, std::string_view as_written) {
    if (possible(c)) {
      out += as_written;
    } else {
      out += kNeverMatches;
      if (std::find(impossible->begin(), impossible->end(), c) == impossible->end()) {
        impossible->push_back(c);
      }
    }
  };
  bool in_class = false;
  std::size_t i = 0;
  while (i < n) {
    const char c = pattern[i];
    const std::size_t start = i;
    if (in_class) {
      if (c == '\\' && i + 1 < n) {
        i += 1;
        U8_FWD_1(bytes, i, n);
      } else if (c == '[' && i + 1 < n && pattern[i + 1] == ':' &&
                 pattern.find(":]", i + 2) != std::string_view::npos) {
        i = pattern.find(":]", i + 2) + 2;
      } else {
        in_class = c != ']';
        U8_FWD_1(bytes, i, n);
      }
      out += pattern.substr(start, i - start);
    } else if (c == '[') {
      in_class = true;
      ++i;
      if (i < n && pattern[i] == '^') ++i;
      if (i < n && pattern[i] == ']') ++i;
      out += pattern.substr(start, i - start);
    } else if (c == '\\' && i + 1 < n && pattern[i + 1] == 'Q') {
      const std::size_t end = std::min(pattern.find("\\E", i + 2), n);
      for (i += 2; i < end;) {
        const std::size_t char_start = i;
        UChar32 q;
        U8_NEXT(bytes, i, end, q);
        if (q >= 0) atom(q, RE2::QuoteMeta(pattern.substr(char_start, i - char_start)));
      }
      i = std::min(end + 2, n);
    } else if (c == '\\' && i + 1 < n) {
      const char e = pattern[i + 1];
      static constexpr std::string_view kControlEscapes = "ntrfva";
      static constexpr char kControls[] = {'\n', '\t', '\r', '\f', '\v', '\a'};
      if (const std::size_t k = kControlEscapes.find(e); k != std::string_view::npos) {
        i += 2;
        atom(kControls[k], pattern.substr(start, 2));
      } else if (e == 'x') {
        std::size_t digits_begin = i + 2, digits_end = i + 2;
        if (digits_begin < n && pattern[digits_begin] == '{') {
          ++digits_begin;
          digits_end = pattern.find('}', digits_begin);
          if (digits_end == std::string_view::npos) digits_end = n;
          i = std::min(digits_end + 1, n);
        } else {
          digits_end = std::min(digits_begin + 2, n);
          i = digits_end;
        }
        const std::string hex(pattern.substr(digits_begin, digits_end - digits_begin));
        char* parsed_end = nullptr;
        const unsigned long code = std::strtoul(hex.c_str(), &parsed_end, 16);
        if (!hex.empty() && *parsed_end == '\0' && code <= 0x10FFFF) {
          atom(static_cast<UChar32>(code), pattern.substr(start, i - start));
        } else {
          out += pattern.substr(start, i - start);  // RE2 rejected it already
        }
      } else if ((e == 'p' || e == 'P') && i + 2 < n && pattern[i + 2] == '{') {
        const std::size_t close = pattern.find('}', i + 3);
        i = close == std::string_view::npos ? n : close + 1;
        out += pattern.substr(start, i - start);
      } else {
        // \d \s \w \b \pL \C \. ...: a class, an assertion or escaped punctuation.
        i += 1;
        U8_FWD_1(bytes, i, n);
        if (e == 'p' || e == 'P') U8_FWD_1(bytes, i, n);
        out += pattern.substr(start, i - start);
      }
    } else if (c == '(' && i + 1 < n && pattern[i + 1] == '?') {
      // (?i) (?i: (?P<name> ...: flags and group names are not text.
      i += 2;
      while (i < n && pattern[i] != ')' && pattern[i] != ':' && pattern[i] != '>') ++i;
      i = std::min(i + 1, n);
      out += pattern.substr(start, i - start);
    } else if (c == '{') {
      // A repetition count {2}, {2,}, {2,5}; a '{' that starts none is a literal.
      std::size_t end = i + 1;
      while (end < n && ((pattern[end] >= '0' && pattern[end] <= '9') || pattern[end] == ',')) {
        ++end;
      }
      i = end < n && pattern[end] == '}' ? end + 1 : i + 1;
      out += pattern.substr(start, i - start);
    } else if (IsAscii(c)) {
      ++i;
      if (std::string_view(".|*+?()^$").find(c) != std::string_view::npos) {
        out += c;
      } else {
        atom(static_cast<unsigned char>(c), pattern.substr(start, 1));
      }
    } else {
      UChar32 u;
      U8_NEXT(bytes, i, n, u);
      if (u >= 0) atom(u, pattern.substr(start, i - start));
    }
  }
  return out;
}

// Whether `c` can occur in normalised text; with `nocase`, whether some case variant can.
bool OccursInNormalizedText(UChar32 c, bool nocase) {
  const auto fixed = [](UChar32 v) {
    const std::string s = Utf8(v);
    return NormalizeForMatch(s).text == s;
  };
  if (fixed(c)) return true;
  return nocase && (fixed(u_tolower(c)) || fixed(u_toupper(c)) || fixed(u_totitle(c)) ||
                    fixed(u_foldCase(c, U_FOLD_CASE_DEFAULT)));
}

std::string FieldList() {
  std::string names;
  for (std::size_t f = 0; f < kFieldCount; ++f) {
    names += std::string(FieldName(static_cast<Field>(f))) + ", ";
  }
  return names + "any";
}

// A rule or outlet id, or a tag: conditions name them, tools take them on the command line.
bool IsValidName(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

// YYYY-MM-DD naming a real day.
bool IsValidDate(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return false;
  for (const std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (text[i] < '0' || text[i] > '9') return false;
  }
  const int year = std::stoi(std::string(text.substr(0, 4)));
  const int month = std::stoi(std::string(text.substr(5, 2)));
  const int day = std::stoi(std::string(text.substr(8, 2)));
  if (month < 1 || month > 12 || day < 1) return false;
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return day <= kDays[month - 1] + (month == 2 && leap ? 1 : 0);
}

bool ReadFile(const std::string& path, std::string* content, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buffer;
  if (in) buffer << in.rdbuf();
  if (!in || in.bad()) {
    *error = std::strerror(errno);
    return false;
  }
  *content = std::move(buffer).str();
  return true;
}

// A neutral text (weather, food, city life) the broadness check runs rules over, line by line.
struct NeutralSample {
  std::string path;
  std::string language;                    // "English", for messages
  std::vector<std::string> lines;          // the non-blank lines, as written
  std::vector<NormalizedText> normalized;  // the same, normalised
  std::string error;                       // why it could not be read; empty when it was
};

// The samples shipped in signatures/samples/ beside this source file, read once.
const std::vector<NeutralSample>& NeutralSamples() {
  static const std::vector<NeutralSample>* const samples = [] {
    const std::filesystem::path dir = std::filesystem::path(__FILE__).parent_path() / "samples";
    auto* loaded = new std::vector<NeutralSample>();
    for (const auto& [file, language] :
         {std::pair{"neutral-en.txt", "English"}, std::pair{"neutral-ar.txt", "Arabic"}}) {
      NeutralSample sample;
      sample.path = (dir / file).string();
      sample.language = language;
      std::string content;
      if (ReadFile(sample.path, &content, &sample.error)) {
        std::istringstream in(content);
        for (std::string line; std::getline(in, line);) {
          if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
          sample.normalized.push_back(NormalizeForMatch(line));
          sample.lines.push_back(std::move(line));
        }
        if (sample.lines.empty()) sample.error = "it has no lines";
      }
      loaded->push_back(std::move(sample));
    }
    return loaded;
  }();  // never destroyed
  return *samples;
}

// A match of a rule's own text (capture group 1) in a field: how many there are, counted up to
// kMaxCountedMatches, and where the first one is.
struct Matches {
  int count = 0;
  std::size_t first_begin = 0;
  std::size_t first_end = 0;
};

// `whole`: capture group 1 spans the whole match (a rule without word boundaries), so RE2 need
// not run its submatch engine to place it.
Matches FindMatches(const RE2& re, std::string_view text_view, bool whole = false) {
  const re2::StringPiece text(text_view.data(), text_view.size());
  Matches matches;
  std::size_t pos = 0;
  re2::StringPiece group[2];
  const int groups = whole ? 1 : 2;
  const re2::StringPiece& own = group[groups - 1];
  while (matches.count < kMaxCountedMatches && pos <= text.size() &&
         re.Match(text, pos, text.size(), RE2::UNANCHORED, group, groups)) {
    const auto begin = static_cast<std::size_t>(own.data() - text.data());
    const std::size_t end = begin + own.size();
    if (matches.count == 0) {
      matches.first_begin = begin;
      matches.first_end = end;
    }
    ++matches.count;
    // Restart at the end of the rule's own match: the boundary character after it may be the
    // boundary before the next one.
    pos = end > pos ? end : pos + 1;
  }
  return matches;
}

// Reads a signature file and the files it includes into Signatures, collecting every problem it
// finds rather than stopping at the first, so an operator fixes a file in one pass.
class Loader {
 public:
  explicit Loader(std::vector<SignatureDiagnostic>* diagnostics)
      : diagnostics_(diagnostics),
        first_diagnostic_(diagnostics->size()),
        sha256_(EVP_MD_CTX_new(), &EVP_MD_CTX_free) {}

  std::optional<Signatures> Load(std::string_view yaml, const std::string& name) {
    Signatures signatures;
    signatures_ = &signatures;
    if (!sha256_ || EVP_DigestInit_ex(sha256_.get(), EVP_sha256(), nullptr) != 1) {
      ErrorAt(Position{name}, "cannot compute SHA-256 (OpenSSL)");
    }
    LoadDocument(yaml, name, Position{});
    if (signatures.outlets.empty() && error_count_ == 0) {
      ErrorAt(Position{name}, "no outlets: neither this file nor its includes declare one");
    }
    AssignRules();
    ResolveConditions();
    WarnAboutOutlets();
    if (error_count_ == 0) CompileSets();
    WarnAboutBroadRules();
    SortDiagnostics();
    if (error_count_ > 0) return std::nullopt;
    signatures.sha256 = FinishSha256();
    return signatures;
  }

 private:
  void Report(const Position& at, std::string message, bool warning) {
    SignatureDiagnostic d;
    d.file = at.file;
    d.line = at.line;
    d.column = at.column;
    d.message = std::move(message);
    d.warning = warning;
    diagnostics_->push_back(std::move(d));
    if (!warning) ++error_count_;
  }
  void ErrorAt(const Position& at, std::string message) { Report(at, std::move(message), false); }
  void WarnAt(const Position& at, std::string message) { Report(at, std::move(message), true); }

  Position At(const YAML::Mark& mark) const {
    Position position{file_};
    if (!mark.is_null()) {
      position.line = mark.line + 1;
      position.column = mark.column + 1;
    }
    return position;
  }
  void Error(const YAML::Node& node, std::string message) {
    ErrorAt(At(node.Mark()), std::move(message));
  }
  void Warn(const YAML::Node& node, std::string message) {
    WarnAt(At(node.Mark()), std::move(message));
  }

  // "line 6" in the same file, "other.yaml:6" in another.
  std::string Where(const Position& position) const {
    if (position.file == file_) return "line " + std::to_string(position.line);
    return position.file + ":" + std::to_string(position.line);
  }

  // --- Files and includes ---------------------------------------------------------------------

  // The same file however it is named (a/../b.yaml, a symlink): its canonical path.
  static std::string FileKey(const std::string& name) {
    std::error_code ec;
    const std::filesystem::path canonical = std::filesystem::weakly_canonical(name, ec);
    return ec ? name : canonical.string();
  }

  // Loads one file's outlets, then the files it includes, in order. `included_at` is the include
  // entry that named it (no file for the main one).
  void LoadDocument(std::string_view yaml, const std::string& name, const Position& included_at) {
    const std::string saved_file = file_;
    file_ = name;
    load_order_.emplace(name, load_order_.size());
    if (sha256_) EVP_DigestUpdate(sha256_.get(), yaml.data(), yaml.size());
    const std::string key = FileKey(name);
    loaded_.emplace(key, included_at);
    include_stack_.push_back({key, name});

    YAML::Node root;
    bool parsed = true;
    try {
      root = YAML::Load(std::string(yaml));
    } catch (const YAML::Exception& e) {
      ErrorAt(At(e.mark), "YAML syntax error: " + e.msg);
      parsed = false;
    }
    if (parsed) {
      try {
        LoadRoot(root);
      } catch (const YAML::Exception& e) {  // defensive: the checks should prevent these
        ErrorAt(At(e.mark), "cannot read signature file: " + e.msg);
      }
    }
    include_stack_.pop_back();
    file_ = saved_file;
  }

  void LoadRoot(const YAML::Node& root) {
    if (!root.IsMap()) {
      Error(root, "a signature file is a mapping with 'version' and 'outlets'");
      return;
    }
    CheckKeys(root, {"version", "include", "outlets"}, "the top level");
    const YAML::Node version = root["version"];
    int version_number = 0;
    if (!version) {
      Error(root, "missing 'version' (this loader reads version 1)");
    } else if (!YAML::convert<int>::decode(version, version_number) || version_number != 1) {
      Error(version, "unsupported version '" + (version.IsScalar() ? version.Scalar() : "") +
                         "' (this loader reads version 1)");
    }
    const YAML::Node include = root["include"];
    const YAML::Node outlets = root["outlets"];
    if (outlets || !include) {
      if (!outlets || !outlets.IsSequence() || outlets.size() == 0) {
        Error(outlets ? outlets : root, "'outlets' must be a non-empty list");
      } else {
        for (const auto& outlet : outlets) LoadOutlet(outlet);
      }
    }
    if (include) {
      if (const auto paths = StringList(include, "include")) {
        for (const auto& [path, mark] : *paths) LoadInclude(path, At(mark));
      }
    }
  }

  void LoadInclude(const std::string& entry, const Position& at) {
    std::filesystem::path path(entry);
    if (path.is_relative()) path = std::filesystem::path(file_).parent_path() / path;
    const std::string name = path.lexically_normal().string();
    const std::string key = FileKey(name);
    for (std::size_t i = 0; i < include_stack_.size(); ++i) {
      if (include_stack_[i].key != key) continue;
      std::string chain;
      for (std::size_t j = i; j < include_stack_.size(); ++j) {
        chain += include_stack_[j].name + " -> ";
      }
      ErrorAt(at, "include cycle: " + chain + name);
      return;
    }
    if (const auto it = loaded_.find(key); it != loaded_.end()) {
      // Not a cycle, so not the main file (always on the stack): it was included before.
      ErrorAt(at, "'" + entry + "' is already loaded (included at " + it->second.file + ":" +
                      std::to_string(it->second.line) + "); include a file once");
      return;
    }
    std::string content, error;
    if (!ReadFile(name, &content, &error)) {
      ErrorAt(at, "cannot read included file '" + name + "': " + error);
      return;
    }
    LoadDocument(content, name, at);
  }

  std::string FinishSha256() {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (!sha256_ || EVP_DigestFinal_ex(sha256_.get(), digest, &length) != 1) return "";
    std::string hex;
    for (unsigned int i = 0; i < length; ++i) {
      char byte[3];
      std::snprintf(byte, sizeof byte, "%02x", digest[i]);
      hex += byte;
    }
    return hex;
  }

  // --- Generic readers ------------------------------------------------------------------------

  // Flags keys outside `allowed` (a typo such as `require-any` must not silently drop a
  // condition) and repeated keys (yaml-cpp keeps the first without complaint).
  void CheckKeys(const YAML::Node& map, std::initializer_list<std::string_view> allowed,
                 std::string_view what) {
    std::set<std::string, std::less<>> seen;
    for (const auto& entry : map) {
      const std::string key = entry.first.IsScalar() ? entry.first.Scalar() : std::string();
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
        Error(entry.first, "unknown key '" + key + "' in " + std::string(what));
      } else if (!seen.insert(key).second) {
        Error(entry.first, "duplicate key '" + key + "' in " + std::string(what));
      }
    }
  }

  std::optional<std::string> RequiredString(const YAML::Node& map, const char* key,
                                            std::string_view what) {
    const YAML::Node node = map[key];
    if (!node || node.IsNull()) {
      Error(map, std::string("missing '") + key + "' in " + std::string(what));
      return std::nullopt;
    }
    if (!node.IsScalar() || node.Scalar().empty()) {
      Error(node, std::string("'") + key + "' must be a non-empty string");
      return std::nullopt;
    }
    return node.Scalar();
  }

  // An optional free-text key; empty when absent.
  std::string OptionalString(const YAML::Node& map, const char* key) {
    const YAML::Node node = map[key];
    if (!node || node.IsNull()) return "";
    if (!node.IsScalar()) {
      Error(node, std::string("'") + key + "' must be a string");
      return "";
    }
    return node.Scalar();
  }

  std::optional<double> RequiredNumber(const YAML::Node& map, const char* key,
                                       std::string_view what) {
    const YAML::Node node = map[key];
    if (!node || node.IsNull()) {
      Error(map, std::string("missing '") + key + "' in " + std::string(what));
      return std::nullopt;
    }
    double value = 0;
    if (!node.IsScalar() || !YAML::convert<double>::decode(node, value) || !std::isfinite(value)) {
      Error(node, std::string("'") + key + "' must be a number, not '" +
                      (node.IsScalar() ? node.Scalar() : std::string("(not a scalar)")) + "'");
      return std::nullopt;
    }
    return value;
  }

  // An optional whole number in [min, max]; `fallback` when absent or wrong (reported).
  int OptionalCount(const YAML::Node& map, const char* key, int min, int max, int fallback) {
    const YAML::Node node = map[key];
    if (!node) return fallback;
    int value = 0;
    if (!node.IsScalar() || !YAML::convert<int>::decode(node, value) || value < min ||
        value > max) {
      Error(node, std::string("'") + key + "' must be a whole number from " + std::to_string(min) +
                      " to " + std::to_string(max) + ", not '" +
                      (node.IsScalar() ? node.Scalar() : std::string("(not a scalar)")) + "'");
      return fallback;
    }
    return value;
  }

  bool OptionalBool(const YAML::Node& map, const char* key, bool fallback) {
    const YAML::Node node = map[key];
    bool value = fallback;
    if (node && !YAML::convert<bool>::decode(node, value)) {
      Error(node, std::string("'") + key + "' must be true or false");
      return fallback;
    }
    return value;
  }

  // A string or a list of strings, each non-empty. Empty optional on error (already reported).
  std::optional<std::vector<std::pair<std::string, YAML::Mark>>> StringList(const YAML::Node& node,
                                                                            const char* key) {
    std::vector<std::pair<std::string, YAML::Mark>> items;
    if (node.IsScalar()) {
      items.emplace_back(node.Scalar(), node.Mark());
    } else if (node.IsSequence()) {
      for (const auto& item : node) {
        if (!item.IsScalar()) {
          Error(item, std::string("'") + key + "' entries must be strings");
          return std::nullopt;
        }
        items.emplace_back(item.Scalar(), item.Mark());
      }
    } else {
      Error(node, std::string("'") + key + "' must be a string or a list of strings");
      return std::nullopt;
    }
    if (items.empty()) {
      Error(node, std::string("'") + key + "' is empty");
      return std::nullopt;
    }
    for (const auto& [text, mark] : items) {
      if (text.empty()) {
        ErrorAt(At(mark), std::string("'") + key + "' entries must not be empty");
        return std::nullopt;
      }
    }
    return items;
  }

  // --- Outlets --------------------------------------------------------------------------------

  void LoadOutlet(const YAML::Node& node) {
    if (!node.IsMap()) {
      Error(node, "an outlet is a mapping with 'id', 'threshold' and 'rules'");
      return;
    }
    if (node["extend"]) {
      LoadExtension(node);
      return;
    }
    CheckKeys(node,
              {"id", "name", "aliases", "threshold", "require_any", "require", "min_rules",
               "any_of", "rules"},
              "an outlet");
    Outlet outlet;
    bool duplicate = false;
    if (const std::optional<std::string> id = RequiredString(node, "id", "an outlet")) {
      outlet.id = *id;
      outlet.position = At(node["id"].Mark());
      if (!IsValidName(*id)) {
        Error(node["id"],
              "outlet id '" + *id + "' may contain only letters, digits, '.', '_' and '-'");
      }
      if (const auto [it, inserted] = outlet_positions_.emplace(*id, outlet.position); !inserted) {
        Error(node["id"],
              "duplicate outlet id '" + *id + "' (first defined at " + Where(it->second) + ")");
        duplicate = true;
      }
    }
    if (const YAML::Node name = node["name"]; name && !name.IsScalar()) {
      Error(name, "'name' must be a string");
    } else if (name) {
      outlet.name = name.Scalar();
    }
    if (const YAML::Node aliases = node["aliases"]) {
      if (const auto names = StringList(aliases, "aliases")) {
        for (const auto& item : *names) outlet.aliases.push_back(item.first);
      }
    }
    if (const std::optional<double> threshold = RequiredNumber(node, "threshold", "an outlet")) {
      outlet.threshold = *threshold;
      // Only outlets with a hit are scored; a threshold <= 0 would flag a page on which nothing
      // but evidence against the outlet fired.
      if (outlet.threshold <= 0) Error(node["threshold"], "'threshold' must be positive");
    }
    outlet.min_rules = OptionalCount(node, "min_rules", 1, 1000, 0);
    if (const YAML::Node require_any = node["require_any"]) {
      if (const auto names = StringList(require_any, "require_any")) {
        outlet.conditions.push_back(Condition("require_any", *names, require_any.Mark()));
      }
    }
    if (const YAML::Node require = node["require"]) {
      if (const auto names = StringList(require, "require")) {
        for (const auto& name : *names) {
          outlet.conditions.push_back(Condition("require", {name}, name.second));
        }
      }
    }
    if (const YAML::Node any_of = node["any_of"]) {
      if (!any_of.IsSequence() || any_of.size() == 0) {
        Error(any_of, "'any_of' must be a non-empty list of groups, e.g. [[a, b], [c, d]]");
      } else {
        for (const auto& group : any_of) {
          if (const auto names = StringList(group, "any_of")) {
            outlet.conditions.push_back(Condition("any_of", *names, group.Mark()));
          }
        }
      }
    }
    // A duplicate's rules are still checked, but belong to no outlet (the load fails anyway).
    if (const YAML::Node rules = node["rules"]) {
      LoadRules(rules, duplicate ? std::string() : outlet.id);
    }
    if (!duplicate) signatures_->outlets.push_back(std::move(outlet));
  }

  ConditionGroup Condition(std::string key,
                           const std::vector<std::pair<std::string, YAML::Mark>>& names,
                           const YAML::Mark& mark) {
    ConditionGroup group;
    group.key = std::move(key);
    for (const auto& [name, name_mark] : names) {
      group.names.push_back(name);
      group.name_positions.push_back(At(name_mark));
    }
    group.position = At(mark);
    return group;
  }

  // `- extend: amaq` with `rules:` adds rules to an outlet declared elsewhere (any loaded file).
  void LoadExtension(const YAML::Node& node) {
    CheckKeys(node, {"extend", "rules"}, "an outlet extension (it only adds rules)");
    const std::optional<std::string> id = RequiredString(node, "extend", "an outlet extension");
    if (id) extensions_.push_back({*id, At(node["extend"].Mark())});
    const YAML::Node rules = node["rules"];
    if (!rules) {
      Error(node, "an outlet extension needs 'rules'");
    } else {
      LoadRules(rules, id.value_or(""));
    }
  }

  void LoadRules(const YAML::Node& rules, const std::string& outlet_id) {
    if (!rules.IsSequence() || rules.size() == 0) {
      Error(rules, "'rules' must be a non-empty list");
      return;
    }
    for (const auto& rule : rules) LoadRule(rule, outlet_id);
  }

  // --- Rules ----------------------------------------------------------------------------------

  void LoadRule(const YAML::Node& node, const std::string& outlet_id) {
    if (!node.IsMap()) {
      Error(node, "a rule is a mapping with 'id', 'fields', 'pattern' or 'literal', and 'weight'");
      return;
    }
    CheckKeys(node,
              {"id", "description", "fields", "pattern", "literal", "word", "nocase", "normalize",
               "weight", "min_count", "tags", "author", "reference", "created", "status"},
              "a rule");
    Rule rule;
    rule.outlet = outlet_id;
    rule.position = At(node.Mark());
    if (const std::optional<std::string> id = RequiredString(node, "id", "a rule")) {
      rule.id = *id;
      rule.position = At(node["id"].Mark());
      if (!IsValidName(*id)) {
        Error(node["id"],
              "rule id '" + *id + "' may contain only letters, digits, '.', '_' and '-'");
      }
      if (const auto [it, inserted] = rule_positions_.emplace(*id, rule.position); !inserted) {
        Error(node["id"],
              "duplicate rule id '" + *id + "' (first defined at " + Where(it->second) + ")");
      }
    }
    rule.description = OptionalString(node, "description");
    rule.author = OptionalString(node, "author");
    rule.reference = OptionalString(node, "reference");
    rule.created = OptionalString(node, "created");
    if (!rule.created.empty() && !IsValidDate(rule.created)) {
      Error(node["created"], "'created' must be a date YYYY-MM-DD, not '" + rule.created + "'");
    }
    if (const YAML::Node status = node["status"]) {
      if (status.IsScalar() && status.Scalar() == "experimental") {
        rule.experimental = true;
      } else if (!status.IsScalar() || status.Scalar() != "stable") {
        Error(status, "'status' must be 'stable' or 'experimental', not '" +
                          (status.IsScalar() ? status.Scalar() : std::string()) + "'");
      }
    }
    if (const std::optional<double> weight = RequiredNumber(node, "weight", "a rule")) {
      rule.weight = *weight;
    }
    rule.min_count = OptionalCount(node, "min_count", 1, kMaxCountedMatches, 1);
    if (const YAML::Node fields_node = node["fields"]; !fields_node) {
      Error(node, "missing 'fields' in a rule");
    } else if (const auto names = StringList(fields_node, "fields")) {
      for (const auto& [name, mark] : *names) {
        if (name == "any") {
          rule.fields.fill(true);
        } else if (const std::optional<Field> field = FieldFromName(name)) {
          rule.fields[static_cast<std::size_t>(*field)] = true;
        } else {
          ErrorAt(At(mark), "unknown field '" + name + "' (fields are " + FieldList() + ")");
        }
      }
    }
    if (const YAML::Node tags = node["tags"]) {
      if (const auto names = StringList(tags, "tags")) {
        for (const auto& [tag, mark] : *names) {
          if (!IsValidName(tag)) {
            ErrorAt(At(mark),
                    "tag '" + tag + "' may contain only letters, digits, '.', '_' and '-'");
          }
          rule.tags.push_back(tag);
        }
      }
    }
    rule.word = OptionalBool(node, "word", false);
    rule.nocase = OptionalBool(node, "nocase", true);
    rule.normalize = OptionalBool(node, "normalize", true);
    if (!rule.nocase && rule.normalize) {
      Warn(node["nocase"],
           "rule '" + rule.id +
               "': 'nocase: false' has no effect on normalised text, which is "
               "lower-case; add 'normalize: false' to match the raw text with case");
    }
    const YAML::Node source = node["pattern"] ? node["pattern"] : node["literal"];
    if (source) rule.source = At(source.Mark());
    std::string inner;
    if (RuleText(node, rule, &inner)) {
      std::string expression = "(" + inner + ")";
      if (rule.word) expression = std::string(kWordBefore) + expression + std::string(kWordAfter);
      if (rule.nocase) expression = "(?i)" + expression;
      auto re = std::make_unique<RE2>(expression, MatchOptions());
      if (!re->ok()) {
        Error(source, BudgetOrSyntaxError(rule.id, *re));
      } else if (MatchesEmptyText(*re)) {
        Error(source, "pattern matches empty text, so it would fire on every page");
      } else {
        rule.re = std::move(re);
        WarnIfNeverFires(rule, inner);
      }
    }
    signatures_->rules.push_back(std::move(rule));
  }

  static std::string BudgetOrSyntaxError(const std::string& id, const RE2& re) {
    if (re.error_code() == RE2::ErrorPatternTooLarge) {
      return "rule '" + id + "' alone exceeds RE2's memory budget (" +
             std::to_string(kMaxMem >> 20) + " MiB)";
    }
    return "invalid pattern: " + re.error();
  }

  // The RE2 text a rule matches with, before modifiers: its pattern (normalised unless
  // `normalize: false`) or its quoted literals. False when there is none (reported).
  bool RuleText(const YAML::Node& node, const Rule& rule, std::string* inner) {
    const YAML::Node pattern = node["pattern"];
    const YAML::Node literal = node["literal"];
    if (pattern && literal) {
      Error(node, "a rule has both 'pattern' and 'literal'; use one");
      return false;
    }
    if (pattern) {
      if (!pattern.IsScalar() || pattern.Scalar().empty()) {
        Error(pattern, "'pattern' must be a non-empty string");
        return false;
      }
      *inner = rule.normalize ? NormalizePattern(pattern.Scalar()) : pattern.Scalar();
      // Parse alone first: RE2's reason then refers to the author's pattern, and the wrapper
      // cannot balance an unbalanced one ("a)|(b"). With no memory to compile into, RE2 stops
      // right after parsing ("too large" then means the syntax is fine), so this costs little;
      // the full expression is compiled once, with the real budget.
      RE2::Options parse_only = MatchOptions();
      parse_only.set_max_mem(1 << 6);
      RE2 alone(*inner, parse_only);
      if (!alone.ok() && alone.error_code() != RE2::ErrorPatternTooLarge) {
        Error(pattern, "invalid pattern: " + alone.error());
        return false;
      }
      return true;
    }
    if (literal) {
      const auto strings = StringList(literal, "literal");
      if (!strings) return false;
      for (const auto& [text, mark] : *strings) {
        const std::string normalized = rule.normalize ? NormalizeForMatch(text).text : text;
        if (normalized.empty() || normalized == " ") {
          ErrorAt(At(mark), "literal '" + text + "' is empty once normalised");
          return false;
        }
        if (!inner->empty()) *inner += '|';
        *inner += RE2::QuoteMeta(normalized);
      }
      return true;
    }
    Error(node, "a rule has neither 'pattern' nor 'literal'");
    return false;
  }

  // A rule whose own match can be empty fires on every page (or counts nothing); reject it.
  static bool MatchesEmptyText(const RE2& re) {
    for (const re2::StringPiece probe :
         {re2::StringPiece(""), re2::StringPiece("x "), re2::StringPiece(" \xD8\xA7")}) {
      re2::StringPiece group[2];
      if (re.Match(probe, 0, probe.size(), RE2::UNANCHORED, group, 2) && group[1].empty()) {
        return true;
      }
    }
    return false;
  }

  // Warns when a rule cannot fire on any page: every way through its pattern needs a character
  // its fields never contain -- one normalisation removes or folds (tatweel or ة written as an
  // escape, \n, an upper-case letter with nocase: false) or, for rules that only read the url
  // and host, any non-ASCII character (paths are percent-encoded, host names punycode). RE2
  // decides "every way through": the impossible characters become an empty class, and a pattern
  // whose language is then empty has an empty PossibleMatchRange.
  void WarnIfNeverFires(const Rule& rule, std::string_view inner) {
    bool ascii_fields_only = true;
    for (std::size_t f = 0; f < kFieldCount; ++f) {
      const auto field = static_cast<Field>(f);
      if (rule.fields[f] && field != Field::kUrl && field != Field::kHost) {
        ascii_fields_only = false;
      }
    }
    const bool nocase = rule.nocase || HasInlineNocase(inner);
    const auto possible = [&](UChar32 c) {
      if (ascii_fields_only && c >= 0x80) return false;
      return !rule.normalize || OccursInNormalizedText(c, nocase);
    };
    std::vector<UChar32> impossible;
    const std::string probe_text = WithoutImpossibleCharacters(inner, possible, &impossible);
    if (impossible.empty()) return;
    const RE2 probe(probe_text, MatchOptions());
    std::string min, max;
    if (!probe.ok() || !probe.PossibleMatchRange(&min, &max, 10) || !max.empty()) return;

    std::string needs;
    for (std::size_t i = 0; i < impossible.size() && i < 3; ++i) {
      if (i > 0) needs += i + 1 == impossible.size() ? " or " : ", ";
      needs += DescribeCodePoint(impossible[i]);
    }
    if (impossible.size() > 3) needs += " ...";
    const UChar32 first = impossible[0];
    std::string why;
    if (ascii_fields_only && first >= 0x80) {
      why =
          "which the url and host fields never contain: they are ASCII (paths "
          "percent-encoded, host names in punycode)";
    } else if (rule.normalize && OccursInNormalizedText(u_tolower(first), false)) {
      why =
          "which normalised text never contains: it is lower-case ('nocase: false' with "
          "normalisation); add 'normalize: false' to match case";
    } else {
      why =
          "which normalised text never contains: normalisation removes or folds it (write the "
          "character itself, patterns are normalised like pages, or add 'normalize: false')";
    }
    WarnAt(rule.source,
           "rule '" + rule.id + "' can never fire: every match needs " + needs + ", " + why);
  }

  // --- Across files ---------------------------------------------------------------------------

  // Gives each outlet its rules, in load order, wherever they were declared.
  void AssignRules() {
    std::map<std::string, std::size_t, std::less<>> index;
    for (std::size_t i = 0; i < signatures_->outlets.size(); ++i) {
      index.emplace(signatures_->outlets[i].id, i);
    }
    for (const auto& [id, position] : extensions_) {
      if (!index.count(id)) {
        ErrorAt(position, "extend: no loaded file declares outlet '" + id + "'");
      }
    }
    for (std::size_t r = 0; r < signatures_->rules.size(); ++r) {
      const auto it = index.find(signatures_->rules[r].outlet);
      if (it != index.end()) {
        signatures_->outlets[it->second].rules.push_back(r);
        signatures_->rules[r].outlet_index = it->second;
      }
    }
    for (const Outlet& outlet : signatures_->outlets) {
      if (outlet.rules.empty() && !outlet.id.empty()) {
        ErrorAt(outlet.position, "outlet '" + outlet.id +
                                     "' has no rules: give it 'rules' here or in an 'extend' "
                                     "entry");
      }
    }
  }

  // Points each condition at the rules its names name; a name no rule of the outlet has is an
  // error (a typo must not silently make a condition impossible or void).
  void ResolveConditions() {
    for (Outlet& outlet : signatures_->outlets) {
      for (ConditionGroup& group : outlet.conditions) {
        for (std::size_t n = 0; n < group.names.size(); ++n) {
          const std::string& name = group.names[n];
          bool known = false;
          for (const std::size_t r : outlet.rules) {
            if (!signatures_->rules[r].has_name(name)) continue;
            known = true;
            if (std::find(group.rules.begin(), group.rules.end(), r) == group.rules.end()) {
              group.rules.push_back(r);
            }
          }
          if (!known) {
            ErrorAt(group.name_positions[n],
                    group.key + ": '" + name +
                        "' is neither the id nor a tag of a rule of outlet '" + outlet.id + "'");
          }
        }
      }
    }
  }

  // Outlets that can never be flagged, and rules that duplicate another of the same outlet.
  void WarnAboutOutlets() {
    for (const Outlet& outlet : signatures_->outlets) {
      if (outlet.rules.empty()) continue;
      double reachable = 0;
      int positive_rules = 0;
      for (const std::size_t r : outlet.rules) {
        if (!signatures_->rules[r].positive_stable()) continue;
        reachable += signatures_->rules[r].weight;
        ++positive_rules;
      }
      if (reachable + kScoreEpsilon < outlet.threshold) {
        WarnAt(outlet.position, "outlet '" + outlet.id + "' can never be flagged: its threshold " +
                                    FormatNumber(outlet.threshold) +
                                    " exceeds the sum of its positive stable weights (" +
                                    FormatNumber(reachable) + ")");
      }
      if (outlet.min_rules > positive_rules) {
        WarnAt(outlet.position, "outlet '" + outlet.id + "' can never be flagged: min_rules " +
                                    std::to_string(outlet.min_rules) + " exceeds its " +
                                    std::to_string(positive_rules) +
                                    " positive-weight stable rules");
      }
      for (const ConditionGroup& group : outlet.conditions) {
        const bool all_experimental =
            !group.rules.empty() &&
            std::all_of(group.rules.begin(), group.rules.end(),
                        [&](std::size_t r) { return signatures_->rules[r].experimental; });
        if (all_experimental) {
          std::string names;
          for (const std::string& name : group.names) names += (names.empty() ? "" : ", ") + name;
          WarnAt(group.position, group.key + ": " + names +
                                     " names only experimental rules, which never count "
                                     "towards a verdict: outlet '" +
                                     outlet.id + "' can never be flagged");
        }
      }
      WarnAboutDuplicates(outlet);
    }
  }

  // Two rules of one outlet with the same expression, fields and min_count fire on the same
  // pages: the second only adds its weight to the first. (The same pattern on other fields is
  // how a file weighs fields differently, and is fine.)
  void WarnAboutDuplicates(const Outlet& outlet) {
    for (std::size_t i = 0; i < outlet.rules.size(); ++i) {
      const Rule& rule = signatures_->rules[outlet.rules[i]];
      if (!rule.re) continue;
      for (std::size_t j = 0; j < i; ++j) {
        const Rule& earlier = signatures_->rules[outlet.rules[j]];
        if (earlier.re && earlier.re->pattern() == rule.re->pattern() &&
            earlier.normalize == rule.normalize && earlier.fields == rule.fields &&
            earlier.min_count == rule.min_count) {
          WarnAt(rule.source,
                 "rule '" + rule.id + "' duplicates rule '" + earlier.id + "' (" +
                     (earlier.position.file == rule.position.file
                          ? "line " + std::to_string(earlier.position.line)
                          : earlier.position.file + ":" + std::to_string(earlier.position.line)) +
                     "): same pattern, fields and modifiers, so both always fire "
                     "together");
          break;
        }
      }
    }
  }

  // --- Compiling ------------------------------------------------------------------------------

  void CompileSets() {
    for (std::size_t r = 0; r < signatures_->rules.size(); ++r) {
      const Rule& rule = signatures_->rules[r];
      for (std::size_t f = 0; f < kFieldCount; ++f) {
        if (!rule.fields[f]) continue;
        (rule.normalize ? signatures_->normalized : signatures_->raw)[f].rules.push_back(r);
      }
    }
    for (std::size_t f = 0; f < kFieldCount; ++f) {
      CompileSet(static_cast<Field>(f), false, &signatures_->normalized[f]);
      CompileSet(static_cast<Field>(f), true, &signatures_->raw[f]);
    }
  }

  std::unique_ptr<RE2::Set> BuildSet(const std::vector<std::size_t>& rules, std::size_t count,
                                     std::string* error, std::size_t* failed_rule) {
    auto set = std::make_unique<RE2::Set>(MatchOptions(), RE2::UNANCHORED);
    for (std::size_t i = 0; i < count; ++i) {
      if (set->Add(signatures_->rules[rules[i]].re->pattern(), error) < 0) {
        *failed_rule = rules[i];
        return nullptr;
      }
    }
    return set;
  }

  // One RE2::Set per field (and per kind of text). When the set does not compile within the
  // budget, compiles growing prefixes of its rules (bisecting) to name the rule that breaks it.
  void CompileSet(Field field, bool raw, FieldMatcher* matcher) {
    if (matcher->rules.empty()) return;
    const std::string set_name =
        "the " + std::string(FieldName(field)) + " set" + (raw ? " (raw text)" : "");
    std::string error;
    std::size_t failed_rule = 0;
    matcher->set = BuildSet(matcher->rules, matcher->rules.size(), &error, &failed_rule);
    if (!matcher->set) {
      const Rule& rule = signatures_->rules[failed_rule];
      ErrorAt(rule.source, "rule '" + rule.id + "' cannot join " + set_name + ": " + error);
      return;
    }
    if (matcher->set->Compile()) return;
    matcher->set.reset();
    // The smallest prefix that fails to compile ends with the rule that breaks the budget.
    std::size_t fits = 0, fails = matcher->rules.size();
    while (fails - fits > 1) {
      const std::size_t mid = fits + (fails - fits) / 2;
      const auto prefix = BuildSet(matcher->rules, mid, &error, &failed_rule);
      (prefix && prefix->Compile() ? fits : fails) = mid;
    }
    const Rule& rule = signatures_->rules[matcher->rules[fails - 1]];
    ErrorAt(rule.source, "rule '" + rule.id + "' makes " + set_name +
                             " exceed RE2's memory budget (" + std::to_string(kMaxMem >> 20) +
                             " MiB)");
  }

  // --- Broad rules ----------------------------------------------------------------------------

  // A positive rule that fires on more than half of the lines of a neutral text (weather, food,
  // city life) would add its weight to almost any page: warn.
  void WarnAboutBroadRules() {
    const std::vector<NeutralSample>& samples = NeutralSamples();
    for (const NeutralSample& sample : samples) {
      if (!sample.error.empty()) {
        WarnAt(Position{sample.path}, "cannot read the neutral " + sample.language +
                                          " text sample (" + sample.error +
                                          "): rules were not checked for being too broad");
      }
    }
    for (const Rule& rule : signatures_->rules) {
      if (!rule.re || rule.weight <= 0) continue;
      for (const NeutralSample& sample : samples) {
        if (!sample.error.empty()) continue;
        std::size_t fired = 0;
        for (std::size_t i = 0; i < sample.lines.size(); ++i) {
          const std::string_view text =
              rule.normalize ? std::string_view(sample.normalized[i].text) : sample.lines[i];
          fired += FindMatches(*rule.re, text).count >= rule.min_count;
        }
        if (2 * fired > sample.lines.size()) {
          WarnAt(rule.source, "rule '" + rule.id + "' is too broad: it fires on " +
                                  std::to_string(fired) + " of " +
                                  std::to_string(sample.lines.size()) + " lines of a neutral " +
                                  sample.language + " text (" +
                                  std::filesystem::path(sample.path).filename().string() +
                                  "), so it would add its weight to almost any page");
          break;
        }
      }
    }
  }

  // Diagnostics in file (load) order, then line and column; one without a known file last.
  void SortDiagnostics() {
    const auto rank = [&](const SignatureDiagnostic& d) {
      const auto it = load_order_.find(d.file);
      return std::tuple(it == load_order_.end() ? load_order_.size() : it->second, d.line,
                        d.column);
    };
    std::stable_sort(diagnostics_->begin() + static_cast<std::ptrdiff_t>(first_diagnostic_),
                     diagnostics_->end(),
                     [&](const SignatureDiagnostic& a, const SignatureDiagnostic& b) {
                       return rank(a) < rank(b);
                     });
  }

  struct IncludeFrame {
    std::string key;   // canonical path, to recognise a file however it is named
    std::string name;  // as shown in diagnostics
  };

  std::vector<SignatureDiagnostic>* diagnostics_;
  const std::size_t first_diagnostic_;  // diagnostics_ entries before this are the caller's
  std::size_t error_count_ = 0;
  Signatures* signatures_ = nullptr;  // being filled by Load()
  std::string file_;                  // the file being read
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> sha256_;
  std::map<std::string, std::size_t, std::less<>> load_order_;  // file name -> load index
  std::map<std::string, Position, std::less<>> loaded_;         // canonical path -> where included
  std::vector<IncludeFrame> include_stack_;
  std::map<std::string, Position, std::less<>> rule_positions_;
  std::map<std::string, Position, std::less<>> outlet_positions_;
  std::vector<std::pair<std::string, Position>> extensions_;  // outlet id, where
};

bool IsContinuationByte(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// Moves `offset` back by up to `count` code points without splitting a UTF-8 sequence.
std::size_t BackCodePoints(std::string_view text, std::size_t offset, int count) {
  for (int n = 0; n < count && offset > 0; ++n) {
    --offset;
    for (int trail = 0; trail < 3 && offset > 0 && IsContinuationByte(text[offset]); ++trail) {
      --offset;
    }
  }
  return offset;
}

// Moves `offset` forward by up to `count` code points, stopping at `limit`.
std::size_t ForwardCodePoints(std::string_view text, std::size_t offset, std::size_t limit,
                              int count) {
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(text.data());
  for (int n = 0; n < count && offset < limit; ++n) U8_FWD_1(bytes, offset, limit);
  return offset;
}

// Original text in [begin, end) as one line: whitespace runs become one space, ill-formed
// UTF-8 becomes U+FFFD (snippets end up in reports that must be valid UTF-8).
std::string CleanSnippet(std::string_view text, std::size_t begin, std::size_t end) {
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(text.data());
  std::string out;
  out.reserve(end - begin);
  bool pending_space = false;
  std::size_t i = begin;
  while (i < end) {
    if (bytes[i] < 0x80) {  // ASCII: White_Space is U+0009..U+000D and U+0020
      const char a = static_cast<char>(bytes[i++]);
      if (a == ' ' || (a >= '\t' && a <= '\r')) {
        pending_space = !out.empty();
        continue;
      }
      if (pending_space) out.push_back(' ');
      pending_space = false;
      out.push_back(a);
      continue;
    }
    const std::size_t start = i;
    UChar32 c;
    U8_NEXT(bytes, i, end, c);
    if (c >= 0 && u_isUWhiteSpace(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    if (c < 0) {
      out += "\xEF\xBF\xBD";
    } else {
      out.append(text.substr(start, i - start));
    }
  }
  return out;
}

// A rule that fired on the page: its index in Signatures::rules and what it found.
struct FiredRule {
  std::size_t rule;
  RuleHit hit;
};

// The rules that fired on a page, in the order found; a handful per page, so a linear search.
class FiredRules {
 public:
  bool contains(std::size_t r) const { return find(r) != nullptr; }
  const FiredRule* find(std::size_t r) const {
    for (const FiredRule& f : fired_) {
      if (f.rule == r) return &f;
    }
    return nullptr;
  }
  std::vector<FiredRule>& entries() { return fired_; }
  const std::vector<FiredRule>& entries() const { return fired_; }

 private:
  std::vector<FiredRule> fired_;
};

// Counts a rule's matches in one field and cuts a snippet of the original text around the
// first. `matched` is the text the rule ran on: the normalised field, with `origin` mapping its
// bytes back to `original`, or `original` itself (origin null). Appends the hit (rule `r`) to
// `fired` and returns true, or returns false if the rule does not fire there after all (no
// match, or fewer than its min_count).
bool DescribeHit(const Rule& rule, std::size_t r, Field field, std::string_view original,
                 std::string_view matched, const std::vector<std::uint32_t>* origin,
                 FiredRules* fired) {
  const Matches matches = FindMatches(*rule.re, matched, !rule.word);
  if (matches.count == 0 || matches.count < rule.min_count) return false;

  const auto source = [&](std::size_t offset) -> std::size_t {
    return origin ? (*origin)[offset] : offset;
  };
  const std::size_t match_begin = source(matches.first_begin);
  std::size_t match_end = source(matches.first_end);
  if (origin && matches.first_end > matches.first_begin &&
      match_end <= source(matches.first_end - 1)) {
    // The match ends inside one character's expansion (a ligature): take the whole character.
    match_end = ForwardCodePoints(original, source(matches.first_end - 1), original.size(), 1);
  }
  std::size_t snippet_end = ForwardCodePoints(original, match_begin, match_end, kSnippetMaxMatch);
  if (snippet_end == match_end) {
    snippet_end = ForwardCodePoints(original, match_end, original.size(), kSnippetContext);
  }
  const std::size_t snippet_begin = BackCodePoints(original, match_begin, kSnippetContext);

  RuleHit& hit = fired->entries().emplace_back(FiredRule{r, RuleHit{}}).hit;
  hit.rule_id = rule.id;
  hit.field = field;
  hit.weight = rule.weight;
  hit.experimental = rule.experimental;
  hit.count = matches.count;
  hit.snippet = CleanSnippet(original, snippet_begin, snippet_end);
  hit.match = CleanSnippet(original, match_begin, std::min(match_end, snippet_end));
  return true;
}

// The rules of one set that match `text`; every rule of the set when its DFA gave up (out of
// memory: "not scanned", never "no match" -- each rule's own RE2 then falls back to the NFA, so
// this is slow but exact).
void MatchSet(const FieldMatcher& matcher, std::string_view text, std::vector<int>* matched,
              std::atomic<std::uint64_t>* fallbacks) {
  matched->clear();
  RE2::Set::ErrorInfo error_info{RE2::Set::kNoError};
  if (!matcher.set->Match(re2::StringPiece(text.data(), text.size()), matched, &error_info) &&
      error_info.kind != RE2::Set::kNoError) {
    fallbacks->fetch_add(1, std::memory_order_relaxed);
    matched->clear();
    for (std::size_t i = 0; i < matcher.rules.size(); ++i) matched->push_back(static_cast<int>(i));
  }
}

// Whether a condition holds with the stable rules that fired.
bool ConditionHolds(const ConditionGroup& group, const FiredRules& hits,
                    const std::vector<Rule>& rules) {
  return std::any_of(group.rules.begin(), group.rules.end(),
                     [&](std::size_t r) { return !rules[r].experimental && hits.contains(r); });
}

// Why a condition does not hold.
std::string ConditionUnmet(const ConditionGroup& group, const FiredRules& hits) {
  std::string names;
  for (const std::string& name : group.names) names += (names.empty() ? "" : ", ") + name;
  std::string why;
  if (group.key == "require") {
    why = "require: " + names + " did not fire";
  } else if (group.key == "require_any") {
    why = "require_any: none of " + names + " fired";
  } else {
    why = "any_of: none of [" + names + "] fired";
  }
  const bool experimental_fired = std::any_of(group.rules.begin(), group.rules.end(),
                                              [&](std::size_t r) { return hits.contains(r); });
  if (experimental_fired) why += " (only as an experimental rule, which never counts)";
  return why;
}

// One outlet's verdict from the rules that fired on the page; moves the outlet's hits out of
// `hits` (each rule belongs to one outlet). `first`..`last` are the outlet's entries of `hits`,
// sorted by rule index (file order, as in outlet.rules).
OutletScore ScoreOutlet(const Outlet& outlet, const std::vector<Rule>& rules, FiredRules* hits,
                        std::size_t first, std::size_t last) {
  OutletScore score;
  score.outlet = outlet.id;
  score.threshold = outlet.threshold;
  int fired = 0;
  int positive_stable_fired = 0;
  std::vector<FiredRule>& entries = hits->entries();
  for (std::size_t i = first; i < last; ++i) {
    const std::size_t r = entries[i].rule;
    ++fired;
    score.score += rules[r].weight;
    if (!rules[r].experimental) score.stable_score += rules[r].weight;
    positive_stable_fired += rules[r].positive_stable();
  }
  if (fired == 0) return score;

  const bool reached = score.stable_score + kScoreEpsilon >= score.threshold;
  const bool min_rules_hold = positive_stable_fired >= outlet.min_rules;
  bool conditions_hold = min_rules_hold;
  for (const ConditionGroup& group : outlet.conditions) {
    conditions_hold = conditions_hold && ConditionHolds(group, *hits, rules);
  }
  score.flagged = reached && conditions_hold;
  if (!score.flagged && (reached || score.score + kScoreEpsilon >= score.threshold)) {
    std::vector<std::string> unmet;
    if (!reached) {
      unmet.push_back("the stable rules score " + FormatNumber(score.stable_score) + " of " +
                      FormatNumber(score.threshold) + " (experimental rules are never decisive)");
    }
    for (const ConditionGroup& group : outlet.conditions) {
      if (!ConditionHolds(group, *hits, rules)) unmet.push_back(ConditionUnmet(group, *hits));
    }
    if (!min_rules_hold) {
      unmet.push_back("min_rules: " + std::to_string(positive_stable_fired) + " of " +
                      std::to_string(outlet.min_rules) + " positive stable rules fired");
    }
    for (const std::string& why : unmet) {
      score.unmet_condition += (score.unmet_condition.empty() ? "" : "; ") + why;
    }
  }
  score.hits.reserve(last - first);
  for (std::size_t i = first; i < last; ++i) score.hits.push_back(std::move(entries[i].hit));
  return score;
}

}  // namespace

SignatureSet::SignatureSet(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SignatureSet::~SignatureSet() = default;

std::unique_ptr<SignatureSet> SignatureSet::LoadFile(const std::string& path,
                                                     std::vector<SignatureDiagnostic>* errors) {
  std::string content, error;
  if (!ReadFile(path, &content, &error)) {
    if (errors != nullptr) errors->push_back({path, 0, 0, "cannot read file: " + error});
    return nullptr;
  }
  return LoadString(content, path, errors);
}

std::unique_ptr<SignatureSet> SignatureSet::LoadString(std::string_view yaml,
                                                       const std::string& name,
                                                       std::vector<SignatureDiagnostic>* errors) {
  std::vector<SignatureDiagnostic> ignored;
  if (errors == nullptr) errors = &ignored;
  try {
    Loader loader(errors);
    std::optional<Signatures> signatures = loader.Load(yaml, name);
    if (!signatures) return nullptr;
    auto impl = std::make_unique<Impl>();
    impl->signatures = std::move(*signatures);
    return std::unique_ptr<SignatureSet>(new SignatureSet(std::move(impl)));
  } catch (const std::exception& e) {  // allocation failure; the contract says never throws
    errors->push_back({name, 0, 0, std::string("cannot load signatures: ") + e.what()});
    return nullptr;
  }
}

std::vector<OutletScore> SignatureSet::Score(const Document& doc) const {
  const Signatures& signatures = impl_->signatures;
  FiredRules hits;
  std::vector<int> matched;
  for (std::size_t f = 0; f < kFieldCount; ++f) {
    const std::string& original = doc.fields[f];
    if (original.empty()) continue;
    const auto field = static_cast<Field>(f);
    if (const FieldMatcher& matcher = signatures.normalized[f]; matcher.set) {
      const NormalizedText normalized = NormalizeForMatch(original);
      MatchSet(matcher, normalized.text, &matched, &impl_->set_fallbacks);
      for (const int set_index : matched) {
        const std::size_t r = matcher.rules[static_cast<std::size_t>(set_index)];
        if (hits.contains(r)) continue;  // a rule counts once per page, in its first field
        DescribeHit(signatures.rules[r], r, field, original, normalized.text, &normalized.origin,
                    &hits);
      }
    }
    if (const FieldMatcher& matcher = signatures.raw[f]; matcher.set) {
      MatchSet(matcher, original, &matched, &impl_->set_fallbacks);
      for (const int set_index : matched) {
        const std::size_t r = matcher.rules[static_cast<std::size_t>(set_index)];
        if (hits.contains(r)) continue;
        DescribeHit(signatures.rules[r], r, field, original, original, nullptr, &hits);
      }
    }
  }

  // Only the outlets with a rule that fired, in file order; each one's hits in file order.
  std::vector<FiredRule>& entries = hits.entries();
  const auto outlet_of = [&](const FiredRule& e) { return signatures.rules[e.rule].outlet_index; };
  std::sort(entries.begin(), entries.end(), [&](const FiredRule& x, const FiredRule& y) {
    return std::pair(outlet_of(x), x.rule) < std::pair(outlet_of(y), y.rule);
  });
  std::vector<OutletScore> scores;
  for (std::size_t first = 0; first < entries.size();) {
    const std::size_t o = outlet_of(entries[first]);
    std::size_t last = first + 1;
    while (last < entries.size() && outlet_of(entries[last]) == o) ++last;
    OutletScore score = ScoreOutlet(signatures.outlets[o], signatures.rules, &hits, first, last);
    if (!score.hits.empty()) scores.push_back(std::move(score));
    first = last;
  }
  return scores;
}

std::size_t SignatureSet::rule_count() const { return impl_->signatures.rules.size(); }

std::vector<std::string> SignatureSet::outlets() const {
  std::vector<std::string> ids;
  for (const Outlet& outlet : impl_->signatures.outlets) ids.push_back(outlet.id);
  return ids;
}

std::vector<SignatureSet::RuleInfo> SignatureSet::rules() const {
  std::vector<RuleInfo> infos;
  for (const Rule& rule : impl_->signatures.rules) {
    RuleInfo info;
    info.id = rule.id;
    info.outlet = rule.outlet;
    info.description = rule.description;
    for (std::size_t f = 0; f < kFieldCount; ++f) {
      if (rule.fields[f]) info.fields.push_back(static_cast<Field>(f));
    }
    info.pattern = rule.re->pattern();
    info.weight = rule.weight;
    info.experimental = rule.experimental;
    info.tags = rule.tags;
    info.file = rule.position.file;
    info.line = rule.position.line;
    info.column = rule.position.column;
    info.normalize = rule.normalize;
    info.nocase = rule.nocase;
    info.word = rule.word;
    info.min_count = rule.min_count;
    info.author = rule.author;
    info.reference = rule.reference;
    info.created = rule.created;
    infos.push_back(std::move(info));
  }
  return infos;
}

std::vector<SignatureSet::OutletInfo> SignatureSet::outlet_info() const {
  std::vector<OutletInfo> infos;
  for (const Outlet& outlet : impl_->signatures.outlets) {
    infos.push_back({outlet.id, outlet.name, outlet.aliases, outlet.threshold, outlet.position.file,
                     outlet.position.line});
  }
  return infos;
}

std::string SignatureSet::sha256() const { return impl_->signatures.sha256; }

}  // namespace mw
