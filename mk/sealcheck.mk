# sealcheck: proves that every sealed-class instruction of the kernel ELF lies inside .heki.sealed
# (tools/SealCheck/README.md). The kernel rule runs it on every link: a violating kernel does not build.
SEALCHECK_DIR        := $(ROOT)/tools/SealCheck
SEALCHECK_OUT        := $(BUILD)/tools/sealcheck
SEALCHECK_DLL        := $(SEALCHECK_OUT)/sealcheck.dll
SEALCHECK_SRC        := $(shell find $(SEALCHECK_DIR) $(ROOT)/tools/Elf -name '*.cs' -not -path '*/obj/*' -not -path '*/bin/*') \
                        $(SEALCHECK_DIR)/SealCheck.csproj $(ROOT)/tools/Elf/HekiGuest.Elf.csproj $(ROOT)/Directory.Build.props $(ROOT)/Directory.Packages.props
SEALCHECK            := $(DOTNET) $(SEALCHECK_DLL)
SEALCHECK_BENCH_ELF  ?= $(BUILD)/kernel.elf
SEALCHECK_BENCH_RUNS ?= 30
SEALCHECK_SAMPLE     := $(SEALCHECK_OUT)/sample-kernel.elf

# Image builds (mk/guest.mk, the kernel included) run sealcheck as the local dotnet tool
# (.config/dotnet-tools.json); this directly built copy serves `make sealcheck-kernel` and the benches.

# On linux-x64 the tool is published ReadyToRun: precompiled code halves a kernel build's sealcheck
# step (cold verification ~60 ms instead of ~140 ms of JIT). Elsewhere a plain portable build.
SEALCHECK_R2R ?= $(if $(filter Linux-x86_64,$(shell uname -s)-$(shell uname -m)),1,0)

$(SEALCHECK_DLL): $(SEALCHECK_SRC)
ifeq ($(SEALCHECK_R2R),1)
	$(DOTNET) publish $(SEALCHECK_DIR)/SealCheck.csproj -c Release -r linux-x64 --self-contained false \
	  -p:PublishReadyToRun=true -o $(SEALCHECK_OUT) --nologo -v q -clp:NoSummary
else
	$(DOTNET) build $(SEALCHECK_DIR)/SealCheck.csproj -c Release -o $(SEALCHECK_OUT) --nologo -v q -clp:NoSummary
endif
	@touch $@

.PHONY: sealcheck sealcheck-kernel bench-sealcheck bench-sealcheck-sample test-sealcheck
sealcheck: $(SEALCHECK_DLL)

# Verify an already built kernel without relinking it.
sealcheck-kernel: $(SEALCHECK_DLL)
	$(SEALCHECK) $(BUILD)/kernel.elf

# Wall time of the in-process verification (median of N warm runs, plus the cold first run) and
# bytes/s, on the real kernel when it exists, else on a synthetic 256 KiB-code kernel.
bench-sealcheck: $(SEALCHECK_DLL)
	@elf="$(SEALCHECK_BENCH_ELF)"; \
	if [ ! -f "$$elf" ]; then \
	  echo "bench-sealcheck: $$elf not found; using a synthetic kernel with 256 KiB of Iced-assembled code"; \
	  $(SEALCHECK) --write-sample $(SEALCHECK_SAMPLE) >/dev/null || exit 2; elf=$(SEALCHECK_SAMPLE); \
	fi; \
	$(SEALCHECK) --bench $(SEALCHECK_BENCH_RUNS) "$$elf"

bench-sealcheck-sample: $(SEALCHECK_DLL)
	@$(SEALCHECK) --write-sample $(SEALCHECK_SAMPLE) >/dev/null
	@$(SEALCHECK) --bench $(SEALCHECK_BENCH_RUNS) $(SEALCHECK_SAMPLE)

test-sealcheck:
	$(DOTNET) test $(ROOT)/tests/SealCheck.Tests/SealCheck.Tests.csproj --nologo -v q
