#!/bin/sh
# Stands in for mformat while grub-mkrescue builds the ISO (mk/kernel.mk puts it first on PATH as
# "mformat"). grub-mkrescue 2.06 always formats the image of the ISO's EFI system partition as a
# 2.88 MB floppy (-f 2880) although it holds one ~160 KiB BOOTX64.EFI; this formats it as a 360 KiB
# one instead, which keeps the BIOS+UEFI ISO under 2 MiB. Every other call passes through.
# HEKI_MFORMAT: the real mformat.
real=${HEKI_MFORMAT:?HEKI_MFORMAT must name the real mformat}
prev=
for arg in "$@"; do
  shift
  if [ "$prev" = "-f" ] && [ "$arg" = 2880 ]; then arg=360; fi
  set -- "$@" "$arg"
  prev=$arg
done
exec "$real" "$@"
