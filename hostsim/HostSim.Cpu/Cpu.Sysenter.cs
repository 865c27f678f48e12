namespace HekiGuest.HostSim.Cpu;

/// <summary>
/// SYSENTER/SYSEXIT and their MSRs IA32_SYSENTER_CS/ESP/EIP (0x174-0x176), present when the model
/// has SEP (else #UD and #GP on the MSRs), and IA32_MISC_ENABLE (0x1A0, Intel models only).
/// Intel runs SYSENTER/SYSEXIT in every protected mode including IA-32e (64-bit targets there);
/// AMD raises #UD for both in long mode (AMD64 APM vol. 3).
/// </summary>
public sealed partial class Cpu
{
    public const uint MsrSysenterCs = 0x174, MsrSysenterEsp = 0x175, MsrSysenterEip = 0x176, MsrMiscEnable = 0x1A0;

    /// <summary>IA32_MISC_ENABLE at power-on: fast strings (0), BTS (11) and PEBS (12) unavailable.</summary>
    public const ulong MiscEnablePowerOn = 0x1801;

    public ulong SysenterCs, SysenterEsp, SysenterEip;
    public ulong MiscEnable = MiscEnablePowerOn;

    private ulong SysenterMsr(uint msr) => msr switch
    {
        MsrSysenterCs => SysenterCs,
        MsrSysenterEsp => SysenterEsp,
        _ => SysenterEip,
    };

    private void WriteSysenterMsr(uint msr, ulong v)
    {
        if (msr == MsrSysenterCs)
        {
            SysenterCs = v & 0xFFFF;
            return;
        }
        // Intel: the addresses are 64-bit and must be canonical; AMD keeps 32 bits
        v = _model.Vendor == CpuVendor.Intel ? RequireCanonical(v) : v & 0xFFFF_FFFF;
        if (msr == MsrSysenterEsp) SysenterEsp = v; else SysenterEip = v;
    }

    /// <summary>Only fast strings (bit 0) is writable; writing any other bit to a value it does not have #GPs.</summary>
    private void WriteMiscEnable(ulong v)
    {
        if (((v ^ MiscEnable) & ~1UL) != 0) Raise(GuestFault.GP());
        MiscEnable = v;
    }

    private void RequireSysenter()
    {
        if (!_hasSep || (_model.Vendor == CpuVendor.Amd && LongModeActive)) Raise(GuestFault.UD());
        if ((Cr0 & 1) == 0 || (SysenterCs & 0xFFFC) == 0) Raise(GuestFault.GP());
    }

    private void Sysenter()
    {
        RequireSysenter();
        bool ia32e = LongModeActive;
        ushort cs = (ushort)(SysenterCs & 0xFFFC);
        Rflags &= ~(Flag.IF | Flag.RF | (1UL << 17));   // VM
        Segments[CS] = new SegmentRegister { Selector = cs, Attributes = (ushort)(ia32e ? 0xA09B : 0xC09B), Limit = 0xFFFF_FFFF };
        Segments[SS] = new SegmentRegister { Selector = (ushort)(cs + 8), Attributes = 0xC093, Limit = 0xFFFF_FFFF };
        UpdateMode();
        Gpr[RSP] = ia32e ? SysenterEsp : (uint)SysenterEsp;
        Rip = ia32e ? SysenterEip : (uint)SysenterEip;
    }

    private void Sysexit(bool to64)
    {
        RequireSysenter();
        RequireCpl0();
        ulong rip = to64 ? RequireCanonical(Gpr[RDX]) : (uint)Gpr[RDX];
        ulong rsp = to64 ? RequireCanonical(Gpr[RCX]) : (uint)Gpr[RCX];
        ushort cs = (ushort)((SysenterCs + (to64 ? 32UL : 16UL)) | 3);
        Segments[CS] = new SegmentRegister { Selector = cs, Attributes = (ushort)(to64 ? 0xA0FB : 0xC0FB), Limit = 0xFFFF_FFFF };
        Segments[SS] = new SegmentRegister { Selector = (ushort)(cs + 8), Attributes = 0xC0F3, Limit = 0xFFFF_FFFF };
        UpdateMode();
        Gpr[RSP] = rsp;
        Rip = rip;
    }
}
