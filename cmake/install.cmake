# Installs the library, its headers under include/adgraph/, and an adgraphConfig.cmake for find_package.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS adgraph EXPORT adgraphTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
foreach(part tensor autodiff nn)
  install(DIRECTORY ${part}/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/adgraph/${part} FILES_MATCHING PATTERN "*.hpp")
endforeach()
install(FILES include/adgraph/adgraph.hpp DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/adgraph)
install(EXPORT adgraphTargets NAMESPACE adgraph:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/adgraph)
configure_package_config_file(cmake/adgraphConfig.cmake.in ${CMAKE_CURRENT_BINARY_DIR}/adgraphConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/adgraph)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/adgraphConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/adgraphConfig.cmake ${CMAKE_CURRENT_BINARY_DIR}/adgraphConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/adgraph)
