#!/usr/bin/env bash
# The runtime-contract check (make check-runtime-contract, run by make test): every symbol that
# crosses the line between a guest's compiled code, the corelib and the platform layer must be
# documented in docs/sdk.md, between the markers
#   <!-- runtime-contract:begin -->  and  <!-- runtime-contract:end -->
# (each `backticked` symbol in the first column of that table counts as documented).
# Checked: the undefined symbols of the ilc output (nm -u) minus those the guest's own asm
# objects define, the corelib's RuntimeImport("*", "...") names, and the undefined symbols of the
# platform asm objects (what the boot stub and stubs expect the image to provide).
#   check-runtime-contract.sh DOC ILC_OBJECT CORELIB_DIR "PLATFORM_OBJECTS" ["GUEST_OWN_OBJECTS"]
# Exit 0 when all are documented; 1 with one line per undocumented symbol; 2 on bad input.
set -euo pipefail
if [ $# -lt 4 ]; then
  echo "usage: check-runtime-contract.sh DOC ILC_OBJECT CORELIB_DIR \"PLATFORM_OBJECTS\" [\"GUEST_OWN_OBJECTS\"]" >&2
  exit 2
fi
doc=$1 ilc_obj=$2 corelib=$3 platform_objs=$4 own_objs=${5:-}
for f in "$doc" "$ilc_obj" $platform_objs $own_objs; do
  [ -f "$f" ] || { echo "check-runtime-contract: error: $f not found" >&2; exit 2; }
done
[ -d "$corelib" ] || { echo "check-runtime-contract: error: $corelib is not a directory" >&2; exit 2; }

documented=$(awk '/<!-- runtime-contract:begin -->/ { on = 1; next } /<!-- runtime-contract:end -->/ { on = 0 }
  on && /^\|/ { split($0, col, "|"); s = col[2]; while (match(s, /`[^`]+`/)) { print substr(s, RSTART + 1, RLENGTH - 2); s = substr(s, RSTART + RLENGTH) } }' "$doc" | sort -u)
if [ -z "$documented" ]; then
  echo "check-runtime-contract: error: $doc has no runtime-contract table (markers missing?)" >&2
  exit 2
fi

own=""
[ -n "$own_objs" ] && own=$(nm --defined-only $own_objs | awk 'NF == 3 { print $3 }' | sort -u)
used=$( {
  nm -u "$ilc_obj" | awk '{ print $NF }'
  grep -rhoE 'RuntimeImport\("\*", *"[A-Za-z0-9_]+"\)' --include='*.cs' "$corelib" | sed -E 's/.*"([A-Za-z0-9_]+)"\)$/\1/'
  nm -u $platform_objs | awk 'NF >= 2 { print $NF }'
} | sort -u)
[ -n "$own" ] && used=$(comm -23 <(echo "$used") <(echo "$own"))

missing=$(comm -23 <(echo "$used") <(echo "$documented"))
if [ -n "$missing" ]; then
  while read -r sym; do echo "check-runtime-contract: $sym is used across the runtime boundary but not documented in $doc"; done <<< "$missing"
  exit 1
fi
echo "check-runtime-contract: OK ($(echo "$used" | wc -l) symbols, all documented in $(basename "$doc"))"
