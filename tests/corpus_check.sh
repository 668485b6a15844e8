#!/usr/bin/env bash
# End to end on the labelled dev corpus: serve it with nginx on loopback, crawl it with the
# stock signatures, and require host-level precision and recall (score.py exits 1 below them)
# and that every labelled host was reached.
# usage: corpus_check.sh MIRRORWATCH SHARED_DIR SEED MIN_PRECISION MIN_RECALL
set -euo pipefail
bin=$1 shared=$2 seed=$3 min_p=$4 min_r=$5
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 "$shared/corpus/generate.py" --out "$work/corpus" --seed "$seed" >/dev/null
pid=$("$shared/corpus/serve.sh" "$work/corpus" "$port")
trap '"$shared/corpus/serve.sh" stop "$pid" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
"$bin" crawl --seeds "$work/corpus/seeds.txt" --out "$work/out" \
  --connect-to "::127.0.0.1:$port" --allow-net 127.0.0.1/32 --progress never
python3 "$shared/corpus/score.py" --labels "$work/corpus/labels.json" \
  --findings "$work/out/findings.jsonl" --crawled "$work/out/pages.jsonl" \
  --min-precision "$min_p" --min-recall "$min_r" --json "$work/score.json" --verbose
python3 - "$work/score.json" <<'PY'
import json, sys
cov = json.load(open(sys.argv[1]))["coverage"]
if cov["hosts_reached"] != cov["hosts"]:
    sys.exit("FAIL: reached %d of %d labelled hosts" % (cov["hosts_reached"], cov["hosts"]))
print("reached all %d labelled hosts" % cov["hosts"])
PY
