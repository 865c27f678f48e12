using System.Buffers.Binary;
using System.Runtime.Intrinsics.X86;
using HekiGuest.HostSim.Cpu.Bench.Differential;
using Iced.Intel;
using Xunit;
using static Iced.Intel.AssemblerRegisters;

namespace HekiGuest.HostSim.Cpu.Tests;

/// <summary>
/// The x87 environment/state instructions and the XSAVE family against the host CPU, at CPL 3:
/// each case loads a known x87 state with FRSTOR (registers of every tag class, TOP 5, FSW.ES set
/// so that AMD processors also store the x87 pointers in FXSAVE/XSAVE images), runs the
/// instructions under test and stores what they produce into the data page; registers, XMM and
/// the data page are compared. XSAVE-family cases use EDX:EAX = 3 (x87 + SSE, what the core's
/// XCR0 supports) so the host's wider XCR0 does not matter. Each case ends with FNINIT and
/// LDMXCSR 1F80H so the test process gets its floating-point environment back.
/// Skipped on hosts that are not Linux x86-64 or lack the feature.
/// The core stores x87 state as current Intel processors do: FCS and FDS deprecated (stored as
/// zero, CPUID.(EAX=7,ECX=0):EBX[13]) and the x87 instruction and data pointers always saved. Two
/// host behaviours differ by vendor and are not compared where the host has them: a host without
/// the FCS/FDS deprecation stores the selectors it last loaded (AMD), and on AMD hosts the x87
/// pointers (FOP/FIP/FDP) seen by the test process are not stable: they read as zero in
/// FXSAVE/XSAVE images and in environment images whenever the host kernel saved and restored
/// the FPU state in between (AMD saves them only with FSW.ES set, and Linux clears them on
/// restore), so they are compared on other hosts only.
/// </summary>
public sealed class X87XsaveDifferentialTests
{
    private const int Image = 0xE00;         // the 108-byte FRSTOR image
    private const int DefaultMxcsr = 0xFF0;  // holds 1F80H

    /// <summary>ST(0)..ST(7) as (significand, sign+exponent): normal, zero, denormal, QNaN,
    /// unnormal, negative normal, infinity, pseudo-denormal.</summary>
    private static readonly (ulong Sig, ushort Se)[] Registers =
    [
        (0x8000_0000_0000_0000, 0x3FFF), (0, 0), (1, 0), (0xC000_0000_0000_0000, 0x7FFF),
        (0x4000_0000_0000_0000, 0x4000), (0xA000_0000_0000_0000, 0xC001), (0x8000_0000_0000_0000, 0x7FFF), (0x8000_0000_0000_0001, 0),
    ];

    private static byte[] InitialData()
    {
        var data = new byte[DifferentialRig.DataSize];
        for (int i = 0; i < data.Length; i++) data[i] = (byte)(i * 7 + 3);
        var img = data.AsSpan(Image);
        BinaryPrimitives.WriteUInt32LittleEndian(img, 0x027F);                 // FCW: PC=10, all masked
        BinaryPrimitives.WriteUInt32LittleEndian(img[4..], 0x2AA0);            // FSW: TOP=5, C1, ES, PE
        BinaryPrimitives.WriteUInt32LittleEndian(img[8..], 0x00C3);            // FTW: R0 and R3 empty
        BinaryPrimitives.WriteUInt32LittleEndian(img[12..], 0x1234_5678);      // FIP
        BinaryPrimitives.WriteUInt32LittleEndian(img[16..], 0x05A5_0033);      // FOP 5A5H, FCS 33H
        BinaryPrimitives.WriteUInt32LittleEndian(img[20..], 0x9ABC_DEF0);      // FDP
        BinaryPrimitives.WriteUInt32LittleEndian(img[24..], 0x002B);           // FDS
        for (int i = 0; i < 8; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(img[(28 + 10 * i)..], Registers[i].Sig);
            BinaryPrimitives.WriteUInt16LittleEndian(img[(36 + 10 * i)..], Registers[i].Se);
        }
        BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(DefaultMxcsr), 0x1F80);
        foreach (int area in (int[])[0x000, 0x240, 0x480, 0x6C0])
        {
            data.AsSpan(area + 512, 64).Clear();                                // XSAVE headers start zeroed, as an OS leaves them
        }
        return data;
    }

    private static bool XsaveUsable => RwxRegion.IsSupported && X86Base.IsSupported
        && (X86Base.CpuId(1, 0).Ecx & (1 << 27)) != 0;                      // OSXSAVE: XSAVE enabled by the host OS

    private static bool XsaveSubleafBit(int bit) => (X86Base.CpuId(0xD, 1).Eax & (1 << bit)) != 0;

    /// <summary>The host stores the x87 FCS/FDS selectors (no CPUID.7.0:EBX[13] deprecation).</summary>
    private static bool HostStoresFcsFds => X86Base.IsSupported && (X86Base.CpuId(7, 0).Ebx & (1 << 13)) == 0;

    private static bool HostIsAmd => X86Base.IsSupported && X86Base.CpuId(0, 0) is var (_, ebx, ecx, edx)
        && ebx == 0x6874_7541 && edx == 0x6974_6E65 && ecx == 0x444D_4163;   // "AuthenticAMD"

    /// <summary>The host-specific fields of x87 environment images (32-bit layout at the first
    /// offsets, 16-bit layout at the second): FCS and FDS when the host stores them, and on AMD
    /// hosts the instruction and data pointers and FOP too.</summary>
    private static (int Offset, int Length)[] FcsFds(int[] env32, int[]? env16 = null)
    {
        var ranges = new List<(int, int)>();
        foreach (int at in env32)
        {
            if (HostStoresFcsFds) ranges.AddRange([(at + 0x10, 2), (at + 0x18, 2)]);
            if (HostIsAmd) ranges.AddRange([(at + 0xC, 4), (at + 0x12, 2), (at + 0x14, 4)]);
        }
        foreach (int at in env16 ?? [])
        {
            if (HostStoresFcsFds) ranges.AddRange([(at + 0x8, 2), (at + 0xC, 2)]);
            if (HostIsAmd) ranges.AddRange([(at + 0x6, 2), (at + 0xA, 2)]);
        }
        return [.. ranges];
    }

    /// <summary>FOP, FIP and FDP of the legacy areas of FXSAVE/XSAVE images at
    /// <paramref name="areas"/> on AMD hosts; nothing otherwise.</summary>
    private static (int Offset, int Length)[] XsavePointers(params int[] areas) => !HostIsAmd ? []
        : [.. areas.SelectMany(at => new[] { (at + 6, 18) })];

    /// <summary>Runs the case on both; returns the differences (fields listed in <paramref name="ignore"/>
    /// as (offset, length) in the data page are not compared).</summary>
    private static string Compare(Action<Assembler> body, params (int Offset, int Length)[] ignore)
    {
        using var fuzzer = new DifferentialFuzzer();
        var rig = fuzzer.Rig;
        rig.Cpu.Cr4 |= 1UL << 18;
        rig.Cpu.Xcr0 = 3;
        var a = new Assembler(64);
        a.ldmxcsr(__dword_ptr[rbx + DefaultMxcsr]);   // the host's MXCSR may carry sticky flags
        a.frstor(__[rbx + Image]);
        body(a);
        a.fninit();
        a.ldmxcsr(__dword_ptr[rbx + DefaultMxcsr]);
        var w = new ByteListWriter();
        a.Assemble(w, rig.CodeStart);
        byte[] code = w.ToArray();

        var input = new MachineState { Rflags = 0x202, Data = InitialData(), Stack = new byte[DifferentialRig.StackSize] };
        input.Gpr[Cpu.RBX] = rig.DataStart;
        input.Gpr[Cpu.RSP] = rig.StackTop;
        for (int i = 0; i < 16; i++)
        {
            input.XmmLo[i] = 0x0101_0101_0101_0101UL * (ulong)(i + 1);
            input.XmmHi[i] = ~input.XmmLo[i];
        }
        var (emu, fault) = rig.RunInterpreter(code, input.Clone());
        if (emu == null)
        {
            var decoder = Iced.Intel.Decoder.Create(64, new ByteArrayCodeReader(code), rig.CodeStart);
            var at = decoder.Decode();
            while (at.NextIP <= rig.Cpu.Rip && decoder.IP < rig.CodeStart + (ulong)code.Length) at = decoder.Decode();
            return $"interpreter: {fault} at {at}";
        }
        var host = rig.RunHost(code, input.Clone());

        var diffs = new List<string>();
        for (int i = 0; i < 16; i++)
        {
            if (i != Cpu.RSP && host.Gpr[i] != emu.Gpr[i]) diffs.Add($"{MachineState.RegName(i)}: host 0x{host.Gpr[i]:x} emu 0x{emu.Gpr[i]:x}");
            if (host.XmmLo[i] != emu.XmmLo[i] || host.XmmHi[i] != emu.XmmHi[i]) diffs.Add($"xmm{i}: host {host.XmmHi[i]:x16}_{host.XmmLo[i]:x16} emu {emu.XmmHi[i]:x16}_{emu.XmmLo[i]:x16}");
        }
        for (int i = 0; i < host.Data.Length; i++)
        {
            if (host.Data[i] != emu.Data[i] && !ignore.Any(r => i >= r.Offset && i < r.Offset + r.Length))
            {
                diffs.Add($"data[0x{i:x}]: host 0x{host.Data[i]:x2} emu 0x{emu.Data[i]:x2}");
            }
        }
        return string.Join("\n", diffs.Take(40));
    }

    [Fact]
    public void Fnstenv_fnsave_frstor_fldenv_32_bit_layouts_match_the_host()
    {
        if (!RwxRegion.IsSupported) return;
        string diff = Compare(a =>
        {
            a.fnstenv(__[rbx + 0x100]);               // the full tag word computed from the registers
            a.fnstsw(ax);
            a.mov(r8, rax);
            a.fnsave(__[rbx + 0x200]);                // then FNINIT
            a.fnstenv(__[rbx + 0x300]);               // the initialised environment
            a.fnstcw(__[rbx + 0x320]);
            a.frstor(__[rbx + 0x200]);
            a.fnclex();
            a.fnstenv(__[rbx + 0x340]);
            a.fldenv(__[rbx + 0x100]);                // FCW now has every exception masked
            a.fnsave(__[rbx + 0x380]);
        }, FcsFds([0x100, 0x200, 0x300, 0x340, 0x380]));
        Assert.True(diff.Length == 0, diff);
    }

    [Fact]
    public void Sixteen_bit_operand_size_environment_and_state_layouts_match_the_host()
    {
        if (!RwxRegion.IsSupported) return;
        string diff = Compare(a =>
        {
            a.db(0x66, 0xD9, 0xB3, 0x00, 0x01, 0x00, 0x00);   // o16 fnstenv [rbx+100h]
            a.db(0x66, 0xDD, 0xB3, 0x00, 0x02, 0x00, 0x00);   // o16 fnsave [rbx+200h]
            a.db(0x66, 0xDD, 0xA3, 0x00, 0x02, 0x00, 0x00);   // o16 frstor [rbx+200h]
            a.fnstenv(__[rbx + 0x300]);
            a.db(0x66, 0xD9, 0xA3, 0x00, 0x01, 0x00, 0x00);   // o16 fldenv [rbx+100h]
            a.fnstenv(__[rbx + 0x340]);
        }, FcsFds([0x300, 0x340], [0x100, 0x200]));
        Assert.True(diff.Length == 0, diff);
    }

    [Fact]
    public void Fxsave_and_fxsave64_after_frstor_match_the_host()
    {
        if (!RwxRegion.IsSupported) return;
        string diff = Compare(a =>
        {
            a.fxsave(__[rbx + 0x000]);
            a.fxsave64(__[rbx + 0x200]);
            a.fxrstor64(__[rbx + 0x200]);
            a.fnstenv(__[rbx + 0x400]);
        }, [(0x01C, 4), (0x21C, 4), .. XsavePointers(0x000, 0x200), .. FcsFds([0x400])]);   // MXCSR_MASK: AMD reports MM (bit 17), the core 0xFFFF
        Assert.True(diff.Length == 0, diff);
    }

    [Fact]
    public void Xsave_xsave64_and_xrstor_of_x87_and_sse_match_the_host()
    {
        if (!XsaveUsable) return;
        string diff = Compare(a =>
        {
            a.mov(eax, 3);
            a.xor(edx, edx);
            a.xsave(__[rbx + 0x000]);
            a.xsave64(__[rbx + 0x240]);
            a.pxor(xmm3, xmm3);
            a.fninit();
            a.xrstor64(__[rbx + 0x240]);              // everything back
            a.xsave(__[rbx + 0x480]);
            a.mov(eax, 2);
            a.xsave(__[rbx + 0x6C0]);                 // SSE only: x87 bytes untouched
        }, [(0x01C, 4), (0x25C, 4), (0x49C, 4), (0x6DC, 4), .. XsavePointers(0x000, 0x240, 0x480, 0x6C0)]);
        Assert.True(diff.Length == 0, diff);
    }

    [Fact]
    public void Xrstor_with_xstate_bv_clear_initialises_the_component_like_the_host()
    {
        if (!XsaveUsable) return;
        string diff = Compare(a =>
        {
            a.mov(eax, 3);
            a.xor(edx, edx);
            a.xsave(__[rbx + 0x000]);
            a.mov(__qword_ptr[rbx + 0x200], 0);       // XSTATE_BV = 0: both components to their initial configuration
            a.xrstor(__[rbx + 0x000]);
            a.fnstenv(__[rbx + 0x300]);
            a.stmxcsr(__[rbx + 0x320]);
        }, [(0x01C, 4), .. XsavePointers(0x000), .. FcsFds([0x300])]);
        Assert.True(diff.Length == 0, diff);
    }

    [Fact]
    public void Xsaveopt_matches_the_host()
    {
        if (!XsaveUsable || !XsaveSubleafBit(0)) return;
        string diff = Compare(a =>
        {
            a.mov(eax, 3);
            a.xor(edx, edx);
            a.xsaveopt(__[rbx + 0x000]);
            a.xsaveopt64(__[rbx + 0x240]);
        }, [(0x01C, 4), (0x25C, 4), .. XsavePointers(0x000, 0x240)]);
        Assert.True(diff.Length == 0, diff);
    }

    [Fact]
    public void Xsavec_and_compacted_xrstor_match_the_host()
    {
        if (!XsaveUsable || !XsaveSubleafBit(1)) return;
        string diff = Compare(a =>
        {
            a.mov(eax, 3);
            a.xor(edx, edx);
            a.xsavec(__[rbx + 0x000]);
            a.pxor(xmm5, xmm5);
            a.fninit();
            a.xrstor(__[rbx + 0x000]);                // compacted form
            a.xsavec64(__[rbx + 0x240]);
            a.mov(eax, 1);
            a.xsavec(__[rbx + 0x480]);                // x87 only: XCOMP_BV = 8000000000000001H
        }, [(0x01C, 4), (0x25C, 4), (0x49C, 4), .. XsavePointers(0x000, 0x240, 0x480)]);
        Assert.True(diff.Length == 0, diff);
    }

    [Fact]
    public void Movnti_stores_like_the_host()
    {
        if (!RwxRegion.IsSupported) return;
        string diff = Compare(a =>
        {
            a.mov(rax, 0x1122_3344_5566_7788UL);
            a.movnti(__qword_ptr[rbx + 0x10], rax);
            a.movnti(__dword_ptr[rbx + 0x21], eax);   // unaligned is allowed
            a.sfence();
        });
        Assert.True(diff.Length == 0, diff);
    }
}
