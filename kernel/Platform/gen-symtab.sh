#!/usr/bin/env bash
# The symbol-table step of the guest build (mk/guest.mk): writes the assembly for the image's
# embedded code-symbol table (read by HekiGuest.Platform.Arch.Symbols) from the first-pass ELF:
# every function symbol in .text and .heki.sealed, sorted by address.
#   gen-symtab.sh OUT.s                       an empty table (for the first link pass)
#   gen-symtab.sh OUT.s ELF [PREFIX=SHORT]... the table; each PREFIX at the start of a name
#                                             becomes SHORT (ilc's long assembly_namespace_ prefixes)
# Layout: {u32 count, u32 reserved}, count x {u64 address, u32 name offset, u32 length}, names.
set -euo pipefail
out=${1:?usage: gen-symtab.sh OUT.s [ELF [PREFIX=SHORT]...]}
elf=${2:-}
shift $(( $# >= 2 ? 2 : $# ))
abbrev=""
for a in "$@"; do
  case "$a" in
    *=*) abbrev+="${a%%=*} ${a#*=}"$'\n' ;;
    *) echo "gen-symtab: error: '$a' is not PREFIX=SHORT" >&2; exit 2 ;;
  esac
done
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
  | ABBREV="$abbrev" awk 'BEGIN {
      n = 0; na = split(ENVIRON["ABBREV"], lines, "\n")
      for (i = 1; i <= na; i++) if (lines[i] != "") { split(lines[i], kv, " "); pre[++np] = kv[1]; short[np] = kv[2] }
    }
    $2 ~ /^[tT]$/ && $3 !~ /^(\.|__heki_code32|_lsda|heki_guest_entry$)/ {
      name = $3
      for (i = 1; i <= np; i++) if (index(name, pre[i]) == 1) { name = short[i] substr(name, length(pre[i]) + 1); break }
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
