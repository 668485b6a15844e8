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
// An error makes the load fail; a warning (a rule that can never fire, one that is absurdly
// broad, an outlet whose threshold is out of reach ...) does not.
struct SignatureDiagnostic {
  std::string file;
  int line = 0;
  int column = 0;
  std::string message;
  bool warning = false;
  // "file:line:col: error: message" (or "warning: "); "file: error: message" when line is 0.
  std::string ToString() const;
};

// One rule that fired on a page.
struct RuleHit {
  std::string rule_id;
  Field field;
  double weight = 0;
  bool experimental = false;  // status: experimental -- scored and shown, never decisive
  int count = 0;              // occurrences in that field, counted up to 100
  // The ORIGINAL text around the first match: 40 code points either side, whitespace runs as
  // one space, ill-formed UTF-8 as U+FFFD.
  std::string snippet;
  // The ORIGINAL text of the first match, cleaned the same way (at most the part inside the
  // snippet): what a report highlights in the snippet.
  std::string match;
};

// One outlet's verdict on a page.
struct OutletScore {
  std::string outlet;  // outlet id as in the file: "amaq", "al-bayan", "halumu", "nashir"
  double score = 0;    // sum of the weights of the distinct rules that fired
  double threshold = 0;
  // Whether the page is flagged for this outlet: the score of the stable rules alone reaches
  // the threshold and the outlet's conditions (require, min_rules, any_of) hold with stable
  // rules alone. Experimental rules never flag a page on their own.
  bool flagged = false;
  double stable_score = 0;  // `score` without the experimental rules
  // Why a page that reached the threshold was not flagged ("require: amaq.identity did not
  // fire"); empty otherwise.
  std::string unmet_condition;
  // In file order; each rule once, with the first field (in enum order) where it fired.
  std::vector<RuleHit> hits;
};

// A compiled signature file. Immutable after loading: Score() is const and thread-safe, so one
// set can be shared by every worker thread.
class SignatureSet {
 public:
  // Loads and compiles a signature file and the files it includes (docs/signatures.md is the
  // format). On failure returns nullptr. Every problem found is appended to `errors`, errors
  // and warnings alike, sorted by file (in load order), line and column: a failed load has at
  // least one error; a successful one may carry warnings. `errors` may be null. Reads the
  // neutral text samples (signatures/samples/) to find rules that are too broad; if they cannot
  // be read, says so in a warning. Never throws.
  static std::unique_ptr<SignatureSet> LoadFile(const std::string& path,
                                                std::vector<SignatureDiagnostic>* errors);
  // Same, from text; `name` is used as the file name in diagnostics, and relative `include:`
  // paths are resolved against its directory (the current directory if it has none).
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

  // What a rule is, for operator tools (sigs check/test/eval).
  struct RuleInfo {
    std::string id;
    std::string outlet;
    std::string description;
    std::vector<Field> fields;
    // The RE2 pattern as compiled (after normalisation and modifiers): self-contained, with
    // "(?i)" when case does not matter and the word boundaries when `word` is set; capture
    // group 1 is the rule's own match. Compile it with UTF-8 encoding (RE2's default).
    std::string pattern;
    double weight = 0;
    bool experimental = false;
    std::vector<std::string> tags;
    std::string file;  // where it was declared
    int line = 0;
    int column = 0;
    bool normalize = true;  // false: matched against the raw field text
    bool nocase = true;
    bool word = false;
    int min_count = 1;
    std::string author;
    std::string reference;
    std::string created;  // YYYY-MM-DD, or empty
  };
  // Every rule, in file order.
  std::vector<RuleInfo> rules() const;
  // What an outlet is, for operator tools.
  struct OutletInfo {
    std::string id;
    std::string name;                  // display name; empty when the file gives none
    std::vector<std::string> aliases;  // other names it goes by (informational)
    double threshold = 0;
    std::string file;  // where it was declared
    int line = 0;
  };
  // Every outlet, in file order (the same order as outlets()).
  std::vector<OutletInfo> outlet_info() const;
  // SHA-256 (lower-case hex) of the bytes of every file loaded, concatenated in load order (the
  // main file, then its includes depth-first, in the order listed), so a finding can name
  // exactly the signatures that produced it. For a file without includes it is what
  // `sha256sum FILE` prints.
  std::string sha256() const;

 private:
  struct Impl;
  explicit SignatureSet(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mw

#endif  // MIRRORWATCH_SIGNATURES_SIGNATURE_SET_H_
