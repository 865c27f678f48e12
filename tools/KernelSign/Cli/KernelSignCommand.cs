using System.CommandLine;
using System.Security.Cryptography;

namespace HekiGuest.Tools.KernelSign.Cli;

/// <summary>
/// The kernelsign command line; <see cref="Run"/> is the whole program, usable in-process.
///   kernelsign keygen --dir DIR [--force]          RSA-2048 key pair under DIR (SigningKeys' files)
///   kernelsign sign --key PRIVATE.pem IMAGE [--output SIG]    detached signature, default IMAGE.sig
///   kernelsign verify --key KEY.pem IMAGE [--signature SIG]   exit 0 good, 1 bad
///   kernelsign key-digest --key KEY.pem            the key's SHA-256 (of its modulus), hex
/// Every failure is one line on stderr and an exit code of <see cref="ExitCodes"/>.
/// </summary>
public static class KernelSignCommand
{
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        try
        {
            var root = new RootCommand("kernelsign: RSA-2048 PKCS#1 v1.5 (SHA-256) signatures of HekiGuest guest images")
            {
                Keygen(stdout), Sign(stdout), Verify(stdout, stderr), KeyDigest(stdout),
            };
            ParseResult result = root.Parse(args);
            if (result.Errors.Count > 0)
                return Error(stderr, ExitCodes.Usage, string.Join("; ", result.Errors.Select(e => e.Message)) + " (see --help)");
            return result.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false });
        }
        catch (KernelSignException e)
        {
            return Error(stderr, e.ExitCode, e.Message);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return Error(stderr, ExitCodes.Internal, $"internal error ({e.GetType().Name}): {SigningKeys.OneLine(e.Message)}");
        }
    }

    private static Command Keygen(TextWriter stdout)
    {
        var dir = new Option<string>("--dir") { Description = "Directory for the key files (created if missing)", Required = true, HelpName = "DIR" };
        var force = new Option<bool>("--force") { Description = "Replace an existing key pair" };
        var c = new Command("keygen", "Generate an RSA-2048 signing key pair") { dir, force };
        c.SetAction(parse =>
        {
            string d = parse.GetValue(dir)!;
            string priv = Path.Combine(d, SigningKeys.PrivateKeyFile);
            if (File.Exists(priv) && !parse.GetValue(force))
                throw new KernelSignException(ExitCodes.OutputUnwritable, $"{priv}: exists; keygen never replaces a key without --force");
            using var rsa = SigningKeys.Generate();
            Write(d, null, null);
            Write(priv, null, rsa.ExportPkcs8PrivateKeyPem() + "\n", privateKey: true);
            Write(Path.Combine(d, SigningKeys.PublicKeyFile), null, rsa.ExportSubjectPublicKeyInfoPem() + "\n");
            Write(Path.Combine(d, SigningKeys.ModulusFile), SigningKeys.Modulus(rsa), null);
            stdout.WriteLine($"kernelsign: key pair in {d}, key sha256 {Hex(SigningKeys.KeyDigest(rsa))}");
            return ExitCodes.Ok;
        });
        return c;
    }

    private static Command Sign(TextWriter stdout)
    {
        var key = new Option<string>("--key") { Description = "The private key (PKCS#8 PEM)", Required = true, HelpName = "FILE" };
        var image = new Argument<string>("image") { Description = "The image to sign" };
        var output = new Option<string?>("--output", "-o") { Description = "Signature file (default IMAGE.sig)", HelpName = "FILE" };
        var c = new Command("sign", "Write a detached signature over the SHA-256 of the whole image") { key, image, output };
        c.SetAction(parse =>
        {
            using var rsa = SigningKeys.Load(parse.GetValue(key)!, needPrivate: true);
            string img = parse.GetValue(image)!;
            string sig = parse.GetValue(output) ?? img + ".sig";
            Write(sig, SigningKeys.Sign(rsa, SigningKeys.ImageDigest(img)), null);
            stdout.WriteLine($"kernelsign: signed {img} -> {sig} (key sha256 {Hex(SigningKeys.KeyDigest(rsa))})");
            return ExitCodes.Ok;
        });
        return c;
    }

    private static Command Verify(TextWriter stdout, TextWriter stderr)
    {
        var key = new Option<string>("--key") { Description = "The public (or private) key, PEM", Required = true, HelpName = "FILE" };
        var image = new Argument<string>("image") { Description = "The signed image" };
        var signature = new Option<string?>("--signature") { Description = "Signature file (default IMAGE.sig)", HelpName = "FILE" };
        var c = new Command("verify", "Check a detached signature: exit 0 when good, 1 when not") { key, image, signature };
        c.SetAction(parse =>
        {
            using var rsa = SigningKeys.Load(parse.GetValue(key)!, needPrivate: false);
            string img = parse.GetValue(image)!;
            string sigPath = parse.GetValue(signature) ?? img + ".sig";
            byte[] sig = SigningKeys.ReadBytes(sigPath, 1 << 16);
            if (sig.Length != SigningKeys.SignatureBytes)
                throw new KernelSignException(ExitCodes.BadKey, $"{sigPath}: {sig.Length} bytes; an RSA-2048 signature is {SigningKeys.SignatureBytes}");
            if (!SigningKeys.Verify(rsa, SigningKeys.ImageDigest(img), sig))
                return Error(stderr, ExitCodes.BadSignature, $"{img}: BAD signature {sigPath} for key sha256 {Hex(SigningKeys.KeyDigest(rsa))}");
            stdout.WriteLine($"kernelsign: {img}: good signature by key sha256 {Hex(SigningKeys.KeyDigest(rsa))}");
            return ExitCodes.Ok;
        });
        return c;
    }

    private static Command KeyDigest(TextWriter stdout)
    {
        var key = new Option<string>("--key") { Description = "The public (or private) key, PEM", Required = true, HelpName = "FILE" };
        var c = new Command("key-digest", "Print the key's SHA-256 (of its 256-byte big-endian modulus) in hex") { key };
        c.SetAction(parse =>
        {
            using var rsa = SigningKeys.Load(parse.GetValue(key)!, needPrivate: false);
            stdout.WriteLine(Hex(SigningKeys.KeyDigest(rsa)));
            return ExitCodes.Ok;
        });
        return c;
    }

    private static void Write(string path, byte[]? bytes, string? text, bool privateKey = false)
    {
        try
        {
            if (bytes is null && text is null)
            {
                Directory.CreateDirectory(path);
                return;
            }
            string tmp = path + ".tmp";
            var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
            if (privateKey && !OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            using (var f = new FileStream(tmp, options))
            {
                f.Write(bytes ?? System.Text.Encoding.ASCII.GetBytes(text!));
            }
            File.Move(tmp, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new KernelSignException(ExitCodes.OutputUnwritable, $"cannot write {path}: {SigningKeys.OneLine(e.Message)}");
        }
    }

    private static string Hex(byte[] b) => Convert.ToHexString(b).ToLowerInvariant();

    private static int Error(TextWriter stderr, int code, string message)
    {
        stderr.WriteLine($"kernelsign: error: {message}");
        return code;
    }
}
