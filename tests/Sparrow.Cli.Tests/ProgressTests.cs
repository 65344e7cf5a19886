using Spectre.Console.Testing;

namespace Sparrow.Cli.Tests;

/// <summary>CommandContext.Progress: a live bar on a terminal, plain lines elsewhere, nothing with --quiet.</summary>
public class ProgressTests
{
    private static (CommandContext Context, TestConsole Console) Context(Verbosity verbosity, bool interactive = false, TimeSpan? remarkAfter = null)
    {
        var console = new TestConsole().Width(200);
        if (interactive) console.Interactive().EmitAnsiSequences();
        // "Quick" is set by the threshold, not by how fast a loaded machine happens to be.
        return (new CommandContext(console, ["test"]) { Verbosity = verbosity, ProgressRemarkAfter = remarkAfter ?? TimeSpan.MaxValue }, console);
    }

    [Fact]
    public void A_terminal_gets_a_bar_and_the_work_its_result()
    {
        var (context, console) = Context(Verbosity.Normal, interactive: true);
        var result = context.Progress("Crunching numbers", 3, step =>
        {
            for (var i = 0; i < 3; i++) step.Advance();
            return step.Done * 14;
        });
        Assert.Equal(42, result);
        Assert.Contains("Crunching numbers", console.Output);
    }

    [Fact]
    public void Verbose_prints_each_step_and_a_count_the_library_reports_replaces_an_unknown_one()
    {
        var (context, console) = Context(Verbosity.Verbose);
        var total = context.Progress("Counting", 0, step =>
        {
            var callback = step.AsCallback();
            callback(0, 4);
            callback(2, 4);
            callback(4, 4);
            return step.Total;
        });
        Assert.Equal(4, total);
        Assert.Contains("Counting: 1/4", console.Output);
        Assert.Contains("Counting: 4/4", console.Output);
        Assert.Contains("Counting: done in", console.Output);
    }

    [Fact]
    public void Short_work_off_a_terminal_prints_nothing_and_quiet_never_does()
    {
        foreach (var verbosity in new[] { Verbosity.Normal, Verbosity.Quiet })
        {
            var (context, console) = Context(verbosity);
            context.Progress("Quick", 2, step =>
            {
                step.Advance("first");
                step.Advance("second");
            });
            context.Info("a remark");
            Assert.Equal(verbosity == Verbosity.Quiet ? "" : "a remark\n", console.Output.Replace("\r", ""));
        }
    }

    [Fact]
    public void Work_longer_than_the_threshold_says_how_long_it_took()
    {
        var (context, console) = Context(Verbosity.Normal, remarkAfter: TimeSpan.Zero);
        context.Progress("Slow", 1, step => step.Advance());
        Assert.Contains("Slow: done in", console.Output);
        (context, console) = Context(Verbosity.Quiet, remarkAfter: TimeSpan.Zero);
        context.Progress("Slow", 1, step => step.Advance());
        Assert.Equal("", console.Output);
    }

    [Fact]
    public void Advance_to_moves_forward_only()
    {
        var (context, _) = Context(Verbosity.Quiet);
        context.Progress("Jumps", 10, step =>
        {
            step.AdvanceTo(7);
            step.AdvanceTo(3);
            Assert.Equal(7, step.Done);
        });
    }
}
