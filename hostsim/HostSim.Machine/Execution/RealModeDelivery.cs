using System.Buffers.Binary;
using HekiGuest.HostSim.Cpu;

namespace HekiGuest.HostSim.Machine.Execution;

/// <summary>
/// One delivery attempt through the real-mode interrupt vector table (CR0.PE = 0; Intel SDM
/// vol. 3 20.1.4 and the real-address-mode INT n operation in vol. 2): the 4-byte entry
/// (offset, segment) at IDTR.base + vector * 4, FLAGS, CS and IP pushed as words on SS:SP (SP wraps
/// at 64 KiB), no error code, then CS = segment (base segment * 16, hidden limit and attributes
/// kept as in real mode), IP = offset, IF, TF, AC and RF cleared. An entry beyond the IDTR limit
/// raises #GP(0), which ends as a double and then triple fault (the SDM's shutdown). The core
/// itself runs only what real mode shares with 16-bit protected mode (segment loads still read
/// descriptor tables), so this path serves hand-built real-mode code, not a BIOS.
/// </summary>
internal static class RealModeDelivery
{
    public static GuestFault? TryDeliver(Cpu.Cpu cpu, GuestFault fault, ulong returnIp, ulong flagsImage)
    {
        ulong entryOffset = (ulong)fault.Vector * 4;
        if (entryOffset + 3 > cpu.Idtr.Limit) return GuestFault.GP(0);
        Span<byte> entry = stackalloc byte[4];
        if (cpu.TryReadLinear((cpu.Idtr.Base + entryOffset) & 0xFFFF_FFFF, entry, supervisor: true) is { } readFault) return readFault;
        ushort ip = BinaryPrimitives.ReadUInt16LittleEndian(entry);
        ushort segment = BinaryPrimitives.ReadUInt16LittleEndian(entry[2..]);

        var ss = cpu.Segments[Cpu.Cpu.SS];
        ulong rsp = cpu.ReadGpr(Cpu.Cpu.RSP);
        ulong sp = rsp & 0xFFFF;
        Span<byte> word = stackalloc byte[2];
        ReadOnlySpan<ushort> pushes = [(ushort)flagsImage, cpu.Segments[Cpu.Cpu.CS].Selector, (ushort)returnIp];
        // each word at its own (wrapped) SP; registers change only once all three are written
        ulong at = sp;
        foreach (ushort value in pushes)
        {
            at = (at - 2) & 0xFFFF;
            BinaryPrimitives.WriteUInt16LittleEndian(word, value);
            if (cpu.TryWriteLinear((ss.Base + at) & 0xFFFF_FFFF, word, supervisor: true) is { } pushFault) return pushFault;
        }

        var cs = cpu.Segments[Cpu.Cpu.CS];
        cs.Selector = segment;
        cs.Base = (ulong)segment << 4;
        cpu.SetSegment(Cpu.Cpu.CS, cs);
        cpu.WriteGpr(Cpu.Cpu.RSP, (rsp & ~0xFFFFUL) | ((sp - 6) & 0xFFFF));
        cpu.Rip = ip;
        cpu.Rflags &= ~(Flag.IF | Flag.TF | Flag.AC | Flag.RF);
        return null;
    }
}
