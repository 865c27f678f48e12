using HekiGuest.Abi;
using HekiGuest.HostSim.GuestFuzz.Vsm;

namespace HekiGuest.HostSim.GuestFuzz.Tests;

/// <summary>
/// `--vsm` (README): random VSM hypercalls, VTL switches, memory accesses and register writes from
/// VTL0 and VTL1. Fixed seeds must be clean (no host exception, no hang) and must reach the
/// interesting parts of the host: successes and every kind of refusal, secure intercepts and
/// protection changes.
/// </summary>
public sealed class VsmFuzzTests
{
    [Fact]
    public void Fixed_vsm_seeds_are_clean_and_reach_intercepts_protections_and_every_status()
    {
        var statuses = new HashSet<ushort>();
        long intercepts = 0, protections = 0, switches = 0, vtl1Steps = 0;
        var failures = new List<string>();
        for (long seed = 1; seed <= 60; seed++)
        {
            var r = VsmFuzzSeed.Run(seed, VsmFuzzRun.DefaultSteps, TestCap.Value * 5);
            if (r.Failure is { } f) failures.Add($"seed {seed}: {f}");
            statuses.UnionWith(r.Statuses.Keys);
            intercepts += r.Intercepts;
            protections += r.ProtectionChanges;
            switches += r.VtlSwitches;
            vtl1Steps += r.StepsInVtl1;
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.Superset(new HashSet<ushort>
        {
            HvStatus.Success, HvStatus.InvalidHypercallCode, HvStatus.InvalidHypercallInput, HvStatus.InvalidAlignment,
            HvStatus.InvalidParameter, HvStatus.AccessDenied, HvStatus.InvalidPartitionId, HvStatus.VtlAlreadyEnabled,
        }, statuses);
        Assert.True(intercepts > 20, $"{intercepts} intercepts");
        Assert.True(protections > 20, $"{protections} protection changes");
        Assert.True(switches > 20, $"{switches} VTL calls and returns");
        Assert.True(vtl1Steps > 100, $"{vtl1Steps} steps in VTL1");
    }

    [Fact]
    public void A_seed_is_deterministic()
    {
        var a = VsmFuzzSeed.Run(7, 100, TimeSpan.FromSeconds(60));
        var b = VsmFuzzSeed.Run(7, 100, TimeSpan.FromSeconds(60));
        Assert.Null(a.Failure);
        Assert.Equal(a.Statuses.OrderBy(s => s.Key), b.Statuses.OrderBy(s => s.Key));
        Assert.Equal((a.Intercepts, a.ProtectionChanges, a.VtlSwitches, a.StepsInVtl1), (b.Intercepts, b.ProtectionChanges, b.VtlSwitches, b.StepsInVtl1));
    }
}
