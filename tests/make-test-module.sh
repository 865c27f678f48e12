#!/usr/bin/env bash
# Writes a HEKIMOD1 test module: "HEKIMOD1 <payload length> <FNV-1a 64 of payload, hex>\n" then
# the payload. The kernel's boot self-test recomputes the hash to prove the module arrived intact.
set -euo pipefail
out=${1:?usage: make-test-module.sh OUTPUT}
python3 - "$out" <<'PY'
import sys
payload = bytes((i * 131 + 7) & 0xFF for i in range(12345))
h = 0xcbf29ce484222325
for b in payload:
    h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
with open(sys.argv[1], "wb") as f:
    f.write(b"HEKIMOD1 %d %x\n" % (len(payload), h))
    f.write(payload)
PY
