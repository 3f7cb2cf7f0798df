# Runs a program that must fail its self-check: exit 1 with EXPECT (a regular expression) in its output. Exit 77
# (a skip) is passed on as a line CTest's SKIP_REGULAR_EXPRESSION matches; any other outcome fails.
#   cmake "-DCOMMAND=<program>|<arg>|..." -DEXPECT=<regex> -P style_expect_fail.cmake
string(REPLACE "|" ";" command "${COMMAND}")
execute_process(COMMAND ${command} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 110)
message("${out}${err}")
if(rc EQUAL 77)
  message("expect_fail: SKIPPED (exit 77)")
elseif(NOT rc EQUAL 1)
  message(FATAL_ERROR "expect_fail: exited with ${rc}, not 1 (a failed self-check)")
elseif(NOT "${out}${err}" MATCHES "${EXPECT}")
  message(FATAL_ERROR "expect_fail: exited with 1 but the output lacks '${EXPECT}'")
else()
  message("expect_fail: exited with 1 and printed '${EXPECT}'")
endif()
