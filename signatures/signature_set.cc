#include "signatures/signature_set.h"

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
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
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

RE2::Options MatchOptions() {
  RE2::Options options;
  options.set_encoding(RE2::Options::EncodingUTF8);
  options.set_case_sensitive(false);
  options.set_max_mem(kMaxMem);
  options.set_log_errors(false);
  options.set_longest_match(false);
  return options;
}

struct Rule {
  std::string id;
  double weight = 0;
  std::vector<std::string> tags;
  bool meets_require_any = false;  // its id or a tag is in its outlet's require_any
  // The rule's full expression; capture group 1 is the rule's own match (without the word
  // boundary characters). Used only for the rules a set reports, to count and place matches.
  std::unique_ptr<RE2> re;
};

struct Outlet {
  std::string id;
  double threshold = 0;
  bool has_require_any = false;
  std::vector<std::size_t> rules;  // indices into Signatures::rules, file order
};

struct FieldMatcher {
  std::unique_ptr<RE2::Set> set;   // null when no rule looks at this field
  std::vector<std::size_t> rules;  // set index -> index into Signatures::rules
};

// A loaded file, compiled; immutable once loaded.
struct Signatures {
  std::vector<Outlet> outlets;
  std::vector<Rule> rules;
  std::array<FieldMatcher, kFieldCount> fields;
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
  return out + ": " + message;
}

namespace {

bool IsAscii(char c) { return static_cast<unsigned char>(c) < 0x80; }

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
// carries the regex syntax and is left alone (matching is case-insensitive) except that
// whitespace runs outside classes become one space, as on pages. Tracks escapes,
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

std::string FieldList() {
  std::string names;
  for (std::size_t f = 0; f < kFieldCount; ++f) {
    names += std::string(FieldName(static_cast<Field>(f))) + ", ";
  }
  return names + "any";
}

// Reads one signature file into Signatures, collecting every problem it finds rather than stopping
// at the first, so an operator fixes a file in one pass.
class Loader {
 public:
  Loader(std::string name, std::vector<SignatureDiagnostic>* errors)
      : name_(std::move(name)), errors_(errors) {}

  std::optional<Signatures> Load(std::string_view yaml) {
    YAML::Node root;
    try {
      root = YAML::Load(std::string(yaml));
    } catch (const YAML::Exception& e) {
      ErrorAt(e.mark, "YAML syntax error: " + e.msg);
      return std::nullopt;
    }
    Signatures signatures;
    signatures_ = &signatures;
    try {
      LoadRoot(root);
      if (error_count_ == 0) CompileSets();
    } catch (const YAML::Exception& e) {  // defensive: the checks above should prevent these
      ErrorAt(e.mark, "cannot read signature file: " + e.msg);
    }
    if (error_count_ > 0) return std::nullopt;
    return signatures;
  }

  void ErrorAt(const YAML::Mark& mark, std::string message) {
    SignatureDiagnostic d;
    d.file = name_;
    if (!mark.is_null()) {
      d.line = mark.line + 1;
      d.column = mark.column + 1;
    }
    d.message = std::move(message);
    errors_->push_back(std::move(d));
    ++error_count_;
  }

 private:
  void Error(const YAML::Node& node, std::string message) {
    ErrorAt(node.Mark(), std::move(message));
  }

  // Flags keys outside `allowed` (a typo such as `require-any` must not silently drop a
  // condition) and repeated keys (yaml-cpp keeps the first without complaint).
  void CheckKeys(const YAML::Node& map, std::initializer_list<std::string_view> allowed,
                 std::string_view what) {
    std::map<std::string, int, std::less<>> seen;
    for (const auto& entry : map) {
      const std::string key = entry.first.IsScalar() ? entry.first.Scalar() : std::string();
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
        Error(entry.first, "unknown key '" + key + "' in " + std::string(what));
      } else if (!seen.emplace(key, entry.first.Mark().line + 1).second) {
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
        ErrorAt(mark, std::string("'") + key + "' entries must not be empty");
        return std::nullopt;
      }
    }
    return items;
  }

  void LoadRoot(const YAML::Node& root) {
    if (!root.IsMap()) {
      Error(root, "a signature file is a mapping with 'version' and 'outlets'");
      return;
    }
    CheckKeys(root, {"version", "outlets"}, "the top level");
    const YAML::Node version = root["version"];
    int version_number = 0;
    if (!version) {
      Error(root, "missing 'version' (this loader reads version 1)");
    } else if (!YAML::convert<int>::decode(version, version_number) || version_number != 1) {
      Error(version, "unsupported version '" + (version.IsScalar() ? version.Scalar() : "") +
                         "' (this loader reads version 1)");
    }
    const YAML::Node outlets = root["outlets"];
    if (!outlets || !outlets.IsSequence() || outlets.size() == 0) {
      Error(outlets ? outlets : root, "'outlets' must be a non-empty list");
      return;
    }
    for (const auto& outlet : outlets) LoadOutlet(outlet);
  }

  void LoadOutlet(const YAML::Node& node) {
    if (!node.IsMap()) {
      Error(node, "an outlet is a mapping with 'id', 'threshold' and 'rules'");
      return;
    }
    CheckKeys(node, {"id", "name", "threshold", "require_any", "rules"}, "an outlet");
    Outlet outlet;
    const std::optional<std::string> id = RequiredString(node, "id", "an outlet");
    if (id) {
      outlet.id = *id;
      if (const auto [it, inserted] = outlet_lines_.emplace(*id, node["id"].Mark().line + 1);
          !inserted) {
        Error(node["id"], "duplicate outlet id '" + *id + "' (first defined at line " +
                              std::to_string(it->second) + ")");
      }
    }
    if (const YAML::Node name = node["name"]; name && !name.IsScalar()) {
      Error(name, "'name' must be a string");
    }
    if (const std::optional<double> threshold = RequiredNumber(node, "threshold", "an outlet")) {
      outlet.threshold = *threshold;
      // Only outlets with a hit are scored; a threshold <= 0 would flag a page on which nothing
      // but evidence against the outlet fired.
      if (outlet.threshold <= 0) Error(node["threshold"], "'threshold' must be positive");
    }
    const YAML::Node rules = node["rules"];
    if (!rules || !rules.IsSequence() || rules.size() == 0) {
      Error(rules ? rules : node, "'rules' must be a non-empty list");
    } else {
      for (const auto& rule : rules) LoadRule(rule, &outlet);
    }
    if (const YAML::Node require_any = node["require_any"]) {
      LoadRequireAny(require_any, &outlet);
    }
    signatures_->outlets.push_back(std::move(outlet));
  }

  void LoadRequireAny(const YAML::Node& node, Outlet* outlet) {
    const auto names = StringList(node, "require_any");
    if (!names) return;
    outlet->has_require_any = true;
    for (const auto& [name, mark] : *names) {
      bool known = false;
      for (const std::size_t index : outlet->rules) {
        Rule& rule = signatures_->rules[index];
        if (rule.id == name ||
            std::find(rule.tags.begin(), rule.tags.end(), name) != rule.tags.end()) {
          rule.meets_require_any = true;
          known = true;
        }
      }
      if (!known) {
        ErrorAt(mark, "require_any: '" + name +
                          "' is neither the id nor a tag of a rule of outlet '" + outlet->id + "'");
      }
    }
  }

  void LoadRule(const YAML::Node& node, Outlet* outlet) {
    if (!node.IsMap()) {
      Error(node, "a rule is a mapping with 'id', 'fields', 'pattern' or 'literal', and 'weight'");
      return;
    }
    CheckKeys(node, {"id", "fields", "pattern", "literal", "word", "weight", "tags"}, "a rule");
    const std::size_t errors_before = error_count_;
    Rule rule;
    if (const std::optional<std::string> id = RequiredString(node, "id", "a rule")) {
      rule.id = *id;
      if (const auto [it, inserted] = rule_lines_.emplace(*id, node["id"].Mark().line + 1);
          !inserted) {
        Error(node["id"], "duplicate rule id '" + *id + "' (first defined at line " +
                              std::to_string(it->second) + ")");
      }
    }
    if (const std::optional<double> weight = RequiredNumber(node, "weight", "a rule")) {
      rule.weight = *weight;
    }
    std::array<bool, kFieldCount> fields{};
    if (const YAML::Node fields_node = node["fields"]; !fields_node) {
      Error(node, "missing 'fields' in a rule");
    } else if (const auto names = StringList(fields_node, "fields")) {
      for (const auto& [name, mark] : *names) {
        if (name == "any") {
          fields.fill(true);
        } else if (const std::optional<Field> field = FieldFromName(name)) {
          fields[static_cast<std::size_t>(*field)] = true;
        } else {
          ErrorAt(mark, "unknown field '" + name + "' (fields are " + FieldList() + ")");
        }
      }
    }
    if (const YAML::Node tags = node["tags"]) {
      if (const auto names = StringList(tags, "tags")) {
        for (const auto& item : *names) rule.tags.push_back(item.first);
      }
    }
    bool word = false;
    if (const YAML::Node word_node = node["word"];
        word_node && !YAML::convert<bool>::decode(word_node, word)) {
      Error(word_node, "'word' must be true or false");
    }
    if (const std::optional<std::string> expression = RuleExpression(node, word)) {
      const YAML::Node source = node["pattern"] ? node["pattern"] : node["literal"];
      rule.re = std::make_unique<RE2>(*expression, MatchOptions());
      if (!rule.re->ok()) {
        Error(source, "invalid pattern: " + rule.re->error());
      } else if (MatchesEmptyText(*rule.re)) {
        Error(source, "pattern matches empty text, so it would fire on every page");
      }
    }
    // A broken rule is still recorded (the file fails to load anyway) so that require_any can
    // name it without a second, misleading error.
    const std::size_t index = signatures_->rules.size();
    if (error_count_ == errors_before) {
      for (std::size_t f = 0; f < kFieldCount; ++f) {
        if (fields[f]) signatures_->fields[f].rules.push_back(index);
      }
    }
    outlet->rules.push_back(index);
    signatures_->rules.push_back(std::move(rule));
  }

  // The RE2 text for a rule: its normalised pattern or quoted literals as capture group 1,
  // wrapped in Unicode word boundaries when `word` is set.
  std::optional<std::string> RuleExpression(const YAML::Node& node, bool word) {
    const YAML::Node pattern = node["pattern"];
    const YAML::Node literal = node["literal"];
    if (pattern && literal) {
      Error(node, "a rule has both 'pattern' and 'literal'; use one");
      return std::nullopt;
    }
    std::string inner;
    if (pattern) {
      if (!pattern.IsScalar() || pattern.Scalar().empty()) {
        Error(pattern, "'pattern' must be a non-empty string");
        return std::nullopt;
      }
      inner = NormalizePattern(pattern.Scalar());
      // Validate alone first, so RE2's reason refers to the author's pattern, not the wrapper.
      RE2 alone(inner, MatchOptions());
      if (!alone.ok()) {
        Error(pattern, "invalid pattern: " + alone.error());
        return std::nullopt;
      }
    } else if (literal) {
      const auto strings = StringList(literal, "literal");
      if (!strings) return std::nullopt;
      for (const auto& [text, mark] : *strings) {
        const std::string normalized = NormalizeForMatch(text).text;
        if (normalized.empty() || normalized == " ") {
          ErrorAt(mark, "literal '" + text + "' is empty once normalised");
          return std::nullopt;
        }
        if (!inner.empty()) inner += '|';
        inner += RE2::QuoteMeta(normalized);
      }
    } else {
      Error(node, "a rule has neither 'pattern' nor 'literal'");
      return std::nullopt;
    }
    std::string expression = "(" + inner + ")";
    if (word) expression = std::string(kWordBefore) + expression + std::string(kWordAfter);
    return expression;
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

  void CompileSets() {
    for (std::size_t f = 0; f < kFieldCount; ++f) {
      FieldMatcher& matcher = signatures_->fields[f];
      if (matcher.rules.empty()) continue;
      matcher.set = std::make_unique<RE2::Set>(MatchOptions(), RE2::UNANCHORED);
      for (const std::size_t index : matcher.rules) {
        std::string error;
        if (matcher.set->Add(signatures_->rules[index].re->pattern(), &error) < 0) {
          ErrorAt(YAML::Mark::null_mark(),
                  "rule '" + signatures_->rules[index].id + "' cannot join the set for field '" +
                      std::string(FieldName(static_cast<Field>(f))) + "': " + error);
        }
      }
      if (!matcher.set->Compile()) {
        ErrorAt(YAML::Mark::null_mark(), "the rules for field '" +
                                             std::string(FieldName(static_cast<Field>(f))) +
                                             "' do not compile within the memory budget (" +
                                             std::to_string(kMaxMem >> 20) + " MiB)");
      }
    }
  }

  std::string name_;
  std::vector<SignatureDiagnostic>* errors_;
  std::size_t error_count_ = 0;
  Signatures* signatures_ = nullptr;  // being filled by Load()
  std::map<std::string, int, std::less<>> rule_lines_;
  std::map<std::string, int, std::less<>> outlet_lines_;
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
  bool pending_space = false;
  std::size_t i = begin;
  while (i < end) {
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

// Counts a rule's matches in one field's normalised text and cuts a snippet of the original
// text around the first. Returns nullopt if the rule does not match after all.
std::optional<RuleHit> DescribeHit(const Rule& rule, Field field, std::string_view original,
                                   const NormalizedText& normalized) {
  const re2::StringPiece text(normalized.text);
  std::size_t first_begin = 0, first_end = 0;
  int count = 0;
  std::size_t pos = 0;
  re2::StringPiece group[2];
  while (count < kMaxCountedMatches && pos <= text.size() &&
         rule.re->Match(text, pos, text.size(), RE2::UNANCHORED, group, 2)) {
    const auto begin = static_cast<std::size_t>(group[1].data() - text.data());
    const std::size_t end = begin + group[1].size();
    if (count == 0) {
      first_begin = begin;
      first_end = end;
    }
    ++count;
    // Restart at the end of the rule's own match: the boundary character after it may be the
    // boundary before the next one.
    pos = end > pos ? end : pos + 1;
  }
  if (count == 0) return std::nullopt;

  const std::vector<std::uint32_t>& origin = normalized.origin;
  const std::size_t match_begin = origin[first_begin];
  std::size_t match_end = origin[first_end];
  if (first_end > first_begin && match_end <= origin[first_end - 1]) {
    // The match ends inside one character's expansion (a ligature): take the whole character.
    match_end = ForwardCodePoints(original, origin[first_end - 1], original.size(), 1);
  }
  std::size_t snippet_end = ForwardCodePoints(original, match_begin, match_end, kSnippetMaxMatch);
  if (snippet_end == match_end) {
    snippet_end = ForwardCodePoints(original, match_end, original.size(), kSnippetContext);
  }
  const std::size_t snippet_begin = BackCodePoints(original, match_begin, kSnippetContext);

  RuleHit hit;
  hit.rule_id = rule.id;
  hit.field = field;
  hit.weight = rule.weight;
  hit.count = count;
  hit.snippet = CleanSnippet(original, snippet_begin, snippet_end);
  return hit;
}

}  // namespace

SignatureSet::SignatureSet(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SignatureSet::~SignatureSet() = default;

std::unique_ptr<SignatureSet> SignatureSet::LoadFile(const std::string& path,
                                                     std::vector<SignatureDiagnostic>* errors) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream content;
  if (in) content << in.rdbuf();
  if (!in || in.bad()) {
    errors->push_back({path, 0, 0, std::string("cannot read file: ") + std::strerror(errno)});
    return nullptr;
  }
  return LoadString(content.str(), path, errors);
}

std::unique_ptr<SignatureSet> SignatureSet::LoadString(std::string_view yaml,
                                                       const std::string& name,
                                                       std::vector<SignatureDiagnostic>* errors) {
  std::vector<SignatureDiagnostic> ignored;
  if (errors == nullptr) errors = &ignored;
  try {
    Loader loader(name, errors);
    std::optional<Signatures> signatures = loader.Load(yaml);
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
  std::vector<std::optional<RuleHit>> hits(signatures.rules.size());
  std::vector<int> matched;
  for (std::size_t f = 0; f < kFieldCount; ++f) {
    const FieldMatcher& matcher = signatures.fields[f];
    const std::string& original = doc.fields[f];
    if (!matcher.set || original.empty()) continue;
    const NormalizedText normalized = NormalizeForMatch(original);
    matched.clear();
    RE2::Set::ErrorInfo error_info{RE2::Set::kNoError};
    if (!matcher.set->Match(normalized.text, &matched, &error_info) &&
        error_info.kind != RE2::Set::kNoError) {
      // The set's DFA gave up (out of memory): that is "not scanned", not "no match". Every
      // rule's own RE2 falls back to the NFA when its DFA gives up, so this is slow but exact.
      impl_->set_fallbacks.fetch_add(1, std::memory_order_relaxed);
      matched.clear();
      for (std::size_t i = 0; i < matcher.rules.size(); ++i) matched.push_back(static_cast<int>(i));
    }
    for (const int set_index : matched) {
      const std::size_t rule_index = matcher.rules[static_cast<std::size_t>(set_index)];
      if (hits[rule_index]) continue;  // a rule counts once per page, in its first field
      hits[rule_index] =
          DescribeHit(signatures.rules[rule_index], static_cast<Field>(f), original, normalized);
    }
  }

  std::vector<OutletScore> scores;
  for (const Outlet& outlet : signatures.outlets) {
    OutletScore score;
    score.outlet = outlet.id;
    score.threshold = outlet.threshold;
    bool condition_holds = !outlet.has_require_any;
    for (const std::size_t rule_index : outlet.rules) {
      if (!hits[rule_index]) continue;
      const Rule& rule = signatures.rules[rule_index];
      score.score += rule.weight;
      condition_holds = condition_holds || rule.meets_require_any;
      score.hits.push_back(std::move(*hits[rule_index]));
    }
    if (score.hits.empty()) continue;
    score.flagged = condition_holds && score.score + kScoreEpsilon >= score.threshold;
    scores.push_back(std::move(score));
  }
  return scores;
}

std::size_t SignatureSet::rule_count() const { return impl_->signatures.rules.size(); }

std::vector<std::string> SignatureSet::outlets() const {
  std::vector<std::string> ids;
  for (const Outlet& outlet : impl_->signatures.outlets) ids.push_back(outlet.id);
  return ids;
}

}  // namespace mw
