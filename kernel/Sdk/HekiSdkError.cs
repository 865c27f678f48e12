namespace HekiGuest.Sdk
{
    /// <summary>
    /// Errors the SDK returns itself, without asking the host. They lie outside the host's codes
    /// (HekiGuest.Abi.HekiError, -1..-1000), so a caller can tell "the SDK refused before any
    /// hypercall" from "the host said". Where the SDK checks exactly what the host would check
    /// (range alignment, counts), it returns the host's code for it instead.
    /// </summary>
    public static class HekiSdkError
    {
        /// <summary>CrPinner.PinHigh: a bit asked to be pinned high is clear in the register now.
        /// Pinning it would make every later write of that register fault (the write would clear
        /// a pinned-high bit), so the SDK refuses and calls nothing.</summary>
        public const long PinBitClear = -2001;
    }
}
