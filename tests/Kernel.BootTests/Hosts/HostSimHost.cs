using System.Text;

namespace HekiGuest.Tests.Boot;

/// <summary>
/// Boots build/kernel.elf on the bundled simulator (build/hostsim/hostsim.dll, built by make):
/// multiboot2 entry, the test module as a module, guest serial from hostsim's stdout. hostsim
/// follows QEMU's debug-exit convention, so exit codes mean the same; its own stops are
/// 70 triple fault, 71 unimplemented instruction, 72 halted forever, 73 stopped on a denial,
/// 124 timeout. The host's HekiGuest events are written to events.jsonl beside the serial log.
/// </summary>
public sealed class HostSimHost : IGuestHost
{
    public const int TripleFaultExitCode = 70;
    public const int DeniedExitCode = 73;
    public const int TimeoutExitCode = 124;
    private static readonly TimeSpan KillGrace = TimeSpan.FromSeconds(10);

    private readonly KernelArtifacts artifacts;
    private readonly string hostsimDll;
    private readonly string logRoot;

    public HostSimHost(KernelArtifacts artifacts, string hostsimDll, string? logRoot = null)
    {
        this.artifacts = artifacts;
        this.hostsimDll = hostsimDll;
        this.logRoot = logRoot ?? BootLogDirectory.DefaultRoot;
    }

    public static HostSimHost FromEnvironment()
    {
        var root = KernelArtifacts.FindRepositoryRoot(AppContext.BaseDirectory);
        return new HostSimHost(KernelArtifacts.InRepository(root), Path.Combine(root, "build", "hostsim", "hostsim.dll"));
    }

    public string Name => GuestHosts.HostSim;

    public bool Supports(BootMedium medium) => medium == BootMedium.Pvh;

    public async Task<BootOutcome> BootAsync(BootRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Medium != BootMedium.Pvh)
        {
            throw new BootSetupException("hostsim boots the kernel ELF, not the ISO");
        }

        var logDirectory = BootLogDirectory.Prepare(logRoot, Name, request.Label);
        var arguments = new List<string>
        {
            KernelArtifacts.Require(hostsimDll), "run", KernelArtifacts.Require(artifacts.KernelElf),
            "--cmdline", request.KernelCommandLine ?? BootRequest.DefaultCommandLine,
            // hostsim enforces the deadline itself, so a hang ends with its report (registers,
            // last instructions); the harness kills it only if that fails.
            "--timeout", $"{request.Deadline.TotalSeconds:0.###}s",
        };
        if (!request.WithoutModule)
        {
            arguments.AddRange(["--module", KernelArtifacts.Require(artifacts.TestModule) + "=testmodule"]);
        }

        // Every boot keeps the host's HekiGuest events (configure, denial) beside its serial log.
        var eventsLog = Path.Combine(logDirectory, "events.jsonl");
        arguments.AddRange(["--events", eventsLog]);
        arguments.AddRange(request.HostSimArguments);

        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } hostPath ? hostPath : "dotnet";
        var invocation = ShellQuoting.Join(dotnet, arguments);
        ProcessRunResult run;
        using (await BootSlots.AcquireAsync(cancellationToken).ConfigureAwait(false))
        {
            run = await DeadlineProcessRunner.RunAsync(dotnet, arguments, request.Deadline + KillGrace, cancellationToken).ConfigureAwait(false);
        }

        // hostsim's own timeout (exit 124) is the deadline striking, as a kill is for QEMU.
        bool timedOut = run.TimedOut || run.ExitCode == TimeoutExitCode;
        int? exitCode = timedOut ? null : run.ExitCode;

        var serialLog = Path.Combine(logDirectory, "serial.log");
        await File.WriteAllTextAsync(serialLog, run.StandardOutput, cancellationToken).ConfigureAwait(false);
        var diagnostics = run.StandardError.Length > 0 ? "stderr:\n" + run.StandardError.TrimEnd() + "\n" : string.Empty;
        await File.WriteAllTextAsync(
                Path.Combine(logDirectory, "host.log"),
                $"$ {invocation}\n{diagnostics}\nexit: {(run.TimedOut ? "killed at deadline" : run.ExitCode?.ToString())}\n",
                Encoding.UTF8,
                cancellationToken)
            .ConfigureAwait(false);
        return new BootOutcome(Name, request, invocation, exitCode, timedOut, run.Elapsed, run.StandardOutput, diagnostics, serialLog)
        {
            EventsLogPath = File.Exists(eventsLog) ? eventsLog : null,
        };
    }
}
