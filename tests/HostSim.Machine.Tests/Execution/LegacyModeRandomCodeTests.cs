using HekiGuest.HostSim.Cpu;
using HekiGuest.HostSim.Machine.Execution;
using static HekiGuest.HostSim.Machine.Tests.Execution.ProtectedModeGuest;
using Processor = HekiGuest.HostSim.Cpu.Cpu;

namespace HekiGuest.HostSim.Machine.Tests.Execution;

/// <summary>
/// Random code outside IA-32e mode: 32-bit protected-mode code at CPL 0 and 3, virtual-8086
/// code and real-mode code (IVT delivery), with TSSes, task gates in the GDT and the IDT, an LDT and an I/O bitmap, and
/// random bytes salted with task-switch and v86 shapes (JMP/CALL FAR to TSSes and gates, IRET with
/// and without NT, INT n, PUSHF/POPF/CLI/STI, IN/OUT, LTR, MOV CR3). Whatever the guest does, the
/// host must not throw or hang (the guest-level fuzzer <c>make fuzz-guest</c> runs in IA-32e mode
/// only, where neither exists). Seeds are fixed; <c>HOSTSIM_LEGACY_FUZZ_SEEDS</c> runs more.
/// </summary>
public sealed class LegacyModeRandomCodeTests
{
    private const ulong Tss2 = 0x13000, Tss3 = 0x14000, Ldt = 0x15000, V86Code = 0x20000;
    private const ushort Tss2Sel = 0x38, GateSel = 0x40, LdtSel = 0x48, Tss3Sel = 0x50;
    private static readonly ushort[] Selectors = [0x08, 0x10, 0x1B, 0x23, 0x28, Tss2Sel, GateSel, LdtSel, Tss3Sel, 0x0C, 0x2000, 0];

    [Fact]
    public void Random_legacy_mode_code_never_makes_the_host_throw_or_hang()
    {
        int seeds = int.TryParse(Environment.GetEnvironmentVariable("HOSTSIM_LEGACY_FUZZ_SEEDS"), out int n) ? n : 300;
        int switched = 0, inV86 = 0, delivered = 0, real = 0;
        for (int seed = 1; seed <= seeds; seed++)
        {
            var (outcome, trChanged, v86, exceptions, realMode) = RunSeed(seed);
            if (realMode) real++;
            Assert.True(outcome.Kind != MachineStopKind.Timeout, $"seed {seed}: hang ({outcome.Summary})");
            if (trChanged) switched++;
            if (v86) inV86++;
            delivered += (int)Math.Min(exceptions, 1);
        }
        // the shapes are reached: tasks switch, v86 code runs, exceptions are delivered
        Assert.True(switched > seeds / 20, $"only {switched} of {seeds} seeds switched tasks");
        Assert.True(inV86 > seeds / 20, $"only {inV86} of {seeds} seeds ran v86 code");
        Assert.True(real > seeds / 20, $"only {real} of {seeds} seeds ran real-mode code");
        Assert.True(delivered > seeds / 2, $"only {delivered} of {seeds} seeds delivered an exception");
    }

    private static (MachineOutcome Outcome, bool TrChanged, bool V86, long Exceptions, bool RealMode) RunSeed(int seed)
    {
        var rng = new Random(seed);
        using var g = new ProtectedModeGuest(paging: rng.Next(2) == 0);
        g.Cpu.Gdtr = new DescriptorTableRegister { Base = Gdt, Limit = 0x57 };
        g.WriteU64(Gdt + TssSelector, Tss32Descriptor(Tss, 0x8B, 0x67 + 0x2000 / 8 + 1));
        g.WriteU64(Gdt + Tss2Sel, Tss32Descriptor(Tss2, 0x89, 0x67));
        g.WriteU64(Gdt + GateSel, ((ulong)(rng.Next(2) == 0 ? Tss2Sel : Tss3Sel) << 16) | ((ulong)(0x85 | (rng.Next(4) << 5)) << 40));
        g.WriteU64(Gdt + LdtSel, Tss32Descriptor(Ldt, 0x82, 0x17));
        g.WriteU64(Gdt + Tss3Sel, Tss32Descriptor(Tss3, 0x89, (uint)(rng.Next(3) == 0 ? 0x60 : 0x67)));
        g.WriteU64(Ldt + 8, 0x00CF_9200_0000_FFFFUL);
        g.WriteU64(Ldt + 16, 0x00CF_FA00_0000_FFFFUL);
        g.Vm.Memory.Slice(Tss + 0x68, 0x2000 / 8).Fill((byte)(rng.Next(2) == 0 ? 0 : 0xF0));
        g.WriteU32(Tss + 0x64, 0x68u << 16);
        g.WriteU32(Tss + 0x1C, (uint)g.Cpu.Cr3);
        var tr = g.Cpu.Tr;
        tr.Limit = 0x67 + 0x2000 / 8 + 1;
        g.Cpu.Tr = tr;
        foreach (ulong tss in new[] { Tss2, Tss3 }) RandomTask(g, rng, tss);

        // IDT: interrupt/trap gates to a stub that skips one byte, or task gates
        for (int v = 0; v < 256; v++)
        {
            int kind = rng.Next(10);
            if (kind == 0) g.Gate(v, TaskGate, dpl: rng.Next(4), selector: rng.Next(2) == 0 ? Tss2Sel : Tss3Sel);
            else g.Gate(v, kind < 6 ? InterruptGate : TrapGate, dpl: rng.Next(4));
            bool errorCode = v is 8 or 10 or 11 or 12 or 13 or 14 or 17;
            int vector = v;
            g.Emit(Handler(v), a =>
            {
                if (errorCode) a.add(Iced.Intel.AssemblerRegisters.esp, 4);
                a.inc(Iced.Intel.AssemblerRegisters.__dword_ptr[Iced.Intel.AssemblerRegisters.esp]);
                a.iretd();
            });
        }

        FillRandom(g, rng, Code, 0x1000);
        FillRandom(g, rng, V86Code, 0x1000);

        bool realMode = false;
        switch (rng.Next(4))
        {
            case 0: break;                                                       // CPL 0, 32-bit
            case 1: g.EnterUserMode(0x6_0000); g.Cpu.Rflags |= (ulong)rng.Next(4) << 12; break;
            case 3:
                uint[] frame = [0, 0x2000, (uint)(0x20202 | (rng.Next(4) << 12)), 0x1000, 0x5000, 0x2200, 0x2100, 0, 0];
                ulong esp = StackTop - 36;
                for (int i = 0; i < frame.Length; i++) g.WriteU32(esp + (ulong)i * 4, frame[i]);
                g.Cpu.WriteGpr(Processor.RSP, esp);
                g.Emit(Code, a => a.iretd());
                break;
            case 2:                                                              // real mode (CR0.PE = 0) at 2000:0000, IVT at 0
                realMode = true;
                for (int v = 0; v < 256; v++) g.WriteU32((ulong)v * 4, 0x2000_0000u | (uint)rng.Next(0x1000));
                g.Cpu.Cr0 &= ~0x8000_0001UL;
                g.Cpu.Cr4 = 0;
                g.Cpu.Idtr = new DescriptorTableRegister { Base = 0, Limit = 0x3FF };
                for (int s = 0; s < 6; s++)
                {
                    ushort sel = s == Processor.CS ? (ushort)0x2000 : s == Processor.SS ? (ushort)0x5000 : (ushort)0x2100;
                    g.Cpu.SetSegment(s, new SegmentRegister { Selector = sel, Base = (ulong)sel << 4, Limit = 0xFFFF, Attributes = s == Processor.CS ? (ushort)0x9B : (ushort)0x93 });
                }
                g.Cpu.Rip = 0;
                g.Cpu.Rflags = 0x202;
                g.Cpu.FlushTlb();
                break;
        }
        for (int r = 0; r < 8; r++) if (r != Processor.RSP) g.Cpu.WriteGpr(r, (ulong)rng.NextInt64(0, 0x40_0000));
        if (realMode) g.Cpu.WriteGpr(Processor.RSP, 0x1000);

        bool sawV86 = false;
        long before = g.Vm.Exceptions.Delivered;
        MachineOutcome outcome = null!;
        for (int slice = 0; slice < 8; slice++)
        {
            outcome = g.Vm.Run(new RunLimits(TimeSpan.FromSeconds(5), 500));
            sawV86 |= g.Cpu.V86Mode;
            if (outcome.Kind != MachineStopKind.InstructionLimit) break;
        }
        return (outcome, g.Cpu.Tr.Selector != TssSelector, sawV86, g.Vm.Exceptions.Delivered - before, realMode);
    }

    private static ulong Tss32Descriptor(ulong b, uint access, uint limit) =>
        (limit & 0xFFFF) | ((b & 0xFF_FFFF) << 16) | ((ulong)access << 40) | ((ulong)((limit >> 16) & 0xF) << 48) | (((b >> 24) & 0xFF) << 56);

    private static void RandomTask(ProtectedModeGuest g, Random rng, ulong tss)
    {
        bool v86 = rng.Next(3) == 0;
        g.WriteU32(tss + 0x1C, (uint)g.Cpu.Cr3);
        g.WriteU32(tss + 0x20, v86 ? (uint)rng.Next(0x1000) : (uint)(Code + (ulong)rng.Next(0x1000)));
        uint eflags = 0x2 | ((uint)rng.Next(4) << 12) | ((uint)rng.Next(2) << 9);
        if (v86) eflags |= (uint)Flag.VM;
        if (rng.Next(4) == 0) eflags |= (uint)Flag.NT;
        g.WriteU32(tss + 0x24, eflags);
        for (int r = 0; r < 8; r++) g.WriteU32(tss + 0x28 + (ulong)r * 4, (uint)rng.Next(0x40_0000));
        g.WriteU32(tss + 0x38, 0x6_0000 + (uint)rng.Next(0x1000));
        bool user = rng.Next(2) == 0;
        ushort[] sels = v86 ? [0x2200, 0x2000, 0x5000, 0x2100, 0, 0]
            : user ? [0x1B, 0x23, 0x1B, 0x1B, 0, 0] : [0x10, 0x08, 0x10, 0x10, 0, 0];
        for (int s = 0; s < 6; s++) g.WriteU32(tss + 0x48 + (ulong)s * 4, rng.Next(8) == 0 ? Selectors[rng.Next(Selectors.Length)] : sels[s]);
        g.WriteU32(tss + 0x60, rng.Next(4) == 0 ? Selectors[rng.Next(Selectors.Length)] : rng.Next(2) == 0 ? LdtSel : 0u);
        g.WriteU32(tss + 0x64, (uint)rng.Next(0x100) << 16);
    }

    /// <summary>Random bytes with task-switch, v86 and system shapes every few bytes.</summary>
    private static void FillRandom(ProtectedModeGuest g, Random rng, ulong at, int length)
    {
        var bytes = g.Vm.Memory.Slice(at, length);
        rng.NextBytes(bytes);
        int i = 0;
        while (i < length - 16)
        {
            i += rng.Next(1, 24);
            if (i >= length - 16) break;
            ushort sel = Selectors[rng.Next(Selectors.Length)];
            byte[] shape = rng.Next(14) switch
            {
                0 => [0xEA, 0, 0, 0, 0, (byte)sel, (byte)(sel >> 8)],           // JMP FAR ptr16:32
                1 => [0x9A, 0, 0, 0, 0, (byte)sel, (byte)(sel >> 8)],           // CALL FAR ptr16:32
                2 => [0xCF],                                                    // IRETD
                3 => [0x66, 0xCF],                                              // IRET (16-bit)
                4 => [0xCD, (byte)rng.Next(256)],                               // INT n
                5 => [0x9C, 0x9D],                                              // PUSHF, POPF
                6 => [(byte)(rng.Next(2) == 0 ? 0xFA : 0xFB)],                  // CLI / STI
                7 => [0xBA, (byte)rng.Next(256), (byte)rng.Next(0x22), 0, 0, (byte)(0xEC + rng.Next(4))],   // MOV EDX, port; IN/OUT DX
                8 => [0x66, 0xB8, (byte)sel, (byte)(sel >> 8), 0x0F, 0x00, 0xD8],                        // MOV AX, sel; LTR AX
                9 => [0x0F, 0x22, 0xD8],                                        // MOV CR3, EAX
                10 => [0x9C, 0x81, 0x0C, 0x24, 0, 0x40, 0x02, 0, 0x9D],         // PUSHF; OR [ESP], NT|VM; POPF
                11 => [0x66, 0xB8, (byte)sel, (byte)(sel >> 8), 0x8E, (byte)(0xC0 | (rng.Next(6) << 3))],     // MOV AX, sel; MOV sreg, AX
                12 => [0xF4],                                                   // HLT
                _ => [0x0F, 0x00, 0xD0],                                        // LLDT AX
            };
            shape.CopyTo(bytes[i..]);
            i += shape.Length;
        }
        g.Cpu.FlushDecodeCache();
    }
}
