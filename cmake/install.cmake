# Installs the library, its headers under include/adgraph/, and an adgraphConfig.cmake for find_package.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS adgraph EXPORT adgraphTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
# Headers and op tables (autodiff/ops_*.def, which ops.hpp includes); not the private headers under internal/ (the
# samples the op tests draw).
foreach(part tensor autodiff nn)
  install(DIRECTORY ${part}/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/adgraph/${part} FILES_MATCHING PATTERN "*.hpp"
    PATTERN "*.def" PATTERN "internal" EXCLUDE)
endforeach()
install(FILES include/adgraph/adgraph.hpp DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/adgraph)
install(EXPORT adgraphTargets NAMESPACE adgraph:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/adgraph)
# adgraph_mpi when it was built, as adgraph::mpi in its own export set: adgraphConfig.cmake includes it when the
# consumer's CMake finds MPI too (find_package(adgraph COMPONENTS mpi) to require it).
if(TARGET adgraph_mpi)
  install(TARGETS adgraph_mpi EXPORT adgraphMpiTargets
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
    INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
  install(DIRECTORY mpi/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/adgraph/mpi FILES_MATCHING PATTERN "*.hpp"
    PATTERN "internal" EXCLUDE)
  install(EXPORT adgraphMpiTargets NAMESPACE adgraph:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/adgraph)
endif()
configure_package_config_file(cmake/adgraphConfig.cmake.in ${CMAKE_CURRENT_BINARY_DIR}/adgraphConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/adgraph)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/adgraphConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/adgraphConfig.cmake ${CMAKE_CURRENT_BINARY_DIR}/adgraphConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/adgraph)

# pkg-config, for builds without CMake: g++ main.cpp $(pkg-config --cflags --libs adgraph). The library is static, so
# Libs also names what it links (BLAS as CMake found it, libpng, zlib, threads); Cflags carry the flags the CMake
# target passes on (xsimd, the allocator header every translation unit must see first, the instruction set).
file(RELATIVE_PATH ADGRAPH_PC_TO_PREFIX /root/${CMAKE_INSTALL_LIBDIR}/pkgconfig /root)
string(REGEX REPLACE "/$" "" ADGRAPH_PC_TO_PREFIX "${ADGRAPH_PC_TO_PREFIX}")
set(ADGRAPH_PC_ARCH_FLAGS "")
if(ADGRAPH_ARCH AND NOT ADGRAPH_ARCH STREQUAL "portable")
  set(ADGRAPH_PC_ARCH_FLAGS "-march=${ADGRAPH_ARCH} -ffp-contract=off")
endif()
list(JOIN BLAS_LIBRARIES " " _adgraph_pc_blas)
set(ADGRAPH_PC_LIBS "${_adgraph_pc_blas} -lpng -lz -pthread")
configure_file(cmake/adgraph.pc.in ${CMAKE_CURRENT_BINARY_DIR}/adgraph.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/adgraph.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
