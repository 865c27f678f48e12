namespace HekiGuest.HostSim.GuestFuzz;

/// <summary>How a seed's run ended (HLT, debug-exit and unimplemented-instruction stops are resumed).</summary>
public enum SeedStop
{
    /// <summary>The instruction budget ran out: the normal end.</summary>
    InstructionLimit,
    /// <summary>A fault while delivering a double fault (e.g. the random code broke CR3 or the IDT).</summary>
    TripleFault,
    /// <summary>The VM stopped on a denial (not expected: the policy is inject).</summary>
    Denied,
    /// <summary>The wall-clock cap passed (a failure: a hang).</summary>
    Timeout,
    /// <summary>Setting up or running the seed threw a host exception (a failure).</summary>
    HostException,
    /// <summary>The boot stub did not arm the protections as planned (a failure).</summary>
    SetupFailed,
}
