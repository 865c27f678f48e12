using HekiGuest.HostSim.Machine.Devices;

namespace HekiGuest.HostSim.Machine.Tests.Devices;

/// <summary>The two reset requests of a PC: the chipset's reset control register (0xCF9) and the
/// 8042's reset pulse (0xFE to port 0x64).</summary>
public sealed class ResetDeviceTests
{
    [Theory]
    [InlineData(0x06, "hard reset")]
    [InlineData(0x04, "soft reset")]
    [InlineData(0x0E, "full reset")]
    public void A_write_with_rst_cpu_requests_a_reset(byte value, string kind)
    {
        var rcr = new ResetControlRegister();
        var requests = new List<string>();
        rcr.ResetRequested += requests.Add;
        rcr.Write(0, 1, value);
        Assert.Equal([$"port 0xcf9 value 0x{value:x2} ({kind})"], requests);
        Assert.Equal((uint)(value & 0x0A), rcr.Read(0, 1));   // RST_CPU reads 0
    }

    [Fact]
    public void Sys_rst_alone_only_arms_the_register_and_wide_accesses_do_nothing()
    {
        var rcr = new ResetControlRegister();
        int requests = 0;
        rcr.ResetRequested += _ => requests++;
        rcr.Write(0, 1, 0x02);
        Assert.Equal(0x02u, rcr.Read(0, 1));
        rcr.Write(0, 2, 0x0606);
        rcr.Write(0, 4, 0xFFFF_FFFF);
        Assert.Equal(0, requests);
        Assert.Equal(0xFFFFu, rcr.Read(0, 2));
        Assert.Equal(0xCF9, rcr.Base);
        Assert.Equal(1, rcr.Count);
        rcr.Write(0, 1, 0x06);
        rcr.Write(0, 1, 0x06);
        Assert.Equal(2, requests);                            // each write with bit 2 is a 0-to-1 edge
    }

    [Theory]
    [InlineData(0xFE, true)]
    [InlineData(0xF0, true)]
    [InlineData(0xFC, true)]
    [InlineData(0xFF, false)]      // pulses nothing
    [InlineData(0xFD, false)]      // pulses bit 1 (A20), not the reset line
    [InlineData(0xD1, false)]
    [InlineData(0xAA, false)]
    public void Keyboard_controller_resets_on_a_pulse_of_output_bit_0(byte command, bool resets)
    {
        var kbc = new Keyboard8042();
        int requests = 0;
        kbc.ResetRequested += _ => requests++;
        Assert.Equal(0x04u, kbc.Read(0, 1));                  // buffers empty, system flag
        kbc.Write(0, 1, command);
        Assert.Equal(resets ? 1 : 0, requests);
        Assert.Equal(0x0Cu, kbc.Read(0, 1));                  // last write was a command
    }
}
