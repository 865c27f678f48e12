namespace HekiGuest.HostSim.Cpu;

/// <summary>
/// DR0-DR3 and DR7 decoded (SDM vol. 3 18.2.4): for each of the four breakpoints whether it is
/// enabled (L or G), its kind (R/W: 00 execute, 01 data write, 10 I/O with CR4.DE, 11 data read
/// or write) and its length (LEN: 1, 2, 8 or 4 bytes; the address aligned down to it). Matching
/// returns the DR6 B0-B3 bits of the breakpoints hit. A value type with no reference to the CPU,
/// so a host debugger can keep its own set and use the same matching.
/// </summary>
public readonly struct DebugBreakpoints
{
    private readonly ulong _a0, _a1, _a2, _a3;
    private readonly byte _len0, _len1, _len2, _len3;

    private DebugBreakpoints(ulong[] address, byte[] length, uint exec, uint dataWrite, uint dataRead, uint io)
    {
        (_a0, _a1, _a2, _a3) = (address[0], address[1], address[2], address[3]);
        (_len0, _len1, _len2, _len3) = (length[0], length[1], length[2], length[3]);
        ExecMask = exec;
        WriteMask = dataWrite;
        ReadMask = dataRead;
        IoMask = io;
    }

    /// <summary>Instruction breakpoints enabled (bit i = DRi).</summary>
    public uint ExecMask { get; }

    /// <summary>Data breakpoints that trigger on writes (R/W 01 and 11).</summary>
    public uint WriteMask { get; }

    /// <summary>Data breakpoints that trigger on reads (R/W 11).</summary>
    public uint ReadMask { get; }

    /// <summary>I/O breakpoints (R/W 10, only with CR4.DE).</summary>
    public uint IoMask { get; }

    public uint DataMask => WriteMask | ReadMask;

    public uint EnabledMask => ExecMask | DataMask | IoMask;

    public ulong Address(int i) => i switch { 0 => _a0, 1 => _a1, 2 => _a2, _ => _a3 };

    public int Length(int i) => i switch { 0 => _len0, 1 => _len1, 2 => _len2, _ => _len3 };

    /// <summary>Decodes DR0-DR3/DR7 (<paramref name="dr"/> holds DR0..DR7); <paramref name="cr4De"/>
    /// makes R/W = 10 an I/O breakpoint (without it the encoding is undefined: ignored here).</summary>
    public static DebugBreakpoints Decode(ulong[] dr, bool cr4De)
    {
        ulong dr7 = dr[7];
        var address = new ulong[4];
        var length = new byte[4];
        uint exec = 0, write = 0, read = 0, io = 0;
        for (int i = 0; i < 4; i++)
        {
            bool enabled = ((dr7 >> (2 * i)) & 3) != 0;
            int rw = (int)(dr7 >> (16 + 4 * i)) & 3;
            int len = (int)(dr7 >> (18 + 4 * i)) & 3;
            byte bytes = len switch { 0 => 1, 1 => 2, 2 => 8, _ => 4 };
            length[i] = rw == 0 ? (byte)1 : bytes;
            address[i] = rw == 0 ? dr[i] : dr[i] & ~(ulong)(bytes - 1);
            if (!enabled) continue;
            uint bit = 1u << i;
            switch (rw)
            {
                case 0: exec |= bit; break;
                case 1: write |= bit; break;
                case 2: if (cr4De) io |= bit; break;
                default: write |= bit; read |= bit; break;
            }
        }
        return new DebugBreakpoints(address, length, exec, write, read, io);
    }

    /// <summary>Instruction breakpoints at the linear address of an instruction's first byte.</summary>
    public uint MatchExec(ulong linear)
    {
        uint hits = 0;
        for (int i = 0; i < 4; i++)
        {
            if ((ExecMask & (1u << i)) != 0 && Address(i) == linear) hits |= 1u << i;
        }
        return hits;
    }

    /// <summary>Data breakpoints an access of <paramref name="size"/> bytes at <paramref name="linear"/> overlaps.</summary>
    public uint MatchData(ulong linear, int size, bool write)
    {
        uint mask = write ? WriteMask : ReadMask;
        uint hits = 0;
        for (int i = 0; i < 4; i++)
        {
            if ((mask & (1u << i)) != 0 && Overlaps(linear, (ulong)size, Address(i), (ulong)Length(i))) hits |= 1u << i;
        }
        return hits;
    }

    /// <summary>I/O breakpoints an access of <paramref name="size"/> bytes at <paramref name="port"/> overlaps.</summary>
    public uint MatchIo(ushort port, int size)
    {
        uint hits = 0;
        for (int i = 0; i < 4; i++)
        {
            if ((IoMask & (1u << i)) != 0 && Overlaps(port, (ulong)size, Address(i) & 0xFFFF, (ulong)Length(i))) hits |= 1u << i;
        }
        return hits;
    }

    /// <summary>True when a data breakpoint covers part of the 4 KiB linear page.</summary>
    public bool WatchesPage(ulong page)
    {
        for (int i = 0; i < 4; i++)
        {
            if ((DataMask & (1u << i)) != 0 && (Address(i) >> 12 == page || (Address(i) + (ulong)Length(i) - 1) >> 12 == page)) return true;
        }
        return false;
    }

    private static bool Overlaps(ulong a, ulong aLen, ulong b, ulong bLen) => a < b + bLen && b < a + aLen;
}
