using HekiGuest.HostSim.Machine.Devices;

namespace HekiGuest.HostSim.Machine.Tests.Devices;

/// <summary>QEMU's isa-debug-exit: a write of v ends the run with host exit code (v &lt;&lt; 1) | 1,
/// which the host process sees modulo 256.</summary>
public sealed class DebugExitTests
{
    [Theory]
    [InlineData(1, 0x00u, 0x00u, 1)]
    [InlineData(1, 0x10u, 0x10u, 0x21)]
    [InlineData(1, 0x3Fu, 0x3Fu, 0x7F)]
    [InlineData(1, 0x1234u, 0x34u, 0x69)]            // a byte write carries AL only
    [InlineData(2, 0x0041u, 0x41u, 0x83)]
    [InlineData(2, 0xABCD1234u, 0x1234u, 0x69)]      // a word write carries AX only
    [InlineData(4, 0x12345678u, 0x12345678u, 0xF1)]
    [InlineData(4, 0x80000001u, 0x80000001u, 0x03)]
    public void Exit_code_is_value_shifted_left_with_bit_0_set(int size, uint written, uint value, int exitCode)
    {
        var d = new DebugExit();
        Assert.Null(d.Value);
        Assert.Equal(0, d.ExitCode);
        d.Write(0, size, written);
        Assert.Equal(value, d.Value);
        Assert.Equal(exitCode, d.ExitCode);
    }

    [Fact]
    public void Defaults_to_port_0xf4()
    {
        var d = new DebugExit();
        Assert.Equal(0xF4, d.Base);
        Assert.True(d.Count >= 4);                       // a dword OUT to 0xF4 stays inside the device
        Assert.Equal(0x501, new DebugExit(0x501).Base);
    }

    [Fact]
    public void Only_the_first_write_counts_and_exited_fires_once()
    {
        var d = new DebugExit();
        int fired = 0;
        d.Exited += () => fired++;
        d.Write(0, 1, 3);
        d.Write(0, 1, 5);
        d.Write(0, 4, 0xFFFF);
        Assert.Equal(3u, d.Value);
        Assert.Equal(7, d.ExitCode);
        Assert.Equal(1, fired);
    }

    [Fact]
    public void Reset_forgets_the_value_and_the_next_write_counts_again()
    {
        var d = new DebugExit();
        int fired = 0;
        d.Exited += () => fired++;
        d.Write(0, 1, 3);
        d.Reset();
        Assert.Null(d.Value);
        Assert.Equal(0, d.ExitCode);
        d.Write(0, 1, 9);
        Assert.Equal(9u, d.Value);
        Assert.Equal(19, d.ExitCode);
        Assert.Equal(2, fired);
    }
}
