using Iced.Intel;

namespace HekiGuest.HostSim.Cpu;

/// <summary>
/// The 15-byte instruction length limit (Intel SDM vol. 2, 2.3.11): an instruction that would be
/// longer (redundant prefixes) raises #GP(0), unlike an undefined opcode (#UD). Iced reports both
/// as invalid, and the core decodes at most 15 bytes; so for an invalid 15-byte window the
/// redundant repeats of legacy prefixes are dropped (the last of each kind kept, in order) and
/// the rest decoded again: if it still runs out of bytes, or decodes to more than the bytes the
/// original would have had room for, the instruction is too long.
/// </summary>
internal static class InstructionLength
{
    public const int Limit = 15;

    public static bool ExceedsLimit(byte[] bytes, int bitness)
    {
        if (bytes.Length < Limit)
        {
            return false;
        }
        int p = 0;
        while (p < Limit && IsLegacyPrefix(bytes[p]))
        {
            p++;
        }
        var kept = new List<byte>();
        for (int i = 0; i < p; i++)
        {
            bool repeatedLater = false;
            for (int j = i + 1; j < p; j++)
            {
                repeatedLater |= bytes[j] == bytes[i];
            }
            if (!repeatedLater) kept.Add(bytes[i]);
        }
        int dropped = p - kept.Count;
        if (dropped == 0)
        {
            return false;
        }
        kept.AddRange(bytes.AsSpan(p, Limit - p).ToArray());
        var decoder = Decoder.Create(bitness, new ByteArrayCodeReader(kept.ToArray()), 0, DecoderOptions.None);
        decoder.Decode(out var insn);
        return decoder.LastError == DecoderError.NoMoreBytes || (!insn.IsInvalid && insn.Length + dropped > Limit);
    }

    private static bool IsLegacyPrefix(byte b) => b is 0x66 or 0x67 or 0xF0 or 0xF2 or 0xF3 or 0x2E or 0x36 or 0x3E or 0x26 or 0x64 or 0x65;
}
