using HekiGuest.Abi;

namespace HekiGuest.Sdk
{
    /// <summary>
    /// The kexec decision table (docs/vtl.md section 16; the 2020 CR-pinning series' table with
    /// HekiGuest's signature requirement), a pure function:
    ///
    /// | protections | signed | marker | policy for unmarked | verdict |
    /// |---|---|---|---|---|
    /// | never enabled | any | any | any | ProceedUnprotected |
    /// | on | no | any | any | RefuseUnsigned |
    /// | on | yes | yes | any | Proceed |
    /// | on | yes | no | refuse | RefuseNoMarker |
    /// | on | yes | no | drop-protections | ProceedDroppingProtections |
    ///
    /// "Signed" is a valid signature under the key built into the image doing the kexec;
    /// "marker" is a version-1-or-later HekiGuest kexec note with every required flag.
    /// </summary>
    public static class KexecDecision
    {
        public static KexecVerdict Decide(bool protectionsEnabled, bool signed, bool marker, KexecUnmarkedPolicy unmarked)
        {
            if (!protectionsEnabled) return KexecVerdict.ProceedUnprotected;
            if (!signed) return KexecVerdict.RefuseUnsigned;
            if (marker) return KexecVerdict.Proceed;
            return unmarked == KexecUnmarkedPolicy.DropProtections ? KexecVerdict.ProceedDroppingProtections : KexecVerdict.RefuseNoMarker;
        }

        /// <summary>Whether a marker's version and flags make it "the marker" of the table.</summary>
        public static bool MarkerQualifies(uint version, uint flags) =>
            version >= KexecMarker.Version && (flags & KexecMarker.RequiredFlags) == KexecMarker.RequiredFlags;

        /// <summary>The value of <c>kexec.unmarked=</c>: null or empty is the default (refuse);
        /// false for a value that is neither word (the caller keeps the default and says so).</summary>
        public static bool TryParseUnmarkedPolicy(string value, out KexecUnmarkedPolicy policy)
        {
            policy = KexecUnmarkedPolicy.Refuse;
            if (value == null || value.Length == 0 || value == "refuse") return true;
            if (value == "drop-protections")
            {
                policy = KexecUnmarkedPolicy.DropProtections;
                return true;
            }
            return false;
        }
    }
}
