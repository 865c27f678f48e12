using HekiGuest.Abi;
using HekiGuest.Kernel.Memory;
using HekiGuest.Kernel.Vtl;
using HekiGuest.Platform.Arch;
using HekiGuest.Platform.Boot;
using HekiGuest.Platform.Testing;
using HekiGuest.Sdk;
using Internal.Runtime;

namespace HekiGuest.Kernel.SelfTests;

// Robustness of protect memory and the mapping calls (vtl1 group): random map/unmap calls
// (valid ones on 16 alias pages, and malformed ones) interleaved with random VTL0 violations of
// what VTL1 protects (writes to text, rodata and a page table, execution from data, reads of
// VTL1's memory). Every call must answer as documented, every violation must be refused with
// #GP and exactly one denial, and the monitor must keep serving. `monitor.calls=N` sets the
// calls (as for the random VTL calls), `monitor.violations=N` the violations (default 0: each
// prints a denial line; `make fuzz-vtl` asks for 1,000).
public static unsafe class Vtl1MemoryStorm
{
    public const string Name = "random mapping calls and VTL0 violations are answered and the monitor keeps serving";
    private const long DefaultCalls = 2000, DefaultViolations = 0, Max = 10_000_000;
    private const int Slots = 16, DataPages = 4;

    private static long s_calls = DefaultCalls, s_violations = DefaultViolations;
    private static ulong s_target, s_value;

    public static void Configure(CommandLine cmdline)
    {
        s_calls = Parse(cmdline.GetNumber("monitor.calls"), DefaultCalls, 1);
        s_violations = Parse(cmdline.GetNumber("monitor.violations"), DefaultViolations, 0);
    }

    private static long Parse(long n, long absent, long min) =>
        n == CommandLine.Absent ? absent : n >= min && n <= Max ? n : CommandLine.Malformed;

    public static void Run(TestContext t)
    {
        if (s_calls < 0 || s_violations < 0)
        {
            t.Fail(Name, "monitor.calls= must be 1..10000000 and monitor.violations= 0..10000000");
            return;
        }
        ulong* va = stackalloc ulong[Slots];
        bool* mapped = stackalloc bool[Slots];
        ulong* data = stackalloc ulong[DataPages];
        for (int i = 0; i < Slots; i++) { va[i] = PageTables.NextAliasPage(); mapped[i] = false; }
        for (int i = 0; i < DataPages; i++) data[i] = (ulong)Heap.AllocatePages(1);

        // The violations' targets: aliases VTL0's page tables allow, VTL1's masks do not.
        ulong textPage = LinkerSymbols.TextStart() + 0x1000, roPage = LinkerSymbols.RodataStart();
        byte* code = Heap.AllocatePages(1);
        code[0] = 0xC3;                                   // ret
        ulong textAlias = PageTables.NextAliasPage(), roAlias = PageTables.NextAliasPage(), execAlias = PageTables.NextAliasPage();
        long setup = Map(textAlias, textPage, PageFlags.Present | PageFlags.Writable | PageFlags.NoExecute)
            | Map(roAlias, roPage, PageFlags.Present | PageFlags.Writable | PageFlags.NoExecute)
            | Map(execAlias, (ulong)code, PageFlags.Present);
        ulong* pte = PageTables.LeafEntry(textPage, out _);
        ulong textBytes = *(ulong*)textPage, roBytes = *(ulong*)roPage, entry = *pte;

        VtlCall.Call(MonitorCall.DenialCount, 0, 0, 0, out ulong before, out _);
        ulong x = 0xD1B54A32D192ED03UL;
        long bad = 0, ok = 0, refused = 0, wrong = 0;
        long every = s_violations == 0 ? long.MaxValue : (s_calls / s_violations > 0 ? s_calls / s_violations : 1);
        long violations = 0;
        for (long i = 0; i < s_calls || violations < s_violations; i++)
        {
            if (i < s_calls)
            {
                int slot = (int)(Next(ref x) % Slots);
                ulong r = Next(ref x) % 8;
                long st, expect;
                if (r < 4)
                {
                    ulong page = data[Next(ref x) % DataPages];
                    ulong flags = (Next(ref x) % 4) switch
                    {
                        0 => PageFlags.Present | PageFlags.Writable | PageFlags.NoExecute,
                        1 => PageFlags.Present | PageFlags.NoExecute,
                        2 => PageFlags.Present | PageFlags.Writable | PageFlags.User | PageFlags.NoExecute,
                        _ => PageFlags.Present,
                    };
                    st = Map(va[slot], page, flags);
                    expect = MonitorStatus.Success;
                    if (st == MonitorStatus.Success)
                    {
                        mapped[slot] = true;
                        if (flags == (PageFlags.Present | PageFlags.Writable | PageFlags.NoExecute))
                        {
                            *(ulong*)(va[slot] + 16) = (ulong)i;
                            if (*(ulong*)(page + 16) != (ulong)i) wrong++;
                        }
                    }
                }
                else if (r < 6)
                {
                    st = VtlCall.Call(MonitorCall.UnmapPage, va[slot], 0, 0, out _, out _);
                    expect = mapped[slot] ? MonitorStatus.Success : MonitorStatus.InvalidArgument;
                    if (st == MonitorStatus.Success) mapped[slot] = false;
                }
                else
                {
                    ulong v = va[slot], g = data[0], f = PageFlags.Present | PageFlags.NoExecute;
                    switch (Next(ref x) % 5)
                    {
                        case 0: v |= 1 + Next(ref x) % 0xFFF; break;
                        case 1: v = 0x0000_8000_0000_0000UL | (Next(ref x) & 0x7FFF_FFFF_F000UL); break;
                        case 2: f |= PageFlags.Global; break;
                        case 3: g = MonitorBoot.RamEnd + (Next(ref x) % 0x10000) * 4096; break;
                        default: f = PageFlags.Writable | PageFlags.NoExecute; break;
                    }
                    st = Map(v, g, f);
                    expect = MonitorStatus.InvalidArgument;
                }
                if (st != expect) bad++;
                else ok++;
            }
            if (violations < s_violations && (i % every == every - 1 || i >= s_calls))
            {
                violations++;
                if (!Violate(Next(ref x), textAlias, roAlias, execAlias, (ulong)pte, entry)) wrong++;
                else refused++;
            }
        }
        for (int i = 0; i < Slots; i++)
            if (mapped[i] && VtlCall.Call(MonitorCall.UnmapPage, va[i], 0, 0, out _, out _) != MonitorStatus.Success) bad++;
        long after = VtlCall.Call(MonitorCall.DenialCount, 0, 0, 0, out ulong denials, out _);
        t.Out.Write("  monitor: random mapping calls: ").Dec(s_calls).Write(" made, ").Dec(ok).Write(" answered as expected; VTL0 violations: ")
            .Dec(violations).Write(" made, ").Dec(refused).Line(" refused");
        t.Check(setup == MonitorStatus.Success && bad == 0 && wrong == 0 && after == MonitorStatus.Success && denials == before + (ulong)s_violations
            && *(ulong*)textPage == textBytes && *(ulong*)roPage == roBytes && *pte == entry,
            Name, "a call answered wrongly, a violation got through or was not refused exactly once, or protected memory changed");
    }

    private static long Map(ulong va, ulong gpa, ulong flags) => VtlCall.Call(MonitorCall.MapPage, va, gpa, flags, out _, out _);

    // One violation; true when it was refused with #GP and exactly one more denial.
    private static bool Violate(ulong pick, ulong textAlias, ulong roAlias, ulong execAlias, ulong pte, ulong entry)
    {
        VtlCall.Call(MonitorCall.DenialCount, 0, 0, 0, out ulong before, out _);
        FaultRecord r;
        switch (pick % 5)
        {
            case 0: s_target = textAlias + (pick >> 8) % 4096; r = FaultProbe.Run(&WriteByte); break;
            case 1: s_target = roAlias + (pick >> 8) % 4096; r = FaultProbe.Run(&WriteByte); break;
            case 2: s_target = pte; s_value = entry | PageFlags.Writable; r = FaultProbe.Run(&WriteEntry); break;
            case 3: s_target = execAlias; r = FaultProbe.Run(&CallTarget); break;
            default: s_target = MonitorBoot.Low + (pick >> 8) % (MonitorBoot.High - MonitorBoot.Low); r = FaultProbe.Run(&ReadByte); break;
        }
        VtlCall.Call(MonitorCall.DenialCount, 0, 0, 0, out ulong after, out _);
        return r.Faulted && r.Vector == 13 && after == before + 1;
    }

    private static ulong Next(ref ulong x)
    {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        return x;
    }

    private static void WriteByte() => *(byte*)s_target = 0xAB;
    private static void WriteEntry() => *(ulong*)s_target = s_value;
    private static void CallTarget() => ((delegate*<void>)s_target)();
    private static void ReadByte() => s_value = *(byte*)s_target;
}
