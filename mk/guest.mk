# The HekiGuest guest build step: C# project -> dotnet build (IL) -> ilc (object) -> as (platform
# asm) -> ld (two passes with the embedded symbol table) -> sealcheck -> bootable ELF
# (multiboot2 + PVH). The kernel is built through it (mk/kernel.mk), so are the samples; a guest
# outside the SDK checkout includes it from its own Makefile (docs/sdk.md, samples/csharp-minimal):
#
#   HEKI_SDK ?= /path/to/HekiGuest
#   include $(HEKI_SDK)/mk/guest.mk
#   HELLO_PROJECT := $(CURDIR)/Hello.csproj   # imports $(HekiSdk)/kernel/HekiGuest.Guest.props
#   HELLO_OUT     := $(CURDIR)/build
#   $(eval $(call heki-guest,HELLO))          # defines $(HELLO_ELF) and the target `HELLO`
#
# Per guest (prefix P): P_PROJECT, P_OUT (required); P_ASSEMBLY (default: the project's file
# name), P_ENTRY (the [UnmanagedCallersOnly] entry export, default guest_main), P_ASM (extra asm
# sources), P_STACK_SIZE (boot stack, default 64 KiB), P_HEAP_SIZE (early heap, default 4 MiB),
# P_LOAD_ADDRESS (default 0x100000), P_SYMTAB_ABBREV (PREFIX=SHORT pairs for the symbol table),
# P_EXTRA_OBJS (more objects to link). Results: P_ELF, P_STRIPPED.
# A C guest sets P_C_SOURCES instead of P_PROJECT (compiled freestanding with HEKI_CFLAGS, which
# put heki_abi.h and heki_platform.h on the include path) and P_PLATFORM_ASM := boot cpu sealed.
# Nothing is written into the SDK checkout: the IL build uses --artifacts-path under P_OUT, and
# sealcheck is the local dotnet tool (.config/dotnet-tools.json) packed into $(HEKI_TOOLS).

HEKI_SDK        ?= $(abspath $(dir $(lastword $(MAKEFILE_LIST)))..)
DOTNET          ?= dotnet
NUGET_PACKAGES  ?= $(HOME)/.nuget/packages
HEKI_ILC_VERSION := $(shell sed -n 's:.*<HekiIlcVersion>\(.*\)</HekiIlcVersion>.*:\1:p' $(HEKI_SDK)/Directory.Packages.props)
HEKI_ILC        ?= $(NUGET_PACKAGES)/runtime.linux-x64.microsoft.dotnet.ilcompiler/$(HEKI_ILC_VERSION)/tools/ilc
HEKI_PLATFORM   := $(HEKI_SDK)/kernel/Platform
# Platform asm of a C# guest; a C guest sets P_PLATFORM_ASM := boot cpu sealed (no C# runtime glue;
# add note for the kexec marker, docs/vtl.md section 16).
HEKI_PLATFORM_ASM := boot cpu runtime sealed note
# The SDK's bare-metal sources: every guest's IL depends on them.
HEKI_SDK_CS     := $(shell find $(HEKI_SDK)/kernel/Corelib $(HEKI_SDK)/kernel/Sdk $(HEKI_SDK)/kernel/Platform \
                     \( -name '*.cs' -o -name '*.csproj' \) -not -path '*/obj/*' -not -path '*/bin/*') \
                   $(wildcard $(HEKI_SDK)/kernel/*.props) $(HEKI_SDK)/Directory.Packages.props
# Where the sealcheck tool package and its restored copy live (shared by every guest of a build).
HEKI_TOOLS      ?= $(CURDIR)/build/heki-tools
HEKI_SEALCHECK_SRC := $(shell find $(HEKI_SDK)/tools/SealCheck $(HEKI_SDK)/tools/Elf \( -name '*.cs' -o -name '*.csproj' \) \
                        -not -path '*/obj/*' -not -path '*/bin/*')
HEKI_SEALCHECK_STAMP := $(HEKI_TOOLS)/sealcheck.restored
# `$(HEKI_SEALCHECK) ELF` verifies an image (exit 1 and a report when it violates the seal).
HEKI_SEALCHECK  = cd $(HEKI_SDK) && NUGET_PACKAGES=$(HEKI_TOOLS)/packages $(DOTNET) tool run sealcheck --
HEKI_CC         ?= cc
HEKI_CFLAGS     ?= -std=c11 -O2 -Wall -Wextra -Werror -ffreestanding -fno-builtin -nostdlib -fno-pie -fno-pic \
                   -mno-red-zone -mgeneral-regs-only -fno-stack-protector -fno-asynchronous-unwind-tables \
                   -fcf-protection=none -I$(HEKI_SDK)/kernel/Sdk/include -I$(HEKI_PLATFORM)/include
HEKI_LD         := ld -nostdlib -static --no-dynamic-linker -z max-page-size=0x1000 -z noexecstack

# The tool package is rebuilt when its sources change and restored into a private packages folder
# (a stale copy of the same version in ~/.nuget would otherwise win).
$(HEKI_SEALCHECK_STAMP): $(HEKI_SEALCHECK_SRC) $(HEKI_SDK)/.config/dotnet-tools.json $(HEKI_SDK)/Directory.Packages.props
	@rm -rf $(HEKI_TOOLS)/feed $(HEKI_TOOLS)/packages && mkdir -p $(HEKI_TOOLS)
	$(DOTNET) pack $(HEKI_SDK)/tools/SealCheck/SealCheck.csproj -c Release --artifacts-path $(HEKI_TOOLS)/artifacts \
	  -o $(HEKI_TOOLS)/feed --nologo -v q -clp:NoSummary
	cd $(HEKI_SDK) && NUGET_PACKAGES=$(HEKI_TOOLS)/packages $(DOTNET) tool restore \
	  --tool-manifest $(HEKI_SDK)/.config/dotnet-tools.json --add-source $(HEKI_TOOLS)/feed -v q >/dev/null
	@touch $@

.PHONY: heki-sealcheck-tool
heki-sealcheck-tool: $(HEKI_SEALCHECK_STAMP)

# $(call heki-guest,P): the rules of one guest image.
define heki-guest
$$(if $$($(1)_OUT),,$$(error guest $(1): set $(1)_OUT (the build directory)))
$$(if $$(and $$($(1)_PROJECT),$$($(1)_C_SOURCES)),$$(error guest $(1): set $(1)_PROJECT (C#) or $(1)_C_SOURCES (C), not both))
$$(if $$(or $$($(1)_PROJECT),$$($(1)_C_SOURCES)),,$$(error guest $(1): set $(1)_PROJECT (a C# project) or $(1)_C_SOURCES (C sources)))
$$(foreach f,$$($(1)_PROJECT) $$($(1)_C_SOURCES) $$($(1)_ASM),$$(if $$(wildcard $$(f)),,$$(error guest $(1): $$(f) not found)))
$(1)_ASSEMBLY     ?= $$(basename $$(notdir $$(or $$($(1)_PROJECT),$$(firstword $$($(1)_C_SOURCES)))))
$(1)_ENTRY        ?= guest_main
$(1)_STACK_SIZE   ?= 65536
$(1)_HEAP_SIZE    ?= 4194304
$(1)_LOAD_ADDRESS ?= 0x100000
$(1)_PLATFORM_ASM ?= $$(HEKI_PLATFORM_ASM)
$(1)_ELF          ?= $$($(1)_OUT)/$$($(1)_ASSEMBLY).elf
$(1)_STRIPPED     ?= $$($(1)_OUT)/$$($(1)_ASSEMBLY).stripped.elf
$(1)_IL           := $$($(1)_OUT)/il
$(1)_CS           := $$(if $$($(1)_PROJECT),$$(shell find $$(dir $$($(1)_PROJECT)) \( -name '*.cs' -o -name '*.csproj' -o -name '*.props' \) \
                       -not -path '*/obj/*' -not -path '*/bin/*' -not -path '$$($(1)_OUT)/*'))
$(1)_ASM_OBJ      := $$(patsubst %,$$($(1)_OUT)/platform/%.o,$$($(1)_PLATFORM_ASM)) \
                     $$(patsubst %.s,$$($(1)_OUT)/asm/%.o,$$(notdir $$($(1)_ASM)))
$(1)_MAIN_OBJ     := $$(if $$($(1)_PROJECT),$$($(1)_OUT)/guest_cs.o,$$(patsubst %.c,$$($(1)_OUT)/c/%.o,$$(notdir $$($(1)_C_SOURCES))))
$(1)_LINK         = $$(HEKI_LD) -T $$($(1)_OUT)/guest.ld --defsym=heki_guest_entry=$$($(1)_ENTRY) \
                      $$($(1)_ASM_OBJ) $$($(1)_MAIN_OBJ)
$(1)_SEALCHECK    ?= $$(HEKI_SEALCHECK)
# The image settings, rewritten only when they change: objects and the link depend on it, so a
# changed stack size, heap size, load address or entry rebuilds what it affects.
$(1)_CONFIG       := $$($(1)_OUT)/image.config
$(1)_CONFIG_TEXT  := stack=$$($(1)_STACK_SIZE) heap=$$($(1)_HEAP_SIZE) load=$$($(1)_LOAD_ADDRESS) entry=$$($(1)_ENTRY)
$$(shell mkdir -p $$($(1)_OUT) && { [ "$$$$(cat $$($(1)_CONFIG) 2>/dev/null)" = "$$($(1)_CONFIG_TEXT)" ] || echo "$$($(1)_CONFIG_TEXT)" > $$($(1)_CONFIG); })

.PHONY: $(1)
$(1): $$($(1)_ELF)

# C# -> IL: one dotnet build of the guest project also builds the corelib, SDK and platform.
$$($(1)_OUT)/il.stamp: $$($(1)_CS) $$(HEKI_SDK_CS)
	@mkdir -p $$($(1)_IL)
	$$(DOTNET) build $$($(1)_PROJECT) -c Release -o $$($(1)_IL) --artifacts-path $$($(1)_OUT)/artifacts \
	  -p:HekiSdk=$$(HEKI_SDK) -p:HekiGuestOut=$$($(1)_OUT) --nologo -v q -clp:NoSummary
	@test -x $$(HEKI_ILC) || { echo "guest: error: ilc $$(HEKI_ILC_VERSION) not found at $$(HEKI_ILC) (restore failed?)" >&2; exit 2; }
	@touch $$@

# IL -> native object. No --dehydrate: type data must be readable without rehydration code.
# The corelib's and the platform's [UnmanagedCallersOnly] exports (runtime helpers, the exception
# dispatcher, heki_fail_fast) are generated too.
$$($(1)_OUT)/guest_cs.o: $$($(1)_OUT)/il.stamp
	$$(HEKI_ILC) $$($(1)_IL)/$$($(1)_ASSEMBLY).dll -r $$($(1)_IL)/HekiGuest.Corelib.dll -r $$($(1)_IL)/HekiGuest.Sdk.dll \
	  -r $$($(1)_IL)/HekiGuest.Platform.dll $$(foreach r,$$($(1)_REFS),-r $$($(1)_IL)/$$(r).dll) \
	  -o $$@ --targetos:linux --targetarch:x64 -O --nativelib \
	  --systemmodule:HekiGuest.Corelib --generateunmanagedentrypoints:HekiGuest.Corelib \
	  --generateunmanagedentrypoints:HekiGuest.Platform --map:$$($(1)_OUT)/guest_cs.map.xml

$$($(1)_OUT)/platform/%.o: $$(HEKI_PLATFORM)/asm/%.s $$($(1)_CONFIG)
	@mkdir -p $$(dir $$@)
	as --64 --defsym HEKI_STACK_SIZE=$$($(1)_STACK_SIZE) --defsym HEKI_HEAP_SIZE=$$($(1)_HEAP_SIZE) -o $$@ $$<

$$(foreach s,$$($(1)_ASM),$$(eval $$(call heki-guest-asm,$(1),$$(s))))
$$(foreach s,$$($(1)_C_SOURCES),$$(eval $$(call heki-guest-c,$(1),$$(s))))

$$($(1)_OUT)/guest.ld: $$(HEKI_PLATFORM)/guest.ld.in $$($(1)_CONFIG)
	@mkdir -p $$(dir $$@)
	sed 's|@LOAD_ADDRESS@|$$($(1)_LOAD_ADDRESS)|g' $$< > $$@

# Two link passes: the first yields the code addresses, which become the embedded symbol table
# (placed after all code, so the second pass moves no function). Then sealcheck: an image with a
# sealed-class instruction outside .heki.sealed is not produced.
$$($(1)_ELF): $$($(1)_MAIN_OBJ) $$($(1)_ASM_OBJ) $$($(1)_OUT)/guest.ld $$($(1)_CONFIG) $$(HEKI_PLATFORM)/gen-symtab.sh $$(HEKI_PLATFORM)/seal-digest.sh $$(HEKI_SEALCHECK_STAMP)
	$$(call heki-guest-link,$(1),$$@,$$($(1)_EXTRA_OBJS),$$($(1)_OUT)/link)
	strip -o $$($(1)_STRIPPED) $$@
endef

# $(call heki-guest-asm,P,SOURCE): one of the guest's own asm files.
define heki-guest-asm
$$($(1)_OUT)/asm/$$(basename $$(notdir $(2))).o: $(2)
	@mkdir -p $$(dir $$@)
	as --64 -o $$@ $$<
endef

# $(call heki-guest-c,P,SOURCE): one C source of a C guest.
define heki-guest-c
$$($(1)_OUT)/c/$$(basename $$(notdir $(2))).o: $(2) $$(HEKI_SDK)/kernel/Sdk/include/heki_abi.h $$(HEKI_PLATFORM)/include/heki_platform.h
	@mkdir -p $$(dir $$@)
	$$(HEKI_CC) $$(HEKI_CFLAGS) $$($(1)_CFLAGS) -c -o $$@ $$<
endef

# $(call heki-guest-link,P,OUTPUT,EXTRA_OBJECTS,WORKDIR)
# A RIP-relative displacement from code into data can spell a sealed-class instruction (e.g.
# 0F 06, CLTS) at an unaligned offset, which sealcheck rightly rejects as a gadget. Such bytes
# depend only on the distance between code and data, so when sealcheck rejects an image the
# link is redone with the data moved up by one more page (heki_layout_pad, up to
# HEKI_LAYOUT_TRIES - 1 pages), each attempt checked in full; the last attempt's report is shown.
# Only gadgets are retried: once an attempt has none, its report (a sealed-class instruction
# outside the section, say) is final.
HEKI_LAYOUT_TRIES ?= 8
define heki-guest-link
	@mkdir -p $(4)
	@set -e; for pad in $$(seq 0 $$(($(HEKI_LAYOUT_TRIES) - 1))); do \
	  defs="--defsym=heki_layout_pad=$$((pad * 4096))"; \
	  bash $(HEKI_PLATFORM)/gen-symtab.sh $(4)/symtab0.s && as --64 -o $(4)/symtab0.o $(4)/symtab0.s; \
	  $($(1)_LINK) $$defs $(3) $(4)/symtab0.o -o $(4)/pass1.elf; \
	  bash $(HEKI_PLATFORM)/gen-symtab.sh $(4)/symtab.s $(4)/pass1.elf $($(1)_SYMTAB_ABBREV) && as --64 -o $(4)/symtab.o $(4)/symtab.s; \
	  $($(1)_LINK) $$defs $(3) $(4)/symtab.o -o $(2).tmp; \
	  bash $(HEKI_PLATFORM)/seal-digest.sh $(2).tmp; \
	  nm $(4)/pass1.elf | grep -i ' t ' | sort > $(4)/pass1.syms; nm $(2).tmp | grep -i ' t ' | sort > $(4)/pass2.syms; \
	  cmp -s $(4)/pass1.syms $(4)/pass2.syms || { echo "guest: error: code moved between link passes" >&2; exit 2; }; \
	  if ( $($(1)_SEALCHECK) $(abspath $(2).tmp) ) > $(4)/sealcheck.log 2>&1; then cat $(4)/sealcheck.log; mv $(2).tmp $(2); exit 0; fi; \
	  if ! grep -q '^  unaligned encoding at ' $(4)/sealcheck.log; then break; fi; \
	  echo "guest: sealcheck rejected the link with data $$pad page(s) up; relinking with data one page further"; \
	done; \
	cat $(4)/sealcheck.log >&2; rm -f $(abspath $(2).tmp); echo "guest: error: sealcheck rejected $(2)" >&2; exit 1
endef
