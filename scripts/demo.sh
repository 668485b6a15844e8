#!/usr/bin/env bash
# Set-up command 1: installs what is missing, builds, and runs the demo: generates the labelled
# corpus from ../shared/corpus, serves it with nginx on 127.0.0.1, crawls it from its seeds and
# prints the flagged mirror hosts, then scores the findings against the corpus labels.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
mw_install
mw_build -DMW_BUILD_TESTS=OFF

SEED=${MW_CORPUS_SEED:-1}
work=$(mktemp -d)
port=$(mw_free_port)
python3 "$MW_SHARED/corpus/generate.py" --out "$work/corpus" --seed "$SEED" >/dev/null
pid=$("$MW_SHARED/corpus/serve.sh" "$work/corpus" "$port")
trap '"$MW_SHARED/corpus/serve.sh" stop "$pid" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

echo "== crawling the demo corpus (seed $SEED) served on 127.0.0.1:$port"
"$MW_BUILD/mirrorwatch" crawl --seeds "$work/corpus/seeds.txt" --out "${MW_DEMO_OUT:-$work/out}" \
  --connect-to "::127.0.0.1:$port" --allow-net 127.0.0.1/32 --concurrency 32 --per-host 4
out=${MW_DEMO_OUT:-$work/out}
echo "== scored against the corpus labels"
python3 "$MW_SHARED/corpus/score.py" --labels "$work/corpus/labels.json" \
  --findings "$out/findings.jsonl" --crawled "$out/pages.jsonl" | tail -n 1
