namespace HekiGuest.Sdk
{
    /// <summary>Where <see cref="GuestHardening"/> writes its report: one line per step, built from
    /// text, decimal and hexadecimal pieces (no formatting library needed).</summary>
    public interface IHardeningReport
    {
        void Text(string text);
        void Decimal(long value);
        /// <summary>"0x" and the lower-case hex digits, no leading zeros.</summary>
        void Hex(ulong value);
        void EndLine();
    }
}
