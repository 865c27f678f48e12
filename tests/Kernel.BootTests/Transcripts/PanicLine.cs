namespace HekiGuest.Tests.Boot;

/// <summary>A kernel fail-fast line, <c>PANIC: reason</c>.</summary>
public sealed record PanicLine(string Message, int LineNumber);
