# Fails when docs/generated/ differs from what mlir-tblgen produces now.
foreach(doc Linac/LinacDialect.md LinacPasses.md)
  get_filename_component(name ${doc} NAME)
  execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files
    ${GENERATED_DIR}/${doc} ${COMMITTED_DIR}/${name} RESULT_VARIABLE differs)
  if(differs)
    message(FATAL_ERROR "docs/generated/${name} is stale: run `ninja -C build linac-doc` and commit it")
  endif()
endforeach()
message(STATUS "generated docs are current")
