#!/usr/bin/env bash
# Writes the assembly for the kernel's embedded code-symbol table (see Arch/Symbols.cs) from the
# first-pass ELF: every function symbol in .text and .heki.sealed, sorted by address.
# With no ELF argument it writes an empty table (for the first link pass).
set -euo pipefail
out=${1:?usage: gen-symtab.sh OUT.s [ELF]}
elf=${2:-}
{
  echo '        .section .heki_symtab, "a"'
  echo '        .balign 8'
  echo '        .global heki_symtab'
  echo 'heki_symtab:'
  if [ -z "$elf" ]; then
    echo '        .long 0, 0'
    exit 0
  fi
  nm -n --defined-only "$elf" \
  | awk 'BEGIN { n = 0 } $2 ~ /^[tT]$/ && $3 !~ /^(\.|__heki_code32|_lsda)/ {
      name = $3
      sub(/^HekiGuest_Kernel_HekiGuest_Kernel_/, "K:", name)
      sub(/^HekiGuest_Corelib_/, "C:", name)
      gsub(/"/, "", name)
      addr[n] = $1; nm[n] = name; n++
    }
    END {
      printf "        .long %d, 0\n", n
      off = 0
      for (i = 0; i < n; i++) {
        printf "        .quad 0x%s\n        .long %d, %d\n", addr[i], off, length(nm[i])
        off += length(nm[i])
      }
      printf "        .ascii \""
      for (i = 0; i < n; i++) printf "%s", nm[i]
      printf "\"\n"
    }'
} > "$out"
