namespace HekiGuest.HostSim.GuestFuzz;

/// <summary>
/// Fills a code area with random bytes biased towards what is interesting for a hypervisor's
/// enforcement: runs of uniform random bytes, prefixes (operand/address size, LOCK, REP,
/// segment overrides, REX in 64-bit code), 0F escapes with random ModRM, and whole encodings of
/// system instructions (MOV to/from CRn, WRMSR/RDMSR, VMCALL/VMMCALL, REP string operations,
/// IRET, POPF, SYSCALL/SYSRET/SYSENTER, LGDT/LIDT/LTR/LLDT, SGDT/SIDT, INVLPG, segment loads,
/// far transfers, INT n, HLT, port I/O, SWAPGS, STAC/CLAC, XSETBV) and immediate loads of
/// interesting values (MSR numbers, hypercall numbers, CR values, huge counts), and stores of
/// page-table entries naming protected pages into the entries the guest's paging uses.
/// </summary>
public static class RandomCode
{
    private static readonly byte[] Prefixes = [0x66, 0x67, 0xF0, 0xF2, 0xF3, 0x2E, 0x36, 0x3E, 0x26, 0x64, 0x65];

    private static readonly byte[][] Interesting =
    [
        [0x0F, 0x22, 0xC0], [0x0F, 0x22, 0xE0], [0x0F, 0x22, 0xD8], [0x0F, 0x22, 0xD0], [0x0F, 0x22, 0xC3], [0x0F, 0x22, 0xE3],  // mov crN, reg
        [0x0F, 0x20, 0xC0], [0x0F, 0x20, 0xE0], [0x0F, 0x20, 0xD8],                                                           // mov reg, crN
        [0x44, 0x0F, 0x22, 0xC0],                                                                                              // mov cr8, rax
        [0x0F, 0x30], [0x0F, 0x32], [0x0F, 0x01, 0xC1], [0x0F, 0x01, 0xD9],                                                    // wrmsr, rdmsr, vmcall, vmmcall
        [0xF3, 0xA4], [0xF3, 0xA5], [0xF3, 0xAA], [0xF3, 0xAB], [0xF3, 0xAC], [0xF3, 0xAD], [0xF3, 0x48, 0xAB], [0xF3, 0x48, 0xA5],
        [0xF2, 0xAE], [0xF3, 0xA6], [0xF3, 0x6C], [0xF3, 0x6E], [0xFD, 0xF3, 0xAA], [0xF3, 0x67, 0xAA],                       // rep string ops
        [0xCF], [0x48, 0xCF], [0x66, 0xCF], [0x9D], [0x9C], [0x66, 0x9D],                                                      // iret, popf, pushf
        [0x0F, 0x05], [0x0F, 0x07], [0x48, 0x0F, 0x07], [0x0F, 0x34], [0x0F, 0x35],                                           // syscall, sysret, sysenter, sysexit
        [0x0F, 0x01, 0x10], [0x0F, 0x01, 0x18], [0x0F, 0x01, 0x00], [0x0F, 0x01, 0x08],                                       // lgdt, lidt, sgdt, sidt [rax]
        [0x0F, 0x00, 0xD8], [0x0F, 0x00, 0xD0], [0x0F, 0x00, 0xC8], [0x0F, 0x00, 0xC0],                                       // ltr, lldt, str, sldt
        [0x0F, 0x01, 0x38], [0x0F, 0x01, 0x3B], [0x0F, 0x09], [0x0F, 0x08], [0x0F, 0x06],                                     // invlpg, wbinvd, invd, clts
        [0x8E, 0xD8], [0x8E, 0xD0], [0x8E, 0xC0], [0x8E, 0xE0], [0x8E, 0xE8], [0x0F, 0xB2, 0x00],                             // mov seg, ax; lss
        [0xFF, 0x28], [0xFF, 0x18], [0xCB], [0xCA, 0x08, 0x00], [0x48, 0xCB], [0xEA],                                         // far jmp/call/ret
        [0xCD, 0x80], [0xCD, 0x0E], [0xCD, 0x08], [0xCD, 0x02], [0xCC], [0xCE], [0xF1], [0x0F, 0x0B],                          // int n, int3, into, int1, ud2
        [0xF4], [0xFA], [0xFB], [0xE6, 0xF4], [0xEE], [0xEC], [0xE4, 0x64], [0xE6, 0x80],                                     // hlt, cli, sti, port i/o
        [0x0F, 0x01, 0xF8], [0x0F, 0x01, 0xF9], [0x0F, 0x01, 0xCA], [0x0F, 0x01, 0xCB], [0x0F, 0x01, 0xD1], [0x0F, 0x01, 0xD0], // swapgs, rdtscp, clac, stac, xsetbv, xgetbv
        [0x0F, 0xA2], [0x0F, 0x31], [0x0F, 0xAE, 0x00], [0x0F, 0xAE, 0x08], [0x0F, 0x01, 0xE0], [0x0F, 0x01, 0xF0],          // cpuid, rdtsc, fxsave, fxrstor, smsw, lmsw
        [0x0F, 0x21, 0xC0], [0x0F, 0x23, 0xF8], [0x0F, 0x23, 0xC0],                                                           // mov dr
        [0x48, 0x89, 0x20], [0x48, 0x89, 0x00], [0x48, 0x89, 0x07], [0x48, 0x89, 0x1E], [0x48, 0x89, 0x0A], [0x4C, 0x89, 0x07], [0x0F, 0x01, 0x3F], [0x88, 0x00], [0xF0, 0x48, 0x0F, 0xB1, 0x08], [0x48, 0x87, 0x00],             // stores through pointers
        [0x48, 0x8B, 0x00], [0xFF, 0xE0], [0xFF, 0xD0], [0xFF, 0x20], [0xC3], [0xC2, 0x10, 0x00],                              // loads, indirect jmp/call, ret
    ];

    private static readonly ulong[] Immediates =
    [
        0xC000_0080, 0xC000_0081, 0xC000_0082, 0xC000_0083, 0xC000_0084, 0xC000_0100, 0xC000_0101, 0xC000_0102, 0x174, 0x175, 0x176,
        0x48454B00, 0x48454B01, 0x48454B02, 0x48454B03, 0x48454B04, 0x48454B05, 0x48454B06,
        0x48450000, 0x48450001, 0x48450002, 0x48450003, 0x80000033, 0x80000011, 0x620, 0x320620, 0x0,
        0xFFFF_FFFF, 0xFFFF, 0x4000_0000, 0x10000, 0x10008, 0x8000, 0x9000, 0xA000, 0x1000, 0x4000, GuestLayout.RangeArray,
    ];

    /// <summary>Fills <paramref name="area"/> with random code for <paramref name="bitness"/>-bit mode.</summary>
    public static void Fill(Span<byte> area, int bitness, SeedRandom rng)
    {
        int at = 0;
        Span<byte> piece = stackalloc byte[32];
        while (at < area.Length)
        {
            int n = NextPiece(piece, bitness, rng);
            int take = Math.Min(n, area.Length - at);
            piece[..take].CopyTo(area[at..]);
            at += take;
        }
    }

    private static int NextPiece(Span<byte> p, int bitness, SeedRandom rng)
    {
        int n = 0;
        int kind = rng.Next(100);
        if (kind < 35)
        {
            // uniform random bytes
            int len = 1 + rng.Next(8);
            for (int i = 0; i < len; i++) p[n++] = rng.NextByte();
            return n;
        }
        // optional prefixes
        while (rng.Chance(20) && n < 4) p[n++] = rng.Pick(Prefixes);
        if (bitness == 64 && rng.Chance(40)) p[n++] = (byte)(0x40 | rng.Next(16));
        if (kind < 55)
        {
            // a known-interesting instruction
            var insn = rng.Pick(Interesting);
            insn.CopyTo(p[n..]);
            n += insn.Length;
            if (insn.Length == 1 && insn[0] == 0xEA)
            {
                // far jmp ptr16:32 (invalid in 64-bit code, which then sees random bytes)
                for (int i = 0; i < 4; i++) p[n++] = (byte)(rng.NextU64() & (i < 2 ? 0xFFUL : 0x0FUL));
                ushort sel = rng.Pick(Selectors);
                p[n++] = (byte)sel;
                p[n++] = (byte)(sel >> 8);
            }
            return n;
        }
        if (kind < 60 && bitness != 16)
        {
            // a direct store of a page-table entry naming a protected page (or a 2 MiB alias of
            // low memory) into an entry the guest's paging uses: mov qword/dword [abs], imm32
            ulong slot = rng.Pick(PageTableSlots);
            uint entry = rng.Pick(ProtectedEntries);
            if (bitness == 64)
            {
                p[n++] = 0x48;
                p[n++] = 0xC7;
                p[n++] = 0x04;
                p[n++] = 0x25;
            }
            else
            {
                p[n++] = 0xC7;
                p[n++] = 0x05;
            }
            for (int i = 0; i < 4; i++) p[n++] = (byte)(slot >> (8 * i));
            for (int i = 0; i < 4; i++) p[n++] = (byte)(entry >> (8 * i));
            return n;
        }
        if (kind < 70)
        {
            // load an interesting immediate: mov r32, imm32 (B8+r) or, in 64-bit code, mov r64, imm64
            int reg = rng.Next(8);
            ulong value = rng.Chance(80) ? rng.Pick(Immediates) : rng.NextU64();
            if (bitness == 64 && rng.Chance(30))
            {
                p[n++] = (byte)(0x48 | (reg >> 3));
                p[n++] = (byte)(0xB8 + (reg & 7));
                for (int i = 0; i < 8; i++) p[n++] = (byte)(value >> (8 * i));
            }
            else
            {
                p[n++] = (byte)(0xB8 + reg);
                int size = bitness == 16 ? 2 : 4;
                for (int i = 0; i < size; i++) p[n++] = (byte)(value >> (8 * i));
            }
            return n;
        }
        // an opcode (one byte or 0F-escaped) with ModRM and random displacement / immediate bytes
        if (rng.Chance(50))
        {
            p[n++] = 0x0F;
            if (rng.Chance(15)) p[n++] = rng.Chance(50) ? (byte)0x38 : (byte)0x3A;
        }
        p[n++] = rng.NextByte();
        p[n++] = rng.NextByte();
        int tail = rng.Next(7);
        for (int i = 0; i < tail; i++) p[n++] = rng.NextByte();
        return n;
    }

    /// <summary>Paging-structure entries in use: PML4[0], PDPT[0..1], PD[0..2], PTEs of the IST
    /// stack, the kernel data and stack, the heap's first user pages.</summary>
    private static readonly ulong[] PageTableSlots =
    [
        GuestLayout.Pml4, GuestLayout.Pdpt, GuestLayout.Pdpt + 8, GuestLayout.Pd, GuestLayout.Pd + 8, GuestLayout.Pd + 16,
        GuestLayout.Pt0 + (GuestLayout.KernelData >> 12) * 8, GuestLayout.Pt0 + ((GuestLayout.Ist1Top - 0x1000) >> 12) * 8,
        GuestLayout.Pt0 + ((GuestLayout.KernelStackTop - 0x1000) >> 12) * 8, GuestLayout.Pt1 + 8 * 8, GuestLayout.Pt1 + 0x20 * 8,
    ];

    /// <summary>Entries (present, writable, user) naming protected pages as the next paging level
    /// or as the page, and a 2 MiB page over low memory.</summary>
    private static readonly uint[] ProtectedEntries =
    [
        (uint)GuestLayout.Rodata | 7, (uint)GuestLayout.Gdt | 7, (uint)GuestLayout.Idt | 7, (uint)GuestLayout.Tss | 7,
        (uint)GuestLayout.Text | 7, (uint)GuestLayout.Text + 0x1000 | 7, (uint)GuestLayout.KernelCode | 7, 0x87,
    ];

    private static readonly ushort[] Selectors =
    [
        GuestLayout.KernelCs64, GuestLayout.KernelDs, GuestLayout.KernelCs32, GuestLayout.KernelCs16, GuestLayout.UserDs,
        GuestLayout.UserCs64, GuestLayout.UserCs32, GuestLayout.UserCs16, GuestLayout.TssSelector, 0, 0x50, 0xFFFF,
    ];
}
