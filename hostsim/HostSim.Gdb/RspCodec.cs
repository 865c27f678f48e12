using System.Globalization;
using System.Text;

namespace HekiGuest.HostSim.Gdb;

/// <summary>
/// GDB Remote Serial Protocol encoding: packet framing ($payload#cc with the modulo-256 sum of
/// the payload), hex, and the binary escape ('}' then the byte XOR 0x20 for '#', '$', '}', '*').
/// </summary>
public static class RspCodec
{
    public static byte Checksum(ReadOnlySpan<byte> payload)
    {
        int sum = 0;
        foreach (byte b in payload) sum += b;
        return (byte)sum;
    }

    /// <summary>The whole packet on the wire for <paramref name="payload"/> (bytes as is).</summary>
    public static byte[] Frame(ReadOnlySpan<byte> payload)
    {
        var packet = new byte[payload.Length + 4];
        packet[0] = (byte)'$';
        payload.CopyTo(packet.AsSpan(1));
        packet[^3] = (byte)'#';
        byte c = Checksum(payload);
        packet[^2] = (byte)HexDigit(c >> 4);
        packet[^1] = (byte)HexDigit(c & 0xF);
        return packet;
    }

    public static byte[] Frame(string payload) => Frame(Encoding.Latin1.GetBytes(payload));

    public static string Hex(ReadOnlySpan<byte> data) => Convert.ToHexString(data).ToLowerInvariant();

    public static string Hex(string text) => Hex(Encoding.UTF8.GetBytes(text));

    /// <summary>Little-endian hex of the low <paramref name="bytes"/> bytes of <paramref name="value"/> (register encoding).</summary>
    public static string LittleEndianHex(ulong value, int bytes)
    {
        var sb = new StringBuilder(bytes * 2);
        for (int i = 0; i < bytes; i++) sb.Append(((byte)(value >> (8 * i))).ToString("x2", CultureInfo.InvariantCulture));
        return sb.ToString();
    }

    /// <summary>Parses an even-length hex string; false for anything else.</summary>
    public static bool TryParseHexBytes(ReadOnlySpan<char> text, out byte[] bytes)
    {
        bytes = [];
        if (text.Length % 2 != 0) return false;
        var result = new byte[text.Length / 2];
        for (int i = 0; i < result.Length; i++)
        {
            int hi = HexValue(text[2 * i]), lo = HexValue(text[2 * i + 1]);
            if (hi < 0 || lo < 0) return false;
            result[i] = (byte)((hi << 4) | lo);
        }
        bytes = result;
        return true;
    }

    /// <summary>A big-endian hex number as gdb writes addresses and lengths (1 to 16 digits).</summary>
    public static bool TryParseHexNumber(ReadOnlySpan<char> text, out ulong value)
    {
        value = 0;
        if (text.Length is 0 or > 16) return false;
        foreach (char c in text)
        {
            int d = HexValue(c);
            if (d < 0) return false;
            value = (value << 4) | (uint)d;
        }
        return true;
    }

    /// <summary>Escapes binary data for a packet (qXfer replies).</summary>
    public static string EscapeBinary(ReadOnlySpan<byte> data)
    {
        var sb = new StringBuilder(data.Length + 8);
        foreach (byte b in data)
        {
            if (b is (byte)'#' or (byte)'$' or (byte)'}' or (byte)'*')
            {
                sb.Append('}');
                sb.Append((char)(b ^ 0x20));
            }
            else sb.Append((char)b);
        }
        return sb.ToString();
    }

    /// <summary>Undoes the binary escape (X packets); false when the data ends in a lone '}'.</summary>
    public static bool TryUnescapeBinary(ReadOnlySpan<char> text, out byte[] data)
    {
        var list = new List<byte>(text.Length);
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (c == '}')
            {
                if (++i >= text.Length)
                {
                    data = [];
                    return false;
                }
                list.Add((byte)(text[i] ^ 0x20));
            }
            else list.Add((byte)c);
        }
        data = [.. list];
        return true;
    }

    public static int HexValue(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => -1,
    };

    private static char HexDigit(int v) => (char)(v < 10 ? '0' + v : 'a' + v - 10);
}
