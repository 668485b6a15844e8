// Signature files: load and compile any text; when it compiles, score a small fixed page.
//
// Includes: the fuzzer runs in a fresh temporary directory holding two small files (a.yaml
// includes b.yaml), so relative includes, repeats and cycles are reachable. Inputs that could
// name a file elsewhere (an include with a '/', a YAML escape or a !!binary tag) are skipped:
// signature files come from the operator, and `include: /dev/zero` would read forever.
#include <unistd.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_check.h"
#include "parsers/document.h"
#include "signatures/signature_set.h"

namespace {

void WriteFile(const char* name, std::string_view text) {
  std::ofstream out(name, std::ios::binary);
  out << text;
  MW_FUZZ_CHECK(out.good());
}

mw::Document SamplePage() {
  mw::Document doc;
  doc.text(mw::Field::kUrl) = "https://mirror.test/ar/index.html";
  doc.text(mw::Field::kHost) = "mirror.test";
  doc.text(mw::Field::kTitle) = "Nashir News | الرئيسية";
  doc.text(mw::Field::kSiteName) = "ناشر";
  doc.text(mw::Field::kMasthead) = "Amaq \xE2\x80\x8C Agency\nالأخبار";
  doc.text(mw::Field::kFooter) = "© 2026 Halumu";
  doc.text(mw::Field::kLogo) = "Nashir\n/img/nashir-logo.png";
  doc.text(mw::Field::kLinks) = "https://t.me/example\nTelegram";
  doc.text(mw::Field::kBody) = "Lorem ipsum إذاعة البيان dolor sit amet \xFF broken byte";
  doc.text(mw::Field::kQuote) = "quoted text";
  return doc;
}

bool MayReadOutside(std::string_view yaml) {
  return yaml.find("include") != std::string_view::npos &&
         yaml.find_first_of("/\\!%") != std::string_view::npos;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // Under $TMPDIR, which scripts/fuzz points at a directory it deletes afterwards.
  std::string dir = (std::filesystem::temp_directory_path() / "mw-fuzz-signatures-XXXXXX").string();
  MW_FUZZ_CHECK(mkdtemp(dir.data()) != nullptr);
  MW_FUZZ_CHECK(chdir(dir.c_str()) == 0);
  WriteFile("a.yaml", "version: 1\ninclude: b.yaml\noutlets:\n  - id: a\n    threshold: 1\n"
                      "    rules:\n      - id: a.r\n        fields: title\n"
                      "        literal: nashir\n        weight: 2\n");
  WriteFile("b.yaml", "version: 1\noutlets:\n  - extend: a\n    rules:\n      - id: b.r\n"
                      "        fields: [masthead, logo]\n        pattern: 'am[a-z]q'\n"
                      "        weight: 1\n");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view yaml(reinterpret_cast<const char*>(data), size);
  if (MayReadOutside(yaml)) return 0;
  std::vector<mw::SignatureDiagnostic> diagnostics;
  const std::unique_ptr<mw::SignatureSet> set =
      mw::SignatureSet::LoadString(yaml, "fuzz.yaml", &diagnostics);

  bool any_error = false;
  for (std::size_t i = 0; i < diagnostics.size(); ++i) {
    const mw::SignatureDiagnostic& d = diagnostics[i];
    any_error |= !d.warning;
    MW_FUZZ_CHECK(!d.message.empty());
    MW_FUZZ_CHECK(d.line >= 0 && d.column >= 0);
    // Sorted by line and column within one file.
    if (i > 0 && diagnostics[i - 1].file == d.file) {
      const mw::SignatureDiagnostic& p = diagnostics[i - 1];
      MW_FUZZ_CHECK(p.line < d.line || (p.line == d.line && p.column <= d.column));
    }
  }
  MW_FUZZ_CHECK((set == nullptr) == any_error);
  if (set == nullptr) return 0;

  const std::vector<mw::SignatureSet::RuleInfo> rules = set->rules();
  MW_FUZZ_CHECK(rules.size() == set->rule_count());
  std::set<std::string> rule_ids;
  for (const auto& rule : rules) MW_FUZZ_CHECK(rule_ids.insert(rule.id).second);
  const std::vector<std::string> outlets = set->outlets();
  MW_FUZZ_CHECK(set->outlet_info().size() == outlets.size());
  MW_FUZZ_CHECK(set->sha256().size() == 64);

  static const mw::Document page = SamplePage();
  for (const mw::OutletScore& score : set->Score(page)) {
    MW_FUZZ_CHECK(!score.hits.empty());
    MW_FUZZ_CHECK(std::isfinite(score.score) && std::isfinite(score.stable_score));
    if (score.flagged) MW_FUZZ_CHECK(score.stable_score >= score.threshold);
    if (score.flagged) MW_FUZZ_CHECK(score.unmet_condition.empty());
    double sum = 0;
    for (const mw::RuleHit& hit : score.hits) {
      MW_FUZZ_CHECK(rule_ids.count(hit.rule_id) == 1);
      MW_FUZZ_CHECK(hit.count >= 1 && hit.count <= 100);
      MW_FUZZ_CHECK(mw::fuzz::IsValidUtf8(hit.snippet) && mw::fuzz::IsValidUtf8(hit.match));
      sum += hit.weight;
    }
    MW_FUZZ_CHECK(std::fabs(sum - score.score) <= 1e-6 * (1 + std::fabs(sum)));
  }
  return 0;
}
