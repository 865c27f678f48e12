using HekiGuest.HostSim.Heki;
using HekiGuest.HostSim.Machine.Execution;
using HekiGuest.Tests.Shared;
using Iced.Intel;
using Processor = HekiGuest.HostSim.Cpu.Cpu;

namespace HekiGuest.HostSim.Heki.Bench;

/// <summary>
/// A 16 MiB VM put in 64-bit mode by hand (identity-mapped 2 MiB pages; GDT, TSS and CPU state
/// from the tests' shared long-mode setup; an IDT with a #GP handler that skips the faulting
/// 3-byte MOV CR instruction and a #PF handler that skips a faulting 3-byte MOV [reg], reg), with
/// the HekiGuest host installed.
/// The measured code runs at <see cref="Code"/> and leaves through debug-exit.
/// </summary>
internal sealed class BenchGuest : IDisposable
{
    public const ulong Pml4 = 0x1000, Pdpt = 0x2000, Pd = 0x3000, Gdt = 0x10000, Tss = 0x11000, Idt = 0x12000;
    public const ulong Code = 0x30000, GpHandler = 0x40000, StackTop = 0x70000;
    private const ulong Memory = 16 << 20;

    public BenchGuest(HekiHostOptions options)
    {
        Vm = new VirtualMachine(Memory, _ => { });
        Host = new HekiHost(Vm, options);
        Write(Pml4, Pdpt | 3);
        Write(Pdpt, Pd | 3);
        for (ulong i = 0; i < Memory >> 21; i++) Write(Pd + i * 8, (i << 21) | 0x83);
        ulong gate = (GpHandler & 0xFFFF) | ((ulong)FlatLongModeGuest.KernelCs << 16) | (0x8EUL << 40) | (((GpHandler >> 16) & 0xFFFF) << 48);
        Write(Idt + 13 * 16, gate);
        Write(Idt + 14 * 16, gate);
        FlatLongModeGuest.Emit(Vm, GpHandler, a =>
        {
            a.add(AssemblerRegisters.rsp, 8);                                     // error code
            a.add(AssemblerRegisters.__qword_ptr[AssemblerRegisters.rsp], 3);     // skip MOV CRn, reg / MOV [reg], reg
            a.iretq();
        });
        FlatLongModeGuest.Enter(Vm, Pml4, Gdt, Tss, Idt, rsp0: StackTop, ist1: StackTop, StackTop, Code);
    }

    public VirtualMachine Vm { get; }
    public HekiHost Host { get; }

    /// <summary>Assembles <paramref name="body"/> at <see cref="Code"/> followed by the exit, resets
    /// RIP/RSP, runs it and returns the outcome.</summary>
    public MachineOutcome Run(Action<Assembler> body)
    {
        FlatLongModeGuest.Emit(Vm, Code, a =>
        {
            body(a);
            a.mov(AssemblerRegisters.al, 0);
            a.@out(0xF4, AssemblerRegisters.al);
            a.hlt();
        });
        Vm.DebugExit.Reset();
        Vm.Cpu.Rip = Code;
        Vm.Cpu.WriteGpr(Processor.RSP, StackTop);
        var outcome = Vm.Run(new RunLimits(TimeSpan.FromMinutes(1), null));
        if (outcome.Kind != MachineStopKind.GuestExit)
            throw new InvalidOperationException($"bench guest stopped: {outcome.Summary} at 0x{Vm.Cpu.Rip:x}");
        return outcome;
    }

    private void Write(ulong at, ulong value) => FlatLongModeGuest.WriteU64(Vm, at, value);

    public void Dispose() => Vm.Dispose();
}
