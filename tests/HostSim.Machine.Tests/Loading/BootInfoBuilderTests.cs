using HekiGuest.HostSim.Machine.Loading;

namespace HekiGuest.HostSim.Machine.Tests.Loading;

/// <summary>The little-endian buffer the boot structures are written with.</summary>
public sealed class BootInfoBuilderTests
{
    [Fact]
    public void Integers_are_little_endian_strings_nul_terminated_and_align_pads_with_zeros()
    {
        var b = new BootInfoBuilder();
        b.U16(0x1234);
        b.CString("ab");
        b.Align(8);
        b.U32(0xDEADBEEF);
        b.U64(0x0102030405060708);
        b.Align(4);                       // already aligned: no padding
        Assert.Equal(20, b.Length);
        Assert.Equal("3412616200000000EFBEADDE0807060504030201", Convert.ToHexString(b.ToArray()));
    }

    [Fact]
    public void Patches_overwrite_in_place_without_changing_the_length()
    {
        var b = new BootInfoBuilder();
        for (int i = 0; i < 4; i++) b.U32(0xFFFFFFFF);
        b.PatchU32(2, 0x11223344);
        b.PatchU64(8, 0xAABBCCDD00112233);
        Assert.Equal(16, b.Length);
        Assert.Equal("FFFF44332211FFFF33221100DDCCBBAA", Convert.ToHexString(b.ToArray()));
    }

    [Fact]
    public void Empty_string_is_one_nul_byte()
    {
        var b = new BootInfoBuilder();
        b.CString("");
        Assert.Equal([0], b.ToArray());
    }
}
