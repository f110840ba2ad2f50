# Shared part of the gateway toolchain files: Debian's cross compilers (crossbuild-essential-*)
# and the target's libraries from Debian multiarch packages (dpkg --add-architecture; libfoo-dev:arm64).
# The including file sets SWAS_CROSS_TRIPLET and CMAKE_SYSTEM_PROCESSOR first.
#
# Multiarch has no separate sysroot: the target's libraries sit in /usr/lib/<triplet> next to the
# host's /usr/lib/<host-triplet>, and headers in /usr/include are shared (dpkg guarantees they are
# identical for every architecture of a Multi-Arch: same package). So the find root is "/", with
# programs found on the host (NEVER) and libraries, headers and packages only in the target's
# places (ONLY), and what keeps host files out is explicit:
#   - CMAKE_LIBRARY_ARCHITECTURE makes find_library/find_package look in lib/<triplet>;
#   - the host's own multiarch directories and /usr/local are ignored outright;
#   - pkg-config only sees the target's .pc files.
# firmware/build-images proves it after each build (tests/firmware/check-cross-elf): every header
# compiled and every file linked came from the target's directories, and the binary needs only
# libraries found in /usr/lib/<triplet>.
if(NOT SWAS_CROSS_TRIPLET)
  message(FATAL_ERROR "debian-multiarch.cmake: include it from a toolchain file that sets SWAS_CROSS_TRIPLET")
endif()

set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_C_COMPILER ${SWAS_CROSS_TRIPLET}-gcc)
set(CMAKE_CXX_COMPILER ${SWAS_CROSS_TRIPLET}-g++)
set(CMAKE_LIBRARY_ARCHITECTURE ${SWAS_CROSS_TRIPLET})

set(CMAKE_FIND_ROOT_PATH /)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# The build machine's multiarch triplet (x86_64-linux-gnu here), to be ignored.
if(NOT SWAS_BUILD_TRIPLET)
  execute_process(COMMAND gcc -print-multiarch OUTPUT_VARIABLE SWAS_BUILD_TRIPLET
                  OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
endif()
set(SWAS_BUILD_TRIPLET "${SWAS_BUILD_TRIPLET}" CACHE INTERNAL "the build machine's multiarch triplet")
if(SWAS_BUILD_TRIPLET AND NOT SWAS_BUILD_TRIPLET STREQUAL SWAS_CROSS_TRIPLET)
  list(APPEND CMAKE_SYSTEM_IGNORE_PATH
    /usr/lib/${SWAS_BUILD_TRIPLET} /lib/${SWAS_BUILD_TRIPLET} /usr/include/${SWAS_BUILD_TRIPLET}
    /usr/lib/${SWAS_BUILD_TRIPLET}/cmake)
endif()
list(APPEND CMAKE_SYSTEM_IGNORE_PREFIX_PATH /usr/local)

# FindPkgConfig users (FindOpenSSL asks pkg-config for hints): the target's .pc files only.
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/${SWAS_CROSS_TRIPLET}/pkgconfig:/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")

# Lets try_run and anyone running target programs from CMake go through qemu-user.
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-${SWAS_QEMU_ARCH} -L /usr/${SWAS_CROSS_TRIPLET})
