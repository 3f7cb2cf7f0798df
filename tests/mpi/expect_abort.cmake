# Runs a job that must abort (tests/mpi/library.cmake's fault tests) and checks both halves of "ends the job with a
# failure naming the rank": mpirun's exit code is a non-zero number, and its output has the line EXPECT (a regular
# expression). CTest's PASS_REGULAR_EXPRESSION alone would ignore the exit code.
# With -DCODE=<n>, the exit code must be exactly n.
#   cmake -DCOMMAND=<program|arg|...> -DEXPECT=<regex> -DSECONDS=<limit> [-DCODE=<n>] -P expect_abort.cmake
string(REPLACE "|" ";" _command "${COMMAND}")
execute_process(COMMAND ${_command} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT ${SECONDS})
message("${out}${err}")
if(NOT rc MATCHES "^[0-9]+$")
  message(FATAL_ERROR "the job did not exit with a code: '${rc}' (a hang that ran into the ${SECONDS} s limit?)")
endif()
if(rc EQUAL 0)
  message(FATAL_ERROR "the job exited with code 0, but a rank failed: it must end with a non-zero exit code")
endif()
if(DEFINED CODE AND NOT rc EQUAL CODE)
  message(FATAL_ERROR "the job exited with code ${rc}, not ${CODE}")
endif()
if(NOT "${out}${err}" MATCHES "${EXPECT}")
  message(FATAL_ERROR "the job exited with code ${rc} but its output lacks '${EXPECT}'")
endif()
message("the job exited with code ${rc} and printed '${EXPECT}'")
