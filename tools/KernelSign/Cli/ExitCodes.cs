namespace HekiGuest.Tools.KernelSign.Cli;

/// <summary>kernelsign's exit codes: each failure kind has its own.</summary>
public static class ExitCodes
{
    public const int Ok = 0;
    /// <summary>verify: the signature does not match the image under the key.</summary>
    public const int BadSignature = 1;
    /// <summary>Bad command line.</summary>
    public const int Usage = 2;
    /// <summary>An input file is missing, unreadable or too large.</summary>
    public const int InputUnreadable = 3;
    /// <summary>A key file is not an RSA-2048 key of the expected kind, or a signature file is not 256 bytes.</summary>
    public const int BadKey = 4;
    /// <summary>An output cannot be written, or keygen would overwrite a key.</summary>
    public const int OutputUnwritable = 5;
    /// <summary>A bug: an unexpected exception.</summary>
    public const int Internal = 70;
}
