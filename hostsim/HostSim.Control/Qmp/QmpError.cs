namespace HekiGuest.HostSim.Control.Qmp;

/// <summary>A QMP error reply: {"error": {"class": ..., "desc": ...}} with QEMU's error classes.</summary>
public sealed class QmpError(string errorClass, string description) : Exception(description)
{
    public const string GenericError = "GenericError";
    public const string CommandNotFound = "CommandNotFound";

    public string ErrorClass { get; } = errorClass;

    public static QmpError Generic(string description) => new(GenericError, description);
}
