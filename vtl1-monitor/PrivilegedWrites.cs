using HekiGuest.Abi;
using HekiGuest.Platform;
using HekiGuest.Platform.Arch;

namespace HekiGuest.Vtl1Monitor;

// The privileged writes VTL1 performs for VTL0 once the sealed section is handed over (VTL call
// ids 7-15, docs/vtl.md section 15 "Privileged writes"): each is checked against the policy sealed
// at boot, then performed on VTL0's state with SetVpRegisters. The policy:
//   CR0, CR4   the bits lock registers pinned keep their values; the rest is the host's to check;
//   CR3        only the page-table root registered at hand-over (PCID/PWT/PCD bits free);
//   MSRs       FS_BASE, GS_BASE, KERNEL_GS_BASE, TSC_AUX at any time; EFER, STAR, LSTAR, CSTAR,
//              SFMASK, PAT only before end of boot (afterwards only their value then); nothing else;
//   XCR0       x87 set, SSE, and AVX when CPUID.0Dh offers it; nothing else;
//   GDTR/IDTR, TR, LDTR  any load before end of boot (it becomes the registered value); after end
//              of boot only the registered value (a reload).
// A write not performed is Denied (the policy; one "vtl1: denied" line, counted) or
// InvalidArgument (a value the CPU or the host refuses); the dispatcher then injects #GP(0).
public static unsafe class PrivilegedWrites
{
    private const byte Vtl0 = HvInputVtl.UseTargetVtl | 0;
    private const ulong Cr3Address = 0x000F_FFFF_FFFF_F000UL;
    private const uint MsrEfer = 0xC0000080, MsrStar = 0xC0000081, MsrLstar = 0xC0000082, MsrCstar = 0xC0000083,
        MsrSfmask = 0xC0000084, MsrFsBase = 0xC0000100, MsrGsBase = 0xC0000101, MsrKernelGsBase = 0xC0000102,
        MsrTscAux = 0xC0000103, MsrPat = 0x277;
    private const ulong XcrX87 = 1, XcrSse = 2, XcrAvx = 4;
    private const ulong Cr4Osxsave = 1UL << 18;
    private const byte TypeLdt = 0x2, TypeTssAvailable = 0x9, TypeTssBusy = 0xB;

    private static bool s_registered;
    private static ulong s_cr3Root, s_gdtBase, s_gdtLimit, s_idtBase, s_idtLimit;
    private static ulong s_trLow, s_trHigh, s_ldtrLow, s_ldtrHigh;
    private static ulong s_efer, s_star, s_lstar, s_cstar, s_sfmask, s_pat;

    /// <summary>The values registered at hand-over: VTL0's CR3 root, descriptor tables and
    /// boot-only MSRs as they are now. False when the host would not read them.</summary>
    public static bool Register()
    {
        bool ok = HvClient.GetRegister(Vtl0, HvRegister.Cr3, out ulong cr3) == HvStatus.Success
            & HvClient.GetRegister128(Vtl0, HvRegister.Gdtr, out ulong gl, out s_gdtBase) == HvStatus.Success
            & HvClient.GetRegister128(Vtl0, HvRegister.Idtr, out ulong il, out s_idtBase) == HvStatus.Success
            & HvClient.GetRegister128(Vtl0, HvRegister.Tr, out s_trLow, out s_trHigh) == HvStatus.Success
            & HvClient.GetRegister128(Vtl0, HvRegister.Ldtr, out s_ldtrLow, out s_ldtrHigh) == HvStatus.Success
            & HvClient.GetRegister(Vtl0, HvRegister.Efer, out s_efer) == HvStatus.Success
            & HvClient.GetRegister(Vtl0, HvRegister.Star, out s_star) == HvStatus.Success
            & HvClient.GetRegister(Vtl0, HvRegister.Lstar, out s_lstar) == HvStatus.Success
            & HvClient.GetRegister(Vtl0, HvRegister.Cstar, out s_cstar) == HvStatus.Success
            & HvClient.GetRegister(Vtl0, HvRegister.Sfmask, out s_sfmask) == HvStatus.Success
            & HvClient.GetRegister(Vtl0, HvRegister.Pat, out s_pat) == HvStatus.Success;
        s_cr3Root = cr3 & Cr3Address;
        s_gdtLimit = gl >> 48;
        s_idtLimit = il >> 48;
        s_registered = ok;
        return ok;
    }

    /// <summary>The VTL0 instructions the host intercepts once the section is handed over
    /// (docs/vtl.md section 12): after the hand-over VTL0 has none of them left (sealcheck proves
    /// the image has them only in the section), so any that runs is code VTL0 made executable.</summary>
    public const ulong InterceptedWrites = HvCrIntercept.LstarWrite | HvCrIntercept.StarWrite | HvCrIntercept.CstarWrite
        | HvCrIntercept.SfmaskWrite | HvCrIntercept.EferWrite | HvCrIntercept.ApicBaseWrite
        | HvCrIntercept.GdtrWrite | HvCrIntercept.IdtrWrite | HvCrIntercept.LdtrWrite | HvCrIntercept.TrWrite;

    private static string s_source = " through a VTL call";

    /// <summary>An intercepted VTL0 WRMSR or descriptor-table load (message type and payload):
    /// the same policy as the calls; Success when it was performed (the caller skips the
    /// instruction), else Denied or InvalidArgument (the caller injects #GP(0)).</summary>
    public static long PerformIntercepted(uint type, byte* payload, bool endOfBoot)
    {
        s_source = " by an intercepted instruction";
        long status;
        if (type == HvMessage.TypeMsrIntercept)
        {
            ulong value = (*(ulong*)(payload + HvMessage.MsrRdx) << 32) | (uint)*(ulong*)(payload + HvMessage.MsrRax);
            status = Perform(MonitorCall.WriteMsr, *(uint*)(payload + HvMessage.MsrNumber), value, endOfBoot);
        }
        else
        {
            uint register = *(uint*)(payload + HvMessage.RegisterName);
            byte* v = payload + HvMessage.RegisterValue;
            status = register switch
            {
                HvRegister.Gdtr => Perform(MonitorCall.LoadGdt, *(ulong*)(v + HvVtl.TableBase), *(ushort*)(v + HvVtl.TableLimit), endOfBoot),
                HvRegister.Idtr => Perform(MonitorCall.LoadIdt, *(ulong*)(v + HvVtl.TableBase), *(ushort*)(v + HvVtl.TableLimit), endOfBoot),
                HvRegister.Tr => Perform(MonitorCall.LoadTr, *(ushort*)v, 0, endOfBoot),
                HvRegister.Ldtr => Perform(MonitorCall.LoadLdt, *(ushort*)v, 0, endOfBoot),
                _ => MonitorStatus.InvalidArgument,
            };
        }
        s_source = " through a VTL call";
        return status;
    }

    public static long Perform(ulong id, ulong a0, ulong a1, bool endOfBoot)
    {
        if (!s_registered) return Invalid();
        switch (id)
        {
            case MonitorCall.WriteCr0:
                if (!RegisterLock.KeepsPinned(HvRegister.Cr0, a0)) return Deny("write of CR0", a0, "pinned bits");
                return Set(HvRegister.Cr0, a0);
            case MonitorCall.WriteCr4:
                if (!RegisterLock.KeepsPinned(HvRegister.Cr4, a0)) return Deny("write of CR4", a0, "pinned bits");
                return Set(HvRegister.Cr4, a0);
            case MonitorCall.WriteCr3:
                if ((a0 & Cr3Address) != s_cr3Root) return Deny("write of CR3", a0, "not the page-table root registered at hand-over");
                return Set(HvRegister.Cr3, a0);
            case MonitorCall.WriteMsr:
                return WriteMsr(a0, a1, endOfBoot);
            case MonitorCall.SetXcr:
                return SetXcr(a0, a1);
            case MonitorCall.LoadGdt:
            case MonitorCall.LoadIdt:
                return LoadTable(id == MonitorCall.LoadGdt, a0, a1, endOfBoot);
            case MonitorCall.LoadTr:
            case MonitorCall.LoadLdt:
                return LoadSystemSegment(id == MonitorCall.LoadTr, a0, endOfBoot);
        }
        return MonitorStatus.UnknownCall;
    }

    private static long WriteMsr(ulong msr, ulong value, bool endOfBoot)
    {
        switch (msr)
        {
            case MsrTscAux: return Set(HvRegister.TscAux, value);
            case MsrKernelGsBase: return Set(HvRegister.KernelGsBase, value);
            case MsrFsBase: return SetSegmentBase(HvRegister.Fs, value);
            case MsrGsBase: return SetSegmentBase(HvRegister.Gs, value);
            case MsrEfer: return BootOnlyMsr(HvRegister.Efer, ref s_efer, value, endOfBoot, "write of EFER");
            case MsrStar: return BootOnlyMsr(HvRegister.Star, ref s_star, value, endOfBoot, "write of STAR");
            case MsrLstar: return BootOnlyMsr(HvRegister.Lstar, ref s_lstar, value, endOfBoot, "write of LSTAR");
            case MsrCstar: return BootOnlyMsr(HvRegister.Cstar, ref s_cstar, value, endOfBoot, "write of CSTAR");
            case MsrSfmask: return BootOnlyMsr(HvRegister.Sfmask, ref s_sfmask, value, endOfBoot, "write of SFMASK");
            case MsrPat: return BootOnlyMsr(HvRegister.Pat, ref s_pat, value, endOfBoot, "write of PAT");
        }
        return Deny("write of MSR", msr, "not on the MSR allow-list");
    }

    private static long BootOnlyMsr(uint register, ref ulong registered, ulong value, bool endOfBoot, string what)
    {
        if (endOfBoot && value != registered) return Deny(what, value, "boot-only MSR after end of boot");
        long status = Set(register, value);
        if (status == MonitorStatus.Success) registered = value;
        return status;
    }

    private static long SetXcr(ulong xcr, ulong value)
    {
        if (xcr != 0) return Invalid();
        if (HvClient.GetRegister(Vtl0, HvRegister.Cr4, out ulong cr4) != HvStatus.Success || (cr4 & Cr4Osxsave) == 0) return Invalid();
        uint* r = stackalloc uint[4];
        Native.CpuId(0, 0, r);
        ulong offered = 0;
        if (r[0] >= 0xD)
        {
            Native.CpuId(0xD, 0, r);
            offered = r[0] & (XcrX87 | XcrSse | XcrAvx);
        }
        ulong allowed = XcrX87 | XcrSse | (offered & XcrAvx);
        if ((value & ~allowed) != 0 || (value & XcrX87) == 0 || ((value & XcrAvx) != 0 && (value & XcrSse) == 0))
            return Deny("write of XCR0", value, "only x87, SSE and the AVX CPUID offers");
        return Set(HvRegister.Xfem, value);
    }

    private static long LoadTable(bool gdt, ulong tableBase, ulong limit, bool endOfBoot)
    {
        if (limit > 0xFFFF) return Invalid();
        ulong registeredBase = gdt ? s_gdtBase : s_idtBase, registeredLimit = gdt ? s_gdtLimit : s_idtLimit;
        if (endOfBoot && (tableBase != registeredBase || limit != registeredLimit))
            return Deny(gdt ? "LGDT base" : "LIDT base", tableBase, "not the table registered at boot, after end of boot");
        if (HvClient.SetRegister128(Vtl0, gdt ? HvRegister.Gdtr : HvRegister.Idtr, limit << 48, tableBase) != HvStatus.Success) return Invalid();
        if (gdt) { s_gdtBase = tableBase; s_gdtLimit = limit; }
        else { s_idtBase = tableBase; s_idtLimit = limit; }
        return MonitorStatus.Success;
    }

    // LTR/LLDT as the CPU does them: the 16-byte system descriptor at the selector in VTL0's GDT
    // (checked to lie in VTL0 RAM), its type (available TSS, marked busy; LDT), then the register.
    private static long LoadSystemSegment(bool tr, ulong selector, bool endOfBoot)
    {
        if (selector > 0xFFFF) return Invalid();
        ulong registeredSelector = ((tr ? s_trHigh : s_ldtrHigh) >> 32) & 0xFFFF;
        if (endOfBoot && selector != registeredSelector)
            return Deny(tr ? "LTR selector" : "LLDT selector", selector, "not the selector registered at boot, after end of boot");
        ulong low, high;
        byte* descriptor = null;
        if (!tr && (selector & ~3UL) == 0)
        {
            low = 0;
            high = selector << 32;
        }
        else
        {
            if ((selector & 4) != 0 || (selector & ~3UL) == 0) return Invalid();
            if (HvClient.GetRegister128(Vtl0, HvRegister.Gdtr, out ulong gl, out ulong gdtBase) != HvStatus.Success) return Invalid();
            ulong index = selector & ~7UL;
            if (index + 15 > gl >> 48 || !Vtl0Memory.Contains(gdtBase + index, 16)) return Invalid();
            descriptor = (byte*)(gdtBase + index);
            ulong d0 = *(ulong*)descriptor, d1 = *(ulong*)(descriptor + 8);
            byte access = (byte)(d0 >> 40);
            if ((access & 0x1F) != (tr ? TypeTssAvailable : TypeLdt) || (access & 0x80) == 0) return Invalid();
            ulong segBase = ((d0 >> 16) & 0xFFFFFF) | (((d0 >> 56) & 0xFF) << 24) | ((d1 & 0xFFFF_FFFF) << 32);
            ulong limit = (d0 & 0xFFFF) | (((d0 >> 48) & 0xF) << 16);
            ulong attributes = access | (((d0 >> 52) & 0xF) << 12);
            if ((attributes & 0x8000) != 0) limit = (limit << 12) | 0xFFF;
            if (tr) attributes = (attributes & ~0xFUL) | TypeTssBusy;
            low = segBase;
            high = limit | (selector << 32) | (attributes << 48);
        }
        // (a null LDTR is unusable whatever its cached fields: only its selector is compared)
        ulong registeredLow = tr ? s_trLow : s_ldtrLow, registeredHigh = tr ? s_trHigh : s_ldtrHigh;
        if (endOfBoot && descriptor != null && (low != registeredLow || high != registeredHigh))
            return Deny(tr ? "LTR selector" : "LLDT selector", selector, "the descriptor differs from the one registered at boot");
        if (HvClient.SetRegister128(Vtl0, tr ? HvRegister.Tr : HvRegister.Ldtr, low, high) != HvStatus.Success) return Invalid();
        if (tr && descriptor != null) descriptor[5] |= 0x2;   // the TSS descriptor is busy now
        if (tr) { s_trLow = low; s_trHigh = high; }
        else { s_ldtrLow = low; s_ldtrHigh = high; }
        return MonitorStatus.Success;
    }

    private static long SetSegmentBase(uint register, ulong newBase)
    {
        if (HvClient.GetRegister128(Vtl0, register, out _, out ulong high) != HvStatus.Success) return Invalid();
        return HvClient.SetRegister128(Vtl0, register, newBase, high) == HvStatus.Success ? MonitorStatus.Success : Invalid();
    }

    private static long Set(uint register, ulong value) =>
        HvClient.SetRegister(Vtl0, register, value) == HvStatus.Success ? MonitorStatus.Success : Invalid();

    private static long Invalid() => MonitorStatus.InvalidArgument;

    private static long Deny(string what, ulong value, string why)
    {
        Machine.Console.Write("denied VTL0 ").Write(what).Write('=').Hex(value).Write(s_source).Write(" (").Write(why).Line("): #GP(0) injected");
        return MonitorStatus.Denied;
    }
}
