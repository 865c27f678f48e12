namespace HekiGuest.HostSim.GuestFuzz;

/// <summary>What makes a seed a failure.</summary>
public enum FailureKind
{
    /// <summary>An exception escaped the simulator (setup, run or check).</summary>
    HostException,
    /// <summary>The seed's wall time passed the cap (or the VM's timeout stopped it).</summary>
    Hang,
    /// <summary>More instructions retired than the budget plus <see cref="SeedRunner.BudgetSlack"/>.</summary>
    BudgetOverrun,
    /// <summary>A protected byte, a pinned CR bit, a pin or a host permission changed.</summary>
    ProtectionBroken,
    /// <summary>The boot stub did not arm the protections as planned.</summary>
    SetupFailed,
    /// <summary>An unimplemented/undecodable instruction stopped the VM (only with --strict-ud).</summary>
    Unimplemented,
}
