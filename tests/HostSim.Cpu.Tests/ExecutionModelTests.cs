using Xunit;
using static Iced.Intel.AssemblerRegisters;

namespace HekiGuest.HostSim.Cpu.Tests;

/// <summary>
/// The contract of the block interpreter towards the machine and the hooks: which RIP a hook and a
/// fault see, the recent-RIP ring, exact budgets and breakpoints inside a block, stop requests,
/// TLB flushes, self-modifying code and code shared by two linear mappings.
/// </summary>
public sealed class ExecutionModelTests
{
    /// <summary>Identity translator (optionally with an alias window) that records every call and can refuse accesses.</summary>
    private sealed class RecordingTranslator(Cpu cpu, ulong size) : IAddressTranslator
    {
        public readonly List<(ulong Linear, AccessKind Kind, ulong CurrentRip, ulong[] Recent)> Calls = [];
        public Func<ulong, AccessKind, bool>? Deny;
        public Action<ulong, AccessKind>? OnCall;
        public ulong AliasBase = ulong.MaxValue, AliasTarget;

        public bool TryTranslate(ulong linear, AccessKind kind, int size1, int cpl, out ulong physical, out GuestFault fault)
        {
            Calls.Add((linear, kind, cpu.CurrentInstructionRip, cpu.RecentInstructionRips().ToArray()));
            OnCall?.Invoke(linear, kind);
            physical = linear >= AliasBase && linear < AliasBase + 0x1000 ? AliasTarget + (linear - AliasBase) : linear;
            if (physical >= size || Deny?.Invoke(linear, kind) == true)
            {
                fault = GuestFault.PF(linear, kind == AccessKind.Execute ? 0x11u : kind == AccessKind.Write ? 3u : 1u);
                physical = 0;
                return false;
            }
            fault = default;
            return true;
        }
    }

    private static (GuestBox Box, RecordingTranslator Tr) NewBox()
    {
        var box = new GuestBox();
        var tr = new RecordingTranslator(box.Cpu, box.Memory.Size);
        box.Cpu.Translator = tr;
        box.Cpu.FlushTlb();
        return (box, tr);
    }

    [Fact]
    public void AFetchFaultReportsTheFetchedRip()
    {
        var (box, tr) = NewBox();
        using var _ = box;
        // nop; nop; jmp 0x5000 (execute denied there)
        box.LoadBytes([0x90, 0x90, 0xE9, 0xF9, 0x3F, 0x00, 0x00]);
        tr.Deny = (la, kind) => kind == AccessKind.Execute && la >> 12 == 5;
        Assert.Equal(StopReason.Exception, box.Run());
        var p = box.Cpu.PendingException!.Value;
        Assert.Equal(GuestFault.PageFault, p.Fault.Vector);
        Assert.Equal(0x5000UL, p.InstructionRip);
        Assert.Equal(0x5000UL, box.Cpu.Rip);
        Assert.Equal(0x5000UL, box.Cpu.Cr2);
        Assert.Equal(3, box.Cpu.InstructionsRetired);
        var fetch = tr.Calls.Last(c => c.Kind == AccessKind.Execute);
        Assert.Equal(0x5000UL, fetch.CurrentRip);
        Assert.Equal([0x1000UL, 0x1001, 0x1002, 0x5000], fetch.Recent);
        Assert.Equal([0x1000UL, 0x1001, 0x1002, 0x5000], box.Cpu.RecentInstructionRips());
    }

    [Fact]
    public void AnInstructionCrossingIntoADeniedPageFaultsAtItsOwnRip()
    {
        var (box, tr) = NewBox();
        using var _ = box;
        // 13 nops from 0x4FF0, then mov eax, imm32 at 0x4FFD..0x5001 (crosses into page 5)
        var code = new byte[18];
        Array.Fill(code, (byte)0x90);
        code[13] = 0xB8;
        box.LoadBytes(code, 0x4FF0);
        box.Cpu.Rip = 0x4FF0;
        tr.Deny = (la, kind) => kind == AccessKind.Execute && la >> 12 == 5;
        Assert.Equal(StopReason.Exception, box.Run());
        var p = box.Cpu.PendingException!.Value;
        Assert.Equal(0x4FFDUL, p.InstructionRip);
        Assert.Equal(0x4FFDUL, box.Cpu.Rip);
        Assert.Equal(0x5000UL, box.Cpu.Cr2);
        Assert.Equal(13, box.Cpu.InstructionsRetired);
        Assert.Equal(0x4FFDUL, tr.Calls.Last().CurrentRip);
        Assert.Equal(0x4FFDUL, box.Cpu.RecentInstructionRips()[^1]);
    }

    [Fact]
    public void ACachedPageCrossingInstructionChecksItsTailPageAfterATlbFlush()
    {
        var (box, tr) = NewBox();
        using var _ = box;
        // mov rax, imm64 (10 bytes) from 0x4FFC to 0x5005, then hlt
        box.LoadBytes([0x48, 0xB8, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 0xF4], 0x4FFC);
        box.Cpu.Rip = 0x4FFC;
        Assert.Equal(StopReason.Halted, box.Run());
        Assert.Equal(0x1122_3344_5566_7788UL, box.Cpu.Gpr[Cpu.RAX]);

        // the host takes execute permission away from the tail page and flushes the TLB
        box.Cpu.Gpr[Cpu.RAX] = 0;
        tr.Deny = (la, kind) => kind == AccessKind.Execute && la >> 12 == 5;
        box.Cpu.FlushTlb();
        box.Cpu.Rip = 0x4FFC;
        long retired = box.Cpu.InstructionsRetired;
        Assert.Equal(StopReason.Exception, box.Run());
        Assert.Equal(GuestFault.PageFault, box.Cpu.PendingException!.Value.Fault.Vector);
        Assert.Equal(0x5000UL, box.Cpu.Cr2);
        Assert.Equal(0x4FFCUL, box.Cpu.PendingException!.Value.InstructionRip);
        Assert.Equal(0x4FFCUL, tr.Calls.Last().CurrentRip);
        Assert.Equal(0UL, box.Cpu.Gpr[Cpu.RAX]);
        Assert.Equal(retired, box.Cpu.InstructionsRetired);

        // the tail page now maps elsewhere: the instruction is decoded again from the new bytes
        tr.Deny = null;
        tr.AliasBase = 0x5000;
        tr.AliasTarget = 0x6000;
        box.LoadBytes([0x99, 0x99, 0x99, 0x99, 0x99, 0x99, 0xF4], 0x6000);
        box.Cpu.FlushTlb();
        box.Cpu.Rip = 0x4FFC;
        Assert.Equal(StopReason.Halted, box.Run());
        Assert.Equal(0x9999_9999_9999_7788UL, box.Cpu.Gpr[Cpu.RAX]);
    }

    private static readonly byte[] CountingLoop =
    [
        0xB9, 0x14, 0x00, 0x00, 0x00, // 0x1000 mov ecx, 20
        0xFF, 0xC0,                   // 0x1005 inc eax
        0xFF, 0xC9,                   // 0x1007 dec ecx
        0x75, 0xFA,                   // 0x1009 jnz 0x1005
        0xF4,                         // 0x100B hlt
    ];

    private static List<ulong> CountingLoopTrace()
    {
        var t = new List<ulong> { 0x1000 };
        for (int i = 0; i < 20; i++)
        {
            t.AddRange([0x1005, 0x1007, 0x1009]);
        }
        t.Add(0x100B);
        return t;
    }

    [Fact]
    public void RecentRipsAreExactAcrossBlocksAndRuns()
    {
        var expected = CountingLoopTrace();
        foreach (int slice in new[] { 1, 2, 3, 5, 7, 100 })
        {
            using var box = new GuestBox();
            box.LoadBytes(CountingLoop);
            StopReason stop;
            int runs = 0;
            do
            {
                stop = box.Cpu.Run(slice);
                runs++;
                long done = box.Cpu.InstructionsRetired;
                Assert.Equal(expected.Skip(Math.Max(0, (int)done - 32)).Take(Math.Min(32, (int)done)), box.Cpu.RecentInstructionRips());
                if (stop == StopReason.InstructionLimit)
                {
                    Assert.Equal(expected[(int)done], box.Cpu.Rip);
                }
            }
            while (stop == StopReason.InstructionLimit && runs < 1000);
            Assert.Equal(StopReason.Halted, stop);
            Assert.Equal(expected.Count, box.Cpu.InstructionsRetired);
            Assert.Equal(20UL, box.Cpu.Gpr[Cpu.RAX]);
            Assert.Equal(0x100CUL, box.Cpu.Rip);
        }
    }

    [Fact]
    public void AHookInTheMiddleOfABlockSeesItsInstruction()
    {
        var (box, tr) = NewBox();
        using var _ = box;
        // nop; nop; mov rbx, [0x2FFC] (page-crossing: the translator is asked on every execution); nop; hlt
        box.LoadBytes([0x90, 0x90, 0x48, 0x8B, 0x1C, 0x25, 0xFC, 0x2F, 0x00, 0x00, 0x90, 0xF4]);
        Assert.Equal(StopReason.Halted, box.Run());
        var reads = tr.Calls.Where(c => c.Kind == AccessKind.Read).ToList();
        Assert.Equal(2, reads.Count);
        Assert.All(reads, c => Assert.Equal(0x1002UL, c.CurrentRip));
        Assert.All(reads, c => Assert.Equal([0x1000UL, 0x1001, 0x1002], c.Recent));
        Assert.Equal([0x1000UL, 0x1001, 0x1002, 0x100A, 0x100B], box.Cpu.RecentInstructionRips());
    }

    [Fact]
    public void AFaultInTheMiddleOfABlockCommitsTheInstructionsBeforeIt()
    {
        using var box = new GuestBox();
        // inc eax; inc eax; mov rbx, [0x1_0000_0000]; inc eax
        box.LoadBytes([0xFF, 0xC0, 0xFF, 0xC0, 0x48, 0xBB, 0, 0, 0, 0, 1, 0, 0, 0, 0x48, 0x8B, 0x1B, 0xFF, 0xC0]);
        Assert.Equal(StopReason.Exception, box.Run());
        Assert.Equal(0x100EUL, box.Cpu.Rip);
        Assert.Equal(0x100EUL, box.Cpu.PendingException!.Value.InstructionRip);
        Assert.Equal(3, box.Cpu.InstructionsRetired);
        Assert.Equal(2UL, box.Cpu.Gpr[Cpu.RAX]);
        Assert.Equal([0x1000UL, 0x1002, 0x1004, 0x100E], box.Cpu.RecentInstructionRips());
    }

    [Fact]
    public void BudgetAndBreakpointStopInsideABlock()
    {
        using var box = new GuestBox();
        var code = new byte[11];
        Array.Fill(code, (byte)0x90);
        code[10] = 0xF4;
        box.LoadBytes(code);
        Assert.Equal(StopReason.InstructionLimit, box.Cpu.Run(3));
        Assert.Equal(0x1003UL, box.Cpu.Rip);
        Assert.Equal(3, box.Cpu.InstructionsRetired);
        box.Cpu.BreakAt = 0x1007;
        Assert.Equal(StopReason.Breakpoint, box.Run());
        Assert.Equal(0x1007UL, box.Cpu.Rip);
        Assert.Equal(7, box.Cpu.InstructionsRetired);
        Assert.Equal(StopReason.Breakpoint, box.Run());
        Assert.Equal(7, box.Cpu.InstructionsRetired);
        box.Cpu.BreakAt = Cpu.NoBreak;
        Assert.Equal(StopReason.Halted, box.Run());
        Assert.Equal(11, box.Cpu.InstructionsRetired);
        Assert.Equal(0x100AUL, box.Cpu.RecentInstructionRips()[^1]);
    }

    [Fact]
    public void ABreakpointInsideATraceStopsWhereRipGets()
    {
        using var box = new GuestBox();
        // 0x1000 jmp 0x1005; 0x1002 L1: nop; 0x1003 hlt; 0x1004 int3; 0x1005 nop; 0x1006 jmp 0x1002
        box.LoadBytes([0xEB, 0x03, 0x90, 0xF4, 0xCC, 0x90, 0xEB, 0xFA]);
        box.Cpu.BreakAt = 0x1002;
        Assert.Equal(StopReason.Breakpoint, box.Run());
        Assert.Equal(0x1002UL, box.Cpu.Rip);
        Assert.Equal(3, box.Cpu.InstructionsRetired);
        Assert.Equal([0x1000UL, 0x1005, 0x1006], box.Cpu.RecentInstructionRips());
        box.Cpu.BreakAt = 0x1003;
        Assert.Equal(StopReason.Breakpoint, box.Run());
        Assert.Equal(4, box.Cpu.InstructionsRetired);
        box.Cpu.BreakAt = Cpu.NoBreak;
        Assert.Equal(StopReason.Halted, box.Run());
        Assert.Equal(5, box.Cpu.InstructionsRetired);
    }

    [Fact]
    public void ConditionalBranchesInsideATraceGoBothWays()
    {
        using var box = new GuestBox();
        // ecx counts 0..9; odd values add 1 to ebx, even values add 100 (a not-taken jcc stays in
        // the trace, a taken one leaves it)
        //   0x1000 xor ecx, ecx
        //   0x1002 test cl, 1 / jz even(+5) / add ebx, 1 / jmp next(+3) / even: add ebx, 100
        //   next: inc ecx / cmp ecx, 10 / jb 0x1002
        box.LoadBytes([0x31, 0xC9, 0xF6, 0xC1, 0x01, 0x74, 0x05, 0x83, 0xC3, 0x01, 0xEB, 0x03, 0x83, 0xC3, 0x64,
            0xFF, 0xC1, 0x83, 0xF9, 0x0A, 0x72, 0xEC, 0xF4]);
        Assert.Equal(StopReason.Halted, box.Run());
        Assert.Equal(505UL, box.Cpu.Gpr[Cpu.RBX]);
        Assert.Equal(10UL, box.Cpu.Gpr[Cpu.RCX]);
    }

    [Fact]
    public void RdtscCountsTheInstructionsOfTheBlockSoFar()
    {
        using var box = new GuestBox();
        // nop; nop; rdtsc; mov r8, rax; nop; rdtsc; hlt
        box.LoadBytes([0x90, 0x90, 0x0F, 0x31, 0x49, 0x89, 0xC0, 0x90, 0x0F, 0x31, 0xF4]);
        Assert.Equal(StopReason.Halted, box.Run());
        Assert.Equal(3UL, box.Cpu.Gpr[8]);
        Assert.Equal(6UL, box.Cpu.Gpr[Cpu.RAX]);
    }

    [Fact]
    public void CodeWrittenByTheBlockItselfIsExecutedAsWritten()
    {
        foreach (int slice in new[] { 1, 100 })
        {
            using var box = new GuestBox();
            // mov byte [rip+1], 0x2A; mov al, 5 (its immediate is the byte written); hlt
            box.LoadBytes([0xC6, 0x05, 0x01, 0x00, 0x00, 0x00, 0x2A, 0xB0, 0x05, 0xF4]);
            StopReason stop;
            do
            {
                stop = box.Cpu.Run(slice);
            }
            while (stop == StopReason.InstructionLimit);
            Assert.Equal(StopReason.Halted, stop);
            Assert.Equal(0x2AUL, box.Cpu.Gpr[Cpu.RAX]);
            Assert.Equal(3, box.Cpu.InstructionsRetired);
        }
    }

    [Fact]
    public void CodeWrittenFromAnotherPageAfterEvictionIsSeen()
    {
        using var box = new GuestBox();
        // 0x1000: mov eax, 1; ret.   0x11000 (same block-cache slot): mov byte [0x1001], 7; ret
        box.LoadBytes([0xB8, 0x01, 0x00, 0x00, 0x00, 0xC3], 0x1000);
        box.LoadBytes([0xC6, 0x04, 0x25, 0x01, 0x10, 0x00, 0x00, 0x07, 0xC3], 0x11000);
        box.WriteU64(0x7FF8, 0x800);
        box.LoadBytes([0xF4], 0x800);
        ulong Call(ulong at)
        {
            box.Cpu.Gpr[Cpu.RSP] = 0x7FF8;
            box.Cpu.Rip = at;
            Assert.Equal(StopReason.Halted, box.Run());
            return box.Cpu.Gpr[Cpu.RAX];
        }
        Assert.Equal(1UL, Call(0x1000));
        Call(0x11000);
        Assert.Equal(7UL, Call(0x1000));
    }

    [Fact]
    public void RequestStopFromAHookEndsTheRunAfterTheInstruction()
    {
        var (box, tr) = NewBox();
        using var _ = box;
        // nop; mov rbx, [0x2FFC] (translator asked: it requests a stop); nop; nop; hlt
        box.LoadBytes([0x90, 0x48, 0x8B, 0x1C, 0x25, 0xFC, 0x2F, 0x00, 0x00, 0x90, 0x90, 0xF4]);
        tr.OnCall = (la, kind) =>
        {
            if (kind == AccessKind.Read) box.Cpu.RequestStop();
        };
        Assert.Equal(StopReason.InstructionLimit, box.Run());
        Assert.Equal(0x1009UL, box.Cpu.Rip);
        Assert.Equal(2, box.Cpu.InstructionsRetired);
        tr.OnCall = null;
        Assert.Equal(StopReason.Halted, box.Run());
        Assert.Equal(5, box.Cpu.InstructionsRetired);
    }

    [Fact]
    public void FlushTlbMakesTheNextFetchAskTheTranslatorAgain()
    {
        var (box, tr) = NewBox();
        using var _ = box;
        box.LoadBytes(CountingLoop);
        Assert.Equal(StopReason.Halted, box.Run());
        Assert.Equal(1, tr.Calls.Count(c => c.Kind == AccessKind.Execute));
        box.Cpu.Rip = 0x1000;
        Assert.Equal(StopReason.Halted, box.Run());
        Assert.Equal(1, tr.Calls.Count(c => c.Kind == AccessKind.Execute));
        // the host revokes execute permission: after the flush the cached blocks must not run
        tr.Deny = (la, kind) => kind == AccessKind.Execute && la >> 12 == 1;
        box.Cpu.FlushTlb();
        box.Cpu.Rip = 0x1005;
        Assert.Equal(StopReason.Exception, box.Run());
        Assert.Equal(0x1005UL, box.Cpu.PendingException!.Value.InstructionRip);
        Assert.Equal(0x1005UL, tr.Calls.Last().CurrentRip);
    }

    [Fact]
    public void OnePhysicalPageAtTwoLinearAddressesKeepsLinearRips()
    {
        var (box, tr) = NewBox();
        using var _ = box;
        tr.AliasBase = 0x30000;
        tr.AliasTarget = 0x1000;
        // lea rax, [rip]; call next; next: pop rbx; hlt
        box.LoadBytes([0x48, 0x8D, 0x05, 0x00, 0x00, 0x00, 0x00, 0xE8, 0x00, 0x00, 0x00, 0x00, 0x5B, 0xF4]);
        Assert.Equal(StopReason.Halted, box.Run());
        Assert.Equal(0x1007UL, box.Cpu.Gpr[Cpu.RAX]);
        Assert.Equal(0x100CUL, box.Cpu.Gpr[Cpu.RBX]);
        box.Cpu.Rip = 0x30000;
        Assert.Equal(StopReason.Halted, box.Run());
        Assert.Equal(0x30007UL, box.Cpu.Gpr[Cpu.RAX]);
        Assert.Equal(0x3000CUL, box.Cpu.Gpr[Cpu.RBX]);
        Assert.Equal(0x3000EUL, box.Cpu.Rip);
    }

    [Fact]
    public void SteppingAndRunningAgree()
    {
        // a mixed workload (memory ALU forms, pushes, calls, shifts, cmov, setcc, imul) run as one
        // block sequence and one instruction at a time must end in the same state
        var a = new Iced.Intel.Assembler(64);
        var top = a.CreateLabel();
        var fn = a.CreateLabel();
        a.mov(rsi, 0x40000);
        a.mov(ecx, 50);
        a.Label(ref top);
        a.mov(rax, __qword_ptr[rsi + rcx * 8]);
        a.add(rax, rcx);
        a.imul(rax, rax, 0x1003);
        a.rol(rax, cl);
        a.sub(__dword_ptr[rsi + 8], eax);
        a.xor(__qword_ptr[rsi + rcx * 8], rax);
        a.cmp(eax, 0x1000);
        a.cmovb(rbx, rax);
        a.setg(dl);
        a.movzx(edx, dl);
        a.push(rdx);
        a.call(fn);
        a.pop(rdx);
        a.dec(ecx);
        a.jnz(top);
        a.hlt();
        a.Label(ref fn);
        a.shr(rax, 3);
        a.inc(__qword_ptr[rsi]);
        a.ret();
        (ulong[] Gpr, ulong Flags, long Retired, ulong Mem) Final(int slice)
        {
            using var box = new GuestBox();
            var w = new HekiGuest.HostSim.Cpu.Bench.Differential.ByteListWriter();
            a.Assemble(w, GuestBox.CodeBase);
            box.LoadBytes(w.ToArray());
            for (int i = 0; i < 64; i++) box.WriteU64(0x40000 + (ulong)i * 8, (ulong)i * 0x9E3779B97F4A7C15);
            StopReason stop;
            do
            {
                stop = box.Cpu.Run(slice);
            }
            while (stop == StopReason.InstructionLimit);
            Assert.Equal(StopReason.Halted, stop);
            var g = new ulong[16];
            for (int i = 0; i < 16; i++) g[i] = box.Cpu.Gpr[i];
            return (g, box.Cpu.Rflags, box.Cpu.InstructionsRetired, box.ReadU64(0x40000) ^ box.ReadU64(0x40008) ^ box.ReadU64(0x40000 + 33 * 8));
        }
        var whole = Final(1_000_000);
        foreach (int slice in new[] { 1, 3, 17 })
        {
            var stepped = Final(slice);
            Assert.Equal(whole.Gpr, stepped.Gpr);
            Assert.Equal(whole.Flags, stepped.Flags);
            Assert.Equal(whole.Retired, stepped.Retired);
            Assert.Equal(whole.Mem, stepped.Mem);
        }
    }

    [Fact]
    public void TheConditionTableMatchesTheSdmDefinitions()
    {
        for (int cc = 0; cc < 16; cc++)
        {
            for (int i = 0; i < 32; i++)
            {
                bool cf = (i & 1) != 0, pf = (i & 2) != 0, zf = (i & 4) != 0, sf = (i & 8) != 0, of = (i & 16) != 0;
                ulong flags = Flag.Reserved1 | (cf ? Flag.CF : 0) | (pf ? Flag.PF : 0) | (zf ? Flag.ZF : 0) | (sf ? Flag.SF : 0) | (of ? Flag.OF : 0) | Flag.AF | Flag.IF;
                bool expected = cc switch
                {
                    0 => of, 1 => !of, 2 => cf, 3 => !cf, 4 => zf, 5 => !zf, 6 => cf || zf, 7 => !cf && !zf,
                    8 => sf, 9 => !sf, 10 => pf, 11 => !pf, 12 => sf != of, 13 => sf == of, 14 => zf || sf != of, _ => !zf && sf == of,
                };
                Assert.True(expected == Cpu.CondHolds(flags, cc), $"cc {cc} flags {i}");
            }
        }
    }
}
