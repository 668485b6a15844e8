#!/usr/bin/env bash
# Rewrites the option table in docs/options.md from the declarations (crawler/options.cc).
# usage: scripts/update-options-doc.sh [BUILD_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$root/build}/mirrorwatch
doc=$root/docs/options.md
table=$("$bin" crawl --help-markdown)
python3 - "$doc" "$table" <<'PY'
import sys
path, table = sys.argv[1], sys.argv[2]
lines = open(path, encoding="utf-8").read().split("\n")
start = next(i for i, l in enumerate(lines) if l.startswith("| option |"))
end = start
while end < len(lines) and lines[end].startswith("|"):
    end += 1
lines[start:end] = table.rstrip("\n").split("\n")
open(path, "w", encoding="utf-8").write("\n".join(lines))
PY
