# CTest test `install_and_consume`: install the build tree to a scratch prefix, then configure, build and run the
# downstream project in this folder against that prefix. Any failing step fails the test and shows its output.
#
# Run as: cmake -DBUILD_DIR=... -DCONSUMER_SOURCE_DIR=... -DWORK_DIR=... [-DCONFIG=...] [-DGENERATOR=...]
#               [-DMAKE_PROGRAM=...] [-DCXX_COMPILER=...] [-DCXX_COMPILER_LAUNCHER=...] [-DCXX_FLAGS=...]
#               [-DLINKER_FLAGS=...] -P run.cmake
cmake_minimum_required(VERSION 3.25)

foreach(var BUILD_DIR CONSUMER_SOURCE_DIR WORK_DIR)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "run.cmake: -D${var}=... is required")
  endif()
endforeach()
if(NOT DEFINED CONFIG OR CONFIG STREQUAL "")
  set(CONFIG Release)
endif()

set(prefix ${WORK_DIR}/prefix)
set(consumer_build ${WORK_DIR}/build)
file(REMOVE_RECURSE ${prefix} ${consumer_build})

function(step name)
  execute_process(COMMAND ${ARGN} COMMAND_ECHO STDOUT RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "install_and_consume: step '${name}' failed (${rc})")
  endif()
endfunction()

# 1. Install.
step(install ${CMAKE_COMMAND} --install ${BUILD_DIR} --config ${CONFIG} --prefix ${prefix})

# 2. The installed layout that `#include <adgraph/...>` and find_package rely on.
file(GLOB_RECURSE config_files LIST_DIRECTORIES false ${prefix}/*/adgraphConfig.cmake)
foreach(required include/adgraph/adgraph.hpp include/adgraph/tensor/array.hpp include/adgraph/autodiff/tensor.hpp)
  if(NOT EXISTS ${prefix}/${required})
    message(FATAL_ERROR "install_and_consume: ${prefix}/${required} was not installed")
  endif()
endforeach()
if(NOT config_files)
  message(FATAL_ERROR "install_and_consume: no adgraphConfig.cmake under ${prefix}")
endif()

# 3. Configure the consumer with the same generator, compiler, launcher and flags as the tree under test.
set(configure_args -S ${CONSUMER_SOURCE_DIR} -B ${consumer_build}
  -DCMAKE_PREFIX_PATH=${prefix} -DADGRAPH_EXPECTED_PREFIX=${prefix} -DCMAKE_BUILD_TYPE=${CONFIG}
  -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF)
if(GENERATOR)
  list(APPEND configure_args -G ${GENERATOR})
endif()
foreach(pair "MAKE_PROGRAM;CMAKE_MAKE_PROGRAM" "CXX_COMPILER;CMAKE_CXX_COMPILER"
             "CXX_COMPILER_LAUNCHER;CMAKE_CXX_COMPILER_LAUNCHER" "CXX_FLAGS;CMAKE_CXX_FLAGS"
             "LINKER_FLAGS;CMAKE_EXE_LINKER_FLAGS")
  list(GET pair 0 in)
  list(GET pair 1 out)
  if(DEFINED ${in} AND NOT "${${in}}" STREQUAL "")
    list(APPEND configure_args "-D${out}=${${in}}")
  endif()
endforeach()
step(configure ${CMAKE_COMMAND} ${configure_args})

# 4. Build and run.
step(build ${CMAKE_COMMAND} --build ${consumer_build} --config ${CONFIG})
set(exe)
foreach(candidate ${consumer_build}/adgraph_consumer ${consumer_build}/${CONFIG}/adgraph_consumer)  # single/multi-config
  foreach(suffix "" .exe)
    if(NOT exe AND EXISTS ${candidate}${suffix})
      set(exe ${candidate}${suffix})
    endif()
  endforeach()
endforeach()
if(NOT exe)
  message(FATAL_ERROR "install_and_consume: adgraph_consumer was not built under ${consumer_build}")
endif()
step(run ${exe})

# 5. The same program built without CMake, as the README shows: c++ main.cpp $(pkg-config --cflags --libs adgraph).
find_program(PKG_CONFIG NAMES pkg-config pkgconf REQUIRED)
file(GLOB_RECURSE pc_files LIST_DIRECTORIES false ${prefix}/*/adgraph.pc)
if(NOT pc_files)
  message(FATAL_ERROR "install_and_consume: no adgraph.pc under ${prefix}")
endif()
list(GET pc_files 0 pc_file)
get_filename_component(pc_dir ${pc_file} DIRECTORY)
set(ENV{PKG_CONFIG_PATH} ${pc_dir})
execute_process(COMMAND ${PKG_CONFIG} --cflags --libs adgraph OUTPUT_VARIABLE pc_flags RESULT_VARIABLE rc
                OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "install_and_consume: pkg-config --cflags --libs adgraph failed (${rc})")
endif()
separate_arguments(pc_flags UNIX_COMMAND "${pc_flags}")
if(NOT CXX_COMPILER)
  set(CXX_COMPILER c++)
endif()
# The tree's own flags too (the sanitizer build's -fsanitize=... must reach the link of its static library).
separate_arguments(tree_flags UNIX_COMMAND "${CXX_FLAGS} ${LINKER_FLAGS}")
set(pc_exe ${WORK_DIR}/adgraph_consumer_pkg_config)
step(pkg_config_build ${CXX_COMPILER} -O1 ${tree_flags} ${CONSUMER_SOURCE_DIR}/main.cpp ${pc_flags} -o ${pc_exe})
step(pkg_config_run ${pc_exe})
