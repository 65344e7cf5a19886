using System.Diagnostics;
using Sparrow.Graph;
using Sparrow.Graph.Onnx;
using Sparrow.Pruning;
using Sparrow.Runtime;
using Sparrow.Tensors;

namespace Sparrow.Benchmarks.Load;

/// <summary>
/// Many threads share one <see cref="InferenceSession"/>: each run's outputs are compared bit for bit with a
/// sequential run on the same input, and its latency is recorded. Used by the load test (tests/Sparrow.Runtime.Tests)
/// and by <c>Sparrow.Benchmarks load</c>, which writes the figures into BENCHMARKS.md.
/// </summary>
public static class ConcurrentLoad
{
    /// <summary>What one load run measured.</summary>
    public sealed record Result(string Label, int Threads, int RunsPerThread, int Sequence, double Seconds, double RunsPerSecond, double P50Ms, double P99Ms, int Wrong, int Failed, string? FirstFailure);

    /// <summary>all-MiniLM-L6-v2, the embedded model.</summary>
    public static Model MiniLm() => OnnxImporter.Load(Sparrow.Data.Models.DefaultModel.ReadOnnx());

    /// <summary>MiniLM with every encoder Linear magnitude-pruned to <paramref name="sparsity"/>.</summary>
    public static Model PrunedMiniLm(double sparsity) => MagnitudePruner.Prune(MiniLm(), sparsity).Pruned;

    /// <summary><paramref name="count"/> different MiniLM inputs of one sequence length (fixed seed; some padding so the mask matters).</summary>
    public static Dictionary<string, Tensor>[] MiniLmInputs(int count, int sequence, int seed = 21)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(k =>
        {
            var ids = new long[sequence];
            var mask = new long[sequence];
            for (var i = 0; i < sequence; i++)
            {
                ids[i] = random.Next(1000, 30000);
                mask[i] = i < sequence - k % 3 ? 1 : 0;
            }
            return new Dictionary<string, Tensor>
            {
                ["input_ids"] = Tensor<long>.FromArray(ids, 1, sequence),
                ["attention_mask"] = Tensor<long>.FromArray(mask, 1, sequence),
                ["token_type_ids"] = Tensor<long>.FromArray(new long[sequence], 1, sequence),
            };
        }).ToArray();
    }

    /// <summary>
    /// Runs every input once on this thread for the expected outputs, then <paramref name="threads"/> threads ×
    /// <paramref name="runsPerThread"/> runs on the shared session; counts runs whose outputs differ in any bit
    /// (wrong) or that throw (failed).
    /// </summary>
    public static Result Run(InferenceSession session, string label, IReadOnlyList<Dictionary<string, Tensor>> inputs, int threads, int runsPerThread)
    {
        var expected = inputs.Select(x => Outputs(session, x)).ToArray();
        // Warm-up on every thread count the run uses, so that latencies are of tiered-up code.
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t => Outputs(session, inputs[t % inputs.Count]));

        var latencies = new double[threads * runsPerThread];
        var wrong = 0;
        var failed = 0;
        string? firstFailure = null;
        var wall = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            for (var r = 0; r < runsPerThread; r++)
            {
                var k = (t * 7 + r) % inputs.Count;
                var started = Stopwatch.GetTimestamp();
                try
                {
                    var outputs = session.Run(inputs[k]);
                    latencies[t * runsPerThread + r] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                    var same = outputs.Count == expected[k].Count;
                    foreach (var (name, tensor) in outputs)
                    {
                        if (!expected[k].TryGetValue(name, out var values) || !tensor.As<float>().Span.SequenceEqual(values)) same = false;
                        tensor.Dispose();
                    }
                    if (!same) Interlocked.Increment(ref wrong);
                }
                catch (Exception e)
                {
                    latencies[t * runsPerThread + r] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                    if (Interlocked.Increment(ref failed) == 1) firstFailure = e.ToString();
                }
            }
        }) { IsBackground = true }).ToArray();
        foreach (var w in workers) w.Start();
        foreach (var w in workers) w.Join();
        wall.Stop();

        Array.Sort(latencies);
        double Percentile(double p) => latencies[Math.Min(latencies.Length - 1, (int)Math.Ceiling(p * latencies.Length) - 1)];
        var total = threads * runsPerThread;
        return new Result(label, threads, runsPerThread, inputs[0]["input_ids"].Shape[^1], wall.Elapsed.TotalSeconds, total / wall.Elapsed.TotalSeconds,
            Percentile(0.50), Percentile(0.99), wrong, failed, firstFailure);
    }

    private static Dictionary<string, float[]> Outputs(InferenceSession session, Dictionary<string, Tensor> inputs)
    {
        var outputs = session.Run(inputs);
        var result = outputs.ToDictionary(kv => kv.Key, kv => kv.Value.As<float>().Span.ToArray());
        foreach (var t in outputs.Values) t.Dispose();
        return result;
    }

    /// <summary>The session options the load test and benchmark use: one thread per run (the threads are the requests).</summary>
    public static SessionOptions Options(string kernel) => new() { IntraOpThreads = 1, SparseKernel = kernel, UseKernelCache = false };

    /// <summary>A Markdown table row of <paramref name="r"/>.</summary>
    public static string Row(Result r) =>
        $"| {r.Label} | {r.Threads} × {r.RunsPerThread} | {r.Sequence} | {r.Seconds:F1} | {r.RunsPerSecond:F0} | {r.P50Ms:F2} | {r.P99Ms:F2} | {r.Wrong} | {r.Failed} |";

    /// <summary>The header of <see cref="Row"/>'s table.</summary>
    public const string Header = "| model | threads × runs | sequence | wall s | runs/s | p50 ms | p99 ms | wrong | failed |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- |";
}
