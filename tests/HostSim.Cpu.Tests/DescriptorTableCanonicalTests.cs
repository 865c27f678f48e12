using Xunit;
using static Iced.Intel.AssemblerRegisters;

namespace HekiGuest.HostSim.Cpu.Tests;

/// <summary>
/// Canonical bases for the descriptor-table registers in 64-bit mode (SDM vol. 2): LGDT/LIDT of a
/// non-canonical base is #GP(0); LLDT/LTR of a 16-byte descriptor whose base is non-canonical is
/// #GP(selector). Nothing changes on the fault (LTR does not mark the TSS busy); canonical bases load.
/// </summary>
public sealed class DescriptorTableCanonicalTests
{
    private const ulong Pseudo = GuestBox.DataBase;          // the 10-byte LGDT/LIDT operand
    private const ulong Gdt = 0x50000;
    private const ushort Selector = 0x10;

    private static GuestBox Box()
    {
        var box = new GuestBox();
        box.Cpu.Gdtr = new DescriptorTableRegister { Base = Gdt, Limit = 0x27 };
        return box;
    }

    [Theory]
    [InlineData(true, 0x0000_8000_0000_0000UL, false)]
    [InlineData(true, 0xFFFF_7FFF_FFFF_F000UL, false)]
    [InlineData(true, 0xFFFF_8000_0000_1000UL, true)]
    [InlineData(false, 0x0000_8000_0000_0000UL, false)]
    [InlineData(false, 0x0000_7FFF_FFFF_F000UL, true)]
    public void Lgdt_and_lidt_of_a_non_canonical_base_gp_0_and_change_nothing(bool gdt, ulong @base, bool ok)
    {
        using var box = Box();
        var before = gdt ? box.Cpu.Gdtr : box.Cpu.Idtr;
        BitConverter.TryWriteBytes(box.Memory.Slice(Pseudo, 2), (ushort)0xFFF);
        box.WriteU64(Pseudo + 2, @base);
        box.Load(a => { a.mov(edi, (uint)Pseudo); if (gdt) a.lgdt(__[rdi]); else a.lidt(__[rdi]); a.hlt(); });
        var stop = box.Run();
        var after = gdt ? box.Cpu.Gdtr : box.Cpu.Idtr;
        if (ok)
        {
            Assert.Equal(StopReason.Halted, stop);
            Assert.Equal(@base, after.Base);
            return;
        }
        Assert.Equal(StopReason.Exception, stop);
        var f = box.Cpu.PendingException!.Value.Fault;
        Assert.Equal(GuestFault.GeneralProtection, f.Vector);
        Assert.Equal(0u, f.ErrorCode);
        Assert.Equal(before, after);
    }

    /// <summary>A 16-byte system descriptor (type 2 LDT or 9 available TSS) at <see cref="Selector"/>.</summary>
    private static void SystemDescriptor(GuestBox box, int type, ulong @base)
    {
        ulong lo = 0x67 | (@base & 0xFF_FFFF) << 16 | (ulong)(0x80 | type) << 40 | ((@base >> 24) & 0xFF) << 56;
        box.WriteU64(Gdt + Selector, lo);
        box.WriteU64(Gdt + Selector + 8, @base >> 32);
    }

    [Theory]
    [InlineData(true, 0x0000_8000_0006_0000UL, false)]
    [InlineData(true, 0xFFFF_8000_0006_0000UL, true)]
    [InlineData(false, 0x0001_0000_0006_0000UL, false)]
    [InlineData(false, 0x0000_7FFF_0006_0000UL, true)]
    public void Ltr_and_lldt_of_a_descriptor_with_a_non_canonical_base_gp_with_the_selector(bool ltr, ulong @base, bool ok)
    {
        using var box = Box();
        SystemDescriptor(box, ltr ? 9 : 2, @base);
        ulong descriptor = box.ReadU64(Gdt + Selector);
        box.Load(a => { a.mov(eax, (uint)Selector); if (ltr) a.ltr(ax); else a.lldt(ax); a.hlt(); });
        var stop = box.Run();
        var loaded = ltr ? box.Cpu.Tr : box.Cpu.Ldtr;
        if (ok)
        {
            Assert.Equal(StopReason.Halted, stop);
            Assert.Equal(@base, loaded.Base);
            return;
        }
        Assert.Equal(StopReason.Exception, stop);
        var f = box.Cpu.PendingException!.Value.Fault;
        Assert.Equal(GuestFault.GeneralProtection, f.Vector);
        Assert.Equal((uint)Selector, f.ErrorCode);
        Assert.Equal((ushort)0, loaded.Selector);
        Assert.Equal(descriptor, box.ReadU64(Gdt + Selector));        // not marked busy
    }
}
