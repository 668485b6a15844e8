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

// Normalises UTF-8 text for matching: NFKC (folds Arabic presentation forms), case folding,
// removal of Arabic diacritics (U+064B-065F, U+0670), tatweel (U+0640), zero-width and bidi
// controls (U+200B-200F, U+202A-202E, U+2060-2069, U+FEFF, U+00AD); Arabic letter folding
// (alef variants -> U+0627, alef maksura -> yeh, teh marbuta -> heh, waw/yeh with hamza -> waw/yeh);
// Cyrillic/Greek homoglyphs of Latin letters -> Latin; Arabic-Indic digits -> ASCII;
// whitespace runs -> one space. Invalid UTF-8 is tolerated (bad bytes dropped).
// NFKC is applied one code point at a time (no composition across characters): a combining
// hamza/madda after a bare alef is dropped like the other marks, which gives the same result,
// but a decomposed Latin accent (e + U+0301) stays distinct from the composed one (é).
// Spacing accents and isolated tashkeel forms, which NFKC spells as space + combining mark,
// lose the space. Whitespace runs are collapsed, not trimmed: " a " stays " a ".
// REQUIRES: utf8.size() < 4 GiB (origins are 32-bit).
// Never throws; thread-safe.
NormalizedText NormalizeForMatch(std::string_view utf8);

}  // namespace mw

#endif  // MIRRORWATCH_SIGNATURES_NORMALIZE_H_
