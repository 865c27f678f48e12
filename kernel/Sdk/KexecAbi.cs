namespace HekiGuest.Abi
{
    /// <summary>
    /// The kexec marker (docs/vtl.md section 16): an ELF note that says what a kernel image does
    /// with the protections when it boots, so that a kernel with protections on can tell whether a
    /// kexec target keeps them (the 2020 CR-pinning series' proposal). The one C# file for this
    /// interface: the platform's note (kernel/Platform/asm/note.s), the guest-side reader and the
    /// decision all use these numbers.
    /// </summary>
    public static class KexecMarker
    {
        /// <summary>The note's name ("HekiGuest" and its NUL: namesz 10).</summary>
        public const string NoteName = "HekiGuest";
        public const int NoteNameSize = 10;
        /// <summary>The note's type under that name: the kexec marker.</summary>
        public const uint NoteType = 0x4b58;   // "KX"
        /// <summary>The descriptor: two little-endian uint32, version then flags.</summary>
        public const int DescriptorSize = 8;
        public const uint Version = 1;

        /// <summary>The image re-arms its CR pins early in boot (before any code it does not
        /// control runs), so the pins it needs come back before they matter.</summary>
        public const uint FlagRearmsCrPins = 0x1;
        /// <summary>The image starts its own VTL1 monitor early in boot when the host offers VTLs.</summary>
        public const uint FlagStartsVtl1 = 0x2;
        /// <summary>Flags a version-1 reader knows; others are ignored (a later version may add some).</summary>
        public const uint KnownFlags = FlagRearmsCrPins | FlagStartsVtl1;
        /// <summary>What "the target carries the marker" means for the decision: both flags.</summary>
        public const uint RequiredFlags = FlagRearmsCrPins | FlagStartsVtl1;
    }

    /// <summary>Results of the ELF note reader (0 and positive: found / not found; negative: malformed).</summary>
    public static class ElfNoteStatus
    {
        public const long Found = 0;
        public const long NotFound = 1;
        public const long NotElf64 = -4001;
        public const long BadProgramHeaders = -4002;
        public const long SegmentOutsideImage = -4003;
        public const long Misaligned = -4004;
        public const long Truncated = -4005;
        public const long OverlappingSegments = -4006;
        public const long BadName = -4007;
        public const long Duplicate = -4008;
        public const long BadDescriptor = -4009;
    }

    /// <summary>What a kexec may do (<c>KexecDecision.Decide</c>).</summary>
    public enum KexecVerdict
    {
        /// <summary>Go ahead, protections kept: they are on, the target is signed and carries the marker.</summary>
        Proceed = 0,
        /// <summary>Go ahead: no protection was ever enabled, so there is nothing to keep.</summary>
        ProceedUnprotected = 1,
        /// <summary>Go ahead without the marker: the policy sealed at boot allows dropping the
        /// protections for a target that will not re-arm them.</summary>
        ProceedDroppingProtections = 2,
        /// <summary>Refused: protections are on and the target is unsigned or wrongly signed.</summary>
        RefuseUnsigned = -1,
        /// <summary>Refused: protections are on and the target lacks the marker.</summary>
        RefuseNoMarker = -2,
    }

    /// <summary>The policy for targets without the marker, sealed at boot (kernel command line
    /// <c>kexec.unmarked=refuse|drop-protections</c>, in the spirit of the 2020 <c>pv_cr_pin</c> opt-in).</summary>
    public enum KexecUnmarkedPolicy
    {
        Refuse = 0,
        DropProtections = 1,
    }
}
