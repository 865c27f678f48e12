# Random-code fuzzing of hostsim with the HekiGuest protections armed (hostsim/HostSim.GuestFuzz):
# SEEDS consecutive seeds from FIRST_SEED (the mode is seed mod 6: 64/32/16-bit code at CPL 0/3),
# each with MAX_INSTRUCTIONS of budget. Exit status 1 when a seed fails (host exception, hang,
# budget overrun, protection broken); replay one with
#   dotnet $(GUEST_FUZZ_DLL) --seed N --replay
# FUZZ_GUEST_ARGS passes more options (e.g. --strict-ud, --seed-timeout 5, --no-alias-window).
GUEST_FUZZ_PROJ := $(ROOT)/hostsim/HostSim.GuestFuzz/HostSim.GuestFuzz.csproj
GUEST_FUZZ_DLL := $(BUILD)/hostsim-guest-fuzz/hostsim-guest-fuzz.dll
SEEDS ?= 3000
FIRST_SEED ?= 1
MAX_INSTRUCTIONS ?= 20000
FUZZ_GUEST_ARGS ?=

.PHONY: hostsim-guest-fuzz-build fuzz-guest

hostsim-guest-fuzz-build:
	$(DOTNET) build $(GUEST_FUZZ_PROJ) -c Release -o $(BUILD)/hostsim-guest-fuzz --nologo -v q

fuzz-guest: hostsim-guest-fuzz-build
	$(DOTNET) $(GUEST_FUZZ_DLL) --seeds $(SEEDS) --first-seed $(FIRST_SEED) --max-instructions $(MAX_INSTRUCTIONS) $(FUZZ_GUEST_ARGS)

# The VSM host (docs/vtl.md) fuzzed from VTL0 and VTL1: random VSM hypercalls, VTL switches,
# memory accesses and intercepted register writes; any host exception or hang fails the seed.
VSM_SEEDS ?= 1000
.PHONY: fuzz-vsm
fuzz-vsm: hostsim-guest-fuzz-build
	$(DOTNET) $(GUEST_FUZZ_DLL) --vsm --seeds $(VSM_SEEDS) --first-seed $(FIRST_SEED) $(FUZZ_GUEST_ARGS)
