using System.Buffers.Binary;
using HekiGuest.HostSim.Cpu;
using HekiGuest.HostSim.Machine.Execution;
using Iced.Intel;

namespace HekiGuest.Tests.Shared;

/// <summary>
/// What every hand-built 64-bit test guest needs (linked into the machine and Heki test
/// projects): a GDT with kernel code 0x08, kernel data 0x10, user data 0x18, user code 0x20 and a
/// TSS at 0x30 whose RSP0 and IST1 are set; the CPU in 64-bit mode at CPL 0 with the caller's page
/// tables, GDT, IDT and TSS loaded; and code assembled with Iced straight into guest memory.
/// </summary>
internal static class FlatLongModeGuest
{
    public const ushort KernelCs = 0x08, KernelDs = 0x10, UserDs = 0x1B, UserCs = 0x23, TssSelector = 0x30;

    /// <summary>Writes the GDT and TSS and puts the CPU in 64-bit mode (IF set) at <paramref name="rip"/>.</summary>
    public static void Enter(VirtualMachine vm, ulong pml4, ulong gdt, ulong tss, ulong idt, ulong rsp0, ulong ist1, ulong stackTop, ulong rip)
    {
        WriteU64(vm, gdt + 0x08, 0x00AF_9A00_0000_FFFFUL);
        WriteU64(vm, gdt + 0x10, 0x00CF_9200_0000_FFFFUL);
        WriteU64(vm, gdt + 0x18, 0x00CF_F200_0000_FFFFUL);
        WriteU64(vm, gdt + 0x20, 0x00AF_FA00_0000_FFFFUL);
        WriteU64(vm, gdt + 0x30, 0x67UL | ((tss & 0xFF_FFFF) << 16) | (0x89UL << 40) | (((tss >> 24) & 0xFF) << 56));
        WriteU64(vm, gdt + 0x38, tss >> 32);
        WriteU64(vm, tss + 4, rsp0);
        WriteU64(vm, tss + 36, ist1);

        var cpu = vm.Cpu;
        cpu.EnterFlatLongMode(KernelCs, KernelDs);
        cpu.Cr3 = pml4;
        cpu.Gdtr = new DescriptorTableRegister { Base = gdt, Limit = 0x3F };
        cpu.Idtr = new DescriptorTableRegister { Base = idt, Limit = 0xFFF };
        cpu.Tr = new SegmentRegister { Selector = TssSelector, Base = tss, Limit = 0x67, Attributes = 0x8B };
        cpu.Rflags = 0x202;
        cpu.WriteGpr(Cpu.RSP, stackTop);
        cpu.Rip = rip;
        cpu.FlushTlb();
    }

    /// <summary>Assembles code for <paramref name="bitness"/> at <paramref name="at"/>, drops cached
    /// decodes, and returns the address after it.</summary>
    public static ulong Emit(VirtualMachine vm, ulong at, Action<Assembler> body, int bitness = 64)
    {
        var a = new Assembler(bitness);
        body(a);
        using var stream = new MemoryStream();
        a.Assemble(new StreamCodeWriter(stream), at);
        stream.ToArray().CopyTo(vm.Memory.Slice(at, (int)stream.Length));
        vm.Cpu.FlushDecodeCache();
        return at + (ulong)stream.Length;
    }

    public static ulong ReadU64(VirtualMachine vm, ulong physical) => BinaryPrimitives.ReadUInt64LittleEndian(vm.Memory.Slice(physical, 8));

    public static void WriteU64(VirtualMachine vm, ulong physical, ulong value) => BinaryPrimitives.WriteUInt64LittleEndian(vm.Memory.Slice(physical, 8), value);
}
