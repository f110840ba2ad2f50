# Stand-in for OpenWrt's $(INCLUDE_DIR)/package.mk. BuildPackage checks that the package defines
# what an SDK needs and offers three targets to the lint test:
#   stub-info     prints the metadata (one KEY=value per line)
#   stub-install  runs Package/<name>/install into $(STUB_WORK)/root from a fake build result
#   stub-scripts  writes Package/<name>/postinst to $(STUB_WORK)/postinst
PKG_BUILD_DIR ?= $(BUILD_DIR)/$(PKG_NAME)-$(PKG_VERSION)
PKG_INSTALL_DIR ?= $(PKG_BUILD_DIR)/ipkg-install

define BuildPackage
$(if $(PKG_NAME),,$(error PKG_NAME is not set))
$(if $(PKG_VERSION),,$(error PKG_VERSION is not set))
$(if $(PKG_RELEASE),,$(error PKG_RELEASE is not set))
$(if $(Package/$(1)),,$(error Package/$(1) is not defined))
$(if $(Package/$(1)/install),,$(error Package/$(1)/install is not defined))
$(eval $(Package/$(1)))
$(if $(TITLE),,$(error Package/$(1) has no TITLE))
.PHONY: stub-info stub-install stub-scripts
stub-info:
	@echo PKG_NAME=$(PKG_NAME)
	@echo PKG_VERSION=$(PKG_VERSION)
	@echo DEPENDS=$(strip $(DEPENDS))
	@echo USERID=$(USERID)
	@echo CMAKE_OPTIONS=$(strip $(CMAKE_OPTIONS))
	@echo CONFFILES=$(strip $(Package/$(1)/conffiles))
stub-install:
	$(call Package/$(1)/install,$(STUB_WORK)/root)
stub-scripts:
	$$(file >$(STUB_WORK)/postinst,$$(Package/$(1)/postinst))
endef
