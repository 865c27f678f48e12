using System.Buffers.Binary;
using HekiGuest.HostSim.Cpu;
using HekiGuest.HostSim.Machine.Execution;
using HekiGuest.Tests.Shared;
using Iced.Intel;
using Processor = HekiGuest.HostSim.Cpu.Cpu;

namespace HekiGuest.HostSim.Machine.Tests.Execution;

/// <summary>
/// A <see cref="VirtualMachine"/> with 4 MiB of RAM in 32-bit flat protected mode at CPL 0: a GDT
/// (kernel code 0x08, kernel data 0x10, user data 0x1B, user code 0x23, a 32-bit TSS 0x28 with
/// SS0:ESP0 = 0x10:<see cref="Esp0"/>, a 16-bit-stack data segment 0x30), an IDT of 8-byte gates
/// the test installs, and optionally 32-bit paging (one 4 MiB PSE page, user-accessible and
/// writable, identity). Handlers live at <see cref="HandlerBase"/> + vector * 16.
/// </summary>
internal sealed class ProtectedModeGuest : IDisposable
{
    public const ulong PageDirectory = 0x1000;
    public const ulong Gdt = 0x10000, Tss = 0x11000, Idt = 0x12000;
    public const ulong Code = 0x30000, HandlerBase = 0x40000;
    public const ulong StackTop = 0x70000, Esp0 = 0x80000;
    public const ushort KernelCs = 0x08, KernelDs = 0x10, UserDs = 0x1B, UserCs = 0x23, TssSelector = 0x28;
    public const byte InterruptGate = 0xE, TrapGate = 0xF, InterruptGate16 = 0x6, TrapGate16 = 0x7, TaskGate = 0x5;

    public ProtectedModeGuest(bool paging = false)
    {
        Vm = new VirtualMachine(4 << 20, b => Serial.Add(b));
        WriteU64(Gdt + 0x08, 0x00CF_9A00_0000_FFFFUL);
        WriteU64(Gdt + 0x10, 0x00CF_9200_0000_FFFFUL);
        WriteU64(Gdt + 0x18, 0x00CF_F200_0000_FFFFUL);
        WriteU64(Gdt + 0x20, 0x00CF_FA00_0000_FFFFUL);
        WriteU64(Gdt + 0x28, 0x67UL | ((Tss & 0xFF_FFFF) << 16) | (0x89UL << 40));
        WriteU32(Tss + 4, (uint)Esp0);
        WriteU32(Tss + 8, KernelDs);

        Cpu.EnterFlatProtectedMode(KernelCs, KernelDs);
        Cpu.Gdtr = new DescriptorTableRegister { Base = Gdt, Limit = 0x2F };
        Cpu.Idtr = new DescriptorTableRegister { Base = Idt, Limit = 0x7FF };
        Cpu.Tr = new SegmentRegister { Selector = TssSelector, Base = Tss, Limit = 0x67, Attributes = 0x8B };
        if (paging)
        {
            WriteU32(PageDirectory, 0x87);                       // 0-4 MiB: present, writable, user, 4 MiB
            Cpu.Cr3 = PageDirectory;
            Cpu.Cr4 = 0x10;                                      // PSE
            Cpu.Cr0 |= 0x8000_0000;
        }
        Cpu.Rflags = 0x202;
        Cpu.WriteGpr(Processor.RSP, StackTop);
        Cpu.Rip = Code;
        Cpu.UpdateMode();
        Cpu.FlushTlb();
    }

    public VirtualMachine Vm { get; }
    public Processor Cpu => Vm.Cpu;
    public List<byte> Serial { get; } = [];

    public static ulong Handler(int vector) => HandlerBase + (ulong)vector * 16;

    /// <summary>Installs an 8-byte gate for <paramref name="vector"/> (by default at its handler slot).</summary>
    public void Gate(int vector, byte type = InterruptGate, int dpl = 0, bool present = true, ushort selector = KernelCs, ulong? target = null)
    {
        ulong t = target ?? Handler(vector);
        ulong d = (t & 0xFFFF) | ((ulong)selector << 16) | ((ulong)(type | (dpl << 5) | (present ? 0x80 : 0)) << 40) | (((t >> 16) & 0xFFFF) << 48);
        WriteU64(Idt + (ulong)vector * 8, d);
    }

    /// <summary>Assembles 32-bit code at <paramref name="at"/>.</summary>
    public void Emit(ulong at, Action<Assembler> body) => FlatLongModeGuest.Emit(Vm, at, body, 32);

    /// <summary>Runs at CPL 3 from now on (user code and stack segments).</summary>
    public void EnterUserMode(ulong esp)
    {
        Cpu.SetSegment(Processor.SS, new SegmentRegister { Selector = UserDs, Attributes = 0xC0F3, Limit = 0xFFFF_FFFF });
        Cpu.SetSegment(Processor.CS, new SegmentRegister { Selector = UserCs, Attributes = 0xC0FB, Limit = 0xFFFF_FFFF });
        Cpu.WriteGpr(Processor.RSP, esp);
    }

    /// <summary>Runs until the core stops with a pending exception (which it returns, not yet delivered).</summary>
    public PendingException RunToException(long budget = 100)
    {
        var reason = Cpu.Run(budget);
        if (reason != StopReason.Exception || Cpu.PendingException is not { } pending)
            throw new InvalidOperationException($"expected an exception, got {reason} at eip 0x{Cpu.Rip:x}");
        Cpu.ClearPendingException();
        return pending;
    }

    public uint Esp => (uint)Cpu.Gpr[Processor.RSP];

    public ulong ReadU64(ulong physical) => FlatLongModeGuest.ReadU64(Vm, physical);

    public void WriteU64(ulong physical, ulong value) => FlatLongModeGuest.WriteU64(Vm, physical, value);

    public void WriteU32(ulong physical, uint value) => BinaryPrimitives.WriteUInt32LittleEndian(Vm.Memory.Slice(physical, 4), value);

    /// <summary>The dwords at ESP after delivery, lowest address first.</summary>
    public uint[] Frame(int dwords) => Enumerable.Range(0, dwords).Select(i => BinaryPrimitives.ReadUInt32LittleEndian(Vm.Memory.Slice(Esp + (ulong)i * 4, 4))).ToArray();

    /// <summary>The words at ESP after delivery through a 16-bit gate, lowest address first.</summary>
    public ushort[] Frame16(int words) => Enumerable.Range(0, words).Select(i => BinaryPrimitives.ReadUInt16LittleEndian(Vm.Memory.Slice(Esp + (ulong)i * 2, 2))).ToArray();

    public void Dispose() => Vm.Dispose();
}
