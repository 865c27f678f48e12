using HekiGuest.HostSim.Cpu;

namespace HekiGuest.HostSim.Machine.Execution;

/// <summary>Asks the host filter before every WRMSR reaches the hook installed before it (or the
/// core); reads pass through unchanged.</summary>
internal sealed class FilteredMsrHook(IRegisterWriteFilter filter, IMsrHook? next) : IMsrHook
{
    public MsrResult Read(Cpu.Cpu cpu, uint msr, out ulong value)
    {
        if (next is not null) return next.Read(cpu, msr, out value);
        value = 0;
        return MsrResult.NotHandled;
    }

    public MsrResult Write(Cpu.Cpu cpu, uint msr, ulong value)
    {
        if (!filter.AllowMsrWrite(msr, value, cpu.CurrentInstructionRip)) return MsrResult.GeneralProtection;
        return next is null ? MsrResult.NotHandled : next.Write(cpu, msr, value);
    }
}
