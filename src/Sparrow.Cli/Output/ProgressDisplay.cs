using System.Diagnostics;
using Spectre.Console;

namespace Sparrow.Cli;

/// <summary>What a long piece of work is given to report how far it got.</summary>
public sealed class ProgressStep
{
    private readonly Action<string?> onAdvance;

    internal ProgressStep(Action<string?> onAdvance) => this.onAdvance = onAdvance;

    /// <summary>Steps done so far.</summary>
    public int Done { get; private set; }

    /// <summary>One more step done; <paramref name="what"/> names it (shown with --verbose).</summary>
    public void Advance(string? what = null)
    {
        Done++;
        onAdvance(what);
    }

    /// <summary>A callback for library code that reports (done, total) counts.</summary>
    public Action<int, int> AsCallback() => (done, _) =>
    {
        while (Done < done) Advance();
    };
}

/// <summary>Draws progress: a live bar with the time remaining on a terminal, plain lines elsewhere.</summary>
internal static class ProgressDisplay
{
    // Spectre allows one live display at a time; work nested inside another's progress reports plainly.
    private static int live;

    public static T Run<T>(CommandContext context, string description, int steps, Func<ProgressStep, T> work)
    {
        var console = context.Remarks;
        var started = Stopwatch.GetTimestamp();
        var useBar = context.Verbosity == Verbosity.Normal && console.Profile.Capabilities.Interactive && steps > 0
            && Interlocked.CompareExchange(ref live, 1, 0) == 0;
        T result;
        if (useBar)
        {
            try
            {
                result = console.Progress()
                    .AutoClear(true)
                    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
                    .Start(progress =>
                    {
                        var task = progress.AddTask(Markup.Escape(description), maxValue: steps);
                        return work(new ProgressStep(_ => task.Increment(1)));
                    });
            }
            finally
            {
                Volatile.Write(ref live, 0);
            }
        }
        else
        {
            result = work(new ProgressStep(what =>
            {
                if (what is not null) context.Detail($"[grey]{Markup.Escape(description)}: {Markup.Escape(what)}[/]");
            }));
        }
        var elapsed = Stopwatch.GetElapsedTime(started);
        context.Info($"[grey]{Markup.Escape(description)}: done in {Format(elapsed)}[/]");
        return result;
    }

    private static string Format(TimeSpan elapsed) =>
        elapsed.TotalSeconds < 1 ? $"{elapsed.TotalMilliseconds:0} ms" : elapsed.TotalMinutes < 1 ? $"{elapsed.TotalSeconds:0.0} s" : $"{elapsed:m\\:ss} min";
}
