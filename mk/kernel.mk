# Kernel build: the kernel is a guest image like any other, built by the guest build step
# (mk/guest.mk: dotnet build -> ilc -> as -> ld -> sealcheck) on the platform layer
# (kernel/Platform); then the ISO.
KERNEL_DIR      := $(ROOT)/kernel
KBUILD          := $(BUILD)/kernel
KERNEL_PROJECT  := $(KERNEL_DIR)/Kernel/HekiGuest.Kernel.csproj
KERNEL_OUT      := $(KBUILD)
KERNEL_ELF      := $(BUILD)/kernel.elf
KERNEL_STRIPPED := $(BUILD)/kernel.stripped.elf
KERNEL_ENTRY    := kmain
KERNEL_ASM      := $(KERNEL_DIR)/Kernel/asm/selftest.s $(KERNEL_DIR)/Kernel/asm/monitor.s $(KERNEL_DIR)/Sdk/asm/hvcall.s \
                   $(KERNEL_DIR)/Kernel/asm/signing.s $(KERNEL_DIR)/Kernel/asm/kexec-marker.s
# The VTL1 monitor image and its digest (mk/vtl1-monitor.mk builds it).
KERNEL_MONITOR_BLOB := $(KBUILD)/monitor-blob.o
# The kexec signing key's modulus and digest (mk/kernelsign.mk makes the key when missing).
KERNEL_SIGNING_BLOB := $(KBUILD)/signing-key-blob.o
KERNEL_EXTRA_OBJS := $(KERNEL_MONITOR_BLOB) $(KERNEL_SIGNING_BLOB)
KERNEL_SYMTAB_ABBREV := HekiGuest_Kernel_HekiGuest_Kernel_=K: HekiGuest_Platform_HekiGuest_Platform_=P: HekiGuest_Corelib_=C:
# `make SEALCHECK_RUN=true` skips the check for one build (default: the sealcheck dotnet tool).
SEALCHECK_RUN   ?= $(HEKI_SEALCHECK)
KERNEL_SEALCHECK = $(SEALCHECK_RUN)
KERNEL_ISO      := $(BUILD)/hekiguest.iso
TEST_MODULE     := $(BUILD)/testmodule.bin
KERNEL_CMDLINE  ?= modules=1 mem=128

$(eval $(call heki-guest,KERNEL))
$(KERNEL_ELF): $(KERNEL_MONITOR_BLOB) $(KERNEL_SIGNING_BLOB)

.PHONY: kernel iso
kernel: $(KERNEL_ELF)
iso: $(KERNEL_ISO)

# A kernel variant with extra objects linked in, for tests of the sealed-section check:
#   make kernel-variant VARIANT_OBJS="evil.o" VARIANT_OUT=/tmp/variant/kernel.elf
.PHONY: kernel-variant
kernel-variant: $(KBUILD)/guest_cs.o $(KERNEL_ASM_OBJ) $(KERNEL_EXTRA_OBJS) $(KBUILD)/guest.ld $(KERNEL_DIR)/Platform/gen-symtab.sh $(HEKI_SEALCHECK_STAMP)
	@test -n "$(VARIANT_OUT)" || { echo "kernel-variant: error: set VARIANT_OUT" >&2; exit 2; }
	$(call heki-guest-link,KERNEL,$(VARIANT_OUT),$(KERNEL_EXTRA_OBJS) $(VARIANT_OBJS),$(dir $(VARIANT_OUT))work)

# The HEKIMOD1 test module the boot self-tests verify byte for byte.
$(TEST_MODULE): $(ROOT)/tests/make-test-module.sh
	@mkdir -p $(BUILD)
	bash $< $@

# Hybrid ISO: GRUB for BIOS (i386-pc, El Torito + MBR) and UEFI (x86_64-efi, EFI system partition,
# formatted as 360 KiB instead of grub-mkrescue's 2.88 MB: kernel/mformat-efi-image.sh).
$(KERNEL_ISO): $(KERNEL_ELF) $(TEST_MODULE) $(KERNEL_DIR)/grub.cfg.in $(KERNEL_DIR)/mformat-efi-image.sh | deps-iso
	@rm -rf $(KBUILD)/iso && mkdir -p $(KBUILD)/iso/boot/grub
	cp $(KERNEL_STRIPPED) $(KBUILD)/iso/boot/kernel.elf
	cp $(TEST_MODULE) $(KBUILD)/iso/boot/testmodule.bin
	sed 's|@SELFTEST_CMDLINE@|$(KERNEL_CMDLINE)|g' $(KERNEL_DIR)/grub.cfg.in > $(KBUILD)/iso/boot/grub/grub.cfg
	grub-file --is-x86-multiboot2 $(KBUILD)/iso/boot/kernel.elf
	@mkdir -p $(KBUILD)/mkrescue-path && ln -sf $(KERNEL_DIR)/mformat-efi-image.sh $(KBUILD)/mkrescue-path/mformat
	HEKI_MFORMAT="$$(command -v mformat)" PATH="$(KBUILD)/mkrescue-path:$$PATH" grub-mkrescue -o $@ $(KBUILD)/iso \
	  --install-modules="multiboot2 normal serial terminal smbios test" \
	  --locales= --fonts= --themes= > $(KBUILD)/grub-mkrescue.log 2>&1 \
	  || { cat $(KBUILD)/grub-mkrescue.log >&2; echo "iso: error: grub-mkrescue failed" >&2; exit 2; }

# Every symbol crossing the runtime boundary (ilc output, corelib imports, platform asm) must be
# documented in docs/sdk.md's runtime-contract table (kernel/Platform/check-runtime-contract.sh).
.PHONY: check-runtime-contract
check-runtime-contract: $(KBUILD)/guest_cs.o $(KERNEL_ASM_OBJ)
	@bash $(KERNEL_DIR)/Platform/check-runtime-contract.sh $(ROOT)/docs/sdk.md $(KBUILD)/guest_cs.o $(KERNEL_DIR)/Corelib \
	  "$(filter $(KBUILD)/platform/%,$(KERNEL_ASM_OBJ))" "$(filter $(KBUILD)/asm/%,$(KERNEL_ASM_OBJ))"
test: check-runtime-contract
