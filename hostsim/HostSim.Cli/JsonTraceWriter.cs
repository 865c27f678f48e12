using System.Text.Json;
using HekiGuest.HostSim.Machine.Execution;
using HekiGuest.HostSim.Machine.Reporting;
using Iced.Intel;

namespace HekiGuest.HostSim.Cli;

/// <summary>--trace: one JSON object per line for every executed instruction and machine event.</summary>
public sealed class JsonTraceWriter(Stream stream, SymbolMap symbols) : ITraceSink, IDisposable
{
    private readonly Utf8JsonWriter _json = new(stream, new JsonWriterOptions { SkipValidation = true });
    private readonly IntelFormatter _formatter = new();
    private readonly StringOutput _text = new();
    private static readonly byte[] NewLine = "\n"u8.ToArray();

    public void Instruction(long index, ulong rip, int cpl, int bitness, ReadOnlySpan<byte> bytes)
    {
        var decoder = Iced.Intel.Decoder.Create(bitness, new ByteArrayCodeReader(bytes.ToArray()), rip);
        decoder.Decode(out var insn);
        _formatter.Format(insn, _text);
        _json.WriteStartObject();
        _json.WriteString("type", "insn");
        _json.WriteNumber("n", index);
        _json.WriteString("rip", $"0x{rip:x}");
        _json.WriteString("sym", symbols.Describe(rip));
        _json.WriteNumber("cpl", cpl);
        _json.WriteString("bytes", Convert.ToHexString(bytes[..Math.Min(insn.Length, bytes.Length)]).ToLowerInvariant());
        _json.WriteString("text", _text.ToStringAndReset());
        _json.WriteEndObject();
        EndLine();
    }

    public void Event(string kind, IReadOnlyDictionary<string, object> fields)
    {
        _json.WriteStartObject();
        _json.WriteString("type", kind);
        foreach (var (k, v) in fields)
        {
            switch (v)
            {
                case int i: _json.WriteNumber(k, i); break;
                case long l: _json.WriteNumber(k, l); break;
                case uint u: _json.WriteNumber(k, u); break;
                case byte b: _json.WriteNumber(k, b); break;
                case ulong ul: _json.WriteNumber(k, ul); break;
                case bool bo: _json.WriteBoolean(k, bo); break;
                default: _json.WriteString(k, v.ToString()); break;
            }
        }
        _json.WriteEndObject();
        EndLine();
    }

    private void EndLine()
    {
        _json.Flush();
        stream.Write(NewLine);
        _json.Reset();
    }

    public void Dispose()
    {
        _json.Dispose();
        stream.Dispose();
    }
}
