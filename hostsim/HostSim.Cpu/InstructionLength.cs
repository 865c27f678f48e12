using Iced.Intel;

namespace HekiGuest.HostSim.Cpu;

/// <summary>
/// The 15-byte instruction length limit (Intel SDM vol. 2, 2.3.11): an instruction that would be
/// longer (redundant prefixes) raises #GP(0), unlike an undefined opcode (#UD). Iced reports both
/// as invalid, and the core decodes at most 15 bytes; so for an invalid 15-byte window the
/// redundant repeats of legacy prefixes are dropped (the last of each kind kept, in order) and
/// the rest decoded again (zero-padded past the window): if that is a valid instruction that
/// needs bytes past the window, the original is longer than 15 bytes.
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
        int available = kept.Count;
        // the bytes past the window are unknown: pad with zeros (ADD r/m8, r8 and its relatives
        // in every map decode from them), so that an opcode needing them still decodes
        kept.AddRange(new byte[Limit]);
        var decoder = Decoder.Create(bitness, new ByteArrayCodeReader(kept.ToArray()), 0, DecoderOptions.None);
        decoder.Decode(out var insn);
        return !insn.IsInvalid && insn.Length > available && insn.Length + dropped > Limit;
    }

    private static bool IsLegacyPrefix(byte b) => b is 0x66 or 0x67 or 0xF0 or 0xF2 or 0xF3 or 0x2E or 0x36 or 0x3E or 0x26 or 0x64 or 0x65;
}
