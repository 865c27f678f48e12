namespace HekiGuest.HostSim.Cpu;

/// <summary>
/// Translates guest linear addresses to guest physical addresses. Paging (the machine) and per-VTL
/// permission maps plug in here. The core caches successful translations per 4 KiB page in a
/// software TLB; an implementation whose answers change must call <see cref="Cpu.FlushTlb"/>
/// (the core flushes by itself on CR0/CR3/CR4/EFER writes, INVLPG and CPL changes).
/// </summary>
public interface IAddressTranslator
{
    /// <summary>
    /// Translates one access that lies within a single 4 KiB page. <paramref name="cpl"/> is the
    /// privilege of the access (3 = user; the core passes 0 for implicit supervisor accesses such
    /// as descriptor-table reads). Returns false with the fault to raise (usually #PF).
    /// </summary>
    bool TryTranslate(ulong linear, AccessKind kind, int size, int cpl, out ulong physical, out GuestFault fault);
}
