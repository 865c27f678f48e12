namespace HekiGuest.Tests.Boot;

/// <summary>
/// The boot could not be attempted: an artifact is missing, the host program cannot be found, or a
/// HEKI_* environment variable is malformed. The message is one line that says what to do.
/// </summary>
public sealed class BootSetupException : Exception
{
    /// <summary>Creates the exception with a one-line message.</summary>
    public BootSetupException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a one-line message and its cause.</summary>
    public BootSetupException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
