#!/usr/bin/env bash
# The monitor's figures for `make bench-vtl` (README "Figures"), from whole kernel boots on hostsim:
#  1. a policy-checked CR4 write through VTL1: `tests=vtl1-bench` with bench.writes=W minus the same
#     boot with 0 writes, divided by W (guest instructions and the guest's run time hostsim reports);
#  2. the boot to SUMMARY with the monitor (--profile vsm) vs without it (--profile none).
# Best of RUNS (default 5) each. bench-monitor.sh HOSTSIM_DLL KERNEL_ELF TEST_MODULE
set -euo pipefail
hostsim=${1:?usage: bench-monitor.sh HOSTSIM_DLL KERNEL_ELF TEST_MODULE} kernel=${2:?} module=${3:?}
runs=${RUNS:-5} writes=${BENCH_WRITES:-40000}
dotnet=${DOTNET:-dotnet}

# boot PROFILE CMDLINE -> "instructions seconds" of the best (fastest) of $runs boots
boot() {
  local best_s="" best_i="" line i s
  for _ in $(seq "$runs"); do
    # hostsim's exit code is the guest's (1: all passed); the run must end with a guest exit
    line=$("$dotnet" "$hostsim" run "$kernel" --module "$module=testmodule" --profile "$1" --cmdline "$2" --timeout 600s 2>&1 \
      | grep '^hostsim: guest exit: debug-exit value 0;' || true)
    [ -n "$line" ] || { echo "bench-monitor: error: the boot ($1, $2) did not pass all its self-tests" >&2; exit 1; }
    i=$(sed -E 's/.*; ([0-9]+) instructions in ([0-9.]+) s.*/\1/' <<<"$line")
    s=$(sed -E 's/.*; ([0-9]+) instructions in ([0-9.]+) s.*/\2/' <<<"$line")
    if [ -z "$best_s" ] || awk -v a="$s" -v b="$best_s" 'BEGIN { exit !(a < b) }'; then best_s=$s; best_i=$i; fi
  done
  echo "$best_i $best_s"
}

base=$(boot vsm "modules=1 mem=128 tests=vtl1-bench bench.writes=0")
full=$(boot vsm "modules=1 mem=128 tests=vtl1-bench bench.writes=$writes")
awk -v b="$base" -v f="$full" -v w="$writes" 'BEGIN {
  split(b, x, " "); split(f, y, " ")
  printf "policy-checked CR4 write through VTL1 (VTL call, monitor policy, SetVpRegisters, return): %.2f us, %.0f guest instructions (both VTLs; %d writes, best of boots minus a boot without them)\n", (y[2] - x[2]) * 1e6 / w, (y[1] - x[1]) / w, w
}'
with=$(boot vsm "modules=1 mem=128")
without=$(boot none "modules=1 mem=128")
awk -v a="$with" -v b="$without" 'BEGIN {
  split(a, x, " "); split(b, y, " ")
  printf "boot to SUMMARY, all self-tests: with the VTL1 monitor (--profile vsm) %.3f s, %d instructions; without (--profile none) %.3f s, %d instructions: %.2fx the time\n", x[2], x[1], y[2], y[1], x[2] / y[2]
}'
