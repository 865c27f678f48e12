namespace HekiGuest.Tests.Boot;

/// <summary>One reason a boot is not a clean pass, with a message for a person.</summary>
public sealed record BootFinding(BootFindingKind Kind, string Message)
{
    /// <inheritdoc />
    public override string ToString() => Message;
}
