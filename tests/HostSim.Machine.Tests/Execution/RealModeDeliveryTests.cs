using System.Buffers.Binary;
using HekiGuest.HostSim.Cpu;
using HekiGuest.HostSim.Machine.Execution;
using Iced.Intel;
using Processor = HekiGuest.HostSim.Cpu.Cpu;

namespace HekiGuest.HostSim.Machine.Tests.Execution;

/// <summary>
/// Interrupt vector table delivery with CR0.PE = 0 (Intel SDM vol. 3 20.1.4, INT n in vol. 2):
/// FLAGS, CS, IP pushed as words on SS:SP, no error code, CS:IP from the 4-byte entry, IF/TF/AC
/// cleared. Code at 3000:0000, stack segment 6000, IVT at linear 0.
/// </summary>
public sealed class RealModeDeliveryTests
{
    private const ulong CodeLinear = 0x30000, StackBase = 0x60000;

    private static VirtualMachine RealModeMachine(Action<Assembler> code, ushort sp = 0x1000, ushort ivtLimit = 0x3FF)
    {
        var vm = new VirtualMachine(1 << 20, _ => { });
        var cpu = vm.Cpu;
        cpu.Reset();
        cpu.SetSegment(Processor.CS, new SegmentRegister { Selector = 0x3000, Base = CodeLinear, Limit = 0xFFFF, Attributes = 0x9B });
        cpu.SetSegment(Processor.SS, new SegmentRegister { Selector = 0x6000, Base = StackBase, Limit = 0xFFFF, Attributes = 0x93 });
        cpu.Idtr = new DescriptorTableRegister { Base = 0, Limit = ivtLimit };
        cpu.Rip = 0;
        cpu.WriteGpr(Processor.RSP, sp);
        cpu.Rflags = 0x202;
        for (int v = 0; v < 256; v++)
        {
            WriteU16(vm, (ulong)v * 4, (ushort)(0x10 * v));         // handler v at 4000:(v * 16)
            WriteU16(vm, (ulong)v * 4 + 2, 0x4000);
        }
        var a = new Assembler(16);
        code(a);
        using var stream = new MemoryStream();
        a.Assemble(new StreamCodeWriter(stream), 0);
        stream.ToArray().CopyTo(vm.Memory.Slice(CodeLinear, (int)stream.Length));
        cpu.FlushDecodeCache();
        return vm;
    }

    private static void WriteU16(VirtualMachine vm, ulong at, ushort value) => BinaryPrimitives.WriteUInt16LittleEndian(vm.Memory.Slice(at, 2), value);

    private static ushort ReadU16(VirtualMachine vm, ulong at) => BinaryPrimitives.ReadUInt16LittleEndian(vm.Memory.Slice(at, 2));

    private static PendingException RunToException(Processor cpu)
    {
        Assert.Equal(StopReason.Exception, cpu.Run(10));
        var pending = cpu.PendingException!.Value;
        cpu.ClearPendingException();
        return pending;
    }

    [Fact]
    public void Ud2_pushes_flags_cs_ip_as_words_and_enters_the_ivt_handler_with_if_clear()
    {
        using var vm = RealModeMachine(a => { a.nop(); a.ud2(); });
        var pending = RunToException(vm.Cpu);
        Assert.Equal(GuestFault.InvalidOpcode, pending.Fault.Vector);
        Assert.True(vm.Exceptions.Deliver(pending));
        Assert.Equal(0x60UL, vm.Cpu.Rip);
        Assert.Equal(0x4000, vm.Cpu.Segments[Processor.CS].Selector);
        Assert.Equal(0x40000UL, vm.Cpu.Segments[Processor.CS].Base);
        Assert.Equal(0x1000UL - 6, vm.Cpu.Gpr[Processor.RSP]);
        // IP of the UD2, CS, FLAGS (RF, bit 16, lies outside the 16-bit image)
        Assert.Equal([(ushort)1, (ushort)0x3000, (ushort)0x202], new[] { ReadU16(vm, StackBase + 0xFFA), ReadU16(vm, StackBase + 0xFFC), ReadU16(vm, StackBase + 0xFFE) });
        Assert.Equal(0UL, vm.Cpu.Rflags & (Flag.IF | Flag.RF));
    }

    [Fact]
    public void Int_n_pushes_the_next_ip_and_sp_wraps_at_64_kib()
    {
        using var vm = RealModeMachine(a => { a.@int(0x21); a.nop(); }, sp: 2);
        Assert.True(vm.Exceptions.Deliver(RunToException(vm.Cpu)));
        Assert.Equal(0x210UL, vm.Cpu.Rip);
        Assert.Equal(0xFFFCUL, vm.Cpu.Gpr[Processor.RSP]);
        Assert.Equal((ushort)0x202, ReadU16(vm, StackBase));
        Assert.Equal((ushort)0x3000, ReadU16(vm, StackBase + 0xFFFE));
        Assert.Equal((ushort)2, ReadU16(vm, StackBase + 0xFFFC));
    }

    [Fact]
    public void Vector_beyond_the_ivt_limit_ends_in_a_triple_fault()
    {
        using var vm = RealModeMachine(a => a.ud2(), ivtLimit: 0x17);   // vectors 0-5 only
        Assert.False(vm.Exceptions.Deliver(RunToException(vm.Cpu)));
        Assert.Contains(vm.Exceptions.LastChain, e => e.Vector == 8);
    }
}
