namespace HekiGuest.Tests.Boot;

/// <summary>The verdict word that opens a kvm-unit-tests result line.</summary>
public enum ResultKind
{
    /// <summary><c>PASS:</c> the check held.</summary>
    Pass,

    /// <summary><c>FAIL:</c> the check failed; counts as an unexpected failure.</summary>
    Fail,

    /// <summary><c>SKIP:</c> the check could not run here.</summary>
    Skip,

    /// <summary><c>XPASS:</c> a check expected to fail passed; counts as an unexpected failure.</summary>
    ExpectedFailPassed,

    /// <summary><c>XFAIL:</c> a check expected to fail failed.</summary>
    ExpectedFail,

    /// <summary><c>KFAIL:</c> a known failure.</summary>
    KnownFail,
}
