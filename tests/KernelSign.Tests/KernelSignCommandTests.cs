using System.Security.Cryptography;
using HekiGuest.Sdk;
using HekiGuest.Tools.KernelSign;
using HekiGuest.Tools.KernelSign.Cli;

namespace HekiGuest.Tools.KernelSign.Tests;

/// <summary>kernelsign as the Makefile runs it: keygen, sign, verify, key-digest; each bad input
/// one line with its own exit code; and the guest's verifier accepts what sign writes.</summary>
public sealed unsafe class KernelSignCommandTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("kernelsign-tests-");
    private string P(string name) => Path.Combine(_dir.FullName, name);

    private (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = KernelSignCommand.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    private string KeyDir()
    {
        string keys = P("keys");
        Assert.Equal(0, Run("keygen", "--dir", keys).Code);
        return keys;
    }

    private string Text(string name, string text)
    {
        File.WriteAllText(P(name), text);
        return P(name);
    }

    private string Image(string name = "kernel.elf", int size = 100_000)
    {
        var bytes = new byte[size];
        new Random(size).NextBytes(bytes);
        File.WriteAllBytes(P(name), bytes);
        return P(name);
    }

    [Fact]
    public void Keygen_sign_verify_round_trip_and_the_guest_verifier_agrees()
    {
        string keys = KeyDir();
        string priv = Path.Combine(keys, SigningKeys.PrivateKeyFile), pub = Path.Combine(keys, SigningKeys.PublicKeyFile);
        if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(priv));
        byte[] modulus = File.ReadAllBytes(Path.Combine(keys, SigningKeys.ModulusFile));
        Assert.Equal(256, modulus.Length);

        string image = Image();
        var sign = Run("sign", "--key", priv, image);
        Assert.Equal(0, sign.Code);
        byte[] signature = File.ReadAllBytes(image + ".sig");
        Assert.Equal(256, signature.Length);

        var verify = Run("verify", "--key", pub, image);
        Assert.Equal(0, verify.Code);
        var digest = Run("key-digest", "--key", pub);
        Assert.Equal(Convert.ToHexString(SHA256.HashData(modulus)).ToLowerInvariant() + "\n", digest.Out.ReplaceLineEndings("\n"));
        Assert.Contains("good signature by key sha256 " + digest.Out.Trim(), verify.Out);

        // the guest's code, given the modulus file and the image's SHA-256, says the same
        var guest = new Rsa2048Pkcs1Verifier();
        byte[] imageDigest = SHA256.HashData(File.ReadAllBytes(image));
        fixed (byte* n = modulus) Assert.Equal(Rsa2048Pkcs1Verifier.Valid, guest.SetKey(n, modulus.Length));
        fixed (byte* s = signature)
        fixed (byte* d = imageDigest)
            Assert.Equal(Rsa2048Pkcs1Verifier.Valid, guest.Verify(s, signature.Length, d));
    }

    [Fact]
    public void A_changed_image_or_signature_or_another_key_is_a_bad_signature_exit_1()
    {
        string keys = KeyDir();
        string priv = Path.Combine(keys, SigningKeys.PrivateKeyFile), pub = Path.Combine(keys, SigningKeys.PublicKeyFile);
        string image = Image();
        Assert.Equal(0, Run("sign", "--key", priv, image).Code);
        byte[] original = File.ReadAllBytes(image);

        var changed = (byte[])original.Clone();
        changed[54321] ^= 0x01;
        File.WriteAllBytes(image, changed);
        var r = Run("verify", "--key", pub, image);
        Assert.Equal(ExitCodes.BadSignature, r.Code);
        Assert.Single(r.Err.Trim().Split('\n'));
        Assert.StartsWith($"kernelsign: error: {image}: BAD signature", r.Err);

        File.WriteAllBytes(image, original);
        byte[] sig = File.ReadAllBytes(image + ".sig");
        sig[100] ^= 0x80;
        File.WriteAllBytes(P("flipped.sig"), sig);
        Assert.Equal(ExitCodes.BadSignature, Run("verify", "--key", pub, image, "--signature", P("flipped.sig")).Code);

        Assert.Equal(0, Run("keygen", "--dir", P("other")).Code);
        Assert.Equal(ExitCodes.BadSignature, Run("verify", "--key", Path.Combine(P("other"), SigningKeys.PublicKeyFile), image).Code);
        Assert.Equal(0, Run("verify", "--key", pub, image).Code);
    }

    [Fact]
    public void Bad_input_is_one_line_with_a_distinct_exit_code()
    {
        string keys = KeyDir();
        string priv = Path.Combine(keys, SigningKeys.PrivateKeyFile), pub = Path.Combine(keys, SigningKeys.PublicKeyFile);
        string image = Image();

        var cases = new (string[] Args, int Code, string Text)[]
        {
            (["sign", "--key", priv, P("missing.elf")], ExitCodes.InputUnreadable, "no such file"),
            (["sign", "--key", P("missing.pem"), image], ExitCodes.InputUnreadable, "no such file"),
            (["sign", "--key", pub, image], ExitCodes.BadKey, "a public key; signing needs the private key"),
            (["sign", "--key", Text("garbage.pem", "not a key"), image], ExitCodes.BadKey, "not an RSA key in PEM"),
            (["sign", "--key", image, image], ExitCodes.InputUnreadable, "more than the 65536 accepted"),
            (["keygen", "--dir", keys], ExitCodes.OutputUnwritable, "keygen never replaces a key without --force"),
            (["verify", "--key", pub, image, "--signature", Image("short.sig", 255)], ExitCodes.BadKey, "255 bytes; an RSA-2048 signature is 256"),
            (["verify", "--key", pub, image], ExitCodes.InputUnreadable, "kernel.elf.sig: no such file"),
            (["sign", "--bogus"], ExitCodes.Usage, "(see --help)"),
            (["frobnicate"], ExitCodes.Usage, "(see --help)"),
        };
        foreach (var (args, code, text) in cases)
        {
            var r = Run(args);
            Assert.True(code == r.Code, $"{string.Join(' ', args)}: exit {r.Code}, want {code}: {r.Err}");
            Assert.Single(r.Err.Trim().Split('\n'));
            Assert.StartsWith("kernelsign: error: ", r.Err);
            Assert.Contains(text, r.Err);
        }

        using var small = RSA.Create(1024);
        File.WriteAllText(P("small.pem"), small.ExportPkcs8PrivateKeyPem());
        var s = Run("sign", "--key", P("small.pem"), image);
        Assert.Equal(ExitCodes.BadKey, s.Code);
        Assert.Contains("RSA-1024", s.Err);
    }

    public void Dispose() => _dir.Delete(recursive: true);
}
