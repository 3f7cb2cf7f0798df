# CTest smoke run of benchmarks/report.py: one round of bench_modes (both runs the script makes) and
# bench_higher_order at --quick sizes, then the page; fails unless report.py exits 0 and the page has the modes
# section in both forms and the issue 22 targets. Run with -DMODES=... -DHIGHER=... -DREPORT=... -DPYTHON=... -DDIR=...
file(REMOVE_RECURSE ${DIR})
file(MAKE_DIRECTORY ${DIR}/round-1)
set(ENV{OPENBLAS_NUM_THREADS} 1)
execute_process(COMMAND ${MODES} --quick --json --csv ${DIR}/modes.csv --png ""
                OUTPUT_FILE ${DIR}/round-1/modes.jsonl RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "bench_modes exited with ${rc}")
endif()
execute_process(COMMAND ${MODES} --quick --json --retain-freed-memory --no-mlp --csv ${DIR}/retain.csv --png ""
                OUTPUT_FILE ${DIR}/round-1/modes_retain.jsonl RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "bench_modes --retain-freed-memory exited with ${rc}")
endif()
execute_process(COMMAND ${HIGHER} --quick --json OUTPUT_FILE ${DIR}/round-1/higher_order.jsonl RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "bench_higher_order exited with ${rc}")
endif()
execute_process(COMMAND ${PYTHON} ${REPORT} ${DIR} OUTPUT_VARIABLE page ERROR_VARIABLE err RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "report.py exited with ${rc}: ${err}")
endif()
foreach(want "## Targets (issue 22)" "| tanh n=5 m=5 | matmul |" "| tanh n=5 m=5 | linear |"
             "jacrev as shipped / with retain_freed_memory()" "hvp (forward over reverse) / grad, as shipped"
             "## Higher order (`bench_higher_order`)")
  string(FIND "${page}" "${want}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "report.py's page lacks '${want}':\n${page}")
  endif()
endforeach()
