# hostsim CPU core: benchmark and differential fuzzer (owned by the hostsim-cpu component).
HOSTSIM_CPU_BENCH_PROJ := $(ROOT)/hostsim/HostSim.Cpu.Bench/HostSim.Cpu.Bench.csproj
HOSTSIM_CPU_BENCH_DLL := $(BUILD)/hostsim-cpu-bench/HekiGuest.HostSim.Cpu.Bench.dll
FUZZ_CASES ?= 10000000
FUZZ_SEED ?= $(shell date +%s)

.PHONY: hostsim-cpu-bench-build bench-cpu fuzz-cpu

hostsim-cpu-bench-build:
	$(DOTNET) build $(HOSTSIM_CPU_BENCH_PROJ) -c Release -o $(BUILD)/hostsim-cpu-bench --nologo -v q

bench-cpu: hostsim-cpu-bench-build
	$(DOTNET) $(HOSTSIM_CPU_BENCH_DLL) bench

fuzz-cpu: hostsim-cpu-bench-build
	$(DOTNET) $(HOSTSIM_CPU_BENCH_DLL) fuzz --cases $(FUZZ_CASES) --seed $(FUZZ_SEED)
