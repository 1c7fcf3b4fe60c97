#!/usr/bin/env bash
#===- fuzz.sh - build and run the libFuzzer targets -----------------------===#
#
# Builds the runtime, the spec parser and the fuzz targets with clang-22 and
# -fsanitize=fuzzer,address,undefined in their own build directory (no MLIR:
# the parsers under test do not use it), then runs each target for
# FUZZ_SECONDS (default 20) on a scratch copy of its committed seed corpus
# (test/fuzz/corpus/<target>/). Any crash, leak, sanitizer report or timeout
# fails the run; the reproducer is left in the build directory and must be
# turned into a regression test (a file in the corpus).
#
#===----------------------------------------------------------------------===#
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${FUZZ_BUILD_DIR:-build-fuzz}
SECONDS_PER_TARGET=${FUZZ_SECONDS:-20}

FLAGS="-fsanitize=address,undefined,fuzzer-no-link -fno-sanitize-recover=all -fno-omit-frame-pointer -g -O1"
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  cmake -G Ninja -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Debug \
    -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
    -DCMAKE_CXX_FLAGS="$FLAGS" -DCMAKE_C_FLAGS="$FLAGS" \
    -DLINAC_BUILD_COMPILER=OFF -DLINAC_BUILD_TESTS=OFF \
    -DLINAC_BUILD_FUZZERS=ON >/dev/null
fi
ninja -C "$BUILD_DIR" linac-fuzz-spec linac-fuzz-npy linac-fuzz-oracle-validate \
  linac-fuzz-validate

status=0
for target in spec npy oracle-validate validate; do
  corpus="$BUILD_DIR/corpus/$target"
  rm -rf "$corpus" && mkdir -p "$corpus"
  cp test/fuzz/corpus/"$target"/* "$corpus"/
  echo "== linac-fuzz-$target: ${SECONDS_PER_TARGET}s"
  if ! (cd "$BUILD_DIR" && ./bin/linac-fuzz-"$target" corpus/"$target" \
      -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 \
      -max_len=4096 -print_final_stats=1 2>&1 | tail -12); then
    echo "linac-fuzz-$target FAILED; reproducer in $BUILD_DIR" >&2
    status=1
  fi
done
exit $status
