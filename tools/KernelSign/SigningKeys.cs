using System.Security.Cryptography;
using HekiGuest.Tools.KernelSign.Cli;

namespace HekiGuest.Tools.KernelSign;

/// <summary>
/// The signing scheme: RSA-2048, public exponent 65537, PKCS#1 v1.5 signatures over the SHA-256
/// of the whole image file (every byte the loader is given: headers, segments, notes, symbols).
/// Keys: the private key as PKCS#8 PEM (<see cref="PrivateKeyFile"/>, mode 0600), the public key
/// as SubjectPublicKeyInfo PEM (<see cref="PublicKeyFile"/>) and as the raw 256-byte big-endian
/// modulus (<see cref="ModulusFile"/>), which is what a guest embeds. The key's digest, the
/// SHA-256 of that modulus, names the key in reports (the kernel prints it at boot).
/// </summary>
public static class SigningKeys
{
    public const int ModulusBytes = 256, SignatureBytes = 256;
    public const string PrivateKeyFile = "signing-key.pem", PublicKeyFile = "signing-key.pub.pem", ModulusFile = "signing-key.modulus";
    public const long MaxImageBytes = 1L << 30, MaxKeyFileBytes = 64 * 1024;
    private static readonly byte[] Exponent65537 = [0x01, 0x00, 0x01];

    public static RSA Generate() => RSA.Create(2048);

    /// <summary>Reads a PEM key file (private or public) as an RSA-2048 key with exponent 65537.</summary>
    public static RSA Load(string path, bool needPrivate)
    {
        string pem = ReadText(path);
        var rsa = RSA.Create();
        try
        {
            rsa.ImportFromPem(pem);
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            rsa.Dispose();
            throw new KernelSignException(ExitCodes.BadKey, $"{path}: not an RSA key in PEM ({OneLine(e.Message)})");
        }
        var p = rsa.ExportParameters(false);
        if (rsa.KeySize != 2048 || p.Modulus is not { Length: ModulusBytes } || !p.Exponent!.AsSpan().SequenceEqual(Exponent65537))
        {
            rsa.Dispose();
            throw new KernelSignException(ExitCodes.BadKey, $"{path}: an RSA-{rsa.KeySize} key with exponent 0x{Convert.ToHexString(p.Exponent ?? [])}; kernelsign uses RSA-2048 with exponent 65537");
        }
        if (needPrivate)
        {
            try
            {
                rsa.ExportParameters(true);
            }
            catch (CryptographicException)
            {
                rsa.Dispose();
                throw new KernelSignException(ExitCodes.BadKey, $"{path}: a public key; signing needs the private key ({PrivateKeyFile})");
            }
        }
        return rsa;
    }

    public static byte[] Modulus(RSA rsa) => rsa.ExportParameters(false).Modulus!;

    public static byte[] KeyDigest(RSA rsa) => SHA256.HashData(Modulus(rsa));

    public static byte[] ImageDigest(string imagePath) => SHA256.HashData(ReadBytes(imagePath, MaxImageBytes));

    public static byte[] Sign(RSA rsa, byte[] digest) => rsa.SignHash(digest, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);

    public static bool Verify(RSA rsa, byte[] digest, byte[] signature) =>
        signature.Length == SignatureBytes && rsa.VerifyHash(digest, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);

    public static byte[] ReadBytes(string path, long max)
    {
        try
        {
            if (Directory.Exists(path)) throw new KernelSignException(ExitCodes.InputUnreadable, $"{path}: is a directory");
            var info = new FileInfo(path);
            if (!info.Exists) throw new KernelSignException(ExitCodes.InputUnreadable, $"{path}: no such file");
            if (info.Length > max) throw new KernelSignException(ExitCodes.InputUnreadable, $"{path}: {info.Length} bytes, more than the {max} accepted");
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new KernelSignException(ExitCodes.InputUnreadable, $"{path}: {OneLine(e.Message)}");
        }
    }

    private static string ReadText(string path) => System.Text.Encoding.ASCII.GetString(ReadBytes(path, MaxKeyFileBytes));

    public static string OneLine(string s) => s.ReplaceLineEndings(" ").Trim();
}
