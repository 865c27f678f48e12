namespace HekiGuest.HostSim.GuestFuzz.Vsm;

/// <summary>`--vsm`: a range of VSM fuzzer seeds, failures as they are found, and a final table.</summary>
internal static class VsmFuzzRun
{
    public const int DefaultSteps = 200;

    /// <summary>Returns true when every seed was clean.</summary>
    public static bool Run(long first, long count, int steps, TimeSpan seedTimeout, TextWriter output)
    {
        long failures = 0, hypercalls = 0, intercepts = 0, switches = 0, protections = 0, tripleFaults = 0, vtl1Steps = 0, allSteps = 0;
        var statuses = new SortedDictionary<ushort, long>();
        for (long seed = first; seed < first + count; seed++)
        {
            var r = VsmFuzzSeed.Run(seed, steps, seedTimeout);
            if (r.Failure is { } f)
            {
                failures++;
                output.WriteLine($"seed {seed}: FAIL {f}");
            }
            hypercalls += r.Hypercalls;
            intercepts += r.Intercepts;
            switches += r.VtlSwitches;
            protections += r.ProtectionChanges;
            tripleFaults += r.TripleFaults;
            vtl1Steps += r.StepsInVtl1;
            allSteps += r.Steps;
            foreach (var (status, n) in r.Statuses) statuses[status] = statuses.GetValueOrDefault(status) + n;
        }
        output.WriteLine($"vsm fuzz: {count} seeds from {first}, {allSteps} steps ({vtl1Steps} in VTL1), {hypercalls} hypercalls, "
            + $"{switches} VTL calls/returns, {intercepts} secure intercepts, {protections} protection changes, {tripleFaults} triple faults");
        output.WriteLine("  statuses: " + string.Join(", ", statuses.Select(s => $"0x{s.Key:x}: {s.Value}")));
        output.WriteLine(failures == 0 ? "  no failures" : $"  {failures} failing seeds");
        return failures == 0;
    }
}
