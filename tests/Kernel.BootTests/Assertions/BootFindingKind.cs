namespace HekiGuest.Tests.Boot;

/// <summary>Why a boot is not a clean pass.</summary>
public enum BootFindingKind
{
    /// <summary>The deadline passed and the host was killed.</summary>
    Hang,

    /// <summary>The host exited but the guest never printed a SUMMARY line (triple fault, crash, host error).</summary>
    NoSummary,

    /// <summary>The guest printed a PANIC line.</summary>
    Panic,

    /// <summary>A FAIL (or XPASS) result line.</summary>
    TestFailure,

    /// <summary>A malformed line, a duplicate result, or SUMMARY counts that disagree with the result lines.</summary>
    TranscriptProblem,

    /// <summary>A test in expected-tests.txt has no result line at all.</summary>
    ExpectedTestMissing,

    /// <summary>A test in expected-tests.txt reported SKIP (not marked skip-ok), XFAIL or KFAIL instead of PASS.</summary>
    ExpectedTestNotPassed,

    /// <summary>A SKIP for a test that expected-tests.txt does not mark skip-ok.</summary>
    UnexpectedSkip,

    /// <summary>expected-tests.txt lists nothing for the groups booted, so nothing would be checked.</summary>
    NoExpectedTests,

    /// <summary>The host's exit code is not 1 (all passed).</summary>
    WrongExitCode,
}
