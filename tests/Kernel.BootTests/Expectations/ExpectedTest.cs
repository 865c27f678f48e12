namespace HekiGuest.Tests.Boot;

/// <summary>One line of expected-tests.txt.</summary>
/// <param name="Id">The test that must PASS.</param>
/// <param name="SkipAllowed">True for a <c>skip-ok</c> line: a SKIP is accepted as well as a PASS.</param>
/// <param name="LineNumber">Where it is in the file.</param>
public sealed record ExpectedTest(TestId Id, bool SkipAllowed, int LineNumber);
