#!/usr/bin/env bash
#===- install-deps.sh - install what linac needs on Debian 12 ------------===#
#
# Installs every Debian package the project needs, by exact name, and skips
# the ones already present (so repeated runs cost one dpkg query). Runs apt
# as root directly, or through sudo when available.
#
# LLVM/MLIR 22 come from Debian's bookworm-security suite (22.1.8).
#
#===----------------------------------------------------------------------===#
set -euo pipefail

PACKAGES=(
  # Build tools.
  cmake ninja-build make python3 git
  # LLVM/MLIR 22: headers, CMake packages, libMLIR.so, mlir-tblgen,
  # lit + FileCheck (llvm-22-tools), the compiler and linker.
  llvm-22-dev libmlir-22-dev mlir-22-tools llvm-22-tools clang-22 lld-22
  # Linking static LLVM components needs zstd's CMake target.
  libzstd-dev
  # Spec parsing, tests and benchmarks.
  libtomlplusplus-dev libgtest-dev libbenchmark-dev
  # libFuzzer and the sanitizer runtimes for clang-22 (make fuzz).
  libclang-rt-22-dev
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null |
      grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then
    SUDO="sudo"
  else
    echo "install-deps: missing ${missing[*]}; run as root or install sudo" >&2
    exit 1
  fi
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
