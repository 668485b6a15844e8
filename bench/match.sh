#!/usr/bin/env bash
# Builds and runs the signature-matching benchmark (bench/match_bench.cc): SignatureSet::Score
# with the stock rules and 2,000 generated ones, against Hyperscan and YARA on the same texts
# (the dev corpus's pages, extracted once). Extra arguments go to the benchmark
# (e.g. --no-peers, --benchmark_repetitions=3).
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
MW_PACKAGES+=(libhyperscan-dev libyara-dev)  # the peers; only this benchmark needs them
mw_install
MW_BUILD=$MW_ROOT/build-bench mw_build -DMW_BUILD_BENCH=ON -DMW_BUILD_TESTS=OFF
corpus=$(mktemp -d)
trap 'rm -rf "$corpus"' EXIT
python3 "$MW_SHARED/corpus/generate.py" --out "$corpus" --seed 1 >/dev/null
"$MW_ROOT/build-bench/bench/match_bench" --corpus="$corpus" "$@"
