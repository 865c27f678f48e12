namespace HekiGuest.HostSim.GuestFuzz;

/// <summary>Per-seed limits and policies.</summary>
public sealed record FuzzOptions
{
    public const long DefaultMaxInstructions = 20_000;

    /// <summary>Instruction budget of the random code (the boot stub's few instructions are not counted).</summary>
    public long MaxInstructions { get; init; } = DefaultMaxInstructions;

    /// <summary>Wall-clock cap of one seed (setup, boot stub, run and checks); past it the seed is a hang.</summary>
    public TimeSpan SeedTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Map the 1 GiB window that aliases the heap 512 times (a stand-in for a large
    /// kernel's direct map): a string instruction can then run over a large range, as in a real
    /// kernel. Off, the largest mapped range is the 6 MiB of RAM.</summary>
    public bool LargeAliasWindow { get; init; } = true;

    /// <summary>A repro instead of random code: these bytes at the start of the code area, the rest
    /// INT3, entered directly at offset 0 in the seed's mode (faults still go through the handler,
    /// which then lands on INT3s until the budget is used up). Null: random code.</summary>
    public byte[]? Code { get; init; }

    /// <summary>Count unimplemented/undecodable-instruction stops (exit 71) as failures.</summary>
    public bool StrictUd { get; init; }
}
