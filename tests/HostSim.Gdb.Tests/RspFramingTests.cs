using System.Text;

namespace HekiGuest.HostSim.Gdb.Tests;

public sealed class RspFramingTests
{
    private static List<RspFrame> Feed(string wire) => [.. new RspFramer().Feed(Encoding.Latin1.GetBytes(wire), wire.Length)];

    [Fact]
    public void A_packet_is_framed_with_the_modulo_256_sum()
    {
        Assert.Equal("$OK#9a", Encoding.Latin1.GetString(RspCodec.Frame("OK")));
        Assert.Equal("$#00", Encoding.Latin1.GetString(RspCodec.Frame("")));
    }

    [Fact]
    public void Good_packets_acks_and_ctrl_c_are_told_apart()
    {
        var frames = Feed("+$qSupported:swbreak+#8b-\u0003$g#67");
        Assert.Equal([RspFrameKind.Ack, RspFrameKind.Packet, RspFrameKind.Nack, RspFrameKind.Interrupt, RspFrameKind.Packet], frames.Select(f => f.Kind));
        Assert.Equal("qSupported:swbreak+", frames[1].Payload);
        Assert.Equal("g", frames[4].Payload);
    }

    [Theory]
    [InlineData("$g#68")]    // wrong sum
    [InlineData("$g#6z")]    // not hex
    [InlineData("$g#G7")]
    public void A_bad_checksum_is_a_bad_packet(string wire)
    {
        Assert.Equal([RspFrameKind.BadPacket], Feed(wire).Select(f => f.Kind));
    }

    [Fact]
    public void A_packet_split_across_reads_is_put_back_together()
    {
        var framer = new RspFramer();
        var wire = Encoding.Latin1.GetBytes("$m100000,4#ee");
        var first = framer.Feed(wire[..5], 5).ToList();
        var second = framer.Feed(wire[5..], wire.Length - 5).ToList();
        Assert.Empty(first);
        Assert.Equal("m100000,4", Assert.Single(second).Payload);
    }

    [Fact]
    public void An_oversized_packet_is_refused_and_the_next_one_still_parses()
    {
        string big = new('a', RspFramer.MaxPayload + 10);
        var frames = Feed("$" + big + "#00" + "$g#67");
        Assert.Equal([RspFrameKind.BadPacket, RspFrameKind.Packet], frames.Select(f => f.Kind));
    }

    [Fact]
    public void Binary_data_round_trips_through_the_escape()
    {
        byte[] data = [0x23, 0x24, 0x7D, 0x2A, 0x00, 0xFF, 0x41];
        string escaped = RspCodec.EscapeBinary(data);
        Assert.DoesNotContain('#', escaped);
        Assert.DoesNotContain('$', escaped);
        Assert.True(RspCodec.TryUnescapeBinary(escaped, out var back));
        Assert.Equal(data, back);
        Assert.False(RspCodec.TryUnescapeBinary("ab}", out _));
    }

    [Theory]
    [InlineData("1g")]
    [InlineData("abc")]
    [InlineData("zz")]
    public void Malformed_hex_is_refused(string hex)
    {
        Assert.False(RspCodec.TryParseHexBytes(hex, out _));
        Assert.False(RspCodec.TryParseHexNumber(hex + "q", out _));
        Assert.False(RspCodec.TryParseHexNumber(new string('1', 17), out _));
        Assert.True(RspCodec.TryParseHexBytes("0aFF", out var b));
        Assert.Equal(new byte[] { 0x0A, 0xFF }, b);
    }
}
