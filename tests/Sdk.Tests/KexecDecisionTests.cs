using HekiGuest.Abi;

namespace HekiGuest.Sdk.Tests;

/// <summary>The kexec decision table (docs/vtl.md section 16), every row, and the policy word.</summary>
public sealed class KexecDecisionTests
{
    public static TheoryData<bool, bool, bool, KexecUnmarkedPolicy, KexecVerdict> Table()
    {
        var t = new TheoryData<bool, bool, bool, KexecUnmarkedPolicy, KexecVerdict>();
        foreach (bool signed in new[] { false, true })
        foreach (bool marker in new[] { false, true })
        foreach (var policy in new[] { KexecUnmarkedPolicy.Refuse, KexecUnmarkedPolicy.DropProtections })
        {
            // protections never enabled: proceed, whatever the target
            t.Add(false, signed, marker, policy, KexecVerdict.ProceedUnprotected);
            KexecVerdict on = !signed ? KexecVerdict.RefuseUnsigned
                : marker ? KexecVerdict.Proceed
                : policy == KexecUnmarkedPolicy.DropProtections ? KexecVerdict.ProceedDroppingProtections
                : KexecVerdict.RefuseNoMarker;
            t.Add(true, signed, marker, policy, on);
        }
        return t;
    }

    [Theory]
    [MemberData(nameof(Table))]
    public void Every_row_of_the_table(bool protections, bool signed, bool marker, KexecUnmarkedPolicy policy, KexecVerdict verdict) =>
        Assert.Equal(verdict, KexecDecision.Decide(protections, signed, marker, policy));

    [Fact]
    public void The_table_written_out()
    {
        Assert.Equal(KexecVerdict.Proceed, KexecDecision.Decide(true, true, true, KexecUnmarkedPolicy.Refuse));
        Assert.Equal(KexecVerdict.RefuseNoMarker, KexecDecision.Decide(true, true, false, KexecUnmarkedPolicy.Refuse));
        Assert.Equal(KexecVerdict.ProceedDroppingProtections, KexecDecision.Decide(true, true, false, KexecUnmarkedPolicy.DropProtections));
        Assert.Equal(KexecVerdict.RefuseUnsigned, KexecDecision.Decide(true, false, true, KexecUnmarkedPolicy.DropProtections));
        Assert.Equal(KexecVerdict.ProceedUnprotected, KexecDecision.Decide(false, false, false, KexecUnmarkedPolicy.Refuse));
        Assert.True((int)KexecVerdict.RefuseNoMarker < 0 && (int)KexecVerdict.RefuseUnsigned < 0);
    }

    [Theory]
    [InlineData(1u, 3u, true)]
    [InlineData(2u, 7u, true)]       // a later version with a flag this one does not know
    [InlineData(1u, 1u, false)]      // re-arms pins but does not start VTL1
    [InlineData(1u, 2u, false)]
    [InlineData(1u, 0u, false)]
    [InlineData(0u, 3u, false)]
    public void A_marker_counts_only_with_every_required_flag(uint version, uint flags, bool qualifies) =>
        Assert.Equal(qualifies, KexecDecision.MarkerQualifies(version, flags));

    [Theory]
    [InlineData(null, true, KexecUnmarkedPolicy.Refuse)]
    [InlineData("", true, KexecUnmarkedPolicy.Refuse)]
    [InlineData("refuse", true, KexecUnmarkedPolicy.Refuse)]
    [InlineData("drop-protections", true, KexecUnmarkedPolicy.DropProtections)]
    [InlineData("DROP-PROTECTIONS", false, KexecUnmarkedPolicy.Refuse)]
    [InlineData("1", false, KexecUnmarkedPolicy.Refuse)]
    [InlineData("drop", false, KexecUnmarkedPolicy.Refuse)]
    public void The_command_line_word(string? value, bool valid, KexecUnmarkedPolicy policy)
    {
        Assert.Equal(valid, KexecDecision.TryParseUnmarkedPolicy(value!, out var p));
        Assert.Equal(policy, p);
    }
}
