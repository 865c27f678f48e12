using Xunit;
using static Iced.Intel.AssemblerRegisters;

namespace HekiGuest.HostSim.Cpu.Tests;

/// <summary>
/// CR4.PCIDE, CR3 with a PCID and bit 63, INVPCID's checks (SDM vol. 2 INVPCID, vol. 3 4.10.1),
/// and the features the core does not implement staying out of CPUID (RDPRU, PKU, PKS).
/// </summary>
public sealed class PcidTests
{
    private const ulong Data = GuestBox.DataBase;

    private static byte Fault(GuestBox box)
    {
        var stop = box.Run();
        Assert.True(stop == StopReason.Exception, box.Describe());
        return box.Cpu.PendingException!.Value.Fault.Vector;
    }

    private static GuestBox Box(string model = "max")
    {
        var box = new GuestBox();
        box.Cpu.Model = CpuModelSpec.Parse(model);
        return box;
    }

    [Fact]
    public void Pcide_loads_in_ia32e_mode_with_pcid_0_and_cr3_keeps_the_pcid_but_not_bit_63()
    {
        using var box = Box();
        box.Load(a =>
        {
            a.mov(rax, cr4); a.bts(rax, 17); a.mov(cr4, rax);
            a.mov(rax, 0x5000UL | 0x123 | 1UL << 63); a.mov(cr3, rax);
            a.mov(rbx, cr3);
            a.hlt();
        });
        Assert.Equal(StopReason.Halted, box.Run());
        Assert.Equal(0x5123UL, box.Cpu.Gpr[Cpu.RBX]);
    }

    [Fact]
    public void Pcide_gps_with_a_non_zero_pcid_in_cr3_outside_ia32e_mode_or_without_the_feature()
    {
        using (var box = Box())
        {
            box.Cpu.Cr3 = 0x5001;
            box.Load(a => { a.mov(rax, cr4); a.bts(rax, 17); a.mov(cr4, rax); });
            Assert.Equal(GuestFault.GeneralProtection, Fault(box));
        }
        using (var box = new GuestBox(longMode: false))
        {
            box.Load(a => { a.mov(eax, cr4); a.bts(eax, 17); a.mov(cr4, eax); });
            Assert.Equal(GuestFault.GeneralProtection, Fault(box));
        }
        using (var box = Box("max,-pcid"))
        {
            box.Load(a => { a.mov(rax, cr4); a.bts(rax, 17); a.mov(cr4, rax); });
            Assert.Equal(GuestFault.GeneralProtection, Fault(box));
            Assert.False(box.Cpu.Model.Has("invpcid"));                 // removing pcid removed invpcid
        }
    }

    [Fact]
    public void Cr3_bit_63_without_pcide_is_reserved()
    {
        using var box = Box();
        box.Load(a => { a.mov(rax, 0x5000UL | 1UL << 63); a.mov(cr3, rax); });
        Assert.Equal(GuestFault.GeneralProtection, Fault(box));
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, true)]
    public void Clearing_cr0_pg_from_compatibility_mode_gps_only_while_pcide_is_set(bool pcide, bool gp)
    {
        using var box = Box();
        if (pcide) box.Cpu.WriteControlRegister(4, box.Cpu.Cr4 | Cpu.Cr4Pcide);
        var cs = box.Cpu.Segments[Cpu.CS];
        cs.Attributes = 0xC09B;                                        // 32-bit code under LMA: compatibility mode
        box.Cpu.SetSegment(Cpu.CS, cs);
        box.Load(a => { a.mov(eax, cr0); a.btr(eax, 31); a.mov(cr0, eax); a.hlt(); }, bitness: 32);
        if (gp)
        {
            Assert.Equal(GuestFault.GeneralProtection, Fault(box));
        }
        else
        {
            Assert.Equal(StopReason.Halted, box.Run());
            Assert.False(box.Cpu.LongModeActive);
        }
    }

    [Theory]
    [InlineData(4UL, 0UL, 0UL, false)]                              // type > 3
    [InlineData(0UL, 1UL << 12, 0UL, false)]                        // descriptor bits 63:12 reserved
    [InlineData(0UL, 0UL, 0x0000_8000_0000_0000UL, false)]          // type 0: non-canonical address
    [InlineData(0UL, 5UL, 0x1000UL, false)]                         // type 0: PCID without PCIDE
    [InlineData(1UL, 5UL, 0UL, false)]                              // type 1: PCID without PCIDE
    [InlineData(2UL, 5UL, 0UL, true)]                               // types 2 and 3 ignore the descriptor
    [InlineData(3UL, 5UL, 0x0000_8000_0000_0000UL, true)]
    [InlineData(0UL, 0UL, 0xFFFF_8000_0000_0000UL, true)]
    [InlineData(1UL, 0UL, 0UL, true)]
    public void Invpcid_checks_its_type_and_descriptor_without_pcide(ulong type, ulong descLo, ulong address, bool ok)
    {
        using var box = Box();
        box.WriteU64(Data, descLo);
        box.WriteU64(Data + 8, address);
        box.Load(a => { a.mov(rax, type); a.mov(edi, (uint)Data); a.invpcid(rax, __[rdi]); a.hlt(); });
        if (ok) Assert.Equal(StopReason.Halted, box.Run());
        else Assert.Equal(GuestFault.GeneralProtection, Fault(box));
    }

    [Fact]
    public void Invpcid_takes_a_pcid_under_pcide_gps_at_cpl_3_and_is_ud_without_the_feature()
    {
        using (var box = Box())
        {
            box.Cpu.WriteControlRegister(4, box.Cpu.Cr4 | Cpu.Cr4Pcide);
            box.WriteU64(Data, 5);
            box.Load(a => { a.xor(eax, eax); a.mov(edi, (uint)Data); a.invpcid(rax, __[rdi]); a.inc(eax); a.invpcid(rax, __[rdi]); a.hlt(); });
            Assert.Equal(StopReason.Halted, box.Run());
        }
        using (var box = Box())
        {
            box.EnterUserMode();
            box.Load(a => { a.xor(eax, eax); a.mov(edi, (uint)Data); a.invpcid(rax, __[rdi]); });
            Assert.Equal(GuestFault.GeneralProtection, Fault(box));
        }
        using (var box = Box("Broadwell,-invpcid"))
        {
            box.Load(a => { a.xor(eax, eax); a.mov(edi, (uint)Data); a.invpcid(rax, __[rdi]); });
            Assert.Equal(GuestFault.InvalidOpcode, Fault(box));
        }
    }

    [Fact]
    public void Rdpru_pku_and_pks_are_absent_from_every_model_and_their_controls_refuse()
    {
        foreach (var model in CpuModels.All)
        {
            using var box = new GuestBox();
            var cpuid = new ModelCpuid(model);
            var l7 = cpuid.Query(box.Cpu, 7, 0);
            Assert.Equal(0u, l7.Ecx & (1u << 3 | 1u << 4 | 1u << 31));       // PKU, OSPKE, PKS
            Assert.Equal(0u, cpuid.Query(box.Cpu, 0x8000_0008, 0).Ebx & (1u << 4));   // RDPRU
        }
        foreach (int bit in new[] { 22, 24 })                                 // CR4.PKE, CR4.PKS
        {
            using var box = Box();
            box.Load(a => { a.mov(rax, cr4); a.bts(rax, (byte)bit); a.mov(cr4, rax); });
            Assert.Equal(GuestFault.GeneralProtection, Fault(box));
        }
        using (var box = Box())
        {
            box.LoadBytes([0x0F, 0x01, 0xFD]);                                // rdpru
            Assert.Equal(GuestFault.InvalidOpcode, Fault(box));
        }
        using (var box = Box())
        {
            box.LoadBytes([0x0F, 0x01, 0xEE]);                                // rdpkru
            Assert.Equal(GuestFault.InvalidOpcode, Fault(box));
        }
    }
}
