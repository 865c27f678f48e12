#!/usr/bin/env bash
# The sealed-section digest step of the guest build (mk/guest.mk), after the final link:
# writes the SHA-256 of the image's .heki.sealed section (its bytes in the file, padding
# included) into the 32 bytes at the symbol heki_sealed_digest (kernel/Platform/asm/sealed.s,
# in rodata, so the section itself does not change). A VTL1 monitor compares it with its own hash
# when the kernel hands the section over (docs/vtl.md section 15).
#   seal-digest.sh ELF
set -euo pipefail
elf=${1:?usage: seal-digest.sh ELF}
python3 - "$elf" <<'PY'
import hashlib, struct, sys
path = sys.argv[1]
data = bytearray(open(path, 'rb').read())
def fail(msg):
    print(f"seal-digest: error: {path}: {msg}", file=sys.stderr); sys.exit(2)
if data[:4] != b'\x7fELF' or data[4] != 2: fail("not an ELF64 image")
shoff, = struct.unpack_from('<Q', data, 0x28)
shentsize, shnum, shstrndx = struct.unpack_from('<HHH', data, 0x3A)
secs = [struct.unpack_from('<IIQQQQIIQQ', data, shoff + i * shentsize) for i in range(shnum)]
strtab = secs[shstrndx]
def name(off): return bytes(data[strtab[4] + off:data.index(b'\0', strtab[4] + off)]).decode()
byname = {name(s[0]): s for s in secs}
sealed = byname.get('.heki.sealed') or fail("no .heki.sealed section")
symtab = byname.get('.symtab') or fail("no symbol table")
strs = secs[symtab[6]]
addr = None
for i in range(symtab[5] // 24):
    st_name, _, _, _, value, _ = struct.unpack_from('<IBBHQQ', data, symtab[4] + 24 * i)
    if bytes(data[strs[4] + st_name:data.index(b'\0', strs[4] + st_name)]) == b'heki_sealed_digest': addr = value
if addr is None: fail("no heki_sealed_digest symbol")
holder = next((s for s in secs if s[1] == 1 and s[3] <= addr and addr + 32 <= s[3] + s[5]), None) or fail("heki_sealed_digest is not in a section with file bytes")
if holder is sealed: fail("heki_sealed_digest lies inside the sealed section")
digest = hashlib.sha256(data[sealed[4]:sealed[4] + sealed[5]]).digest()
at = holder[4] + addr - holder[3]
data[at:at + 32] = digest
open(path, 'wb').write(data)
PY
