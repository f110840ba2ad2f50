# Stand-in for OpenWrt's $(TOPDIR)/rules.mk (tests/firmware/openwrt_lint_test): just enough for
# firmware/packaging/openwrt/Makefile to be parsed and its install recipe run outside an SDK.
BUILD_DIR ?= $(STUB_WORK)/build
INSTALL_DIR := install -d -m0755
INSTALL_BIN := install -m0755
INSTALL_DATA := install -m0644
INSTALL_CONF := install -m0600
CP := cp -fpR
