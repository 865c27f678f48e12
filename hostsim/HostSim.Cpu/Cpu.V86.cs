namespace HekiGuest.HostSim.Cpu;

/// <summary>
/// Virtual-8086 mode (Intel SDM vol. 3 chapter 20.2-20.3), entered with EFLAGS.VM = 1 by IRET from
/// CPL 0 in 32-bit protected mode or by a task switch to a TSS whose EFLAGS image has VM set. It
/// runs 16-bit code at CPL 3 with 8086 addressing: every segment load sets base = selector x 16
/// (limit FFFFH, no descriptor), offsets wrap at 64 KiB and linear addresses reach 10FFEFH (no A20
/// wrap-around, as on a CPU with A20 enabled); paging, if on, translates them at user privilege.
/// IOPL-sensitive instructions (CLI, STI, PUSHF, POPF, INT n, IRET) raise #GP(0) when IOPL &lt; 3;
/// with IOPL = 3 POPF and IRET cannot change IOPL (nor VM). IN/OUT/INS/OUTS are checked against the
/// TSS's I/O permission bitmap (not IOPL). INT3, INTO and BOUND are not IOPL-sensitive. Interrupts
/// and exceptions leave v86 through a 32-bit (or 16-bit) interrupt/trap gate to a DPL 0 code
/// segment: the machine's delivery pushes GS, FS, DS, ES, SS, ESP, EFLAGS, CS, EIP and zeroes the
/// data segment registers. CR4.VME/PVI (virtual interrupt flags, redirection bitmap) are not
/// implemented and not advertised; in IA-32e mode VM can never be set (IRET ignores it).
/// </summary>
public sealed partial class Cpu
{
    /// <summary>True in virtual-8086 mode: EFLAGS.VM = 1 in protected mode outside IA-32e mode.</summary>
    public bool V86Mode => (Rflags & Flag.VM) != 0 && (Cr0 & 1) != 0 && (Efer & 0x400) == 0;

    private bool IoplBelow3 => ((Rflags >> 12) & 3) < 3;

    /// <summary>Segment loads with base = selector x 16: real-address and virtual-8086 mode.</summary>
    private bool ParagraphSegments => RealMode || V86Mode;

    /// <summary>Loads all six segment registers the virtual-8086 way (call with VM already set).</summary>
    private void EnterV86Segments(ReadOnlySpan<ushort> selectors)
    {
        for (int s = 0; s < 6; s++)
        {
            Segments[s] = new SegmentRegister
            {
                Selector = selectors[s],
                Base = (ulong)selectors[s] << 4,
                Limit = 0xFFFF,
                Attributes = s == CS ? (ushort)0x00FB : (ushort)0x00F3,   // present, DPL 3, 16-bit code / writable data
            };
        }
        UpdateMode();
    }

    /// <summary>CLI, STI, PUSHF, POPF, INT n and IRET in virtual-8086 mode with IOPL &lt; 3: #GP(0).</summary>
    private void RequireV86Iopl()
    {
        if (V86Mode && IoplBelow3) Raise(GuestFault.GP());
    }

    /// <summary>IRET in virtual-8086 mode (IOPL = 3): pops IP, CS, FLAGS like real mode; IOPL and
    /// VM are kept.</summary>
    private void V86InterruptReturn(int size)
    {
        if (IoplBelow3) Raise(GuestFault.GP());
        ulong ip = PeekStack(0, size);
        ushort sel = (ushort)PeekStack((ulong)size, size);
        ulong flags = PeekStack((ulong)(2 * size), size);
        if ((ip & ~0xFFFFUL) != 0) Raise(GuestFault.GP());   // beyond the 64 KiB code segment
        LoadRealModeSegment(CS, sel);
        Rip = ip;
        SetSp(Gpr[RSP] + (ulong)(3 * size));
        ulong writable = (Flag.Writable & ~Flag.IOPL) | Flag.VIF | Flag.VIP;
        if (size == 2) writable &= 0xFFFF;
        Rflags = (Rflags & ~writable) | (flags & writable) | Flag.Reserved1;
    }

    /// <summary>IRET from CPL 0 (32-bit operand size) whose EFLAGS image has VM = 1 (SDM vol. 2
    /// IRET, RETURN-TO-VIRTUAL-8086-MODE): pops EIP, CS, EFLAGS, ESP, SS, ES, DS, FS, GS.</summary>
    private void ReturnToV86()
    {
        Span<ulong> v = stackalloc ulong[9];
        for (int i = 0; i < 9; i++) v[i] = PeekStack((ulong)(i * 4), 4);
        Rflags = (v[2] & (Flag.Writable | Flag.VM | Flag.VIF | Flag.VIP)) | Flag.Reserved1;
        Span<ushort> sels = stackalloc ushort[6];
        sels[CS] = (ushort)v[1];
        sels[SS] = (ushort)v[4];
        sels[ES] = (ushort)v[5];
        sels[DS] = (ushort)v[6];
        sels[FS] = (ushort)v[7];
        sels[GS] = (ushort)v[8];
        EnterV86Segments(sels);
        Gpr[RSP] = (uint)v[3];
        Rip = v[0] & 0xFFFF;
    }

    /// <summary>
    /// The I/O permission check of IN/OUT/INS/OUTS (SDM vol. 1 19.5): nothing in real mode or when
    /// CPL &lt;= IOPL in protected mode; in virtual-8086 mode, and at CPL &gt; IOPL in 32-bit
    /// protected mode, every bit of the accessed ports in the TSS's I/O permission bitmap must be
    /// clear (bitmap base at TSS offset 66H; a bit beyond the TSS limit counts as set), else
    /// #GP(0). In IA-32e mode CPL &gt; IOPL is #GP(0) without consulting the bitmap.
    /// </summary>
    private void RequireIoPermission(ushort port, int size)
    {
        if (RealMode) return;
        bool v86 = V86Mode;
        if (!v86 && (ulong)Cpl <= ((Rflags >> 12) & 3)) return;
        if (LongModeActive) Raise(GuestFault.GP());
        var tr = Tr;
        if ((tr.Attributes & 0x1F) is not (TypeTss32Available or TypeTss32Busy) || tr.Limit < TssMinimumLimit) Raise(GuestFault.GP());
        ulong mapBase = ReadSystem((tr.Base + 0x66) & 0xFFFF_FFFF, 2);
        ulong offset = mapBase + (ulong)(port >> 3);
        if (offset + 1 > tr.Limit) Raise(GuestFault.GP());
        uint bits = (uint)ReadSystem((tr.Base + offset) & 0xFFFF_FFFF, 2);
        uint mask = ((1u << size) - 1) << (port & 7);
        if ((bits & mask) != 0) Raise(GuestFault.GP());
    }
}
