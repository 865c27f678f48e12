using HekiGuest.Abi;
using HekiGuest.HostSim.Machine.Execution;

namespace HekiGuest.HostSim.Heki;

/// <summary>
/// The host side of the HekiGuest ABI for one VM (docs/abi.md): installs the CPUID leaves, the
/// pinning MSRs, the CR-write guard, the hypercalls and the permission check into the machine's
/// hooks for the chosen profile, reports every accepted lock and every denial to host userspace,
/// applies the denial policy, and drops pins and permissions when the VM resets.
/// </summary>
public sealed class HekiHost
{
    public const int Vcpu = 0;

    private readonly VirtualMachine _vm;
    private readonly HekiHostOptions _options;

    public HekiHost(VirtualMachine vm, HekiHostOptions options)
    {
        _vm = vm;
        _options = options;
        Permissions = new PermissionMap(vm.Memory.Size);
        var cpu = vm.Cpu;
        cpu.Cpuid = new HekiCpuidLeaves(cpu.Cpuid, this);
        if (Profile != HekiHostProfile.None)
        {
            cpu.ControlRegisterHook = new CrWriteGuard(this);
            cpu.Hypercalls = new HekiHypercalls(this);
        }
        if (HasPinMsrs)
        {
            cpu.MsrHook = new CrPinMsrs(this);
        }
        if (HasProtectMemory)
        {
            vm.Paging.PhysicalCheck = new HostPermissionCheck(this);
        }
        vm.Resetting += Reset;
        ApplyHostPins();
    }

    public HekiHostProfile Profile => _options.Profile;
    public DenialPolicy OnDenial => _options.OnDenial;
    public CrPinState Pins { get; } = new();
    public PermissionMap Permissions { get; }
    public uint MsrBase => HekiMsr.DefaultBase;
    public uint HypercallBase => HekiHypercall.DefaultBase;
    internal VirtualMachine Machine => _vm;

    public bool HasPinMsrs => Profile is HekiHostProfile.Heki or HekiHostProfile.CrPin2020;
    public bool HasLockCr => Profile is HekiHostProfile.Heki or HekiHostProfile.HekiV3;
    public bool HasProtectMemory => Profile == HekiHostProfile.Heki;

    /// <summary>Feature bits announced in the HekiGuest CPUID range (base + 1, EBX).</summary>
    public uint Features => Profile == HekiHostProfile.Heki
        ? HekiCpuid.FeatureCrPinMsrs | HekiCpuid.FeatureLockCrHypercall | HekiCpuid.FeatureProtectMemory | HekiCpuid.FeatureDenialEvents
        : 0;

    public int DenialCount { get; private set; }
    public int ConfigureCount { get; private set; }

    /// <summary>The denial that stopped the VM under <see cref="DenialPolicy.Stop"/>, if any.</summary>
    public DenialEvent? StoppedBy { get; private set; }

    /// <summary>Reports a blocked action and applies the policy. The caller then refuses the
    /// action the way the ABI says (#GP, #PF, an error code).</summary>
    internal void Deny(DenialEvent e)
    {
        DenialCount++;
        _options.Events?.Denial(e);
        var action = _options.Arbiter is { } arbiter ? arbiter.Decide(e) : OnDenial;
        if (action == DenialPolicy.Stop && StoppedBy is null)
        {
            StoppedBy = e;
            _vm.RequestHostStop(MachineStopKind.Denied, MachineOutcome.ExitDenied, e.Describe()
                + (_options.Arbiter is null ? " (--on-denial stop)" : " (denial action: stop)"));
        }
    }

    /// <summary>
    /// The host reads guest-physical memory on the guest's behalf (a hypercall's argument buffer).
    /// The permission map governs it exactly like a guest read (docs/abi.md section 4): every
    /// page of the buffer needs READ. A refused read copies nothing and produces one memory
    /// denial with cause <c>hypercall</c>; the caller then fails the call with -EFAULT.
    /// </summary>
    internal bool TryReadForGuest(Cpu.Cpu cpu, ulong gpa, Span<byte> destination)
    {
        ulong end = gpa + (ulong)destination.Length;
        for (ulong page = gpa & ~0xFFFUL; page < end; page += 0x1000)
        {
            if (!Permissions.IsEmpty && !Permissions.Allows(page, Cpu.AccessKind.Read))
            {
                Deny(new DenialEvent(DenialKind.Memory, Vcpu, cpu.CurrentInstructionRip)
                {
                    Gpa = Math.Max(page, gpa), Access = Cpu.AccessKind.Read, Cause = DenialCause.Hypercall,
                });
                return false;
            }
        }
        _vm.Memory.Slice(gpa, destination.Length).CopyTo(destination);
        return true;
    }

    internal void Configured(ConfigureEvent e)
    {
        ConfigureCount++;
        _options.Events?.Configure(e);
    }

    internal ConfigureEvent PinEvent(ConfigureSource source, int cr, ulong rip) => new(source, Vcpu, rip)
    {
        Cr = cr,
        PinnedHigh = Pins.PinnedHigh(cr),
        PinnedLow = Pins.PinnedLow(cr),
    };

    /// <summary>
    /// Host userspace replaces CR<paramref name="cr"/>'s pinned masks at run time (a control
    /// socket): any bits, no guest rules, a configure event with source <c>host</c>. Call on the
    /// VM thread between instructions. Returns why it is refused, or null when applied.
    /// </summary>
    public string? HostPin(int cr, ulong high, ulong low)
    {
        if (!CrPinState.IsPinnable(cr)) return $"CR{cr} cannot be pinned (only CR0 and CR4)";
        if ((high & low) != 0) return $"bits 0x{high & low:x} cannot be pinned both high and low";
        Pins.HostSet(cr, high: true, high);
        Pins.HostSet(cr, high: false, low);
        Configured(PinEvent(ConfigureSource.Host, cr, _vm.Cpu.Rip));
        return null;
    }

    /// <summary>VM reset: every guest pin and every memory permission goes; host pre-pins are
    /// the VMM's own configuration and are put back.</summary>
    public void Reset()
    {
        Pins.Clear();
        Permissions.Clear();
        StoppedBy = null;
        _vm.Cpu.FlushTlb();
        ApplyHostPins();
    }

    private void ApplyHostPins()
    {
        ApplyHostPin(0, _options.PrePinCr0);
        ApplyHostPin(4, _options.PrePinCr4);
    }

    private void ApplyHostPin(int cr, ulong mask)
    {
        if (mask == 0) return;
        Pins.HostSet(cr, high: true, Pins.PinnedHigh(cr) | mask);
        Configured(PinEvent(ConfigureSource.Host, cr, 0));
    }
}
