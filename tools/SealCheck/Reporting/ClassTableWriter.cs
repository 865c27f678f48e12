using HekiGuest.Tools.SealCheck.Analysis;

namespace HekiGuest.Tools.SealCheck.Reporting;

/// <summary>Prints the sealed instruction class (<c>--list-class</c>) from <see cref="SealedInstructionClass"/>.</summary>
public static class ClassTableWriter
{
    public static void Write(TextWriter output)
    {
        output.WriteLine("Sealed instruction class (allowed only inside .heki.sealed):");
        int nameWidth = SealedInstructionClass.Kinds.Max(k => Label(k).Length);
        output.WriteLine($"  {"instruction".PadRight(nameWidth)}  why it is sealed");
        foreach (SealedInstructionKind kind in SealedInstructionClass.Kinds)
        {
            output.WriteLine($"  {Label(kind).PadRight(nameWidth)}  {kind.Reason}");
        }

        output.WriteLine();
        output.WriteLine("Deliberately not sealed:");
        int excludedWidth = SealedInstructionClass.Exclusions.Max(e => e.Name.Length);
        foreach ((string name, string reason) in SealedInstructionClass.Exclusions)
        {
            output.WriteLine($"  {name.PadRight(excludedWidth)}  {reason}");
        }
    }

    private static string Label(SealedInstructionKind kind) =>
        kind.Destinations is null ? kind.Name : $"{kind.Name} ({kind.DestinationText})";
}
