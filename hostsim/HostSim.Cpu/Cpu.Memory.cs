using System.Runtime.CompilerServices;

namespace HekiGuest.HostSim.Cpu;

/// <summary>Guest memory access: software TLB fast path, translator slow path, SMC detection.</summary>
public sealed unsafe partial class Cpu
{
    private const int TlbEntries = 256;
    private const int TlbMask = TlbEntries - 1;
    private const ulong Invalid = ulong.MaxValue;

    // The three TLBs live inside the Cpu object (no array indirection, no bounds checks):
    // Tag = linear page number | translation context << 56 (TlbTag); Host = host address of the page (read/write) or its physical
    // address (execute).
    private TlbArray _rTlb;
    private TlbArray _wTlb;
    private TlbArray _xTlb;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ref TlbEntry TlbSlot(ref TlbArray tlb, ulong page) =>
        ref Unsafe.Add(ref Unsafe.As<TlbArray, TlbEntry>(ref tlb), ((int)page ^ (int)(page >> TlbContextSlotShift)) & TlbMask);

    // a context's tag bits (Cpu.TranslationContexts.cs) also move its entries to other slots, so
    // two contexts running code at the same linear pages do not evict each other
    private const int TlbContextSlotShift = 53;

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

    // What the cached translations (TLBs, and through the code generation the jump cache) were
    // checked under: every input of a permission decision. SyncTranslationContext compares it
    // with the live state and flushes on any difference, so no path that changes one of them
    // (POPF, IRET, SYSRET, SYSCALL's SFMASK, exception delivery, the host editing registers)
    // can leave translations checked under the old value in use.
    private ulong _ctxCr0, _ctxCr3, _ctxCr4, _ctxEfer, _ctxAc;
    private int _ctxCpl = -1;

    private const ulong RflagsAc = 1UL << 18;
    private const ulong Cr4Smap = 1UL << 21;
    private const ulong Cr0Wp = 1UL << 16;

    // The bits that take part in translation or in a permission decision: CR0.PE, WP, PG; CR4.PSE,
    // PAE, PGE, LA57, PCIDE, SMEP, SMAP, PKE; EFER.LME, LMA, NXE. Other bits (CR0.TS, MP, EM, NE,
    // AM, CD, NW; CR4.TSD, DE, OSFXSR, UMIP, FSGSBASE, OSXSAVE, ...) leave cached translations valid.
    private const ulong Cr0TranslationBits = 1UL | Cr0Wp | (1UL << 31);
    private const ulong Cr4TranslationBits = (1UL << 4) | (1UL << 5) | (1UL << 7) | (1UL << 12) | (1UL << 17) | (1UL << 20) | Cr4Smap | (1UL << 22);
    private const ulong EferTranslationBits = 0x100UL | 0x400UL | 0x800UL;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ulong SmapAc() => (Cr4 & Cr4Smap) != 0 ? Rflags & RflagsAc : 0;

    /// <summary>Flushes what cached translations depend on if it has changed: everything, or for a
    /// change of CR0.WP alone only the write TLB (WP decides supervisor writes and nothing else).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void SyncTranslationContext()
    {
        ulong cr0 = Cr0 & Cr0TranslationBits;
        if (cr0 != _ctxCr0 || Cr3 != _ctxCr3 || (Cr4 & Cr4TranslationBits) != _ctxCr4 || (Efer & EferTranslationBits) != _ctxEfer
            || SmapAc() != _ctxAc || Cpl != _ctxCpl)
        {
            SyncTranslationContextSlow(cr0);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void SyncTranslationContextSlow(ulong cr0)
    {
        if ((cr0 ^ _ctxCr0) == Cr0Wp && Cr3 == _ctxCr3 && (Cr4 & Cr4TranslationBits) == _ctxCr4
            && (Efer & EferTranslationBits) == _ctxEfer && SmapAc() == _ctxAc && Cpl == _ctxCpl)
        {
            (Translator as ITranslationCache)?.InvalidateAll();
            FlushWriteTlb();
            _ctxCr0 = cr0;
            return;
        }
        FlushTlb();
    }

    /// <summary>Forgets every cached translation.</summary>
    public void FlushTlb()
    {
        (Translator as ITranslationCache)?.InvalidateAll();
        StartContextFresh();
        _flushEpoch++;   // the fill below clears every context's entries: saved contexts start again
        FillInvalid(ref _rTlb);
        FillInvalid(ref _xTlb);
        FlushWriteTlb();
    }

    /// <summary>Forgets cached translations of one linear page.</summary>
    public void FlushTlbPage(ulong linear)
    {
        (Translator as ITranslationCache)?.InvalidatePage(linear);
        NewCodeGeneration();
        ulong page = TlbTag(linear);
        ref var r = ref TlbSlot(ref _rTlb, page);
        if (r.Tag == page) r.Tag = Invalid;
        ref var w = ref TlbSlot(ref _wTlb, page);
        if (w.Tag == page) w.Tag = Invalid;
        ref var x = ref TlbSlot(ref _xTlb, page);
        if (x.Tag == page) x.Tag = Invalid;
    }

    private void FlushWriteTlb() => FillInvalid(ref _wTlb);

    // ---- public accessors for the machine layer and hooks (linear addresses, current CPL) ----

    /// <summary>Reads guest linear memory (a page at a time, through the translator and its
    /// permission checks); on a fault returns it instead of throwing, having read nothing
    /// useful.</summary>
    public GuestFault? TryReadLinear(ulong linear, Span<byte> destination, bool supervisor = false)
    {
        int cpl = supervisor ? 0 : Cpl;
        int done = 0;
        while (done < destination.Length)
        {
            ulong la = linear + (ulong)done;
            int chunk = (int)Math.Min((ulong)(destination.Length - done), 4096 - (la & 0xFFF));
            if (!TryTranslateCached(ref _rTlb, la, AccessKind.Read, chunk, cpl, out ulong phys))
            {
                return _softFault;
            }
            new ReadOnlySpan<byte>(Memory.Base + phys, chunk).CopyTo(destination[done..]);
            done += chunk;
        }
        return null;
    }

    /// <summary>Writes guest linear memory (with SMC invalidation); every page is translated and
    /// checked before anything is written, so on a fault (returned, not thrown) memory is unchanged.</summary>
    public GuestFault? TryWriteLinear(ulong linear, ReadOnlySpan<byte> source, bool supervisor = false)
    {
        int cpl = supervisor ? 0 : Cpl;
        // at most two pages for the frames and descriptors the machine writes; longer writes go
        // page by page after the same all-pages check
        int pages = (int)(((linear & 0xFFF) + (ulong)source.Length + 4095) >> 12);
        Span<ulong> phys = pages <= 16 ? stackalloc ulong[pages] : new ulong[pages];
        int done = 0;
        for (int i = 0; done < source.Length; i++)
        {
            ulong la = linear + (ulong)done;
            int chunk = (int)Math.Min((ulong)(source.Length - done), 4096 - (la & 0xFFF));
            if (!TryTranslateCached(ref _wTlb, la, AccessKind.Write, chunk, cpl, out phys[i]))
            {
                return _softFault;
            }
            done += chunk;
        }
        done = 0;
        for (int i = 0; done < source.Length; i++)
        {
            ulong la = linear + (ulong)done;
            int chunk = (int)Math.Min((ulong)(source.Length - done), 4096 - (la & 0xFFF));
            NotifyPhysicalWrite(phys[i]);
            source.Slice(done, chunk).CopyTo(new Span<byte>(Memory.Base + phys[i], chunk));
            done += chunk;
        }
        return null;
    }

    /// <summary>
    /// Translates one access within a page for the machine's implicit accesses (descriptor
    /// tables, exception frames) through the read or write TLB when <paramref name="cpl"/> is the
    /// current one, filling it like the core's own accesses do (never a write entry for a code
    /// page, so stores there keep invalidating decoded code).
    /// </summary>
    private bool TryTranslateCached(ref TlbArray tlb, ulong la, AccessKind kind, int size, int cpl, out ulong phys)
    {
        ulong page = TlbTag(la);
        ref var e = ref TlbSlot(ref tlb, page);
        if (cpl == Cpl && e.Tag == page)
        {
            phys = (ulong)((byte*)e.Host - Memory.Base) | (la & 0xFFF);
            return true;
        }
        if (!TryTranslateData(la, kind, size, cpl, out phys))
        {
            return false;
        }
        if (cpl == Cpl && (kind != AccessKind.Write || _codePages[phys >> 12] == 0) && MayCacheData(la >> 12))
        {
            e.Tag = page;
            e.Host = (nint)(Memory.Base + (phys & ~0xFFFUL));
        }
        return true;
    }

    // ---- hot paths ----

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ulong Read(ulong la, int size)
    {
        if (!TryRead(la, size, out ulong value))
        {
            Raise(_softFault);
        }
        return value;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void Write(ulong la, int size, ulong value)
    {
        if (!TryWrite(la, size, value))
        {
            Raise(_softFault);
        }
    }

    /// <summary>
    /// <see cref="Read"/> for the micro-ops: a fault is returned (false, the fault in
    /// <see cref="_softFault"/>) instead of thrown, so a guest fault on the hot path costs no host
    /// exception; the caller leaves the loop with <see cref="StopReason.Exception"/> committing nothing.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool TryRead(ulong la, int size, out ulong value)
    {
        ulong page = TlbTag(la);
        ref var e = ref TlbSlot(ref _rTlb, page);
        uint off = (uint)la & 0xFFF;
        if (e.Tag == page && off <= 4096u - (uint)size)
        {
            value = LoadHost((byte*)e.Host + off, size);
            return true;
        }
        return TryReadSlow(la, size, Cpl, out value);
    }

    /// <summary><see cref="Write"/> for the micro-ops: a fault is returned, not thrown, and nothing is stored.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool TryWrite(ulong la, int size, ulong value)
    {
        ulong page = TlbTag(la);
        ref var e = ref TlbSlot(ref _wTlb, page);
        uint off = (uint)la & 0xFFF;
        if (e.Tag == page && off <= 4096u - (uint)size)
        {
            StoreHost((byte*)e.Host + off, size, value);
            return true;
        }
        return TryWriteSlow(la, size, value, Cpl);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong LoadHost(byte* p, int size)
    {
        switch (size)
        {
            case 1: return *p;
            case 2: return Unsafe.ReadUnaligned<ushort>(p);
            case 4: return Unsafe.ReadUnaligned<uint>(p);
            default: return Unsafe.ReadUnaligned<ulong>(p);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreHost(byte* p, int size, ulong value)
    {
        switch (size)
        {
            case 1: *p = (byte)value; return;
            case 2: Unsafe.WriteUnaligned(p, (ushort)value); return;
            case 4: Unsafe.WriteUnaligned(p, (uint)value); return;
            default: Unsafe.WriteUnaligned(p, value); return;
        }
    }

    /// <summary>Checks that a write of <paramref name="size"/> bytes at <paramref name="la"/> would succeed (for instructions that must not fault half-way).</summary>
    internal void ProbeWrite(ulong la, int size)
    {
        ulong page = TlbTag(la);
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

    // ---- slow paths: the Try forms return a fault in _softFault, the others throw it ----

    /// <summary>The fault the latest failed Try access found (valid when it returned false).</summary>
    private GuestFault _softFault;

    private ulong TranslateData(ulong la, AccessKind kind, int size, int cpl)
    {
        if (!TryTranslateData(la, kind, size, cpl, out ulong phys))
        {
            Raise(_softFault);
        }
        return phys;
    }

    private bool TryTranslateData(ulong la, AccessKind kind, int size, int cpl, out ulong phys)
    {
        if (!Translator.TryTranslate(la, kind, size, cpl, out phys, out var fault))
        {
            _softFault = fault;
            return false;
        }
        if (phys >= Memory.Size || Memory.Size - phys < (ulong)size)
        {
            _softFault = GuestFault.GP();
            return false;
        }
        return true;
    }

    internal ulong TranslateExec(ulong la)
    {
        return TranslateData(la, AccessKind.Execute, 1, Cpl);
    }

    /// <summary>The physical page (base address) an instruction fetch at <paramref name="la"/> reads, through the execute TLB.</summary>
    private ulong ExecPhysPage(ulong la)
    {
        ref var x = ref TlbSlot(ref _xTlb, TlbTag(la));
        if (x.Tag != TlbTag(la))
        {
            FillExecTlb(la);
        }
        return (ulong)x.Host;
    }

    private void FillExecTlb(ulong la)
    {
        ulong phys = TranslateExec(la);
        ref var e = ref TlbSlot(ref _xTlb, TlbTag(la));
        e.Tag = TlbTag(la);
        e.Host = (nint)(phys & ~0xFFFUL);
    }

    private ulong ReadSlow(ulong la, int size, int cpl)
    {
        if (!TryReadSlow(la, size, cpl, out ulong v))
        {
            Raise(_softFault);
        }
        return v;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool TryReadSlow(ulong la, int size, int cpl, out ulong value)
    {
        value = 0;
        uint off = (uint)la & 0xFFF;
        if (off + (uint)size <= 4096)
        {
            if (!TryTranslateData(la, AccessKind.Read, size, cpl, out ulong phys))
            {
                return false;
            }
            if (cpl == Cpl && MayCacheData(la >> 12))
            {
                ref var e = ref TlbSlot(ref _rTlb, TlbTag(la));
                e.Tag = TlbTag(la);
                e.Host = (nint)(Memory.Base + (phys & ~0xFFFUL));
            }
            CheckDataBreakpoints(la, size, write: false);
            value = LoadHost(Memory.Base + phys, size);
            return true;
        }
        // page-crossing: translate both halves first, then assemble little-endian
        int first = (int)(4096 - off);
        if (!TryTranslateData(la, AccessKind.Read, first, cpl, out ulong p1)
            || !TryTranslateData(la + (ulong)first, AccessKind.Read, size - first, cpl, out ulong p2))
        {
            return false;
        }
        ulong v = 0;
        for (int i = 0; i < size; i++)
        {
            ulong b = i < first ? Memory.Base[p1 + (ulong)i] : Memory.Base[p2 + (ulong)(i - first)];
            v |= b << (8 * i);
        }
        CheckDataBreakpoints(la, size, write: false);
        value = v;
        return true;
    }

    private void WriteSlow(ulong la, int size, ulong value, int cpl)
    {
        if (!TryWriteSlow(la, size, value, cpl))
        {
            Raise(_softFault);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool TryWriteSlow(ulong la, int size, ulong value, int cpl)
    {
        uint off = (uint)la & 0xFFF;
        if (off + (uint)size <= 4096)
        {
            if (!TryTranslateData(la, AccessKind.Write, size, cpl, out ulong phys))
            {
                return false;
            }
            ulong ppage = phys >> 12;
            if (_codePages[ppage] != 0)
            {
                InvalidateCodePage(ppage);
            }
            else if (cpl == Cpl && MayCacheData(la >> 12))
            {
                ref var e = ref TlbSlot(ref _wTlb, TlbTag(la));
                e.Tag = TlbTag(la);
                e.Host = (nint)(Memory.Base + (phys & ~0xFFFUL));
            }
            CheckDataBreakpoints(la, size, write: true);
            StoreHost(Memory.Base + phys, size, value);
            return true;
        }
        int first = (int)(4096 - off);
        if (!TryTranslateData(la, AccessKind.Write, first, cpl, out ulong p1)
            || !TryTranslateData(la + (ulong)first, AccessKind.Write, size - first, cpl, out ulong p2))
        {
            return false;
        }
        if (_codePages[p1 >> 12] != 0) InvalidateCodePage(p1 >> 12);
        if (_codePages[p2 >> 12] != 0) InvalidateCodePage(p2 >> 12);
        for (int i = 0; i < size; i++)
        {
            byte b = (byte)(value >> (8 * i));
            if (i < first) Memory.Base[p1 + (ulong)i] = b;
            else Memory.Base[p2 + (ulong)(i - first)] = b;
        }
        CheckDataBreakpoints(la, size, write: true);
        return true;
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
