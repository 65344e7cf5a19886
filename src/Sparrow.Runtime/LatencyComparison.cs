using System.Diagnostics;
using Sparrow.Tensors;

namespace Sparrow.Runtime;

/// <summary>
/// Median latencies of two sessions on the same inputs, for a quick "how much faster is the pruned model" in code.
/// <c>sparrow bench</c> gives the full picture (spread, batch sizes, ONNX Runtime).
/// </summary>
/// <param name="BaselineMedian">Median time of one <see cref="InferenceSession.Run(IReadOnlyDictionary{string, Tensor})"/> of the baseline (e.g. the dense model).</param>
/// <param name="CandidateMedian">Median time of one run of the candidate (e.g. the pruned model).</param>
public sealed record LatencyComparison(TimeSpan BaselineMedian, TimeSpan CandidateMedian)
{
    /// <summary>How many times faster the candidate runs: baseline median / candidate median (above 1 means faster).</summary>
    public double SpeedUp => BaselineMedian.TotalSeconds / Math.Max(CandidateMedian.TotalSeconds, double.Epsilon);

    /// <summary>
    /// Runs both sessions <paramref name="warmupRuns"/> times (the JIT tiers up and kernels settle), then
    /// <paramref name="timedRuns"/> times each, taking turns (baseline, candidate, baseline, ...) so that both
    /// see the same machine state, and returns the two medians. Outputs are disposed as they come.
    /// </summary>
    /// <exception cref="ArgumentNullException">A session or <paramref name="inputs"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="warmupRuns"/> is negative or <paramref name="timedRuns"/> is below 1.</exception>
    public static LatencyComparison Measure(InferenceSession baseline, InferenceSession candidate,
        IReadOnlyDictionary<string, Tensor> inputs, int warmupRuns = 30, int timedRuns = 30)
    {
        ArgumentNullException.ThrowIfNull(baseline);
        ArgumentNullException.ThrowIfNull(candidate);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentOutOfRangeException.ThrowIfNegative(warmupRuns);
        ArgumentOutOfRangeException.ThrowIfLessThan(timedRuns, 1);

        for (var i = 0; i < warmupRuns; i++)
        {
            RunOnce(baseline, inputs);
            RunOnce(candidate, inputs);
        }
        var baselineTimes = new TimeSpan[timedRuns];
        var candidateTimes = new TimeSpan[timedRuns];
        for (var i = 0; i < timedRuns; i++)
        {
            baselineTimes[i] = RunOnce(baseline, inputs);
            candidateTimes[i] = RunOnce(candidate, inputs);
        }
        return new LatencyComparison(Median(baselineTimes), Median(candidateTimes));
    }

    private static TimeSpan RunOnce(InferenceSession session, IReadOnlyDictionary<string, Tensor> inputs)
    {
        var start = Stopwatch.GetTimestamp();
        var outputs = session.Run(inputs);
        var elapsed = Stopwatch.GetElapsedTime(start);
        foreach (var output in outputs.Values) output.Dispose();
        return elapsed;
    }

    private static TimeSpan Median(TimeSpan[] times)
    {
        Array.Sort(times);
        var middle = times.Length / 2;
        return times.Length % 2 == 1 ? times[middle] : (times[middle - 1] + times[middle]) / 2;
    }
}
