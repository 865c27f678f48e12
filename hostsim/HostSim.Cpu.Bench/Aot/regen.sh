#!/usr/bin/env bash
# Regenerates checksum.bin: the NativeAOT (ilc) machine code of HekiGuest.Bench.Checksum.Compute,
# compiled against the kernel's corelib with the same ilc switches as the kernel (mk/kernel.mk).
# Needs: the kernel IL built (make kernel), the ilc NuGet package restored, binutils.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
work="${1:-$root/build/hostsim-cpu-aot}"
nuget="${NUGET_PACKAGES:-$HOME/.nuget/packages}"
ver="$(sed -n 's:.*<HekiIlcVersion>\(.*\)</HekiIlcVersion>.*:\1:p' "$root/Directory.Packages.props")"
ilc="$nuget/runtime.linux-x64.microsoft.dotnet.ilcompiler/$ver/tools/ilc"
corelib="$root/build/kernel/il/HekiGuest.Corelib.dll"
csc="$(ls -d "$(dirname "$(command -v dotnet)")"/../share/dotnet/sdk/*/Roslyn/bincore/csc.dll 2>/dev/null | tail -1 || true)"
[ -f "$csc" ] || csc="$(ls -d /usr/share/dotnet/sdk/*/Roslyn/bincore/csc.dll /usr/lib/dotnet/sdk/*/Roslyn/bincore/csc.dll 2>/dev/null | tail -1)"
[ -x "$ilc" ] || { echo "regen: ilc $ver not found at $ilc" >&2; exit 2; }
[ -f "$corelib" ] || { echo "regen: $corelib missing (run make kernel first)" >&2; exit 2; }
mkdir -p "$work"
cp "$here/Checksum.cs.txt" "$work/Checksum.cs"
dotnet exec "$csc" -nologo -noconfig -nostdlib -unsafe -optimize -target:library -deterministic \
  -r:"$corelib" -out:"$work/HekiGuest.Bench.dll" "$work/Checksum.cs"
"$ilc" "$work/HekiGuest.Bench.dll" -r "$corelib" -o "$work/checksum.o" --targetos:linux --targetarch:x64 -O \
  --nativelib --systemmodule:HekiGuest.Corelib
# the exported method and the helpers it calls (Round, Rotl): one contiguous range of __managedcode
read -r addr size < <(nm -S --defined-only "$work/checksum.o" | awk '$4 ~ /Checksum__/ { s = strtonum_hex($1); e = s + strtonum_hex($2); if (min == "" || s < min) min = s; if (e > max) max = e }
  function strtonum_hex(h,   i, c, v) { v = 0; h = tolower(h); for (i = 1; i <= length(h); i++) { c = index("0123456789abcdef", substr(h, i, 1)) - 1; v = v * 16 + c } return v }
  END { if (max > 0) printf "%x %x\n", min, max - min }')
[ -n "${addr:-}" ] || { echo "regen: Checksum methods not found" >&2; exit 1; }
entry="$(nm --defined-only "$work/checksum.o" | awk '$3=="heki_bench_checksum"{print $1}')"
sec="$(objdump -t "$work/checksum.o" | awk '$NF=="heki_bench_checksum"{print $(NF-2)}')"
objcopy -O binary --only-section="$sec" "$work/checksum.o" "$work/section.bin"
# the function must be self-contained: no relocation may fall inside it
start=$((16#$addr)); end=$((16#$addr + 16#$size)); cur=0
while read -r line; do
  case "$line" in
    "Relocation section"*) case "$line" in *"'.rela$sec'"*|*"'.rel$sec'"*) cur=1 ;; *) cur=0 ;; esac; continue ;;
  esac
  off="${line%% *}"
  if [ "$cur" = 1 ] && [[ "$off" =~ ^[0-9a-f]+$ ]]; then
    o=$((16#$off))
    if [ "$o" -ge "$start" ] && [ "$o" -lt "$end" ]; then
      echo "regen: heki_bench_checksum has a relocation at 0x$off; it must not call helpers" >&2; exit 1
    fi
  fi
done < <(readelf -rW "$work/checksum.o")
dd if="$work/section.bin" of="$here/checksum.bin" bs=1 skip=$((16#$addr)) count=$((16#$size)) status=none
echo $((16#$entry - 16#$addr)) > "$here/checksum.entry"
echo "regen: checksum.bin = $((16#$size)) bytes of ilc $ver output (section $sec @0x$addr, entry +$(cat "$here/checksum.entry"))"
objdump -D -b binary -mi386:x86-64 --no-show-raw-insn "$here/checksum.bin" | awk -F'\t' 'NF>=2 {split($2, a, " "); print a[1]}' | sort | uniq -c | sort -rn | tr '\n' ' '; echo
