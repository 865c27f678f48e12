using System.Text;

namespace HekiGuest.Tests.Boot;

/// <summary>Boots the kernel under qemu-system-x86_64 (TCG unless HEKI_QEMU_ACCEL=kvm).</summary>
public sealed class QemuHost : IGuestHost
{
    private readonly HarnessSettings settings;
    private readonly KernelArtifacts artifacts;
    private readonly string logRoot;

    /// <summary>Creates a host that boots <paramref name="artifacts"/> and keeps logs under <paramref name="logRoot"/>.</summary>
    public QemuHost(HarnessSettings settings, KernelArtifacts artifacts, string? logRoot = null)
    {
        this.settings = settings ?? throw new ArgumentNullException(nameof(settings));
        this.artifacts = artifacts ?? throw new ArgumentNullException(nameof(artifacts));
        this.logRoot = logRoot ?? BootLogDirectory.DefaultRoot;
    }

    /// <summary>The host for this checkout, configured from the environment.</summary>
    public static QemuHost FromEnvironment() =>
        new(HarnessSettings.FromEnvironment(), KernelArtifacts.ForThisRepository());

    /// <inheritdoc />
    public string Name => "qemu";

    /// <inheritdoc />
    public bool Supports(BootMedium medium) => medium is BootMedium.Pvh or BootMedium.Iso;

    /// <inheritdoc />
    public async Task<BootOutcome> BootAsync(BootRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);

        var logDirectory = BootLogDirectory.Prepare(logRoot, Name, request.Label);
        var serialLog = Path.Combine(logDirectory, "serial.log");
        var arguments = QemuCommandLine.Build(settings.Accelerator, artifacts, request, serialLog, settings.OvmfFirmware);
        var binary = ExecutableLookup.Find(settings.QemuBinary, Environment.GetEnvironmentVariable("PATH"))
            ?? throw new BootSetupException(
                $"QEMU binary '{settings.QemuBinary}' not found: run make deps (installs qemu-system-x86) or set {HarnessSettings.QemuVariable}");
        var invocation = ShellQuoting.Join(binary, arguments);

        ProcessRunResult run;
        using (await BootSlots.AcquireAsync(cancellationToken).ConfigureAwait(false))
        {
            run = await DeadlineProcessRunner.RunAsync(binary, arguments, request.Deadline, cancellationToken)
                .ConfigureAwait(false);
        }

        var serialText = File.Exists(serialLog) ? await ReadSharedAsync(serialLog, cancellationToken).ConfigureAwait(false) : string.Empty;
        var diagnostics = StaleIsoNote(request) + JoinHostOutput(run);
        await File.WriteAllTextAsync(
                Path.Combine(logDirectory, "host.log"),
                $"$ {invocation}\n{diagnostics}\nexit: {(run.TimedOut ? "killed at deadline" : run.ExitCode?.ToString())}\n",
                cancellationToken)
            .ConfigureAwait(false);

        return new BootOutcome(
            Name, request, invocation, run.ExitCode, run.TimedOut, run.Elapsed, serialText, diagnostics, serialLog);
    }

    /// <summary>A hint when the ISO predates the kernel ELF: an ISO boot then tests an old kernel.</summary>
    private string StaleIsoNote(BootRequest request)
    {
        if (request.Medium != BootMedium.Iso
            || !File.Exists(artifacts.KernelElf)
            || File.GetLastWriteTimeUtc(artifacts.Iso) >= File.GetLastWriteTimeUtc(artifacts.KernelElf))
        {
            return string.Empty;
        }

        return $"harness: {artifacts.Iso} is older than {artifacts.KernelElf}; it boots an older kernel (run make)\n";
    }

    private static async Task<string> ReadSharedAsync(string path, CancellationToken cancellationToken)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return await reader.ReadToEndAsync(cancellationToken).ConfigureAwait(false);
    }

    private static string JoinHostOutput(ProcessRunResult run)
    {
        var builder = new StringBuilder();
        if (run.StandardOutput.Length > 0)
        {
            builder.Append("stdout:\n").Append(run.StandardOutput.TrimEnd()).Append('\n');
        }

        if (run.StandardError.Length > 0)
        {
            builder.Append("stderr:\n").Append(run.StandardError.TrimEnd()).Append('\n');
        }

        return builder.ToString();
    }
}
