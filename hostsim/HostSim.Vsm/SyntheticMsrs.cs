using HekiGuest.Abi;
using HekiGuest.HostSim.Cpu;

namespace HekiGuest.HostSim.Vsm;

/// <summary>
/// The Hyper-V synthetic MSRs this profile offers (docs/vtl.md section 2): GUEST_OS_ID,
/// HYPERCALL (enabling it writes the hypercall page into guest RAM), VP_INDEX (read-only 0) and
/// VP_ASSIST_PAGE. A malformed write (reserved bits, a page outside RAM, a write to VP_INDEX) is
/// #GP(0) with the MSR unchanged. Every other MSR goes to the hook installed before this one, or
/// to the CPU.
/// </summary>
public sealed class SyntheticMsrs(VsmHost host, IMsrHook? next) : IMsrHook
{
    /// <summary>HYPERCALL and VP_ASSIST_PAGE bits 11:1: reserved here (bit 1 of HYPERCALL is the
    /// TLFS's "locked" bit, which hostsim does not offer).</summary>
    public const ulong ReservedPageMsrBits = 0xFFEUL;

    public ulong GuestOsId { get; private set; }
    public ulong HypercallMsr { get; private set; }
    public ulong VpAssistPageMsr { get; private set; }

    /// <summary>Hypercalls are available: the hypercall page is enabled (which needs a non-zero guest OS id).</summary>
    public bool HypercallsEnabled => (HypercallMsr & HvMsr.Enable) != 0;

    public MsrResult Read(Cpu.Cpu cpu, uint msr, out ulong value)
    {
        switch (msr)
        {
            case HvMsr.GuestOsId: value = GuestOsId; return MsrResult.Handled;
            case HvMsr.Hypercall: value = HypercallMsr; return MsrResult.Handled;
            case HvMsr.VpIndex: value = VsmHost.VpIndex; return MsrResult.Handled;
            case HvMsr.VpAssistPage: value = VpAssistPageMsr; return MsrResult.Handled;
        }
        value = 0;
        return next?.Read(cpu, msr, out value) ?? MsrResult.NotHandled;
    }

    public MsrResult Write(Cpu.Cpu cpu, uint msr, ulong value)
    {
        switch (msr)
        {
            case HvMsr.GuestOsId:
                GuestOsId = value;
                if (value == 0)
                {
                    // clearing the guest OS id turns hypercalls off again (docs/vtl.md section 2)
                    HypercallMsr &= ~HvMsr.Enable;
                }
                else
                {
                    host.Configured(VsmSetupStep.GuestOsIdSet, cpu.CurrentInstructionRip, value);
                }
                return MsrResult.Handled;
            case HvMsr.Hypercall:
                return WriteHypercall(cpu, value);
            case HvMsr.VpIndex:
                return MsrResult.GeneralProtection;
            case HvMsr.VpAssistPage:
                if ((value & ReservedPageMsrBits) != 0 || !host.IsRamPage(value & HvMsr.PageNumberMask)) return MsrResult.GeneralProtection;
                // the host writes this page: only one the writing VTL may write itself
                if ((value & HvMsr.Enable) != 0 && !host.CurrentVtlMay(value & HvMsr.PageNumberMask, write: true)) return MsrResult.GeneralProtection;
                VpAssistPageMsr = value;
                if ((value & HvMsr.Enable) != 0) host.Configured(VsmSetupStep.VpAssistPageEnabled, cpu.CurrentInstructionRip, value);
                return MsrResult.Handled;
        }
        // a write VTL1 intercepts does not happen: #GP, which the host exit to VTL1 discards
        if (host.RegisterIntercepts.InterceptsMsrWrite(cpu, msr, value)) return MsrResult.GeneralProtection;
        return next?.Write(cpu, msr, value) ?? MsrResult.NotHandled;
    }

    private MsrResult WriteHypercall(Cpu.Cpu cpu, ulong value)
    {
        ulong page = value & HvMsr.PageNumberMask;
        if ((value & ReservedPageMsrBits) != 0 || !host.IsRamPage(page)) return MsrResult.GeneralProtection;
        if ((value & HvMsr.Enable) != 0 && !host.CurrentVtlMay(page, write: true)) return MsrResult.GeneralProtection;
        if (GuestOsId == 0)
        {
            // the TLFS enables the hypercall page only once the guest has identified itself:
            // the address is kept, the enable bit stays clear and nothing is written
            value &= ~HvMsr.Enable;
        }
        HypercallMsr = value;
        if ((value & HvMsr.Enable) != 0)
        {
            host.WriteHypercallPage(page);
            host.Configured(VsmSetupStep.HypercallPageEnabled, cpu.CurrentInstructionRip, value);
        }
        return MsrResult.Handled;
    }

    /// <summary>VM reset: the synthetic MSRs go back to zero (the guest must set up again).</summary>
    public void Reset()
    {
        GuestOsId = 0;
        HypercallMsr = 0;
        VpAssistPageMsr = 0;
    }
}
