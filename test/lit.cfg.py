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
                   "CMakeLists.txt", "CheckDocs.cmake"]

config.substitutions.append(("%linac_src_root", config.linac_src_root))

llvm_config.use_default_substitutions()
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
llvm_config.add_tool_substitutions(
    ["linac-opt", "linacc", "linac-oracle"],
    [config.linac_tools_dir, config.llvm_tools_dir])
