using HekiGuest.Kernel.Testing;
using HekiGuest.Platform.Arch;
using HekiGuest.Platform.Boot;
using HekiGuest.Platform.Testing;

namespace HekiGuest.Kernel.SelfTests;

// `tests=vtl1-bench` (hidden; `make bench-vtl` runs it): `bench.writes=N` CR4 writes (CR4.TSD
// toggled and back) through SealedOps, i.e. policy-checked by VTL1 on the vsm profile and the
// sealed routine elsewhere. The bench subtracts a run with N = 0 to get the cost of one write.
public sealed class Vtl1WriteBench : ITestGroup
{
    private const long DefaultWrites = 10_000, MaxWrites = 10_000_000;
    private readonly long _writes;

    public Vtl1WriteBench(CommandLine cmdline)
    {
        long n = cmdline.GetNumber("bench.writes");
        _writes = n == CommandLine.Absent ? DefaultWrites : n >= 0 && n <= MaxWrites && n % 2 == 0 ? n : CommandLine.Malformed;
    }

    public string Name => "vtl1-bench";
    public bool Hidden => true;

    public void Run(TestContext t)
    {
        if (_writes < 0)
        {
            t.Fail("CR4 writes", "bench.writes= must be an even decimal number from 0 to 10000000");
            return;
        }
        ulong cr4 = Native.ReadCr4();
        for (long i = 0; i < _writes; i += 2)
        {
            SealedOps.WriteCr4(cr4 ^ ControlRegisters.Cr4Tsd);
            SealedOps.WriteCr4(cr4);
        }
        t.Out.Write("  bench: ").Dec(_writes).Write(" CR4 writes through ").Line(SealedOps.Routed ? "VTL1 (policy-checked)" : "the sealed routine");
        t.Check(Native.ReadCr4() == cr4, "CR4 writes", "CR4 differs after the writes");
    }
}
