namespace HekiGuest.Tests.Boot;

/// <summary>
/// A test's identity as the kernel prints it: <c>group: name</c>. The group is the text before the
/// first ": ", the name everything after it (the name may itself contain ": ").
/// </summary>
public readonly record struct TestId(string Group, string Name) : IComparable<TestId>
{
    /// <summary>Splits <c>group: name</c>; returns false when there is no ": " or either side is empty.</summary>
    public static bool TryParse(string text, out TestId id)
    {
        id = default;
        var separator = text.IndexOf(": ", StringComparison.Ordinal);
        if (separator <= 0)
        {
            return false;
        }

        var group = text[..separator].Trim();
        var name = text[(separator + 2)..].Trim();
        if (group.Length == 0 || name.Length == 0 || group.Any(char.IsWhiteSpace))
        {
            return false;
        }

        id = new TestId(group, name);
        return true;
    }

    /// <inheritdoc />
    public int CompareTo(TestId other)
    {
        var byGroup = string.CompareOrdinal(Group, other.Group);
        return byGroup != 0 ? byGroup : string.CompareOrdinal(Name, other.Name);
    }

    /// <inheritdoc />
    public override string ToString() => $"{Group}: {Name}";
}
