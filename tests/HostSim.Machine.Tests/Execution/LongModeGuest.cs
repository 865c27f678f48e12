using HekiGuest.HostSim.Cpu;
using HekiGuest.HostSim.Machine.Execution;
using HekiGuest.Tests.Shared;
using Iced.Intel;
using Processor = HekiGuest.HostSim.Cpu.Cpu;

namespace HekiGuest.HostSim.Machine.Tests.Execution;

/// <summary>
/// A <see cref="VirtualMachine"/> with 4 MiB of RAM put in 64-bit mode by hand: identity-mapped
/// 2 MiB pages (user-accessible, writable), a GDT (kernel code 0x08, kernel data 0x10, user data
/// 0x18, user code 0x20, TSS 0x30), a TSS with RSP0 and IST1, and an IDT whose gates the test
/// installs. Handlers live at <see cref="HandlerBase"/> + vector * 16.
/// </summary>
internal sealed class LongModeGuest : IDisposable
{
    public const ulong Pml4 = 0x1000, Pdpt = 0x2000, Pd = 0x3000;
    public const ulong Gdt = 0x10000, Tss = 0x11000, Idt = 0x12000;
    public const ulong Code = 0x30000, HandlerBase = 0x40000;
    public const ulong StackTop = 0x70000, Rsp0 = 0x80000, Ist1 = 0x90000;
    public const ushort KernelCs = FlatLongModeGuest.KernelCs, KernelDs = FlatLongModeGuest.KernelDs, UserDs = FlatLongModeGuest.UserDs,
        UserCs = FlatLongModeGuest.UserCs, TssSelector = FlatLongModeGuest.TssSelector;
    public const byte InterruptGate = 0xE, TrapGate = 0xF;

    public LongModeGuest(ulong memory = 4 << 20)
    {
        Vm = new VirtualMachine(memory, b => Serial.Add(b));
        WriteU64(Pml4, Pdpt | 7);
        WriteU64(Pdpt, Pd | 7);
        for (ulong i = 0; i < memory >> 21; i++) WriteU64(Pd + i * 8, (i << 21) | 0x87);
        FlatLongModeGuest.Enter(Vm, Pml4, Gdt, Tss, Idt, Rsp0, Ist1, StackTop, Code);
    }

    public VirtualMachine Vm { get; }
    public Processor Cpu => Vm.Cpu;
    public List<byte> Serial { get; } = [];

    public static ulong Handler(int vector) => HandlerBase + (ulong)vector * 16;

    /// <summary>Installs a 64-bit gate for <paramref name="vector"/> pointing at its handler slot.</summary>
    public void Gate(int vector, byte type = InterruptGate, int ist = 0, int dpl = 0, bool present = true, ushort selector = KernelCs)
    {
        ulong target = Handler(vector);
        ulong lo = (target & 0xFFFF) | ((ulong)selector << 16) | ((ulong)ist << 32)
            | ((ulong)(type | (dpl << 5) | (present ? 0x80 : 0)) << 40) | (((target >> 16) & 0xFFFF) << 48);
        WriteU64(Idt + (ulong)vector * 16, lo);
        WriteU64(Idt + (ulong)vector * 16 + 8, target >> 32);
    }

    /// <summary>Assembles 64-bit code at <paramref name="at"/>.</summary>
    public void Emit(ulong at, Action<Assembler> body) => FlatLongModeGuest.Emit(Vm, at, body);

    /// <summary>Each handler reports its vector through debug-exit: exit code (vector &lt;&lt; 1) | 1.</summary>
    public void HandlersExitWithTheirVector()
    {
        for (int v = 0; v < 32; v++)
        {
            int vector = v;
            Emit(Handler(v), a => { a.mov(AssemblerRegisters.al, (byte)vector); a.@out(0xF4, AssemblerRegisters.al); a.hlt(); });
        }
    }

    /// <summary>Runs at CPL 3 from now on (user code and stack segments).</summary>
    public void EnterUserMode()
    {
        Cpu.SetSegment(Processor.SS, new SegmentRegister { Selector = UserDs, Attributes = 0xC0F3, Limit = 0xFFFF_FFFF });
        Cpu.SetSegment(Processor.CS, new SegmentRegister { Selector = UserCs, Attributes = 0xA0FB, Limit = 0xFFFF_FFFF });
    }

    /// <summary>Runs until the core stops with a pending exception (which it returns, not yet delivered).</summary>
    public PendingException RunToException(long budget = 100)
    {
        var reason = Cpu.Run(budget);
        if (reason != StopReason.Exception || Cpu.PendingException is not { } pending)
            throw new InvalidOperationException($"expected an exception, got {reason} at rip 0x{Cpu.Rip:x}");
        Cpu.ClearPendingException();
        return pending;
    }

    public ulong ReadU64(ulong physical) => FlatLongModeGuest.ReadU64(Vm, physical);

    public void WriteU64(ulong physical, ulong value) => FlatLongModeGuest.WriteU64(Vm, physical, value);

    /// <summary>The words at RSP after delivery, lowest address first.</summary>
    public ulong[] Frame(int words) => Enumerable.Range(0, words).Select(i => ReadU64(Cpu.Gpr[Processor.RSP] + (ulong)i * 8)).ToArray();

    public void Dispose() => Vm.Dispose();
}
