#!/usr/bin/env bash
#===- sanitize.sh - the runtime and its tests under ASan + UBSan ---------===#
#
# Builds everything that does not need MLIR (the runtime, the oracle, .npy
# I/O, the spec parser, linac-oracle) and the GoogleTest suite with
# -fsanitize=address,undefined in build-asan/, and runs the tests with
# LeakSanitizer on. Any report fails the run.
#
#===----------------------------------------------------------------------===#
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${ASAN_BUILD_DIR:-build-asan}
FLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -g -O1"
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  cmake -G Ninja -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Debug \
    -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
    -DCMAKE_CXX_FLAGS="$FLAGS" -DCMAKE_C_FLAGS="$FLAGS" \
    -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" \
    -DLINAC_BUILD_COMPILER=OFF >/dev/null
fi
ninja -C "$BUILD_DIR" -j"${JOBS:-$(nproc)}"
cd "$BUILD_DIR"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --output-on-failure -j"$(nproc)" -E install-package
