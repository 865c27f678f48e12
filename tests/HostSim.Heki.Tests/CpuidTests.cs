using System.Text;
using HekiGuest.HostSim.Cpu;
using HekiGuest.HostSim.Heki.Tests.Support;
using static Iced.Intel.AssemblerRegisters;
using Processor = HekiGuest.HostSim.Cpu.Cpu;

namespace HekiGuest.HostSim.Heki.Tests;

/// <summary>Discovery (docs/abi.md sections 1 and 7): CPUID as the guest sees it under each profile.</summary>
public sealed class CpuidTests
{
    public static TheoryData<HekiHostProfile> Profiles => new()
    {
        HekiHostProfile.Heki, HekiHostProfile.CrPin2020, HekiHostProfile.HekiV3, HekiHostProfile.None,
    };

    private static HekiGuestMachine Machine(HekiHostProfile profile) => new(new HekiHostOptions { Profile = profile });

    private static string Signature(CpuidResult r)
    {
        var bytes = new byte[12];
        BitConverter.GetBytes(r.Ebx).CopyTo(bytes, 0);
        BitConverter.GetBytes(r.Ecx).CopyTo(bytes, 4);
        BitConverter.GetBytes(r.Edx).CopyTo(bytes, 8);
        return Encoding.ASCII.GetString(bytes);
    }

    [Theory]
    [InlineData(HekiHostProfile.Heki, true)]
    [InlineData(HekiHostProfile.CrPin2020, true)]
    [InlineData(HekiHostProfile.HekiV3, true)]
    [InlineData(HekiHostProfile.None, false)]
    public void Leaf_1_ecx_bit_31_says_hypervisor_present_except_under_none_and_nothing_else_changes(HekiHostProfile profile, bool hypervisor)
    {
        using var g = Machine(profile);
        var seen = g.GuestCpuid(1);
        var native = new DefaultCpuid().Query(g.Cpu, 1, 0);
        Assert.Equal(hypervisor, (seen.Ecx & (1u << 31)) != 0);
        Assert.Equal(native with { Ecx = native.Ecx & ~(1u << 31) }, seen with { Ecx = seen.Ecx & ~(1u << 31) });
    }

    [Theory]
    [InlineData(HekiHostProfile.Heki, true)]
    [InlineData(HekiHostProfile.CrPin2020, true)]
    [InlineData(HekiHostProfile.HekiV3, true)]
    [InlineData(HekiHostProfile.None, false)]
    public void Kvm_signature_sits_at_0x40000000_unless_the_profile_is_none(HekiHostProfile profile, bool present)
    {
        using var g = Machine(profile);
        var r = g.GuestCpuid(0x40000000);
        if (present)
        {
            Assert.Equal("KVMKVMKVM\0\0\0", Signature(r));
            Assert.Equal(0x40000001u, r.Eax);
        }
        else
        {
            Assert.Equal(default, r);
        }
    }

    [Theory]
    [InlineData(HekiHostProfile.Heki, 0u)]
    [InlineData(HekiHostProfile.CrPin2020, 1u << 15)]
    [InlineData(HekiHostProfile.HekiV3, 0u)]
    [InlineData(HekiHostProfile.None, 0u)]
    public void Kvm_features_leaf_has_bit_15_only_under_cr_pin_2020(HekiHostProfile profile, uint eax)
    {
        using var g = Machine(profile);
        Assert.Equal(new CpuidResult(eax, 0, 0, 0), g.GuestCpuid(0x40000001));
    }

    [Fact]
    public void HekiGuest_range_at_0x40000100_announces_version_features_bases_and_limits()
    {
        using var g = Machine(HekiHostProfile.Heki);
        var sig = g.GuestCpuid(0x40000100);
        Assert.Equal("HEKIGUESTABI", Signature(sig));
        Assert.Equal(0x40000102u, sig.Eax);                       // highest leaf = base + 2
        Assert.Equal(new CpuidResult(1, 0xF, 0x48454B00, 0x48450000), g.GuestCpuid(0x40000101));
        Assert.Equal(new CpuidResult(64, 4096, 4096, 0), g.GuestCpuid(0x40000102));
    }

    [Theory]
    [InlineData(HekiHostProfile.CrPin2020)]
    [InlineData(HekiHostProfile.HekiV3)]
    [InlineData(HekiHostProfile.None)]
    public void HekiGuest_range_is_absent_outside_the_heki_profile(HekiHostProfile profile)
    {
        using var g = Machine(profile);
        for (uint leaf = 0x40000100; leaf <= 0x40000102; leaf++)
        {
            Assert.Equal(default, g.GuestCpuid(leaf));
        }
    }

    /// <summary>The guest's discovery as docs/abi.md section 1 describes it, in guest code: check
    /// CPUID.1:ECX[31], then scan 0x40000000..0x4000FF00 in steps of 0x100 for the signature.
    /// R8 ends as the base found, or 0.</summary>
    [Theory]
    [InlineData(HekiHostProfile.Heki, 0x40000100u)]
    [InlineData(HekiHostProfile.CrPin2020, 0u)]
    [InlineData(HekiHostProfile.HekiV3, 0u)]
    [InlineData(HekiHostProfile.None, 0u)]
    public void A_guest_scan_finds_the_range_only_under_heki(HekiHostProfile profile, uint expectedBase)
    {
        using var g = Machine(profile);
        var run = g.Execute(a =>
        {
            var notFound = a.CreateLabel();
            var loop = a.CreateLabel();
            var next = a.CreateLabel();
            var done = a.CreateLabel();
            a.mov(eax, 1);
            a.cpuid();
            a.shr(ecx, 31);
            a.jz(notFound);
            a.mov(r8d, 0x40000000);
            a.Label(ref loop);
            a.mov(eax, r8d);
            a.xor(ecx, ecx);
            a.cpuid();
            a.cmp(ebx, 0x494B4548);
            a.jne(next);
            a.cmp(ecx, 0x53455547);
            a.jne(next);
            a.cmp(edx, 0x49424154);
            a.jne(next);
            a.jmp(done);
            a.Label(ref next);
            a.add(r8d, 0x100);
            a.cmp(r8d, 0x4000FF00);
            a.jbe(loop);
            a.Label(ref notFound);
            a.xor(r8d, r8d);
            a.Label(ref done);
            a.nop();
        });
        run.AssertCompleted();
        Assert.Equal((ulong)expectedBase, g.Cpu.Gpr[8]);
    }

    public static TheoryData<HekiHostProfile, uint> LeavesInNoRange()
    {
        var data = new TheoryData<HekiHostProfile, uint>();
        uint[] leaves = [0x40000002, 0x40000003, 0x400000FF, 0x40000103, 0x400001FF, 0x40000200, 0x40000300, 0x4000FF00, 0x4000FFFF];
        foreach (var p in new[] { HekiHostProfile.Heki, HekiHostProfile.CrPin2020, HekiHostProfile.HekiV3, HekiHostProfile.None })
            foreach (uint leaf in leaves)
                data.Add(p, leaf);
        return data;
    }

    [Theory]
    [MemberData(nameof(LeavesInNoRange))]
    public void Hypervisor_leaves_outside_every_range_are_zero(HekiHostProfile profile, uint leaf)
    {
        using var g = Machine(profile);
        g.Cpu.Gpr[Processor.RBX] = 0x1234;                             // CPUID must overwrite it
        Assert.Equal(default, g.GuestCpuid(leaf));
    }

    public static TheoryData<HekiHostProfile, uint, uint> OrdinaryLeaves()
    {
        var data = new TheoryData<HekiHostProfile, uint, uint>();
        (uint, uint)[] leaves = [(0, 0), (7, 0), (7, 1), (0xD, 0), (0xD, 1), (0x80000000, 0), (0x80000001, 0), (0x80000008, 0), (0x40010000, 0)];
        foreach (var p in new[] { HekiHostProfile.Heki, HekiHostProfile.CrPin2020, HekiHostProfile.HekiV3, HekiHostProfile.None })
            foreach (var (leaf, sub) in leaves)
                data.Add(p, leaf, sub);
        return data;
    }

    [Theory]
    [MemberData(nameof(OrdinaryLeaves))]
    public void Ordinary_leaves_are_the_cores_own(HekiHostProfile profile, uint leaf, uint subleaf)
    {
        using var g = Machine(profile);
        Assert.Equal(new DefaultCpuid().Query(g.Cpu, leaf, subleaf), g.GuestCpuid(leaf, subleaf));
    }
}
