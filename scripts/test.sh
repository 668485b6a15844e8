#!/usr/bin/env bash
# Set-up command 2: installs what is missing, builds, and runs every test (ctest).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
mw_install
mw_build -DMW_BUILD_TESTS=ON
cd "$MW_BUILD"
ctest --output-on-failure -j "$(nproc)" --timeout 900
