namespace HekiGuest.Platform.Drivers;

// A byte-oriented output channel: the serial port, a memory buffer (tests), a byte counter.
public interface ITextSink
{
    void Put(byte b);
}
