using HekiGuest.HostSim.Cpu;
using HekiGuest.HostSim.Heki.Tests.Support;
using static HekiGuest.HostSim.Heki.Tests.Support.AbiDoc;

namespace HekiGuest.HostSim.Heki.Tests;

/// <summary>
/// Host accesses on the guest's behalf honour the permission map (docs/abi.md section 4): the
/// PROTECT_MEMORY range array is read like a guest read, so an array on a page without READ is
/// refused with -EFAULT and one memory denial with cause "hypercall".
/// </summary>
public sealed class HostAccessTests
{
    private const ulong NoAccess = 0x1E0000;

    [Fact]
    public void A_range_array_on_a_page_without_read_is_efault_with_one_hypercall_denial_and_changes_nothing()
    {
        using var g = new HekiGuestMachine();
        Assert.Equal(0, g.ProtectMemory((NoAccess, 1, 0)));
        g.WriteRanges(NoAccess + 0x100, (0x150000, 1, R));
        int configures = g.Events.Configures.Count;

        long result = g.Hypercall(ProtectMemory, NoAccess + 0x100, 1, 0);

        Assert.Equal(EFault, result);
        var d = Assert.Single(g.Events.Denials);
        Assert.Equal(DenialKind.Memory, d.Kind);
        Assert.Equal(DenialCause.Hypercall, d.Cause);
        Assert.Equal(NoAccess + 0x100, d.Gpa);
        Assert.Equal(AccessKind.Read, d.Access);
        Assert.Null(d.Gva);
        Assert.Equal(configures, g.Events.Configures.Count);
        Assert.Null(g.Host.Permissions.PermissionsOf(0x150000));
    }

    [Fact]
    public void A_range_array_straddling_into_a_page_without_read_is_refused_at_that_page()
    {
        using var g = new HekiGuestMachine();
        Assert.Equal(0, g.ProtectMemory((NoAccess, 1, 0)));
        ulong array = NoAccess - 24;                                        // first entry readable, second on the no-access page
        g.WriteRanges(array, (0x150000, 1, R), (0x151000, 1, R));

        Assert.Equal(EFault, g.Hypercall(ProtectMemory, array, 2, 0));

        Assert.Equal(NoAccess, Assert.Single(g.Events.Denials).Gpa);
        Assert.Null(g.Host.Permissions.PermissionsOf(0x150000));
    }

    [Fact]
    public void A_range_array_on_a_write_only_or_execute_only_page_is_refused_and_on_a_read_only_page_accepted()
    {
        using var g = new HekiGuestMachine();
        Assert.Equal(0, g.ProtectMemory((NoAccess, 1, W), (NoAccess + 0x1000, 1, X), (NoAccess + 0x2000, 1, R | Immutable)));
        g.WriteRanges(NoAccess, (0x150000, 1, R));
        g.WriteRanges(NoAccess + 0x1000, (0x150000, 1, R));
        g.WriteRanges(NoAccess + 0x2000, (0x150000, 1, R));

        Assert.Equal(EFault, g.Hypercall(ProtectMemory, NoAccess, 1, 0));
        Assert.Equal(EFault, g.Hypercall(ProtectMemory, NoAccess + 0x1000, 1, 0));
        Assert.Equal(0, g.Hypercall(ProtectMemory, NoAccess + 0x2000, 1, 0));
        Assert.Equal(2, g.Events.Denials.Count);
        Assert.Equal(R, g.Host.Permissions.PermissionsOf(0x150000));
    }
}
