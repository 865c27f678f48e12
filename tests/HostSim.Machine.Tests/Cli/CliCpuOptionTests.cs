using static Iced.Intel.AssemblerRegisters;

namespace HekiGuest.HostSim.Machine.Tests.Cli;

/// <summary>`hostsim run --cpu MODEL[,+feat,-feat]` and `--cpu help`: the guest sees the model's
/// CPUID, with the host profile's hypervisor leaves composed on top; bad input is one line, exit code 2.</summary>
public sealed class CliCpuOptionTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"hostsim-cli-cpu-{Guid.NewGuid():N}");

    public CliCpuOptionTests() => Directory.CreateDirectory(_root);

    /// <summary>Writes the low byte of CPUID(leaf).EBX to debug-exit: exit code (byte &lt;&lt; 1) | 1.</summary>
    private string CpuidEbxByte(uint leaf)
    {
        string path = Path.Combine(_root, $"leaf{leaf:x}.elf");
        File.WriteAllBytes(path, CliGuests.Kernel(a =>
        {
            a.mov(eax, leaf);
            a.xor(ecx, ecx);
            a.cpuid();
            a.mov(eax, ebx);
            a.@out(0xF4, al);
            a.hlt();
        }));
        return path;
    }

    private static int ExitFor(char c) => (c << 1) | 1;

    [Theory]
    [InlineData(null, 'G')]                 // default: Icelake-Server, GenuineIntel
    [InlineData("EPYC", 'A')]
    [InlineData("qemu64,-sep", 'A')]
    [InlineData("haswell,+smap,smep=off", 'G')]
    public void The_guest_sees_the_vendor_of_the_model(string? cpu, char vendorFirst)
    {
        string[] args = cpu is null ? ["run", CpuidEbxByte(0), "--quiet"] : ["run", CpuidEbxByte(0), "--cpu", cpu, "--quiet"];
        var r = HostSimProcess.Run(args);
        Assert.True(r.ExitCode == ExitFor(vendorFirst), r.ToString());
    }

    [Theory]
    [InlineData("heki", 'K')]               // KVMKVMKVM at 0x40000000
    [InlineData("vsm", 'M')]                // Microsoft Hv
    public void Host_profiles_add_their_leaves_on_top_of_the_model(string profile, char signatureFirst)
    {
        var r = HostSimProcess.Run("run", CpuidEbxByte(0x40000000), "--cpu", "EPYC-Rome", "--profile", profile, "--quiet");
        Assert.True(r.ExitCode == ExitFor(signatureFirst), r.ToString());
        var vendor = HostSimProcess.Run("run", CpuidEbxByte(0), "--cpu", "EPYC-Rome", "--profile", profile, "--quiet");
        Assert.True(vendor.ExitCode == ExitFor('A'), vendor.ToString());
    }

    [Theory]
    [InlineData("run", "--cpu", "help")]
    [InlineData("run", "--cpu=help")]
    [InlineData("run", "kernel-not-needed.elf", "--cpu", "help")]
    public void Cpu_help_lists_the_models_and_features_without_a_kernel(params string[] args)
    {
        var r = HostSimProcess.Run(args);
        Assert.True(r.ExitCode == 0, r.ToString());
        foreach (string name in new[] { "qemu64", "Haswell", "Icelake-Server", "EPYC-Milan", "GenuineIntel", "AuthenticAMD", "sep", "smap" })
        {
            Assert.Contains(name, r.Stdout);
        }
        Assert.Equal("", r.Stderr);
    }

    [Theory]
    [InlineData("unknown CPU model 'pentium9'", "pentium9")]
    [InlineData("needs a model name", "")]
    [InlineData("needs a model name", ",+sep")]
    [InlineData("'avx' is not implemented by hostsim's CPU core", "Haswell,+avx")]
    [InlineData("unknown CPU feature 'warp-drive'", "Haswell,+warp-drive")]
    [InlineData("xsavec requires xsave", "Skylake-Client,-xsave,+xsavec")]
    [InlineData("is not +FEATURE, -FEATURE, FEATURE=on or FEATURE=off", "Haswell,sep")]
    [InlineData("is not +FEATURE, -FEATURE, FEATURE=on or FEATURE=off", "Haswell,sep=maybe")]
    public void Bad_cpu_input_is_one_error_line_and_exit_code_2(string expected, string cpu)
    {
        var r = HostSimProcess.Run("run", CpuidEbxByte(0), "--cpu", cpu);
        Assert.True(r.ExitCode == 2, r.ToString());
        string line = Assert.Single(r.StderrLines);
        Assert.StartsWith("hostsim: error: --cpu", line);
        Assert.Contains(expected, line);
        Assert.Equal("", r.Stdout);
    }

    public void Dispose()
    {
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }
}
