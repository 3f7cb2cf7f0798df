# `adgraph train` under mpirun (tests/mpi/train_test.py, run by Debian's /usr/bin/python3): equivalence of -np 1, 2
# and 3 with one process (checkpoints compared tensor by tensor), resume on another number of processes, and faults
# (a rank killed mid-epoch, a non-finite loss). In a build without adgraph_mpi: the message `adgraph train` gives
# under mpirun instead. Each exits 77 (skip) without mpirun unless ADGRAPH_REQUIRE_MPI=1 (.ci/run sets it); a build
# without MPI fails there too. Serial: up to 3 ranks on 2 cores, and the fault case times mpirun's exit.
if(TARGET adgraph_mpi)
  set(_adgraph_cli_mpi_cases equivalence resume faults)
else()
  set(_adgraph_cli_mpi_cases nompi)
endif()
set(_adgraph_cli_mpi_env "")
if(ADGRAPH_SANITIZE)
  # OpenMPI's own allocations that live until exit are not ours (tests/mpi/lsan.supp, with the options the library's
  # tests use: the slow unwinder finds the OpenMPI frame of each such allocation).
  set(_adgraph_cli_mpi_env
      "ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:fast_unwind_on_malloc=0:malloc_context_size=40"
      "LSAN_OPTIONS=suppressions=${CMAKE_CURRENT_SOURCE_DIR}/mpi/lsan.supp:print_suppressions=0")
endif()
foreach(case IN LISTS _adgraph_cli_mpi_cases)
  add_test(NAME mpi_cli_${case}
    COMMAND ${ADGRAPH_SYSTEM_PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/mpi/train_test.py --adgraph $<TARGET_FILE:adgraph_exe>
            --case ${case} --work ${CMAKE_CURRENT_BINARY_DIR}/mpi_cli_${case})
  set_tests_properties(mpi_cli_${case} PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 600 LABELS mpi RUN_SERIAL TRUE
                                                  ENVIRONMENT "${_adgraph_cli_mpi_env}")
endforeach()
