# Gateway images (docs/footprint.md, docs/gateway.md): the size-optimised build (SWAS_SMALL), the
# partly static variant (SWAS_STATIC_DEPS), and the .deb with its service files (CPack). Included
# by the root CMakeLists.txt after firmware/, so the targets adjusted here already exist.

option(SWAS_SMALL "Size-optimised swas-agent: -Os, LTO, --gc-sections, --as-needed, stripped" OFF)
option(SWAS_STATIC_DEPS
  "Link the dependencies Debian ships as static libraries (Mbed TLS, http_parser, SQLite) into the binary" OFF)

# The targets that end up in swas-agent: everything defined in agent/, platform/ and firmware/.
set(SWAS_IMAGE_TARGETS "")
foreach(dir agent platform firmware)
  get_property(targets DIRECTORY ${PROJECT_SOURCE_DIR}/${dir} PROPERTY BUILDSYSTEM_TARGETS)
  foreach(target IN LISTS targets)
    get_target_property(type ${target} TYPE)
    if(type MATCHES "^(STATIC_LIBRARY|OBJECT_LIBRARY|EXECUTABLE)$")
      list(APPEND SWAS_IMAGE_TARGETS ${target})
    endif()
  endforeach()
endforeach()

if(SWAS_SMALL)
  include(CheckIPOSupported)
  check_ipo_supported(RESULT swas_ipo_ok OUTPUT swas_ipo_output LANGUAGES C CXX)
  if(NOT swas_ipo_ok)
    message(FATAL_ERROR "SWAS_SMALL needs link-time optimisation, which this compiler lacks: ${swas_ipo_output}")
  endif()
  message(STATUS "swas: small image (-Os, LTO, --gc-sections, stripped) for ${SWAS_IMAGE_TARGETS}")
  foreach(target IN LISTS SWAS_IMAGE_TARGETS)
    # Appended after CMAKE_CXX_FLAGS_<CONFIG>, so -Os wins over a build type's -O2/-O3.
    target_compile_options(${target} PRIVATE -Os -ffunction-sections -fdata-sections)
    set_property(TARGET ${target} PROPERTY INTERPROCEDURAL_OPTIMIZATION ON)
  endforeach()
  target_link_options(swas-agent PRIVATE
    -Wl,--gc-sections -Wl,--as-needed -Wl,-O1 -Wl,--hash-style=gnu -s)
endif()

# A link map next to the binary: what takes the space (docs/footprint.md), and the proof that a
# cross build linked nothing of the build machine (tests/firmware/check-cross-elf).
if(SWAS_SMALL OR CMAKE_CROSSCOMPILING)
  target_link_options(swas-agent PRIVATE "LINKER:-Map=$<TARGET_FILE:swas-agent>.map")
endif()

if(SWAS_STATIC_DEPS)
  # Debian ships .a files for these; not for cJSON or Paho C++ (and libpaho-mqttpp3.so pulls the
  # shared Paho C and OpenSSL itself), so those stay shared: docs/footprint.md says why.
  foreach(target MbedTLS::mbedtls MbedTLS::mbedx509 MbedTLS::mbedcrypto HttpParser::http_parser SQLite::SQLite3)
    get_target_property(shared ${target} IMPORTED_LOCATION)
    string(REGEX REPLACE "\\.so(\\.[0-9.]+)?$" ".a" static "${shared}")
    if(NOT EXISTS "${static}")
      message(FATAL_ERROR "SWAS_STATIC_DEPS: ${static} is missing (the static library of ${target})")
    endif()
    set_target_properties(${target} PROPERTIES IMPORTED_LOCATION "${static}")
  endforeach()
  set_property(TARGET SQLite::SQLite3 APPEND PROPERTY INTERFACE_LINK_LIBRARIES m ${CMAKE_DL_LIBS} Threads::Threads)
  message(STATUS "swas: Mbed TLS, http_parser and SQLite linked statically")
endif()

# tests/firmware (issue 5) belongs in tests/CMakeLists.txt (`add_subdirectory(firmware)`). Until
# that line is there, it is added from here, so the firmware.* tests run either way.
if(SWAS_BUILD_TESTS)
  file(STRINGS ${PROJECT_SOURCE_DIR}/tests/CMakeLists.txt swas_tests_firmware_line
    REGEX "^[ \t]*add_subdirectory\\([ \t]*firmware[ \t]*\\)")
  if(NOT swas_tests_firmware_line)
    add_subdirectory(${PROJECT_SOURCE_DIR}/tests/firmware ${PROJECT_BINARY_DIR}/tests/firmware)
  endif()
endif()

# --- The package: swas-agent, its example config, the systemd unit, the maintainer scripts. ---
# Only for the .deb (component swas-agent, installed by cpack): EXCLUDE_FROM_ALL keeps a plain
# `cmake --install` from writing into the machine's /etc, /lib and /var.
set(SWAS_PACKAGING_DIR ${PROJECT_SOURCE_DIR}/firmware/packaging)
install(TARGETS swas-agent RUNTIME DESTINATION bin COMPONENT swas-agent EXCLUDE_FROM_ALL)
install(DIRECTORY ${SWAS_PACKAGING_DIR}/etc/swas-agent DESTINATION /etc COMPONENT swas-agent EXCLUDE_FROM_ALL
  DIRECTORY_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE
  FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
install(DIRECTORY DESTINATION /var/lib/swas-agent COMPONENT swas-agent EXCLUDE_FROM_ALL
  DIRECTORY_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE)
install(FILES ${SWAS_PACKAGING_DIR}/swas-agent.service DESTINATION /lib/systemd/system
  COMPONENT swas-agent EXCLUDE_FROM_ALL PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME swas-agent)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(SWAS_PACKAGE_CONTACT "swas-agent maintainers <swas-agent@localhost>" CACHE STRING
  "Maintainer field of the .deb")
set(CPACK_PACKAGE_CONTACT "${SWAS_PACKAGE_CONTACT}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "edge gateway agent: stops Alibaba Cloud SWAS instances on MQTT commands")
set(CPACK_PACKAGE_DESCRIPTION
  "swas-agent receives StopInstance commands over MQTT, signs them (ACS3-HMAC-SHA256) and sends them\n\
to Alibaba Cloud Simple Application Server over verified HTTPS, journaling every command and\n\
publishing each result. Runs as the unprivileged user swas-agent under a hardened systemd unit.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
# Only the agent's component: tools/ and tests/ install nothing into this package.
set(CPACK_COMPONENTS_ALL swas-agent)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_GROUPING ALL_COMPONENTS_IN_ONE)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# The library dependencies come from dpkg-shlibdeps; useradd (passwd) runs in postinst; the default
# cloud.ca_file is the system bundle.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "passwd, ca-certificates")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${SWAS_PACKAGING_DIR}/debian/postinst ${SWAS_PACKAGING_DIR}/debian/prerm
  ${SWAS_PACKAGING_DIR}/debian/postrm ${SWAS_PACKAGING_DIR}/debian/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
if(CMAKE_CROSSCOMPILING AND SWAS_DEB_ARCH)  # set by firmware/toolchains/*.cmake
  # dpkg-shlibdeps only knows the host's installed packages; the target's come from the shlibs
  # files of the sysroot's packages (firmware/build-images), read when cpack runs.
  set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE ${SWAS_DEB_ARCH})
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS OFF)
  file(GENERATE OUTPUT ${PROJECT_BINARY_DIR}/SwasCPackDepends.cmake CONTENT "\
execute_process(COMMAND ${SWAS_PACKAGING_DIR}/shlibs-depends $<TARGET_FILE:swas-agent> ${SWAS_SYSROOT}/../shlibs
  OUTPUT_VARIABLE swas_shlib_depends OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE swas_rc)
if(NOT swas_rc EQUAL 0)
  message(FATAL_ERROR \"shlibs-depends failed: the Depends of swas-agent are unknown\")
endif()
set(CPACK_DEBIAN_PACKAGE_DEPENDS \"${CPACK_DEBIAN_PACKAGE_DEPENDS}, \${swas_shlib_depends}\")
")
  set(CPACK_PROJECT_CONFIG_FILE ${PROJECT_BINARY_DIR}/SwasCPackDepends.cmake)
endif()
include(CPack)
