namespace HekiGuest.Tools.SealCheck.Analysis;

/// <summary>One finding that makes the kernel fail verification; <see cref="Message"/> is complete.</summary>
public sealed record Violation(ViolationKind Kind, ulong? Address, string Message);
