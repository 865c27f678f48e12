using System.Buffers.Binary;
using HekiGuest.Abi;
using HekiGuest.HostSim.Cpu;

namespace HekiGuest.HostSim.Vsm;

/// <summary>
/// The registers Get/SetVpRegisters name (docs/vtl.md section 10), read and written for one
/// (VP, VTL): shared registers (RAX-R15 but RSP, CR2) live in the CPU; private ones come from the
/// CPU when the VTL is running, else from its saved <see cref="VtlPrivateState"/>; the VSM
/// registers from the partition and the VP. Every value a write could not load as given is
/// HV_STATUS_INVALID_PARAMETER and changes nothing; so is a name hostsim does not offer.
/// </summary>
public sealed class VpRegisterFile(VsmHost host, VsmPartition partition)
{
    private const ulong RflagsFixed1 = 1UL << 1, RflagsVm = 1UL << 17;
    private const ulong RflagsReserved = (1UL << 3) | (1UL << 5) | (1UL << 15) | ~0x3FFFFFUL;
    private const ulong Cr0Pe = 1, Cr0Nw = 1UL << 29, Cr0Cd = 1UL << 30, Cr0Pg = 1UL << 31;
    private const ulong Cr4Pae = 1UL << 5;
    private const ulong EferLme = 1UL << 8, EferLma = 1UL << 10;
    private const ulong EferAllowed = 1 | EferLme | EferLma | (1UL << 11);
    private const ulong Cr3Reserved = 0xFFF0_0000_0000_0000UL;
    private const ushort AttributeLong = 0x2000, AttributeDefaultBig = 0x4000;
    private const ulong ConfigDefined = HvPartitionConfig.EnableVtlProtection | HvPartitionConfig.DefaultMaskField | HvPartitionConfig.ZeroMemoryOnReset;
    /// <summary>The intercepts hostsim implements (the reads, XCR0, MISC_ENABLE and SYSENTER bits are not offered).</summary>
    internal const ulong CrInterceptOffered = HvCrIntercept.Cr0Write | HvCrIntercept.Cr4Write | HvCrIntercept.LstarWrite
        | HvCrIntercept.StarWrite | HvCrIntercept.CstarWrite | HvCrIntercept.ApicBaseWrite | HvCrIntercept.EferWrite
        | HvCrIntercept.GdtrWrite | HvCrIntercept.IdtrWrite | HvCrIntercept.LdtrWrite | HvCrIntercept.TrWrite
        | HvCrIntercept.SfmaskWrite | HvCrIntercept.TscAuxWrite;

    /// <summary>Reads <paramref name="name"/> of <paramref name="vtl"/> on <paramref name="vp"/>.</summary>
    public ushort TryGet(Cpu.Cpu cpu, VirtualProcessorVtls vp, int vtl, uint name, out UInt128 value)
    {
        value = 0;
        if (SharedGpr(name) is { } gpr)
        {
            value = cpu.ReadGpr(gpr);
            return HvStatus.Success;
        }
        switch (name)
        {
            case HvRegister.Cr2: value = cpu.Cr2; return HvStatus.Success;
            case HvRegister.Xfem: value = cpu.Xcr0; return HvStatus.Success;
            case HvRegister.PendingEvent0:
                if (vtl >= vp.CurrentVtl) return HvStatus.InvalidParameter;
                value = vp.PendingEvent(vtl);
                return HvStatus.Success;
            case HvRegister.VpAssistPage: value = host.Msrs.VpAssistPageMsr(vtl); return HvStatus.Success;
            case HvRegister.VsmCodePageOffsets: value = HvHypercallPage.VsmCodePageOffsets; return HvStatus.Success;
            case HvRegister.VsmVpStatus: value = (uint)vp.CurrentVtl | ((ulong)EnabledSet(vp.IsEnabled) << HvVsmStatus.VpEnabledVtlSetShift); return HvStatus.Success;
            case HvRegister.VsmPartitionStatus: value = EnabledSet(partition.IsEnabled) | ((ulong)HvVtl.MaxVtl << HvVsmStatus.PartitionMaximumVtlShift); return HvStatus.Success;
            case HvRegister.VsmCapabilities: value = 0; return HvStatus.Success;
        }
        if (IsVtl1Control(name))
        {
            if (vtl != HvVtl.MaxVtl) return HvStatus.InvalidParameter;
            value = name switch
            {
                HvRegister.VsmPartitionConfig => partition.Vtl1PartitionConfig,
                HvRegister.CrInterceptControl => vp.CrInterceptControl,
                HvRegister.CrInterceptCr0Mask => vp.CrInterceptCr0Mask,
                _ => vp.CrInterceptCr4Mask,
            };
            return HvStatus.Success;
        }
        var state = StateOf(cpu, vp, vtl);
        if (state is null) return HvStatus.InvalidParameter;
        return ReadPrivate(state, name, out value) ? HvStatus.Success : HvStatus.InvalidParameter;
    }

    /// <summary>Writes <paramref name="name"/> of <paramref name="vtl"/> on <paramref name="vp"/>;
    /// the caller has checked that the caller's VTL may write <paramref name="vtl"/>.</summary>
    public ushort TrySet(Cpu.Cpu cpu, VirtualProcessorVtls vp, int vtl, uint name, UInt128 value)
    {
        ulong lo = (ulong)value, hi = (ulong)(value >> 64);
        if (SharedGpr(name) is { } gpr)
        {
            if (hi != 0) return HvStatus.InvalidParameter;
            cpu.WriteGpr(gpr, lo);
            return HvStatus.Success;
        }
        switch (name)
        {
            case HvRegister.Cr2:
                if (hi != 0) return HvStatus.InvalidParameter;
                cpu.Cr2 = lo;
                return HvStatus.Success;
            case HvRegister.Xfem:
                // XSETBV's rules: x87 always set, only components the core supports
                if (hi != 0 || (lo & 1) == 0 || (lo & ~Cpu.Cpu.XsaveSupportedMask) != 0) return HvStatus.InvalidParameter;
                cpu.Xcr0 = lo;
                return HvStatus.Success;
            case HvRegister.PendingEvent0:
                if (vtl >= vp.CurrentVtl || (lo & HvPendingEvent.Pending) != 0 && PendingFault(value) is null) return HvStatus.InvalidParameter;
                vp.SetPendingEvent(vtl, value);
                return HvStatus.Success;
            case HvRegister.VsmPartitionConfig:
                return vtl != HvVtl.MaxVtl || hi != 0 ? HvStatus.InvalidParameter : SetPartitionConfig(cpu, lo);
            case HvRegister.CrInterceptControl:
                if (vtl != HvVtl.MaxVtl || hi != 0 || (lo & ~CrInterceptOffered) != 0) return HvStatus.InvalidParameter;
                vp.CrInterceptControl = lo;
                return HvStatus.Success;
            case HvRegister.CrInterceptCr0Mask:
                if (vtl != HvVtl.MaxVtl || hi != 0) return HvStatus.InvalidParameter;
                vp.CrInterceptCr0Mask = lo;
                return HvStatus.Success;
            case HvRegister.CrInterceptCr4Mask:
                if (vtl != HvVtl.MaxVtl || hi != 0) return HvStatus.InvalidParameter;
                vp.CrInterceptCr4Mask = lo;
                return HvStatus.Success;
        }
        bool live = vtl == vp.CurrentVtl;
        var state = StateOf(cpu, vp, vtl);
        if (state is null || !WritePrivate(state, name, value)) return HvStatus.InvalidParameter;
        if (live) state.Load(cpu, vtl);
        if (name == HvRegister.Cr3)
        {
            // as the instruction would (MOV CR3 flushes even when the value is unchanged, which is how
            // a higher VTL flushes a lower one's TLB): every cached translation goes, the target
            // VTL's included, whether or not it is running. CR0, CR4 and EFER need nothing here: a
            // change of a bit translations depend on is seen when the VTL next runs (the CPU
            // compares them with what its cached translations were checked under).
            cpu.FlushTlb();
        }
        return HvStatus.Success;
    }

    /// <summary>The exception a PendingEvent0 value describes, or null when it is malformed: a
    /// reserved bit, an event type other than exception, a vector above 31 or NMI (2).</summary>
    public static GuestFault? PendingFault(UInt128 value)
    {
        ulong lo = (ulong)value;
        ulong vector = (lo >> HvPendingEvent.VectorShift) & 0xFFFF;
        if ((lo & HvPendingEvent.Reserved) != 0 || (lo & HvPendingEvent.TypeField) >> HvPendingEvent.TypeShift != HvPendingEvent.TypeException) return null;
        if (vector > 31 || vector == 2) return null;
        bool error = (lo & HvPendingEvent.DeliverErrorCode) != 0;
        return new GuestFault((byte)vector, error, error ? (uint)(lo >> HvPendingEvent.ErrorCodeShift) : 0, (ulong)(value >> 64));
    }

    private ushort SetPartitionConfig(Cpu.Cpu cpu, ulong value)
    {
        var map = partition.Vtl0Protections;
        if ((value & ~ConfigDefined) != 0) return HvStatus.InvalidParameter;
        uint mask = (uint)((value & HvPartitionConfig.DefaultMaskField) >> HvPartitionConfig.DefaultMaskShift);
        if ((mask & HvMapGpa.Write) != 0 && (mask & HvMapGpa.Read) == 0) return HvStatus.InvalidParameter;
        if (map.Enabled)
        {
            // enabling protection is one-way, and the default mask is fixed by it
            if ((value & HvPartitionConfig.EnableVtlProtection) == 0 || mask != map.DefaultMask) return HvStatus.InvalidParameter;
        }
        partition.Vtl1PartitionConfig = value;
        if (!map.Enabled && (value & HvPartitionConfig.EnableVtlProtection) != 0)
        {
            map.Enable(mask);
            cpu.FlushTlb();
            host.ProtectionChanged(VsmProtectionScope.Default, 0, map.PageCount, mask);
        }
        return HvStatus.Success;
    }

    private static bool IsVtl1Control(uint name) => name is HvRegister.VsmPartitionConfig or HvRegister.CrInterceptControl
        or HvRegister.CrInterceptCr0Mask or HvRegister.CrInterceptCr4Mask;

    private static uint EnabledSet(Func<int, bool> enabled)
    {
        uint set = 0;
        for (int v = 0; v <= HvVtl.MaxVtl; v++) if (enabled(v)) set |= 1u << v;
        return set;
    }

    private static int? SharedGpr(uint name) =>
        name is >= HvRegister.Rax and <= HvRegister.R15 && name != HvRegister.Rsp ? (int)(name - HvRegister.Rax) : null;

    /// <summary>The private state of <paramref name="vtl"/>: a capture of the CPU when it runs.</summary>
    private static VtlPrivateState? StateOf(Cpu.Cpu cpu, VirtualProcessorVtls vp, int vtl)
    {
        if (vtl != vp.CurrentVtl) return vp.Saved(vtl);
        var live = new VtlPrivateState();
        live.Capture(cpu);
        return live;
    }

    private static bool ReadPrivate(VtlPrivateState s, uint name, out UInt128 value)
    {
        Span<byte> b = stackalloc byte[HvVpRegisters.ValueSize];
        b.Clear();
        switch (name)
        {
            case HvRegister.Rsp: value = s.Rsp; return true;
            case HvRegister.Rip: value = s.Rip; return true;
            case HvRegister.Rflags: value = s.Rflags; return true;
            case HvRegister.Cr0: value = s.Cr0; return true;
            case HvRegister.Cr3: value = s.Cr3; return true;
            case HvRegister.Cr4: value = s.Cr4; return true;
            case HvRegister.Efer: value = s.Efer; return true;
            case HvRegister.Pat: value = s.Pat; return true;
            case HvRegister.KernelGsBase: value = s.KernelGsBase; return true;
            case HvRegister.Star: value = s.Star; return true;
            case HvRegister.Lstar: value = s.Lstar; return true;
            case HvRegister.Cstar: value = s.Cstar; return true;
            case HvRegister.Sfmask: value = s.Sfmask; return true;
            case HvRegister.TscAux: value = s.TscAux; return true;
            case HvRegister.Idtr: WriteTable(b, s.Idtr); break;
            case HvRegister.Gdtr: WriteTable(b, s.Gdtr); break;
            case HvRegister.Ldtr: WriteSegment(b, s.Ldtr); break;
            case HvRegister.Tr: WriteSegment(b, s.Tr); break;
            case >= HvRegister.Es and <= HvRegister.Gs: WriteSegment(b, s.Segments[name - HvRegister.Es]); break;
            default: value = 0; return false;
        }
        value = BinaryPrimitives.ReadUInt128LittleEndian(b);
        return true;
    }

    private static bool WritePrivate(VtlPrivateState s, uint name, UInt128 value)
    {
        ulong v = (ulong)value;
        bool wide = value >> 64 != 0;
        bool longMode = (s.Efer & EferLma) != 0;
        Span<byte> b = stackalloc byte[HvVpRegisters.ValueSize];
        BinaryPrimitives.WriteUInt128LittleEndian(b, value);
        switch (name)
        {
            case HvRegister.Idtr or HvRegister.Gdtr:
                if (b[..HvVtl.TableLimit].ContainsAnyExcept((byte)0)) return false;
                var table = VpInitialContext.Table(b, 0);
                if (!VpInitialContext.Canonical(table.Base)) return false;
                if (name == HvRegister.Idtr) s.Idtr = table; else s.Gdtr = table;
                return true;
            case HvRegister.Ldtr or HvRegister.Tr or (>= HvRegister.Es and <= HvRegister.Gs):
                var seg = VpInitialContext.Segment(b, 0);
                if ((seg.Attributes & HvVtl.SegmentAttributesReserved) != 0 || !VpInitialContext.Canonical(seg.Base)) return false;
                if (name == HvRegister.Cs && longMode && (seg.Attributes & (AttributeLong | AttributeDefaultBig)) == (AttributeLong | AttributeDefaultBig)) return false;
                if (name == HvRegister.Ldtr) s.Ldtr = seg;
                else if (name == HvRegister.Tr) s.Tr = seg;
                else s.Segments[name - HvRegister.Es] = seg;
                return true;
        }
        if (wide) return false;
        switch (name)
        {
            case HvRegister.Rsp: s.Rsp = v; return true;
            case HvRegister.Rip:
                if (!VpInitialContext.Canonical(v)) return false;
                s.Rip = v;
                return true;
            case HvRegister.Rflags:
                if ((v & (RflagsReserved | RflagsVm)) != 0) return false;
                s.Rflags = v | RflagsFixed1;
                return true;
            case HvRegister.Cr0:
                // no mode change through a register write: PE, and PG in long mode, stay as they are
                if ((v >> 32) != 0 || (v & Cr0Pe) != (s.Cr0 & Cr0Pe) || ((v & Cr0Nw) != 0 && (v & Cr0Cd) == 0)) return false;
                if ((v & Cr0Pg) != (s.Cr0 & Cr0Pg) && ((s.Efer & EferLme) != 0 || (v & Cr0Pe) == 0)) return false;
                s.Cr0 = v;
                return true;
            case HvRegister.Cr3:
                if ((v & Cr3Reserved) != 0) return false;
                s.Cr3 = v;
                return true;
            case HvRegister.Cr4:
                if ((v & ~Cpu.Cpu.Cr4Supported) != 0 || (longMode && (v & Cr4Pae) == 0)) return false;
                s.Cr4 = v;
                return true;
            case HvRegister.Efer:
                if ((v & ~EferAllowed) != 0 || (v & EferLma) != (s.Efer & EferLma)) return false;
                if ((v & EferLme) != (s.Efer & EferLme) && (s.Cr0 & Cr0Pg) != 0) return false;
                s.Efer = v;
                return true;
            case HvRegister.Pat:
                if (!VpInitialContext.ValidPat(v)) return false;
                s.Pat = v;
                return true;
            case HvRegister.KernelGsBase or HvRegister.Lstar or HvRegister.Cstar:
                if (!VpInitialContext.Canonical(v)) return false;
                if (name == HvRegister.KernelGsBase) s.KernelGsBase = v;
                else if (name == HvRegister.Lstar) s.Lstar = v;
                else s.Cstar = v;
                return true;
            case HvRegister.Star: s.Star = v; return true;
            case HvRegister.Sfmask or HvRegister.TscAux:
                if ((v >> 32) != 0) return false;
                if (name == HvRegister.Sfmask) s.Sfmask = v; else s.TscAux = v;
                return true;
        }
        return false;
    }

    internal static void WriteSegment(Span<byte> b, SegmentRegister s)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(b[HvVtl.SegmentBase..], s.Base);
        BinaryPrimitives.WriteUInt32LittleEndian(b[HvVtl.SegmentLimit..], s.Limit);
        BinaryPrimitives.WriteUInt16LittleEndian(b[HvVtl.SegmentSelector..], s.Selector);
        BinaryPrimitives.WriteUInt16LittleEndian(b[HvVtl.SegmentAttributes..], s.Attributes);
    }

    internal static void WriteTable(Span<byte> b, DescriptorTableRegister t)
    {
        b[..HvVtl.TableLimit].Clear();
        BinaryPrimitives.WriteUInt16LittleEndian(b[HvVtl.TableLimit..], t.Limit);
        BinaryPrimitives.WriteUInt64LittleEndian(b[HvVtl.TableBase..], t.Base);
    }
}
