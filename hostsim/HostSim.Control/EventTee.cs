using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace HekiGuest.HostSim.Control;

/// <summary>
/// The --events stream, split: every JSON line written to it goes to the events file (if any),
/// flushed at once, and to the control client as the QMP event HOSTSIM_&lt;EVENT&gt; (the record's
/// "event" field upper-cased, '-' as '_'; the other fields are the event's data). So every
/// --events record is also a QMP event, whatever writer produced it.
/// </summary>
public sealed class EventTee(Stream? file, IControlEvents? control) : Stream
{
    private readonly MemoryStream _line = new();
    private readonly object _lock = new();
    private static readonly byte[] NewLine = "\n"u8.ToArray();

    /// <summary>The QMP event name for an --events record kind ("vtl-call" -> HOSTSIM_VTL_CALL).</summary>
    public static string QmpName(string recordKind) => "HOSTSIM_" + recordKind.ToUpperInvariant().Replace('-', '_');

    /// <summary>Writes one record (an object with an "event" member) as a line.</summary>
    public void WriteRecord(JsonObject record)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(record.ToJsonString());
        lock (_lock)
        {
            Write(bytes, 0, bytes.Length);
            Write(NewLine, 0, 1);
        }
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        lock (_lock)
        {
            while (buffer.Length > 0)
            {
                int nl = buffer.IndexOf((byte)'\n');
                if (nl < 0)
                {
                    _line.Write(buffer);
                    return;
                }
                _line.Write(buffer[..nl]);
                buffer = buffer[(nl + 1)..];
                EmitLine();
            }
        }
    }

    private void EmitLine()
    {
        var line = _line.ToArray();
        _line.SetLength(0);
        if (file is not null)
        {
            file.Write(line);
            file.Write(NewLine);
            file.Flush();
        }
        if (control is null) return;
        try
        {
            if (JsonNode.Parse(line) is JsonObject o && o["event"]?.GetValue<string>() is { } kind)
            {
                o.Remove("event");
                control.Publish(QmpName(kind), o);
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            // not a record: the file still has it
        }
    }

    public override void Flush() => file?.Flush();

    protected override void Dispose(bool disposing)
    {
        if (disposing) file?.Dispose();
        base.Dispose(disposing);
    }

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
