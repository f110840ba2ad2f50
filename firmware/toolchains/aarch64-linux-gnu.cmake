# Gateway toolchain: 64-bit ARM (Debian arm64), Debian's aarch64-linux-gnu cross compiler and a
# sysroot of Debian arm64 packages (firmware/build-images). Used by the gateway-aarch64 preset.
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(SWAS_CROSS_TRIPLET aarch64-linux-gnu)
set(SWAS_DEB_ARCH arm64)        # the .deb's architecture and the sysroot's packages
set(SWAS_QEMU_ARCH aarch64)     # qemu-aarch64 runs the result
include(${CMAKE_CURRENT_LIST_DIR}/debian-cross.cmake)
