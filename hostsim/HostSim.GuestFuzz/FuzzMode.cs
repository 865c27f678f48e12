namespace HekiGuest.HostSim.GuestFuzz;

/// <summary>The code size and privilege level random code runs at; a seed's mode is
/// <c>seed mod 6</c>, so consecutive seeds cover all six combinations evenly.</summary>
public readonly record struct FuzzMode(int Bitness, int Cpl)
{
    public static readonly FuzzMode[] All = [new(64, 0), new(64, 3), new(32, 0), new(32, 3), new(16, 0), new(16, 3)];

    public static FuzzMode ForSeed(long seed) => All[(int)(((seed % 6) + 6) % 6)];

    /// <summary>The code segment random code runs in (16-bit segments are based at the code area).</summary>
    public ushort CodeSelector => (Bitness, Cpl) switch
    {
        (64, 0) => GuestLayout.KernelCs64,
        (32, 0) => GuestLayout.KernelCs32,
        (16, 0) => GuestLayout.KernelCs16,
        (64, _) => GuestLayout.UserCs64,
        (32, _) => GuestLayout.UserCs32,
        _ => GuestLayout.UserCs16,
    };

    public ushort StackSelector => Cpl == 0 ? GuestLayout.KernelDs : GuestLayout.UserDs;

    public ulong CodeBase => GuestLayout.CodeBase(Cpl);

    /// <summary>What the recovery handler adds to a random offset to get RIP (0 for 16-bit code,
    /// whose segment base is the code area).</summary>
    public ulong RipBase => Bitness == 16 ? 0 : CodeBase;

    public ulong StackTop => Cpl == 0 ? GuestLayout.KernelStackTop : GuestLayout.UserStackTop;

    public override string ToString() => $"{Bitness}-bit CPL{Cpl}";
}
