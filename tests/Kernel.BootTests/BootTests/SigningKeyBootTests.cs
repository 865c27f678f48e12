using System.Security.Cryptography;
using Xunit;
using Xunit.Abstractions;

namespace HekiGuest.Tests.Boot;

/// <summary>
/// What the kernel reports at boot for kexec (docs/vtl.md section 16): the SHA-256 of the signing
/// key's modulus it carries, which must be the key under build/keys/ that signed build/kernel.elf;
/// its own kexec marker, read back from its note section by the guest-side note reader; and the
/// policy for unmarked targets from kexec.unmarked=.
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

    [Theory]
    [InlineData("", "kexec: unmarked targets: refused while protections are on")]
    [InlineData("kexec.unmarked=drop-protections", "kexec: unmarked targets: allowed, dropping the protections")]
    [InlineData("kexec.unmarked=sometimes", "kexec: kexec.unmarked=sometimes is neither refuse nor drop-protections; keeping refuse")]
    public async Task The_kernel_reads_its_own_kexec_marker_and_reports_the_policy_for_unmarked_targets(string option, string policyLine)
    {
        var o = await KernelBoot.BootAsync(GuestHosts.HostSim, BootRequest.Pvh("kexec-marker", KernelBoot.Deadline, $"tests=serial {option}"), output);
        Assert.Equal(GuestExitCodes.AllPassed, o.ExitCode);
        var lines = o.Transcript.Lines.Select(l => l.TrimEnd('\r')).ToList();
        Assert.Contains("kexec: own marker version 1, flags 0x3, re-arms CR pins early, starts VTL1 early", lines);
        Assert.Contains(policyLine, lines);
    }
}
