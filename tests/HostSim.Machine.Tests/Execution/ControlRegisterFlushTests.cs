using HekiGuest.HostSim.Cpu;
using static Iced.Intel.AssemblerRegisters;
using static HekiGuest.HostSim.Machine.Tests.Execution.LongModeGuest;
using Processor = HekiGuest.HostSim.Cpu.Cpu;

namespace HekiGuest.HostSim.Machine.Tests.Execution;

/// <summary>
/// MOV to CR0/CR4 flushes only what the change requires, and never less: CR0.WP alone drops the
/// write permissions cached under the old value, SMEP drops the execute permissions, and bits that
/// take no part in translation (CR0.TS, CR4.TSD) leave translations alone without changing results.
/// </summary>
public sealed class ControlRegisterFlushTests
{
    private const ulong UserPage = 0x20_0000;                                  // PDE 1: 2 MiB, user

    private static LongModeGuest ReadOnlyUserPage()
    {
        var g = new LongModeGuest();
        g.WriteU64(Pd + 8, UserPage | 0x85);                                   // present, user, read-only
        g.Cpu.FlushTlb();
        return g;
    }

    [Fact]
    public void Setting_wp_by_mov_cr0_ends_a_supervisor_write_cached_while_wp_was_clear()
    {
        using var g = ReadOnlyUserPage();
        g.Cpu.Cr0 &= ~(1UL << 16);
        g.Cpu.FlushTlb();
        g.Cpu.Gpr[Processor.RBX] = UserPage;
        ulong second = 0;
        g.Emit(Code, a =>
        {
            a.mov(__qword_ptr[rbx], rax);                                      // allowed: WP = 0 (write TLB filled)
            a.mov(rcx, cr0);
            a.or(rcx, 0x10000);
            a.mov(cr0, rcx);
        });
        second = Code + 3 + 3 + 7 + 3;
        g.Emit(second, a => a.mov(__qword_ptr[rbx + 8], rax));
        g.Cpu.Rip = Code;

        var pending = g.RunToException(10);

        Assert.Equal(GuestFault.PageFault, pending.Fault.Vector);
        Assert.Equal(UserPage + 8, pending.Fault.Cr2);
        Assert.Equal(3u, pending.Fault.ErrorCode);                             // P | W, supervisor
        Assert.Equal(second, pending.InstructionRip);
    }

    [Fact]
    public void Clearing_wp_by_mov_cr0_allows_the_write_it_refused()
    {
        using var g = ReadOnlyUserPage();
        g.Cpu.Cr0 |= 1UL << 16;                                                // WP
        g.Cpu.FlushTlb();
        g.Cpu.Gpr[Processor.RBX] = UserPage;
        g.Emit(Code, a => a.mov(__qword_ptr[rbx], rax));
        g.Cpu.Rip = Code;
        Assert.Equal(GuestFault.PageFault, g.RunToException(1).Fault.Vector);

        g.Emit(Code, a =>
        {
            a.mov(rcx, cr0);
            a.and(rcx, ~0x10000);
            a.mov(cr0, rcx);
            a.mov(__qword_ptr[rbx], rax);
            a.clts();                                                           // CR0.TS: no translation bit
            a.mov(__qword_ptr[rbx + 8], rax);
        });
        g.Cpu.Rip = Code;
        g.Cpu.Gpr[Processor.RAX] = 0x1234;
        Assert.Equal(StopReason.InstructionLimit, g.Cpu.Run(6));
        Assert.Equal(0x1234UL, g.ReadU64(UserPage + 8));
    }

    [Fact]
    public void Setting_smep_by_mov_cr4_ends_supervisor_execution_of_a_user_page_cached_before()
    {
        using var g = new LongModeGuest();
        g.WriteU64(Pd, 0x83);                                                   // the kernel's first 2 MiB: supervisor
        g.Cpu.FlushTlb();
        g.Emit(UserPage, a => a.ret());
        g.Emit(Code, a =>
        {
            a.mov(rax, UserPage);
            a.call(rax);                                                        // user page executed at CPL 0: allowed, cached
            a.mov(rcx, cr4);
            a.or(rcx, 1 << 20);
            a.mov(cr4, rcx);
            a.call(rax);                                                        // now a SMEP #PF on the fetch
        });
        g.Cpu.Rip = Code;

        var pending = g.RunToException(20);

        Assert.Equal(GuestFault.PageFault, pending.Fault.Vector);
        Assert.Equal(UserPage, pending.Fault.Cr2);
        Assert.Equal(0x11u, pending.Fault.ErrorCode);                          // P | I/D, supervisor
    }

    [Fact]
    public void Toggling_cr4_tsd_keeps_code_and_data_translations_working()
    {
        using var g = new LongModeGuest();
        g.Cpu.Gpr[Processor.RBX] = 0x15_0000;
        g.Emit(Code, a =>
        {
            var loop = a.CreateLabel();
            a.mov(edx, 100);
            a.Label(ref loop);
            a.mov(rcx, cr4);
            a.xor(rcx, 4);                                                      // TSD
            a.mov(cr4, rcx);
            a.inc(__qword_ptr[rbx]);
            a.dec(edx);
            a.jnz(loop);
            a.hlt();
        });
        g.Cpu.Rip = Code;

        Assert.Equal(StopReason.Halted, g.Cpu.Run(10_000));
        Assert.Equal(100UL, g.ReadU64(0x15_0000));
    }

    [Fact]
    public void Toggling_wp_keeps_code_and_read_translations_and_retranslates_only_writes()
    {
        using var g = new LongModeGuest();
        var counting = new CountingTranslator(g.Cpu.Translator);
        g.Cpu.Translator = counting;
        g.Cpu.FlushTlb();
        g.Cpu.Gpr[Processor.RBX] = 0x15_0000;
        g.Emit(Code, a =>
        {
            var loop = a.CreateLabel();
            a.mov(edx, 100);
            a.Label(ref loop);
            a.mov(rcx, cr0);
            a.xor(rcx, 0x10000);                                                // WP
            a.mov(cr0, rcx);
            a.mov(rax, __qword_ptr[rbx + 8]);                                   // a read: kept across the toggle
            a.inc(__qword_ptr[rbx]);                                            // a write: checked again after it
            a.dec(edx);
            a.jnz(loop);
            a.hlt();
        });
        g.Cpu.Rip = Code;

        Assert.Equal(StopReason.Halted, g.Cpu.Run(10_000));

        Assert.Equal(100UL, g.ReadU64(0x15_0000));
        Assert.Equal(1, counting.Count(AccessKind.Execute));                    // the code page, once: no re-translation, no re-decode
        Assert.Equal(1, counting.Count(AccessKind.Read));                       // the data page read, once
        Assert.Equal(100, counting.Count(AccessKind.Write));                    // each write after a toggle walks again (WP may refuse it)
    }

    private sealed class CountingTranslator(IAddressTranslator inner) : IAddressTranslator
    {
        private readonly int[] _counts = new int[8];

        public int Count(AccessKind kind) => _counts[(int)kind];

        public bool TryTranslate(ulong linear, AccessKind kind, int size, int cpl, out ulong physical, out GuestFault fault)
        {
            _counts[(int)kind]++;
            return inner.TryTranslate(linear, kind, size, cpl, out physical, out fault);
        }
    }
}
