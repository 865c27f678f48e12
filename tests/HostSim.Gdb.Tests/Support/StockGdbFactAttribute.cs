namespace HekiGuest.HostSim.Gdb.Tests.Support;

/// <summary>A fact that needs Debian's gdb at /usr/bin/gdb; skipped, with the reason, when it is not installed.</summary>
public sealed class StockGdbFactAttribute : FactAttribute
{
    public const string Gdb = "/usr/bin/gdb";

    public StockGdbFactAttribute()
    {
        if (!File.Exists(Gdb)) Skip = "/usr/bin/gdb is not installed (make deps-gdb installs Debian's gdb; CI has it)";
    }
}
