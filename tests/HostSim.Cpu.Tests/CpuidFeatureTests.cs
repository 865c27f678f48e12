using Iced.Intel;
using Xunit;
using static Iced.Intel.AssemblerRegisters;

namespace HekiGuest.HostSim.Cpu.Tests;

/// <summary>
/// CPUID must not advertise what the core does not implement: every feature bit any CPU model's
/// CPUID sets must have an entry here, and under every model that advertises it, its
/// instructions must run without #UD (or any other fault) up to the HLT. A new bit without an
/// entry, or an entry whose instruction is missing, fails.
/// </summary>
public sealed class CpuidFeatureTests
{
    private const ulong Data = GuestBox.DataBase;   // 64-byte aligned scratch

    private static void SetCr4(Assembler a, int bit)
    {
        a.mov(rax, cr4);
        a.bts(rax, (byte)bit);
        a.mov(cr4, rax);
    }

    private static void EnableXsave(Assembler a)
    {
        SetCr4(a, 18);
        a.xor(ecx, ecx);
        a.xor(edx, edx);
        a.mov(eax, 3);
        a.xsetbv();
    }

    /// <summary>SYSENTER_CS/ESP/EIP written and read back, SYSEXIT to CPL 3, SYSENTER back to CPL 0
    /// (64-bit forms in 64-bit mode; AMD models run it in 32-bit protected mode, see below).</summary>
    private static void SysenterRoundTrip(Assembler a)
    {
        void Wrmsr(uint msr)
        {
            a.xor(edx, edx);
            a.mov(ecx, msr);
            a.wrmsr();
            a.rdmsr();
        }
        var kernel = a.CreateLabel();
        var setup = a.CreateLabel();
        var user = a.CreateLabel();
        var exit = a.CreateLabel();
        // CALL pushes the address after it: the targets are found without RIP-relative addressing (32-bit code has none)
        a.call(setup);
        a.Label(ref kernel);
        a.hlt();                                        // back at CPL 0 after SYSENTER
        a.Label(ref setup);
        if (a.Bitness == 64) a.pop(rsi); else a.pop(esi);   // SYSENTER_EIP = kernel
        a.mov(eax, 0x08); Wrmsr(0x174);
        a.mov(eax, (uint)GuestBox.StackTop - 0x100); Wrmsr(0x175);
        a.mov(eax, esi); Wrmsr(0x176);
        a.call(exit);
        a.Label(ref user);
        a.sysenter();                                   // CPL 3 -> CPL 0
        a.Label(ref exit);
        if (a.Bitness == 64) a.pop(rdx); else a.pop(edx);   // SYSEXIT to user
        a.mov(ecx, (uint)GuestBox.StackTop - 0x200);
        if (a.Bitness == 64) a.sysexitq(); else a.sysexit();
    }

    /// <summary>(leaf, subleaf, register, bit) -> what it names and code that uses it.</summary>
    private static readonly Dictionary<(uint Leaf, uint Sub, char Reg, int Bit), (string Name, Action<Assembler> Use)> Features = new()
    {
        [(1, 0, 'd', 2)] = ("DE", a => { SetCr4(a, 3); a.mov(rax, dr7); a.mov(dr7, rax); }),
        [(1, 0, 'd', 3)] = ("PSE", a => SetCr4(a, 4)),
        [(1, 0, 'd', 4)] = ("TSC", a => a.rdtsc()),
        [(1, 0, 'd', 5)] = ("MSR", a => { a.mov(ecx, 0x10); a.rdmsr(); a.wrmsr(); }),
        [(1, 0, 'd', 6)] = ("PAE", a => SetCr4(a, 5)),
        [(1, 0, 'd', 8)] = ("CX8", a => { a.mov(edi, (uint)Data); a.cmpxchg8b(__qword_ptr[rdi]); }),
        [(1, 0, 'd', 11)] = ("SEP", SysenterRoundTrip),
        [(1, 0, 'd', 13)] = ("PGE", a => SetCr4(a, 7)),
        [(1, 0, 'd', 15)] = ("CMOV", a => { a.xor(eax, eax); a.cmove(ebx, eax); }),
        [(1, 0, 'd', 16)] = ("PAT", a => { a.mov(ecx, 0x277); a.rdmsr(); a.wrmsr(); }),
        [(1, 0, 'd', 19)] = ("CLFSH", a => { a.mov(edi, (uint)Data); a.clflush(__byte_ptr[rdi]); }),
        [(1, 0, 'd', 24)] = ("FXSR", a => { a.mov(edi, (uint)Data); a.fxsave(__[rdi]); a.fxrstor(__[rdi]); a.fxsave64(__[rdi]); a.fxrstor64(__[rdi]); }),
        [(1, 0, 'd', 25)] = ("SSE", a => { a.addps(xmm0, xmm1); a.stmxcsr(__dword_ptr[Data]); a.ldmxcsr(__dword_ptr[Data]); a.sfence(); }),
        [(1, 0, 'd', 26)] = ("SSE2", a => { a.paddq(xmm0, xmm1); a.addpd(xmm2, xmm3); a.lfence(); a.mfence(); }),
        [(1, 0, 'c', 13)] = ("CX16", a => { a.mov(edi, (uint)Data); a.cmpxchg16b(__xmmword_ptr[rdi]); }),
        [(1, 0, 'c', 17)] = ("PCID", a => { SetCr4(a, 17); a.mov(rax, 1UL | 1UL << 63); a.mov(cr3, rax); a.mov(rax, 2UL); a.mov(cr3, rax); }),
        [(1, 0, 'c', 23)] = ("POPCNT", a => a.popcnt(eax, ebx)),
        [(1, 0, 'c', 26)] = ("XSAVE", a =>
        {
            EnableXsave(a);
            a.xgetbv();
            a.mov(edi, (uint)Data);
            a.mov(eax, 3);
            a.xsave(__[rdi]);
            a.xrstor(__[rdi]);
            a.xsave64(__[rdi]);
            a.xrstor64(__[rdi]);
        }),
        [(1, 0, 'c', 27)] = ("OSXSAVE", a => { SetCr4(a, 18); a.xor(ecx, ecx); a.xgetbv(); }),   // set while CR4.OSXSAVE is
        [(7, 0, 'b', 0)] = ("FSGSBASE", a => { SetCr4(a, 16); a.rdfsbase(rax); a.wrgsbase(rax); }),
        [(7, 0, 'b', 3)] = ("BMI1", a =>
        {
            a.andn(eax, ebx, ecx);
            a.bextr(rax, rbx, rcx);
            a.blsi(eax, ebx);
            a.blsmsk(rax, rbx);
            a.blsr(eax, __dword_ptr[Data]);
            a.tzcnt(eax, ebx);
        }),
        [(7, 0, 'b', 7)] = ("SMEP", a => SetCr4(a, 20)),
        [(7, 0, 'b', 10)] = ("INVPCID", a =>
        {
            a.mov(edi, (uint)Data);
            for (uint type = 0; type < 4; type++) { a.mov(eax, type); a.invpcid(rax, __[rdi]); }
        }),
        [(7, 0, 'b', 13)] = ("FPU CS/DS deprecated", a => a.fnstenv(__[Data])),
        [(7, 0, 'b', 20)] = ("SMAP", a => { SetCr4(a, 21); a.stac(); a.clac(); }),
        [(7, 0, 'c', 2)] = ("UMIP", a => { SetCr4(a, 11); a.smsw(eax); a.sgdt(__[Data]); }),
        [(0xD, 1, 'a', 0)] = ("XSAVEOPT", a => { EnableXsave(a); a.mov(edi, (uint)Data); a.xsaveopt(__[rdi]); a.xsaveopt64(__[rdi]); }),
        [(0xD, 1, 'a', 1)] = ("XSAVEC", a => { EnableXsave(a); a.mov(edi, (uint)Data); a.xsavec(__[rdi]); a.xrstor(__[rdi]); a.xsavec64(__[rdi]); }),
        [(0x8000_0001, 0, 'c', 0)] = ("LAHF-SAHF", a => { a.lahf(); a.sahf(); }),
        [(0x8000_0001, 0, 'c', 5)] = ("ABM/LZCNT", a => a.lzcnt(rax, rbx)),
        [(0x8000_0001, 0, 'd', 11)] = ("SYSCALL", a =>
        {
            var target = a.CreateLabel();
            a.mov(ecx, 0xC000_0080);
            a.rdmsr();
            a.or(eax, 1);                             // EFER.SCE
            a.wrmsr();
            a.lea(rax, __[target]);
            a.mov(rdx, rax);
            a.shr(rdx, 32);
            a.mov(ecx, 0xC000_0082);                  // LSTAR
            a.wrmsr();
            a.syscall();
            a.Label(ref target);
        }),
        [(0x8000_0001, 0, 'd', 20)] = ("NX", a => { a.mov(ecx, 0xC000_0080); a.rdmsr(); a.bts(eax, (byte)11); a.wrmsr(); }),
        [(0x8000_0001, 0, 'd', 27)] = ("RDTSCP", a => a.rdtscp()),
        [(0x8000_0001, 0, 'd', 29)] = ("LM", a => { a.mov(rax, 0x1_0000_0000UL); a.movsxd(rbx, eax); a.cdqe(); }),
    };

    /// <summary>The feature leaves and the registers whose bits are features (leaf 0xD.0 is sizes
    /// and XCR0 bits, checked separately).</summary>
    private static readonly (uint Leaf, uint Sub, char[] Regs)[] FeatureLeaves =
    [
        (1, 0, ['c', 'd']), (7, 0, ['b', 'c', 'd']), (0xD, 1, ['a']), (0x8000_0001, 0, ['c', 'd']),
    ];

    /// <summary>Every (model, feature) pair the model advertises.</summary>
    public static TheoryData<string, string> AdvertisedFeatures()
    {
        var data = new TheoryData<string, string>();
        foreach (var model in CpuModels.All)
        {
            foreach (var (key, value) in Features)
            {
                if (Advertised(model, key)) data.Add(model.Name, value.Name);
            }
        }
        return data;
    }

    private static bool Advertised(CpuModel model, (uint Leaf, uint Sub, char Reg, int Bit) f)
    {
        using var box = new GuestBox();
        box.Cpu.Cr4 |= 1UL << 18;                           // so that OSXSAVE reads back
        var r = new ModelCpuid(model).Query(box.Cpu, f.Leaf, f.Sub);
        uint reg = f.Reg switch { 'a' => r.Eax, 'b' => r.Ebx, 'c' => r.Ecx, _ => r.Edx };
        return (reg & (1u << f.Bit)) != 0;
    }

    /// <summary>The AMD aliases of leaf-1 EDX bits in 0x80000001 EDX (checked against leaf 1 in CpuModelTests).</summary>
    private const uint AmdAliases = 0x0183_F3FF;

    [Theory]
    [MemberData(nameof(ModelNames))]
    public void Every_advertised_feature_bit_has_an_instruction_check_here(string modelName)
    {
        var model = CpuModels.Find(modelName)!;
        using var box = new GuestBox();
        box.Cpu.Cr4 |= 1UL << 18;
        var cpuid = new ModelCpuid(model);
        var missing = new List<string>();
        foreach (var (leaf, sub, regs) in FeatureLeaves)
        {
            var r = cpuid.Query(box.Cpu, leaf, sub);
            foreach (char reg in regs)
            {
                uint v = reg switch { 'a' => r.Eax, 'b' => r.Ebx, 'c' => r.Ecx, _ => r.Edx };
                if (leaf == 0x8000_0001 && reg == 'd' && model.Vendor == CpuVendor.Amd) v &= ~AmdAliases;
                for (int bit = 0; bit < 32; bit++)
                {
                    if ((v & (1u << bit)) != 0 && !Features.ContainsKey((leaf, sub, reg, bit)))
                    {
                        missing.Add($"leaf 0x{leaf:x}.{sub} e{reg}x bit {bit}");
                    }
                }
            }
        }
        Assert.True(missing.Count == 0, "advertised without a check: " + string.Join(", ", missing));
        Assert.True(AdvertisedFeatures().Count(row => (string)row[0] == modelName) >= 18, "the scan found too few features");
    }

    public static TheoryData<string> ModelNames() => [.. CpuModels.All.Select(m => m.Name)];

    [Theory]
    [MemberData(nameof(AdvertisedFeatures))]
    public void Advertised_feature_runs_without_ud(string modelName, string feature)
    {
        var model = CpuModels.Find(modelName)!;
        var use = Features.Values.Single(f => f.Name == feature).Use;
        // AMD has SYSENTER/SYSEXIT outside long mode only
        bool legacy = feature == "SEP" && model.Vendor == CpuVendor.Amd;
        using var box = new GuestBox(longMode: !legacy);
        box.Cpu.Model = model;
        box.Cpu.Efer |= legacy ? 0 : 1UL << 11;             // NXE, as a kernel has it
        box.Load(a => { use(a); a.hlt(); });
        var stop = box.Run(10_000);
        Assert.True(stop == StopReason.Halted, $"{modelName} {feature}: {stop} {box.Describe()}");
        Assert.Equal(0, box.Cpu.DiagnosticsRaised);
    }

    [Fact]
    public void Features_the_core_lacks_are_not_advertised_and_their_instructions_raise_ud()
    {
        using var box = new GuestBox();
        var cpuid = new DefaultCpuid();
        var l1 = cpuid.Query(box.Cpu, 1, 0);
        Assert.Equal(0u, l1.Edx & (1u << 0));                      // FPU: no x87 arithmetic
        Assert.Equal(0u, l1.Edx & (1u << 9));                      // APIC: none modelled
        Assert.Equal(0u, l1.Edx & (1u << 23));                     // MMX
        Assert.Equal(0u, l1.Ecx & ((1u << 0) | (1u << 9) | (1u << 19) | (1u << 20) | (1u << 28)));   // SSE3 SSSE3 SSE4.1 SSE4.2 AVX
        foreach (var bytes in new byte[][] { [0xD9, 0xE8], [0x0F, 0xFC, 0xC1] })     // fld1, paddb mm0, mm1
        {
            using var b = new GuestBox();
            b.LoadBytes(bytes);
            Assert.Equal(StopReason.Exception, b.Run());
            Assert.Equal(GuestFault.InvalidOpcode, b.Cpu.PendingException!.Value.Fault.Vector);
        }
    }

    [Fact]
    public void Xsave_leaf_is_reachable_and_consistent_with_what_the_core_saves()
    {
        using var box = new GuestBox();
        var cpuid = new DefaultCpuid();
        Assert.True(cpuid.Query(box.Cpu, 0, 0).Eax >= 0xD, "leaf 0xD above the maximum basic leaf");
        var d0 = cpuid.Query(box.Cpu, 0xD, 0);
        Assert.Equal(3u, d0.Eax);                               // x87 | SSE
        Assert.Equal(0u, d0.Edx);
        Assert.Equal(576u, d0.Ebx);                             // legacy region + header
        Assert.Equal(576u, d0.Ecx);
        Assert.Equal(default, cpuid.Query(box.Cpu, 0xD, 2));    // no AVX component
        // XSETBV accepts exactly the advertised XCR0 bits
        box.Cpu.Cr4 |= 1UL << 18;
        box.Load(a => { a.xor(ecx, ecx); a.xor(edx, edx); a.mov(eax, 7); a.xsetbv(); });
        Assert.Equal(StopReason.Exception, box.Run());
        Assert.Equal(GuestFault.GeneralProtection, box.Cpu.PendingException!.Value.Fault.Vector);
    }
}
