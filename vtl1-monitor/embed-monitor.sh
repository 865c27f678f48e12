#!/usr/bin/env bash
# embed-monitor.sh MONITOR_ELF OUT.s: the assembly that puts the verified monitor image and its
# SHA-256 digest into the kernel's rodata (heki_monitor_image .. heki_monitor_image_end,
# heki_monitor_digest: 32 bytes). The kernel refuses to start a monitor whose digest differs.
set -euo pipefail
elf=$1 out=$2
[ -s "$elf" ] || { echo "embed-monitor: error: $elf missing or empty" >&2; exit 2; }
digest=$(sha256sum "$elf" | cut -d' ' -f1)
{
  echo '        .section .rodata'
  echo '        .balign 16'
  echo '        .global heki_monitor_digest, heki_monitor_image, heki_monitor_image_end'
  echo "heki_monitor_digest:"
  echo "        .byte $(echo "$digest" | sed 's/../0x&,/g; s/,$//')"
  echo '        .balign 16'
  echo 'heki_monitor_image:'
  echo "        .incbin \"$(realpath "$elf")\""
  echo 'heki_monitor_image_end:'
} > "$out.tmp"
mv "$out.tmp" "$out"
