using HekiGuest.Abi;

namespace HekiGuest.Sdk.Tests.Fakes;

/// <summary>One hypercall as the guest made it.</summary>
public readonly record struct HypercallRecord(ulong Number, ulong A0, ulong A1, ulong A2, ulong A3);

/// <summary>
/// The guest's privileged primitives, scripted: CPUID.1's hypervisor bit, CR0/CR4 values, and a
/// page map for the window at <see cref="MappedWindow"/> (a page there without an entry is not
/// mapped); every other address translates to itself, so arrays in this process are "identity
/// mapped". MSR accesses and hypercalls go to <see cref="Host"/> (none: they fault) and are
/// recorded.
/// </summary>
public sealed unsafe class FakeHekiCpu : IHekiCpu
{
    public const ulong MappedWindow = 0xFFFF_8000_0000_0000;

    public FakeHekiHost? Host;
    public bool HypervisorBit = true;
    public ulong Cr0 = 0x8001_0033;                     // PG, WP, NE, ET, MP, PE
    public ulong Cr4 = 0x0030_0EA0 | HekiCrBits.Cr4Umip; // SMEP, SMAP, UMIP, PAE, ...
    public readonly Dictionary<ulong, ulong> PageMap = new();

    public int CpuidCalls;
    public readonly List<(uint Msr, ulong Value)> MsrWrites = new();
    public readonly List<HypercallRecord> Hypercalls = new();
    public int HostCalls => MsrWrites.Count + Hypercalls.Count;

    public FakeHekiCpu(FakeHekiHost? host) { Host = host; }

    public void Cpuid(uint leaf, uint subleaf, uint* regs)
    {
        CpuidCalls++;
        var r = new uint[4];
        if (leaf == 1) r[2] = HypervisorBit ? 1u << 31 : 0;
        else if (HypervisorBit && Host is not null) Host.Cpuid(leaf, r);
        for (int i = 0; i < 4; i++) regs[i] = r[i];
    }

    public bool TryReadMsr(uint msr, out ulong value)
    {
        value = 0;
        return Host is not null && Host.TryReadMsr(msr, out value);
    }

    public bool TryWriteMsr(uint msr, ulong value)
    {
        MsrWrites.Add((msr, value));
        return Host is not null && Host.TryWriteMsr(msr, value);
    }

    public bool TryHypercall(ulong number, ulong a0, ulong a1, ulong a2, ulong a3, out long result)
    {
        Hypercalls.Add(new HypercallRecord(number, a0, a1, a2, a3));
        result = 0;
        if (Host is null || Host.Profile == HostProfile.None) return false;
        result = Host.Hypercall(number, a0, a1, a2);
        return true;
    }

    public ulong ReadControlRegister(int cr) => cr == 0 ? Cr0 : cr == 4 ? Cr4 : 0;

    public bool TryVirtualToPhysical(ulong virtualAddress, out ulong physicalAddress)
    {
        physicalAddress = virtualAddress;
        if (virtualAddress < MappedWindow) return true;
        if (!PageMap.TryGetValue(virtualAddress & ~0xFFFUL, out ulong page)) return false;
        physicalAddress = page | (virtualAddress & 0xFFF);
        return true;
    }

    /// <summary>Maps consecutive pages of the window starting at <paramref name="virtualPage"/> to
    /// the given physical pages.</summary>
    public void Map(ulong virtualPage, params ulong[] physicalPages)
    {
        for (int i = 0; i < physicalPages.Length; i++) PageMap[virtualPage + (ulong)i * 4096] = physicalPages[i];
    }
}
