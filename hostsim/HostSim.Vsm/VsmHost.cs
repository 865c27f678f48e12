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

    /// <param name="showVtl1">The explicit opt-in to show VTL1's state and pages in traces and
    /// crash reports; without it a <see cref="Vtl1InspectionFilter"/> hides them.</param>
    public VsmHost(VirtualMachine vm, IVsmEventSink? events = null, bool showVtl1 = false)
    {
        _vm = vm;
        _events = events;
        var cpu = vm.Cpu;
        cpu.Cpuid = new VsmCpuidLeaves(cpu.Cpuid);
        Msrs = new SyntheticMsrs(this, cpu.MsrHook);
        cpu.MsrHook = Msrs;
        Partition = new VsmPartition(vm.Memory.Size);
        Registers = new VpRegisterFile(this, Partition);
        Intercepts = new SecureIntercepts(this, vm);
        Hypercalls = new VsmHypercalls(this, Msrs, new VtlHypercalls(this, Partition),
            new ProtectionHypercall(this, Partition), new VpRegisterHypercalls(this, Registers));
        cpu.Hypercalls = Hypercalls;
        vm.Paging.PhysicalCheck = new VtlProtectionCheck(this);
        RegisterIntercepts = new RegisterIntercepts(this, cpu.ControlRegisterHook, cpu.DescriptorTableHook);
        cpu.ControlRegisterHook = RegisterIntercepts;
        cpu.DescriptorTableHook = RegisterIntercepts;
        vm.Resetting += Reset;
        if (!showVtl1)
        {
            vm.InspectionFilter = new Vtl1InspectionFilter(this);
            vm.Trace?.Event("notice", new Dictionary<string, object> { ["summary"] = vm.InspectionFilter.Notice });
        }
    }

    public VpRegisterFile Registers { get; }
    public SecureIntercepts Intercepts { get; }
    public RegisterIntercepts RegisterIntercepts { get; }

    /// <summary>Protection changes (VTL protection enabled, ModifyVtlProtectionMask calls that changed pages) so far.</summary>
    public long ProtectionChanges { get; private set; }

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

    /// <summary>An output block of <paramref name="length"/> bytes at <paramref name="gpa"/> lies in one RAM page.</summary>
    internal bool CanWriteOutput(ulong gpa, int length) =>
        (gpa & (HypercallPage.Size - 1)) + (ulong)length <= HypercallPage.Size && IsRamPage(gpa & ~(ulong)(HypercallPage.Size - 1));

    /// <summary>Writes a hypercall's output (checked by <see cref="CanWriteOutput"/>) for the guest.</summary>
    internal void WriteOutput(ulong gpa, ReadOnlySpan<byte> data)
    {
        data.CopyTo(_vm.Memory.Slice(gpa, data.Length));
        _vm.Cpu.NotifyPhysicalWrite(gpa);
    }

    /// <summary>
    /// The VTL the VP runs in may have the host read (<paramref name="write"/> false) or write the
    /// page at <paramref name="gpa"/> on its behalf: always in VTL1; in VTL0 only what VTL1's
    /// protections allow VTL0 itself (hypercall input and output pages, the hypercall and VP
    /// assist pages a VTL0 MSR write names).
    /// </summary>
    internal bool CurrentVtlMay(ulong gpa, bool write)
    {
        if (CurrentVtl != 0) return true;
        uint need = write ? HvMapGpa.Read | HvMapGpa.Write : HvMapGpa.Read;
        return !Partition.Vtl0Protections.Denies(gpa, need);
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

    // The assist page the host writes entry reasons and messages into, and reads the VTL return
    // values from: VTL1's own (its VTL control area); VTL0's VP_ASSIST_PAGE cannot move it.
    private ulong? AssistPage()
    {
        ulong msr = Msrs.VpAssistPageMsr(HvVtl.MaxVtl);
        ulong page = msr & HvMsr.PageNumberMask;
        return (msr & HvMsr.Enable) != 0 && IsRamPage(page) ? page : null;
    }

    /// <summary>A secure intercept's host exit: VTL0 (RIP on the intercepted instruction) is saved,
    /// VTL1 entered with entry reason 3 and <paramref name="message"/> in the VP assist page.
    /// False (nothing happens) when the VP is no longer in VTL0 or has no VTL1.</summary>
    internal bool EnterVtl1ForIntercept(byte[] message)
    {
        var vp = Partition.Vps[Vcpu];
        if (vp.CurrentVtl != 0 || !vp.IsEnabled(HvVtl.MaxVtl)) return false;
        vp.SwitchTo(_vm.Cpu, HvVtl.MaxVtl);
        WriteAssistU32(HvVpAssist.VtlEntryReasonOffset, HvVpAssist.EntryReasonIntercept);
        if (AssistPage() is { } page)
        {
            message.CopyTo(_vm.Memory.Slice(page + HvVpAssist.InterceptMessageOffset, message.Length));
            _vm.Cpu.NotifyPhysicalWrite(page + HvVpAssist.InterceptMessageOffset);
        }
        return true;
    }

    /// <summary>Entering <paramref name="vtl"/> from above: an exception pending in its
    /// PendingEvent0 is injected (delivered before its next instruction) and the register cleared.</summary>
    internal void DeliverPendingEvent(VirtualProcessorVtls vp, int vtl)
    {
        var value = vp.PendingEvent(vtl);
        if (((ulong)value & HvPendingEvent.Pending) == 0) return;
        vp.SetPendingEvent(vtl, 0);
        if (VpRegisterFile.PendingFault(value) is { } fault)
        {
            InjectedCount++;
            _events?.Injected(Vcpu, vtl, fault.Vector, fault.ErrorCode, _vm.Cpu.Rip);
            _vm.InjectException(fault);
        }
    }

    internal void Intercepted(VsmInterceptEvent e)
    {
        InterceptCount++;
        _events?.Intercept(e);
    }

    /// <summary>Exceptions injected from PendingEvent0 so far.</summary>
    public long InjectedCount { get; private set; }

    /// <summary>Secure intercepts delivered so far.</summary>
    public long InterceptCount { get; private set; }

    internal void ProtectionChanged(VsmProtectionScope scope, ulong firstGpa, ulong pages, uint mask)
    {
        ProtectionChanges++;
        _events?.Protection(scope, Vcpu, 0, firstGpa, pages, mask);
    }

    /// <summary>A register SetVpRegisters wrote: VTL1's VSM control registers are reported.</summary>
    internal void RegisterSet(int vtl, uint name, UInt128 value)
    {
        if (vtl == HvVtl.MaxVtl && name is HvRegister.VsmPartitionConfig or HvRegister.CrInterceptControl
            or HvRegister.CrInterceptCr0Mask or HvRegister.CrInterceptCr4Mask)
        {
            _events?.Control(Vcpu, name, (ulong)value);
        }
    }

    /// <summary>Host userspace's kexec policy (the policy key "kexec"): whether VTL1 may remove
    /// itself (HekiHvExtension.RemoveVtl1). Null allows it.</summary>
    public Func<bool>? Vtl1RemovalAllowed { get; set; }

    /// <summary>Zeroes every RAM page VTL0 cannot read (VTL1's private memory), before VTL1 goes.</summary>
    internal void ZeroPagesHiddenFromVtl0()
    {
        var map = Partition.Vtl0Protections;
        if (!map.Enabled) return;
        for (ulong page = 0; page < map.PageCount; page++)
        {
            ulong gpa = page << 12;
            if (gpa + 4096 > _vm.Memory.Size || !map.Denies(gpa, HvMapGpa.Read)) continue;
            _vm.Memory.Slice(gpa, 4096).Clear();
            _vm.Cpu.NotifyPhysicalWrite(gpa);
        }
        _vm.Cpu.FlushDecodeCache();
    }

    /// <summary>After RemoveVtl1: the TLB and decode caches forget VTL1's view; one event.</summary>
    internal void Vtl1Removed()
    {
        Msrs.Clear(HvVtl.MaxVtl);   // VTL1's own synthetic MSRs go with it
        _vm.Cpu.FlushTlb();
        _vm.Cpu.FlushDecodeCache();
        VtlEvent(VsmVtlEvent.Vtl1Removed, 0);
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
        if ((Partition.Vtl1PartitionConfig & HvPartitionConfig.ZeroMemoryOnReset) != 0)
        {
            // VTL1 asked for its secrets not to outlive it: all of guest RAM is cleared before
            // the machine reloads the kernel
            for (ulong at = 0; at < _vm.Memory.Size; at += 1UL << 30)
            {
                _vm.Memory.Slice(at, (int)Math.Min(_vm.Memory.Size - at, 1UL << 30)).Clear();
            }
            _vm.Cpu.FlushDecodeCache();
        }
        Msrs.Reset();
        Partition.Reset();
        // back in VTL0's translation context, with nothing any VTL cached surviving the reset
        _vm.Cpu.SwitchTranslationContext(0);
        _vm.Cpu.FlushTlb();
    }
}
