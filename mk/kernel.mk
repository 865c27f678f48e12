# Kernel build: C# -> IL (dotnet build) -> object (ilc) ; asm (GNU as) ; link (GNU ld) ; ISO.
KERNEL_DIR      := $(ROOT)/kernel
KBUILD          := $(BUILD)/kernel
KERNEL_ELF      := $(BUILD)/kernel.elf
KERNEL_STRIPPED := $(BUILD)/kernel.stripped.elf
KERNEL_ISO      := $(BUILD)/hekiguest.iso
TEST_MODULE     := $(BUILD)/testmodule.bin
NUGET_PACKAGES  ?= $(HOME)/.nuget/packages
ILC_VERSION     := $(shell sed -n 's:.*<HekiIlcVersion>\(.*\)</HekiIlcVersion>.*:\1:p' $(ROOT)/Directory.Packages.props)
ILC             := $(NUGET_PACKAGES)/runtime.linux-x64.microsoft.dotnet.ilcompiler/$(ILC_VERSION)/tools/ilc
KERNEL_CS       := $(shell find $(KERNEL_DIR)/Corelib $(KERNEL_DIR)/Kernel $(KERNEL_DIR)/Sdk -name '*.cs' -o -name '*.csproj' | grep -v '/obj/' | grep -v '/bin/')
KERNEL_ASM      := $(wildcard $(KERNEL_DIR)/arch/x86_64/*.s)
KERNEL_ASM_OBJ  := $(patsubst $(KERNEL_DIR)/arch/x86_64/%.s,$(KBUILD)/%.o,$(KERNEL_ASM))
KERNEL_IL_DIR   := $(KBUILD)/il
KERNEL_CMDLINE  ?= modules=1 mem=128

.PHONY: kernel iso
kernel: $(KERNEL_ELF)
iso: $(KERNEL_ISO)

# C# -> IL. One dotnet build of the kernel project also builds the corelib.
$(KBUILD)/il.stamp: $(KERNEL_CS) $(ROOT)/Directory.Packages.props $(KERNEL_DIR)/Directory.Build.props
	@mkdir -p $(KERNEL_IL_DIR)
	$(DOTNET) build $(KERNEL_DIR)/Kernel/HekiGuest.Kernel.csproj -c Release -o $(KERNEL_IL_DIR) --nologo -v q -clp:NoSummary
	@test -x $(ILC) || { echo "kernel: error: ilc $(ILC_VERSION) not found at $(ILC) (restore failed?)" >&2; exit 2; }
	@touch $@

# IL -> native object. No --dehydrate: type data must be readable without rehydration code.
$(KBUILD)/kernel_cs.o: $(KBUILD)/il.stamp
	$(ILC) $(KERNEL_IL_DIR)/HekiGuest.Kernel.dll -r $(KERNEL_IL_DIR)/HekiGuest.Corelib.dll -r $(KERNEL_IL_DIR)/HekiGuest.Sdk.dll \
	  -o $@ --targetos:linux --targetarch:x64 -O --nativelib \
	  --systemmodule:HekiGuest.Corelib --generateunmanagedentrypoints:HekiGuest.Corelib \
	  --map:$(KBUILD)/kernel_cs.map.xml

$(KBUILD)/%.o: $(KERNEL_DIR)/arch/x86_64/%.s
	@mkdir -p $(KBUILD)
	as --64 -o $@ $<

LD_KERNEL = ld -nostdlib -static --no-dynamic-linker -z max-page-size=0x1000 -z noexecstack \
	  -T $(KERNEL_DIR)/linker.ld $(KERNEL_ASM_OBJ) $(KBUILD)/kernel_cs.o

# $(call link-kernel,OUTPUT,EXTRA_OBJECTS,WORKDIR): two link passes. The first yields the code
# addresses, which become the embedded symbol table (placed after all code, so the second pass
# moves no function). Then sealcheck: a kernel with a sealed-class instruction outside
# .heki.sealed is not produced.
define link-kernel
	@mkdir -p $(3)
	bash $(KERNEL_DIR)/gen-symtab.sh $(3)/symtab0.s && as --64 -o $(3)/symtab0.o $(3)/symtab0.s
	$(LD_KERNEL) $(2) $(3)/symtab0.o -o $(3)/kernel.pass1.elf
	bash $(KERNEL_DIR)/gen-symtab.sh $(3)/symtab.s $(3)/kernel.pass1.elf && as --64 -o $(3)/symtab.o $(3)/symtab.s
	$(LD_KERNEL) $(2) $(3)/symtab.o -o $(1).tmp
	@cmp -s <(nm $(3)/kernel.pass1.elf | grep -i ' t ' | sort) <(nm $(1).tmp | grep -i ' t ' | sort) \
	  || { echo "kernel: error: code moved between link passes" >&2; exit 2; }
	$(SEALCHECK_RUN) $(1).tmp || { rm -f $(1).tmp; echo "kernel: error: sealcheck rejected $(1)" >&2; exit 1; }
	mv $(1).tmp $(1)
endef

$(KERNEL_ELF): $(KBUILD)/kernel_cs.o $(KERNEL_ASM_OBJ) $(KERNEL_DIR)/linker.ld $(KERNEL_DIR)/gen-symtab.sh
	$(call link-kernel,$@,,$(KBUILD))
	strip -o $(KERNEL_STRIPPED) $@

# A kernel variant with extra objects linked in, for tests of the sealed-section check:
#   make kernel-variant VARIANT_OBJS="evil.o" VARIANT_OUT=/tmp/variant/kernel.elf
.PHONY: kernel-variant
kernel-variant: $(KBUILD)/kernel_cs.o $(KERNEL_ASM_OBJ) $(KERNEL_DIR)/linker.ld $(KERNEL_DIR)/gen-symtab.sh $(SEALCHECK_DLL)
	@test -n "$(VARIANT_OUT)" || { echo "kernel-variant: error: set VARIANT_OUT" >&2; exit 2; }
	$(call link-kernel,$(VARIANT_OUT),$(VARIANT_OBJS),$(dir $(VARIANT_OUT))work)

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
