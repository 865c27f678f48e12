using System.Buffers.Binary;
using HekiGuest.Abi;
using HekiGuest.HostSim.Cpu;

namespace HekiGuest.HostSim.Vsm;

/// <summary>
/// The 224-byte initial context of EnableVpVtl (docs/vtl.md section 6), decoded and checked into
/// a <see cref="VtlPrivateState"/>. Every field that hostsim could not load as given is
/// HV_STATUS_INVALID_PARAMETER: a non-canonical RIP or base, reserved RFLAGS/CR0/CR4/EFER/PAT/CR3
/// bits, reserved segment-attribute bits, a context without protected mode (VTL &gt; 0 has no real
/// mode), paging without protection, EFER.LMA not equal to LME and PG, long mode without PAE, or a
/// CS with both L and D. The SYSCALL MSRs, KERNEL_GS_BASE and TSC_AUX start at 0, DR7 at 0x400.
/// </summary>
public static class VpInitialContext
{
    private const ulong RflagsFixed1 = 1UL << 1;
    private const ulong RflagsReserved = (1UL << 3) | (1UL << 5) | (1UL << 15) | ~0x3FFFFFUL;
    private const ulong Cr0Pe = 1, Cr0Pg = 1UL << 31, Cr0Reserved = ~0xFFFF_FFFFUL;
    private const ulong Cr4Pae = 1UL << 5;
    private const ulong EferSce = 1, EferLme = 1UL << 8, EferLma = 1UL << 10, EferNxe = 1UL << 11;
    private const ulong EferAllowed = EferSce | EferLme | EferLma | EferNxe;
    private const ulong Cr3Reserved = 0xFFF0_0000_0000_0000UL;
    private const ushort AttributeLong = 0x2000, AttributeDefaultBig = 0x4000;

    public static ushort TryParse(ReadOnlySpan<byte> context, out VtlPrivateState state)
    {
        state = new VtlPrivateState();
        if (context.Length != HvVtl.ContextSize) return HvStatus.InvalidParameter;
        state.Rip = U64(context, HvVtl.ContextRip);
        state.Rsp = U64(context, HvVtl.ContextRsp);
        state.Rflags = U64(context, HvVtl.ContextRflags) | RflagsFixed1;
        state.Efer = U64(context, HvVtl.ContextEfer);
        state.Cr0 = U64(context, HvVtl.ContextCr0);
        state.Cr3 = U64(context, HvVtl.ContextCr3);
        state.Cr4 = U64(context, HvVtl.ContextCr4);
        state.Pat = U64(context, HvVtl.ContextPat);
        state.Segments[Cpu.Cpu.CS] = Segment(context, HvVtl.ContextCs);
        state.Segments[Cpu.Cpu.DS] = Segment(context, HvVtl.ContextDs);
        state.Segments[Cpu.Cpu.ES] = Segment(context, HvVtl.ContextEs);
        state.Segments[Cpu.Cpu.FS] = Segment(context, HvVtl.ContextFs);
        state.Segments[Cpu.Cpu.GS] = Segment(context, HvVtl.ContextGs);
        state.Segments[Cpu.Cpu.SS] = Segment(context, HvVtl.ContextSs);
        state.Tr = Segment(context, HvVtl.ContextTr);
        state.Ldtr = Segment(context, HvVtl.ContextLdtr);
        state.Idtr = Table(context, HvVtl.ContextIdtr);
        state.Gdtr = Table(context, HvVtl.ContextGdtr);
        return Valid(context, state) ? HvStatus.Success : HvStatus.InvalidParameter;
    }

    private static bool Valid(ReadOnlySpan<byte> context, VtlPrivateState s)
    {
        if (!Canonical(s.Rip) || (s.Rflags & RflagsReserved) != 0) return false;
        if ((s.Cr0 & Cr0Reserved) != 0 || (s.Cr0 & Cr0Pe) == 0) return false;
        if ((s.Cr4 & ~Cpu.Cpu.Cr4Supported) != 0 || (s.Cr3 & Cr3Reserved) != 0) return false;
        if ((s.Efer & ~EferAllowed) != 0) return false;
        bool longMode = (s.Efer & EferLme) != 0 && (s.Cr0 & Cr0Pg) != 0;
        if (((s.Efer & EferLma) != 0) != longMode) return false;
        if (longMode && (s.Cr4 & Cr4Pae) == 0) return false;
        if (!ValidPat(s.Pat)) return false;
        foreach (int offset in (ReadOnlySpan<int>)[HvVtl.ContextCs, HvVtl.ContextDs, HvVtl.ContextEs, HvVtl.ContextFs, HvVtl.ContextGs, HvVtl.ContextSs, HvVtl.ContextTr, HvVtl.ContextLdtr])
        {
            var seg = Segment(context, offset);
            if ((seg.Attributes & HvVtl.SegmentAttributesReserved) != 0 || !Canonical(seg.Base)) return false;
        }
        var cs = s.Segments[Cpu.Cpu.CS];
        if (longMode && (cs.Attributes & (AttributeLong | AttributeDefaultBig)) == (AttributeLong | AttributeDefaultBig)) return false;
        // the pad of each table record is reserved
        foreach (int offset in (ReadOnlySpan<int>)[HvVtl.ContextIdtr, HvVtl.ContextGdtr])
        {
            if (context.Slice(offset, HvVtl.TableLimit).ContainsAnyExcept((byte)0)) return false;
        }
        return Canonical(s.Gdtr.Base) && Canonical(s.Idtr.Base);
    }

    /// <summary>Each PAT entry (bits 2:0 of each byte, bits 7:3 reserved) is UC, WC, WT, WP, WB or UC-.</summary>
    internal static bool ValidPat(ulong pat)
    {
        for (int i = 0; i < 8; i++)
        {
            ulong entry = (pat >> (i * 8)) & 0xFF;
            if (entry is 2 or 3 or > 7) return false;
        }
        return true;
    }

    internal static bool Canonical(ulong address) => (ulong)((long)(address << 16) >> 16) == address;

    private static ulong U64(ReadOnlySpan<byte> b, int offset) => BinaryPrimitives.ReadUInt64LittleEndian(b[offset..]);

    internal static SegmentRegister Segment(ReadOnlySpan<byte> b, int offset) => new()
    {
        Base = U64(b, offset + HvVtl.SegmentBase),
        Limit = BinaryPrimitives.ReadUInt32LittleEndian(b[(offset + HvVtl.SegmentLimit)..]),
        Selector = BinaryPrimitives.ReadUInt16LittleEndian(b[(offset + HvVtl.SegmentSelector)..]),
        Attributes = BinaryPrimitives.ReadUInt16LittleEndian(b[(offset + HvVtl.SegmentAttributes)..]),
    };

    internal static DescriptorTableRegister Table(ReadOnlySpan<byte> b, int offset) => new()
    {
        Limit = BinaryPrimitives.ReadUInt16LittleEndian(b[(offset + HvVtl.TableLimit)..]),
        Base = U64(b, offset + HvVtl.TableBase),
    };
}
