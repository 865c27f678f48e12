namespace HekiGuest.HostSim.Machine.Tests.Cli;

/// <summary>
/// Every kind of bad input to `hostsim run` is one line on stderr starting "hostsim: error:",
/// exit code 2, nothing on stdout and no stack trace.
/// </summary>
public sealed class CliUsageErrorTests(CliFiles files) : IClassFixture<CliFiles>
{
    [Theory]
    [InlineData("not an ELF", "run", "{notelf}")]
    [InlineData("cannot read kernel file", "run", "{missing}")]
    [InlineData("cannot read module file", "run", "{hi}", "--module", "{missing}")]
    [InlineData("cannot read module file", "run", "{hi}", "--module", "{missing}=name")]
    [InlineData("unparsable size 'lots'", "run", "{hi}", "--memory", "lots")]
    [InlineData("unparsable size '128MB'", "run", "{hi}", "--memory", "128MB")]
    [InlineData("between 2M and 16G", "run", "{hi}", "--memory", "1M")]
    [InlineData("between 2M and 16G", "run", "{hi}", "--memory", "32G")]
    [InlineData("multiple of 4 KiB", "run", "{hi}", "--memory", "4194305")]
    [InlineData("unparsable duration 'soon'", "run", "{hi}", "--timeout", "soon")]
    [InlineData("unparsable duration '0s'", "run", "{hi}", "--timeout", "0s")]
    [InlineData("--max-instructions must be positive", "run", "{hi}", "--max-instructions", "0")]
    [InlineData("--max-instructions must be positive", "run", "{hi}", "--max-instructions", "-5")]
    [InlineData("abc", "run", "{hi}", "--max-instructions", "abc")]
    [InlineData("--boot bogus: expected auto, multiboot2, pvh or multiboot1", "run", "{hi}", "--boot", "bogus")]
    [InlineData("--profile bogus: expected one of", "run", "{hi}", "--profile", "bogus")]
    [InlineData("--on-denial bogus: expected inject, stop or ask", "run", "{hi}", "--on-denial", "bogus")]
    [InlineData("--pin cr3=1: expected cr0=MASK or cr4=MASK", "run", "{hi}", "--pin", "cr3=1")]
    [InlineData("--pin cr0: expected cr0=MASK or cr4=MASK", "run", "{hi}", "--pin", "cr0")]
    [InlineData("--pin cr4=0x20: bits 0x20 cannot be pinned", "run", "{hi}", "--pin", "cr4=0x20")]
    [InlineData("--pin cr0=zz: 'zz' is not a non-zero number", "run", "{hi}", "--pin", "cr0=zz")]
    [InlineData("--pin cr0=0: '0' is not a non-zero number", "run", "{hi}", "--pin", "cr0=0")]
    [InlineData("--pin needs a host interface", "run", "{hi}", "--profile", "none", "--pin", "cr0=0x10000")]
    [InlineData("--pin needs the HekiGuest interface", "run", "{hi}", "--profile", "vsm", "--pin", "cr0=0x10000")]
    [InlineData("--show-vtl1 needs --profile vsm (the only profile with a VTL1; the policy key vtl1-debug is the same opt-in)", "run", "{hi}", "--profile", "heki", "--show-vtl1")]
    [InlineData("cannot write trace file", "run", "{hi}", "--trace", "{nodir}")]
    [InlineData("cannot write events file", "run", "{hi}", "--events", "{nodir}")]
    [InlineData("no PVH entry note", "run", "{hi}", "--boot", "pvh")]
    [InlineData("no multiboot2 header", "run", "{hi}", "--boot", "multiboot2")]
    [InlineData("modules do not fit", "run", "{hi}", "--memory", "2M", "--module", "{huge}")]
    [InlineData("--bogus", "run", "{hi}", "--bogus")]
    [InlineData("Required argument missing", "run")]
    public void Bad_input_is_one_error_line_and_exit_code_2(string expected, params string[] args)
    {
        var r = HostSimProcess.Run(files.Expand(args));
        Assert.True(r.ExitCode == 2, r.ToString());
        string[] lines = r.StderrLines;
        Assert.True(lines.Length == 1, r.ToString());
        Assert.StartsWith("hostsim: error: ", lines[0]);
        Assert.Contains(expected, lines[0]);
        Assert.DoesNotContain("Exception", r.Stderr);
        Assert.DoesNotContain("   at ", r.Stderr);
        Assert.Equal("", r.Stdout);
    }

    [Fact]
    public void The_error_line_names_the_missing_file()
    {
        var r = HostSimProcess.Run("run", files.Missing);
        Assert.Contains(files.Missing, r.StderrLines.Single());
    }

    [Fact]
    public void Valid_options_of_the_same_kinds_are_accepted()
    {
        // The same options with good values boot the guest: the errors above are about the values.
        var r = HostSimProcess.Run("run", files.Hi, "--memory", "4096K", "--timeout", "30s", "--max-instructions", "100000",
            "--boot", "multiboot1", "--profile", "cr-pin-2020", "--on-denial", "stop", "--pin", "cr0=0x10000,cr4=0x100000",
            "--module", files.SmallModule + "=mod args", "--cmdline", "a b c", "--quiet");
        Assert.True(r.ExitCode == 1, r.ToString());
        Assert.Equal("hi", r.Stdout);
        Assert.Equal("", r.Stderr);
    }
}
