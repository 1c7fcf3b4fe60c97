#!/usr/bin/env bash
#===- fuzz.sh - build and run the libFuzzer targets -----------------------===#
#
# Builds the runtime, the spec parser, the linac dialect, passes and code
# generators, and the fuzz targets with clang-22 and
# -fsanitize=fuzzer,address,undefined in their own build directory
# (libMLIR.so is linked as it is, uninstrumented: the MLIR and pipeline
# targets' coverage comes from linac's code), then runs each target for
# FUZZ_SECONDS (default 20; 30 for the pipeline) on a scratch copy of its
# committed seed corpus (test/fuzz/corpus/<target>/). Any crash, leak,
# sanitizer report or timeout fails the run; the reproducer is left in the
# build directory and must be turned into a regression test (a file in the
# corpus plus a lit test).
#
#===----------------------------------------------------------------------===#
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${FUZZ_BUILD_DIR:-build-fuzz}
SECONDS_PER_TARGET=${FUZZ_SECONDS:-20}
TARGETS=${FUZZ_TARGETS:-"spec npy oracle-validate validate mlir pipeline"}

FLAGS="-fsanitize=address,undefined,fuzzer-no-link -fno-sanitize-recover=all -fno-omit-frame-pointer -g -O1"
# Configured every time (a no-op when nothing changed), so that a build
# directory from before the MLIR target gets the compiler turned on.
cmake -G Ninja -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
  -DCMAKE_CXX_FLAGS="$FLAGS" -DCMAKE_C_FLAGS="$FLAGS" \
  -DLLVM_USE_LINKER=lld -DMLIR_LINK_MLIR_DYLIB=ON \
  -DLINAC_BUILD_COMPILER=ON -DLINAC_BUILD_TESTS=OFF \
  -DLINAC_BUILD_FUZZERS=ON >/dev/null
ninja -C "$BUILD_DIR" -j"${JOBS:-$(nproc)}" $(for t in $TARGETS; do echo linac-fuzz-$t; done)

status=0
for target in $TARGETS; do
  corpus="$BUILD_DIR/corpus/$target"
  rm -rf "$corpus" && mkdir -p "$corpus"
  cp test/fuzz/corpus/"$target"/* "$corpus"/
  # A target may come with a dictionary of its input's tokens.
  dict=()
  if [ -f test/fuzz/"$target".dict ]; then
    dict=(-dict="$PWD/test/fuzz/$target.dict")
  fi
  # The pipeline target reads one byte per field (29 in all): longer
  # inputs only give the mutator bytes that change nothing. Its inputs take
  # 0.1-0.3 s each and its seed corpus alone about 10 s, so it gets 30 s
  # unless FUZZ_SECONDS says otherwise.
  max_len=4096
  seconds=$SECONDS_PER_TARGET
  if [ "$target" = pipeline ]; then
    max_len=32
    seconds=${FUZZ_SECONDS:-30}
  fi
  echo "== linac-fuzz-$target: ${seconds}s"
  if ! (cd "$BUILD_DIR" && ./bin/linac-fuzz-"$target" corpus/"$target" \
      -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -max_len="$max_len" -print_final_stats=1 "${dict[@]}" 2>&1 | tail -12); then
    echo "linac-fuzz-$target FAILED; reproducer in $BUILD_DIR" >&2
    status=1
  fi
done
exit $status
