using System.Diagnostics;
using Spectre.Console;

namespace Sparrow.Cli;

/// <summary>What a long piece of work is given to report how far it got.</summary>
public sealed class ProgressStep
{
    private readonly Action<string?> onAdvance;
    private readonly Action<int>? onTotal;
    private readonly Action<string>? onDescribe;

    internal ProgressStep(Action<string?> onAdvance, int total, Action<int>? onTotal = null, Action<string>? onDescribe = null)
    {
        this.onAdvance = onAdvance;
        this.onTotal = onTotal;
        this.onDescribe = onDescribe;
        Total = total;
    }

    /// <summary>The live figures shown after the description (e.g. "loss 0.012, 31 sentences/s"); null until set.</summary>
    public string? Status { get; private set; }

    /// <summary>Replaces the live figures shown next to the bar's description (and in the plain progress lines).</summary>
    public void Describe(string status)
    {
        Status = status;
        onDescribe?.Invoke(status);
    }

    /// <summary>Steps in all, as far as known (0 until library code reports its count through <see cref="AsCallback"/>).</summary>
    public int Total { get; private set; }

    /// <summary>Steps done so far.</summary>
    public int Done { get; private set; }

    /// <summary>One more step done; <paramref name="what"/> names it (shown with --verbose).</summary>
    public void Advance(string? what = null)
    {
        Done++;
        onAdvance(what);
    }

    /// <summary>A callback for library code that reports (done, total) counts; a total other than the one expected replaces it.</summary>
    public Action<int, int> AsCallback() => (done, total) =>
    {
        if (total > 0 && total != Total)
        {
            Total = total;
            onTotal?.Invoke(total);
        }
        AdvanceTo(done);
    };

    /// <summary>Advances until <paramref name="done"/> steps are done (for counts that jump, e.g. texts embedded per batch).</summary>
    public void AdvanceTo(int done)
    {
        while (Done < done) Advance();
    }
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
        var useBar = context.Verbosity == Verbosity.Normal && console.Profile.Capabilities.Interactive
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
                        // An unknown count (0) shows an empty bar until the work reports its total.
                        var task = progress.AddTask(Markup.Escape(description), maxValue: Math.Max(steps, 1));
                        return work(new ProgressStep(_ => task.Increment(1), steps, total => task.MaxValue = total,
                            status => task.Description = Markup.Escape($"{description}: {status}")));
                    });
            }
            finally
            {
                Volatile.Write(ref live, 0);
            }
        }
        else
        {
            // Logs and pipes get a line with the time left every so often (every step with --verbose), so a long run shows that it moves.
            var lastLine = started;
            ProgressStep? step = null;
            step = new ProgressStep(what =>
            {
                var now = Stopwatch.GetTimestamp();
                var elapsed = Stopwatch.GetElapsedTime(started, now);
                var left = step!.Total > step.Done && step.Done > 0 ? $", about {Format(elapsed * ((double)(step.Total - step.Done) / step.Done))} left" : "";
                var status = step.Status is null ? "" : ", " + Markup.Escape(step.Status);
                var line = $"[grey]{Markup.Escape(description)}: {(what is null ? "" : Markup.Escape(what) + ", ")}{step.Done}/{step.Total}{left}{status}[/]";
                if (context.Verbosity == Verbosity.Verbose) context.Detail(line);
                else if (Stopwatch.GetElapsedTime(lastLine, now) >= PlainLineInterval && step.Done < step.Total)
                {
                    context.Info(line);
                    lastLine = now;
                }
            }, steps);
            result = work(step);
        }
        var elapsed = Stopwatch.GetElapsedTime(started);
        // Work that took under a second (ProgressRemarkAfter) needs no remark; a longer one says how long it took (and --verbose always does).
        var line = $"[grey]{Markup.Escape(description)}: done in {Format(elapsed)}[/]";
        if (elapsed >= context.ProgressRemarkAfter) context.Info(line);
        else context.Detail(line);
        return result;
    }

    /// <summary>Without a live bar, how often a line says how far the work got.</summary>
    private static readonly TimeSpan PlainLineInterval = TimeSpan.FromSeconds(10);

    private static string Format(TimeSpan elapsed) =>
        elapsed.TotalSeconds < 1 ? $"{elapsed.TotalMilliseconds:0} ms" : elapsed.TotalMinutes < 1 ? $"{elapsed.TotalSeconds:0.0} s" : $"{elapsed:m\\:ss} min";
}
