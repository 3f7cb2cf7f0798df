# Runs a program that must fail: exit EXIT (default 1, a failed self-check or a runtime error; 2 a usage error) with
# EXPECT (a regular expression) in its output. Exit 77 (a skip) is passed on as a line CTest's
# SKIP_REGULAR_EXPRESSION matches; any other outcome fails. (PASS_REGULAR_EXPRESSION alone would make CTest ignore
# the exit status, so a program printing the line and then exiting 0 or crashing would pass; WILL_FAIL would pass
# any error.)
#   cmake "-DCOMMAND=<program>|<arg>|..." -DEXPECT=<regex> [-DEXIT=<status>] -P expect_fail.cmake
if(NOT DEFINED EXIT)
  set(EXIT 1)
endif()
string(REPLACE "|" ";" command "${COMMAND}")
execute_process(COMMAND ${command} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 110)
message("${out}${err}")
if(rc EQUAL 77)
  message("expect_fail: SKIPPED (exit 77)")
elseif(NOT rc EQUAL EXIT)
  message(FATAL_ERROR "expect_fail: exited with ${rc}, not ${EXIT}")
elseif(NOT "${out}${err}" MATCHES "${EXPECT}")
  message(FATAL_ERROR "expect_fail: exited with ${EXIT} but the output lacks '${EXPECT}'")
else()
  message("expect_fail: exited with ${EXIT} and printed '${EXPECT}'")
endif()
