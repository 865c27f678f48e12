using HekiGuest.HostSim.Machine.Devices;

namespace HekiGuest.HostSim.Machine.Tests.Devices;

/// <summary>Routing of IN/OUT to devices; unmodelled ports behave like an empty ISA bus.</summary>
public sealed class PortBusTests
{
    [Theory]
    [InlineData(1, 0xFFu)]
    [InlineData(2, 0xFFFFu)]
    [InlineData(4, 0xFFFF_FFFFu)]
    public void Unmodelled_port_reads_all_ones_of_the_access_size(int size, uint expected)
    {
        var bus = new PortBus();
        Assert.Equal(expected, bus.In(0x80, size));
    }

    [Fact]
    public void Writes_to_unmodelled_ports_are_ignored()
    {
        var bus = new PortBus();
        var device = new RecordingDevice(0x100, 4);
        bus.Attach(device);
        bus.Out(0xFF, 1, 0x12);
        bus.Out(0x104, 4, 0x12345678);
        Assert.Equal(0xFFu, bus.In(0xFF, 1));
        Assert.Empty(device.Accesses);
    }

    [Fact]
    public void Accesses_reach_the_owning_device_with_the_offset_from_its_base_and_the_size()
    {
        var bus = new PortBus();
        var a = new RecordingDevice(0x100, 4, readValue: 0xAB);
        var b = new RecordingDevice(0x104, 2, readValue: 0xCDEF);
        bus.Attach(a);
        bus.Attach(b);
        Assert.Equal(0xABu, bus.In(0x103, 1));
        bus.Out(0x100, 2, 0xBEEF);
        Assert.Equal(0xCDEFu, bus.In(0x105, 2));
        bus.Out(0x104, 4, 0xCAFEF00D);
        Assert.Equal([(false, (ushort)3, 1, 0u), (true, (ushort)0, 2, 0xBEEFu)], a.Accesses);
        Assert.Equal([(false, (ushort)1, 2, 0u), (true, (ushort)0, 4, 0xCAFEF00Du)], b.Accesses);
        Assert.Empty(bus.UnmodelledPorts);
    }

    [Fact]
    public void Unmodelled_access_is_reported_once_per_port_whatever_the_direction_or_size()
    {
        var bus = new PortBus();
        var reports = new List<(ushort Port, bool Write)>();
        bus.UnmodelledAccess += (port, write) => reports.Add((port, write));
        bus.In(0x80, 1);
        bus.Out(0x80, 1, 0);
        bus.In(0x80, 4);
        bus.Out(0x61, 1, 0);
        bus.In(0x61, 1);
        bus.Out(0x80, 2, 0);
        Assert.Equal([((ushort)0x80, false), ((ushort)0x61, true)], reports);
        Assert.Equal(new ushort[] { 0x61, 0x80 }, bus.UnmodelledPorts.Order());
    }

    [Fact]
    public void Attach_rejects_a_device_overlapping_another_and_leaves_the_bus_unchanged()
    {
        var bus = new PortBus();
        var uart = new RecordingDevice(0x3F8, 8);
        bus.Attach(uart);
        var overlapping = new RecordingDevice(0x3F0, 9);          // 0x3F0-0x3F8: last port is the UART's
        var e = Assert.Throws<InvalidOperationException>(() => bus.Attach(overlapping));
        Assert.Contains("0x3f8", e.Message);
        Assert.Equal(0xFFu, bus.In(0x3F0, 1));                    // none of its ports were claimed
        Assert.Empty(overlapping.Accesses);
        Assert.Throws<InvalidOperationException>(() => bus.Attach(new RecordingDevice(0x3FF, 2)));
        Assert.Equal(0xFFu, bus.In(0x400, 1));

        bus.Attach(new RecordingDevice(0x3F0, 8));                // adjacent below: fine
        bus.Attach(new RecordingDevice(0x400, 1));                // adjacent above: fine
        Assert.Equal(0x5Au, bus.In(0x3F7, 1));
        Assert.Equal(0x5Au, bus.In(0x400, 1));
    }

    [Fact]
    public void Attach_rejects_a_device_running_past_port_0xffff()
    {
        var bus = new PortBus();
        Assert.Throws<ArgumentException>(() => bus.Attach(new RecordingDevice(0xFFFE, 4)));
        Assert.Equal(0xFFu, bus.In(0xFFFE, 1));
        bus.Attach(new RecordingDevice(0xFFFE, 2));
        Assert.Equal(0x5Au, bus.In(0xFFFF, 1));
    }
}
