using HekiGuest.Abi;
using HekiGuest.HostSim.Cpu;

namespace HekiGuest.HostSim.Vsm;

/// <summary>
/// VTL1's intercepts of VTL0's register writes (docs/vtl.md section 12), set with CrInterceptControl
/// and the CR0/CR4 masks: a MOV to CR0 or CR4 (and LMSW) that changes a masked bit, a load of GDTR,
/// IDTR, LDTR or TR, and a WRMSR of EFER, STAR, LSTAR, CSTAR, SFMASK, APIC_BASE or TSC_AUX. The
/// write does not happen: VTL1 gets a register or MSR intercept message (section 11) and answers
/// by emulating it (SetVpRegisters and a RIP advance by the instruction length) or by injecting an
/// exception (PendingEvent0). VTL1's own writes, and writes VTL1 did not ask for, go on to the
/// hook installed before this one (or happen).
/// </summary>
public sealed class RegisterIntercepts(VsmHost host, IControlRegisterHook? nextControl, IDescriptorTableHook? nextTable) : IControlRegisterHook, IDescriptorTableHook
{
    /// <summary>The MSRs whose writes can be intercepted, with their CrInterceptControl bit and register name.</summary>
    private static readonly (uint Msr, ulong Bit)[] Msrs =
    [
        (0xC000_0080, HvCrIntercept.EferWrite),
        (0xC000_0081, HvCrIntercept.StarWrite),
        (0xC000_0082, HvCrIntercept.LstarWrite),
        (0xC000_0083, HvCrIntercept.CstarWrite),
        (0xC000_0084, HvCrIntercept.SfmaskWrite),
        (0x0000_001B, HvCrIntercept.ApicBaseWrite),
        (0xC000_0103, HvCrIntercept.TscAuxWrite),
    ];

    public bool AllowWrite(Cpu.Cpu cpu, int register, ulong oldValue, ulong newValue)
    {
        if (Vtl0Controls() is { } vp && register is 0 or 4)
        {
            bool cr0 = register == 0;
            ulong bit = cr0 ? HvCrIntercept.Cr0Write : HvCrIntercept.Cr4Write;
            ulong mask = cr0 ? vp.CrInterceptCr0Mask : vp.CrInterceptCr4Mask;
            if ((vp.CrInterceptControl & bit) != 0 && ((oldValue ^ newValue) & mask) != 0)
            {
                host.Intercepts.Register(cpu, cr0 ? HvRegister.Cr0 : HvRegister.Cr4, newValue);
                return false;
            }
        }
        return nextControl?.AllowWrite(cpu, register, oldValue, newValue) ?? true;
    }

    public bool AllowLoad(Cpu.Cpu cpu, DescriptorTableLoad register, ulong @base, ushort limit, ushort selector)
    {
        if (Vtl0Controls() is { } vp)
        {
            (ulong bit, uint name) = register switch
            {
                DescriptorTableLoad.Gdtr => (HvCrIntercept.GdtrWrite, HvRegister.Gdtr),
                DescriptorTableLoad.Idtr => (HvCrIntercept.IdtrWrite, HvRegister.Idtr),
                DescriptorTableLoad.Ldtr => (HvCrIntercept.LdtrWrite, HvRegister.Ldtr),
                _ => (HvCrIntercept.TrWrite, HvRegister.Tr),
            };
            if ((vp.CrInterceptControl & bit) != 0)
            {
                // a table register as its 16-byte record; LDTR and TR as the selector loaded
                UInt128 value = register is DescriptorTableLoad.Gdtr or DescriptorTableLoad.Idtr
                    ? ((UInt128)@base << 64) | ((UInt128)limit << 48)
                    : selector;
                host.Intercepts.Register(cpu, name, value);
                return false;
            }
        }
        return nextTable?.AllowLoad(cpu, register, @base, limit, selector) ?? true;
    }

    /// <summary>A WRMSR VTL1 intercepts: the intercept is delivered and true returned (the
    /// caller answers #GP, which the host exit discards).</summary>
    internal bool InterceptsMsrWrite(Cpu.Cpu cpu, uint msr, ulong value)
    {
        if (Vtl0Controls() is not { } vp) return false;
        foreach (var (m, bit) in Msrs)
        {
            if (m != msr) continue;
            if ((vp.CrInterceptControl & bit) == 0) return false;
            host.Intercepts.Msr(cpu, msr, value);
            return true;
        }
        return false;
    }

    /// <summary>The VP's intercept controls while it runs VTL0 and VTL1 asked for any.</summary>
    private VirtualProcessorVtls? Vtl0Controls()
    {
        var vp = host.Partition.Vps[VsmHost.Vcpu];
        return vp.CurrentVtl == 0 && vp.CrInterceptControl != 0 ? vp : null;
    }
}
