namespace HekiGuest.Platform.Drivers;

// Counts bytes without keeping them (measures output length without a buffer).
public sealed class CountingSink : ITextSink
{
    public long Count;
    public void Put(byte b) => Count++;
}
