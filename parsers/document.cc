#include "parsers/document.h"

namespace mw {
namespace {

// Indexed by Field; the names are part of the signature file format, so never rename one.
constexpr std::string_view kFieldNames[kFieldCount] = {
    "url",      "host",   "title", "site_name", "meta", "headings",
    "masthead", "footer", "logo",  "links",     "body", "quote",
};

}  // namespace

std::string_view FieldName(Field field) {
  const auto index = static_cast<std::size_t>(field);
  return index < kFieldCount ? kFieldNames[index] : std::string_view();
}

std::optional<Field> FieldFromName(std::string_view name) {
  for (std::size_t i = 0; i < kFieldCount; ++i) {
    if (kFieldNames[i] == name) return static_cast<Field>(i);
  }
  return std::nullopt;
}

}  // namespace mw
