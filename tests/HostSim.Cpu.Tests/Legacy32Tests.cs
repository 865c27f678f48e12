using Xunit;
using static Iced.Intel.AssemblerRegisters;

namespace HekiGuest.HostSim.Cpu.Tests;

/// <summary>The instructions of 32-bit code that 64-bit mode dropped, against the SDM's operation
/// sections and examples: PUSHAD/POPAD, DAA, DAS, AAA, AAS, AAM, AAD, SALC, BOUND, ARPL.</summary>
public sealed class Legacy32Tests
{
    private const ulong Mem = GuestBox.DataBase;

    private static GuestBox Run32(Action<Iced.Intel.Assembler> code, bool expectHalt = true)
    {
        var box = new GuestBox(longMode: false);
        box.Load(a => { code(a); a.hlt(); });
        var stop = box.Run();
        if (expectHalt) Assert.True(stop == StopReason.Halted, box.Describe());
        return box;
    }

    private static ulong Al(GuestBox b) => b.Cpu.Gpr[Cpu.RAX] & 0xFF;

    private static bool Cf(GuestBox b) => (b.Cpu.Rflags & Flag.CF) != 0;

    [Fact]
    public void Daa_and_das_adjust_packed_bcd_after_add_and_sub()
    {
        using var daa = Run32(a => { a.mov(al, 0x79); a.add(al, 0x35); a.daa(); });     // 79 + 35 = 114
        Assert.Equal(0x14UL, Al(daa));
        Assert.True(Cf(daa));
        using var das = Run32(a => { a.mov(al, 0x35); a.sub(al, 0x47); a.das(); });     // 35 - 47 = -12 -> 88, borrow
        Assert.Equal(0x88UL, Al(das));
        Assert.True(Cf(das));
        using var noAdjust = Run32(a => { a.mov(al, 0x12); a.add(al, 0x34); a.daa(); });
        Assert.Equal(0x46UL, Al(noAdjust));
        Assert.False(Cf(noAdjust));
    }

    [Fact]
    public void Aaa_aas_aam_aad_adjust_unpacked_bcd()
    {
        using var aaa = Run32(a => { a.mov(ax, 0x0008); a.add(al, 0x06); a.aaa(); });   // 8 + 6 = 14
        Assert.Equal(0x0104UL, aaa.Cpu.Gpr[Cpu.RAX] & 0xFFFF);
        Assert.True(Cf(aaa));
        using var aas = Run32(a => { a.mov(ax, 0x0105); a.sub(al, 0x08); a.aas(); });   // 15 - 8 = 7
        Assert.Equal(0x0007UL, aas.Cpu.Gpr[Cpu.RAX] & 0xFFFF);
        Assert.True(Cf(aas));
        using var aam = Run32(a => { a.mov(ax, 0x003F); a.aam(10); });                 // 63 -> 06 03
        Assert.Equal(0x0603UL, aam.Cpu.Gpr[Cpu.RAX] & 0xFFFF);
        using var aad = Run32(a => { a.mov(ax, 0x0603); a.aad(10); });                 // 06 03 -> 63
        Assert.Equal(0x003FUL, aad.Cpu.Gpr[Cpu.RAX] & 0xFFFF);
        using var aam0 = Run32(a => { a.mov(ax, 0x003F); a.aam(0); }, expectHalt: false);
        Assert.Equal(GuestFault.DivideError, aam0.Cpu.PendingException!.Value.Fault.Vector);
    }

    [Fact]
    public void Salc_sets_al_from_cf()
    {
        using var set = Run32(a => { a.mov(eax, 0x1234_5600); a.stc(); a.db(0xD6); });
        Assert.Equal(0x1234_56FFUL, set.Cpu.Gpr[Cpu.RAX]);
        using var clear = Run32(a => { a.mov(eax, 0x1234_56AA); a.clc(); a.db(0xD6); });
        Assert.Equal(0x1234_5600UL, clear.Cpu.Gpr[Cpu.RAX]);
    }

    [Fact]
    public void Pushad_stores_the_original_esp_and_popad_skips_it()
    {
        using var box = Run32(a =>
        {
            a.mov(esp, 0x8000);
            a.mov(eax, 1); a.mov(ecx, 2); a.mov(edx, 3); a.mov(ebx, 4); a.mov(ebp, 6); a.mov(esi, 7); a.mov(edi, 8);
            a.pushad();
            a.mov(esi, __dword_ptr[esp + 12]);                     // the stored ESP slot
            a.mov(__dword_ptr[esp + 12], 0xDEAD);                  // POPAD must not load it
            a.xor(eax, eax); a.xor(ecx, ecx); a.xor(edx, edx); a.xor(ebx, ebx); a.xor(ebp, ebp); a.xor(edi, edi);
            a.mov(__dword_ptr[Mem], esi);
            a.popad();
        });
        var g = box.Cpu.Gpr;
        Assert.Equal([1UL, 2, 3, 4, 0x8000, 6, 7, 8], new[] { g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7] });
        Assert.Equal(0x8000UL, box.ReadU64(Mem) & 0xFFFF_FFFF);
    }

    [Fact]
    public void Bound_raises_br_outside_the_signed_bounds()
    {
        foreach (var (index, faults) in new[] { (15, false), (10, false), (20, false), (21, true), (-1, true) })
        {
            using var box = new GuestBox(longMode: false);
            box.WriteU64(Mem, 10UL | (20UL << 32));
            box.Cpu.Gpr[Cpu.RAX] = (uint)index;
            box.Load(a => { a.bound(eax, __qword_ptr[Mem]); a.hlt(); });
            var stop = box.Run();
            if (faults)
            {
                Assert.Equal(StopReason.Exception, stop);
                Assert.Equal(5, box.Cpu.PendingException!.Value.Fault.Vector);
                Assert.Equal(GuestBox.CodeBase, box.Cpu.PendingException!.Value.InstructionRip);
            }
            else
            {
                Assert.True(stop == StopReason.Halted, $"{index}: {box.Describe()}");
            }
        }
    }

    [Fact]
    public void Arpl_raises_the_destination_rpl_and_reports_through_zf()
    {
        using var box = Run32(a =>
        {
            a.mov(eax, 0x0010);
            a.mov(ebx, 0x0003);
            a.arpl(ax, bx);
            a.setz(cl);
            a.arpl(ax, bx);
            a.setz(ch);
        });
        Assert.Equal(0x13UL, box.Cpu.Gpr[Cpu.RAX] & 0xFFFF);
        Assert.Equal(0x0001UL, box.Cpu.Gpr[Cpu.RCX] & 0xFFFF);    // first adjusted (ZF=1), then not (ZF=0)
    }
}
