# HekiGuest top-level Makefile. Component rules live in mk/*.mk.
#   make          kernel ELF (verified by sealcheck) and the GRUB ISO
#   make run      the main job: build the kernel and boot it, transcript on the terminal
#   make monitor  the VTL1 monitor image (vtl1-monitor/, embedded in the kernel), with its size
#   make qemu     boot the ISO under QEMU (SeaBIOS + GRUB), serial on the terminal
#   make qemu-uefi   the same ISO under QEMU with UEFI firmware (OVMF + GRUB)
#   make test     everything: builds, then every xunit project (boots under QEMU included)
#   make deps     install the missing Debian packages (QEMU, GRUB, xorriso, mtools)
#   make bench-boot   kernel size, ISO size, boot time and rebuild time figures
#   make bench        a full self-test boot on hostsim vs QEMU TCG, and the cost of the Heki ABI
#   make bench-sealcheck   sealcheck verification wall time (median) and bytes/s
#   make bench-cpu / fuzz-cpu   CPU core MIPS / differential fuzzing against the host CPU
#   make fuzz-guest   random code at CPL 0/3 in 64/32/16-bit code against the armed HekiGuest protections
#   make fuzz-vsm     random VSM hypercalls, VTL switches and intercepted writes from VTL0 and VTL1
SHELL := /bin/bash
.DEFAULT_GOAL := all
ROOT := $(abspath .)
BUILD := $(ROOT)/build
DOTNET ?= dotnet
export DOTNET_CLI_TELEMETRY_OPTOUT := 1
export DOTNET_NOLOGO := 1
export DOTNET_SKIP_FIRST_TIME_EXPERIENCE := 1

QEMU ?= qemu-system-x86_64
QEMU_MEM ?= 128M
QEMU_ACCEL ?= $(if $(filter kvm,$(HEKI_QEMU_ACCEL)),kvm,tcg)
QEMU_FLAGS := -machine q35 -cpu max -m $(QEMU_MEM) -accel $(QEMU_ACCEL) -display none -no-reboot \
  -nodefaults -device isa-debug-exit,iobase=0xf4,iosize=0x04 -serial stdio
RUN_CMDLINE ?= $(KERNEL_CMDLINE)
# The host profile `make run` boots on: vsm, the policy-free Hyper-V VSM host, on which the kernel
# starts its own VTL1 monitor (`boot: mode vtl1`); heki for the Heki-style host, none for no interface.
RUN_PROFILE ?= vsm

-include mk/*.mk

.PHONY: all run qemu qemu-uefi qemu-pvh test test-unit clean
all: kernel iso hostsim

# The main job: boot the kernel ELF on the bundled host simulator (needs only the .NET SDK and
# binutils). The exit code follows the kernel's: 1 when every self-test passed.
run: $(KERNEL_ELF) $(TEST_MODULE) $(HOSTSIM_DLL)
	@echo "== booting $(KERNEL_ELF) on hostsim (multiboot2, --profile $(RUN_PROFILE)), command line: $(RUN_CMDLINE)"
	@$(HOSTSIM) run $(KERNEL_ELF) --module $(TEST_MODULE)=testmodule --profile $(RUN_PROFILE) --cmdline "$(RUN_CMDLINE)" --timeout 120s; \
	  rc=$$?; if [ $$rc = 1 ]; then echo "== all self-tests passed"; exit 0; else echo "== kernel exit status $$rc (3 = test failures, 5 = panic, 70+ = simulator stop)"; exit $$rc; fi

# The same boot on QEMU's PVH path (qemu -kernel).
qemu-pvh: $(KERNEL_ELF) $(TEST_MODULE) | deps-qemu
	@echo "== booting $(KERNEL_ELF) on QEMU (TCG), command line: $(RUN_CMDLINE)"
	@$(QEMU) $(QEMU_FLAGS) -kernel $(KERNEL_ELF) -initrd $(TEST_MODULE) -append "$(RUN_CMDLINE)"; \
	  rc=$$?; if [ $$rc = 1 ]; then echo "== all self-tests passed"; exit 0; else echo "== kernel exit status $$rc (3 = test failures, 5 = panic)"; exit $$rc; fi

# The ISO's default GRUB entry (no test parameters); QEMU_MEM=1G for another memory size.
qemu: $(KERNEL_ISO) | deps-qemu
	@$(QEMU) $(QEMU_FLAGS) -cdrom $(KERNEL_ISO) -boot d; rc=$$?; [ $$rc = 1 ] || exit $$rc

qemu-uefi: $(KERNEL_ISO) | deps-qemu
	@$(QEMU) $(QEMU_FLAGS) -bios $(OVMF_FD) -cdrom $(KERNEL_ISO); rc=$$?; [ $$rc = 1 ] || exit $$rc

test: all $(TEST_MODULE) | deps-qemu deps-iso deps-qmp deps-gdb
	$(DOTNET) test $(ROOT)/HekiGuest.sln -c Release --nologo -v q -clp:NoSummary \
	  --logger "console;verbosity=normal" $(TEST_ARGS)

clean:
	rm -rf $(BUILD)
	find $(ROOT) -type d \( -name bin -o -name obj \) -prune -exec rm -rf {} +

.PHONY: bench-boot
bench-boot: all $(TEST_MODULE) | deps-qemu
	@bash $(ROOT)/tools/bench-boot.sh

.PHONY: bench
bench: $(KERNEL_ELF) $(TEST_MODULE) $(HOSTSIM_DLL) | deps-qemu
	@bash $(ROOT)/tools/bench-hostsim.sh
	@echo "HekiGuest host interface on hostsim:"
	@$(MAKE) --no-print-directory -s bench-heki
