namespace HekiGuest.HostSim.GuestFuzz.Tests;

/// <summary>A seed is reproducible: the same guest, the same run, the same counters.</summary>
public sealed class DeterminismTests
{
    [Theory]
    [InlineData(2)]
    [InlineData(9)]
    [InlineData(17)]
    public void The_same_seed_runs_the_same_way_twice(long seed)
    {
        var options = new FuzzOptions { LargeAliasWindow = false, SeedTimeout = TestCap.Value };
        var a = SeedRunner.Run(seed, options);
        var b = SeedRunner.Run(seed, options);
        Assert.Equal(a.Mode, b.Mode);
        Assert.Equal(a.Stop, b.Stop);
        Assert.Equal(a.Instructions, b.Instructions);
        Assert.Equal(a.ExceptionsDelivered, b.ExceptionsDelivered);
        Assert.Equal(a.DenialsByKind, b.DenialsByKind);
        Assert.Equal(a.UnimplementedMnemonics, b.UnimplementedMnemonics);
        Assert.Equal(a.TripleFaultChain, b.TripleFaultChain);
    }

    [Fact]
    public void Different_seeds_give_different_code()
    {
        using var a = new FuzzGuest(7, FuzzMode.ForSeed(7));
        using var b = new FuzzGuest(13, FuzzMode.ForSeed(13));
        Assert.Equal(a.Mode, b.Mode);
        Assert.False(a.Vm.Memory.Slice(a.Mode.CodeBase, GuestLayout.CodeSize).SequenceEqual(b.Vm.Memory.Slice(b.Mode.CodeBase, GuestLayout.CodeSize)));
    }
}
