# Installs the build tree into a scratch prefix, then configures, builds and
# runs a downstream project that uses find_package(linac). CONSUMER names the
# program it builds and runs (default: linac-package-consumer).
if(NOT CONSUMER)
  set(CONSUMER linac-package-consumer)
endif()
file(REMOVE_RECURSE ${WORK_DIR})
execute_process(COMMAND ${CMAKE_COMMAND} --install ${LINAC_BUILD_DIR}
  --prefix ${WORK_DIR}/prefix RESULT_VARIABLE rc OUTPUT_QUIET)
if(rc)
  message(FATAL_ERROR "install failed: ${rc}")
endif()
foreach(step
    "${CMAKE_COMMAND};-S;${PACKAGE_TEST_SOURCE};-B;${WORK_DIR}/build;-G;Ninja;-DCMAKE_CXX_COMPILER=${CXX_COMPILER};-DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix"
    "${CMAKE_COMMAND};--build;${WORK_DIR}/build"
    "${WORK_DIR}/build/${CONSUMER}")
  execute_process(COMMAND ${step} RESULT_VARIABLE rc)
  if(rc)
    message(FATAL_ERROR "step failed (${rc}): ${step}")
  endif()
endforeach()
