// Text normalisation for matching: the same name written with diacritics, tatweel, zero-width
// characters, presentation forms, other letter variants or Latin homoglyphs matches one pattern.
#ifndef MIRRORWATCH_SIGNATURES_NORMALIZE_H_
#define MIRRORWATCH_SIGNATURES_NORMALIZE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mw {

struct NormalizedText {
  std::string text;  // normalised UTF-8
  // For each byte of `text`, plus one entry for its end: the byte offset in the original text
  // of the character that produced it. Lets a match in `text` be shown as original text.
  std::vector<std::uint32_t> origin;
};

// Normalises UTF-8 text for matching, one code point at a time (docs/signatures.md lists every
// step with its code points):
//  1. drops Arabic diacritics (U+064B-065F, U+0670), tatweel (U+0640), zero-width and bidi
//     controls (U+200B-200F, U+202A-202E, U+2060-2069, U+FEFF, U+061C) and soft hyphens (U+00AD);
//  2. folds the lunate sigmas (U+03F2, U+03F9) to 'c' before NFKC would make them sigma;
//  3. applies NFKC with case folding (ICU's NFKC_Casefold: presentation forms, fullwidth and
//     mathematical letters, case);
//  4. folds Arabic letter variants: alef with hamza/madda and alef wasla -> alef (U+0627),
//     alef maksura and yeh with hamza -> yeh (U+064A), teh marbuta -> heh (U+0647), waw with
//     hamza -> waw (U+0648);
//  5. folds Cyrillic, Greek and Latin look-alikes of Latin letters to the Latin letter (pairs
//     from Unicode's confusables data; the list is kLetterFolds in normalize.cc);
//  6. maps Arabic-Indic (U+0660-0669) and extended Arabic-Indic (U+06F0-06F9) digits to ASCII;
//  7. turns whitespace runs into one space (collapsed, not trimmed: " a " stays " a ").
// Invalid UTF-8 is tolerated (bad bytes dropped).
// NFKC applied per code point composes nothing across characters: a combining hamza/madda after
// a bare alef is dropped like the other marks, which gives the same result, but a decomposed
// Latin accent (e + U+0301) stays distinct from the composed one (é). Spacing accents and
// isolated tashkeel forms, which NFKC spells as space + combining mark, lose the space.
// REQUIRES: utf8.size() < 4 GiB (origins are 32-bit).
// Never throws; thread-safe.
NormalizedText NormalizeForMatch(std::string_view utf8);

}  // namespace mw

#endif  // MIRRORWATCH_SIGNATURES_NORMALIZE_H_
