#!/usr/bin/env bash
# Builds the tests with a sanitizer in a build directory of its own and runs them (ctest).
# usage: scripts/sanitize.sh asan|tsan [CTEST-ARGS...]
#   asan  AddressSanitizer + LeakSanitizer + UndefinedBehaviorSanitizer, every test
#         (build-asan/, or $MW_BUILD_ASAN). Add `-E corpus` to skip the nginx corpus runs.
#   tsan  ThreadSanitizer, the tests that run fetches, the crawl loop and its writers on threads
#         (build-tsan/, or $MW_BUILD_TSAN).
# Extra arguments go to ctest after the script's own (e.g. -R FetchLimits, -E corpus, -j 1).
# Prints how long the build and the test run took. -Werror stays on, except for the one
# diagnostic per mode that GCC 12 raises inside Boost's headers (explained below); any other
# warning that only a sanitizer build shows fails it, and is fixed in the source.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

mode=${1:-}
case $mode in
  asan)
    build=${MW_BUILD_ASAN:-$MW_ROOT/build-asan}
    flags="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
    # g++ 12 with -fsanitize=address,undefined at -O2 reports -Wmaybe-uninitialized inside
    # Boost.Beast's HTTP parser (boost/beast/http/impl/basic_parser.hpp:66, boost::optional
    # returned as boost::none), included by the tests' server (tests/crawler/test_server.h);
    # the plain build does not. That one diagnostic is kept a warning here (it still shows in
    # build.log); every other warning stays an error.
    flags+=" -Wno-error=maybe-uninitialized"
    targets=(mirrorwatch parsers_test signatures_test crawler_test)
    ctest_select=()
    # The test binaries also start the (sanitized) mirrorwatch binary; it inherits these.
    export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
    export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
    ;;
  tsan)
    build=${MW_BUILD_TSAN:-$MW_ROOT/build-tsan}
    flags="-fsanitize=thread -fno-omit-frame-pointer"
    # g++ 12 warns (-Wtsan) that TSan does not model std::atomic_thread_fence, which Boost.Asio's
    # std_fenced_block (boost/asio/detail/std_fenced_block.hpp, inlined into crawler/crawl.cc)
    # uses; under -Werror that fails the build. Only that one diagnostic is kept a warning here:
    # it still shows in build.log, every other warning stays an error.
    flags+=" -Wno-error=tsan"
    targets=(mirrorwatch crawler_test)
    # The suites whose code runs on more than one thread: the fetch pool, the crawl loop,
    # politeness (delays, retries), resume, WARC/evidence recording, recheck.
    ctest_select=(-R '^(Fetch|Frontier|Politeness|Crawl|Resume|Evidence|Recheck|Warc)')
    export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}
    if [[ -f $MW_ROOT/scripts/tsan.supp ]]; then
      TSAN_OPTIONS+=":suppressions=$MW_ROOT/scripts/tsan.supp"
    fi
    ;;
  *)
    echo "usage: $0 asan|tsan [CTEST-ARGS...]" >&2
    exit 2
    ;;
esac
shift

mw_install --tests
if [[ ! -d $MW_ROOT/tests/warc/node_modules ]]; then
  npm ci --prefix "$MW_ROOT/tests/warc" --no-audit --no-fund --silent
fi

jobs=${MW_JOBS:-$(nproc)}
mkdir -p "$build"
log=$build/build.log
start=$SECONDS
# gtest_discover_tests runs the test binaries at build time, so the sanitizer options above
# are already in effect here.
if ! { cmake -S "$MW_ROOT" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
         -DMW_BUILD_TESTS=ON \
         -DCMAKE_CXX_FLAGS="$flags" \
         -DCMAKE_EXE_LINKER_FLAGS="$flags" \
         -DCMAKE_SHARED_LINKER_FLAGS="$flags" &&
       cmake --build "$build" -j "$jobs" --target "${targets[@]}"; } >"$log" 2>&1; then
  tail -n 200 "$log" >&2
  echo "$mode build failed after $((SECONDS - start)) s (log: $log)" >&2
  exit 1
fi
build_s=$((SECONDS - start))
echo "$mode: built in $build_s s ($build)"

start=$SECONDS
rc=0
(cd "$build" && ctest --output-on-failure -j "$jobs" --timeout 900 "${ctest_select[@]}" "$@") || rc=$?
echo "$mode: build $build_s s, tests $((SECONDS - start)) s, ctest exit $rc"
exit "$rc"
