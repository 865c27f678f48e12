namespace HekiGuest.HostSim.GuestFuzz.Tests;

/// <summary>The command line: exit codes 0 (clean) and 2 (bad arguments), the replay's report.</summary>
public sealed class CommandLineTests
{
    private static (int Code, string Output) Run(params string[] args)
    {
        var output = new StringWriter();
        var parse = FuzzCommand.Create(output).Parse(args);
        if (parse.Errors.Count > 0) return (FuzzCommand.ExitUsage, parse.Errors[0].Message);
        try
        {
            return (parse.Invoke(new System.CommandLine.InvocationConfiguration { EnableDefaultExceptionHandler = false }), output.ToString());
        }
        catch (UsageError e)
        {
            return (FuzzCommand.ExitUsage, e.Message);
        }
    }

    [Theory]
    [InlineData("--seeds", "0")]
    [InlineData("--max-instructions", "-1")]
    [InlineData("--seed-timeout", "0")]
    [InlineData("--replay")]
    [InlineData("--seeds", "many")]
    [InlineData("--no-such-option")]
    [InlineData("--seed", "1", "--code", "xyz")]
    public void Bad_arguments_exit_with_2(params string[] args) => Assert.Equal(FuzzCommand.ExitUsage, Run(args).Code);

    [Fact]
    public void A_clean_range_exits_with_0_and_prints_the_table()
    {
        var (code, text) = Run("--seeds", "6", "--first-seed", "1", "--no-alias-window", "--progress", "3");
        Assert.Equal(FuzzCommand.ExitClean, code);
        Assert.Contains("fuzz-guest: seeds 1-3: 3 run", text);
        Assert.Contains("seeds run            6", text);
        Assert.Contains("fuzz-guest: clean", text);
    }

    [Fact]
    public void A_replay_traces_the_last_instructions()
    {
        var (code, text) = Run("--seed", "2", "--replay", "--no-alias-window", "--max-instructions", "3000");
        Assert.Equal(FuzzCommand.ExitClean, code);
        Assert.Contains("fuzz-guest replay: seed 2, 32-bit CPL0", text);
        Assert.Contains("last 64 instructions traced (oldest first):", text);
        Assert.Contains("fuzz-guest replay: seed 2 clean", text);
    }
}
