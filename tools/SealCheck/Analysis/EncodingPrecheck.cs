namespace HekiGuest.Tools.SealCheck.Analysis;

/// <summary>
/// An exact, cheap test of whether an instruction of the sealed class can START at a byte offset,
/// valid while <see cref="SealedInstructionClass.AllLegacyMap0F"/> holds: such an instruction is
/// at most 15 bytes of prefixes (66 67 F0 F2 F3 2E 36 3E 26 64 65, and in 64-bit mode REX 40-4F)
/// followed by the 0F escape byte. Offsets that fail it cannot decode to a class member, so the
/// every-offset scan only runs the full Iced decode on offsets that pass (`--full-decode` decodes
/// every offset instead; the tests check both give the same findings).
/// </summary>
public static class EncodingPrecheck
{
    private const int MaxInstructionLength = 15;
    private static readonly bool[] LegacyPrefix = BuildLegacyPrefixTable();

    private static bool[] BuildLegacyPrefixTable()
    {
        var table = new bool[256];
        foreach (byte prefix in new byte[] { 0x66, 0x67, 0xF0, 0xF2, 0xF3, 0x2E, 0x36, 0x3E, 0x26, 0x64, 0x65 })
        {
            table[prefix] = true;
        }

        return table;
    }

    public static bool CanStartSealedInstruction(ReadOnlySpan<byte> bytes, int offset, int bitness)
    {
        int limit = Math.Min(bytes.Length, offset + MaxInstructionLength - 1);
        for (int i = offset; i < limit; i++)
        {
            byte b = bytes[i];
            if (b == 0x0F)
            {
                return true;
            }

            if (!LegacyPrefix[b] && !(bitness == 64 && (b & 0xF0) == 0x40))
            {
                return false;
            }
        }

        return false;
    }
}
