using System.Buffers.Binary;
using HekiGuest.HostSim.Cpu;

namespace HekiGuest.HostSim.Machine.Tests.Paging;

/// <summary>
/// PAE paging (32-bit protected mode, CR4.PAE, 3 levels). The four PDPTEs have no accessed bit
/// (bit 5 is reserved there, SDM vol. 3 4.4.1): the walker must not set it, or the next walk
/// through the same PDPTE would fault with RSVD.
/// </summary>
public sealed class PaePagingTests
{
    private const ulong Pdpt = 0x2000, Pd = 0x3000, Pt = 0x4000, Page = 0x5000;

    private static void Write(PagingRig rig, ulong at, ulong value) => BinaryPrimitives.WriteUInt64LittleEndian(rig.Memory.Slice(at, 8), value);

    private static ulong Read(PagingRig rig, ulong at) => BinaryPrimitives.ReadUInt64LittleEndian(rig.Memory.Slice(at, 8));

    [Fact]
    public void Walks_set_accessed_and_dirty_below_the_pdpte_and_never_in_it()
    {
        using var rig = new PagingRig();
        rig.Cpu.EnterFlatProtectedMode();
        Write(rig, Pdpt + 1 * 8, Pd | 1);                                  // PDPTE 1: present only (no R/W, U/S, A in PAE PDPTEs)
        Write(rig, Pd + 2 * 8, Pt | 3);
        Write(rig, Pt + 3 * 8, Page | 3);
        rig.Cpu.Cr3 = Pdpt;
        rig.Cpu.Cr4 = 0x20;
        rig.Cpu.Cr0 = 0x8000_0011;
        rig.Cpu.FlushTlb();
        ulong linear = (1UL << 30) | (2UL << 21) | (3UL << 12) | 0x10;

        for (int i = 0; i < 3; i++)
        {
            Assert.True(rig.Translator.TryTranslate(linear, AccessKind.Write, 4, 0, out ulong physical, out var fault), fault.ToString());
            Assert.Equal(Page | 0x10, physical);
        }

        Assert.Equal(Pd | 1, Read(rig, Pdpt + 8));
        Assert.Equal(Pt | 3 | 0x20, Read(rig, Pd + 2 * 8));
        Assert.Equal(Page | 3 | 0x60, Read(rig, Pt + 3 * 8));
    }
}
