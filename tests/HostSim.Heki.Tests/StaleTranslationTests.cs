using HekiGuest.HostSim.Cpu;
using HekiGuest.HostSim.Heki.Tests.Support;
using Iced.Intel;
using static Iced.Intel.AssemblerRegisters;
using Processor = HekiGuest.HostSim.Cpu.Cpu;

namespace HekiGuest.HostSim.Heki.Tests;

/// <summary>
/// Cached translations never outlive the state they were checked under: a change of RFLAGS.AC
/// under SMAP through POPF, IRETQ or the host editing RFLAGS makes the next user access from the
/// kernel fault again, however it was cached before.
/// </summary>
public sealed class StaleTranslationTests
{
    private const ulong Code = HekiGuestMachine.Code;
    private const ulong User = HekiGuestMachine.UserData;
    private const ulong Smap = 1UL << 21;

    private static HekiGuestMachine SmapMachine()
    {
        var g = new HekiGuestMachine(new HekiHostOptions { Profile = HekiHostProfile.None });
        g.Cpu.Cr4 |= Smap;
        g.Cpu.FlushTlb();
        return g;
    }

    /// <summary>STAC, a user read and a user write (cached), <paramref name="clearAc"/>, then a
    /// user read and write again: the second read must #PF (SMAP, no host bit).</summary>
    private static void AssertSecondUserAccessFaults(HekiGuestMachine g, Action<Assembler> clearAc)
    {
        g.Cpu.Gpr[Processor.RBX] = User;
        ulong afterFirst = g.Emit(Code, a =>
        {
            a.stac();
            a.mov(rax, __qword_ptr[rbx]);
            a.mov(__qword_ptr[rbx], rax);
        });
        ulong second = g.Emit(afterFirst, clearAc);
        ulong end = g.Emit(second, a => a.mov(rax, __qword_ptr[rbx]));

        var fault = g.RunFrom(Code, end).AssertFault(GuestFault.PageFault, second);

        Assert.Equal(User, fault.Cr2);
        Assert.Equal(1u, fault.ErrorCode);                                  // P, read, supervisor: SMAP
        Assert.Equal(0UL, g.Cpu.Rflags & (1UL << 18));
    }

    [Fact]
    public void Popf_clearing_ac_ends_the_user_access_it_allowed()
    {
        using var g = SmapMachine();
        AssertSecondUserAccessFaults(g, a => { a.push(2); a.popfq(); });
    }

    [Fact]
    public void Iretq_to_the_kernel_with_ac_clear_ends_the_user_access_it_allowed()
    {
        using var g = SmapMachine();
        AssertSecondUserAccessFaults(g, a =>
        {
            var next = a.CreateLabel();
            a.mov(rcx, rsp);
            a.push(HekiGuestMachine.KernelDs);
            a.push(rcx);
            a.push(2);                                                      // RFLAGS: AC clear
            a.push(HekiGuestMachine.KernelCs);
            a.lea(rcx, __[next]);
            a.push(rcx);
            a.iretq();
            a.Label(ref next);
            a.nop();
        });
    }

    [Fact]
    public void A_host_edit_of_rflags_between_runs_ends_the_user_access_it_allowed()
    {
        using var g = SmapMachine();
        g.Cpu.Gpr[Processor.RBX] = User;
        ulong end = g.Emit(Code, a => { a.stac(); a.mov(rax, __qword_ptr[rbx]); });
        g.RunFrom(Code, end).AssertCompleted();
        g.Cpu.Rflags &= ~(1UL << 18);                                       // the host (a VTL switch, a debugger) clears AC

        ulong end2 = g.Emit(Code, a => a.mov(rax, __qword_ptr[rbx]));
        g.RunFrom(Code, end2).AssertFault(GuestFault.PageFault, Code);
    }

    [Fact]
    public void With_ac_set_by_popf_the_user_access_is_allowed()
    {
        using var g = SmapMachine();
        g.Cpu.Gpr[Processor.RBX] = User;
        ulong end = g.Emit(Code, a =>
        {
            a.mov(rax, __qword_ptr[rbx + 8]);                              // warm nothing: this must fault first
        });
        g.RunFrom(Code, end).AssertFault(GuestFault.PageFault, Code);
        end = g.Emit(Code, a => { a.push(0x40002); a.popfq(); a.mov(rax, __qword_ptr[rbx]); });
        g.RunFrom(Code, end).AssertCompleted();
    }
}
