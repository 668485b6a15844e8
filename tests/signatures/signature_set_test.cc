#include "signatures/signature_set.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace mw {
namespace {

// Loads `yaml`; an error fails the test, warnings are the business of the tests about them.
std::unique_ptr<SignatureSet> Load(const std::string& yaml) {
  std::vector<SignatureDiagnostic> diagnostics;
  std::unique_ptr<SignatureSet> set = SignatureSet::LoadString(yaml, "test.yaml", &diagnostics);
  for (const SignatureDiagnostic& d : diagnostics) {
    if (!d.warning) ADD_FAILURE() << d.ToString();
  }
  return set;
}

std::vector<SignatureDiagnostic> Only(const std::vector<SignatureDiagnostic>& diagnostics,
                                      bool warnings) {
  std::vector<SignatureDiagnostic> out;
  for (const SignatureDiagnostic& d : diagnostics) {
    if (d.warning == warnings) out.push_back(d);
  }
  return out;
}

// A file with one outlet "amaq" (threshold 10, no condition) holding the given rules.
std::unique_ptr<SignatureSet> LoadRules(const std::string& rules_yaml,
                                        const std::string& threshold = "10") {
  return Load("version: 1\noutlets:\n  - id: amaq\n    threshold: " + threshold + "\n    rules:\n" +
              rules_yaml);
}

// `text` as the inside of a double-quoted YAML scalar.
std::string Escaped(const std::string& text) {
  std::string out;
  for (const char c : text) {
    if (c == '\\' || c == '"') out += '\\';
    out += c;
  }
  return out;
}

Document Page(std::vector<std::pair<Field, std::string>> texts) {
  Document doc;
  for (auto& [field, text] : texts) doc.text(field) = std::move(text);
  return doc;
}

std::string Join(const std::vector<SignatureDiagnostic>& errors) {
  std::string out;
  for (const SignatureDiagnostic& error : errors) out += error.ToString() + "\n";
  return out;
}

// --- Loading errors -------------------------------------------------------------------------

TEST(SignatureSetLoad, EachErrorNamesItsLineAndReason) {
  const struct {
    const char* why;
    std::string yaml;
    int line;
    int column;
    std::string message;  // a substring of the diagnostic
  } cases[] = {
      {"YAML syntax error",
       "version: 1\n"
       "outlets:\n"
       "  - id: amaq\n"
       "    threshold: [10\n",
       5, 1, "YAML syntax error"},
      {"missing threshold points at the outlet",
       "version: 1\n"
       "outlets:\n"
       "  - id: amaq\n"
       "    rules:\n"
       "      - {id: a, fields: [title], literal: amaq, weight: 1}\n",
       3, 5, "missing 'threshold'"},
      {"non-numeric threshold points at the value",
       "version: 1\n"
       "outlets:\n"
       "  - id: amaq\n"
       "    threshold: ten\n"
       "    rules:\n"
       "      - {id: a, fields: [title], literal: amaq, weight: 1}\n",
       4, 16, "'threshold' must be a number, not 'ten'"},
      {"missing weight points at the rule",
       "version: 1\n"
       "outlets:\n"
       "  - id: amaq\n"
       "    threshold: 10\n"
       "    rules:\n"
       "      - id: a\n"
       "        fields: [title]\n"
       "        literal: amaq\n",
       6, 9, "missing 'weight'"},
      {"non-numeric weight",
       "version: 1\n"
       "outlets:\n"
       "  - id: amaq\n"
       "    threshold: 10\n"
       "    rules:\n"
       "      - id: a\n"
       "        fields: [title]\n"
       "        literal: amaq\n"
       "        weight: heavy\n",
       9, 17, "'weight' must be a number"},
      {"unknown field points at the entry",
       "version: 1\n"
       "outlets:\n"
       "  - id: amaq\n"
       "    threshold: 10\n"
       "    rules:\n"
       "      - id: a\n"
       "        fields: [title, titel]\n"
       "        literal: amaq\n"
       "        weight: 1\n",
       7, 25, "unknown field 'titel'"},
      {"neither pattern nor literal",
       "version: 1\n"
       "outlets:\n"
       "  - id: amaq\n"
       "    threshold: 10\n"
       "    rules:\n"
       "      - id: a\n"
       "        fields: [title]\n"
       "        weight: 1\n",
       6, 9, "neither 'pattern' nor 'literal'"},
      {"both pattern and literal",
       "version: 1\n"
       "outlets:\n"
       "  - id: amaq\n"
       "    threshold: 10\n"
       "    rules:\n"
       "      - id: a\n"
       "        fields: [title]\n"
       "        pattern: amaq\n"
       "        literal: amaq\n"
       "        weight: 1\n",
       6, 9, "both 'pattern' and 'literal'"},
      {"duplicate rule id points at the second and names the first",
       "version: 1\n"
       "outlets:\n"
       "  - id: amaq\n"
       "    threshold: 10\n"
       "    rules:\n"
       "      - {id: amaq.title, fields: [title], literal: amaq, weight: 1}\n"
       "  - id: nashir\n"
       "    threshold: 10\n"
       "    rules:\n"
       "      - {id: amaq.title, fields: [title], literal: nashir, weight: 1}\n",
       10, 14, "duplicate rule id 'amaq.title' (first defined at line 6)"},
      {"duplicate outlet id",
       "version: 1\n"
       "outlets:\n"
       "  - id: amaq\n"
       "    threshold: 10\n"
       "    rules: [{id: a, fields: [title], literal: amaq, weight: 1}]\n"
       "  - id: amaq\n"
       "    threshold: 10\n"
       "    rules: [{id: b, fields: [title], literal: amaq, weight: 1}]\n",
       6, 9, "duplicate outlet id 'amaq'"},
      {"regex RE2 rejects, with RE2's reason",
       "version: 1\n"
       "outlets:\n"
       "  - id: amaq\n"
       "    threshold: 10\n"
       "    rules:\n"
       "      - id: a\n"
       "        fields: [title]\n"
       "        pattern: '\u0627\u0639\u0645\u0627\u0642(('\n"
       "        weight: 1\n",
       8, 18, "invalid pattern: missing ): "},
      {"a pattern that matches empty text would fire everywhere",
       "version: 1\n"
       "outlets:\n"
       "  - id: amaq\n"
       "    threshold: 10\n"
       "    rules:\n"
       "      - id: a\n"
       "        fields: [title]\n"
       "        pattern: 'amaq|'\n"
       "        weight: 1\n",
       8, 18, "pattern matches empty text"},
      {"a literal of diacritics only is empty once normalised",
       "version: 1\n"
       "outlets:\n"
       "  - id: amaq\n"
       "    threshold: 10\n"
       "    rules:\n"
       "      - id: a\n"
       "        fields: [title]\n"
       "        literal: [amaq, \"\u064E\u0651\"]\n"
       "        weight: 1\n",
       8, 25, "is empty once normalised"},
      {"unknown id or tag in require_any",
       "version: 1\n"
       "outlets:\n"
       "  - id: amaq\n"
       "    threshold: 10\n"
       "    require_any: [identity, identiy]\n"
       "    rules:\n"
       "      - {id: a, fields: [title], literal: amaq, weight: 1, tags: [identity]}\n",
       5, 29, "'identiy' is neither the id nor a tag of a rule of outlet 'amaq'"},
      {"a misspelt key must not silently drop a condition",
       "version: 1\n"
       "outlets:\n"
       "  - id: amaq\n"
       "    threshold: 10\n"
       "    require-any: [a]\n"
       "    rules:\n"
       "      - {id: a, fields: [title], literal: amaq, weight: 1}\n",
       5, 5, "unknown key 'require-any' in an outlet"},
      {"word must be a boolean",
       "version: 1\n"
       "outlets:\n"
       "  - id: amaq\n"
       "    threshold: 10\n"
       "    rules:\n"
       "      - {id: a, fields: [title], literal: amaq, weight: 1, word: maybe}\n",
       6, 66, "'word' must be true or false"},
      {"a threshold of zero would flag pages where only evidence against fired",
       "version: 1\n"
       "outlets:\n"
       "  - id: amaq\n"
       "    threshold: 0\n"
       "    rules:\n"
       "      - {id: a, fields: [title], literal: amaq, weight: 1}\n",
       4, 16, "'threshold' must be positive"},
      {"unsupported version",
       "version: 2\n"
       "outlets:\n"
       "  - id: amaq\n"
       "    threshold: 10\n"
       "    rules:\n"
       "      - {id: a, fields: [title], literal: amaq, weight: 1}\n",
       1, 10, "unsupported version '2'"},
      {"no outlets",
       "version: 1\n"
       "outlets: []\n",
       2, 10, "'outlets' must be a non-empty list"},
      {"neither outlets nor include", "version: 1\n", 1, 1, "'outlets' must be a non-empty list"},
      {"unknown top-level key",
       "version: 1\n"
       "includes: [more.yaml]\n"
       "outlets:\n"
       "  - id: amaq\n"
       "    threshold: 1\n"
       "    rules: [{id: a, fields: [title], literal: amaq, weight: 1}]\n",
       2, 1, "unknown key 'includes' in the top level"},
      {"unknown rule key",
       "version: 1\n"
       "outlets:\n"
       "  - id: amaq\n"
       "    threshold: 1\n"
       "    rules:\n"
       "      - id: a\n"
       "        fields: [title]\n"
       "        literal: amaq\n"
       "        weight: 1\n"
       "        colour: red\n",
       10, 9, "unknown key 'colour' in a rule"},
      {"created is not a real day",
       "version: 1\n"
       "outlets:\n"
       "  - id: amaq\n"
       "    threshold: 1\n"
       "    rules:\n"
       "      - id: a\n"
       "        fields: [title]\n"
       "        literal: amaq\n"
       "        weight: 1\n"
       "        created: 2026-02-29\n",
       10, 18, "'created' must be a date YYYY-MM-DD, not '2026-02-29'"},
      {"created is not YYYY-MM-DD",
       "version: 1\n"
       "outlets:\n"
       "  - id: amaq\n"
       "    threshold: 1\n"
       "    rules:\n"
       "      - {id: a, fields: [title], literal: amaq, weight: 1, created: 28.11.2026}\n",
       6, 69, "'created' must be a date YYYY-MM-DD, not '28.11.2026'"},
      {"status other than stable or experimental",
       "version: 1\n"
       "outlets:\n"
       "  - id: amaq\n"
       "    threshold: 1\n"
       "    rules:\n"
       "      - {id: a, fields: [title], literal: amaq, weight: 1, status: beta}\n",
       6, 68, "'status' must be 'stable' or 'experimental', not 'beta'"},
      {"min_count of zero",
       "version: 1\n"
       "outlets:\n"
       "  - id: amaq\n"
       "    threshold: 1\n"
       "    rules:\n"
       "      - {id: a, fields: [title], literal: amaq, weight: 1, min_count: 0}\n",
       6, 71, "'min_count' must be a whole number from 1 to 100, not '0'"},
      {"min_count above what is counted",
       "version: 1\n"
       "outlets:\n"
       "  - id: amaq\n"
       "    threshold: 1\n"
       "    rules:\n"
       "      - {id: a, fields: [title], literal: amaq, weight: 1, min_count: 101}\n",
       6, 71, "'min_count' must be a whole number from 1 to 100, not '101'"},
      {"min_rules that is not a number",
       "version: 1\n"
       "outlets:\n"
       "  - id: amaq\n"
       "    threshold: 1\n"
       "    min_rules: two\n"
       "    rules: [{id: a, fields: [title], literal: amaq, weight: 1}]\n",
       5, 16, "'min_rules' must be a whole number from 1 to 1000, not 'two'"},
      {"nocase must be a boolean",
       "version: 1\n"
       "outlets:\n"
       "  - id: amaq\n"
       "    threshold: 1\n"
       "    rules:\n"
       "      - {id: a, fields: [title], literal: amaq, weight: 1, nocase: sometimes}\n",
       6, 68, "'nocase' must be true or false"},
      {"normalize must be a boolean",
       "version: 1\n"
       "outlets:\n"
       "  - id: amaq\n"
       "    threshold: 1\n"
       "    rules:\n"
       "      - {id: a, fields: [title], literal: amaq, weight: 1, normalize: raw}\n",
       6, 71, "'normalize' must be true or false"},
      {"description must be a string",
       "version: 1\n"
       "outlets:\n"
       "  - id: amaq\n"
       "    threshold: 1\n"
       "    rules:\n"
       "      - {id: a, fields: [title], literal: amaq, weight: 1, description: [x]}\n",
       6, 73, "'description' must be a string"},
      {"a rule id with a space",
       "version: 1\n"
       "outlets:\n"
       "  - id: amaq\n"
       "    threshold: 1\n"
       "    rules:\n"
       "      - {id: amaq title, fields: [title], literal: amaq, weight: 1}\n",
       6, 14, "rule id 'amaq title' may contain only letters, digits, '.', '_' and '-'"},
      {"empty aliases",
       "version: 1\n"
       "outlets:\n"
       "  - id: amaq\n"
       "    aliases: []\n"
       "    threshold: 1\n"
       "    rules: [{id: a, fields: [title], literal: amaq, weight: 1}]\n",
       4, 14, "'aliases' is empty"},
      {"unknown id or tag in require",
       "version: 1\n"
       "outlets:\n"
       "  - id: amaq\n"
       "    threshold: 1\n"
       "    require: [identity, amaq.lgo]\n"
       "    rules:\n"
       "      - {id: amaq.logo, fields: [logo], literal: amaq, weight: 1, tags: [identity]}\n",
       5, 25, "require: 'amaq.lgo' is neither the id nor a tag of a rule of outlet 'amaq'"},
      {"unknown id or tag in an any_of group",
       "version: 1\n"
       "outlets:\n"
       "  - id: amaq\n"
       "    threshold: 1\n"
       "    any_of: [[a], [b, c]]\n"
       "    rules:\n"
       "      - {id: a, fields: [title], literal: amaq, weight: 1}\n"
       "      - {id: b, fields: [logo], literal: amaq, weight: 1}\n",
       5, 23, "any_of: 'c' is neither the id nor a tag of a rule of outlet 'amaq'"},
      {"any_of is a list of groups",
       "version: 1\n"
       "outlets:\n"
       "  - id: amaq\n"
       "    threshold: 1\n"
       "    any_of: a\n"
       "    rules:\n"
       "      - {id: a, fields: [title], literal: amaq, weight: 1}\n",
       5, 13, "'any_of' must be a non-empty list of groups"},
      {"an outlet without rules anywhere",
       "version: 1\n"
       "outlets:\n"
       "  - id: amaq\n"
       "    threshold: 1\n",
       3, 9, "outlet 'amaq' has no rules"},
      {"extend names an outlet no file declares",
       "version: 1\n"
       "outlets:\n"
       "  - id: amaq\n"
       "    threshold: 1\n"
       "    rules: [{id: a, fields: [title], literal: amaq, weight: 1}]\n"
       "  - extend: nashir\n"
       "    rules: [{id: n, fields: [title], literal: nashir, weight: 1}]\n",
       6, 13, "extend: no loaded file declares outlet 'nashir'"},
      {"an extension only adds rules",
       "version: 1\n"
       "outlets:\n"
       "  - id: amaq\n"
       "    threshold: 1\n"
       "    rules: [{id: a, fields: [title], literal: amaq, weight: 1}]\n"
       "  - extend: amaq\n"
       "    threshold: 5\n"
       "    rules: [{id: b, fields: [logo], literal: amaq, weight: 1}]\n",
       7, 5, "unknown key 'threshold' in an outlet extension (it only adds rules)"},
  };
  for (const auto& c : cases) {
    std::vector<SignatureDiagnostic> diagnostics;
    EXPECT_EQ(SignatureSet::LoadString(c.yaml, "outlets.yaml", &diagnostics), nullptr) << c.why;
    const std::vector<SignatureDiagnostic> errors = Only(diagnostics, false);
    ASSERT_EQ(errors.size(), 1u) << c.why << ":\n" << Join(diagnostics);
    EXPECT_EQ(errors[0].file, "outlets.yaml") << c.why;
    EXPECT_EQ(errors[0].line, c.line) << c.why << ": " << errors[0].ToString();
    EXPECT_EQ(errors[0].column, c.column) << c.why << ": " << errors[0].ToString();
    EXPECT_NE(errors[0].message.find(c.message), std::string::npos)
        << c.why << ": " << errors[0].ToString();
  }
}

TEST(SignatureSetLoad, ReportsEveryErrorInOnePass) {
  std::vector<SignatureDiagnostic> errors;
  const std::string yaml =
      "version: 1\n"
      "outlets:\n"
      "  - id: amaq\n"
      "    threshold: ten\n"
      "    rules:\n"
      "      - {id: a, fields: [body], literal: amaq}\n"
      "      - {id: b, fields: [logo], pattern: '(', weight: 1}\n";
  EXPECT_EQ(SignatureSet::LoadString(yaml, "f.yaml", &errors), nullptr);
  errors = Only(errors, false);
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_EQ(errors[0].line, 4);
  EXPECT_EQ(errors[1].line, 6);
  EXPECT_EQ(errors[2].line, 7);
}

TEST(SignatureSetLoad, DiagnosticToString) {
  EXPECT_EQ((SignatureDiagnostic{"f.yaml", 3, 7, "bad"}).ToString(), "f.yaml:3:7: error: bad");
  EXPECT_EQ((SignatureDiagnostic{"f.yaml", 3, 0, "bad"}).ToString(), "f.yaml:3: error: bad");
  EXPECT_EQ((SignatureDiagnostic{"f.yaml", 0, 0, "unreadable"}).ToString(),
            "f.yaml: error: unreadable");
  EXPECT_EQ((SignatureDiagnostic{"f.yaml", 9, 5, "too broad", true}).ToString(),
            "f.yaml:9:5: warning: too broad");
}

TEST(SignatureSetLoad, MissingFileIsAnErrorNotAThrow) {
  std::vector<SignatureDiagnostic> errors;
  EXPECT_EQ(SignatureSet::LoadFile("/nonexistent/outlets.yaml", &errors), nullptr);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].line, 0);
  EXPECT_NE(errors[0].message.find("cannot read"), std::string::npos);
}

TEST(SignatureSetLoad, CountsRulesAndListsOutletsInFileOrder) {
  const auto set = Load(
      "version: 1\n"
      "outlets:\n"
      "  - id: nashir\n"
      "    threshold: 5\n"
      "    rules:\n"
      "      - {id: n1, fields: [title], literal: nashir, weight: 5}\n"
      "      - {id: n2, fields: [any], literal: nashir news, weight: 1}\n"
      "  - id: amaq\n"
      "    threshold: 5\n"
      "    rules:\n"
      "      - {id: a1, fields: title, literal: amaq, weight: 5}\n");
  ASSERT_NE(set, nullptr);
  EXPECT_EQ(set->rule_count(), 3u);
  EXPECT_EQ(set->outlets(), (std::vector<std::string>{"nashir", "amaq"}));
}

TEST(SignatureSetLoad, StockFileLoadsWithoutErrorsOrWarnings) {
  const std::string path = std::string(MW_SOURCE_DIR) + "/signatures/rules/outlets.yaml";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << path << " not written yet";
  std::vector<SignatureDiagnostic> diagnostics;
  const auto set = SignatureSet::LoadFile(path, &diagnostics);
  for (const SignatureDiagnostic& d : diagnostics) ADD_FAILURE() << d.ToString();
  ASSERT_NE(set, nullptr);
  EXPECT_GT(set->rule_count(), 0u);
  EXPECT_EQ(set->rules().size(), set->rule_count());
  EXPECT_EQ(set->outlet_info().size(), set->outlets().size());
  EXPECT_EQ(set->sha256().size(), 64u);
}

// --- Warnings -------------------------------------------------------------------------------

// A file with one outlet "amaq" (threshold 1) holding the given rules: nothing but the rules
// themselves can draw a warning.
std::string OneOutlet(const std::string& rules_yaml, const std::string& outlet_keys = "") {
  return "version: 1\noutlets:\n  - id: amaq\n    threshold: 1\n" + outlet_keys + "    rules:\n" +
         rules_yaml;
}

TEST(SignatureSetLoad, EachWarningNamesItsLineAndTheLoadStillSucceeds) {
  const struct {
    const char* why;
    std::string yaml;
    int line;
    int column;
    std::string message;  // a substring of the first warning
    std::size_t warnings = 1;
  } cases[] = {
      {"a threshold above every positive stable weight together",
       "version: 1\n"
       "outlets:\n"
       "  - id: amaq\n"
       "    threshold: 10\n"
       "    rules:\n"
       "      - {id: a, fields: [title], literal: amaq, weight: 4}\n"
       "      - {id: b, fields: [logo], literal: amaq, weight: 5}\n"
       "      - {id: c, fields: [footer], literal: amaq, weight: 5, status: experimental}\n"
       "      - {id: d, fields: [body], literal: fact check, weight: -5}\n",
       3, 9,
       "outlet 'amaq' can never be flagged: its threshold 10 exceeds the sum of its positive "
       "stable weights (9)"},
      {"min_rules above the number of positive stable rules",
       OneOutlet("      - {id: a, fields: [title], literal: amaq, weight: 1}\n"
                 "      - {id: b, fields: [logo], literal: amaq, weight: 1}\n"
                 "      - {id: c, fields: [body], literal: fact check, weight: -1}\n",
                 "    min_rules: 3\n"),
       3, 9,
       "outlet 'amaq' can never be flagged: min_rules 3 exceeds its 2 positive-weight stable "
       "rules"},
      {"require naming only an experimental rule",
       OneOutlet("      - {id: a, fields: [title], literal: amaq, weight: 1}\n"
                 "      - {id: b, fields: [logo], literal: amaq, weight: 1, status: "
                 "experimental}\n",
                 "    require: [a, b]\n"),
       5, 18, "require: b names only experimental rules, which never count towards a verdict"},
      {"an any_of group of experimental rules only",
       OneOutlet("      - {id: a, fields: [title], literal: amaq, weight: 1}\n"
                 "      - {id: b, fields: [logo], literal: amaq, weight: 1, tags: [new], status: "
                 "experimental}\n",
                 "    any_of: [[a], [new]]\n"),
       5, 19, "any_of: new names only experimental rules"},
      {"require_any whose tag only experimental rules carry",
       OneOutlet("      - {id: a, fields: [title], literal: amaq, weight: 1}\n"
                 "      - {id: b, fields: [logo], literal: amaq, weight: 1, tags: [new], status: "
                 "experimental}\n",
                 "    require_any: [new]\n"),
       5, 18, "require_any: new names only experimental rules"},
      {"tatweel written as an escape can never be in normalised text",
       OneOutlet("      - id: a\n"
                 "        fields: [title]\n"
                 "        pattern: '\u0627\u0639\u0645\\x{640}\u0627\u0642'\n"
                 "        weight: 1\n"),
       8, 18,
       "rule 'a' can never fire: every match needs U+0640 ARABIC TATWEEL, which normalised "
       "text never contains: normalisation removes or folds it"},
      {"teh marbuta written as an escape is folded to heh on pages",
       OneOutlet("      - id: a\n"
                 "        fields: [title]\n"
                 "        pattern: '\u0648\u0643\u0627\u0644\\x{629}'\n"
                 "        weight: 1\n"),
       8, 18, "needs U+0629 ARABIC LETTER TEH MARBUTA"},
      {"a zero-width space written as an escape",
       OneOutlet("      - {id: a, fields: [title], pattern: 'ama\\x{200B}q', weight: 1}\n"), 6, 43,
       "needs U+200B ZERO WIDTH SPACE"},
      {"a fatha written as an escape",
       OneOutlet("      - {id: a, fields: [title], pattern: '\u0639\\x{64E}', weight: 1}\n"), 6, 43,
       "needs U+064E ARABIC FATHA"},
      {"a newline: fields are joined by newlines, but normalised text has none",
       OneOutlet("      - {id: a, fields: [title], pattern: 'amaq\\nnews', weight: 1}\n"), 6, 43,
       "needs U+000A"},
      {"a Cyrillic look-alike written as an escape is folded to Latin on pages",
       OneOutlet("      - {id: a, fields: [title], pattern: '\\x{430}maq', weight: 1}\n"), 6, 43,
       "needs U+0430 CYRILLIC SMALL LETTER A"},
      {"upper case with nocase: false on normalised (lower-case) text",
       OneOutlet("      - id: a\n"
                 "        fields: [title]\n"
                 "        pattern: 'AMAQ|Amaq'\n"
                 "        nocase: false\n"
                 "        weight: 1\n"),
       8, 18,
       "rule 'a' can never fire: every match needs U+0041 LATIN CAPITAL LETTER A, U+004D LATIN "
       "CAPITAL LETTER M or U+0051 LATIN CAPITAL LETTER Q, which normalised text never contains: "
       "it is lower-case",
       2},
      {"nocase: false without normalize: false changes nothing",
       OneOutlet("      - id: a\n"
                 "        fields: [title]\n"
                 "        pattern: 'amaq'\n"
                 "        nocase: false\n"
                 "        weight: 1\n"),
       9, 17, "rule 'a': 'nocase: false' has no effect on normalised text"},
      {"Arabic letters in a rule that reads only the url (percent-encoded there)",
       OneOutlet("      - {id: a, fields: [url], literal: \"/\u0648\u0633\u0645/\", weight: 1}\n"),
       6, 41,
       "rule 'a' can never fire: every match needs U+0648 ARABIC LETTER WAW, U+0633 ARABIC "
       "LETTER SEEN or U+0645 ARABIC LETTER MEEM, which the url and host fields never contain"},
      {"Arabic letters in a host rule (punycode there), even with normalize: false",
       OneOutlet(
           "      - {id: a, fields: [host, url], pattern: '\u0627\u0639\u0645\u0627\u0642\\.',"
           " normalize: false, weight: 1}\n"),
       6, 47, "which the url and host fields never contain"},
      {"a rule that fires on most lines of neutral English",
       OneOutlet("      - {id: a, fields: [body], pattern: '[aeiou]', weight: 1}\n"), 6, 42,
       "rule 'a' is too broad: it fires on 47 of 47 lines of a neutral English text "
       "(neutral-en.txt)"},
      {"a rule that fires on most lines of neutral Arabic",
       OneOutlet("      - {id: a, fields: [body], literal: \"\u0627\u0644\", weight: 1}\n"), 6, 42,
       "of a neutral Arabic text (neutral-ar.txt)"},
      {"a min_count rule is broad only where it reaches its count",
       OneOutlet("      - {id: a, fields: [body], pattern: '[aeiou]', weight: 1, min_count: 3}\n"),
       6, 42, "fires on 47 of 47 lines"},
      {"the same pattern on the same fields twice in one outlet",
       OneOutlet("      - {id: a, fields: [title, logo], literal: amaq, weight: 1}\n"
                 "      - {id: b, fields: [logo, title], literal: AMAQ, weight: 2}\n"),
       7, 49,
       "rule 'b' duplicates rule 'a' (line 6): same pattern, fields and modifiers, so both "
       "always fire together"},
  };
  for (const auto& c : cases) {
    std::vector<SignatureDiagnostic> diagnostics;
    EXPECT_NE(SignatureSet::LoadString(c.yaml, "outlets.yaml", &diagnostics), nullptr) << c.why;
    EXPECT_TRUE(Only(diagnostics, false).empty()) << c.why << ":\n" << Join(diagnostics);
    const std::vector<SignatureDiagnostic> warnings = Only(diagnostics, true);
    ASSERT_EQ(warnings.size(), c.warnings) << c.why << ":\n" << Join(diagnostics);
    EXPECT_EQ(warnings[0].file, "outlets.yaml") << c.why;
    EXPECT_EQ(warnings[0].line, c.line) << c.why << ": " << warnings[0].ToString();
    EXPECT_EQ(warnings[0].column, c.column) << c.why << ": " << warnings[0].ToString();
    EXPECT_NE(warnings[0].message.find(c.message), std::string::npos)
        << c.why << ": " << warnings[0].ToString();
    EXPECT_NE(warnings[0].ToString().find(": warning: "), std::string::npos) << c.why;
  }
}

TEST(SignatureSetLoad, NoWarningWhereARuleCanStillFire) {
  const struct {
    const char* why;
    std::string yaml;
  } cases[] = {
      {"another branch of the alternation can match the url",
       OneOutlet("      - {id: a, fields: [url], pattern: '/wiki/|/\u0648\u0633\u0645/', "
                 "weight: 1}\n")},
      {"an impossible character that is optional",
       OneOutlet("      - {id: a, fields: [title], pattern: 'amaq\\x{640}?', weight: 1}\n")},
      {"Arabic in a rule that also reads the title",
       OneOutlet(
           "      - {id: a, fields: [url, title], literal: \"\u0627\u0639\u0645\u0627\u0642\","
           " weight: 1}\n")},
      {"tatweel and tashkeel written as themselves are normalised away in the pattern",
       OneOutlet("      - {id: a, fields: [title], pattern: "
                 "'\u0623\u064E\u0639\u0645\u0640\u0640\u0627\u0642', weight: 1}\n")},
      {"upper case with nocase: false on the raw text",
       OneOutlet("      - {id: a, fields: [title], pattern: 'AMAQ', nocase: false, normalize: "
                 "false, weight: 1}\n")},
      {"an escaped letter that normalised text keeps",
       OneOutlet("      - {id: a, fields: [title], pattern: '\\x{627}\\x{639}\\x{645}', weight: "
                 "1}\n")},
      {"upper case under nocase (the default)",
       OneOutlet("      - {id: a, fields: [title], pattern: 'AMAQ\\x{41}', weight: 1}\n")},
      {"the same pattern on other fields weighs them differently (the stock file does this)",
       OneOutlet("      - {id: a, fields: [title, logo], literal: amaq, weight: 1}\n"
                 "      - {id: b, fields: [logo], literal: amaq, weight: 2}\n")},
      {"the same pattern with another min_count",
       OneOutlet("      - {id: a, fields: [title], literal: amaq, weight: 1}\n"
                 "      - {id: b, fields: [title], literal: amaq, weight: 2, min_count: 2}\n")},
      {"the same pattern in another outlet",
       "version: 1\n"
       "outlets:\n"
       "  - id: amaq\n"
       "    threshold: 1\n"
       "    rules: [{id: a, fields: [title], literal: amaq, weight: 1}]\n"
       "  - id: nashir\n"
       "    threshold: 1\n"
       "    rules: [{id: b, fields: [title], literal: amaq, weight: 1}]\n"},
      {"a broad rule with a negative weight only lowers scores",
       OneOutlet("      - {id: a, fields: [title], literal: amaq, weight: 1}\n"
                 "      - {id: b, fields: [body], pattern: '[aeiou]', weight: -1}\n")},
      {"an experimental rule next to a stable one in a condition",
       OneOutlet("      - {id: a, fields: [title], literal: amaq, weight: 1, tags: [name]}\n"
                 "      - {id: b, fields: [logo], literal: amaq, weight: 1, tags: [name], status: "
                 "experimental}\n",
                 "    require: [name]\n")},
  };
  for (const auto& c : cases) {
    std::vector<SignatureDiagnostic> diagnostics;
    EXPECT_NE(SignatureSet::LoadString(c.yaml, "outlets.yaml", &diagnostics), nullptr) << c.why;
    EXPECT_TRUE(diagnostics.empty()) << c.why << ":\n" << Join(diagnostics);
  }
}

TEST(SignatureSetLoad, ErrorsAndWarningsComeSortedByLine) {
  std::vector<SignatureDiagnostic> diagnostics;
  const std::string yaml =
      "version: 1\n"
      "outlets:\n"
      "  - id: amaq\n"
      "    threshold: 10\n"
      "    require: [idenity]\n"
      "    rules:\n"
      "      - {id: a, fields: [title], pattern: 'amaq\\x{640}', weight: 1, tags: [identity]}\n"
      "      - {id: b, fields: [logo], pattern: '(', weight: 1}\n";
  EXPECT_EQ(SignatureSet::LoadString(yaml, "f.yaml", &diagnostics), nullptr);
  ASSERT_EQ(diagnostics.size(), 4u) << Join(diagnostics);
  EXPECT_EQ(diagnostics[0].ToString().substr(0, 24), "f.yaml:3:9: warning: out");
  EXPECT_EQ(diagnostics[1].ToString().substr(0, 30), "f.yaml:5:15: error: require: '");
  EXPECT_EQ(diagnostics[2].ToString().substr(0, 25), "f.yaml:7:43: warning: rul");
  EXPECT_EQ(diagnostics[3].ToString().substr(0, 38), "f.yaml:8:42: error: invalid pattern: m");
}

// Rules that each compile alone but together exceed RE2's budget for one set.
TEST(SignatureSetLoad, ASetOverTheMemoryBudgetNamesTheRuleThatBreaksIt) {
  std::string rules;
  for (int i = 1; i <= 3; ++i) {
    rules += "      - {id: heavy" + std::to_string(i) + ", fields: [body], pattern: 'q" +
             std::to_string(i) + "z[\\p{L}\\p{N}]{400}', weight: 1}\n";
  }
  std::vector<SignatureDiagnostic> diagnostics;
  EXPECT_EQ(SignatureSet::LoadString(OneOutlet(rules), "big.yaml", &diagnostics), nullptr);
  ASSERT_EQ(diagnostics.size(), 1u) << Join(diagnostics);
  EXPECT_EQ(diagnostics[0].ToString(),
            "big.yaml:8:47: error: rule 'heavy3' makes the body set exceed RE2's memory budget "
            "(64 MiB)")
      << "each compiles alone, and heavy1 and heavy2 fit together";
}

// --- Includes -------------------------------------------------------------------------------

class SignatureSetInclude : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("mw-signatures-include-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_ / "more");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& content) const {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

  std::filesystem::path dir_;
};

TEST_F(SignatureSetInclude, IncludedFilesAddOutletsAndExtendOutletsDeclaredElsewhere) {
  const std::string main_file = Write("main.yaml",
                                      "version: 1\n"
                                      "include: [more/nashir.yaml]\n"
                                      "outlets:\n"
                                      "  - id: amaq\n"
                                      "    threshold: 5\n"
                                      "    require: [amaq.extra]\n"
                                      "    rules:\n"
                                      "      - {id: amaq.title, fields: [title], literal: amaq, "
                                      "weight: 3}\n"
                                      "  - extend: nashir\n"
                                      "    rules:\n"
                                      "      - {id: nashir.logo, fields: [logo], literal: "
                                      "nashir-logo, weight: 2}\n");
  Write("more/nashir.yaml",
        "version: 1\n"
        "outlets:\n"
        "  - id: nashir\n"
        "    threshold: 5\n"
        "    rules:\n"
        "      - {id: nashir.title, fields: [title], literal: nashir, weight: 3}\n"
        "  - extend: amaq\n"
        "    rules:\n"
        "      - {id: amaq.extra, fields: [logo], literal: amaq-logo, weight: 2}\n");
  std::vector<SignatureDiagnostic> diagnostics;
  const auto set = SignatureSet::LoadFile(main_file, &diagnostics);
  ASSERT_NE(set, nullptr) << Join(diagnostics);
  EXPECT_TRUE(diagnostics.empty()) << Join(diagnostics);
  EXPECT_EQ(set->outlets(), (std::vector<std::string>{"amaq", "nashir"}));
  std::vector<std::string> rules;
  for (const SignatureSet::RuleInfo& rule : set->rules()) {
    rules.push_back(rule.outlet + ":" + rule.id + "@" +
                    std::filesystem::path(rule.file).filename().string() + ":" +
                    std::to_string(rule.line));
  }
  EXPECT_EQ(rules, (std::vector<std::string>{
                       "amaq:amaq.title@main.yaml:8", "nashir:nashir.logo@main.yaml:11",
                       "nashir:nashir.title@nashir.yaml:6", "amaq:amaq.extra@nashir.yaml:9"}))
      << "load order: the main file, then its includes";

  const auto scores = set->Score(
      Page({{Field::kTitle, "Amaq | Nashir"}, {Field::kLogo, "amaq-logo.png nashir-logo.png"}}));
  ASSERT_EQ(scores.size(), 2u);
  EXPECT_TRUE(scores[0].flagged) << "amaq.extra, from the included file, meets require";
  EXPECT_EQ(scores[0].score, 5);
  EXPECT_TRUE(scores[1].flagged) << "nashir.logo, from the main file, counts for nashir";
  EXPECT_EQ(scores[1].score, 5);
}

TEST_F(SignatureSetInclude, CyclesMissingFilesAndRepeatsAreErrorsAtTheIncludeLine) {
  Write("a.yaml",
        "version: 1\n"
        "include: [b.yaml]\n"
        "outlets:\n"
        "  - id: amaq\n"
        "    threshold: 1\n"
        "    rules: [{id: a, fields: [title], literal: amaq, weight: 1}]\n");
  Write("b.yaml",
        "version: 1\n"
        "include:\n"
        "  - more/../a.yaml\n");
  Write("c.yaml",
        "version: 1\n"
        "include: [a.yaml, missing.yaml, c.yaml]\n");
  Write("d.yaml",
        "version: 1\n"
        "include: [e.yaml, e.yaml]\n");
  Write("e.yaml",
        "version: 1\n"
        "outlets:\n"
        "  - id: nashir\n"
        "    threshold: 1\n"
        "    rules: [{id: n, fields: [title], literal: nashir, weight: 1}]\n");
  const struct {
    const char* file;
    std::vector<std::string> diagnostics;  // each as ToString(), without the directory
  } cases[] = {
      {"a.yaml", {"b.yaml:3:5: error: include cycle: a.yaml -> b.yaml -> a.yaml"}},
      {"c.yaml",
       {"c.yaml:2:19: error: cannot read included file 'missing.yaml': No such file or directory",
        "c.yaml:2:33: error: include cycle: c.yaml -> c.yaml",
        "b.yaml:3:5: error: include cycle: a.yaml -> b.yaml -> a.yaml"}},
      {"d.yaml",
       {"d.yaml:2:19: error: 'e.yaml' is already loaded (included at d.yaml:2); include a file "
        "once"}},
  };
  const std::string prefix = dir_.string() + "/";
  for (const auto& c : cases) {
    std::vector<SignatureDiagnostic> diagnostics;
    EXPECT_EQ(SignatureSet::LoadFile(Path(c.file), &diagnostics), nullptr) << c.file;
    std::vector<std::string> shown;
    for (const SignatureDiagnostic& d : diagnostics) {
      std::string text = d.ToString();
      for (std::size_t at = text.find(prefix); at != std::string::npos; at = text.find(prefix)) {
        text.erase(at, prefix.size());
      }
      shown.push_back(text);
    }
    EXPECT_EQ(shown, c.diagnostics) << c.file;
  }
}

TEST_F(SignatureSetInclude, EveryFileNeedsVersionOneAndIdsAreUniqueAcrossFiles) {
  const std::string main_file = Write("main.yaml",
                                      "version: 1\n"
                                      "include: [more/rules.yaml]\n"
                                      "outlets:\n"
                                      "  - id: amaq\n"
                                      "    threshold: 1\n"
                                      "    rules: [{id: amaq.title, fields: [title], literal: "
                                      "amaq, weight: 1}]\n");
  Write("more/rules.yaml",
        "outlets:\n"
        "  - extend: amaq\n"
        "    rules:\n"
        "      - {id: amaq.title, fields: [logo], literal: amaq, weight: 1}\n");
  std::vector<SignatureDiagnostic> diagnostics;
  EXPECT_EQ(SignatureSet::LoadFile(main_file, &diagnostics), nullptr);
  ASSERT_EQ(diagnostics.size(), 2u) << Join(diagnostics);
  EXPECT_EQ(diagnostics[0].file, Path("more/rules.yaml"));
  EXPECT_EQ(diagnostics[0].line, 1);
  EXPECT_EQ(diagnostics[0].message, "missing 'version' (this loader reads version 1)");
  EXPECT_EQ(diagnostics[1].line, 4);
  EXPECT_EQ(diagnostics[1].message,
            "duplicate rule id 'amaq.title' (first defined at " + Path("main.yaml") + ":6)");
}

TEST_F(SignatureSetInclude, Sha256CoversEveryLoadedFileInLoadOrder) {
  // Expected values from sha256sum: of "version: 1\n" + the rest of the main file, and of the
  // two files concatenated.
  const std::string outlet =
      "outlets:\n"
      "  - id: amaq\n"
      "    threshold: 1\n"
      "    rules: [{id: a, fields: [title], literal: amaq, weight: 1}]\n";
  const auto alone = SignatureSet::LoadString("version: 1\n" + outlet, "x.yaml", nullptr);
  ASSERT_NE(alone, nullptr);
  EXPECT_EQ(alone->sha256(), "04d1cde5416da6be291050d2689446a3c3551fb667a9fdd1cc5e5c7e1de37f1a");

  Write("inc.yaml", "version: 1\n" + outlet);
  const std::string main_file = Write("main.yaml", "version: 1\ninclude: inc.yaml\n");
  const auto both = SignatureSet::LoadFile(main_file, nullptr);
  ASSERT_NE(both, nullptr);
  EXPECT_EQ(both->sha256(), "37763c6319a2fbed34040cc51836b450f2e1560f98f630ece8a762c2ffb1bee5");
}

// --- Introspection --------------------------------------------------------------------------

TEST(SignatureSetIntrospection, RulesAndOutletsDescribeThemselves) {
  const auto set = Load(
      "version: 1\n"
      "outlets:\n"
      "  - id: amaq\n"
      "    name: Amaq News Agency\n"
      "    aliases: [\"\u0648\u0643\u0627\u0644\u0629 \u0623\u0639\u0645\u0627\u0642\", A'maq]\n"
      "    threshold: 3\n"
      "    rules:\n"
      "      - id: amaq.title\n"
      "        description: the name opening the title\n"
      "        fields: [title, site_name]\n"
      "        pattern: '^\u0623\u0639\u0645\u0627\u0642'\n"
      "        word: true\n"
      "        weight: 3\n"
      "        tags: [identity]\n"
      "        author: signatures team\n"
      "        reference: https://example.org/notes/1\n"
      "        created: 2026-11-28\n"
      "      - {id: amaq.raw, fields: [logo], literal: AMAQ, normalize: false, nocase: false,"
      " min_count: 2, weight: 1, status: experimental}\n");
  ASSERT_NE(set, nullptr);
  const std::vector<SignatureSet::OutletInfo> outlets = set->outlet_info();
  ASSERT_EQ(outlets.size(), 1u);
  EXPECT_EQ(outlets[0].id, "amaq");
  EXPECT_EQ(outlets[0].name, "Amaq News Agency");
  EXPECT_EQ(outlets[0].aliases,
            (std::vector<std::string>{
                "\u0648\u0643\u0627\u0644\u0629 \u0623\u0639\u0645\u0627\u0642", "A'maq"}));
  EXPECT_EQ(outlets[0].threshold, 3);
  EXPECT_EQ(outlets[0].file, "test.yaml");
  EXPECT_EQ(outlets[0].line, 3);

  const std::vector<SignatureSet::RuleInfo> rules = set->rules();
  ASSERT_EQ(rules.size(), 2u);
  const SignatureSet::RuleInfo& title = rules[0];
  EXPECT_EQ(title.id, "amaq.title");
  EXPECT_EQ(title.outlet, "amaq");
  EXPECT_EQ(title.description, "the name opening the title");
  EXPECT_EQ(title.fields, (std::vector<Field>{Field::kTitle, Field::kSiteName}));
  EXPECT_EQ(title.pattern,
            "(?i)(?:^|[^\\p{L}\\p{N}\\p{M}])(^\u0627\u0639\u0645\u0627\u0642)"
            "(?:[^\\p{L}\\p{N}\\p{M}]|$)")
      << "normalised, with the word boundaries and (?i)";
  EXPECT_EQ(title.weight, 3);
  EXPECT_FALSE(title.experimental);
  EXPECT_EQ(title.tags, (std::vector<std::string>{"identity"}));
  EXPECT_EQ(title.file, "test.yaml");
  EXPECT_EQ(title.line, 8);
  EXPECT_EQ(title.column, 13);
  EXPECT_TRUE(title.normalize);
  EXPECT_TRUE(title.nocase);
  EXPECT_TRUE(title.word);
  EXPECT_EQ(title.min_count, 1);
  EXPECT_EQ(title.author, "signatures team");
  EXPECT_EQ(title.reference, "https://example.org/notes/1");
  EXPECT_EQ(title.created, "2026-11-28");

  const SignatureSet::RuleInfo& raw = rules[1];
  EXPECT_EQ(raw.pattern, "(AMAQ)") << "case matters: no (?i)";
  EXPECT_TRUE(raw.experimental);
  EXPECT_FALSE(raw.normalize);
  EXPECT_FALSE(raw.nocase);
  EXPECT_EQ(raw.min_count, 2);
  EXPECT_EQ(raw.line, 18);
}

// --- Matching -------------------------------------------------------------------------------

TEST(SignatureSetScore, WordModifierWorksInArabic) {
  const auto set = LoadRules(
      "      - {id: halumu.word, fields: [body], literal: \"\u0647\u0644\u0645\u0648\u0627\","
      " word: true, weight: 1}\n");
  ASSERT_NE(set, nullptr);
  const struct {
    std::string body;
    bool fires;
    const char* why;
  } cases[] = {
      {"\u0642\u0627\u0644 \u0647\u0644\u0645\u0648\u0627 \u0625\u0644\u0649", true,
       "between spaces: قال هلموا إلى (RE2's \\b would miss this)"},
      {"\u0647\u0644\u0645\u0648\u0627", true, "the whole text"},
      {"(\u0647\u0644\u0645\u0648\u0627)", true, "between punctuation"},
      {"\u0647\u064E\u0644\u064F\u0645\u064F\u0648\u0627 \u0625\u0644\u0649", true,
       "with tashkeel on the page"},
      {"\u0642\u0627\u0644 \u0647\u0644\u0645\u0648\u0627x \u0625\u0644\u0649", false,
       "glued to a Latin letter"},
      {"\u0642\u0627\u0644 \u0647\u0644\u0645\u0648\u0627\u0643\u0645", false,
       "glued inside a longer Arabic word"},
      {"\u0627\u0644\u0647\u0644\u0645\u0648\u0627", false, "glued after a prefix"},
      {"\u0647\u0644\u0645\u0648\u0627\u0662", false, "glued to an Arabic-Indic digit"},
  };
  for (const auto& c : cases) {
    const auto scores = set->Score(Page({{Field::kBody, c.body}}));
    EXPECT_EQ(!scores.empty(), c.fires) << c.why;
  }
}

TEST(SignatureSetScore, LiteralIsPlainTextPatternIsRegex) {
  const auto set = Load(
      "version: 1\n"
      "outlets:\n"
      "  - id: amaq\n"
      "    threshold: 100\n"
      "    rules:\n"
      "      - {id: lit, fields: [title], literal: 'a.q (news)', weight: 1}\n"
      "      - {id: pat, fields: [title], pattern: 'a.q \\(news\\)', weight: 1}\n"
      "      - {id: list, fields: [logo], literal: [amaq-logo, a3maq_logo], weight: 1}\n"
      "      - {id: upper, fields: [meta], pattern: 'AMAQ\\d+', weight: 1}\n"
      "      - {id: arabic, fields: [headings],"
      " pattern: '\u0648\u0643\u0627\u0644\u0629\\s*\u0623\u0639\u0645\u0627\u0642', weight: 1}\n");
  ASSERT_NE(set, nullptr);
  const struct {
    Field field;
    std::string text;
    std::vector<std::string> fired;
    const char* why;
  } cases[] = {
      {Field::kTitle, "A.Q (News)", {"lit", "pat"}, "both match the literal text"},
      {Field::kTitle, "amq (news)", {"pat"}, "'.' is any character only in a pattern"},
      {Field::kLogo, "Logo\nimg/A3MAQ_LOGO.png", {"list"}, "any literal of a list, any case"},
      {Field::kMeta,
       "amaq\u0662\u0660",
       {"upper"},
       "ASCII of a pattern is case-insensitive; \\d sees folded Arabic-Indic digits"},
      {Field::kHeadings,
       "\u0648\u064E\u0643\u064E\u0627\u0644\u064E\u0629\u064F "
       "\u0623\u064E\u0639\u0652\u0645\u064E\u0627\u0642",
       {"arabic"},
       "the pattern's Arabic is normalised like the page"},
      {Field::kHeadings,
       "\uFEED\uFEDC\uFE8E\uFEDF\uFE94\u0627\uFECB\uFEE4\uFE8E\uFED5",
       {"arabic"},
       "presentation forms on the page, no space"},
  };
  for (const auto& c : cases) {
    const auto scores = set->Score(Page({{c.field, c.text}}));
    std::vector<std::string> fired;
    for (const OutletScore& score : scores) {
      for (const RuleHit& hit : score.hits) fired.push_back(hit.rule_id);
    }
    EXPECT_EQ(fired, c.fired) << c.why;
  }
}

TEST(SignatureSetScore, PatternsAreNormalisedLikePages) {
  const struct {
    std::string pattern;
    std::string page;
    bool fires;
    const char* why;
  } cases[] = {
      {"\u0648\u0643\u0627\u0644\u0629\\s*\u0623\u0639\u0645\u0627\u0642",
       "\u0648\u064E\u0643\u0627\u0644\u064E\u0629\u064F  "
       "\u0623\u064E\u0639\u0652\u0645\u064E\u0627\u0642",
       true, "letters fold, diacritics go, on both sides"},
      {"a[\u2019\u00B4]?maq", "a\u00B4maq", true,
       "a spacing accent in a class stays one member (NFKC alone makes it space + mark)"},
      {"a[\u2019\u00B4]?maq", "a maq", false, "... and no space leaks into the class"},
      {"[\u0640\u0623]\u0639\u0645\u0627\u0642", "\u0627\u0639\u0645\u0627\u0642", true,
       "tatweel leaves a class, hamza-alef folds inside it"},
      {"x\uFF08y", "x(y", true, "a fullwidth parenthesis stays a literal, not a group"},
      {"[\uFF3D]amaq", "]amaq", true, "a fullwidth bracket in a class does not close it"},
      {"\\Q\u0623\u064E\u0639\u0652\u0645\u064E\u0627\u0642 (news)\\E",
       "\u0627\u0639\u0645\u0627\u0642 (News)", true, "\\Q...\\E text is normalised as text"},
      {"[\\]\u0623]x", "\u0627x", true, "an escaped ']' does not end the class"},
      {"amaq  \tnews", "Amaq\n\nnews", true, "whitespace runs in a pattern collapse as on pages"},
      {"amaq[ ]{2}news", "Amaq  news", false, "... but not inside a class"},
  };
  for (const auto& c : cases) {
    const auto set = LoadRules("      - id: a\n        fields: [body]\n        pattern: \"" +
                               Escaped(c.pattern) + "\"\n        weight: 1\n");
    ASSERT_NE(set, nullptr) << c.why;
    EXPECT_EQ(!set->Score(Page({{Field::kBody, c.page}})).empty(), c.fires) << c.why;
  }
}

TEST(SignatureSetScore, HomoglyphsOnThePageStillMatch) {
  const auto set =
      LoadRules("      - {id: a, fields: [title], literal: Amaq, word: true, weight: 1}\n");
  ASSERT_NE(set, nullptr);
  EXPECT_EQ(set->Score(Page({{Field::kTitle, "\u0410m\u0430q News"}})).size(), 1u)
      << "Cyrillic А and а";
  EXPECT_EQ(set->Score(Page({{Field::kTitle, "\u0391MA\u200BQ"}})).size(), 1u)
      << "Greek Alpha and a zero-width space";
}

TEST(SignatureSetScore, ThresholdWeightsAndNegativeEvidence) {
  const auto set = Load(
      "version: 1\n"
      "outlets:\n"
      "  - id: amaq\n"
      "    threshold: 10\n"
      "    rules:\n"
      "      - {id: title, fields: [title], literal: amaq, weight: 6}\n"
      "      - {id: logo, fields: [logo], literal: amaq-logo, weight: 4}\n"
      "      - {id: factcheck, fields: [body], literal: fact check, weight: -5}\n"
      "  - id: nashir\n"
      "    threshold: 0.3\n"
      "    rules:\n"
      "      - {id: n1, fields: [title], literal: nashir, weight: 0.1}\n"
      "      - {id: n2, fields: [footer], literal: nashir, weight: 0.2}\n");
  ASSERT_NE(set, nullptr);
  const struct {
    Document page;
    std::string outlet;
    double score;
    bool flagged;
    const char* why;
  } cases[] = {
      {Page({{Field::kTitle, "Amaq"}}), "amaq", 6, false, "below threshold"},
      {Page({{Field::kTitle, "Amaq"}, {Field::kLogo, "amaq-logo.png"}}), "amaq", 10, true,
       "score equal to the threshold flags"},
      {Page({{Field::kTitle, "Amaq"},
             {Field::kLogo, "amaq-logo.png"},
             {Field::kBody, "Fact check"}}),
       "amaq", 5, false, "negative weight is evidence against"},
      {Page({{Field::kBody, "fact check"}}), "amaq", -5, false,
       "an outlet with only negative hits is reported, never flagged"},
      {Page({{Field::kTitle, "Nashir"}, {Field::kFooter, "Nashir"}}), "nashir", 0.3, true,
       "0.1 + 0.2 reaches 0.3"},
  };
  for (const auto& c : cases) {
    const auto scores = set->Score(c.page);
    ASSERT_EQ(scores.size(), 1u) << c.why;
    EXPECT_EQ(scores[0].outlet, c.outlet) << c.why;
    EXPECT_NEAR(scores[0].score, c.score, 1e-9) << c.why;
    EXPECT_EQ(scores[0].flagged, c.flagged) << c.why;
  }
}

TEST(SignatureSetScore, RequireAnyByTagOrId) {
  const auto set = Load(
      "version: 1\n"
      "outlets:\n"
      "  - id: amaq\n"
      "    threshold: 5\n"
      "    require_any: [identity, amaq.logo]\n"
      "    rules:\n"
      "      - {id: amaq.title, fields: [title], literal: amaq, weight: 5, tags: [identity]}\n"
      "      - {id: amaq.logo, fields: [logo], literal: amaq-logo, weight: 5}\n"
      "      - {id: amaq.body, fields: [body], literal: amaq, weight: 5}\n");
  ASSERT_NE(set, nullptr);
  const struct {
    Document page;
    bool flagged;
    const char* why;
  } cases[] = {
      {Page({{Field::kBody, "amaq"}}), false, "score reached but no identity rule fired"},
      {Page({{Field::kTitle, "amaq"}}), true, "a rule with the tag fired"},
      {Page({{Field::kLogo, "amaq-logo.svg"}}), true, "the rule named by id fired"},
  };
  for (const auto& c : cases) {
    const auto scores = set->Score(c.page);
    ASSERT_EQ(scores.size(), 1u) << c.why;
    EXPECT_EQ(scores[0].score, 5) << c.why;
    EXPECT_EQ(scores[0].flagged, c.flagged) << c.why;
  }
}

TEST(SignatureSetScore, RuleCountsOncePerPageInItsFirstField) {
  const auto set = LoadRules(
      "      - {id: a, fields: [body, title, quote], literal: amaq, weight: 3}\n"
      "      - {id: everywhere, fields: [any], literal: halumu, weight: 1}\n");
  ASSERT_NE(set, nullptr);
  const auto scores = set->Score(Page({{Field::kTitle, "Amaq - amaq"},
                                       {Field::kBody, "amaq amaq amaq"},
                                       {Field::kQuote, "amaq"},
                                       {Field::kFooter, "halumu"}}));
  ASSERT_EQ(scores.size(), 1u);
  EXPECT_EQ(scores[0].score, 4);
  ASSERT_EQ(scores[0].hits.size(), 2u);
  EXPECT_EQ(scores[0].hits[0].rule_id, "a");
  EXPECT_EQ(scores[0].hits[0].field, Field::kTitle) << "title comes first in field order";
  EXPECT_EQ(scores[0].hits[0].count, 2) << "occurrences in the reported field";
  EXPECT_EQ(scores[0].hits[0].weight, 3);
  EXPECT_EQ(scores[0].hits[1].rule_id, "everywhere");
  EXPECT_EQ(scores[0].hits[1].field, Field::kFooter) << "'any' reaches the footer";
}

TEST(SignatureSetScore, CountsOccurrences) {
  const auto set = LoadRules(
      "      - {id: word, fields: [body], literal: amaq, word: true, weight: 1}\n"
      "      - {id: plain, fields: [title], literal: amaq, weight: 1}\n");
  ASSERT_NE(set, nullptr);
  std::string many;
  for (int i = 0; i < 150; ++i) many += "amaq ";
  const struct {
    Field field;
    std::string text;
    int count;
    const char* why;
  } cases[] = {
      {Field::kBody, "amaq amaq,amaq", 3, "adjacent word matches share a boundary character"},
      {Field::kBody, "amaq amaqs amaq", 2, "a glued occurrence is not a word"},
      {Field::kTitle, "amaqamaq", 2, "without word, glued occurrences count"},
      {Field::kBody, many, 100, "counting stops at 100"},
  };
  for (const auto& c : cases) {
    const auto scores = set->Score(Page({{c.field, c.text}}));
    ASSERT_EQ(scores.size(), 1u) << c.why;
    ASSERT_EQ(scores[0].hits.size(), 1u) << c.why;
    EXPECT_EQ(scores[0].hits[0].count, c.count) << c.why;
  }
}

TEST(SignatureSetScore, SnippetIsOriginalTextAroundTheFirstMatch) {
  const auto set = LoadRules(
      "      - {id: arabic, fields: [body], literal: \"\u0623\u0639\u0645\u0627\u0642\", weight: "
      "1}\n"
      "      - {id: latin, fields: [footer], literal: amaq, word: true, weight: 1}\n"
      "      - {id: lig, fields: [masthead], literal: \"\u0644\", weight: 1}\n");
  ASSERT_NE(set, nullptr);
  std::string before, after;
  for (int i = 0; i < 60; ++i) before += "\u0628";  // 60 letters, 2 bytes each
  for (int i = 0; i < 60; ++i) after += "\u062A";
  const std::string marked = "\u0623\u064E\u0639\u0652\u0645\u064E\u0640\u0627\u0642";
  const struct {
    Field field;
    std::string text;
    std::string snippet;
    const char* why;
  } cases[] = {
      {Field::kBody, "\u0642\u0627\u0644 " + marked + " \u0627\u0644\u064A\u0648\u0645",
       "\u0642\u0627\u0644 " + marked + " \u0627\u0644\u064A\u0648\u0645",
       "tashkeel and tatweel stay in the snippet"},
      {Field::kBody, before + marked + after,
       std::string(before, 20 * 2) + marked + std::string(after, 0, 40 * 2),
       "40 characters either side, counted in code points"},
      {Field::kFooter, "Copyright\n\n  2024   \u00A0 AMAQ   news\tagency",
       "Copyright 2024 AMAQ news agency", "whitespace collapsed, case kept"},
      {Field::kFooter, "x\xFF amaq", "x\uFFFD amaq", "ill-formed bytes become U+FFFD"},
      {Field::kMasthead, "ab\uFEFBcd", "ab\uFEFBcd",
       "a match inside a ligature shows the ligature"},
  };
  for (const auto& c : cases) {
    const auto scores = set->Score(Page({{c.field, c.text}}));
    ASSERT_EQ(scores.size(), 1u) << c.why;
    ASSERT_EQ(scores[0].hits.size(), 1u) << c.why;
    EXPECT_EQ(scores[0].hits[0].snippet, c.snippet) << c.why;
  }
}

// The realistic case the format exists for: a site that brands itself with a name versus a
// page that reports about it.
TEST(SignatureSetScore, BrandedPageIsFlaggedAMentionIsNot) {
  const auto set = Load(
      "version: 1\n"
      "outlets:\n"
      "  - id: amaq\n"
      "    name: Amaq News Agency\n"
      "    threshold: 10\n"
      "    require_any: [identity]\n"
      "    rules:\n"
      "      - id: amaq.identity.title\n"
      "        fields: [title, site_name, masthead]\n"
      "        pattern: "
      "'\u0648\u0643\u0627\u0644\u0629\\s*\u0623\u0639\u0645\u0627\u0642|amaq\\s+news'\n"
      "        weight: 6\n"
      "        tags: [identity]\n"
      "      - id: amaq.logo.file\n"
      "        fields: [logo]\n"
      "        literal: [amaq-logo, a3maq_logo]\n"
      "        word: true\n"
      "        weight: 4\n"
      "      - id: amaq.mention\n"
      "        fields: [body]\n"
      "        literal: \"\u0623\u0639\u0645\u0627\u0642\"\n"
      "        word: true\n"
      "        weight: 1\n"
      "  - id: halumu\n"
      "    threshold: 10\n"
      "    rules:\n"
      "      - {id: halumu.title, fields: [title], literal: halumu, weight: 10}\n");
  ASSERT_NE(set, nullptr);

  const Document branded = Page({
      {Field::kTitle, "\u0648\u0643\u0627\u0644\u0629 \u0623\u0639\u0645\u0627\u0642"},
      {Field::kMasthead,
       "\u0648\u0643\u0627\u0644\u0629 \u0623\u0639\u0645\u0627\u0642\nLorem ipsum"},
      {Field::kLogo, "\u0623\u0639\u0645\u0627\u0642\n/static/img/amaq-logo.png"},
      {Field::kBody, "Lorem ipsum dolor sit amet \u0623\u0639\u0645\u0627\u0642 consectetur"},
  });
  const auto branded_scores = set->Score(branded);
  ASSERT_EQ(branded_scores.size(), 1u) << "halumu did not fire, so it is not listed";
  EXPECT_EQ(branded_scores[0].outlet, "amaq");
  EXPECT_EQ(branded_scores[0].score, 11);
  EXPECT_EQ(branded_scores[0].threshold, 10);
  EXPECT_TRUE(branded_scores[0].flagged);
  ASSERT_EQ(branded_scores[0].hits.size(), 3u);
  EXPECT_EQ(branded_scores[0].hits[0].field, Field::kTitle);
  EXPECT_EQ(branded_scores[0].hits[1].field, Field::kLogo);
  EXPECT_EQ(branded_scores[0].hits[1].snippet,
            "\u0623\u0639\u0645\u0627\u0642 /static/img/amaq-logo.png");

  const Document report = Page({
      {Field::kTitle, "Lorem ipsum dolor"},
      {Field::kBody,
       "Lorem ipsum \u0623\u0639\u0645\u0627\u0642 dolor sit amet, "
       "\u0648\u0643\u0627\u0644\u0629 \u0623\u0639\u0645\u0627\u0642 consectetur"},
  });
  const auto report_scores = set->Score(report);
  ASSERT_EQ(report_scores.size(), 1u);
  EXPECT_EQ(report_scores[0].score, 1);
  EXPECT_FALSE(report_scores[0].flagged);
}

// Every modifier, one rule each, against pages that show what it changes.
TEST(SignatureSetScore, Modifiers) {
  const auto set = LoadRules(
      "      - {id: raw_case, fields: [title], literal: AMAQ, normalize: false, nocase: false,"
      " weight: 1}\n"
      "      - {id: raw_nocase, fields: [site_name], literal: AMAQ, normalize: false, weight: 1}\n"
      "      - {id: raw_arabic, fields: [headings], literal: \"\u0623\u0639\u0645\u0627\u0642\","
      " normalize: false, weight: 1}\n"
      "      - {id: raw_zero_width, fields: [masthead], pattern: '\\x{200B}', normalize: false,"
      " weight: 1}\n"
      "      - {id: word_latin, fields: [footer], literal: amaq, word: true, weight: 1}\n"
      "      - {id: word_arabic, fields: [logo], literal: \"\u0623\u0639\u0645\u0627\u0642\","
      " word: true, weight: 1}\n"
      "      - {id: twice, fields: [meta, quote], literal: halumu, min_count: 2, weight: 1}\n");
  ASSERT_NE(set, nullptr);
  const std::string amaq = "\u0623\u0639\u0645\u0627\u0642";  // أعماق
  const struct {
    Field field;
    std::string text;
    std::vector<std::string> fired;  // "id xCOUNT"
    const char* why;
  } cases[] = {
      {Field::kTitle, "AMAQ", {"raw_case x1"}, "nocase: false, normalize: false: exact case"},
      {Field::kTitle, "Amaq amaq", {}, "... so other cases do not match"},
      {Field::kTitle, "\uFF21\uFF2D\uFF21\uFF31", {}, "... nor fullwidth letters (no NFKC)"},
      {Field::kSiteName, "aMaQ", {"raw_nocase x1"}, "normalize: false ignores case by default"},
      {Field::kHeadings, amaq, {"raw_arabic x1"}, "normalize: false matches the raw text"},
      {Field::kHeadings,
       "\u0627\u0639\u0645\u0627\u0642",
       {},
       "... so a bare alef is not folded to match the hamza"},
      {Field::kHeadings, "\u0623\u0639\u0645\u0640\u0627\u0642", {}, "... nor is tatweel removed"},
      {Field::kMasthead,
       "Ama\u200Bq",
       {"raw_zero_width x1"},
       "normalize: false sees what normalisation removes"},
      {Field::kFooter, "\u00A9 2026 Amaq.", {"word_latin x1"}, "Latin word between punctuation"},
      {Field::kFooter, "Amaqiyya", {}, "Latin word glued to more letters"},
      {Field::kFooter, "\u0410maq", {"word_latin x1"}, "a homoglyph is still the same word"},
      {Field::kLogo,
       "\u0634\u0639\u0627\u0631 " + amaq + "\nlogo.png",
       {"word_arabic x1"},
       "Arabic word after a space (RE2's \\b would miss it)"},
      {Field::kLogo, "\u0627\u0644" + amaq, {}, "Arabic word glued to a prefix"},
      {Field::kMeta, "Halumu", {}, "min_count: 2, once is not enough"},
      {Field::kMeta, "Halumu, halumu and HALUMU", {"twice x3"}, "three times in one field"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> fired;
    for (const OutletScore& score : set->Score(Page({{c.field, c.text}}))) {
      for (const RuleHit& hit : score.hits) {
        fired.push_back(hit.rule_id + " x" + std::to_string(hit.count));
      }
    }
    EXPECT_EQ(fired, c.fired) << c.why;
  }
  // min_count counts within one field: once in meta and once in quote is not twice.
  EXPECT_TRUE(set->Score(Page({{Field::kMeta, "halumu"}, {Field::kQuote, "halumu"}})).empty());
  const auto scores =
      set->Score(Page({{Field::kMeta, "halumu"}, {Field::kQuote, "halumu halumu"}}));
  ASSERT_EQ(scores.size(), 1u);
  ASSERT_EQ(scores[0].hits.size(), 1u);
  EXPECT_EQ(scores[0].hits[0].field, Field::kQuote) << "the first field where it reaches min_count";
}

// One outlet, threshold 6, whose conditions vary by case:
//   site (site_name, 4, tag name)  mast (masthead, 4, tag name)  logo (2)  link (2)  foot (2)
//   neg (body, -3)  exp (title, 5, tag name, experimental)
std::unique_ptr<SignatureSet> ConditionsOutlet(const std::string& conditions) {
  return Load(
      "version: 1\n"
      "outlets:\n"
      "  - id: amaq\n"
      "    threshold: 6\n" +
      conditions +
      "    rules:\n"
      "      - {id: site, fields: [site_name], literal: amaq, weight: 4, tags: [name]}\n"
      "      - {id: mast, fields: [masthead], literal: amaq, weight: 4, tags: [name]}\n"
      "      - {id: logo, fields: [logo], literal: amaq-logo, weight: 2}\n"
      "      - {id: link, fields: [links], literal: t.me/amaq, weight: 2}\n"
      "      - {id: foot, fields: [footer], literal: amaq, weight: 2}\n"
      "      - {id: neg, fields: [body], literal: fact check, weight: -3}\n"
      "      - {id: exp, fields: [title], literal: amaq, weight: 5, tags: [name], status: "
      "experimental}\n");
}

// A page on which the named rules of ConditionsOutlet fire.
Document PageFiring(const std::vector<std::string>& rules) {
  static const std::map<std::string, std::pair<Field, std::string>> kTexts = {
      {"site", {Field::kSiteName, "Amaq"}},      {"mast", {Field::kMasthead, "Amaq"}},
      {"logo", {Field::kLogo, "amaq-logo.png"}}, {"link", {Field::kLinks, "https://t.me/amaq"}},
      {"foot", {Field::kFooter, "Amaq"}},        {"neg", {Field::kBody, "Fact check"}},
      {"exp", {Field::kTitle, "Amaq"}},
  };
  Document doc;
  for (const std::string& rule : rules) doc.text(kTexts.at(rule).first) = kTexts.at(rule).second;
  return doc;
}

TEST(SignatureSetScore, Conditions) {
  const struct {
    std::string conditions;
    std::vector<std::string> page;
    bool flagged;
    std::string unmet;
    const char* why;
  } cases[] = {
      {"", {"logo", "link", "foot"}, true, "", "no condition: the threshold alone"},
      {"", {"logo", "link"}, false, "", "below the threshold: nothing to explain"},
      {"    require: [name]\n", {"site", "logo"}, true, "", "require by tag"},
      {"    require: [name]\n",
       {"logo", "link", "foot"},
       false,
       "require: name did not fire",
       "require: the tag did not fire"},
      {"    require: [name]\n",
       {"exp", "logo", "link", "foot"},
       false,
       "require: name did not fire (only as an experimental rule, which never counts)",
       "require is not met by an experimental rule"},
      {"    require: [site, logo]\n",
       {"site", "mast"},
       false,
       "require: logo did not fire",
       "require: every listed id must fire"},
      {"    require: [site, logo]\n", {"site", "logo"}, true, "", "... and they did"},
      {"    require_any: [mast, link]\n",
       {"site", "logo"},
       false,
       "require_any: none of mast, link fired",
       "require_any: one of the list must fire"},
      {"    require_any: [mast, link]\n", {"site", "link"}, true, "", "... and one did"},
      {"    min_rules: 3\n",
       {"site", "mast"},
       false,
       "min_rules: 2 of 3 positive stable rules fired",
       "min_rules counts distinct rules"},
      {"    min_rules: 3\n", {"site", "mast", "logo"}, true, "", "... three did"},
      {"    min_rules: 3\n",
       {"site", "mast", "exp", "neg"},
       false,
       "the stable rules score 5 of 6 (experimental rules are never decisive); min_rules: 2 of 3 "
       "positive stable rules fired",
       "neither experimental nor negative rules count towards min_rules"},
      // The format's motivating case: "site name OR masthead must fire, plus two more".
      {"    any_of: [[site, mast]]\n    min_rules: 3\n",
       {"mast", "logo", "link"},
       true,
       "",
       "masthead plus two more"},
      {"    any_of: [[site, mast]]\n    min_rules: 3\n",
       {"logo", "link", "foot"},
       false,
       "any_of: none of [site, mast] fired",
       "three rules but neither site name nor masthead"},
      {"    any_of: [[site, mast]]\n    min_rules: 3\n",
       {"site", "mast"},
       false,
       "min_rules: 2 of 3 positive stable rules fired",
       "site name and masthead, nothing more"},
      {"    any_of: [[site], [logo, link]]\n",
       {"site", "foot"},
       false,
       "any_of: none of [logo, link] fired",
       "every group needs one of its rules"},
      {"    require: [logo]\n    any_of: [[site, mast]]\n    min_rules: 4\n",
       {"foot", "link", "exp", "neg"},
       false,
       "the stable rules score 1 of 6 (experimental rules are never decisive); require: logo did "
       "not fire; any_of: none of [site, mast] fired; min_rules: 2 of 4 positive stable rules "
       "fired",
       "every unmet condition is listed once the score reaches the threshold"},
  };
  for (const auto& c : cases) {
    const auto set = ConditionsOutlet(c.conditions);
    ASSERT_NE(set, nullptr) << c.why;
    const auto scores = set->Score(PageFiring(c.page));
    ASSERT_EQ(scores.size(), 1u) << c.why;
    EXPECT_EQ(scores[0].flagged, c.flagged) << c.why;
    EXPECT_EQ(scores[0].unmet_condition, c.unmet) << c.why;
  }
}

TEST(SignatureSetScore, ExperimentalRulesAreScoredAndShownButNeverDecisive) {
  const auto set = ConditionsOutlet("");
  ASSERT_NE(set, nullptr);

  const auto pushed_over = set->Score(PageFiring({"exp", "logo"}));
  ASSERT_EQ(pushed_over.size(), 1u);
  EXPECT_EQ(pushed_over[0].score, 7) << "the experimental rule is scored";
  EXPECT_EQ(pushed_over[0].stable_score, 2);
  EXPECT_FALSE(pushed_over[0].flagged) << "... but cannot flag the page";
  EXPECT_EQ(pushed_over[0].unmet_condition,
            "the stable rules score 2 of 6 (experimental rules are never decisive)");
  ASSERT_EQ(pushed_over[0].hits.size(), 2u);
  EXPECT_EQ(pushed_over[0].hits[0].rule_id, "logo") << "hits in file order";
  EXPECT_FALSE(pushed_over[0].hits[0].experimental);
  EXPECT_EQ(pushed_over[0].hits[1].rule_id, "exp");
  EXPECT_TRUE(pushed_over[0].hits[1].experimental) << "... and reported as experimental";
  EXPECT_EQ(pushed_over[0].hits[1].field, Field::kTitle);

  const auto against = Load(
      OneOutlet("      - {id: site, fields: [site_name], literal: amaq, weight: 1}\n"
                "      - {id: not_it, fields: [body], literal: fact check, weight: -5, status: "
                "experimental}\n"));
  ASSERT_NE(against, nullptr);
  const auto scores =
      against->Score(Page({{Field::kSiteName, "Amaq"}, {Field::kBody, "fact check"}}));
  ASSERT_EQ(scores.size(), 1u);
  EXPECT_EQ(scores[0].score, -4);
  EXPECT_EQ(scores[0].stable_score, 1);
  EXPECT_TRUE(scores[0].flagged) << "an experimental rule cannot unflag a page either";
  EXPECT_EQ(scores[0].unmet_condition, "");
}

// The worked example of docs/signatures.md, verdict for verdict.
TEST(SignatureSetScore, TheWorkedExampleOfTheDocs) {
  const auto set = Load(R"(version: 1
outlets:
  - id: nashir
    name: Nashir News
    aliases: [ناشر, Nashir]
    threshold: 10
    any_of: [[nashir.site_name, nashir.masthead]]
    min_rules: 3
    rules:
      - id: nashir.site_name
        description: the name as the site's own name
        fields: [site_name, title]
        pattern: '^\s*(ناشر|nashir)(\s+news)?\s*$'
        weight: 5
        tags: [identity]
      - id: nashir.masthead
        fields: [masthead]
        literal: [ناشر نيوز, Nashir News]
        word: true
        weight: 5
        tags: [identity]
      - id: nashir.logo
        fields: [logo]
        pattern: 'nashir[-_]?logo\.(png|svg)'
        weight: 3
      - id: nashir.channel
        fields: [links]
        literal: t.me/nashir
        weight: 3
      - id: nashir.publisher
        description: ناشر as a book publisher, not the outlet
        fields: [title, headings]
        literal: [دار نشر, ISBN]
        weight: -20
      - id: nashir.zwnj
        description: a zero-width non-joiner inside the Latin name (seen on mirrors)
        fields: [masthead]
        pattern: 'Nas\x{200C}hir'
        normalize: false
        weight: 4
        status: experimental
        author: signatures team
        created: 2026-11-28
)");
  ASSERT_NE(set, nullptr);
  const Document page = Page({
      {Field::kTitle,
       "\u0646\u0627\u0634\u0631 | \u0627\u0644\u0631\u0626\u064A\u0633\u064A\u0629"},
      {Field::kSiteName, "\u0646\u0627\u0634\u0631"},
      {Field::kMasthead, "Nas\u200Chir News\n\u0627\u0644\u0623\u062E\u0628\u0627\u0631"},
      {Field::kLogo, "Nashir\n/img/nashir-logo.png"},
  });
  const auto scores = set->Score(page);
  ASSERT_EQ(scores.size(), 1u);
  EXPECT_EQ(scores[0].outlet, "nashir");
  EXPECT_EQ(scores[0].score, 17);
  EXPECT_EQ(scores[0].stable_score, 13);
  EXPECT_TRUE(scores[0].flagged);
  EXPECT_EQ(scores[0].unmet_condition, "");
  std::vector<std::string> hits;
  for (const RuleHit& hit : scores[0].hits) {
    hits.push_back(hit.rule_id + " [" + std::string(FieldName(hit.field)) + "] " +
                   (hit.experimental ? "experimental " : "") + "x" + std::to_string(hit.count) +
                   ": " + hit.snippet);
  }
  EXPECT_EQ(hits, (std::vector<std::string>{
                      "nashir.site_name [site_name] x1: \u0646\u0627\u0634\u0631",
                      "nashir.masthead [masthead] x1: Nas\u200Chir News "
                      "\u0627\u0644\u0623\u062E\u0628\u0627\u0631",
                      "nashir.logo [logo] x1: Nashir /img/nashir-logo.png",
                      "nashir.zwnj [masthead] experimental x1: Nas\u200Chir News "
                      "\u0627\u0644\u0623\u062E\u0628\u0627\u0631",
                  }));

  Document without_logo = page;
  without_logo.text(Field::kLogo).clear();
  const auto second = set->Score(without_logo);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].score, 14);
  EXPECT_EQ(second[0].stable_score, 10);
  EXPECT_FALSE(second[0].flagged);
  EXPECT_EQ(second[0].unmet_condition, "min_rules: 2 of 3 positive stable rules fired");
}

TEST(SignatureSetScore, EmptyPageScoresNothing) {
  const auto set = LoadRules("      - {id: a, fields: [any], literal: amaq, weight: 10}\n");
  ASSERT_NE(set, nullptr);
  EXPECT_TRUE(set->Score(Document{}).empty());
}

TEST(SignatureSetScore, ConcurrentScoresAgree) {
  const auto set = LoadRules(
      "      - {id: a, fields: [title, body], pattern: '\u0623\u0639\u0645\u0627\u0642|amaq', "
      "weight: 6}\n"
      "      - {id: b, fields: [logo], literal: amaq-logo, word: true, weight: 4}\n");
  ASSERT_NE(set, nullptr);
  const Document page = Page({{Field::kTitle, "\u0623\u064E\u0639\u0652\u0645\u064E\u0627\u0642"},
                              {Field::kLogo, "amaq-logo.png"}});
  std::vector<std::thread> threads;
  std::vector<int> flagged(8, 0);
  for (std::size_t t = 0; t < flagged.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        const auto scores = set->Score(page);
        flagged[t] += scores.size() == 1 && scores[0].flagged && scores[0].hits.size() == 2;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (const int count : flagged) EXPECT_EQ(count, 200);
}

}  // namespace
}  // namespace mw
