# Shared part of the gateway toolchain files: Debian's cross compilers (g++-<triplet>, the
# compilers of crossbuild-essential-*) with the target's libraries taken from Debian's own
# arm64/armhf packages, unpacked into a sysroot by firmware/build-images.
# The including file sets SWAS_CROSS_TRIPLET, SWAS_DEB_ARCH and CMAKE_SYSTEM_PROCESSOR first.
#
# Why a sysroot and not the same packages installed with dpkg --add-architecture (multiarch):
# docs/gateway.md, "How the images are built". In short: libhttp-parser-dev is not Multi-Arch:
# same (installing :arm64 removes the host's :amd64, and :arm64/:armhf exclude each other), and
# Multi-Arch: same ties every target library to the version installed on the host.
#
# The C library and libstdc++ come from the cross compiler (/usr/<triplet>); everything else is
# found ONLY under the sysroot (CMAKE_FIND_ROOT_PATH), never on the build machine. Programs
# (cmake's helpers, readelf) are the host's (NEVER). tests/firmware/check-cross-elf proves it after
# every build: each header compiled and each file linked came from the sysroot, the cross
# compiler or the project.
if(NOT SWAS_CROSS_TRIPLET OR NOT SWAS_DEB_ARCH)
  message(FATAL_ERROR "debian-cross.cmake: include it from a toolchain file that sets SWAS_CROSS_TRIPLET and SWAS_DEB_ARCH")
endif()

set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_C_COMPILER ${SWAS_CROSS_TRIPLET}-gcc)
set(CMAKE_CXX_COMPILER ${SWAS_CROSS_TRIPLET}-g++)
set(CMAKE_LIBRARY_ARCHITECTURE ${SWAS_CROSS_TRIPLET})

# The sysroot: -DSWAS_SYSROOT=... (the presets set it), else the environment, else where
# firmware/build-images puts it.
if(NOT SWAS_SYSROOT)
  if(DEFINED ENV{SWAS_SYSROOT})
    set(SWAS_SYSROOT "$ENV{SWAS_SYSROOT}")
  else()
    get_filename_component(SWAS_SYSROOT "${CMAKE_CURRENT_LIST_DIR}/../../build-gw-sysroot/${SWAS_DEB_ARCH}/root" ABSOLUTE)
  endif()
endif()
if(NOT EXISTS "${SWAS_SYSROOT}/usr/lib/${SWAS_CROSS_TRIPLET}")
  message(FATAL_ERROR "No ${SWAS_DEB_ARCH} sysroot at ${SWAS_SYSROOT}: run firmware/build-images, which makes it")
endif()
set(SWAS_SYSROOT "${SWAS_SYSROOT}" CACHE PATH "The target's libraries, unpacked from Debian ${SWAS_DEB_ARCH} packages")
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES SWAS_SYSROOT SWAS_CROSS_TRIPLET SWAS_DEB_ARCH)

set(CMAKE_FIND_ROOT_PATH "${SWAS_SYSROOT}")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# The linker resolves the libraries' own dependencies (Paho C++ -> Paho C -> OpenSSL) in the sysroot.
set(_swas_libdirs "${SWAS_SYSROOT}/usr/lib/${SWAS_CROSS_TRIPLET}:${SWAS_SYSROOT}/lib/${SWAS_CROSS_TRIPLET}")
set(CMAKE_EXE_LINKER_FLAGS_INIT "-Wl,-rpath-link,${_swas_libdirs}")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "-Wl,-rpath-link,${_swas_libdirs}")
# Binaries in the build tree get no RPATH into the sysroot: they run under qemu-user with -L.
set(CMAKE_SKIP_BUILD_RPATH ON)

# FindPkgConfig users (FindOpenSSL asks pkg-config for hints): the sysroot's .pc files only.
set(ENV{PKG_CONFIG_LIBDIR} "${SWAS_SYSROOT}/usr/lib/${SWAS_CROSS_TRIPLET}/pkgconfig:${SWAS_SYSROOT}/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")
set(ENV{PKG_CONFIG_SYSROOT_DIR} "${SWAS_SYSROOT}")

# try_run and anyone running target programs from CMake go through qemu-user.
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-${SWAS_QEMU_ARCH} -L "${SWAS_SYSROOT}")
