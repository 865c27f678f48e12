namespace HekiGuest.HostSim.Vsm;

/// <summary>
/// The bytes of an intercepted instruction as an Iced code reader that can be refilled, so one
/// decoder per code size serves every intercept (creating a decoder per intercept was a large
/// share of an intercept's host cost in <c>make bench-vtl</c>).
/// </summary>
internal sealed class InterceptedInstructionReader : Iced.Intel.CodeReader
{
    public const int MaxLength = 15;

    private readonly byte[] _bytes = new byte[MaxLength];
    private int _length, _position;

    /// <summary>Where the next instruction's bytes are copied (then call <see cref="Reset"/>).</summary>
    public Span<byte> Buffer => _bytes;

    /// <summary>Starts reading again from the first of <paramref name="length"/> valid bytes.</summary>
    public void Reset(int length)
    {
        _length = length;
        _position = 0;
    }

    public override int ReadByte() => _position < _length ? _bytes[_position++] : -1;
}
