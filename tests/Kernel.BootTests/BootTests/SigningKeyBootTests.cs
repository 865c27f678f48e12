using System.Security.Cryptography;
using Xunit;
using Xunit.Abstractions;

namespace HekiGuest.Tests.Boot;

/// <summary>
/// The kexec signing key the build embeds (mk/kernelsign.mk): the kernel reports the SHA-256 of
/// the modulus it carries, which must be the key under build/keys/ that signed build/kernel.elf.
/// </summary>
public sealed class SigningKeyBootTests(ITestOutputHelper output)
{
    [Fact]
    public async Task The_kernel_reports_the_digest_of_the_build_signing_key()
    {
        var root = KernelArtifacts.FindRepositoryRoot(AppContext.BaseDirectory);
        var modulus = await File.ReadAllBytesAsync(KernelArtifacts.Require(Path.Combine(root, "build", "keys", "signing-key.modulus")));
        Assert.Equal(256, modulus.Length);
        Assert.Equal(256, new FileInfo(KernelArtifacts.Require(Path.Combine(root, "build", "kernel.elf.sig"))).Length);
        var digest = Convert.ToHexString(SHA256.HashData(modulus)).ToLowerInvariant();

        var o = await KernelBoot.BootAsync(GuestHosts.HostSim, BootRequest.Pvh("signing-key", KernelBoot.Deadline, "tests=serial"), output);
        Assert.Equal(GuestExitCodes.AllPassed, o.ExitCode);
        var line = Assert.Single(o.Transcript.Lines, l => l.StartsWith("kexec: signing key", StringComparison.Ordinal));
        Assert.Equal($"kexec: signing key sha256 {digest}", line.TrimEnd('\r'));
    }
}
