// How every JSON output (findings.jsonl, pages.jsonl, reports, re-check details) cites a WARC
// record: {"file", "offset", "length", "record_id", "sha256"}, or null when there is none.
#ifndef MIRRORWATCH_CRAWLER_WARC_JSON_H_
#define MIRRORWATCH_CRAWLER_WARC_JSON_H_

#include <nlohmann/json.hpp>

#include "crawler/store.h"

namespace mw {

inline nlohmann::json WarcRefJson(const WarcRef& ref) {
  if (ref.file.empty()) return nullptr;
  return {{"file", ref.file},
          {"offset", ref.offset},
          {"length", ref.length},
          {"record_id", ref.record_id},
          {"sha256", ref.sha256}};
}

}  // namespace mw

#endif  // MIRRORWATCH_CRAWLER_WARC_JSON_H_
