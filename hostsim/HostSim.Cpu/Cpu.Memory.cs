using System.Runtime.CompilerServices;

namespace HekiGuest.HostSim.Cpu;

/// <summary>Guest memory access: software TLB fast path, translator slow path, SMC detection.</summary>
public sealed unsafe partial class Cpu
{
    private const int TlbEntries = 256;
    private const int TlbMask = TlbEntries - 1;
    private const ulong Invalid = ulong.MaxValue;

    // The three TLBs live inside the Cpu object (no array indirection, no bounds checks):
    // Tag = linear page number; Host = host address of the page (read/write) or its physical
    // address (execute).
    private TlbArray _rTlb;
    private TlbArray _wTlb;
    private TlbArray _xTlb;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ref TlbEntry TlbSlot(ref TlbArray tlb, ulong page) =>
        ref Unsafe.Add(ref Unsafe.As<TlbArray, TlbEntry>(ref tlb), (int)page & TlbMask);

    private static void FillInvalid(ref TlbArray tlb)
    {
        // Through a ref rather than the inline-array indexer: the indexer's helper is generic code
        // that ReadyToRun leaves to the JIT.
        ref TlbEntry first = ref Unsafe.As<TlbArray, TlbEntry>(ref tlb);
        for (int i = 0; i < TlbEntries; i++)
        {
            Unsafe.Add(ref first, i).Tag = Invalid;
        }
    }

    /// <summary>Forgets every cached translation.</summary>
    public void FlushTlb()
    {
        (Translator as ITranslationCache)?.InvalidateAll();
        _codeGen++;
        FillInvalid(ref _rTlb);
        FillInvalid(ref _xTlb);
        FlushWriteTlb();
    }

    /// <summary>Forgets cached translations of one linear page.</summary>
    public void FlushTlbPage(ulong linear)
    {
        (Translator as ITranslationCache)?.InvalidatePage(linear);
        _codeGen++;
        ulong page = linear >> 12;
        ref var r = ref TlbSlot(ref _rTlb, page);
        if (r.Tag == page) r.Tag = Invalid;
        ref var w = ref TlbSlot(ref _wTlb, page);
        if (w.Tag == page) w.Tag = Invalid;
        ref var x = ref TlbSlot(ref _xTlb, page);
        if (x.Tag == page) x.Tag = Invalid;
    }

    private void FlushWriteTlb() => FillInvalid(ref _wTlb);

    // ---- public accessors for the machine layer and hooks (linear addresses, current CPL) ----

    /// <summary>Reads guest linear memory; on a fault returns it instead of throwing.</summary>
    public GuestFault? TryReadLinear(ulong linear, Span<byte> destination, bool supervisor = false)
    {
        try
        {
            for (int i = 0; i < destination.Length; i++)
            {
                destination[i] = (byte)ReadSlow(linear + (ulong)i, 1, supervisor ? 0 : Cpl);
            }
            return null;
        }
        catch (GuestFaultException e)
        {
            return e.Fault;
        }
    }

    /// <summary>Writes guest linear memory (with SMC invalidation); on a fault returns it instead of throwing.</summary>
    public GuestFault? TryWriteLinear(ulong linear, ReadOnlySpan<byte> source, bool supervisor = false)
    {
        try
        {
            for (int i = 0; i < source.Length; i++)
            {
                WriteSlow(linear + (ulong)i, 1, source[i], supervisor ? 0 : Cpl);
            }
            return null;
        }
        catch (GuestFaultException e)
        {
            return e.Fault;
        }
    }

    // ---- hot paths ----

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ulong Read(ulong la, int size)
    {
        ulong page = la >> 12;
        ref var e = ref TlbSlot(ref _rTlb, page);
        uint off = (uint)la & 0xFFF;
        if (e.Tag == page && off <= 4096u - (uint)size)
        {
            byte* p = (byte*)e.Host + off;
            switch (size)
            {
                case 1: return *p;
                case 2: return Unsafe.ReadUnaligned<ushort>(p);
                case 4: return Unsafe.ReadUnaligned<uint>(p);
                default: return Unsafe.ReadUnaligned<ulong>(p);
            }
        }
        return ReadSlow(la, size, Cpl);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void Write(ulong la, int size, ulong value)
    {
        ulong page = la >> 12;
        ref var e = ref TlbSlot(ref _wTlb, page);
        uint off = (uint)la & 0xFFF;
        if (e.Tag == page && off <= 4096u - (uint)size)
        {
            byte* p = (byte*)e.Host + off;
            switch (size)
            {
                case 1: *p = (byte)value; return;
                case 2: Unsafe.WriteUnaligned(p, (ushort)value); return;
                case 4: Unsafe.WriteUnaligned(p, (uint)value); return;
                default: Unsafe.WriteUnaligned(p, value); return;
            }
        }
        WriteSlow(la, size, value, Cpl);
    }

    /// <summary>Checks that a write of <paramref name="size"/> bytes at <paramref name="la"/> would succeed (for instructions that must not fault half-way).</summary>
    internal void ProbeWrite(ulong la, int size)
    {
        ulong page = la >> 12;
        if (TlbSlot(ref _wTlb, page).Tag == page && ((uint)la & 0xFFF) <= 4096u - (uint)size)
        {
            return;
        }
        TranslateData(la, AccessKind.Write, 1, Cpl);
        ulong last = la + (ulong)size - 1;
        if ((last >> 12) != page)
        {
            TranslateData(last, AccessKind.Write, 1, Cpl);
        }
    }

    internal ulong Read128Lo(ulong la, out ulong hi)
    {
        ulong lo = Read(la, 8);
        hi = Read(la + 8, 8);
        return lo;
    }

    // ---- slow paths ----

    private ulong TranslateData(ulong la, AccessKind kind, int size, int cpl)
    {
        if (!Translator.TryTranslate(la, kind, size, cpl, out ulong phys, out var fault))
        {
            Raise(fault);
        }
        if (phys >= Memory.Size || Memory.Size - phys < (ulong)size)
        {
            Raise(GuestFault.GP());
        }
        return phys;
    }

    internal ulong TranslateExec(ulong la)
    {
        return TranslateData(la, AccessKind.Execute, 1, Cpl);
    }

    /// <summary>The physical page (base address) an instruction fetch at <paramref name="la"/> reads, through the execute TLB.</summary>
    private ulong ExecPhysPage(ulong la)
    {
        ref var x = ref TlbSlot(ref _xTlb, la >> 12);
        if (x.Tag != la >> 12)
        {
            FillExecTlb(la);
        }
        return (ulong)x.Host;
    }

    private void FillExecTlb(ulong la)
    {
        ulong phys = TranslateExec(la);
        ref var e = ref TlbSlot(ref _xTlb, la >> 12);
        e.Tag = la >> 12;
        e.Host = (nint)(phys & ~0xFFFUL);
    }

    private ulong ReadSlow(ulong la, int size, int cpl)
    {
        uint off = (uint)la & 0xFFF;
        if (off + (uint)size <= 4096)
        {
            ulong phys = TranslateData(la, AccessKind.Read, size, cpl);
            if (cpl == Cpl)
            {
                ref var e = ref TlbSlot(ref _rTlb, la >> 12);
                e.Tag = la >> 12;
                e.Host = (nint)(Memory.Base + (phys & ~0xFFFUL));
            }
            return ReadPhys(phys, size);
        }
        // page-crossing: translate both halves first, then assemble little-endian
        int first = (int)(4096 - off);
        ulong p1 = TranslateData(la, AccessKind.Read, first, cpl);
        ulong p2 = TranslateData(la + (ulong)first, AccessKind.Read, size - first, cpl);
        ulong v = 0;
        for (int i = 0; i < size; i++)
        {
            ulong b = i < first ? Memory.Base[p1 + (ulong)i] : Memory.Base[p2 + (ulong)(i - first)];
            v |= b << (8 * i);
        }
        return v;
    }

    private ulong ReadPhys(ulong phys, int size)
    {
        byte* p = Memory.Base + phys;
        return size switch
        {
            1 => *p,
            2 => Unsafe.ReadUnaligned<ushort>(p),
            4 => Unsafe.ReadUnaligned<uint>(p),
            _ => Unsafe.ReadUnaligned<ulong>(p),
        };
    }

    private void WriteSlow(ulong la, int size, ulong value, int cpl)
    {
        uint off = (uint)la & 0xFFF;
        if (off + (uint)size <= 4096)
        {
            ulong phys = TranslateData(la, AccessKind.Write, size, cpl);
            ulong ppage = phys >> 12;
            if (_codePages[ppage] != 0)
            {
                InvalidateCodePage(ppage);
            }
            else if (cpl == Cpl)
            {
                ref var e = ref TlbSlot(ref _wTlb, la >> 12);
                e.Tag = la >> 12;
                e.Host = (nint)(Memory.Base + (phys & ~0xFFFUL));
            }
            byte* p = Memory.Base + phys;
            switch (size)
            {
                case 1: *p = (byte)value; break;
                case 2: Unsafe.WriteUnaligned(p, (ushort)value); break;
                case 4: Unsafe.WriteUnaligned(p, (uint)value); break;
                default: Unsafe.WriteUnaligned(p, value); break;
            }
            return;
        }
        int first = (int)(4096 - off);
        ulong p1 = TranslateData(la, AccessKind.Write, first, cpl);
        ulong p2 = TranslateData(la + (ulong)first, AccessKind.Write, size - first, cpl);
        if (_codePages[p1 >> 12] != 0) InvalidateCodePage(p1 >> 12);
        if (_codePages[p2 >> 12] != 0) InvalidateCodePage(p2 >> 12);
        for (int i = 0; i < size; i++)
        {
            byte b = (byte)(value >> (8 * i));
            if (i < first) Memory.Base[p1 + (ulong)i] = b;
            else Memory.Base[p2 + (ulong)(i - first)] = b;
        }
    }

    /// <summary>Supervisor (implicit) read used for descriptor tables.</summary>
    internal ulong ReadSystem(ulong la, int size) => ReadSlow(la, size, 0);

    internal void WriteSystem(ulong la, int size, ulong value) => WriteSlow(la, size, value, 0);
}

/// <summary>One software-TLB entry.</summary>
internal struct TlbEntry
{
    public ulong Tag;
    public nint Host;
}

/// <summary>A direct-mapped software TLB stored inline in the <see cref="Cpu"/> object.</summary>
[InlineArray(256)]
internal struct TlbArray
{
    private TlbEntry _element0;
}
