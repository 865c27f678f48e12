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
        Hypercalls = new VsmHypercalls(this, Msrs);
        cpu.Hypercalls = Hypercalls;
        vm.Resetting += Reset;
    }

    public SyntheticMsrs Msrs { get; }
    public VsmHypercalls Hypercalls { get; }
    public int SetUpCount { get; private set; }

    /// <summary>The 4 KiB guest-physical page at <paramref name="page"/> lies wholly in RAM.</summary>
    public bool IsRamPage(ulong page) => page < _vm.Memory.Size && _vm.Memory.Size - page >= HypercallPage.Size;

    /// <summary>Writes the hypercall page image into guest RAM at <paramref name="page"/> (a RAM
    /// page, checked by the caller) and drops any code the CPU had decoded from it.</summary>
    internal void WriteHypercallPage(ulong page)
    {
        HypercallPage.Fill(_vm.Memory.Slice(page, HypercallPage.Size));
        _vm.Cpu.InvalidateCodePage(page >> 12);
    }

    internal void Configured(VsmSetupStep step, ulong rip, ulong value)
    {
        SetUpCount++;
        _events?.SetUp(step, Vcpu, rip, value);
    }

    /// <summary>VM reset: the synthetic MSRs are cleared. The hypercall page's bytes stay in RAM
    /// (RAM is not cleared on reset) but hypercalls #UD until the guest enables the page again.</summary>
    public void Reset() => Msrs.Reset();
}
