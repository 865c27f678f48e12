using System.Runtime;
using System.Runtime.CompilerServices;
using HekiGuest.Abi;
using HekiGuest.Platform.Boot;
using HekiGuest.Platform.Drivers;
using HekiGuest.Sdk;

namespace HekiGuest.Kernel.Kexec;

// What the kernel knows at boot for a later kexec (docs/vtl.md section 16): the signing key it
// carries, its own kexec marker (read back from its note section with the same reader a target
// goes through), and the policy for unmarked targets sealed from the command line
// (kexec.unmarked=refuse|drop-protections; default refuse).
public static unsafe class KexecBoot
{
    [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "heki_sym_kexec_note")] private static extern byte* Note();
    [MethodImpl(MethodImplOptions.InternalCall), RuntimeImport("*", "heki_sym_kexec_note_end")] private static extern byte* NoteEnd();

    public static long OwnMarkerStatus = ElfNoteStatus.NotFound;
    public static uint OwnMarkerVersion, OwnMarkerFlags;
    public static KexecUnmarkedPolicy UnmarkedPolicy = KexecUnmarkedPolicy.Refuse;

    public static void Report(CommandLine cmdline, TextOut o)
    {
        SigningKey.Report(o);

        OwnMarkerStatus = ElfNoteReader.FindMarkerInNotes(Note(), (ulong)(NoteEnd() - Note()), 4, out OwnMarkerVersion, out OwnMarkerFlags);
        if (OwnMarkerStatus == ElfNoteStatus.Found)
        {
            o.Write("kexec: own marker version ").UDec(OwnMarkerVersion).Write(", flags ").Hex(OwnMarkerFlags);
            if ((OwnMarkerFlags & KexecMarker.FlagRearmsCrPins) != 0) o.Write(", re-arms CR pins early");
            if ((OwnMarkerFlags & KexecMarker.FlagStartsVtl1) != 0) o.Write(", starts VTL1 early");
            o.Line(KexecDecision.MarkerQualifies(OwnMarkerVersion, OwnMarkerFlags) ? "" : " (not enough to count as marked)");
        }
        else o.Write("kexec: own marker unreadable (status ").Dec(OwnMarkerStatus).Line(")");

        string value = cmdline.Get("kexec.unmarked");
        if (!KexecDecision.TryParseUnmarkedPolicy(value, out UnmarkedPolicy))
            o.Write("kexec: kexec.unmarked=").Write(value).Line(" is neither refuse nor drop-protections; keeping refuse");
        o.Write("kexec: unmarked targets: ").Line(UnmarkedPolicy == KexecUnmarkedPolicy.DropProtections ? "allowed, dropping the protections" : "refused while protections are on");
    }
}
