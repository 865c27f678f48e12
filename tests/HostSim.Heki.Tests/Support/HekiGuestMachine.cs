using HekiGuest.HostSim.Cpu;
using HekiGuest.HostSim.Machine.Execution;
using HekiGuest.Tests.Shared;
using Iced.Intel;
using Processor = HekiGuest.HostSim.Cpu.Cpu;

namespace HekiGuest.HostSim.Heki.Tests.Support;

/// <summary>
/// A <see cref="VirtualMachine"/> with 4 MiB of RAM put in 64-bit mode by hand (adapted from the
/// machine tests' long-mode guest) with a <see cref="HekiHost"/> attached and every event
/// recorded. Memory map (identity unless noted):
/// <list type="bullet">
/// <item>0-2 MiB: one supervisor 2 MiB page: page tables, GDT/TSS/IDT, kernel code at
/// <see cref="Code"/>, handlers, stacks and kernel data pages at <see cref="Data"/>.</item>
/// <item>2-4 MiB: one user 2 MiB page: user code at <see cref="UserCode"/>, user data, user stack.</item>
/// <item>4-6 MiB linear: 4 KiB pages through <see cref="AliasPt"/>, mapped by the test
/// (<see cref="MapAlias"/>) onto any guest-physical page.</item>
/// </list>
/// GDT: kernel code 0x08, kernel data 0x10, user data 0x18, user code 0x20, TSS 0x30.
/// </summary>
internal sealed class HekiGuestMachine : IDisposable
{
    public const ulong MemorySize = 4 << 20;
    public const ulong Pml4 = 0x1000, Pdpt = 0x2000, Pd = 0x3000, AliasPt = 0x4000;
    public const ulong Gdt = 0x10000, Tss = 0x11000, Idt = 0x12000;
    public const ulong Code = 0x30000, HandlerBase = 0x40000;
    public const ulong StackTop = 0x70000, Rsp0 = 0x80000, Ist1 = 0x90000;
    public const ulong Data = 0x100000, RangeArray = 0x1F0000;
    public const ulong UserCode = 0x200000, UserData = 0x280000, UserStackTop = 0x3F0000;
    public const ulong AliasBase = 0x400000;
    public const ushort KernelCs = FlatLongModeGuest.KernelCs, KernelDs = FlatLongModeGuest.KernelDs, UserDs = FlatLongModeGuest.UserDs,
        UserCs = FlatLongModeGuest.UserCs, TssSelector = FlatLongModeGuest.TssSelector;

    public HekiGuestMachine(HekiHostOptions? options = null, bool nxe = true)
    {
        Vm = new VirtualMachine(MemorySize, b => Serial.Add(b));
        WriteU64(Pml4, Pdpt | 7);
        WriteU64(Pdpt, Pd | 7);
        WriteU64(Pd + 0, 0x0000_0000 | 0x83);          // present, writable, 2 MiB, supervisor
        WriteU64(Pd + 8, 0x0020_0000 | 0x87);          // present, writable, 2 MiB, user
        WriteU64(Pd + 16, AliasPt | 7);                // 4 KiB pages for aliases
        FlatLongModeGuest.Enter(Vm, Pml4, Gdt, Tss, Idt, Rsp0, Ist1, StackTop, Code);
        if (nxe) Vm.Cpu.Efer |= 0x800;

        Options = (options ?? new HekiHostOptions()) with { Events = Events };
        Host = new HekiHost(Vm, Options);
    }

    public VirtualMachine Vm { get; }
    public Processor Cpu => Vm.Cpu;
    public HekiHost Host { get; }
    public HekiHostOptions Options { get; }
    public RecordingEventSink Events { get; } = new();
    public List<byte> Serial { get; } = [];

    public static ulong Handler(int vector) => HandlerBase + (ulong)vector * 16;

    /// <summary>Assembles 64-bit code at <paramref name="at"/>; returns the address after it.</summary>
    public ulong Emit(ulong at, Action<Assembler> body, int bitness = 64) => FlatLongModeGuest.Emit(Vm, at, body, bitness);

    /// <summary>
    /// Emits <paramref name="body"/> at <paramref name="at"/> and runs it from there until RIP
    /// reaches its end (a breakpoint, so it works at any CPL) or an exception is raised. The
    /// exception is returned undelivered (RIP still at the faulting instruction).
    /// </summary>
    public GuestRun Execute(Action<Assembler> body, ulong at = Code, long budget = 100_000)
    {
        ulong end = Emit(at, body);
        return RunFrom(at, end, budget);
    }

    /// <summary>Runs already emitted code from <paramref name="at"/> until <paramref name="end"/> or an exception.</summary>
    public GuestRun RunFrom(ulong at, ulong end, long budget = 100_000) => GuestRun.From(Vm, at, end, budget);

    /// <summary>A hypercall executed by the guest (VMCALL or VMMCALL) at <paramref name="at"/>; returns RAX.</summary>
    public long Hypercall(ulong nr, ulong rbx = 0, ulong rcx = 0, ulong rdx = 0, bool vmmcall = false, ulong at = Code)
    {
        Cpu.Gpr[Processor.RAX] = nr;
        Cpu.Gpr[Processor.RBX] = rbx;
        Cpu.Gpr[Processor.RCX] = rcx;
        Cpu.Gpr[Processor.RDX] = rdx;
        var run = Execute(a => { if (vmmcall) a.vmmcall(); else a.vmcall(); }, at);
        run.AssertCompleted();
        return (long)Cpu.Gpr[Processor.RAX];
    }

    /// <summary>PROTECT_MEMORY from the guest with the array written at <see cref="RangeArray"/>.</summary>
    public long ProtectMemory(params (ulong Gpa, ulong Pages, ulong Permissions)[] ranges)
    {
        WriteRanges(RangeArray, ranges);
        return Hypercall(AbiDoc.ProtectMemory, RangeArray, (ulong)ranges.Length, 0);
    }

    public void WriteRanges(ulong at, params (ulong Gpa, ulong Pages, ulong Permissions)[] ranges)
    {
        for (int i = 0; i < ranges.Length; i++)
        {
            WriteU64(at + (ulong)i * 24, ranges[i].Gpa);
            WriteU64(at + (ulong)i * 24 + 8, ranges[i].Pages);
            WriteU64(at + (ulong)i * 24 + 16, ranges[i].Permissions);
        }
    }

    /// <summary>RDMSR executed by the guest; the run (a #GP shows there) and EDX:EAX.</summary>
    public GuestRun TryRdmsr(uint msr, out ulong value)
    {
        Cpu.Gpr[Processor.RCX] = msr;
        Cpu.Gpr[Processor.RAX] = 0xDEAD;
        Cpu.Gpr[Processor.RDX] = 0xBEEF;
        var run = Execute(a => a.rdmsr());
        value = (uint)Cpu.Gpr[Processor.RAX] | ((ulong)(uint)Cpu.Gpr[Processor.RDX] << 32);
        return run;
    }

    public ulong Rdmsr(uint msr)
    {
        TryRdmsr(msr, out ulong value).AssertCompleted();
        return value;
    }

    /// <summary>WRMSR executed by the guest with EDX:EAX = <paramref name="value"/>.</summary>
    public GuestRun Wrmsr(uint msr, ulong value)
    {
        Cpu.Gpr[Processor.RCX] = msr;
        Cpu.Gpr[Processor.RAX] = (uint)value;
        Cpu.Gpr[Processor.RDX] = value >> 32;
        return Execute(a => a.wrmsr());
    }

    /// <summary>MOV CR0 / MOV CR4 from RAX executed by the guest.</summary>
    public GuestRun WriteCr(int cr, ulong value)
    {
        Cpu.Gpr[Processor.RAX] = value;
        return Execute(a =>
        {
            if (cr == 0) a.mov(AssemblerRegisters.cr0, AssemblerRegisters.rax);
            else if (cr == 4) a.mov(AssemblerRegisters.cr4, AssemblerRegisters.rax);
            else throw new ArgumentOutOfRangeException(nameof(cr));
        });
    }

    public ulong Cr(int cr) => cr == 0 ? Cpu.Cr0 : cr == 4 ? Cpu.Cr4 : throw new ArgumentOutOfRangeException(nameof(cr));

    /// <summary>CPUID executed by the guest.</summary>
    public CpuidResult GuestCpuid(uint leaf, uint subleaf = 0)
    {
        Cpu.Gpr[Processor.RAX] = leaf;
        Cpu.Gpr[Processor.RCX] = subleaf;
        Execute(a => a.cpuid()).AssertCompleted();
        return new CpuidResult((uint)Cpu.Gpr[Processor.RAX], (uint)Cpu.Gpr[Processor.RBX], (uint)Cpu.Gpr[Processor.RCX], (uint)Cpu.Gpr[Processor.RDX]);
    }

    /// <summary>Maps the 4 KiB linear page <paramref name="linear"/> (in the alias window) onto <paramref name="physical"/>.</summary>
    public void MapAlias(ulong linear, ulong physical, ulong flags = 7)
    {
        if (linear < AliasBase || linear >= AliasBase + (2 << 20)) throw new ArgumentOutOfRangeException(nameof(linear));
        WriteU64(AliasPt + ((linear - AliasBase) >> 12) * 8, (physical & ~0xFFFUL) | flags);
        Cpu.FlushTlb();
    }

    /// <summary>Runs at CPL 3 from now on (user code and stack segments, the user stack).</summary>
    public void EnterUserMode()
    {
        Cpu.SetSegment(Processor.SS, new SegmentRegister { Selector = UserDs, Attributes = 0xC0F3, Limit = 0xFFFF_FFFF });
        Cpu.SetSegment(Processor.CS, new SegmentRegister { Selector = UserCs, Attributes = 0xA0FB, Limit = 0xFFFF_FFFF });
        Cpu.Gpr[Processor.RSP] = UserStackTop;
    }

    /// <summary>Installs a 64-bit interrupt gate for <paramref name="vector"/> pointing at its handler slot.</summary>
    public void Gate(int vector, int dpl = 0, int ist = 0)
    {
        ulong target = Handler(vector);
        ulong lo = (target & 0xFFFF) | ((ulong)KernelCs << 16) | ((ulong)ist << 32)
            | ((ulong)(0xE | (dpl << 5) | 0x80) << 40) | (((target >> 16) & 0xFFFF) << 48);
        WriteU64(Idt + (ulong)vector * 16, lo);
        WriteU64(Idt + (ulong)vector * 16 + 8, target >> 32);
    }

    /// <summary>Gates for vectors 0-31 whose handlers report their vector through debug-exit
    /// (exit code (vector &lt;&lt; 1) | 1) and leave the frame on the stack.</summary>
    public void HandlersExitWithTheirVector()
    {
        for (int v = 0; v < 32; v++)
        {
            int vector = v;
            Gate(v);
            Emit(Handler(v), a => { a.mov(AssemblerRegisters.al, (byte)vector); a.@out(0xF4, AssemblerRegisters.al); a.hlt(); });
        }
    }

    public ulong ReadU64(ulong physical) => FlatLongModeGuest.ReadU64(Vm, physical);

    public void WriteU64(ulong physical, ulong value) => FlatLongModeGuest.WriteU64(Vm, physical, value);

    /// <summary>The words at RSP, lowest address first (an exception frame after delivery).</summary>
    public ulong[] Frame(int words) => Enumerable.Range(0, words).Select(i => ReadU64(Cpu.Gpr[Processor.RSP] + (ulong)i * 8)).ToArray();

    public void Dispose() => Vm.Dispose();
}
