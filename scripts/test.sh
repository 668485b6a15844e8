#!/usr/bin/env bash
# Set-up command 2: installs what is missing, builds, and runs every test (ctest).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
mw_install --tests
mw_build -DMW_BUILD_TESTS=ON
# The independent WARC reader (warcio from the npm registry), pinned by its lock file.
npm ci --prefix "$MW_ROOT/tests/warc" --no-audit --no-fund --silent
cd "$MW_BUILD"
ctest --output-on-failure -j "$(nproc)" --timeout 900
