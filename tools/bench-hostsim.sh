#!/usr/bin/env bash
# make bench: wall time from process start to the guest's exit for the full self-test boot,
# hostsim (multiboot2) vs QEMU TCG (-kernel, PVH), median of N each, measured in the same run;
# plus guest instructions executed and MIPS reported by hostsim.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$ROOT/build
RUNS=${BENCH_RUNS:-5}
CMDLINE="modules=1 mem=128"
QEMU=${QEMU:-qemu-system-x86_64}
QFLAGS=(-machine q35 -cpu max -m 128M -accel tcg -display none -no-reboot -nodefaults
        -device isa-debug-exit,iobase=0xf4,iosize=0x04 -serial null)

median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else printf "%.3f\n", (a[NR/2]+a[NR/2+1])/2}'; }
now() { date +%s.%N; }

hostsim_once() {
  local s e rc
  s=$(now)
  set +e
  dotnet "$BUILD/hostsim/hostsim.dll" run "$BUILD/kernel.elf" --module "$BUILD/testmodule.bin=testmodule" \
    --cmdline "$CMDLINE" >/dev/null 2>"$BUILD/.bench-hostsim.err"
  rc=$?
  set -e
  e=$(now)
  [ "$rc" = 1 ] || { echo "bench: error: hostsim boot failed (exit $rc)" >&2; cat "$BUILD/.bench-hostsim.err" >&2; exit 1; }
  echo "$s $e" | awk '{printf "%.3f\n", $2 - $1}'
}

qemu_once() {
  local s e rc
  s=$(now)
  set +e
  "$QEMU" "${QFLAGS[@]}" -kernel "$BUILD/kernel.elf" -initrd "$BUILD/testmodule.bin" -append "$CMDLINE" >/dev/null 2>&1
  rc=$?
  set -e
  e=$(now)
  [ "$rc" = 1 ] || { echo "bench: error: QEMU boot failed (exit $rc)" >&2; exit 1; }
  echo "$s $e" | awk '{printf "%.3f\n", $2 - $1}'
}

echo "machine: $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -m); .NET $(dotnet --version); QEMU $("$QEMU" --version | head -1 | awk '{print $4}') TCG"
hostsim_once >/dev/null   # warm the file cache
h=(); q=()
for i in $(seq "$RUNS"); do h+=("$(hostsim_once)"); q+=("$(qemu_once)"); done
hm=$(printf '%s\n' "${h[@]}" | median)
qm=$(printf '%s\n' "${q[@]}" | median)
stats=$(tail -1 "$BUILD/.bench-hostsim.err")
insns=$(echo "$stats" | sed -n 's/.*; \([0-9]*\) instructions in \([0-9.]*\) s (\([0-9.]*\) MIPS).*/\1/p')
secs=$(echo "$stats" | sed -n 's/.*; \([0-9]*\) instructions in \([0-9.]*\) s (\([0-9.]*\) MIPS).*/\2/p')
mips=$(echo "$stats" | sed -n 's/.*; \([0-9]*\) instructions in \([0-9.]*\) s (\([0-9.]*\) MIPS).*/\3/p')
echo "full self-test boot, process start to exit, median of $RUNS:"
echo "  hostsim: ${hm} s   (runs: ${h[*]})"
echo "  QEMU TCG (-kernel): ${qm} s   (runs: ${q[*]})"
echo "  ratio hostsim/QEMU: $(echo "$hm $qm" | awk '{printf "%.2f", $1 / $2}') (target <= 1.00)"
echo "  guest instructions per boot: ${insns}; emulation time ${secs} s = ${mips} MIPS (excludes .NET start-up and loading)"
rm -f "$BUILD/.bench-hostsim.err"
