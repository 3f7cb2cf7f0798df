# Run by CTest when the MPI tests cannot be registered (no MPI found, or no mpirun): a skip, unless the environment
# says MPI is required (ADGRAPH_REQUIRE_MPI=1, as .ci/run sets), then a failure.
if("$ENV{ADGRAPH_REQUIRE_MPI}" STREQUAL "1")
  message(FATAL_ERROR "ADGRAPH_REQUIRE_MPI=1 but ${WHAT}'s tests could not be built or run: this build has no MPI "
                      "or no mpirun; install libopenmpi-dev and openmpi-bin (scripts/install-deps.sh) and reconfigure")
endif()
message("MPI tests skipped: this build has no MPI or no mpirun (set ADGRAPH_REQUIRE_MPI=1 to make this a failure)")
