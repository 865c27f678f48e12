# The host simulator CLI, built into build/hostsim. `make run` boots the kernel on it.
HOSTSIM_DIR  := $(BUILD)/hostsim
HOSTSIM_DLL  := $(HOSTSIM_DIR)/hostsim.dll
HOSTSIM      := $(DOTNET) $(HOSTSIM_DLL)
HOSTSIM_SRC  := $(ROOT)/kernel/Sdk/HekiAbi.cs $(ROOT)/kernel/Sdk/HvAbi.cs $(shell find $(ROOT)/hostsim/HostSim.Cpu $(ROOT)/hostsim/HostSim.Machine $(ROOT)/hostsim/HostSim.Heki $(ROOT)/hostsim/HostSim.Vsm $(ROOT)/hostsim/HostSim.Control $(ROOT)/hostsim/HostSim.Gdb $(ROOT)/hostsim/HostSim.Cli $(ROOT)/tools/Elf \
                  \( -name '*.cs' -o -name '*.csproj' \) -not -path '*/obj/*' -not -path '*/bin/*' 2>/dev/null)

.PHONY: hostsim
hostsim: $(HOSTSIM_DLL)

# On linux-x64 the CLI is published ReadyToRun (precompiled: a boot takes well under a second
# instead of waiting for the JIT); elsewhere it is a plain portable build.
HOSTSIM_R2R ?= $(if $(filter Linux-x86_64,$(shell uname -s)-$(shell uname -m)),1,0)

$(HOSTSIM_DLL): $(HOSTSIM_SRC) $(ROOT)/Directory.Packages.props
ifeq ($(HOSTSIM_R2R),1)
	$(DOTNET) publish $(ROOT)/hostsim/HostSim.Cli/HostSim.Cli.csproj -c Release -r linux-x64 --self-contained false \
	  -p:PublishReadyToRun=true -o $(HOSTSIM_DIR) --nologo -v q -clp:NoSummary
else
	$(DOTNET) build $(ROOT)/hostsim/HostSim.Cli/HostSim.Cli.csproj -c Release -o $(HOSTSIM_DIR) --nologo -v q -clp:NoSummary
endif
	@touch $@

# What the HekiGuest host interface costs a guest: hypercall round trip, pinned CR write,
# denied CR write. In-process guest loops, figures in the README.
.PHONY: bench-heki
bench-heki:
	$(DOTNET) run --project $(ROOT)/hostsim/HostSim.Heki.Bench/HostSim.Heki.Bench.csproj -c Release -v q

# What the VSM host's mechanisms cost a guest: VTL call + return round trip, an intercepted CR4
# write emulated by a minimal VTL1, a VTL0 write violation delivered to VTL1 and answered.
.PHONY: bench-vtl
bench-vtl:
	$(DOTNET) run --project $(ROOT)/hostsim/HostSim.Vsm.Bench/HostSim.Vsm.Bench.csproj -c Release -v q
