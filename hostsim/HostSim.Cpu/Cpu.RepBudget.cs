namespace HekiGuest.HostSim.Cpu;

/// <summary>
/// REP-prefixed string instructions (MOVS, STOS, LODS, CMPS, SCAS, INS, OUTS) are interruptible
/// between iterations (SDM vol. 1, 7.3.9.1), and hostsim uses that so no guest holds the host in
/// one instruction: an execution runs at most the rest of the run's instruction budget (each
/// iteration after the first counts as an instruction retired) and at most
/// <see cref="RepChunk"/> iterations, then leaves RIP on the instruction with RCX/RSI/RDI updated;
/// the next execution resumes it.
/// </summary>
public sealed partial class Cpu
{
    /// <summary>Most iterations one execution of a REP string instruction runs before it yields.</summary>
    internal const ulong RepChunk = 16384;

    /// <summary>Iterations the current execution of a REP instruction may run (at least 1).</summary>
    private ulong RepAllowance() =>
        _dbgArmed | (Rflags & Flag.TF) != 0 ? 1 : Math.Min(RepChunk, _posLimit - _curPos);   // debug: a trap may follow any iteration

    /// <summary>One iteration completed: every one after the first is an instruction retired and
    /// uses the budget, and the block must be left (its end was computed under the old budget).</summary>
    private void RepIterationDone(ref ulong done)
    {
        if (++done > 1)
        {
            _extraRetired++;
            _posLimit--;
            _exit = true;
        }
    }

    /// <summary>The allowance is used up with iterations left: resume at the same instruction.</summary>
    private void RepYield()
    {
        Rip = CurrentInstructionRip;
        _exit = true;
    }
}
