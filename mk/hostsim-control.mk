# hostsim's VMM interfaces (issue 15): QMP control socket, CR/MSR filters, policy file (docs/vmm.md).
.PHONY: bench-qmp
# QMP round trip for query-status and the cost of an idle control socket on a compute guest
# (BENCH_QMP_ROUNDS=n alternating runs, default 7).
bench-qmp:
	$(DOTNET) run --project $(ROOT)/hostsim/HostSim.Control.Bench/HostSim.Control.Bench.csproj -c Release -v q
