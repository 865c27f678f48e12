using System.Text;
using HekiGuest.HostSim.Machine.Devices;

namespace HekiGuest.HostSim.Machine.Tests.Devices;

/// <summary>
/// The 16550 register file as a polling driver sees it (register offsets from the base: 0 THR/RBR
/// or DLL, 1 IER or DLM, 2 IIR/FCR, 3 LCR, 4 MCR, 5 LSR, 6 MSR, 7 scratch), including the
/// sequence kernel/Platform/Drivers/Serial16550.cs runs and what SerialTests checks.
/// </summary>
public sealed class Uart16550Tests
{
    private const ushort Thr = 0, Ier = 1, Iir = 2, Fcr = 2, Lcr = 3, Mcr = 4, Lsr = 5, Msr = 6, Scratch = 7;
    private readonly List<byte> _sent = [];
    private readonly Uart16550 _uart;

    public Uart16550Tests() => _uart = new Uart16550(0x3F8, _sent.Add);

    private uint Read(ushort offset) => _uart.Read(offset, 1);
    private void Write(ushort offset, uint value) => _uart.Write(offset, 1, value);

    [Fact]
    public void Claims_eight_ports_at_its_base()
    {
        Assert.Equal(0x3F8, _uart.Base);
        Assert.Equal(8, _uart.Count);
    }

    [Fact]
    public void Transmitted_bytes_reach_the_sink_in_order()
    {
        foreach (byte b in "Hello, 16550!\r\n"u8) Write(Thr, b);
        Write(Thr, 0x00);
        Write(Thr, 0xFF);
        Assert.Equal([.. "Hello, 16550!\r\n"u8, 0x00, 0xFF], _sent);
        Assert.Equal(17, _uart.BytesTransmitted);
    }

    [Fact]
    public void Line_status_says_transmitter_holding_register_and_shift_register_empty_and_no_data()
    {
        for (int i = 0; i < 3; i++)
        {
            uint lsr = Read(Lsr);
            Assert.Equal(0x20u, lsr & 0x20);       // THRE: the kernel's Put() polls this
            Assert.Equal(0x40u, lsr & 0x40);       // TEMT
            Assert.Equal(0u, lsr & 0x01);          // DR: nothing received
            Assert.Equal(0u, lsr & 0x9E);          // no errors
            Write(Thr, (byte)'x');
        }
    }

    [Fact]
    public void Divisor_latch_is_reached_with_dlab_and_keeps_its_value()
    {
        Write(Lcr, 0x83);                        // DLAB, 8N1
        Write(Thr, 0x0C);                        // DLL
        Write(Ier, 0x01);                        // DLM -> divisor 0x010C
        Assert.Empty(_sent);                     // DLL writes do not transmit
        Assert.Equal(0x0Cu, Read(Thr));
        Assert.Equal(0x01u, Read(Ier));
        Assert.Equal(0x83u, Read(Lcr));

        Write(Lcr, 0x03);                        // DLAB off
        Assert.Equal(0u, Read(Ier));             // IER, not DLM
        Assert.Equal(0u, Read(Thr));             // RBR: nothing received
        Write(Thr, (byte)'A');
        Assert.Equal([(byte)'A'], _sent);

        Write(Lcr, 0x80);
        Assert.Equal(0x0Cu, Read(Thr));          // divisor survived the DLAB-off period
        Assert.Equal(0x01u, Read(Ier));
    }

    [Fact]
    public void Interrupt_enable_and_modem_control_keep_only_their_defined_bits()
    {
        Write(Ier, 0xFF);
        Assert.Equal(0x0Fu, Read(Ier));
        Write(Mcr, 0xFF);
        Assert.Equal(0x1Fu, Read(Mcr));
        Write(Lcr, 0x1B);
        Assert.Equal(0x1Bu, Read(Lcr));
    }

    [Theory]
    [InlineData(0xA5)]
    [InlineData(0x5A)]
    [InlineData(0x00)]
    [InlineData(0xFF)]
    public void Scratch_register_holds_what_was_written(byte value)
    {
        Write(Scratch, value);
        Assert.Equal(value, Read(Scratch));
        Assert.Empty(_sent);
    }

    [Fact]
    public void The_kernel_driver_initialisation_leaves_115200_8n1_and_the_self_test_reads_hold()
    {
        // Serial16550.Initialize()
        Write(Ier, 0x00);
        Write(Lcr, 0x80);
        Write(Thr, 0x01);
        Write(Ier, 0x00);
        Write(Lcr, 0x03);
        Write(Fcr, 0xC7);
        Write(Mcr, 0x03);
        Assert.Empty(_sent);

        // Serial16550.ReadDivisor(): LCR | DLAB, DLL | DLM << 8, restore LCR
        uint lcr = Read(Lcr);
        Write(Lcr, lcr | 0x80);
        uint divisor = Read(Thr) | (Read(Ier) << 8);
        Write(Lcr, lcr);
        Assert.Equal(1u, divisor);
        Assert.Equal(0x03u, Read(Lcr));
        Assert.NotEqual(0u, Read(Lsr) & 0x20);
        Assert.Equal(0xC1u, Read(Iir));          // FIFOs on (bits 7:6), no interrupt pending (bit 0)

        Write(Thr, (byte)'k');
        Assert.Equal([(byte)'k'], _sent);
    }

    [Fact]
    public void Fifo_control_bit_0_shows_in_the_interrupt_identification_register()
    {
        Assert.Equal(0x01u, Read(Iir));          // after reset: no FIFOs, no interrupt pending
        Write(Fcr, 0x01);
        Assert.Equal(0xC1u, Read(Iir));
        Write(Fcr, 0x00);
        Assert.Equal(0x01u, Read(Iir));
    }

    [Fact]
    public void Modem_status_reports_the_line_up_cts_dsr_dcd()
    {
        Assert.Equal(0xB0u, Read(Msr));
    }

    [Fact]
    public void Loopback_receives_the_byte_instead_of_sending_it_like_the_usual_probe_expects()
    {
        // The common driver probe: loopback with RTS, OUT1, OUT2; send 0xAE; it must come back.
        Write(Mcr, 0x1E);
        Write(Thr, 0xAE);
        Assert.Empty(_sent);
        Assert.Equal(0x01u, Read(Lsr) & 0x01);  // data ready
        Assert.Equal(0xAEu, Read(Thr));
        Assert.Equal(0x00u, Read(Lsr) & 0x01);  // reading RBR emptied it
        Assert.Equal(0xD0u, Read(Msr));          // CTS<-RTS, RI<-OUT1, DCD<-OUT2, DSR<-DTR (off)
        Write(Mcr, 0x11);                        // loopback with DTR only
        Assert.Equal(0x20u, Read(Msr));

        Write(Mcr, 0x0F);                        // normal operation again
        Write(Thr, (byte)'z');
        Assert.Equal([(byte)'z'], _sent);
        Assert.Equal(0xB0u, Read(Msr));
        Assert.Equal(1, _uart.BytesTransmitted);
    }

    [Fact]
    public void Loopback_without_fifo_holds_one_byte_and_reports_overrun_once()
    {
        Write(Mcr, 0x10);
        Write(Thr, 1);
        Write(Thr, 2);
        uint lsr = Read(Lsr);
        Assert.Equal(0x03u, lsr & 0x03);         // DR and OE
        Assert.Equal(0u, Read(Lsr) & 0x02);      // OE clears when LSR is read
        Assert.Equal(1u, Read(Thr));
        Assert.Equal(0u, Read(Lsr) & 0x01);
    }

    [Fact]
    public void Loopback_with_fifo_returns_bytes_in_order()
    {
        Write(Fcr, 0x07);
        Write(Mcr, 0x10);
        foreach (byte b in "probe"u8) Write(Thr, b);
        var back = new StringBuilder();
        while ((Read(Lsr) & 0x01) != 0) back.Append((char)Read(Thr));
        Assert.Equal("probe", back.ToString());
        Assert.Empty(_sent);
    }
}
