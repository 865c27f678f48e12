using System.Numerics;
using System.Security.Cryptography;

namespace HekiGuest.Sdk.Tests;

/// <summary>
/// The guest's RSA-2048 PKCS#1 v1.5 SHA-256 verifier (kernel/Sdk/Rsa2048Pkcs1Verifier.cs, the
/// same source file the guests compile) against System.Security.Cryptography: thousands of valid
/// signatures over random messages under several keys, and as many corrupted ones (bits flipped
/// in the signature or the digest, encoded messages with every part of the padding wrong, made
/// with the raw private-key operation, truncated or padded signatures, signatures not below the
/// modulus). Every verdict must match .NET's; where the guest is stricter (it accepts only the
/// one DER encoding), the test says so.
/// </summary>
public sealed unsafe class Rsa2048Pkcs1VerifierTests
{
    private const int Keys = 3, MessagesPerKey = 400;
    private static readonly byte[] Prefix = Convert.FromHexString("3031300d060960864801650304020105000420");

    private sealed record Key(RSA Rsa, RSAParameters Parameters, BigInteger N, BigInteger D);

    private static readonly Lazy<Key[]> TestKeys = new(() => Enumerable.Range(0, Keys).Select(_ =>
    {
        var rsa = RSA.Create(2048);
        var p = rsa.ExportParameters(true);
        return new Key(rsa, p, new BigInteger(p.Modulus, isUnsigned: true, isBigEndian: true), new BigInteger(p.D, isUnsigned: true, isBigEndian: true));
    }).ToArray());

    private static Rsa2048Pkcs1Verifier VerifierFor(Key k)
    {
        var v = new Rsa2048Pkcs1Verifier();
        fixed (byte* n = k.Parameters.Modulus) Assert.Equal(Rsa2048Pkcs1Verifier.Valid, v.SetKey(n, k.Parameters.Modulus!.Length));
        return v;
    }

    private static long Verify(Rsa2048Pkcs1Verifier v, byte[] signature, byte[] digest)
    {
        fixed (byte* s = signature)
        fixed (byte* d = digest)
            return v.Verify(s, signature.Length, d);
    }

    private static bool DotNet(Key k, byte[] signature, byte[] digest) =>
        k.Rsa.VerifyHash(digest, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);

    /// <summary>The raw private-key operation on a 256-byte encoded message: a "signature" of anything.</summary>
    private static byte[] RawSign(Key k, byte[] em)
    {
        var m = new BigInteger(em, isUnsigned: true, isBigEndian: true);
        return Fixed256(BigInteger.ModPow(m, k.D, k.N));
    }

    private static byte[] Fixed256(BigInteger value)
    {
        var bytes = value.ToByteArray(isUnsigned: true, isBigEndian: true);
        var out256 = new byte[256];
        bytes.CopyTo(out256, 256 - bytes.Length);
        return out256;
    }

    private static byte[] Encoding(byte[] digest)
    {
        var em = new byte[256];
        em[1] = 0x01;
        for (int i = 2; i < 256 - 32 - 19 - 1; i++) em[i] = 0xFF;
        Prefix.CopyTo(em, 256 - 32 - 19);
        digest.CopyTo(em, 256 - 32);
        return em;
    }

    [Fact]
    public void Valid_signatures_verify_and_flipped_bits_do_not_as_dotnet_says()
    {
        var random = new Random(20261202);
        int checkedCount = 0;
        foreach (var k in TestKeys.Value)
        {
            var v = VerifierFor(k);
            for (int i = 0; i < MessagesPerKey; i++)
            {
                var message = new byte[random.Next(0, 300)];
                random.NextBytes(message);
                var digest = SHA256.HashData(message);
                var signature = k.Rsa.SignHash(digest, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
                Assert.Equal(Rsa2048Pkcs1Verifier.Valid, Verify(v, signature, digest));
                if (i < 16) Assert.Equal(signature, RawSign(k, Encoding(digest)));   // the encoding is the one .NET signs

                var badSignature = (byte[])signature.Clone();
                badSignature[random.Next(256)] ^= (byte)(1 << random.Next(8));
                Assert.False(DotNet(k, badSignature, digest));
                Assert.NotEqual(Rsa2048Pkcs1Verifier.Valid, Verify(v, badSignature, digest));

                var badDigest = (byte[])digest.Clone();
                badDigest[random.Next(32)] ^= (byte)(1 << random.Next(8));
                Assert.False(DotNet(k, signature, badDigest));
                Assert.Equal(Rsa2048Pkcs1Verifier.DigestMismatch, Verify(v, signature, badDigest));

                var otherKey = TestKeys.Value[(Array.IndexOf(TestKeys.Value, k) + 1) % Keys];
                Assert.NotEqual(Rsa2048Pkcs1Verifier.Valid, Verify(VerifierFor(otherKey), signature, digest));
                checkedCount += 4;
            }
        }
        Assert.Equal(Keys * MessagesPerKey * 4, checkedCount);
    }

    /// <summary>Encoded messages wrong in one part each, signed with the raw private-key operation.</summary>
    public static TheoryData<string> Corruptions => new()
    {
        "first byte 01", "block type 02", "block type 00", "padding byte 0xfe", "padding byte 0x00 early",
        "separator not zero", "sha1 prefix", "prefix without NULL", "prefix length byte", "digest shifted with garbage after",
        "short padding with trailing data", "all zero", "all ff",
    };

    [Theory]
    [MemberData(nameof(Corruptions))]
    public void Every_malformed_encoding_is_bad_padding_and_dotnet_refuses_it_too(string corruption)
    {
        var random = new Random(corruption.Length * 7919);
        foreach (var k in TestKeys.Value)
        {
            var v = VerifierFor(k);
            for (int i = 0; i < 40; i++)
            {
                var digest = new byte[32];
                random.NextBytes(digest);
                var em = Corrupt(Encoding(digest), corruption, random.Next(2, 200));
                if (new BigInteger(em, isUnsigned: true, isBigEndian: true) >= k.N) continue;
                var signature = RawSign(k, em);
                Assert.Equal(Rsa2048Pkcs1Verifier.BadPadding, Verify(v, signature, digest));
                Assert.False(DotNet(k, signature, digest), $"{corruption}: .NET accepts it");
            }
        }
    }

    private static byte[] Corrupt(byte[] em, string how, int at)
    {
        switch (how)
        {
            case "first byte 01": em[0] = 0x01; break;
            case "block type 02": em[1] = 0x02; break;
            case "block type 00": em[1] = 0x00; break;
            case "padding byte 0xfe": em[at] = 0xFE; break;
            case "padding byte 0x00 early": em[at] = 0x00; break;
            case "separator not zero": em[256 - 32 - 19 - 1] = 0x01; break;
            case "sha1 prefix":
                // DigestInfo of SHA-1 with the digest's first 20 bytes, padded out to 256 bytes
                var sha1 = Convert.FromHexString("3021300906052b0e03021a05000414");
                var e = new byte[256];
                e[1] = 1;
                for (int i = 2; i < 256 - 20 - sha1.Length - 1; i++) e[i] = 0xFF;
                sha1.CopyTo(e, 256 - 20 - sha1.Length);
                Array.Copy(em, 256 - 32, e, 256 - 20, 20);
                return e;
            case "prefix without NULL":
                // the DER variant that omits the parameters: 0x30 0x2f 0x30 0x0b ... 0x04 0x20
                var noNull = Convert.FromHexString("302f300b0609608648016503040201" + "0420");
                var f = new byte[256];
                f[1] = 1;
                for (int i = 2; i < 256 - 32 - noNull.Length - 1; i++) f[i] = 0xFF;
                noNull.CopyTo(f, 256 - 32 - noNull.Length);
                Array.Copy(em, 256 - 32, f, 256 - 32, 32);
                return f;
            case "prefix length byte": em[256 - 32 - 19 + 1] = 0x32; break;
            case "digest shifted with garbage after":
                // the digest moved 8 bytes left, garbage after it (the "lax parser" forgery shape)
                Array.Copy(em, 256 - 32 - 19 - 1, em, 256 - 32 - 19 - 1 - 8, 1 + 19 + 32);
                for (int i = 256 - 8; i < 256; i++) em[i] = 0x5A;
                for (int i = 2; i < 256 - 32 - 19 - 1 - 8; i++) em[i] = 0xFF;
                break;
            case "short padding with trailing data":
                Array.Copy(em, 256 - 32 - 19 - 1, em, 10, 1 + 19 + 32);
                for (int i = 10 + 1 + 19 + 32; i < 256; i++) em[i] = (byte)i;
                break;
            case "all zero": Array.Clear(em); break;
            case "all ff": Array.Fill(em, (byte)0xFF); em[0] = 0; break;
        }
        return em;
    }

    [Fact]
    public void Truncated_or_extended_signatures_and_signatures_not_below_the_modulus_are_refused()
    {
        var k = TestKeys.Value[0];
        var v = VerifierFor(k);
        var digest = SHA256.HashData("hekiguest"u8);
        var signature = k.Rsa.SignHash(digest, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        Assert.Equal(Rsa2048Pkcs1Verifier.Valid, Verify(v, signature, digest));
        foreach (int length in new[] { 0, 1, 128, 255 })
        {
            var cut = signature[..length];
            Assert.Equal(Rsa2048Pkcs1Verifier.BadSignatureLength, Verify(v, cut, digest));
            Assert.False(DotNet(k, cut, digest));
        }
        var longer = new byte[257];
        signature.CopyTo(longer, 1);
        Assert.Equal(Rsa2048Pkcs1Verifier.BadSignatureLength, Verify(v, longer, digest));
        Assert.False(DotNet(k, longer, digest));

        // s + n, s = n, s = n + 1 and all ones: congruent or not, none is below n
        var s = new BigInteger(signature, isUnsigned: true, isBigEndian: true);
        foreach (var big in new[] { s + k.N, k.N, k.N + 1, (BigInteger.One << 2048) - 1 })
        {
            if (big >= BigInteger.One << 2048) continue;
            var bytes = Fixed256(big);
            Assert.Equal(Rsa2048Pkcs1Verifier.SignatureOutOfRange, Verify(v, bytes, digest));
            Assert.False(DotNet(k, bytes, digest));
        }
        Assert.Equal(Rsa2048Pkcs1Verifier.NoKey, Verify(new Rsa2048Pkcs1Verifier(), signature, digest));
    }

    [Fact]
    public void Only_an_odd_2048_bit_modulus_is_a_key_and_a_refused_key_forgets_the_old_one()
    {
        var k = TestKeys.Value[0];
        var v = VerifierFor(k);
        var even = (byte[])k.Parameters.Modulus!.Clone();
        even[255] &= 0xFE;
        var short2047 = (byte[])k.Parameters.Modulus!.Clone();
        short2047[0] &= 0x7F;
        foreach (var bad in new[] { even, short2047, k.Parameters.Modulus![..255], new byte[257] })
        {
            fixed (byte* n = bad) Assert.Equal(Rsa2048Pkcs1Verifier.BadKey, v.SetKey(n, bad.Length));
            Assert.False(v.HasKey);
        }
        Assert.Equal(Rsa2048Pkcs1Verifier.BadKey, v.SetKey(null, 256));
        var digest = SHA256.HashData("x"u8);
        Assert.Equal(Rsa2048Pkcs1Verifier.NoKey, Verify(v, k.Rsa.SignHash(digest, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1), digest));
    }
}
