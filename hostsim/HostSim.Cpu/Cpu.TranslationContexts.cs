using System.Runtime.CompilerServices;

namespace HekiGuest.HostSim.Cpu;

/// <summary>
/// Address-space contexts for the software TLBs and the jump cache, as VPID/ASID tags are for a
/// hardware TLB: a host that switches the CPU between guest contexts with their own paging (the
/// VSM host's VTLs) selects a context instead of flushing, so each keeps its translations across
/// the switch. TLB tags carry the context in bits 63:56 (a linear page number never reaches
/// them), jump-cache generations carry it in their low bits, and a global flush (FlushTlb,
/// FlushDecodeCache: protection changes, SMC-wide drops, host register edits) starts a new epoch
/// that invalidates what every saved context remembered. Context 0 is the only one a host
/// without contexts ever uses; everything then behaves exactly as without this file.
/// </summary>
public sealed unsafe partial class Cpu
{
    /// <summary>How many translation contexts the core keeps apart.</summary>
    public const int MaxTranslationContexts = 1 << CodeGenContextBits;

    private const int TlbContextShift = 56;
    private const int CodeGenContextBits = 2;

    private struct SavedTranslationContext
    {
        public ulong Cr0, Cr3, Cr4, Efer, Ac, CodeGen, Epoch;
        public int Cpl;
        public bool Valid;
    }

    private readonly SavedTranslationContext[] _savedContexts = new SavedTranslationContext[MaxTranslationContexts];
    private ulong _tlbSalt;
    private int _translationContext;
    private ulong _flushEpoch;

    // Generations are handed out from one counter for every context: (counter << CodeGenContextBits) | context, so
    // a generation is never issued twice and never matches another context's jump-cache entries.
    private ulong _codeGenCounter = 1;

    /// <summary>The translation context the core runs in (0 unless a host selected another).</summary>
    public int TranslationContext => _translationContext;

    /// <summary>
    /// Selects translation context <paramref name="context"/>: the current context's cached
    /// translations and decoded-code links are kept (tagged) for when it is selected again, and the
    /// selected one's are used if no global flush happened since it was left; otherwise it starts
    /// empty. Call it after loading the incoming context's registers: whatever differs from what
    /// its translations were checked under is flushed, as for any register change.
    /// </summary>
    public void SwitchTranslationContext(int context)
    {
        if ((uint)context >= MaxTranslationContexts)
        {
            throw new ArgumentOutOfRangeException(nameof(context), context, $"translation contexts are 0 to {MaxTranslationContexts - 1}");
        }
        if (context != _translationContext)
        {
            _savedContexts[_translationContext] = new SavedTranslationContext
            {
                Cr0 = _ctxCr0, Cr3 = _ctxCr3, Cr4 = _ctxCr4, Efer = _ctxEfer, Ac = _ctxAc, Cpl = _ctxCpl,
                CodeGen = _codeGen, Epoch = _flushEpoch, Valid = true,
            };
            _translationContext = context;
            _tlbSalt = (ulong)context << TlbContextShift;
            ref var incoming = ref _savedContexts[context];
            if (incoming.Valid && incoming.Epoch == _flushEpoch)
            {
                _ctxCr0 = incoming.Cr0;
                _ctxCr3 = incoming.Cr3;
                _ctxCr4 = incoming.Cr4;
                _ctxEfer = incoming.Efer;
                _ctxAc = incoming.Ac;
                _ctxCpl = incoming.Cpl;
                _codeGen = incoming.CodeGen;
            }
            else
            {
                // never selected, or a global flush since: no TLB entry carries this context's
                // tag (every flush clears all of them), and a fresh generation drops its links
                StartContextFresh();
            }
            incoming.Valid = false;
        }
        // code of the incoming context runs on the next block lookup, never inside the old one
        _exit = true;
        SyncTranslationContext();
    }

    /// <summary>The current context's translations are to be checked under the live registers
    /// from now on, with a new jump-cache generation (its old links are stale).</summary>
    private void StartContextFresh()
    {
        _ctxCr0 = Cr0 & Cr0TranslationBits;
        _ctxCr3 = Cr3;
        _ctxCr4 = Cr4 & Cr4TranslationBits;
        _ctxEfer = Efer & EferTranslationBits;
        _ctxAc = SmapAc();
        _ctxCpl = Cpl;
        NewCodeGeneration();
    }

    /// <summary>A new jump-cache generation of the current context: its cached RIP-to-block links are stale.</summary>
    private void NewCodeGeneration() => _codeGen = (++_codeGenCounter << CodeGenContextBits) | (uint)_translationContext;

    /// <summary>The TLB tag of linear address <paramref name="la"/> in the current context.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ulong TlbTag(ulong la) => (la >> 12) | _tlbSalt;
}
