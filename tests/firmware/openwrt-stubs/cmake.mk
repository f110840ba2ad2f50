# Stand-in for OpenWrt's $(INCLUDE_DIR)/cmake.mk: CMAKE_OPTIONS is what the package adds to.
CMAKE_OPTIONS ?=
