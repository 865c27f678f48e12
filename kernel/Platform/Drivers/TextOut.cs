namespace HekiGuest.Platform.Drivers;

// Allocation-free text formatting onto a sink: strings, characters, decimal and hex numbers.
// Non-ASCII characters are written as '?': the console is ASCII.
public sealed unsafe class TextOut
{
    public ITextSink Sink;

    public TextOut(ITextSink sink) { Sink = sink; }

    public TextOut Write(char c)
    {
        if (c == '\n') Sink.Put((byte)'\r');
        Sink.Put(c < 128 ? (byte)c : (byte)'?');
        return this;
    }

    public TextOut Write(string s)
    {
        if (s is null) return Write("(null)");
        for (int i = 0; i < s.Length; i++) Write(s[i]);
        return this;
    }

    public TextOut Write(char* s, int length)
    {
        for (int i = 0; i < length; i++) Write(s[i]);
        return this;
    }

    public TextOut WriteAscii(byte* s, int length)
    {
        for (int i = 0; i < length; i++) Write((char)s[i]);
        return this;
    }

    public TextOut Line() => Write('\n');
    public TextOut Line(string s) => Write(s).Write('\n');

    public TextOut Dec(long value)
    {
        if (value < 0)
        {
            Write('-');
            // Negate as unsigned so long.MinValue works.
            return UDec((ulong)(-(value + 1)) + 1);
        }
        return UDec((ulong)value);
    }

    public TextOut UDec(ulong value)
    {
        byte* digits = stackalloc byte[20];
        int n = 0;
        do { digits[n++] = (byte)('0' + (int)(value % 10)); value /= 10; } while (value != 0);
        while (n > 0) Sink.Put(digits[--n]);
        return this;
    }

    // Hex with "0x" prefix and at least minDigits digits.
    public TextOut Hex(ulong value, int minDigits = 1)
    {
        Write('0').Write('x');
        return HexDigits(value, minDigits);
    }

    public TextOut HexDigits(ulong value, int minDigits)
    {
        int digits = 1;
        for (ulong v = value >> 4; v != 0; v >>= 4) digits++;
        if (minDigits > 16) minDigits = 16;
        if (digits < minDigits) digits = minDigits;
        for (int i = digits - 1; i >= 0; i--)
        {
            int d = (int)((value >> (i * 4)) & 0xF);
            Sink.Put((byte)(d < 10 ? '0' + d : 'a' + d - 10));
        }
        return this;
    }

    // Size in binary units: "128 MiB", "640 KiB", "12 bytes".
    public TextOut Size(ulong bytes)
    {
        if (bytes >= 1UL << 30 && bytes % (1UL << 30) == 0) return UDec(bytes >> 30).Write(" GiB");
        if (bytes >= 1UL << 20) return UDec(bytes >> 20).Write(" MiB");
        if (bytes >= 1UL << 10) return UDec(bytes >> 10).Write(" KiB");
        return UDec(bytes).Write(" bytes");
    }
}
