using HekiGuest.Abi;
using HekiGuest.Sdk.Tests.Fakes;

namespace HekiGuest.Sdk.Tests;

/// <summary>The default policy, "harden everything and report": its steps against the fake host
/// and the report lines the kernel prints (README's transcript).</summary>
public sealed unsafe class GuestHardeningTests
{
    private const ulong Rx = HekiPermission.Read | HekiPermission.Execute | HekiPermission.Immutable;
    private const ulong Ro = HekiPermission.Read | HekiPermission.Immutable;
    private const ulong Rw = HekiPermission.Read | HekiPermission.Write | HekiPermission.Immutable;

    private static readonly PhysicalRegion[] PcRam =
    {
        new() { Start = 0, End = 0x9FC00 },
        new() { Start = 0x100000, End = 0x8000000 },
    };

    private static HekiRange Range(ulong gpa, ulong pages, ulong permissions) =>
        new() { GuestPhysicalStart = gpa, PageCount = pages, Permissions = permissions };

    /// <summary>The kernel's layout: text 0x100000 (12 pages), sealed (1), rodata (8), identity-mapped.</summary>
    private static GuestHardening Apply(FakeHekiCpu cpu, RecordingReport report, string? profile = null,
        ulong textVa = 0x100000, PhysicalRegion[]? ram = null)
    {
        ram ??= PcRam;
        fixed (PhysicalRegion* r = ram)
        {
            var image = new GuestImage
            {
                TextStart = textVa, TextEnd = textVa + 0xC000,
                SealedStart = textVa + 0xC000, SealedEnd = textVa + 0xD000,
                RodataStart = textVa + 0xD000, RodataEnd = textVa + 0x15000,
                Ram = r, RamCount = ram.Length,
            };
            return GuestHardening.Apply(cpu, profile!, image, report);
        }
    }

    private static readonly string[] HostEnforcedTranscript =
    {
        "heki: host interface HekiGuest ABI version 1, features 0xf",
        "heki: CR0.WP pinned: host-enforced",
        "heki: CR4.SMEP/SMAP/UMIP pinned: host-enforced",
        "heki: kernel text and sealed section R+X immutable, rodata R immutable, other RAM never executable: host-enforced",
    };

    [Fact]
    public void On_the_HekiGuest_ABI_everything_is_host_enforced_and_reported()
    {
        var host = new FakeHekiHost();
        var report = new RecordingReport();
        var g = Apply(new FakeHekiCpu(host), report);
        Assert.Equal(HostEnforcedTranscript, report.Lines);
        Assert.Equal(HekiCrBits.Cr0Wp, host.Cr0PinnedHigh);
        Assert.Equal(HekiCrBits.Cr4Smep | HekiCrBits.Cr4Smap | HekiCrBits.Cr4Umip, host.Cr4PinnedHigh);
        Assert.Equal(new[]
        {
            Range(0x100000, 12, Rx), Range(0x10C000, 1, Rx), Range(0x10D000, 8, Ro),
            Range(0, 159, Rw), Range(0x115000, (0x8000000 - 0x115000) / 4096, Rw),
        }, Assert.Single(host.AcceptedCalls));
        Assert.Equal((5, 5), (g.RangeCount, g.RangesApplied));
        Assert.Equal((0L, 0L, 0L), (g.Cr0PinResult, g.Cr4PinResult, g.MemoryResult));
    }

    [Fact]
    public void Only_bits_set_in_the_registers_are_pinned()
    {
        var host = new FakeHekiHost();
        var cpu = new FakeHekiCpu(host);
        cpu.Cr4 &= ~HekiCrBits.Cr4Smap;
        cpu.Cr0 &= ~HekiCrBits.Cr0Wp;
        var report = new RecordingReport();
        var g = Apply(cpu, report);
        Assert.Equal(HekiCrBits.Cr4Smep | HekiCrBits.Cr4Umip, host.Cr4PinnedHigh);
        Assert.Equal(0UL, host.Cr0PinnedHigh);
        Assert.Equal(0UL, g.Cr0Pinned);
        Assert.Equal("heki: CR0.WP pinned: guest-only (host said 0)", report.Lines[1]);
        Assert.Equal("heki: CR4.SMEP/SMAP/UMIP pinned: host-enforced", report.Lines[2]);
    }

    [Fact]
    public void Without_an_interface_one_line_says_why()
    {
        var report = new RecordingReport();
        var cpu = new FakeHekiCpu(new FakeHekiHost { Profile = HostProfile.None });
        var g = Apply(cpu, report);
        Assert.False(g.Host.Present);
        Assert.Equal(new[] { "heki: no HekiGuest host interface (no HEKIGUESTABI CPUID range); every protection is guest-enforced only" }, report.Lines);
        Assert.Equal(0, cpu.HostCalls);
    }

    [Fact]
    public void A_wrong_case_profile_is_reported_by_name()
    {
        var report = new RecordingReport();
        Apply(new FakeHekiCpu(new FakeHekiHost()), report, "HEKI");
        Assert.Equal(new[] { "heki: unknown profile name 'HEKI' (names are lower case: heki, cr-pin-2020, heki-v3, off); every protection is guest-enforced only" }, report.Lines);
    }

    [Fact]
    public void CrPin2020_pins_and_says_memory_is_guest_only()
    {
        var host = new FakeHekiHost { Profile = HostProfile.CrPin2020 };
        var report = new RecordingReport();
        var cpu = new FakeHekiCpu(host);
        Apply(cpu, report, "cr-pin-2020");
        Assert.Equal(new[]
        {
            "heki: host interface cr-pin-2020 (compat) version 0, features 0x1",
            "heki: CR0.WP pinned: host-enforced",
            "heki: CR4.SMEP/SMAP/UMIP pinned: host-enforced",
            "heki: kernel text and sealed section R+X immutable, rodata R immutable, other RAM never executable: guest-only (host said -95)",
        }, report.Lines);
        Assert.Empty(cpu.Hypercalls);
    }

    [Fact]
    public void A_memory_request_the_host_refuses_is_reported_guest_only()
    {
        // Guest memory smaller than the RAM described: the host refuses the (single) call.
        var host = new FakeHekiHost { MemorySize = 0x4000000 };
        var report = new RecordingReport();
        var g = Apply(new FakeHekiCpu(host), report);
        Assert.Equal("heki: kernel text and sealed section R+X immutable, rodata R immutable, other RAM never executable: guest-only (host said -22)", report.Lines[3]);
        Assert.Equal(0, g.RangesApplied);
        Assert.Empty(host.AcceptedCalls);
    }

    [Fact]
    public void A_guest_that_is_not_identity_mapped_protects_the_physical_pages_behind_its_image()
    {
        var host = new FakeHekiHost();
        var cpu = new FakeHekiCpu(host);
        const ulong va = FakeHekiCpu.MappedWindow;
        // Text at 0x400000 (12 pages), sealed at 0x200000 (1 page), rodata at 0x40C000 (8 pages).
        var pages = new ulong[21];
        for (int i = 0; i < 12; i++) pages[i] = 0x400000 + (ulong)i * 4096;
        pages[12] = 0x200000;
        for (int i = 0; i < 8; i++) pages[13 + i] = 0x40C000 + (ulong)i * 4096;
        cpu.Map(va, pages);
        var report = new RecordingReport();
        Apply(cpu, report, textVa: va, ram: new[] { new PhysicalRegion { Start = 0x100000, End = 0x800000 } });
        Assert.Equal(HostEnforcedTranscript, report.Lines);
        Assert.Equal(new[]
        {
            Range(0x400000, 12, Rx), Range(0x200000, 1, Rx), Range(0x40C000, 8, Ro),
            Range(0x100000, 0x100, Rw), Range(0x201000, 0x1FF, Rw), Range(0x414000, 0x3EC, Rw),
        }, Assert.Single(host.AcceptedCalls));
    }

    [Fact]
    public void An_unmapped_image_page_protects_nothing()
    {
        var host = new FakeHekiHost();
        var cpu = new FakeHekiCpu(host);
        var report = new RecordingReport();
        var g = Apply(cpu, report, textVa: FakeHekiCpu.MappedWindow);
        Assert.Equal(HekiError.BadAddress, g.MemoryResult);
        Assert.Equal("heki: kernel text and sealed section R+X immutable, rodata R immutable, other RAM never executable: guest-only (host said -14)", report.Lines[3]);
        Assert.Empty(host.AcceptedCalls);
    }

    [Fact]
    public void Ram_regions_are_trimmed_to_whole_pages()
    {
        var host = new FakeHekiHost();
        Apply(new FakeHekiCpu(host), new RecordingReport(), ram: new[] { new PhysicalRegion { Start = 0x2000800, End = 0x2003800 } });
        Assert.Equal(Range(0x2001000, 2, Rw), host.AcceptedRanges.Last());
    }
}
