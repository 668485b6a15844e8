# Shared by scripts/demo.sh and scripts/test.sh: install what is missing, then build.
# Sourced, not run.

MW_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MW_SHARED=${MW_SHARED:-$(cd "$MW_ROOT/.." && pwd)/shared}
MW_BUILD=${MW_BUILD:-$MW_ROOT/build}

# Debian 12 packages the build, the tests and the demo need.
MW_PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config python3
  libcurl4-openssl-dev libssl-dev libgumbo-dev libre2-dev libyaml-cpp-dev
  libuchardet-dev libicu-dev libxml2-dev libboost-dev nlohmann-json3-dev zlib1g-dev
  libsqlite3-dev libgtest-dev libbenchmark-dev nginx-light curl
)
# Only the tests need these: Chromium opens the HTML report to check that nothing in it runs.
MW_TEST_PACKAGES=(chromium)

# mw_install [--tests]: installs what is missing (with --tests, what the tests need as well).
mw_install() {
  local missing=() wanted=("${MW_PACKAGES[@]}")
  [[ ${1:-} == --tests ]] && wanted+=("${MW_TEST_PACKAGES[@]}")
  for p in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
  done
  # Node.js runs the independent WARC reader and the browser check in the tests; any node >= 20
  # (playwright-core needs it) will do, whoever packaged it, so look for the commands rather
  # than Debian's package names.
  command -v node >/dev/null || missing+=(nodejs)
  command -v npm >/dev/null || missing+=(npm)
  if ((${#missing[@]})); then
    echo "installing: ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

mw_build() {
  mkdir -p "$MW_BUILD"
  local log=$MW_BUILD/build.log
  if ! { cmake -S "$MW_ROOT" -B "$MW_BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" &&
         cmake --build "$MW_BUILD" -j "$(nproc)"; } >"$log" 2>&1; then
    cat "$log" >&2
    echo "build failed (log: $log)" >&2
    return 1
  fi
  echo "built $MW_BUILD/mirrorwatch"
}

# A free TCP port on 127.0.0.1.
mw_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
