#!/usr/bin/env bash
# embed-signing-key.sh MODULUS OUT.s: the assembly that puts the signing key's public modulus
# (256 bytes, big-endian; kernelsign keygen's signing-key.modulus) and its SHA-256 into the
# kernel's rodata: heki_signing_key_modulus (256 bytes), heki_signing_key_digest (32 bytes).
# The kernel hashes the modulus at boot and reports the digest only when both agree.
set -euo pipefail
modulus=$1 out=$2
[ -f "$modulus" ] || { echo "embed-signing-key: error: $modulus missing" >&2; exit 2; }
[ "$(stat -c %s "$modulus")" = 256 ] || { echo "embed-signing-key: error: $modulus is not 256 bytes" >&2; exit 2; }
digest=$(sha256sum "$modulus" | cut -d' ' -f1)
{
  echo '        .section .rodata'
  echo '        .balign 16'
  echo '        .global heki_signing_key_modulus, heki_signing_key_digest'
  echo 'heki_signing_key_digest:'
  echo "        .byte $(echo "$digest" | sed 's/../0x&,/g; s/,$//')"
  echo '        .balign 16'
  echo 'heki_signing_key_modulus:'
  echo "        .incbin \"$(realpath "$modulus")\""
} > "$out.tmp"
mv "$out.tmp" "$out"
