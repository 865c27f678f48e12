using System.Text;

namespace HekiGuest.HostSim.Control.Qmp;

/// <summary>
/// Splits the bytes a QMP client sends into JSON texts the way QEMU's JSON streamer does: a
/// top-level object or array ends at its closing bracket (strings and escapes respected, so it
/// may span lines or share one); anything else outside brackets ends at a newline (and then
/// fails to parse, which gets an error reply). A text longer than <see cref="MaxText"/> is cut
/// off and returned as an over-long marker so the client gets an error, not a host out-of-memory.
/// </summary>
internal sealed class QmpFramer
{
    public const int MaxText = 1 << 20;
    public static readonly string TooLong = "\u0000too-long";

    private readonly List<byte> _text = [];
    private int _depth;
    private bool _inString, _escape, _discarding;

    /// <summary>Feeds bytes; returns the texts completed by them, in order.</summary>
    public List<string> Push(ReadOnlySpan<byte> data)
    {
        var done = new List<string>();
        foreach (byte b in data)
        {
            if (_discarding)
            {
                // skip to the end of the over-long text: the next newline outside a string
                if (b == (byte)'\n') _discarding = false;
                continue;
            }
            if (_depth == 0 && !_inString && _text.Count == 0 && b is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n') continue;
            _text.Add(b);
            if (_text.Count > MaxText)
            {
                Clear();
                _discarding = true;
                done.Add(TooLong);
                continue;
            }
            if (_inString)
            {
                if (_escape) _escape = false;
                else if (b == (byte)'\\') _escape = true;
                else if (b == (byte)'"') _inString = false;
                continue;
            }
            switch (b)
            {
                case (byte)'"':
                    _inString = true;
                    break;
                case (byte)'{' or (byte)'[':
                    _depth++;
                    break;
                case (byte)'}' or (byte)']':
                    _depth--;
                    if (_depth <= 0) Emit(done);
                    break;
                case (byte)'\n' when _depth == 0:
                    Emit(done);
                    break;
            }
        }
        return done;
    }

    /// <summary>The client went away: drop a half-sent text.</summary>
    public void Clear()
    {
        _text.Clear();
        _depth = 0;
        _inString = _escape = false;
    }

    private void Emit(List<string> done)
    {
        done.Add(Encoding.UTF8.GetString(_text.ToArray()).TrimEnd());
        Clear();
    }
}
