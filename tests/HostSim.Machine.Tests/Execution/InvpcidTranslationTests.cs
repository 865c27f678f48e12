using HekiGuest.HostSim.Cpu;
using static Iced.Intel.AssemblerRegisters;
using static HekiGuest.HostSim.Machine.Tests.Execution.LongModeGuest;
using Processor = HekiGuest.HostSim.Cpu.Cpu;

namespace HekiGuest.HostSim.Machine.Tests.Execution;

/// <summary>
/// INVPCID and PCID-tagged CR3 loads against the page walk: after the guest remaps a 2 MiB page,
/// each INVPCID type makes the new mapping visible, and so does a CR3 load under CR4.PCIDE (the
/// core keeps no translation across CR3 loads, which the architecture always allows).
/// </summary>
public sealed class InvpcidTranslationTests
{
    private const ulong Window = 0x20_0000;           // the second 2 MiB page, identity-mapped at first
    private const ulong Descriptor = 0x60000;

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(-1)]                                  // no INVPCID, a CR3 load with bit 63 (no-flush hint) instead
    public void After_a_remap_the_flush_makes_the_new_mapping_visible(int type)
    {
        using var g = new LongModeGuest();
        g.Cpu.WriteControlRegister(4, g.Cpu.Cr4 | Processor.Cr4Pcide);
        g.WriteU64(Window, 0x1111);                     // what the old mapping shows
        g.WriteU64(0x10, 0x2222);                       // what the new one shows (2 MiB page 0, offset 0x10)
        g.WriteU64(Descriptor, 0);
        g.WriteU64(Descriptor + 8, Window + 0x10);
        g.Emit(Code, a =>
        {
            a.mov(rax, __qword_ptr[Window + 0x10]);      // caches the old translation
            a.mov(rbx, rax);
            a.mov(rax, 0x87UL);                          // PD[1] -> physical 0, present, writable, user, 2 MiB
            a.mov(__qword_ptr[Pd + 8], rax);
            if (type >= 0)
            {
                a.mov(eax, (uint)type);
                a.mov(ecx, (uint)Descriptor);
                a.invpcid(rax, __[rcx]);
            }
            else
            {
                a.mov(rax, cr3);
                a.bts(rax, 63);
                a.mov(cr3, rax);
            }
            a.mov(rax, __qword_ptr[Window + 0x10]);
            a.hlt();
        });
        g.Cpu.Rip = Code;
        Assert.Equal(StopReason.Halted, g.Cpu.Run(100));
        Assert.Equal(0UL, g.Cpu.Gpr[Processor.RBX]);    // physical 0x200010 held zero
        Assert.Equal(0x2222UL, g.Cpu.Gpr[Processor.RAX]);
    }
}
