using HekiGuest.Abi;
using HekiGuest.HostSim.Cpu;

namespace HekiGuest.HostSim.Vsm;

/// <summary>
/// The Hyper-V synthetic MSRs this profile offers (docs/vtl.md section 2): GUEST_OS_ID,
/// HYPERCALL (enabling it writes the hypercall page into guest RAM), VP_INDEX (read-only 0) and
/// VP_ASSIST_PAGE, one set per VTL (the TLFS keeps them private to each VTL): a RDMSR or WRMSR
/// reaches the set of the VTL the processor runs in. A malformed write (reserved bits, a page
/// outside RAM, a write to VP_INDEX) is #GP(0) with the MSR unchanged. Every other MSR goes to
/// the hook installed before this one, or to the CPU.
/// </summary>
public sealed class SyntheticMsrs(VsmHost host, IMsrHook? next) : IMsrHook
{
    /// <summary>HYPERCALL and VP_ASSIST_PAGE bits 11:1: reserved here (bit 1 of HYPERCALL is the
    /// TLFS's "locked" bit, which hostsim does not offer).</summary>
    public const ulong ReservedPageMsrBits = 0xFFEUL;

    private readonly ulong[] _guestOsId = new ulong[HvVtl.MaxVtl + 1];
    private readonly ulong[] _hypercall = new ulong[HvVtl.MaxVtl + 1];
    private readonly ulong[] _vpAssistPage = new ulong[HvVtl.MaxVtl + 1];

    /// <summary>GUEST_OS_ID as <paramref name="vtl"/> set it.</summary>
    public ulong GuestOsId(int vtl) => _guestOsId[vtl];

    /// <summary>HYPERCALL as <paramref name="vtl"/> set it.</summary>
    public ulong HypercallMsr(int vtl) => _hypercall[vtl];

    /// <summary>VP_ASSIST_PAGE as <paramref name="vtl"/> set it.</summary>
    public ulong VpAssistPageMsr(int vtl) => _vpAssistPage[vtl];

    /// <summary>Hypercalls are available to <paramref name="vtl"/>: it enabled its hypercall page
    /// (which needs a non-zero guest OS id of its own).</summary>
    public bool HypercallsEnabled(int vtl) => (_hypercall[vtl] & HvMsr.Enable) != 0;

    public MsrResult Read(Cpu.Cpu cpu, uint msr, out ulong value)
    {
        int vtl = host.CurrentVtl;
        switch (msr)
        {
            case HvMsr.GuestOsId: value = _guestOsId[vtl]; return MsrResult.Handled;
            case HvMsr.Hypercall: value = _hypercall[vtl]; return MsrResult.Handled;
            case HvMsr.VpIndex: value = VsmHost.VpIndex; return MsrResult.Handled;
            case HvMsr.VpAssistPage: value = _vpAssistPage[vtl]; return MsrResult.Handled;
        }
        value = 0;
        return next?.Read(cpu, msr, out value) ?? MsrResult.NotHandled;
    }

    public MsrResult Write(Cpu.Cpu cpu, uint msr, ulong value)
    {
        if (msr is HvMsr.GuestOsId or HvMsr.Hypercall or HvMsr.VpIndex or HvMsr.VpAssistPage)
        {
            return WriteSynthetic(host.CurrentVtl, msr, value, cpu.CurrentInstructionRip, byGuest: true);
        }
        // a write VTL1 intercepts does not happen: #GP, which the host exit to VTL1 discards
        if (host.RegisterIntercepts.InterceptsMsrWrite(cpu, msr, value)) return MsrResult.GeneralProtection;
        return next?.Write(cpu, msr, value) ?? MsrResult.NotHandled;
    }

    /// <summary>
    /// A write by host userspace into <paramref name="vtl"/>'s set (as KVM's host-initiated MSR
    /// writes: set-up of a VM whose VTL1 was prepared outside the guest, snapshot restore). The
    /// same checks as a guest write but the page-permission one, which guards the host from
    /// writing where the guest itself may not: host userspace may write anywhere in RAM.
    /// </summary>
    public MsrResult WriteFromHost(int vtl, uint msr, ulong value)
    {
        if ((uint)vtl > HvVtl.MaxVtl) throw new ArgumentOutOfRangeException(nameof(vtl), vtl, "no such VTL");
        return WriteSynthetic(vtl, msr, value, rip: 0, byGuest: false);
    }

    private MsrResult WriteSynthetic(int vtl, uint msr, ulong value, ulong rip, bool byGuest)
    {
        switch (msr)
        {
            case HvMsr.GuestOsId:
                _guestOsId[vtl] = value;
                if (value == 0)
                {
                    // clearing the guest OS id turns this VTL's hypercalls off again (docs/vtl.md section 2)
                    _hypercall[vtl] &= ~HvMsr.Enable;
                }
                else
                {
                    host.Configured(VsmSetupStep.GuestOsIdSet, rip, value);
                }
                return MsrResult.Handled;
            case HvMsr.Hypercall:
                return WriteHypercall(vtl, value, rip, byGuest);
            case HvMsr.VpAssistPage:
                if ((value & ReservedPageMsrBits) != 0 || !host.IsRamPage(value & HvMsr.PageNumberMask)) return MsrResult.GeneralProtection;
                // the host writes this page: only one the writing VTL may write itself
                if (byGuest && (value & HvMsr.Enable) != 0 && !host.CurrentVtlMay(value & HvMsr.PageNumberMask, write: true)) return MsrResult.GeneralProtection;
                _vpAssistPage[vtl] = value;
                if ((value & HvMsr.Enable) != 0) host.Configured(VsmSetupStep.VpAssistPageEnabled, rip, value);
                return MsrResult.Handled;
            default:
                // VP_INDEX is read-only
                return MsrResult.GeneralProtection;
        }
    }

    private MsrResult WriteHypercall(int vtl, ulong value, ulong rip, bool byGuest)
    {
        ulong page = value & HvMsr.PageNumberMask;
        if ((value & ReservedPageMsrBits) != 0 || !host.IsRamPage(page)) return MsrResult.GeneralProtection;
        if (byGuest && (value & HvMsr.Enable) != 0 && !host.CurrentVtlMay(page, write: true)) return MsrResult.GeneralProtection;
        if (_guestOsId[vtl] == 0)
        {
            // the TLFS enables the hypercall page only once the guest has identified itself:
            // the address is kept, the enable bit stays clear and nothing is written
            value &= ~HvMsr.Enable;
        }
        _hypercall[vtl] = value;
        if ((value & HvMsr.Enable) != 0)
        {
            host.WriteHypercallPage(page);
            host.Configured(VsmSetupStep.HypercallPageEnabled, rip, value);
        }
        return MsrResult.Handled;
    }

    /// <summary><paramref name="vtl"/> was enabled (EnableVpVtl) or destroyed: its set starts
    /// from zero; it sets up its own hypercall page and VP assist page.</summary>
    internal void Clear(int vtl)
    {
        _guestOsId[vtl] = 0;
        _hypercall[vtl] = 0;
        _vpAssistPage[vtl] = 0;
    }

    /// <summary>VM reset: every VTL's synthetic MSRs go back to zero (the guest must set up again).</summary>
    public void Reset()
    {
        for (int vtl = 0; vtl <= HvVtl.MaxVtl; vtl++) Clear(vtl);
    }
}
