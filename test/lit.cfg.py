# -*- Python -*- lit configuration of the linac test suite.

import os

import lit.formats
from lit.llvm import llvm_config

config.name = "LINAC"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.linac_obj_root, "test")
# GoogleTest sources and the downstream package project are not lit tests.
config.excludes = ["lit.cfg.py", "lit.site.cfg.py", "unit", "package", "fuzz",
                   "CMakeLists.txt", "CheckDocs.cmake", "cpp"]

config.substitutions.append(("%linac_src_root", config.linac_src_root))
config.substitutions.append(("%linac_obj_root", config.linac_obj_root))

llvm_config.use_default_substitutions()
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
llvm_config.add_tool_substitutions(
    ["linac-opt", "linacc", "linac-oracle", "linac-run"],
    [config.linac_tools_dir, config.llvm_tools_dir])
# %linac_run / %linac_oracle: full paths, for scripts that run the tools.
config.substitutions.append(
    ("%linac_run", os.path.join(config.linac_tools_dir, "linac-run")))
config.substitutions.append(
    ("%linac_oracle", os.path.join(config.linac_tools_dir, "linac-oracle")))
config.substitutions.append(
    ("%linacc_path", os.path.join(config.linac_tools_dir, "linacc")))
# The stand-in CUDA driver of the runtime's tests (test/unit/fake_cuda.c):
# linac-run's device path on machines without a GPU.
config.substitutions.append(("%fake_cuda", config.linac_fake_cuda))
# Compiled artifacts of the tests live in the build tree, not in ~/.cache.
config.environment["LINAC_CACHE_DIR"] = os.path.join(
    config.linac_obj_root, "test", "linac-cache")

# CUDA: `cuda-toolkit` when linac was configured with one (ptxas and
# libdevice: every kernel compiles to a cubin), `cuda-runtime` when this
# machine also has a driver and a device to run them. Tests that need a GPU
# say `REQUIRES: cuda-runtime` and are reported UNSUPPORTED without one; the
# note below says so once per run, so the skip is never silent.
if config.linac_ptxas and os.path.exists(config.linac_ptxas):
    config.available_features.add("cuda-toolkit")
    config.substitutions.append(("%ptxas", config.linac_ptxas))


def _cuda_device_count():
    try:
        import ctypes

        driver = ctypes.CDLL("libcuda.so.1")
        if driver.cuInit(0) != 0:
            return 0
        count = ctypes.c_int(0)
        if driver.cuDeviceGetCount(ctypes.byref(count)) != 0:
            return 0
        return count.value
    except (OSError, AttributeError):
        return 0


if _cuda_device_count() > 0:
    config.available_features.add("cuda-runtime")
    # compute-sanitizer from the configured toolkit (memcheck of the device
    # path), where there is a device to run it on.
    if config.linac_compute_sanitizer and os.path.exists(
            config.linac_compute_sanitizer):
        config.available_features.add("compute-sanitizer")
        config.substitutions.append(
            ("%compute_sanitizer", config.linac_compute_sanitizer))
else:
    lit_config.note("no CUDA driver or device: tests that REQUIRE cuda-runtime "
                    "are skipped (UNSUPPORTED)")
