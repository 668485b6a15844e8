#!/usr/bin/env bash
# Builds mirrorwatch and measures it against wget2, Scrapy and Crawlee in one run of the shared
# peer benchmark (../shared/bench/crawl-peers.sh): the same site, scope and limits for all.
# Extra arguments go to crawl-peers.sh (e.g. --peers wget2 --no-ceiling, --results FILE).
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
mw_install
mw_build -DMW_BUILD_TESTS=OFF
bin=$(mktemp -d)/mirrorwatch
cp "$MW_BUILD/mirrorwatch" "$bin"  # a rebuild during the run must not change what is measured
# The peers' job: stay on the seed hosts (127.0.0.2-5, which the SSRF guard must be told to
# allow), follow links whose path ends in .html, .htm or /, no robots.txt, no sitemaps.
exec "$MW_SHARED/bench/crawl-peers.sh" --ours-name mirrorwatch --ours \
  "$bin crawl --seeds {seeds} --max-pages {max_pages} --concurrency {concurrency} \
--per-host {per_host} --out {outdir} --scope same-host --accept '(\\.html?|/)\$' \
--allow-net 127.0.0.0/8 --robots ignore --sitemaps off --progress never" "$@"
