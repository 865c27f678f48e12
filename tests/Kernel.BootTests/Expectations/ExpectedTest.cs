namespace HekiGuest.Tests.Boot;

/// <summary>One line of expected-tests.txt.</summary>
/// <param name="Id">The test that must PASS.</param>
/// <param name="SkipAllowed">True for a <c>skip-ok</c> line: a SKIP is accepted as well as a PASS.</param>
/// <param name="LineNumber">Where it is in the file.</param>
public sealed record ExpectedTest(TestId Id, bool SkipAllowed, int LineNumber)
{
    /// <summary>
    /// Hosts on which the test must SKIP (a <c>skip-on HOST[,HOST]</c> line): it needs something
    /// those hosts do not offer, such as the HekiGuest host interface on QEMU. On every other
    /// host it must PASS.
    /// </summary>
    public IReadOnlyList<string> SkipOn { get; init; } = [];

    /// <summary>True when the test must SKIP on <paramref name="host"/>.</summary>
    public bool MustSkipOn(string host) => SkipOn.Contains(host, StringComparer.Ordinal);
}
