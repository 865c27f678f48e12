# Debian packages the ISO and QEMU paths need. `make deps` installs only the missing ones.
# grub-pc-bin and grub-efi-amd64-bin: the ISO boots on BIOS and UEFI; ovmf: the UEFI firmware the
# boot tests run it under (OVMF_FD).
DEPS_PACKAGES := qemu-system-x86 grub-pc-bin grub-efi-amd64-bin grub-common xorriso mtools ovmf
# socat: the QMP tests drive hostsim's control socket with it as a user would (docs/vmm.md).
DEPS_PACKAGES += socat
# gdb: the gdb-stub test drives hostsim with Debian's stock gdb (docs/vmm.md section 6).
DEPS_PACKAGES += gdb
OVMF_FD ?= /usr/share/ovmf/OVMF.fd
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: deps deps-iso deps-qemu deps-qmp deps-gdb
deps:
	@missing=""; for p in $(DEPS_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "deps: installing$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	else echo "deps: all present ($(DEPS_PACKAGES))"; fi

# Order-only prerequisites: run deps only when a tool is actually missing.
deps-iso:
	@command -v grub-mkrescue >/dev/null && command -v xorriso >/dev/null && command -v mformat >/dev/null \
	  && [ -d /usr/lib/grub/i386-pc ] && [ -d /usr/lib/grub/x86_64-efi ] || $(MAKE) --no-print-directory deps
deps-qemu:
	@command -v qemu-system-x86_64 >/dev/null && [ -f $(OVMF_FD) ] || $(MAKE) --no-print-directory deps
deps-qmp:
	@command -v socat >/dev/null || $(MAKE) --no-print-directory deps
deps-gdb:
	@[ -x /usr/bin/gdb ] || $(MAKE) --no-print-directory deps
