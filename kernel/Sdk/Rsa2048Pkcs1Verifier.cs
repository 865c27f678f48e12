namespace HekiGuest.Sdk
{
    /// <summary>
    /// RSA-2048 signature verification with PKCS#1 v1.5 padding over a SHA-256 digest (RFC 8017
    /// section 8.2.2, EMSA-PKCS1-v1_5), public exponent 65537, for a guest that checks a signed
    /// image (the kernel, the VTL1 monitor). The caller hashes: <see cref="Verify"/> takes the
    /// 32-byte digest, so the code does not depend on where SHA-256 lives.
    ///
    /// Arithmetic: Montgomery multiplication (CIOS) on 32 64-bit limbs, little-endian, with
    /// R = 2^2048. Every buffer is allocated once in the constructor; <see cref="SetKey"/> and
    /// <see cref="Verify"/> allocate nothing. The encoded message is compared whole against the
    /// one expected encoding (0x00 0x01, 202 bytes 0xFF, 0x00, the DER DigestInfo prefix of
    /// SHA-256, the digest): no parsing, so nothing lax can be accepted. The key is public and so
    /// is the signature: the code aims at exactness, not at hiding timing.
    /// </summary>
    public sealed unsafe class Rsa2048Pkcs1Verifier
    {
        public const int ModulusBytes = 256, DigestBytes = 32;
        private const int Limbs = ModulusBytes / 8;

        /// <summary>The signature is valid for the digest under the key.</summary>
        public const long Valid = 0;
        /// <summary>SetKey: the modulus is not 2048 bits exactly (top bit clear, wrong length) or is even.</summary>
        public const long BadKey = -3001;
        /// <summary>Verify before a key was set.</summary>
        public const long NoKey = -3002;
        /// <summary>The signature is not exactly 256 bytes.</summary>
        public const long BadSignatureLength = -3003;
        /// <summary>The signature, as a number, is not below the modulus (RFC 8017 RSAVP1 step 1).</summary>
        public const long SignatureOutOfRange = -3004;
        /// <summary>The encoded message is not 0x00 0x01 FF..FF 0x00 with SHA-256's DigestInfo prefix.</summary>
        public const long BadPadding = -3005;
        /// <summary>Well-formed, but for another digest.</summary>
        public const long DigestMismatch = -3006;

        /// <summary>DER of DigestInfo { AlgorithmIdentifier { id-sha256, NULL }, OCTET STRING (32) } up to the digest.</summary>
        private static readonly byte[] Sha256DigestInfoPrefix =
        {
            0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20,
        };

        private readonly ulong[] _n = new ulong[Limbs];
        private readonly ulong[] _r2 = new ulong[Limbs];        // R^2 mod n
        private readonly ulong[] _s = new ulong[Limbs];
        private readonly ulong[] _sm = new ulong[Limbs];        // s in Montgomery form
        private readonly ulong[] _x = new ulong[Limbs];
        private readonly ulong[] _one = new ulong[Limbs];
        private readonly ulong[] _t = new ulong[Limbs + 2];     // CIOS accumulator
        private readonly byte[] _em = new byte[ModulusBytes];
        private ulong _n0;                                      // -n^-1 mod 2^64
        private bool _hasKey;

        /// <summary>Whether a key is set.</summary>
        public bool HasKey => _hasKey;

        /// <summary>Sets the public key: the 256-byte big-endian modulus (exponent 65537).
        /// Returns <see cref="Valid"/> or <see cref="BadKey"/> (the old key is gone either way).</summary>
        public long SetKey(byte* modulus, int length)
        {
            _hasKey = false;
            if (modulus == null || length != ModulusBytes || (modulus[0] & 0x80) == 0 || (modulus[ModulusBytes - 1] & 1) == 0) return BadKey;
            fixed (ulong* n = _n, r2 = _r2)
            {
                FromBigEndian(modulus, n);
                // -n^-1 mod 2^64 by Newton's iteration (each step doubles the correct low bits)
                ulong inv = n[0];
                for (int i = 0; i < 6; i++) inv *= 2 - n[0] * inv;
                _n0 = 0 - inv;
                // R^2 mod n = 2^4096 mod n: 1 doubled 4096 times, reduced after each doubling
                Clear(r2);
                r2[0] = 1;
                for (int i = 0; i < 2 * 64 * Limbs; i++)
                {
                    ulong carry = ShiftLeftOne(r2);
                    if (carry != 0 || !Less(r2, n)) Subtract(r2, n);
                }
            }
            _hasKey = true;
            return Valid;
        }

        /// <summary>Verifies <paramref name="signature"/> (<paramref name="length"/> bytes,
        /// big-endian) over the 32-byte SHA-256 <paramref name="digest"/>.</summary>
        public long Verify(byte* signature, int length, byte* digest)
        {
            if (!_hasKey) return NoKey;
            if (signature == null || length != ModulusBytes) return BadSignatureLength;
            fixed (ulong* n = _n, r2 = _r2, s = _s, sm = _sm, x = _x, one = _one, t = _t)
            fixed (byte* em = _em, prefix = Sha256DigestInfoPrefix)
            {
                FromBigEndian(signature, s);
                if (!Less(s, n)) return SignatureOutOfRange;
                MontgomeryMultiply(s, r2, sm, n, t);                // s R mod n
                Copy(sm, x);
                for (int i = 0; i < 16; i++) MontgomeryMultiply(x, x, x, n, t);   // s^(2^16) R
                MontgomeryMultiply(x, sm, x, n, t);                 // s^65537 R
                Clear(one);
                one[0] = 1;
                MontgomeryMultiply(x, one, x, n, t);                // s^65537 mod n
                ToBigEndian(x, em);

                // the one valid encoding, compared whole
                int bad = em[0] ^ 0x00;
                bad |= em[1] ^ 0x01;
                int psEnd = ModulusBytes - DigestBytes - 19 - 1;    // index of the 0x00 separator
                for (int i = 2; i < psEnd; i++) bad |= em[i] ^ 0xFF;
                bad |= em[psEnd];
                for (int i = 0; i < 19; i++) bad |= em[psEnd + 1 + i] ^ prefix[i];
                if (bad != 0) return BadPadding;
                int differ = 0;
                for (int i = 0; i < DigestBytes; i++) differ |= em[ModulusBytes - DigestBytes + i] ^ digest[i];
                return differ == 0 ? Valid : DigestMismatch;
            }
        }

        /// <summary>r = a b R^-1 mod n (r may alias a or b). CIOS, Koc et al. 1996.</summary>
        private void MontgomeryMultiply(ulong* a, ulong* b, ulong* r, ulong* n, ulong* t)
        {
            for (int i = 0; i < Limbs + 2; i++) t[i] = 0;
            for (int i = 0; i < Limbs; i++)
            {
                ulong carry = 0;
                ulong ai = a[i];
                for (int j = 0; j < Limbs; j++)
                {
                    MultiplyAdd(ai, b[j], t[j], carry, out t[j], out carry);
                }
                ulong sum = t[Limbs] + carry;
                t[Limbs + 1] = sum < carry ? 1UL : 0UL;
                t[Limbs] = sum;

                ulong m = t[0] * _n0;
                MultiplyAdd(m, n[0], t[0], 0, out _, out carry);
                for (int j = 1; j < Limbs; j++)
                {
                    MultiplyAdd(m, n[j], t[j], carry, out t[j - 1], out carry);
                }
                sum = t[Limbs] + carry;
                t[Limbs - 1] = sum;
                t[Limbs] = t[Limbs + 1] + (sum < carry ? 1UL : 0UL);
            }
            // t < 2n: one conditional subtraction
            bool subtract = t[Limbs] != 0 || !Less(t, n);
            ulong borrow = 0;
            for (int i = 0; i < Limbs; i++)
            {
                ulong d = t[i] - n[i] - borrow;
                borrow = subtract ? (t[i] < n[i] || (t[i] == n[i] && borrow != 0) ? 1UL : 0UL) : 0;
                r[i] = subtract ? d : t[i];
            }
        }

        /// <summary>(hi, lo) = a b + c + d, which never overflows 128 bits.</summary>
        private static void MultiplyAdd(ulong a, ulong b, ulong c, ulong d, out ulong lo, out ulong hi)
        {
            ulong aLo = a & 0xFFFF_FFFF, aHi = a >> 32, bLo = b & 0xFFFF_FFFF, bHi = b >> 32;
            ulong ll = aLo * bLo, lh = aLo * bHi, hl = aHi * bLo, hh = aHi * bHi;
            ulong mid = (ll >> 32) + (lh & 0xFFFF_FFFF) + (hl & 0xFFFF_FFFF);
            ulong low = (ll & 0xFFFF_FFFF) | (mid << 32);
            ulong high = hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
            low += c;
            if (low < c) high++;
            low += d;
            if (low < d) high++;
            lo = low;
            hi = high;
        }

        private static bool Less(ulong* a, ulong* b)
        {
            for (int i = Limbs - 1; i >= 0; i--)
            {
                if (a[i] != b[i]) return a[i] < b[i];
            }
            return false;
        }

        private static void Subtract(ulong* a, ulong* b)
        {
            ulong borrow = 0;
            for (int i = 0; i < Limbs; i++)
            {
                ulong ai = a[i], bi = b[i];
                a[i] = ai - bi - borrow;
                borrow = ai < bi || (ai == bi && borrow != 0) ? 1UL : 0UL;
            }
        }

        private static ulong ShiftLeftOne(ulong* a)
        {
            ulong carry = 0;
            for (int i = 0; i < Limbs; i++)
            {
                ulong next = a[i] >> 63;
                a[i] = (a[i] << 1) | carry;
                carry = next;
            }
            return carry;
        }

        private static void Clear(ulong* a)
        {
            for (int i = 0; i < Limbs; i++) a[i] = 0;
        }

        private static void Copy(ulong* from, ulong* to)
        {
            for (int i = 0; i < Limbs; i++) to[i] = from[i];
        }

        private static void FromBigEndian(byte* bytes, ulong* limbs)
        {
            for (int i = 0; i < Limbs; i++)
            {
                ulong v = 0;
                byte* p = bytes + ModulusBytes - 8 * (i + 1);
                for (int k = 0; k < 8; k++) v = (v << 8) | p[k];
                limbs[i] = v;
            }
        }

        private static void ToBigEndian(ulong* limbs, byte* bytes)
        {
            for (int i = 0; i < Limbs; i++)
            {
                ulong v = limbs[i];
                byte* p = bytes + ModulusBytes - 8 * (i + 1);
                for (int k = 7; k >= 0; k--) { p[k] = (byte)v; v >>= 8; }
            }
        }
    }
}
