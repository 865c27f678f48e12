using HekiGuest.Platform.Testing;
using HekiGuest.Kernel.Testing;
using HekiGuest.Platform.Drivers;
using HekiGuest.Platform;

namespace HekiGuest.Kernel.SelfTests;

// The allocation-free formatter (checked byte for byte in a buffer) and the UART's registers.
public sealed class SerialTests : ITestGroup
{
    public string Name => "serial";
    public bool Hidden => false;

    public void Run(TestContext t)
    {
        var buf = new BufferSink(128);
        var w = new TextOut(buf);
        Expect(t, buf, w.Dec(0), "0", "decimal zero");
        Expect(t, buf, w.Dec(-1), "-1", "decimal negative");
        Expect(t, buf, w.Dec(long.MinValue), "-9223372036854775808", "decimal long.MinValue");
        Expect(t, buf, w.UDec(ulong.MaxValue), "18446744073709551615", "decimal ulong.MaxValue");
        Expect(t, buf, w.Hex(0xDEADBEEF), "0xdeadbeef", "hex");
        Expect(t, buf, w.Hex(0x1F, 8), "0x0000001f", "hex with padding");
        Expect(t, buf, w.Write("a\nb"), "a\r\nb", "newline becomes CRLF");
        Expect(t, buf, w.Size(128UL << 20), "128 MiB", "size in binary units");

        var counter = new CountingSink();
        new TextOut(counter).Write("twelve chars");
        t.Equal(counter.Count, 12, "counting sink");

        var uart = Machine.Serial;
        t.Equal(uart.ReadDivisor(), 1, "UART divisor latch is 115200 baud");
        t.EqualHex(uart.ReadLineControl(), 0x03, "UART line control is 8N1");
        t.Check((uart.ReadLineStatus() & 0x20) != 0, "UART transmitter ready", "THR never empties");
        t.Check(uart.ScratchRoundTrip(0xA5) == 0xA5 && uart.ScratchRoundTrip(0x5A) == 0x5A, "UART scratch register", "scratch register does not hold a value");
        t.Check(uart.BytesWritten > 0 && uart.TransmitTimeouts == 0, "UART transmitted without timeouts", "transmit timed out");
    }

    private static void Expect(TestContext t, BufferSink buf, TextOut _, string expected, string name)
    {
        if (buf.Equals(expected)) t.Pass(name);
        else t.Fail(name, "formatter output differs");
        buf.Clear();
    }
}
