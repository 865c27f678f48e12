using System.Globalization;
using System.Text;

namespace HekiGuest.Tests.Boot;

/// <summary>
/// A stand-in for qemu-system-x86_64: a bash script that finds the <c>-serial file:PATH</c>
/// argument, writes canned guest output there, records its arguments, then sleeps, forks a
/// child, writes to stderr and exits as told. Lets the runner be tested without a kernel.
/// </summary>
internal sealed class FakeQemu
{
    private FakeQemu(string scriptPath, string argumentsFile, string childPidFile)
    {
        ScriptPath = scriptPath;
        ArgumentsFile = argumentsFile;
        ChildPidFile = childPidFile;
    }

    public string ScriptPath { get; }

    /// <summary>The arguments of the last run, one per line.</summary>
    public string ArgumentsFile { get; }

    /// <summary>PID of the background child a hanging fake forks.</summary>
    public string ChildPidFile { get; }

    public IReadOnlyList<string> RecordedArguments() => File.ReadAllLines(ArgumentsFile);

    public static FakeQemu Create(
        TempDirectory directory,
        string serialOutput,
        int exitCode,
        double sleepSeconds = 0,
        bool hangWithChild = false,
        string? stderr = null)
    {
        var name = "fake-qemu-" + Guid.NewGuid().ToString("N")[..8];
        var cannedFile = directory.Combine(name + ".serial");
        var argumentsFile = directory.Combine(name + ".args");
        var childPidFile = directory.Combine(name + ".child");
        File.WriteAllText(cannedFile, serialOutput);

        var script = new StringBuilder();
        script.Append("#!/bin/bash\n");
        script.Append("serial=''; prev=''\n");
        script.Append("for a in \"$@\"; do [ \"$prev\" = -serial ] && serial=\"${a#file:}\"; prev=\"$a\"; done\n");
        script.Append(CultureInfo.InvariantCulture, $"printf '%s\\n' \"$@\" > {Quote(argumentsFile)}\n");
        script.Append("[ -n \"$serial\" ] || { echo 'fake qemu: no -serial file:' >&2; exit 99; }\n");
        script.Append(CultureInfo.InvariantCulture, $"cat {Quote(cannedFile)} > \"$serial\"\n");
        if (stderr is not null)
        {
            script.Append(CultureInfo.InvariantCulture, $"echo {Quote(stderr)} >&2\n");
        }

        if (sleepSeconds > 0)
        {
            script.Append(CultureInfo.InvariantCulture, $"sleep {sleepSeconds.ToString("0.###", CultureInfo.InvariantCulture)}\n");
        }

        if (hangWithChild)
        {
            script.Append("sleep 300 &\n");
            script.Append(CultureInfo.InvariantCulture, $"echo $! > {Quote(childPidFile)}\n");
            script.Append("wait\n");
        }

        script.Append(CultureInfo.InvariantCulture, $"exit {exitCode}\n");

        var scriptPath = directory.Combine(name + ".sh");
        File.WriteAllText(scriptPath, script.ToString());
        File.SetUnixFileMode(scriptPath, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return new FakeQemu(scriptPath, argumentsFile, childPidFile);
    }

    /// <summary>Empty kernel.elf, hekiguest.iso and testmodule.bin in <paramref name="directory"/>/build.</summary>
    public static KernelArtifacts CreateArtifacts(TempDirectory directory)
    {
        var artifacts = KernelArtifacts.InRepository(directory.Path);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(artifacts.KernelElf)!);
        File.WriteAllText(artifacts.KernelElf, string.Empty);
        File.WriteAllText(artifacts.Iso, string.Empty);
        File.WriteAllText(artifacts.TestModule, string.Empty);
        return artifacts;
    }

    public QemuHost Host(KernelArtifacts artifacts, TempDirectory logs, QemuAccelerator accelerator = QemuAccelerator.Tcg) =>
        new(new HarnessSettings(ScriptPath, accelerator, TimeSpan.FromSeconds(30)), artifacts, logs.Combine("logs"));

    private static string Quote(string text) => ShellQuoting.Quote(text);
}
