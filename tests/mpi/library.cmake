# The adgraph_mpi library's tests (tests/mpi/): one doctest program run by CTest under `mpirun -np 1`, `-np 2` and
# `-np 3` (more ranks than this machine's 2 cores: --oversubscribe). Included from tests/CMakeLists.txt.
if(TARGET adgraph_mpi AND MPIEXEC_EXECUTABLE)
  add_executable(adgraph_mpi_tests ${CMAKE_CURRENT_LIST_DIR}/main.cpp ${CMAKE_CURRENT_LIST_DIR}/test_collectives.cpp
                                   ${CMAKE_CURRENT_LIST_DIR}/test_data_parallel.cpp)
  target_link_libraries(adgraph_mpi_tests PRIVATE adgraph::mpi doctest::doctest)
  # mpirun refuses root without both variables; one BLAS thread per rank (the ranks share 2 cores).
  set(_adgraph_mpi_env OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1)
  if(ADGRAPH_SANITIZE)
    # OpenMPI's own allocations that live until exit are not ours: tests/mpi/lsan.supp names its libraries. Their
    # stacks reach those libraries only with the slow unwinder (OpenMPI has no frame pointers, and the innermost
    # frames lie in MCA components unloaded by MPI_Finalize, which LSan cannot name), hence fast_unwind_on_malloc=0
    # here; otherwise the sanitize preset's options (leak detection, halt on error) as for every test.
    list(APPEND _adgraph_mpi_env
         "ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:fast_unwind_on_malloc=0:malloc_context_size=40"
         "LSAN_OPTIONS=suppressions=${CMAKE_CURRENT_LIST_DIR}/lsan.supp:print_suppressions=0")
  endif()
  foreach(np 1 2 3)
    add_test(NAME mpi_library_np${np}
      COMMAND ${MPIEXEC_EXECUTABLE} ${MPIEXEC_NUMPROC_FLAG} ${np} --oversubscribe ${MPIEXEC_PREFLAGS}
              $<TARGET_FILE:adgraph_mpi_tests> ${MPIEXEC_POSTFLAGS})
    set_tests_properties(mpi_library_np${np} PROPERTIES ENVIRONMENT "${_adgraph_mpi_env}" TIMEOUT 300 LABELS mpi
                         FAIL_REGULAR_EXPRESSION "test cases: *0 \\|")
  endforeach()
  # A rank failing while the others wait in a collective ends the job (MPI_Abort), naming the rank: no hang (a hang
# fails by TIMEOUT). The rank's own line, not mpirun's report, which is lost when its help-text lookup fails (3 of 17
# runs under load: "ORTE_ERROR_LOG: Out of resource in file ../../../orte/util/show_help.c").
  add_executable(adgraph_mpi_fault ${CMAKE_CURRENT_LIST_DIR}/fault.cpp)
  target_link_libraries(adgraph_mpi_fault PRIVATE adgraph::mpi)
  # Through expect_abort.cmake: mpirun's exit code must be non-zero too (PASS_REGULAR_EXPRESSION ignores it).
  foreach(mode throw abort)
    add_test(NAME mpi_library_fault_${mode}
      COMMAND ${CMAKE_COMMAND} "-DCOMMAND=${MPIEXEC_EXECUTABLE}|${MPIEXEC_NUMPROC_FLAG}|2|--oversubscribe|$<TARGET_FILE:adgraph_mpi_fault>|--${mode}"
              "-DEXPECT=adg::mpi: rank 1 of 2 aborts the job" -DSECONDS=50 -P ${CMAKE_CURRENT_LIST_DIR}/expect_abort.cmake)
    set_tests_properties(mpi_library_fault_${mode} PROPERTIES ENVIRONMENT "${_adgraph_mpi_env}" TIMEOUT 60 LABELS mpi)
  endforeach()
  # mpi::abort once MPI has finalised (one process, no mpirun): it still ends the process with its code, as
  # [[noreturn]] promises, instead of throwing.
  add_test(NAME mpi_library_fault_abort_finalised
    COMMAND ${CMAKE_COMMAND} "-DCOMMAND=$<TARGET_FILE:adgraph_mpi_fault>|--abort-finalised"
            "-DEXPECT=adg::mpi: the process ends .exit code 3.; MPI is not running" -DCODE=3 -DSECONDS=50
            -P ${CMAKE_CURRENT_LIST_DIR}/expect_abort.cmake)
  set_tests_properties(mpi_library_fault_abort_finalised PROPERTIES ENVIRONMENT "${_adgraph_mpi_env}" TIMEOUT 60
                       LABELS mpi)
else()
  # No adgraph_mpi or no mpirun: nothing to run. A skip (the message below) unless ADGRAPH_REQUIRE_MPI=1 (.ci/run),
  # where it fails, so CI cannot pass without running the MPI tests.
  add_test(NAME mpi_library_unavailable
    COMMAND ${CMAKE_COMMAND} -DWHAT=adgraph_mpi -P ${CMAKE_CURRENT_LIST_DIR}/require_mpi.cmake)
  set_tests_properties(mpi_library_unavailable PROPERTIES LABELS mpi SKIP_REGULAR_EXPRESSION "MPI tests skipped")
endif()
