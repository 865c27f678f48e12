using System.Runtime;
using System.Runtime.CompilerServices;
using HekiGuest.Platform.Security;
using HekiGuest.Platform.Drivers;

namespace HekiGuest.Kernel.Kexec;

// The public key kexec targets must be signed with (tools/KernelSign, mk/kernelsign.mk): its
// 256-byte RSA-2048 modulus (exponent 65537) and the SHA-256 of that modulus, both built into the
// kernel's rodata (build/kernel/signing-key-blob.s). The kernel hashes the modulus itself and
// reports the key only when the two agree.
public static unsafe class SigningKey
{
    [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "heki_sym_signing_key_modulus")] private static extern byte* Modulus();
    [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "heki_sym_signing_key_digest")] private static extern byte* BuiltInDigest();

    public const int ModulusBytes = 256, DigestBytes = 32;

    /// <summary>The modulus the kernel verifies signatures with (256 bytes, big-endian).</summary>
    public static byte* ModulusBytesPointer => Modulus();

    /// <summary>True when the modulus hashes to the digest built in beside it.</summary>
    public static bool Intact(byte* digest)
    {
        Sha256.Hash(Modulus(), ModulusBytes, digest);
        byte* want = BuiltInDigest();
        int diff = 0;
        for (int i = 0; i < DigestBytes; i++) diff |= digest[i] ^ want[i];
        return diff == 0;
    }

    /// <summary>"kexec: signing key sha256 HEX" (the digest kernelsign key-digest prints).</summary>
    public static void Report(TextOut o)
    {
        byte* d = stackalloc byte[DigestBytes];
        if (!Intact(d))
        {
            o.Line("kexec: signing key damaged: its SHA-256 differs from the digest built in; kexec refuses every target");
            return;
        }
        o.Write("kexec: signing key sha256 ");
        for (int i = 0; i < DigestBytes; i++) o.HexDigits(d[i], 2);
        o.Line();
    }
}
