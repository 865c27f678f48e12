using System.Buffers.Binary;
using HekiGuest.Abi;
using HekiGuest.HostSim.Machine.Execution;

namespace HekiGuest.HostSim.Vsm;

/// <summary>
/// A policy-free host speaking the Hyper-V VSM interface for one VM (docs/vtl.md): installs the
/// Hyper-V CPUID leaves, the synthetic MSRs and the hypercall handler into the machine's hooks,
/// writes the hypercall page when the guest enables it, reports each set-up step to host
/// userspace and forgets the guest's set-up when the VM resets. It knows nothing of what the
/// guest protects or why.
/// </summary>
public sealed class VsmHost
{
    public const int Vcpu = 0;

    /// <summary>VP_INDEX of the one virtual processor.</summary>
    public const ulong VpIndex = 0;

    private readonly VirtualMachine _vm;
    private readonly IVsmEventSink? _events;

    public VsmHost(VirtualMachine vm, IVsmEventSink? events = null)
    {
        _vm = vm;
        _events = events;
        var cpu = vm.Cpu;
        cpu.Cpuid = new VsmCpuidLeaves(cpu.Cpuid);
        Msrs = new SyntheticMsrs(this, cpu.MsrHook);
        cpu.MsrHook = Msrs;
        Partition = new VsmPartition();
        Hypercalls = new VsmHypercalls(this, Msrs, new VtlHypercalls(this, Partition));
        cpu.Hypercalls = Hypercalls;
        vm.Resetting += Reset;
    }

    public SyntheticMsrs Msrs { get; }
    public VsmHypercalls Hypercalls { get; }
    public int SetUpCount { get; private set; }

    /// <summary>The partition's and each VP's VTL state.</summary>
    public VsmPartition Partition { get; }

    /// <summary>The VTL the (one) virtual processor runs in now.</summary>
    public int CurrentVtl => Partition.Vps[Vcpu].CurrentVtl;

    /// <summary>VTL enables (partition and VP), VTL calls and VTL returns so far, by kind.</summary>
    public IReadOnlyDictionary<VsmVtlEvent, long> VtlEventCounts => _vtlEventCounts;

    private readonly Dictionary<VsmVtlEvent, long> _vtlEventCounts = [];

    /// <summary>The 4 KiB guest-physical page at <paramref name="page"/> lies wholly in RAM.</summary>
    public bool IsRamPage(ulong page) => page < _vm.Memory.Size && _vm.Memory.Size - page >= HypercallPage.Size;

    /// <summary>Writes the hypercall page image into guest RAM at <paramref name="page"/> (a RAM
    /// page, checked by the caller) and drops any code the CPU had decoded from it.</summary>
    internal void WriteHypercallPage(ulong page)
    {
        HypercallPage.Fill(_vm.Memory.Slice(page, HypercallPage.Size));
        _vm.Cpu.InvalidateCodePage(page >> 12);
    }

    /// <summary>The <paramref name="length"/>-byte input block at <paramref name="gpa"/> (whose
    /// page the caller checked is in RAM), or false when it crosses into the next page.</summary>
    internal bool TryReadInput(ulong gpa, int length, out ReadOnlySpan<byte> block)
    {
        block = default;
        if ((gpa & (HypercallPage.Size - 1)) + (ulong)length > HypercallPage.Size || !IsRamPage(gpa & ~(ulong)(HypercallPage.Size - 1))) return false;
        block = _vm.Memory.Slice(gpa, length);
        return true;
    }

    /// <summary>Writes a u32 at <paramref name="offset"/> in the VP assist page, if it is enabled.</summary>
    internal void WriteAssistU32(uint offset, uint value)
    {
        if (AssistPage() is not { } page) return;
        BinaryPrimitives.WriteUInt32LittleEndian(_vm.Memory.Slice(page + offset, 4), value);
        // a host write into guest memory: code the CPU decoded from that page must not survive it
        _vm.Cpu.NotifyPhysicalWrite(page + offset);
    }

    /// <summary>Reads a u64 at <paramref name="offset"/> in the VP assist page; false if it is not enabled.</summary>
    internal bool TryReadAssistU64(uint offset, out ulong value)
    {
        value = 0;
        if (AssistPage() is not { } page) return false;
        value = BinaryPrimitives.ReadUInt64LittleEndian(_vm.Memory.Slice(page + offset, 8));
        return true;
    }

    private ulong? AssistPage()
    {
        ulong msr = Msrs.VpAssistPageMsr;
        ulong page = msr & HvMsr.PageNumberMask;
        return (msr & HvMsr.Enable) != 0 && IsRamPage(page) ? page : null;
    }

    internal void VtlEvent(VsmVtlEvent kind, int vtl)
    {
        _vtlEventCounts[kind] = _vtlEventCounts.GetValueOrDefault(kind) + 1;
        _events?.Vtl(kind, Vcpu, vtl);
    }

    internal void Configured(VsmSetupStep step, ulong rip, ulong value)
    {
        SetUpCount++;
        _events?.SetUp(step, Vcpu, rip, value);
    }

    /// <summary>VM reset: the synthetic MSRs are cleared and the partition is back to VTL0 only. The hypercall page's bytes stay in RAM
    /// (RAM is not cleared on reset) but hypercalls #UD until the guest enables the page again.</summary>
    public void Reset()
    {
        Msrs.Reset();
        Partition.Reset();
    }
}
