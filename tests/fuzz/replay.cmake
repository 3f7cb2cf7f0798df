# Replays the fuzz targets' committed inputs in ordinary builds (g++ or clang, no libFuzzer): each
# fuzz_replay_<target> is replay.cpp's main() linked with the target's LLVMFuzzerTestOneInput, run on the seed
# corpus and on the minimised reproducers of past findings. Under the sanitize preset the whole build carries
# ASan + UBSan, so a replayed input that brings back a memory error fails here too.
# Included from tests/CMakeLists.txt; building and running the fuzzers themselves: tests/fuzz/README.md.
set(_adgraph_fuzz_dir ${CMAKE_CURRENT_LIST_DIR})

foreach(_target IN ITEMS idx_raw idx_gz checkpoint spec png)
  add_executable(fuzz_replay_${_target} ${_adgraph_fuzz_dir}/replay.cpp ${_adgraph_fuzz_dir}/fuzz_${_target}.cpp)
  target_link_libraries(fuzz_replay_${_target} PRIVATE adgraph::adgraph ZLIB::ZLIB)
  target_compile_options(fuzz_replay_${_target} PRIVATE -Wall -Wextra -Wpedantic)
  # The regressions directory of a target without findings may not exist; replay.cpp skips it, and fails when
  # no input at all is found, so a wrong corpus path cannot pass.
  add_test(NAME fuzz_replay_${_target}
           COMMAND fuzz_replay_${_target} ${_adgraph_fuzz_dir}/corpus/${_target}
                   ${_adgraph_fuzz_dir}/regressions/${_target})
  set_tests_properties(fuzz_replay_${_target} PROPERTIES LABELS fuzz TIMEOUT 300)
endforeach()

# The driver's own promise: no input is a failure, not a pass.
add_test(NAME fuzz_replay_fails_without_input
         COMMAND fuzz_replay_spec ${_adgraph_fuzz_dir}/corpus/no-such-target)
set_tests_properties(fuzz_replay_fails_without_input PROPERTIES LABELS fuzz WILL_FAIL TRUE)

# The committed seeds are make_corpus.py's output; a generator edit without regenerating them fails here.
find_package(Python3 COMPONENTS Interpreter QUIET)
if(Python3_Interpreter_FOUND)
  add_test(NAME fuzz_corpus_matches_generator
           COMMAND Python3::Interpreter ${_adgraph_fuzz_dir}/make_corpus.py --check ${_adgraph_fuzz_dir}/corpus)
  set_tests_properties(fuzz_corpus_matches_generator PROPERTIES LABELS fuzz)
endif()
