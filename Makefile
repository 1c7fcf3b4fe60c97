# linac: the README's two commands.
#
#   make demo    install what is missing, configure, build, run the main job
#   make check   install what is missing, build, run every test through ctest
#
# Both start from a fresh Debian 12 machine: scripts/install-deps.sh installs
# the exact packages (LLVM/MLIR 22, clang-22, lld-22, toml++, GoogleTest).

BUILD_DIR ?= build
BUILD_TYPE ?= Release
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
# scripts/sanitize.sh and fuzz.sh build with the same parallelism.
export JOBS

CMAKE_FLAGS = -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) \
  -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
  -DLLVM_USE_LINKER=lld -DMLIR_LINK_MLIR_DYLIB=ON

.PHONY: all deps configure build check demo docs fuzz sanitize clean

all: build

deps:
	./scripts/install-deps.sh

$(BUILD_DIR)/build.ninja:
	cmake -S . -B $(BUILD_DIR) $(CMAKE_FLAGS)

configure: deps
	$(MAKE) $(BUILD_DIR)/build.ninja

build: configure
	ninja -C $(BUILD_DIR) -j$(JOBS)

check: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j$(JOBS)

demo: build
	./scripts/demo.sh $(BUILD_DIR)

# The runtime, spec parser and GoogleTest suite under ASan+UBSan+LSan in
# build-asan/.
sanitize: deps
	./scripts/sanitize.sh

# libFuzzer targets (spec parser, .npy reader, oracle validation,
# linac_validate, linac IR text, specs through the whole CPU and CUDA
# pipelines) under ASan+UBSan in build-fuzz/, FUZZ_SECONDS each (default 20).
fuzz: deps
	./scripts/fuzz.sh

# Regenerate docs/generated/ from the ODS descriptions.
docs: configure
	ninja -C $(BUILD_DIR) linac-doc

clean:
	rm -rf $(BUILD_DIR) build-fuzz build-asan
