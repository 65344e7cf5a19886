using System.Diagnostics;
using System.Runtime.Intrinsics;
using Sparrow.Tensors.Kernels;

namespace Sparrow.Benchmarks;

/// <summary>
/// `quick`: GFLOP/s of each MiniLM shape at 1 and 2 threads in a few seconds, without BenchmarkDotNet's long
/// runs. Warms up first (the JIT tiers up), then reports the median of several timed rounds.
/// </summary>
public static class QuickGemm
{
    public static void Run(string[] args)
    {
        var threads = new[] { 1, Environment.ProcessorCount };
        var naive = args.Contains("--naive");
        var filter = args.FirstOrDefault(a => !a.StartsWith("--"));
        Console.WriteLine($"CPU cores {Environment.ProcessorCount}, Vector512 {Vector512.IsHardwareAccelerated}, kernels {Sgemm.InstructionSet}");
        Console.WriteLine("Median and best of the timed rounds; on a busy machine the best is the kernel's speed.");
        Console.WriteLine($"{"shape",-42} {"threads",7} {"median ms",10} {"GFLOP/s",8} {"best ms",9} {"GFLOP/s",8}");
        foreach (var shape in GemmShapes.MiniLm)
        {
            if (filter is not null && !shape.Name.Contains(filter, StringComparison.OrdinalIgnoreCase)) continue;
            foreach (var t in threads.Distinct())
            {
                using var run = new GemmRun(shape, t);
                var (ms, best) = Measure(run.Execute);
                Console.WriteLine($"{shape.Name,-42} {t,7} {ms,10:F3} {shape.Flops / ms / 1e6,8:F1} {best,9:F3} {shape.Flops / best / 1e6,8:F1}");
                if (naive && shape.Batch > 1)
                {
                    (ms, best) = Measure(run.ExecuteNaive);
                    Console.WriteLine($"{"  naive loop (vectorised axpy)",-42} {t,7} {ms,10:F3} {shape.Flops / ms / 1e6,8:F1} {best,9:F3} {shape.Flops / best / 1e6,8:F1}");
                }
            }
        }
    }

    /// <summary>Median and best milliseconds per call after a warm-up of at least 30 calls and 0.3 s.</summary>
    private static (double Median, double Best) Measure(Action action)
    {
        var sw = Stopwatch.StartNew();
        for (var i = 0; i < 30 || sw.ElapsedMilliseconds < 300; i++) action();
        var rounds = new List<double>();
        var total = Stopwatch.StartNew();
        while (rounds.Count < 7 || (total.ElapsedMilliseconds < 1000 && rounds.Count < 200))
        {
            var t = Stopwatch.GetTimestamp();
            action();
            rounds.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
        }
        rounds.Sort();
        return (rounds[rounds.Count / 2], rounds[0]);
    }
}
