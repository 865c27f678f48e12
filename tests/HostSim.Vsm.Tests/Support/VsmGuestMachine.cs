using HekiGuest.Abi;
using HekiGuest.HostSim.Cpu;
using HekiGuest.HostSim.Machine.Execution;
using HekiGuest.Tests.Shared;
using Iced.Intel;
using Processor = HekiGuest.HostSim.Cpu.Cpu;

namespace HekiGuest.HostSim.Vsm.Tests.Support;

/// <summary>
/// A <see cref="VirtualMachine"/> with 4 MiB of RAM put in 64-bit mode by hand (the shared
/// flat long-mode guest) with a <see cref="VsmHost"/> attached. Identity map: 0-2 MiB one
/// supervisor 2 MiB page (tables, GDT/TSS/IDT, code at <see cref="Code"/>, the hypercall page
/// at <see cref="HypercallPageGpa"/>, hypercall input/output pages), 2-4 MiB one user page.
/// </summary>
internal sealed class VsmGuestMachine : IDisposable
{
    public const ulong MemorySize = 4 << 20;
    public const ulong Pml4 = 0x1000, Pdpt = 0x2000, Pd = 0x3000;
    public const ulong Gdt = 0x10000, Tss = 0x11000, Idt = 0x12000;
    public const ulong Code = 0x30000, StackTop = 0x70000, Rsp0 = 0x80000, Ist1 = 0x90000;
    public const ulong HypercallPageGpa = 0xA0000, InputPage = 0xA1000, OutputPage = 0xA2000, AssistPage = 0xA3000;
    public const ulong UserCode = 0x200000, UserStackTop = 0x3F0000;
    public const ulong GuestOsId = 0x8100_0000_0000_0001;   // any non-zero identity

    public VsmGuestMachine(bool showVtl1 = false)
    {
        Vm = new VirtualMachine(MemorySize, _ => { });
        WriteU64(Pml4, Pdpt | 7);
        WriteU64(Pdpt, Pd | 7);
        WriteU64(Pd + 0, 0x0000_0000 | 0x83);
        WriteU64(Pd + 8, 0x0020_0000 | 0x87);
        FlatLongModeGuest.Enter(Vm, Pml4, Gdt, Tss, Idt, Rsp0, Ist1, StackTop, Code);
        Host = new VsmHost(Vm, Events, showVtl1);
    }

    public VirtualMachine Vm { get; }
    public Processor Cpu => Vm.Cpu;
    public VsmHost Host { get; }
    public RecordingVsmEvents Events { get; } = new();

    public ulong Emit(ulong at, Action<Assembler> body) => FlatLongModeGuest.Emit(Vm, at, body);

    /// <summary>Emits <paramref name="body"/> at <paramref name="at"/> and runs it to its end or to an exception (returned undelivered).</summary>
    public GuestRun Execute(Action<Assembler> body, ulong at = Code, long budget = 100_000)
    {
        ulong end = Emit(at, body);
        return GuestRun.From(Vm, at, end, budget);
    }

    public GuestRun TryRdmsr(uint msr, out ulong value)
    {
        Cpu.Gpr[Processor.RCX] = msr;
        var run = Execute(a => a.rdmsr());
        value = (uint)Cpu.Gpr[Processor.RAX] | ((ulong)(uint)Cpu.Gpr[Processor.RDX] << 32);
        return run;
    }

    public ulong Rdmsr(uint msr)
    {
        TryRdmsr(msr, out ulong value).AssertCompleted();
        return value;
    }

    public GuestRun Wrmsr(uint msr, ulong value)
    {
        Cpu.Gpr[Processor.RCX] = msr;
        Cpu.Gpr[Processor.RAX] = (uint)value;
        Cpu.Gpr[Processor.RDX] = value >> 32;
        return Execute(a => a.wrmsr());
    }

    public CpuidResult GuestCpuid(uint leaf)
    {
        Cpu.Gpr[Processor.RAX] = leaf;
        Cpu.Gpr[Processor.RCX] = 0;
        Execute(a => a.cpuid()).AssertCompleted();
        return new CpuidResult((uint)Cpu.Gpr[Processor.RAX], (uint)Cpu.Gpr[Processor.RBX], (uint)Cpu.Gpr[Processor.RCX], (uint)Cpu.Gpr[Processor.RDX]);
    }

    /// <summary>The guest's set-up as the TLFS orders it: GUEST_OS_ID, then HYPERCALL = page | enable.</summary>
    public void SetUpHypercalls()
    {
        Wrmsr(HvMsr.GuestOsId, GuestOsId).AssertCompleted();
        Wrmsr(HvMsr.Hypercall, HypercallPageGpa | HvMsr.Enable).AssertCompleted();
    }

    /// <summary>CALL into the hypercall page at <paramref name="offset"/> with RCX, RDX, R8 set; returns RAX.</summary>
    public ulong CallHypercallPage(ulong input, ulong rdx = 0, ulong r8 = 0, uint offset = HvHypercallPage.HypercallOffset)
    {
        Cpu.Gpr[Processor.RCX] = input;
        Cpu.Gpr[Processor.RDX] = rdx;
        Cpu.Gpr[8] = r8;
        Cpu.Gpr[Processor.RAX] = 0xDEAD_BEEF;
        Execute(a =>
        {
            a.mov(AssemblerRegisters.r11, HypercallPageGpa + offset);
            a.call(AssemblerRegisters.r11);
        }).AssertCompleted();
        return Cpu.Gpr[Processor.RAX];
    }

    /// <summary>Runs at CPL 3 from now on (user code and stack segments, the user stack).</summary>
    public void EnterUserMode()
    {
        Cpu.SetSegment(Processor.SS, new SegmentRegister { Selector = FlatLongModeGuest.UserDs, Attributes = 0xC0F3, Limit = 0xFFFF_FFFF });
        Cpu.SetSegment(Processor.CS, new SegmentRegister { Selector = FlatLongModeGuest.UserCs, Attributes = 0xA0FB, Limit = 0xFFFF_FFFF });
        Cpu.Gpr[Processor.RSP] = UserStackTop;
    }

    public ulong ReadU64(ulong physical) => FlatLongModeGuest.ReadU64(Vm, physical);

    public void WriteU64(ulong physical, ulong value) => FlatLongModeGuest.WriteU64(Vm, physical, value);

    public void Dispose() => Vm.Dispose();
}
