using HekiGuest.Abi;
using HekiGuest.Platform.Runtime;
using HekiGuest.Sdk;

namespace HekiGuest.Kernel.Vtl;

// The kernel's page-table changes once VTL1 protects memory: VTL0 may read its page tables but
// not write them, so PageTables hands every map/unmap to the monitor (MonitorCall.MapPage /
// UnmapPage, docs/vtl.md section 15), which walks VTL0's tables itself, checks the change
// against the policy sealed at boot and flushes VTL0's TLB. A refusal of one of the kernel's
// own mappings is a kernel bug, not an attack: it stops the kernel with the status.
public static class MonitorMappings
{
    /// <summary>Set by MemoryProtection once the monitor accepted the region table.</summary>
    public static bool Active;

    public static void Map(ulong virt, ulong phys, ulong flags)
    {
        long st = VtlCall.Call(MonitorCall.MapPage, virt, phys, flags, out _, out _);
        if (st != MonitorStatus.Success) Refused("the VTL1 monitor refused one of the kernel's mappings", st);
    }

    public static void Unmap(ulong virt)
    {
        long st = VtlCall.Call(MonitorCall.UnmapPage, virt, 0, 0, out _, out _);
        if (st != MonitorStatus.Success) Refused("the VTL1 monitor refused to unmap one of the kernel's pages", st);
    }

    private static void Refused(string what, long status)
    {
        HekiGuest.Platform.Machine.Console.Write("monitor: mapping call status ").Dec(status).Line();
        Panic.Stop(what);
    }
}
