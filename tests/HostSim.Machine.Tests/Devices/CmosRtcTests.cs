using HekiGuest.HostSim.Machine.Devices;

namespace HekiGuest.HostSim.Machine.Tests.Devices;

/// <summary>The CMOS RTC at 0x70/0x71: 114 bytes of NVRAM, a fixed clock, read-only status C/D.</summary>
public sealed class CmosRtcTests
{
    private static byte Get(CmosRtc c, byte register)
    {
        c.Write(0, 1, register);
        return (byte)c.Read(1, 1);
    }

    private static void Set(CmosRtc c, byte register, byte value)
    {
        c.Write(0, 1, register);
        c.Write(1, 1, value);
    }

    [Fact]
    public void Every_nvram_byte_holds_what_was_written()
    {
        var c = new CmosRtc();
        Assert.Equal(114, CmosRtc.NvramBytes);
        for (int r = CmosRtc.FirstNvramByte; r < CmosRtc.Registers; r++) Set(c, (byte)r, (byte)(r * 7 + 3));
        for (int r = CmosRtc.FirstNvramByte; r < CmosRtc.Registers; r++) Assert.Equal((byte)(r * 7 + 3), Get(c, (byte)r));
    }

    [Fact]
    public void The_clock_reads_2000_01_01_in_bcd_and_the_status_registers_are_sane()
    {
        var c = new CmosRtc();
        Assert.Equal(new byte[] { 0, 0, 0, 0, 0, 0, 7, 1, 1, 0 }, Enumerable.Range(0, 10).Select(r => Get(c, (byte)r)).ToArray());
        Assert.Equal(0x26, Get(c, 0x0A));
        Assert.Equal(0x02, Get(c, 0x0B));
        Assert.Equal(0x00, Get(c, 0x0C));
        Assert.Equal(0x80, Get(c, 0x0D));
        Assert.Equal(0x20, Get(c, 0x32));
    }

    [Fact]
    public void Status_c_and_d_and_the_uip_bit_are_read_only_and_the_clock_keeps_what_is_written()
    {
        var c = new CmosRtc();
        Set(c, 0x0C, 0xFF);
        Set(c, 0x0D, 0x00);
        Set(c, 0x0A, 0xFF);
        Set(c, 0x00, 0x59);
        Assert.Equal(0x00, Get(c, 0x0C));
        Assert.Equal(0x80, Get(c, 0x0D));
        Assert.Equal(0x7F, Get(c, 0x0A));
        Assert.Equal(0x59, Get(c, 0x00));
    }

    [Fact]
    public void The_index_drops_the_nmi_bit_and_port_0x70_reads_all_ones()
    {
        var c = new CmosRtc();
        Set(c, 0x40, 0x11);
        c.Write(0, 1, 0x80 | 0x40);
        Assert.True(c.NmiMasked);
        Assert.Equal(0x40, c.Index);
        Assert.Equal(0x11u, c.Read(1, 1));
        Assert.Equal(0xFFu, c.Read(0, 1));
        Assert.Equal(0xFFFFu, c.Read(1, 2));
        Assert.Equal(0x11, c[0x40]);
    }
}
