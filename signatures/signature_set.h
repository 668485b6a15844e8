// Signature files: outlets, their rules and thresholds, compiled to one RE2::Set per field.
#ifndef MIRRORWATCH_SIGNATURES_SIGNATURE_SET_H_
#define MIRRORWATCH_SIGNATURES_SIGNATURE_SET_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "parsers/document.h"

namespace mw {

// One problem found while loading a signature file. `line`/`column` are 1-based; 0 if unknown.
struct SignatureDiagnostic {
  std::string file;
  int line = 0;
  int column = 0;
  std::string message;
  std::string ToString() const;  // "file:line:col: message"; "file: message" when line is 0
};

// One rule that fired on a page.
struct RuleHit {
  std::string rule_id;
  Field field;
  double weight = 0;
  int count = 0;  // occurrences in that field, counted up to 100
  // The ORIGINAL text around the first match: 40 code points either side, whitespace runs as
  // one space, ill-formed UTF-8 as U+FFFD.
  std::string snippet;
};

// One outlet's verdict on a page.
struct OutletScore {
  std::string outlet;  // outlet id as in the file: "amaq", "al-bayan", "halumu", "nashir"
  double score = 0;    // sum of the weights of the distinct rules that fired
  double threshold = 0;
  bool flagged = false;  // score >= threshold and the outlet's conditions hold
  // In file order; each rule once, with the first field (in enum order) where it fired.
  std::vector<RuleHit> hits;
};

// A compiled signature file. Immutable after loading: Score() is const and thread-safe, so one
// set can be shared by every worker thread.
class SignatureSet {
 public:
  // Loads and compiles a signature file. On failure returns nullptr and appends at least one
  // diagnostic to `errors`. Never throws.
  static std::unique_ptr<SignatureSet> LoadFile(const std::string& path,
                                                std::vector<SignatureDiagnostic>* errors);
  // Same, from text; `name` is used as the file name in diagnostics.
  static std::unique_ptr<SignatureSet> LoadString(std::string_view yaml, const std::string& name,
                                                  std::vector<SignatureDiagnostic>* errors);
  ~SignatureSet();
  SignatureSet(const SignatureSet&) = delete;
  SignatureSet& operator=(const SignatureSet&) = delete;

  // Scores a page against every outlet. Returns one entry per outlet that had at least one
  // rule fire (flagged or not), in file order.
  std::vector<OutletScore> Score(const Document& doc) const;

  std::size_t rule_count() const;
  std::vector<std::string> outlets() const;

 private:
  struct Impl;
  explicit SignatureSet(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mw

#endif  // MIRRORWATCH_SIGNATURES_SIGNATURE_SET_H_
