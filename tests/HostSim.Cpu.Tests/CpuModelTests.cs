using Iced.Intel;
using Xunit;
using static Iced.Intel.AssemblerRegisters;

namespace HekiGuest.HostSim.Cpu.Tests;

/// <summary>
/// CPU models (QEMU's -cpu): identity in CPUID (SDM vol. 2 CPUID, AMD APM vol. 3 appendix E),
/// the <c>MODEL,+feat,-feat</c> syntax, features the model lacks refused by the core, and
/// SYSENTER/SYSEXIT with their MSRs and IA32_MISC_ENABLE (SDM vol. 2 and 4).
/// </summary>
public sealed class CpuModelTests
{
    private static CpuidResult Query(CpuModel model, uint leaf, uint sub = 0)
    {
        using var box = new GuestBox();
        return new ModelCpuid(model).Query(box.Cpu, leaf, sub);
    }

    private static string Text(params uint[] regs) =>
        string.Concat(regs.SelectMany(BitConverter.GetBytes).Select(b => (char)b)).TrimEnd('\0');

    [Theory]
    [InlineData("IvyBridge", 0x000306A9u)]         // Xeon E3-1200 v2 (SDM: family 6, model 3AH)
    [InlineData("Haswell", 0x000306C3u)]
    [InlineData("Skylake-Client", 0x000506E3u)]
    [InlineData("Icelake-Server", 0x000606A6u)]
    [InlineData("EPYC", 0x00800F12u)]              // family 17h = 0Fh + extended 08h
    [InlineData("EPYC-Milan", 0x00A00F11u)]        // family 19h
    [InlineData("qemu64", 0x00060FB1u)]            // family 15, model 107 = 6Bh
    public void Leaf_1_eax_encodes_family_model_and_stepping(string name, uint signature)
    {
        Assert.Equal(signature, Query(CpuModels.Find(name)!, 1).Eax);
    }

    [Fact]
    public void Every_model_has_a_real_vendor_a_brand_string_and_leaf_0xd_within_the_basic_range()
    {
        foreach (var m in CpuModels.All)
        {
            var l0 = Query(m, 0);
            string vendor = Text(l0.Ebx, l0.Edx, l0.Ecx);
            Assert.True(vendor is "GenuineIntel" or "AuthenticAMD", $"{m.Name}: {vendor}");
            Assert.Equal(m.VendorString, vendor);
            string brand = Text([.. new[] { 0x8000_0002u, 0x8000_0003u, 0x8000_0004u }.SelectMany(l => { var r = Query(m, l); return new[] { r.Eax, r.Ebx, r.Ecx, r.Edx }; })]);
            Assert.Equal(m.Brand, brand);
            Assert.Equal(0x8000_0008u, Query(m, 0x8000_0000).Eax);
            if (m.Has(CpuFeatures.Xsave)) Assert.True(l0.Eax >= 0xD, m.Name);
            else Assert.Equal(default, Query(m, 0xD));
        }
    }

    [Fact]
    public void Amd_models_repeat_the_vendor_signature_and_the_leaf_1_edx_aliases_in_the_extended_leaves()
    {
        var amd = CpuModels.Find("EPYC")!;
        var e0 = Query(amd, 0x8000_0000);
        Assert.Equal("AuthenticAMD", Text(e0.Ebx, e0.Edx, e0.Ecx));
        var l1 = Query(amd, 1);
        var e1 = Query(amd, 0x8000_0001);
        Assert.Equal(l1.Eax, e1.Eax);
        Assert.Equal(l1.Edx & 0x0183_F3FFu, e1.Edx & 0x0183_F3FFu);
        Assert.NotEqual(0u, e1.Edx & 0x0183_F3FFu);
        var intel = CpuModels.Find("Haswell")!;
        Assert.Equal(new CpuidResult(0x8000_0008, 0, 0, 0), Query(intel, 0x8000_0000));
        Assert.Equal(0u, Query(intel, 0x8000_0001).Edx & 0x0183_F3FFu);
    }

    [Fact]
    public void The_default_model_is_intel_with_what_hekiguest_and_mainstream_kernels_use()
    {
        var m = CpuModels.Default;
        Assert.Equal(CpuVendor.Intel, m.Vendor);
        foreach (string f in new[] { "lm", "nx", "pae", "pge", "sse2", "fxsr", "syscall", "smep", "smap", "umip", "xsave", "rdtscp", "fsgsbase", "sep" })
        {
            Assert.True(m.Has(f), f);
        }
        using var box = new GuestBox();
        Assert.Same(m, box.Cpu.Model);
        Assert.Equal(new ModelCpuid(m).Query(box.Cpu, 1, 0), box.Cpu.Cpuid.Query(box.Cpu, 1, 0));
    }

    [Fact]
    public void Spec_switches_features_and_removing_one_removes_what_needs_it()
    {
        var m = CpuModelSpec.Parse("skylake-client,-xsave,+sep,smap=off,bmi1=on");
        Assert.Equal("Skylake-Client", m.Name);
        Assert.False(m.Has("xsave"));
        Assert.False(m.Has("xsaveopt"));
        Assert.False(m.Has("xsavec"));
        Assert.False(m.Has("smap"));
        Assert.True(m.Has("smep"));
        var l1 = Query(m, 1);
        Assert.Equal(0u, l1.Ecx & (1u << 26));
        Assert.Equal(0u, Query(m, 7).Ebx & (1u << 20));
        Assert.True(CpuModelSpec.Parse("qemu64,+xsave,+xsavec").Has("xsavec"));
        Assert.False(CpuModelSpec.Parse("Haswell,-avx").Has("avx"));                // removing an absent feature is fine
    }

    [Theory]
    [InlineData("Haswell,+avx")]
    [InlineData("Haswell,+sse3")]
    [InlineData("Haswell,+nosuchfeature")]
    [InlineData("Pentium4")]
    [InlineData("")]
    [InlineData("qemu64,+xsavec")]
    [InlineData("Haswell,+")]
    [InlineData("Haswell,smep")]
    public void Bad_specs_are_refused_with_one_line(string spec)
    {
        var e = Assert.Throws<CpuModelSpecError>(() => CpuModelSpec.Parse(spec));
        Assert.DoesNotContain('\n', e.Message);
    }

    private static GuestBox Box(string spec, bool longMode = true)
    {
        var box = new GuestBox(longMode);
        box.Cpu.Model = CpuModelSpec.Parse(spec);
        return box;
    }

    private static byte Fault(GuestBox box)
    {
        var stop = box.Run();
        Assert.True(stop == StopReason.Exception, box.Describe());
        return box.Cpu.PendingException!.Value.Fault.Vector;
    }

    [Theory]
    [InlineData("smap", 21)]
    [InlineData("smep", 20)]
    [InlineData("umip", 11)]
    [InlineData("fsgsbase", 16)]
    [InlineData("xsave", 18)]
    [InlineData("pge", 7)]
    public void A_cr4_bit_of_an_absent_feature_gps_and_of_a_present_one_loads(string feature, int bit)
    {
        foreach (bool present in new[] { false, true })
        {
            using var box = Box($"max,{(present ? '+' : '-')}{feature}");
            box.Load(a => { a.mov(rax, cr4); a.bts(rax, (byte)bit); a.mov(cr4, rax); a.hlt(); });
            if (present)
            {
                Assert.Equal(StopReason.Halted, box.Run());
                Assert.NotEqual(0UL, box.Cpu.Cr4 & (1UL << bit));
            }
            else
            {
                Assert.Equal(GuestFault.GeneralProtection, Fault(box));
            }
        }
    }

    [Theory]
    [InlineData("nx", 11)]
    [InlineData("syscall", 0)]
    public void An_efer_bit_of_an_absent_feature_gps(string feature, int bit)
    {
        using var box = Box($"max,-{feature}");
        box.Load(a => { a.mov(ecx, 0xC000_0080); a.rdmsr(); a.bts(eax, (byte)bit); a.wrmsr(); a.hlt(); });
        Assert.Equal(GuestFault.GeneralProtection, Fault(box));
    }

    [Theory]
    [InlineData("sep", new byte[] { 0x0F, 0x34 })]                      // sysenter
    [InlineData("sep", new byte[] { 0x48, 0x0F, 0x35 })]                // sysexitq
    [InlineData("rdtscp", new byte[] { 0x0F, 0x01, 0xF9 })]
    [InlineData("xsavec", new byte[] { 0x0F, 0xC7, 0x20 })]             // xsavec [rax]
    [InlineData("xsaveopt", new byte[] { 0x0F, 0xAE, 0x30 })]           // xsaveopt [rax]
    public void An_instruction_of_an_absent_feature_is_ud(string feature, byte[] bytes)
    {
        using var box = Box($"max,-{feature}");
        box.Cpu.Cr4 |= 1UL << 18;
        box.Cpu.Gpr[Cpu.RAX] = GuestBox.DataBase;
        box.LoadBytes(bytes);
        Assert.Equal(GuestFault.InvalidOpcode, Fault(box));
    }

    [Fact]
    public void Sysenter_msrs_gp_without_sep_and_misc_enable_gps_on_amd()
    {
        using (var box = Box("max,-sep"))
        {
            box.Load(a => { a.mov(ecx, 0x174); a.rdmsr(); a.hlt(); });
            Assert.Equal(GuestFault.GeneralProtection, Fault(box));
        }
        using (var box = Box("EPYC"))
        {
            box.Load(a => { a.mov(ecx, 0x1A0); a.rdmsr(); a.hlt(); });
            Assert.Equal(GuestFault.GeneralProtection, Fault(box));
        }
    }

    private static void Wrmsr(Assembler a, uint msr, ulong value)
    {
        a.mov(ecx, msr);
        a.mov(eax, (uint)value);
        a.mov(edx, (uint)(value >> 32));
        a.wrmsr();
    }

    [Fact]
    public void Sysenter_in_64_bit_mode_on_intel_enters_the_flat_64_bit_kernel_segment()
    {
        using var box = Box("Haswell");
        box.Cpu.Rflags |= Flag.IF;
        box.Load(a =>
        {
            Wrmsr(a, 0x174, 0x13);                                  // RPL bits are dropped
            Wrmsr(a, 0x175, 0xFFFF_8000_0000_1000);
            Wrmsr(a, 0x176, 0xFFFF_8000_0000_2000);
            a.sysenter();
        });
        Assert.Equal(StopReason.Exception, box.Run());              // #PF-free flat box: fetch beyond RAM is #GP
        var cpu = box.Cpu;
        Assert.Equal(0xFFFF_8000_0000_2000UL, cpu.Rip);
        Assert.Equal(0xFFFF_8000_0000_1000UL, cpu.Gpr[Cpu.RSP]);
        Assert.Equal((ushort)0x10, cpu.Segments[Cpu.CS].Selector);
        Assert.Equal((ushort)0x18, cpu.Segments[Cpu.SS].Selector);
        Assert.Equal(64, cpu.Bitness);
        Assert.Equal(0, cpu.Cpl);
        Assert.Equal(0UL, cpu.Rflags & Flag.IF);
    }

    [Fact]
    public void Sysexit_returns_to_cpl_3_with_rcx_and_rdx_and_a_non_canonical_rdx_gps()
    {
        using var box = Box("Haswell");
        box.Load(a =>
        {
            Wrmsr(a, 0x174, 0x10);
            a.mov(rdx, GuestBox.CodeBase + 0x800);
            a.mov(rcx, 0x7000);
            a.sysexitq();
        });
        box.LoadBytes([0xF4], GuestBox.CodeBase + 0x800);           // HLT at CPL 3: #GP
        Assert.Equal(GuestFault.GeneralProtection, Fault(box));
        var cpu = box.Cpu;
        Assert.Equal(GuestBox.CodeBase + 0x800, cpu.Rip);
        Assert.Equal(0x7000UL, cpu.Gpr[Cpu.RSP]);
        Assert.Equal((ushort)(0x10 + 32 | 3), cpu.Segments[Cpu.CS].Selector);
        Assert.Equal((ushort)(0x10 + 40 | 3), cpu.Segments[Cpu.SS].Selector);
        Assert.Equal(3, cpu.Cpl);
        Assert.Equal(64, cpu.Bitness);

        using var bad = Box("Haswell");
        bad.Load(a => { Wrmsr(a, 0x174, 0x10); a.mov(rdx, 0x0000_8000_0000_0000UL); a.sysexitq(); });
        Assert.Equal(GuestFault.GeneralProtection, Fault(bad));
        Assert.Equal(0, bad.Cpu.Cpl);
    }

    [Fact]
    public void Sysenter_with_a_null_sysenter_cs_gps_and_sysexit_at_cpl_3_gps()
    {
        using (var box = Box("Haswell"))
        {
            box.LoadBytes([0x0F, 0x34]);
            Assert.Equal(GuestFault.GeneralProtection, Fault(box));
        }
        using (var box = Box("Haswell"))
        {
            box.Cpu.SysenterCs = 0x10;
            box.EnterUserMode();
            box.LoadBytes([0x0F, 0x35]);
            Assert.Equal(GuestFault.GeneralProtection, Fault(box));
        }
    }

    [Fact]
    public void Amd_sysenter_is_ud_in_long_mode_and_works_in_32_bit_protected_mode()
    {
        using (var box = Box("EPYC"))
        {
            box.Cpu.SysenterCs = 0x10;
            box.LoadBytes([0x0F, 0x34]);
            Assert.Equal(GuestFault.InvalidOpcode, Fault(box));
        }
        using (var box = Box("EPYC", longMode: false))
        {
            box.Load(a =>
            {
                Wrmsr(a, 0x174, 0x10);
                Wrmsr(a, 0x175, 0x1_0000_7000);                      // AMD keeps 32 bits
                Wrmsr(a, 0x176, GuestBox.CodeBase + 0x800);
                a.sysenter();
            });
            box.LoadBytes([0xF4], GuestBox.CodeBase + 0x800);
            Assert.Equal(StopReason.Halted, box.Run());
            Assert.Equal(0x7000UL, box.Cpu.Gpr[Cpu.RSP]);
            Assert.Equal(32, box.Cpu.Bitness);
            Assert.Equal((ushort)0x10, box.Cpu.Segments[Cpu.CS].Selector);
        }
    }

    [Fact]
    public void Sysenter_msrs_read_back_and_intel_requires_canonical_addresses()
    {
        using var box = Box("Icelake-Server");
        box.Load(a =>
        {
            Wrmsr(a, 0x176, 0xFFFF_8000_1234_5678);
            a.mov(ecx, 0x176);
            a.rdmsr();
            a.hlt();
        });
        Assert.Equal(StopReason.Halted, box.Run());
        Assert.Equal(0x1234_5678UL, box.Cpu.Gpr[Cpu.RAX]);
        Assert.Equal(0xFFFF_8000UL, box.Cpu.Gpr[Cpu.RDX]);

        using var bad = Box("Icelake-Server");
        bad.Load(a => Wrmsr(a, 0x175, 0x0000_8000_0000_0000));
        Assert.Equal(GuestFault.GeneralProtection, Fault(bad));
    }

    [Fact]
    public void Misc_enable_reads_fast_strings_and_only_that_bit_is_writable()
    {
        using var box = Box("Haswell");
        box.Load(a =>
        {
            a.mov(ecx, 0x1A0);
            a.rdmsr();
            a.mov(ebx, eax);
            a.btr(eax, 0);
            a.wrmsr();                                              // fast strings off: accepted
            a.rdmsr();
            a.mov(esi, eax);
            a.bts(eax, 22);                                         // limit CPUID maxval: refused
            a.wrmsr();
        });
        Assert.Equal(GuestFault.GeneralProtection, Fault(box));
        Assert.Equal(0x1801UL, box.Cpu.Gpr[Cpu.RBX]);
        Assert.Equal(0x1800UL, box.Cpu.Gpr[Cpu.RSI]);
        box.Cpu.Reset();
        Assert.Equal(0x1801UL, box.Cpu.MiscEnable);
    }
}
