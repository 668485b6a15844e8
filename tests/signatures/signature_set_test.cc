#include "signatures/signature_set.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace mw {
namespace {

std::unique_ptr<SignatureSet> Load(const std::string& yaml) {
  std::vector<SignatureDiagnostic> errors;
  std::unique_ptr<SignatureSet> set = SignatureSet::LoadString(yaml, "test.yaml", &errors);
  for (const SignatureDiagnostic& error : errors) ADD_FAILURE() << error.ToString();
  return set;
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
  };
  for (const auto& c : cases) {
    std::vector<SignatureDiagnostic> errors;
    EXPECT_EQ(SignatureSet::LoadString(c.yaml, "outlets.yaml", &errors), nullptr) << c.why;
    ASSERT_EQ(errors.size(), 1u) << c.why << ":\n" << Join(errors);
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
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_EQ(errors[0].line, 4);
  EXPECT_EQ(errors[1].line, 6);
  EXPECT_EQ(errors[2].line, 7);
}

TEST(SignatureSetLoad, DiagnosticToString) {
  EXPECT_EQ((SignatureDiagnostic{"f.yaml", 3, 7, "bad"}).ToString(), "f.yaml:3:7: bad");
  EXPECT_EQ((SignatureDiagnostic{"f.yaml", 0, 0, "unreadable"}).ToString(), "f.yaml: unreadable");
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

TEST(SignatureSetLoad, StockFileLoads) {
  const std::string path = std::string(MW_SOURCE_DIR) + "/signatures/rules/outlets.yaml";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << path << " not written yet";
  std::vector<SignatureDiagnostic> errors;
  const auto set = SignatureSet::LoadFile(path, &errors);
  for (const SignatureDiagnostic& error : errors) ADD_FAILURE() << error.ToString();
  ASSERT_NE(set, nullptr);
  EXPECT_GT(set->rule_count(), 0u);
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
