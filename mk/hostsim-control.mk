# hostsim's VMM interfaces (issue 15): QMP control socket, CR/MSR filters, policy file (docs/vmm.md).
.PHONY: bench-qmp bench-gdb
# QMP round trip for query-status and the cost of an idle control socket on a compute guest
# (BENCH_QMP_ROUNDS=n alternating runs, default 7).
bench-qmp:
	$(DOTNET) run --project $(ROOT)/hostsim/HostSim.Control.Bench/HostSim.Control.Bench.csproj -c Release -v q

# gdb single-step rate over RSP and the cost of an attached, idle gdb on the same compute guest
# (BENCH_GDB_ROUNDS=n alternating runs, default 7; docs/vmm.md section 6).
bench-gdb:
	$(DOTNET) run --project $(ROOT)/hostsim/HostSim.Control.Bench/HostSim.Control.Bench.csproj -c Release -v q -- gdb
