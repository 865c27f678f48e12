using HekiGuest.Elf;
using Iced.Intel;

namespace HekiGuest.Tools.SealCheck.Analysis;

/// <summary>
/// Scans one <see cref="ExecutableRegion"/>: a linear sweep of every section part with its bitness,
/// then a decode at every byte offset outside .heki.sealed (the gadget scan).
/// </summary>
internal sealed class RegionScanner
{
    private readonly ExecutableRegion _region;
    private readonly byte[] _bytes;
    private readonly bool[] _is32;
    private readonly bool[] _alignedStart;
    private readonly List<int> _starts = [];
    private readonly List<Part> _parts = [];
    private readonly AddressRange _sealedRange;
    private readonly SymbolResolver _symbols;
    private readonly InstructionText _text;
    private readonly List<Violation> _violations;

    private sealed record Part(int From, int To, SectionSummary Summary);

    public RegionScanner(ExecutableRegion region, IReadOnlyList<ElfSection> sections, IReadOnlyList<Code32Range> code32,
        AddressRange sealedRange, SymbolResolver symbols, InstructionText text, List<Violation> violations)
    {
        _region = region;
        _bytes = region.Bytes;
        _is32 = new bool[_bytes.Length];
        _alignedStart = new bool[_bytes.Length];
        _sealedRange = sealedRange;
        _symbols = symbols;
        _text = text;
        _violations = violations;

        AddressRange range = region.Range;
        foreach (Code32Range r in code32)
        {
            ulong from = Math.Max(r.Range.Start, range.Start);
            ulong to = Math.Min(r.Range.End, range.End);
            if (from < to)
            {
                _is32.AsSpan(region.OffsetOf(from), (int)(to - from)).Fill(true);
            }
        }

        Partition(sections);
    }

    public IEnumerable<SectionSummary> Summaries => _parts.Select(p => p.Summary);

    public long GadgetDecodes { get; private set; }

    /// <summary>Splits the region into parts named by the allocated sections that lie in it; the rest are gaps.</summary>
    private void Partition(IReadOnlyList<ElfSection> sections)
    {
        AddressRange range = _region.Range;
        var inside = sections
            .Where(s => s.IsAllocated && s.Size > 0 && !(s.Type == ElfConstants.ShtNobits && (s.Flags & ElfConstants.ShfTls) != 0))
            .Where(s => s.Address < range.End && s.EndAddress > range.Start)
            .OrderBy(s => s.Address).ThenBy(s => s.Index);
        ulong cursor = range.Start;
        foreach (ElfSection section in inside)
        {
            ulong from = Math.Max(section.Address, cursor);
            ulong to = Math.Min(section.EndAddress, range.End);
            if (from > cursor)
            {
                AddGap(cursor, from);
            }

            if (to > from)
            {
                bool isSealed = _sealedRange.Contains(from);
                AddPart(section.Name, from, to, isSealed);
                cursor = to;
            }
        }

        if (cursor < range.End)
        {
            AddGap(cursor, range.End);
        }
    }

    private void AddGap(ulong from, ulong to) =>
        AddPart($"({_region.SegmentAt(from).Name} outside sections)", from, to, _sealedRange.Contains(from));

    private void AddPart(string name, ulong from, ulong to, bool isSealed)
    {
        var summary = new SectionSummary(name, new AddressRange(from, to), isSealed);
        int start = _region.OffsetOf(from);
        int end = _region.OffsetOf(to);
        for (int i = start; i < end; i++)
        {
            if (_is32[i])
            {
                summary.Bytes32++;
            }
        }

        _parts.Add(new Part(start, end, summary));
    }

    /// <summary>Linear sweep of every part, split into runs of one bitness.</summary>
    public void Sweep()
    {
        foreach (Part part in _parts)
        {
            int runStart = part.From;
            while (runStart < part.To)
            {
                bool is32 = _is32[runStart];
                int runEnd = runStart + 1;
                while (runEnd < part.To && _is32[runEnd] == is32)
                {
                    runEnd++;
                }

                SweepRun(runStart, runEnd, is32 ? 32 : 64, part.Summary);
                runStart = runEnd;
            }
        }
    }

    private void SweepRun(int from, int to, int bitness, SectionSummary summary)
    {
        var reader = new ByteArrayCodeReader(_bytes, from, to - from);
        var decoder = Decoder.Create(bitness, reader, _region.Start + (ulong)from, DecoderOptions.None);
        int position = from;
        while (position < to)
        {
            decoder.Decode(out Instruction instruction);
            if (instruction.IsInvalid)
            {
                // Data inside text, or an instruction cut by the end of the run: count it and resync.
                summary.UndecodableBytes++;
                position++;
                reader.Position = position - from;
                decoder.IP = _region.Start + (ulong)position;
                continue;
            }

            _alignedStart[position] = true;
            _starts.Add(position);
            summary.Instructions++;
            SealedInstructionKind? kind = SealedInstructionClass.Classify(instruction);
            if (kind is not null)
            {
                if (summary.IsSealed)
                {
                    summary.SealedInside++;
                }
                else
                {
                    summary.SealedOutside++;
                    _violations.Add(new Violation(ViolationKind.SealedOutside, instruction.IP,
                        $"sealed-class instruction at {Where(position, bitness)}: {Describe(instruction, position)} outside .heki.sealed"));
                }
            }

            position += instruction.Length;
        }
    }

    /// <summary>
    /// Decodes at every byte offset outside .heki.sealed with the offset's own bitness and, when
    /// asked, with the other bitness too. An other-bitness finding is reported only when no native
    /// finding (aligned or not) starts inside its bytes, so one hidden encoding is reported once.
    /// </summary>
    public void ScanEveryOffset(bool scanOtherBitness, bool fullDecode)
    {
        bool precheck = !fullDecode && SealedInstructionClass.AllLegacyMap0F;
        var reader = new ByteArrayCodeReader(_bytes);
        var decoder64 = Decoder.Create(64, reader, _region.Start, DecoderOptions.None);
        var decoder32 = Decoder.Create(32, reader, _region.Start, DecoderOptions.None);
        var nativeHits = new List<int>();
        var otherHits = new List<(int Offset, Instruction Instruction)>();
        long decodes = 0;
        ulong start = _region.Start;
        for (int offset = 0; offset < _bytes.Length; offset++)
        {
            ulong address = start + (ulong)offset;
            if (_sealedRange.Contains(address))
            {
                offset = (int)Math.Min((ulong)_bytes.Length, _sealedRange.End - start) - 1;
                continue;
            }

            bool is32 = _is32[offset];
            if (precheck && !EncodingPrecheck.CanStartSealedInstruction(_bytes, offset, 64))
            {
                continue; // Not even as 64-bit code (whose prefixes include 32-bit's) can a class member start here.
            }

            Decoder native = is32 ? decoder32 : decoder64;
            Instruction instruction = default;
            bool nativeCandidate = !precheck || !is32 || EncodingPrecheck.CanStartSealedInstruction(_bytes, offset, 32);
            if (nativeCandidate)
            {
                reader.Position = offset;
                native.IP = address;
                native.Decode(out instruction);
                decodes++;
            }

            if (nativeCandidate && SealedInstructionClass.Classify(instruction) is not null)
            {
                nativeHits.Add(offset);
                if (!_alignedStart[offset])
                {
                    ReportGadget(ViolationKind.UnalignedEncoding, offset, is32 ? 32 : 64, instruction);
                }

                continue;
            }

            if (!scanOtherBitness)
            {
                continue;
            }

            Decoder other = is32 ? decoder64 : decoder32;
            if (precheck && is32 == false && !EncodingPrecheck.CanStartSealedInstruction(_bytes, offset, 32))
            {
                continue;
            }

            reader.Position = offset;
            other.IP = address;
            other.Decode(out instruction);
            decodes++;
            if (SealedInstructionClass.Classify(instruction) is not null)
            {
                otherHits.Add((offset, instruction));
            }
        }

        foreach ((int offset, Instruction instruction) in otherHits)
        {
            int first = nativeHits.BinarySearch(offset);
            first = first < 0 ? ~first : first;
            bool coveredByNative = first < nativeHits.Count && nativeHits[first] < offset + instruction.Length;
            if (!coveredByNative)
            {
                ReportGadget(ViolationKind.OtherBitnessEncoding, offset, _is32[offset] ? 64 : 32, instruction);
            }
        }

        GadgetDecodes = decodes;
    }

    private void ReportGadget(ViolationKind kind, int offset, int decodedBitness, in Instruction instruction)
    {
        Part? part = PartAt(offset);
        if (part is not null)
        {
            part.Summary.Gadgets++;
        }

        string found = Describe(instruction, offset);
        string host = DescribeHost(offset);
        string message = kind == ViolationKind.UnalignedEncoding
            ? $"unaligned encoding at {Where(offset, decodedBitness)}: {found} {host}"
            : $"other-bitness encoding at {Where(offset, decodedBitness == 32 ? 64 : 32)}: {found} when decoded as {decodedBitness}-bit code, {host}";
        _violations.Add(new Violation(kind, instruction.IP, message));
    }

    /// <summary>"inside &lt;aligned instruction&gt; at ..." or "inside undecodable bytes", for a gadget offset.</summary>
    private string DescribeHost(int offset)
    {
        if (_alignedStart[offset])
        {
            return "at an instruction boundary";
        }

        int index = _starts.BinarySearch(offset);
        index = index < 0 ? ~index - 1 : index;
        if (index >= 0)
        {
            int hostStart = _starts[index];
            var reader = new ByteArrayCodeReader(_bytes, hostStart, _bytes.Length - hostStart);
            var decoder = Decoder.Create(_is32[hostStart] ? 32 : 64, reader, _region.Start + (ulong)hostStart, DecoderOptions.None);
            decoder.Decode(out Instruction host);
            if (!host.IsInvalid && hostStart + host.Length > offset)
            {
                return $"inside {Describe(host, hostStart)} at 0x{host.IP:x} {_symbols.Describe(host.IP)}";
            }
        }

        return "inside undecodable bytes";
    }

    private Part? PartAt(int offset)
    {
        foreach (Part part in _parts)
        {
            if (offset >= part.From && offset < part.To)
            {
                return part;
            }
        }

        return null;
    }

    private string Where(int offset, int bitness)
    {
        ulong address = _region.Start + (ulong)offset;
        string section = PartAt(offset)?.Summary.Name ?? "?";
        return $"0x{address:x} {_symbols.Describe(address)} in {section} ({bitness}-bit)";
    }

    private string Describe(in Instruction instruction, int offset) =>
        $"{_text.Format(instruction)} [{InstructionText.Hex(_bytes.AsSpan(offset, instruction.Length))}]";
}
