#!/usr/bin/env bash
# make bench-boot: kernel and ISO sizes, boot-to-SUMMARY times under QEMU TCG (median of N),
# and the warm rebuild time after a one-line C# change. Prints one figure per line.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$ROOT/build
RUNS=${BENCH_RUNS:-5}
QEMU=${QEMU:-qemu-system-x86_64}
FLAGS=(-machine q35 -cpu max -m 128M -accel tcg -display none -no-reboot -nodefaults
       -device isa-debug-exit,iobase=0xf4,iosize=0x04 -serial null)

median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else printf "%.3f\n", (a[NR/2]+a[NR/2+1])/2}'; }

time_boot() {  # prints seconds for one boot; fails unless QEMU exits 1 (all passed)
  local start end rc
  start=$(date +%s.%N)
  set +e; "$QEMU" "${FLAGS[@]}" "$@" >/dev/null 2>&1; rc=$?; set -e
  end=$(date +%s.%N)
  [ "$rc" = 1 ] || { echo "bench-boot: error: boot failed (QEMU exit $rc)" >&2; exit 1; }
  echo "$start $end" | awk '{printf "%.3f\n", $2 - $1}'
}

echo "machine: $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -m), QEMU $("$QEMU" --version | head -1 | awk '{print $4}') TCG"
echo "kernel ELF (stripped): $(stat -c %s "$BUILD/kernel.stripped.elf") bytes (target <= 131072)"
echo "kernel ELF (with symbols): $(stat -c %s "$BUILD/kernel.elf") bytes"
echo "ISO: $(stat -c %s "$BUILD/hekiguest.iso") bytes (target <= 2097152)"

pvh=$(for i in $(seq "$RUNS"); do time_boot -kernel "$BUILD/kernel.elf" -initrd "$BUILD/testmodule.bin" -append "modules=1 mem=128"; done | median)
echo "PVH boot to SUMMARY (qemu -kernel, TCG), median of $RUNS: ${pvh} s (target <= 0.5 s)"
iso=$(for i in $(seq "$RUNS"); do time_boot -cdrom "$BUILD/hekiguest.iso" -boot d; done | median)
echo "ISO boot to SUMMARY (SeaBIOS + GRUB, TCG), median of $RUNS: ${iso} s"
OVMF=${OVMF_FD:-/usr/share/ovmf/OVMF.fd}
uefi=$(for i in $(seq "$RUNS"); do time_boot -bios "$OVMF" -cdrom "$BUILD/hekiguest.iso"; done | median)
echo "ISO boot to SUMMARY (OVMF UEFI + GRUB, TCG), median of $RUNS: ${uefi} s"

# Warm rebuild: append a comment line to one C# file, rebuild the kernel ELF, restore the file.
f=$ROOT/kernel/Kernel/Kernel.cs
cp "$f" "$BUILD/.bench-saved.cs"
trap 'cp "$BUILD/.bench-saved.cs" "$f"; rm -f "$BUILD/.bench-saved.cs"' EXIT
echo "// bench-boot rebuild probe $(date +%s%N)" >> "$f"
start=$(date +%s.%N)
make -C "$ROOT" --no-print-directory -s kernel >/dev/null
end=$(date +%s.%N)
echo "warm rebuild after a one-line C# change: $(echo "$start $end" | awk '{printf "%.2f", $2 - $1}') s (target <= 10 s)"
cp "$BUILD/.bench-saved.cs" "$f"
make -C "$ROOT" --no-print-directory -s kernel >/dev/null
