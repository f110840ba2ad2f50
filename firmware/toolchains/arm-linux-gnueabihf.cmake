# Gateway toolchain: 32-bit ARM hard-float (Debian armhf: ARMv7-A, VFPv3-D16, Thumb-2), Debian's
# arm-linux-gnueabihf cross compiler and a sysroot of Debian armhf packages (firmware/build-images).
# Used by the gateway-armhf preset.
set(CMAKE_SYSTEM_PROCESSOR armv7l)
set(SWAS_CROSS_TRIPLET arm-linux-gnueabihf)
set(SWAS_DEB_ARCH armhf)        # the .deb's architecture and the sysroot's packages
set(SWAS_QEMU_ARCH arm)         # qemu-arm runs the result
include(${CMAKE_CURRENT_LIST_DIR}/debian-cross.cmake)
