using System.Diagnostics;
using HekiGuest.HostSim.Cpu;
using HekiGuest.HostSim.Machine.Execution;
using static Iced.Intel.AssemblerRegisters;
using Processor = HekiGuest.HostSim.Cpu.Cpu;

namespace HekiGuest.HostSim.Machine.Tests.Execution;

/// <summary>
/// No guest can hold the host past its limits: a REP string instruction is interruptible and
/// resumable like on a CPU (RCX/RSI/RDI updated, RIP on the instruction), each iteration counts
/// against the instruction budget, and the wall-clock deadline is checked inside the run loop.
/// </summary>
public sealed class BoundedExecutionTests
{
    private const ulong Buffer = 0x200000;

    private static LongModeGuest RepGuest(Action<Iced.Intel.Assembler> body, ulong memory = 4 << 20)
    {
        var g = new LongModeGuest(memory);
        g.Emit(LongModeGuest.Code, a => { body(a); a.mov(al, 1); a.@out(0xF4, al); a.hlt(); });
        g.Cpu.Rip = LongModeGuest.Code;
        return g;
    }

    [Fact]
    public void Rep_lodsq_with_a_huge_count_stops_at_the_instruction_budget_resumable()
    {
        using var g = RepGuest(a => { a.mov(rsi, Buffer); a.mov(rcx, 1UL << 40); a.rep.lodsq(); });

        var outcome = g.Vm.Run(new RunLimits(null, 10_000));

        Assert.Equal(MachineStopKind.InstructionLimit, outcome.Kind);
        Assert.Equal(10_000L, outcome.Instructions);
        // two MOVs, then 9,998 iterations: RCX and RSI say so and RIP is still on the REP
        Assert.Equal((1UL << 40) - 9_998, g.Cpu.Gpr[Processor.RCX]);
        Assert.Equal(Buffer + 9_998 * 8, g.Cpu.Gpr[Processor.RSI]);
        Assert.InRange(g.Cpu.Rip, LongModeGuest.Code + 10, LongModeGuest.Code + 20);
        Assert.Equal(0xF3, g.Vm.Memory.Slice(g.Cpu.Rip, 1)[0]);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Rep_insb_and_outsb_with_a_huge_count_stop_at_the_instruction_budget(bool ins)
    {
        using var g = RepGuest(a =>
        {
            a.mov(edx, 0x80);                                               // an unattached port
            a.mov(rsi, Buffer);
            a.mov(rdi, Buffer);
            a.mov(rcx, 1UL << 40);
            if (ins) a.rep.insb(); else a.rep.outsb();
        });

        var outcome = g.Vm.Run(new RunLimits(TimeSpan.FromSeconds(30), 10_000));

        Assert.Equal(MachineStopKind.InstructionLimit, outcome.Kind);
        Assert.Equal(10_000L, outcome.Instructions);
        Assert.Equal((1UL << 40) - 9_996, g.Cpu.Gpr[Processor.RCX]);       // four MOVs, then 9,996 iterations
        Assert.Equal(Buffer + 9_996, g.Cpu.Gpr[ins ? Processor.RDI : Processor.RSI]);
    }

    [Fact]
    public void Rep_lodsq_with_a_huge_count_stops_at_the_wall_clock_timeout()
    {
        // LODSB through 64 MiB: tens of millions of iterations, far more than 200 ms allow
        using var g = RepGuest(a => { a.mov(rsi, Buffer); a.mov(rcx, 1UL << 50); a.rep.lodsb(); }, memory: 64 << 20);
        var clock = Stopwatch.StartNew();

        var outcome = g.Vm.Run(new RunLimits(TimeSpan.FromMilliseconds(200), null));

        Assert.Equal(MachineStopKind.Timeout, outcome.Kind);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"stopped after {clock.Elapsed}");
        Assert.True(g.Cpu.Gpr[Processor.RCX] < 1UL << 50);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(1000)]
    [InlineData(100_000)]
    public void A_rep_movsb_cut_into_any_budget_slices_gives_the_same_result(long slice)
    {
        const int length = 50_000;
        using var g = RepGuest(a => { a.mov(rsi, Buffer); a.mov(rdi, Buffer + 0x10_0000); a.mov(rcx, length); a.rep.movsb(); });
        for (int i = 0; i < length; i++) g.Vm.Memory.Slice(Buffer + (ulong)i, 1)[0] = (byte)(i * 7 + 3);

        MachineOutcome outcome;
        do
        {
            outcome = g.Vm.Run(new RunLimits(null, slice));
        }
        while (outcome.Kind == MachineStopKind.InstructionLimit);

        Assert.Equal(MachineStopKind.GuestExit, outcome.Kind);
        Assert.Equal(0UL, g.Cpu.Gpr[Processor.RCX]);
        Assert.True(g.Vm.Memory.Slice(Buffer, length).SequenceEqual(g.Vm.Memory.Slice(Buffer + 0x10_0000, length)));
        // 3 MOVs, 50,000 iterations, MOV AL, OUT
        Assert.Equal(3 + length + 2L, g.Cpu.InstructionsRetired);
    }

    [Fact]
    public void A_page_fault_in_the_middle_of_rep_stosb_leaves_the_registers_at_the_faulting_iteration()
    {
        using var g = new LongModeGuest();
        ulong end = 0x400000;                                               // RAM (and the mapping) ends here
        g.Emit(LongModeGuest.Code, a => { a.mov(rdi, end - 100); a.mov(rcx, 1000); a.mov(al, 0xAB); a.rep.stosb(); });
        g.Cpu.Rip = LongModeGuest.Code;

        var pending = g.RunToException(10_000);

        Assert.Equal(GuestFault.PageFault, pending.Fault.Vector);
        Assert.Equal(end, pending.Fault.Cr2);
        Assert.Equal(900UL, g.Cpu.Gpr[Processor.RCX]);
        Assert.Equal(end, g.Cpu.Gpr[Processor.RDI]);
        Assert.Equal(pending.InstructionRip, g.Cpu.Rip);
    }

    [Fact]
    public void The_deadline_stops_a_run_of_ordinary_code_between_blocks()
    {
        using var g = RepGuest(a =>
        {
            var loop = a.CreateLabel();
            a.Label(ref loop);
            a.inc(rax);
            a.jmp(loop);
        });
        g.Cpu.Deadline = Stopwatch.GetTimestamp() + Stopwatch.Frequency / 20;

        var reason = g.Cpu.Run(long.MaxValue);

        Assert.Equal(StopReason.Deadline, reason);
        Assert.Null(g.Cpu.PendingException);
        Assert.True(g.Cpu.Gpr[Processor.RAX] > 0);
    }

    [Fact]
    public void A_guest_jumping_to_rip_all_ones_faults_there_instead_of_stopping_as_a_breakpoint()
    {
        using var g = RepGuest(a => { a.mov(rax, ulong.MaxValue); a.jmp(rax); });

        var outcome = g.Vm.Run(new RunLimits(TimeSpan.FromSeconds(10), 1000));

        // the fetch at 0xFFFF_FFFF_FFFF_FFFF faults (#PF, no IDT here): a triple fault, not a spin
        Assert.Equal(MachineStopKind.TripleFault, outcome.Kind);
        Assert.Equal(ulong.MaxValue, g.Vm.Exceptions.LastChain[0].Cr2);
    }
}
