using HekiGuest.Platform.Drivers;

namespace HekiGuest.Vtl1Monitor;

// Every serial line the monitor writes (its reports, panics and fault reports through
// Machine.Console) starts with "vtl1: ", so a reader tells VTL1's lines from the kernel's.
public sealed class PrefixedSink : ITextSink
{
    private readonly ITextSink _inner;
    private readonly string _prefix;
    private bool _atLineStart = true;

    public PrefixedSink(ITextSink inner, string prefix)
    {
        _inner = inner;
        _prefix = prefix;
    }

    public void Put(byte b)
    {
        if (_atLineStart)
        {
            _atLineStart = false;
            for (int i = 0; i < _prefix.Length; i++) _inner.Put((byte)_prefix[i]);
        }
        _inner.Put(b);
        if (b == (byte)'\n') _atLineStart = true;
    }
}
