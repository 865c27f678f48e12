# vtl1-monitor: HekiGuest's own VTL1 secure monitor, a guest image built by the guest build step
# (mk/guest.mk: dotnet build -> ilc -> as -> ld -> sealcheck) on the shared corelib, SDK and
# platform layer, linked at its own address and embedded, with its SHA-256 digest, in the kernel
# (docs/vtl.md section 15).
#   make monitor      build/monitor/Vtl1Monitor.elf (verified by sealcheck); prints its size
MONITOR_DIR          := $(ROOT)/vtl1-monitor
MONITOR_PROJECT      := $(MONITOR_DIR)/HekiGuest.Vtl1Monitor.csproj
MONITOR_OUT          := $(BUILD)/monitor
MONITOR_ASSEMBLY     := Vtl1Monitor
MONITOR_ENTRY        := monitor_main
MONITOR_ASM          := $(MONITOR_DIR)/asm/switch.s $(ROOT)/kernel/Sdk/asm/hvcall.s
MONITOR_STACK_SIZE   := 32768
MONITOR_HEAP_SIZE    := 262144
# VTL1's memory: reserved by the kernel (HeapSetup), hidden from VTL0 by the monitor's init.
MONITOR_LOAD_ADDRESS := 0x4000000
MONITOR_SYMTAB_ABBREV := HekiGuest_Vtl1Monitor_HekiGuest_Vtl1Monitor_=M: HekiGuest_Platform_HekiGuest_Platform_=P: HekiGuest_Corelib_=C:
$(eval $(call heki-guest,MONITOR))

.PHONY: monitor
monitor: $(MONITOR_ELF)
	@echo "vtl1-monitor: $(MONITOR_STRIPPED): $$(stat -c %s $(MONITOR_STRIPPED)) bytes stripped file;" \
	  "$$(size -A $(MONITOR_ELF) | awk '$$1 ~ /^\./ && $$1 != ".bss" && $$1 != ".heki_heap" {s += $$2} END {print s}') bytes loaded," \
	  "$$(( $$(nm $(MONITOR_ELF) | awk '$$3 == "__image_end" {print "0x" $$1}') - $$(nm $(MONITOR_ELF) | awk '$$3 == "__image_start" {print "0x" $$1}') )) bytes of VTL1 memory"

# The kernel embeds the stripped monitor and its digest (KERNEL_EXTRA_OBJS, mk/kernel.mk); the
# stripped copy is made with the ELF, which is the prerequisite that has a rule.
$(KBUILD)/monitor-blob.s: $(MONITOR_ELF) $(MONITOR_DIR)/embed-monitor.sh
	@mkdir -p $(dir $@)
	bash $(MONITOR_DIR)/embed-monitor.sh $(MONITOR_STRIPPED) $@
$(KERNEL_MONITOR_BLOB): $(KBUILD)/monitor-blob.s
	as --64 -o $@ $<

# The monitor under a storm of random VTL calls: the kernel's vtl1 self-tests on hostsim's vsm
# profile with CALLS random calls and as many random mapping calls, interleaved with VIOLATIONS
# random VTL0 violations of the memory VTL1 protects (docs/vtl.md section 15); exit 0 when every
# vtl1 test passed and the paging and cpu groups still pass after them.
CALLS ?= 100000
VIOLATIONS ?= 1000
.PHONY: fuzz-vtl
fuzz-vtl: $(KERNEL_ELF) $(TEST_MODULE) $(HOSTSIM_DLL)
	@echo "== $(CALLS) random VTL calls and $(CALLS) mapping calls with $(VIOLATIONS) VTL0 violations (hostsim --profile vsm)"
	@$(HOSTSIM) run $(KERNEL_ELF) --module $(TEST_MODULE)=testmodule --profile vsm --timeout 600s \
	  --cmdline "modules=1 mem=128 tests=vtl1,paging,cpu monitor.calls=$(CALLS) monitor.violations=$(VIOLATIONS)"; rc=$$?; [ $$rc = 1 ] || { echo "== fuzz-vtl: kernel exit status $$rc" >&2; exit 1; }

# The monitor's figures (part of `make bench-vtl`): a policy-checked CR4 write through VTL1, and
# the self-test boot with the monitor (--profile vsm) against the same boot without it (none).
.PHONY: bench-monitor
bench-monitor: $(KERNEL_ELF) $(TEST_MODULE) $(HOSTSIM_DLL)
	DOTNET=$(DOTNET) bash $(MONITOR_DIR)/bench-monitor.sh $(HOSTSIM_DLL) $(KERNEL_ELF) $(TEST_MODULE)
bench-vtl: bench-monitor
