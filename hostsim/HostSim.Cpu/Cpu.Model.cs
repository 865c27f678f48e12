namespace HekiGuest.HostSim.Cpu;

/// <summary>The CPU model (<see cref="CpuModel"/>): CPUID, and the control-register, EFER and
/// instruction checks that depend on which features the model has.</summary>
public sealed partial class Cpu
{
    private CpuModel _model = CpuModels.Default;
    private ulong _cr4Allowed = Cr4AllowedBy(CpuModels.Default);
    private ulong _eferAllowed = EferAllowedBy(CpuModels.Default);
    private bool _hasSep = true, _hasRdtscp = true, _hasXsaveopt = true, _hasXsavec = true, _hasInvpcid = true;

    /// <summary>
    /// The CPU model. Setting it replaces <see cref="Cpuid"/> with the model's own leaves, so a
    /// host layer that adds hypervisor leaves on top (wrapping <see cref="Cpuid"/>) must be
    /// attached after the model is chosen.
    /// </summary>
    public CpuModel Model
    {
        get => _model;
        set
        {
            _model = value;
            Cpuid = new ModelCpuid(value);
            _cr4Allowed = Cr4AllowedBy(value);
            _eferAllowed = EferAllowedBy(value);
            _hasSep = value.Has(CpuFeatures.Sep);
            _hasRdtscp = value.Has(CpuFeatures.Rdtscp);
            _hasXsaveopt = value.Has(CpuFeatures.Xsaveopt);
            _hasXsavec = value.Has(CpuFeatures.Xsavec);
            _hasInvpcid = value.Has(CpuFeatures.Invpcid);
        }
    }

    /// <summary>The CR4 bits a MOV to CR4 may set under the current model (others #GP).</summary>
    public ulong Cr4Allowed => _cr4Allowed;

    /// <summary>The CR4 bits the model allows: the core's <see cref="Cr4Supported"/> less those of absent features.</summary>
    private static ulong Cr4AllowedBy(CpuModel m)
    {
        ulong v = Cr4Supported;
        void Drop(string feature, int bit)
        {
            if (!m.Has(feature)) v &= ~(1UL << bit);
        }
        Drop(CpuFeatures.De, 3);
        Drop(CpuFeatures.Pse, 4);
        Drop(CpuFeatures.Pae, 5);
        Drop(CpuFeatures.Pge, 7);
        Drop(CpuFeatures.Fxsr, 9);
        Drop(CpuFeatures.Sse, 10);
        Drop(CpuFeatures.Umip, 11);
        Drop(CpuFeatures.Fsgsbase, 16);
        Drop(CpuFeatures.Pcid, 17);
        Drop(CpuFeatures.Xsave, 18);
        Drop(CpuFeatures.Smep, 20);
        Drop(CpuFeatures.Smap, 21);
        return v;
    }

    /// <summary>The EFER bits WRMSR may set: SCE with SYSCALL, LME (LMA read-only) with LM, NXE with NX.</summary>
    private static ulong EferAllowedBy(CpuModel m) =>
        (m.Has(CpuFeatures.Syscall) ? 1UL : 0) | (m.Has(CpuFeatures.Lm) ? 0x500UL : 0) | (m.Has(CpuFeatures.Nx) ? 0x800UL : 0);
}
